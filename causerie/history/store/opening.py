"""A store's database, opened on first use once its schema is up to date (the budgets' ledger and
the cockpit's records open theirs this way, off the app's start)."""

from __future__ import annotations

import asyncio
import time

from .database import Database
from .errors import StoreError

RETRY_OPEN_S = 10.0


class MigratedDatabase:
    """The Database at `url`, made at the first `opened()` after Alembic has brought its schema up
    to date, on a thread of its own (its work would hold up every answer streaming). After a
    failure it is not tried again for RETRY_OPEN_S: callers waiting meanwhile are refused at once,
    not each given an upgrade of its own. Errors are StoreError."""

    def __init__(self, url: str, *, what: str, timeout: float = 10.0, upgrade_timeout: float = 30.0) -> None:
        self._url, self._what, self._timeout, self._upgrade_timeout = url, what, timeout, upgrade_timeout
        self._database: Database | None = None
        self._opening = asyncio.Lock()
        self._failed_at = -RETRY_OPEN_S

    async def opened(self) -> Database:
        if self._database is not None:
            return self._database
        async with self._opening:
            if self._database is None:
                if time.monotonic() - self._failed_at < RETRY_OPEN_S:
                    raise StoreError("not reachable a moment ago")
                from ...config.store_urls import sqlite_folder
                from .migrate import upgrade_now

                try:
                    if folder := sqlite_folder(self._url):  # (the default file's folder, made on first use)
                        folder.mkdir(parents=True, exist_ok=True)
                    await asyncio.to_thread(upgrade_now, self._url, self._upgrade_timeout)
                except Exception as exc:
                    self._failed_at = time.monotonic()
                    raise StoreError(type(exc).__name__) from None
                self._database = Database(self._url, timeout=self._timeout, what=self._what)
        return self._database

    async def close(self) -> None:
        if self._database is not None:
            await self._database.close()
