"""Conversations of signed-in people, on the server (database.py: SQLite or PostgreSQL).

Every query names its owner: the primary key is (owner, id), and no method takes an id alone.
Any database error comes out as StoreError, for the page to fall back on the browser's storage.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from ...config.history_settings import HistoryLimits
from ..conversations import Conversation, read_one
from ..library import HistoryNotice, Summary, make_room, size_of
from .database import Database
from .schema import conversations as table


def _row_to_conversation(row: sa.Row) -> Conversation:
    return read_one(
        {
            "id": row.id,
            "title": row.title,
            "renamed": bool(row.title),
            "pinned": bool(row.pinned),
            "created_at": row.created_at,
            "updated_at": row.updated_at,
            "settings": row.settings,
            "messages": row.messages,
        }
    )


class ConversationStore:
    def __init__(self, url: str, limits: HistoryLimits, *, timeout: float = 10.0) -> None:
        self.limits = limits
        self._database = Database(url, timeout=timeout, what="conversation store")
        self._insert = self._database.insert
        self._run = self._database.run

    async def close(self) -> None:
        await self._database.close()

    async def summaries(self, owner: str, query: str = "") -> list[Summary]:
        async def work(connection: AsyncConnection) -> list[Summary]:
            statement = (
                sa.select(table.c.id, table.c.shown_title, table.c.updated_at, table.c.size, table.c.pinned)
                .where(table.c.owner == owner)
                .order_by(table.c.pinned.desc(), table.c.updated_at.desc())
            )
            for word in query.casefold().split():
                statement = statement.where(table.c.body.contains(word, autoescape=True))
            rows = (await connection.execute(statement)).all()
            return [Summary(r.id, r.shown_title, r.updated_at, r.size, bool(r.pinned)) for r in rows]

        # LIKE folds case differently on each database (not at all on PostgreSQL, ASCII only on
        # SQLite): the body is stored case-folded and the words are folded the same way.
        return await self._run(work)

    async def get(self, owner: str, conversation_id: str) -> Conversation | None:
        async def work(connection: AsyncConnection) -> Conversation | None:
            row = (
                await connection.execute(sa.select(table).where(table.c.owner == owner, table.c.id == conversation_id))
            ).first()
            return _row_to_conversation(row) if row is not None else None

        return await self._run(work)

    async def all(self, owner: str) -> list[Conversation]:
        async def work(connection: AsyncConnection) -> list[Conversation]:
            rows = (
                await connection.execute(
                    sa.select(table).where(table.c.owner == owner).order_by(table.c.pinned.desc(), table.c.updated_at.desc())
                )
            ).all()
            return [_row_to_conversation(r) for r in rows]

        return await self._run(work)

    async def put(self, owner: str, conversation: Conversation) -> list[HistoryNotice]:
        size = size_of(conversation)

        async def work(connection: AsyncConnection) -> list[HistoryNotice]:
            kept = (
                await connection.execute(
                    sa.select(table.c.id, table.c.shown_title, table.c.updated_at, table.c.size, table.c.pinned).where(
                        table.c.owner == owner
                    )
                )
            ).all()
            dropped, notices = make_room(
                [Summary(r.id, r.shown_title, r.updated_at, r.size, bool(r.pinned)) for r in kept],
                Summary(conversation.id, conversation.shown_title, conversation.updated_at, size, conversation.pinned),
                self.limits,
            )
            if any(n.kind == "history_too_large" for n in notices):
                return notices
            if dropped:
                await connection.execute(sa.delete(table).where(table.c.owner == owner, table.c.id.in_(dropped)))
            values = {
                "title": conversation.title,
                "shown_title": conversation.shown_title,
                "created_at": conversation.created_at,
                "updated_at": conversation.updated_at,
                "size": size,
                "pinned": conversation.pinned,
                "settings": dict(conversation.settings),
                "messages": [dict(m) for m in conversation.messages],
                "body": conversation.text().casefold(),
            }
            insert = self._insert(table).values(owner=owner, id=conversation.id, **values)
            await connection.execute(insert.on_conflict_do_update(index_elements=["owner", "id"], set_=values))
            return notices

        return await self._run(work)

    async def delete(self, owner: str, conversation_id: str) -> None:
        async def work(connection: AsyncConnection) -> None:
            await connection.execute(sa.delete(table).where(table.c.owner == owner, table.c.id == conversation_id))

        await self._run(work)
