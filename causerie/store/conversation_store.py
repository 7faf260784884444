"""Conversations of signed-in people, on the server: SQLite or PostgreSQL through SQLAlchemy's
async engine (aiosqlite, asyncpg), so no query blocks the event loop.

Every query names its owner: the primary key is (owner, id), and no method takes an id alone.
Any database error comes out as StoreError, for the page to fall back on the browser's storage.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from ..conversations import Conversation, read_one
from ..library import Limits, Notice, Summary, make_room, size_of
from .errors import StoreError
from .schema import conversations as table
from .urls import shown_url

log = logging.getLogger(__name__)
T = TypeVar("T")


def _row_to_conversation(row: sa.Row) -> Conversation:
    return read_one({"id": row.id, "title": row.title, "renamed": bool(row.title), "created_at": row.created_at,
                     "updated_at": row.updated_at, "settings": row.settings, "messages": row.messages})


class ConversationStore:
    def __init__(self, url: str, limits: Limits, *, timeout: float = 10.0) -> None:
        self.limits = limits
        self.url_shown = shown_url(url)
        connect_args = {"timeout": timeout} if url.startswith("sqlite") else {"timeout": timeout, "command_timeout": timeout}
        # Connections are made on first use, on the loop that serves the app.
        self._engine = create_async_engine(url, pool_pre_ping=True, connect_args=connect_args)
        self._insert = postgresql.insert if self._engine.dialect.name == "postgresql" else sqlite.insert

    async def close(self) -> None:
        await self._engine.dispose()

    async def _run(self, work: Callable[[AsyncConnection], Awaitable[T]]) -> T:
        try:
            async with self._engine.begin() as connection:
                return await work(connection)
        except (SQLAlchemyError, OSError, TimeoutError) as exc:
            log.warning("conversation store %s failed: %s", self.url_shown, type(exc).__name__)
            raise StoreError(type(exc).__name__) from None
        except ValueError as exc:  # a stored row that no longer reads as a conversation
            log.warning("conversation store %s holds an unreadable row: %s", self.url_shown, exc)
            raise StoreError("unreadable row") from None

    async def summaries(self, owner: str, query: str = "") -> list[Summary]:
        async def work(connection: AsyncConnection) -> list[Summary]:
            statement = (sa.select(table.c.id, table.c.shown_title, table.c.updated_at, table.c.size)
                         .where(table.c.owner == owner).order_by(table.c.updated_at.desc()))
            for word in query.casefold().split():
                statement = statement.where(table.c.body.contains(word, autoescape=True))
            rows = (await connection.execute(statement)).all()
            return [Summary(r.id, r.shown_title, r.updated_at, r.size) for r in rows]

        # LIKE folds case differently on each database (not at all on PostgreSQL, ASCII only on
        # SQLite): the body is stored case-folded and the words are folded the same way.
        return await self._run(work)

    async def get(self, owner: str, conversation_id: str) -> Conversation | None:
        async def work(connection: AsyncConnection) -> Conversation | None:
            row = (await connection.execute(sa.select(table).where(
                table.c.owner == owner, table.c.id == conversation_id))).first()
            return _row_to_conversation(row) if row is not None else None

        return await self._run(work)

    async def all(self, owner: str) -> list[Conversation]:
        async def work(connection: AsyncConnection) -> list[Conversation]:
            rows = (await connection.execute(sa.select(table).where(table.c.owner == owner)
                                             .order_by(table.c.updated_at.desc()))).all()
            return [_row_to_conversation(r) for r in rows]

        return await self._run(work)

    async def put(self, owner: str, conversation: Conversation) -> list[Notice]:
        size = size_of(conversation)

        async def work(connection: AsyncConnection) -> list[Notice]:
            kept = (await connection.execute(sa.select(table.c.id, table.c.shown_title, table.c.updated_at, table.c.size)
                                             .where(table.c.owner == owner))).all()
            dropped, notices = make_room([Summary(r.id, r.shown_title, r.updated_at, r.size) for r in kept],
                                         Summary(conversation.id, conversation.shown_title, conversation.updated_at, size),
                                         self.limits)
            if any(n.kind == "history_too_large" for n in notices):
                return notices
            if dropped:
                await connection.execute(sa.delete(table).where(table.c.owner == owner, table.c.id.in_(dropped)))
            values = {"title": conversation.title, "shown_title": conversation.shown_title,
                      "created_at": conversation.created_at, "updated_at": conversation.updated_at, "size": size,
                      "settings": dict(conversation.settings), "messages": [dict(m) for m in conversation.messages],
                      "body": conversation.text().casefold()}
            insert = self._insert(table).values(owner=owner, id=conversation.id, **values)
            await connection.execute(insert.on_conflict_do_update(index_elements=["owner", "id"], set_=values))
            return notices

        return await self._run(work)

    async def delete(self, owner: str, conversation_id: str) -> None:
        async def work(connection: AsyncConnection) -> None:
            await connection.execute(sa.delete(table).where(table.c.owner == owner, table.c.id == conversation_id))

        await self._run(work)
