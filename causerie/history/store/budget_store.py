"""The dollar budgets' ledger in the store's PostgreSQL database, shared by every process behind a
load balancer (answering/budgets.py holds the rules; this, the counting).

A reservation is one transaction: for each name, in one order (rows are locked in it, so two
processes never wait on each other crosswise), an insert that on a conflict adds the amount only
`WHERE spent + amount <= limit`; a name that would go over returns no row, and the transaction is
rolled back, so a reservation is all or nothing. PostgreSQL locks the row and checks the condition
on its latest version, so answers started at once in several processes cannot overrun a budget.
Days older than a week are deleted now and then.
"""

from __future__ import annotations

import datetime
import logging
import time
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from .database import Database
from .opening import MigratedDatabase
from .schema import budget_spending as table

log = logging.getLogger(__name__)
KEEP_DAYS = 7
CLEAN_EVERY_S = 3600.0


class _Over(Exception):
    def __init__(self, name: str, spent: float) -> None:
        self.name, self.spent = name, spent


class StoreLedger:
    """A Ledger (answering/budgets.py) in the store's database. Its errors are StoreError."""

    def __init__(self, url: str, *, timeout: float = 5.0) -> None:
        self._database = MigratedDatabase(url, what="budget ledger", timeout=timeout, upgrade_timeout=timeout)
        self._cleaned_at = -CLEAN_EVERY_S  # (the first take cleans: the clock starts near 0 at boot)

    async def _opened(self) -> Database:
        return await self._database.opened()

    async def close(self) -> None:
        await self._database.close()

    async def take(self, day: str, limits: Sequence[tuple[str, float]], amount: float) -> tuple[str, float] | None:
        database = await self._opened()

        async def work(connection: AsyncConnection) -> None:
            for name, limit in limits:
                insert = database.insert(table).values(day=day, name=name, spent=amount)
                added = insert.on_conflict_do_update(
                    index_elements=["day", "name"],
                    set_={"spent": table.c.spent + insert.excluded.spent},
                    where=table.c.spent + insert.excluded.spent <= limit,
                ).returning(table.c.spent)
                # (A first row of the day is not checked: reserve() refused an amount over a limit.)
                if (await connection.execute(added)).first() is None:
                    spent = await connection.scalar(sa.select(table.c.spent).where(table.c.day == day, table.c.name == name))
                    raise _Over(name, float(spent or 0.0))

        try:
            await database.run(work)
        except _Over as over:  # (raised inside the transaction: it was rolled back)
            return over.name, over.spent
        await self._clean(database)
        return None

    async def add(self, day: str, names: Sequence[str], amount: float) -> None:
        database = await self._opened()

        async def work(connection: AsyncConnection) -> None:
            for name in sorted(names):
                insert = database.insert(table).values(day=day, name=name, spent=max(0.0, amount))
                await connection.execute(
                    insert.on_conflict_do_update(
                        index_elements=["day", "name"],
                        set_={"spent": sa.func.greatest(0.0, table.c.spent + amount)},
                    )
                )

        await database.run(work)

    async def spent(self, day: str, name: str) -> float:
        database = await self._opened()

        async def work(connection: AsyncConnection) -> float:
            value = await connection.scalar(sa.select(table.c.spent).where(table.c.day == day, table.c.name == name))
            return float(value or 0.0)

        return await database.run(work)

    async def _clean(self, database: Database) -> None:
        """Deletes budget days older than KEEP_DAYS, and the shared limits' windows older than two
        (their names, "q<minute>" and "t<hour>", compare as their numbers: as long for years)."""
        if time.monotonic() - self._cleaned_at < CLEAN_EVERY_S:
            return
        self._cleaned_at = time.monotonic()
        now = time.time()
        oldest = (datetime.datetime.fromtimestamp(now, datetime.UTC).date() - datetime.timedelta(days=KEEP_DAYS)).isoformat()
        old = sa.or_(
            table.c.day < oldest,  # (a date: digits sort before "q" and "t")
            sa.and_(table.c.day.like("q%"), table.c.day < f"q{int(now // 60) - 2}"),
            sa.and_(table.c.day.like("t%"), table.c.day < f"t{int(now // 3600) - 2}"),
        )

        async def work(connection: AsyncConnection) -> None:
            await connection.execute(sa.delete(table).where(old))

        try:
            await database.run(work)
        except Exception:  # (a clean-up: the next one will do)
            log.info("Budgets: old days were not deleted this time.")
