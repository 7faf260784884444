"""One database behind the stores (conversations, votes): SQLAlchemy's async engine on SQLite
(aiosqlite) or PostgreSQL (asyncpg), so no query blocks the event loop. Any database error comes
out as StoreError, named by its type only: no URL, password or row in it."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from ...config.store_urls import shown_url
from .errors import StoreError

log = logging.getLogger(__name__)
T = TypeVar("T")


class Database:
    def __init__(self, url: str, *, timeout: float = 10.0, what: str = "store") -> None:
        self.url_shown, self.what = shown_url(url), what
        connect_args = {"timeout": timeout} if url.startswith("sqlite") else {"timeout": timeout, "command_timeout": timeout}
        # Connections are made on first use, on the loop that serves the app.
        self.engine = create_async_engine(url, pool_pre_ping=True, connect_args=connect_args)
        self.insert = postgresql.insert if self.engine.dialect.name == "postgresql" else sqlite.insert

    async def close(self) -> None:
        await self.engine.dispose()

    async def run(self, work: Callable[[AsyncConnection], Awaitable[T]]) -> T:
        """`work` in one transaction."""
        try:
            async with self.engine.begin() as connection:
                return await work(connection)
        except (SQLAlchemyError, OSError, TimeoutError) as exc:
            log.warning("%s %s failed: %s", self.what, self.url_shown, type(exc).__name__)
            raise StoreError(type(exc).__name__) from None
        except ValueError as exc:  # a stored row that no longer reads as what it should be
            log.warning("%s %s holds an unreadable row: %s", self.what, self.url_shown, exc)
            raise StoreError("unreadable row") from None
