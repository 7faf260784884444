"""Where the dollar budgets are counted (answering/budgets.py): in the store's PostgreSQL database,
shared by every process, when there is one; else in each process's memory."""

from __future__ import annotations

from typing import Any

from ..config.settings import Settings


def shared_ledger(settings: Settings) -> Any:
    """The store's ledger, when a budget is set and the store is PostgreSQL; else None (the
    budgets are then counted per process, as the README says). SQLAlchemy is loaded only then."""
    public, url = settings.public, settings.history.database_url
    if not (public.dollars_per_day_per_visitor or public.dollars_per_day) or not (url or "").startswith("postgresql"):
        return None
    from .store.budget_store import StoreLedger

    return StoreLedger(url)
