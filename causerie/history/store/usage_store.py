"""The cockpit's answer records (migration 0005), in the votes' database (DATABASE_URL, else a
SQLite file in the data folder): written in batches off the answer's path, read by period, and
deleted after USAGE_KEEP_DAYS.

`add` only appends to a buffer (an answer never waits for the database); a task writes the buffer
every FLUSH_EVERY_S, or at once when it holds FLUSH_AT records. Records that cannot be written
(the database is down) are kept up to MAX_WAITING, then the oldest are dropped, with a warning; a
record the database refuses (a batch that fails is written again one by one) is dropped.
"""

from __future__ import annotations

import asyncio
import logging
import time

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from .database import Database
from .opening import MigratedDatabase
from .schema import usage_records as table

log = logging.getLogger(__name__)
FLUSH_EVERY_S = 2.0
FLUSH_AT = 200
MAX_WAITING = 20_000
CLEAN_EVERY_S = 3600.0
COLUMNS = tuple(c.name for c in table.columns if c.name != "id")


class UsageStore:
    def __init__(self, url: str, keep_days: int, *, timeout: float = 10.0) -> None:
        self.keep_days = keep_days
        self._database = MigratedDatabase(url, what="usage records", timeout=timeout)
        self._waiting: list[dict] = []
        self._flusher: asyncio.Task | None = None
        self._wake: asyncio.Event | None = None
        self._cleaned_at = -CLEAN_EVERY_S  # (the first flush cleans: the clock starts near 0 at boot)

    async def _opened(self) -> Database:
        return await self._database.opened()

    def add(self, row: dict) -> None:
        """Keeps an answer's record (AnswerRecord.row); written soon, in a batch."""
        self._waiting.append({name: row.get(name) for name in COLUMNS})
        if len(self._waiting) > MAX_WAITING:
            dropped = len(self._waiting) - MAX_WAITING
            del self._waiting[:dropped]
            log.warning("Usage records: %d dropped (the database has not answered for a while).", dropped)
        if self._flusher is None or self._flusher.done():
            self._wake = asyncio.Event()
            self._flusher = asyncio.get_running_loop().create_task(self._flush_soon())
        elif len(self._waiting) >= FLUSH_AT and self._wake is not None:
            self._wake.set()

    async def _flush_soon(self) -> None:
        assert self._wake is not None
        try:
            await asyncio.wait_for(self._wake.wait(), FLUSH_EVERY_S)
        except TimeoutError:
            pass
        await self.flush()

    async def flush(self) -> None:
        """Writes what waits (and deletes expired records, at most hourly)."""
        if not self._waiting:
            return
        batch, self._waiting = self._waiting, []
        try:
            database = await self._opened()
        except Exception as exc:
            log.warning("Usage records: not written this time (%s); kept for the next try.", type(exc).__name__)
            self._waiting[:0] = batch
            return

        async def work(connection: AsyncConnection) -> None:
            await connection.execute(sa.insert(table), batch)
            if time.monotonic() - self._cleaned_at >= CLEAN_EVERY_S:
                self._cleaned_at = time.monotonic()
                await connection.execute(sa.delete(table).where(table.c.at < time.time() - self.keep_days * 86400))

        try:
            await database.run(work)
        except Exception:  # one by one: a record the database refuses is dropped, not kept forever
            kept = 0
            for row in batch:
                try:
                    await database.run(lambda connection, row=row: connection.execute(sa.insert(table), [row]))
                    kept += 1
                except Exception:  # (StoreError, or a driver's own: a number it cannot hold)
                    continue
            if kept < len(batch):
                log.warning("Usage records: %d of %d could not be written and were dropped.", len(batch) - kept, len(batch))

    async def rows(self, since: float, until: float | None = None) -> list[dict]:
        """The records from `since` (epoch seconds) on, oldest first (what waits is written first)."""
        await self.flush()
        database = await self._opened()

        async def work(connection: AsyncConnection) -> list[dict]:
            statement = sa.select(*(table.c[name] for name in COLUMNS)).where(table.c.at >= since).order_by(table.c.at)
            if until is not None:
                statement = statement.where(table.c.at < until)
            return [dict(row._mapping) for row in (await connection.execute(statement)).all()]

        return await database.run(work)

    async def close(self) -> None:
        await self.flush()
        await self._database.close()
