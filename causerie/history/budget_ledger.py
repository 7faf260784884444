"""Where the dollar budgets (answering/budgets.py) and the question and token limits
(answering/shared_limits.py) are counted: in the store's PostgreSQL database, shared by every
process, when there is one; else in each process's memory."""

from __future__ import annotations

from typing import Any

from ..config.settings import Settings


def shared_ledger(settings: Settings) -> Any:
    """The store's ledger, when the store is PostgreSQL and a budget or a question or token limit
    is set; else None (they are then counted per process, as the README says). SQLAlchemy is
    loaded only then."""
    public, url = settings.public, settings.history.database_url
    counted = public.dollars_per_day_per_visitor or public.dollars_per_day or public.rate_per_minute or public.tokens_per_hour
    if not counted or not (url or "").startswith("postgresql"):
        return None
    from .store.budget_store import StoreLedger

    return StoreLedger(url)
