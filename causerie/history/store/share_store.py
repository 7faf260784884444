"""Shared conversations (migration 0006), in the votes' database (DATABASE_URL, else a SQLite file
in the data folder), opened on first use: a snapshot per share, its owner, and the hash of its
revoke token. Reads are by id; a page's own shares are found by owner and conversation."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from .opening import MigratedDatabase
from .schema import shares as table


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Share:
    id: str
    owner: str
    conversation: str
    updated_at: float
    snapshot: dict[str, Any]


class ShareStore:
    def __init__(self, url: str, *, timeout: float = 10.0) -> None:
        self._database = MigratedDatabase(url, what="shares", timeout=timeout)

    async def close(self) -> None:
        await self._database.close()

    async def create(self, owner: str, conversation: str, snapshot: dict[str, Any], visitor: str = "") -> tuple[str, str]:
        """A new share: its id (unguessable, in its address) and its revoke token (given once)."""
        share_id, token, now = secrets.token_urlsafe(16), secrets.token_urlsafe(24), time.time()
        database = await self._database.opened()

        async def work(connection: AsyncConnection) -> None:
            await connection.execute(
                sa.insert(table).values(
                    id=share_id,
                    owner=owner,
                    conversation=conversation,
                    visitor=visitor,
                    revoke_hash=_hash(token),
                    created_at=now,
                    updated_at=now,
                    snapshot=snapshot,
                )
            )

        await database.run(work)
        return share_id, token

    async def _allowed(self, connection: AsyncConnection, share_id: str, owner: str | None, token: str | None) -> bool:
        row = (await connection.execute(sa.select(table.c.owner, table.c.revoke_hash).where(table.c.id == share_id))).first()
        if row is None:
            return False
        if token:
            return hmac.compare_digest(row.revoke_hash, _hash(token))
        return owner is not None and hmac.compare_digest(row.owner, owner)

    async def update(
        self, share_id: str, snapshot: dict[str, Any], *, owner: str | None = None, token: str | None = None
    ) -> bool:
        """The share shows `snapshot` from now on, at the same address; False if it is not theirs."""
        database = await self._database.opened()

        async def work(connection: AsyncConnection) -> bool:
            if not await self._allowed(connection, share_id, owner, token):
                return False
            statement = sa.update(table).where(table.c.id == share_id).values(snapshot=snapshot, updated_at=time.time())
            await connection.execute(statement)
            return True

        return await database.run(work)

    async def revoke(self, share_id: str, *, owner: str | None = None, token: str | None = None) -> bool:
        """The share is gone (its address answers 404 from now on); False if it is not theirs."""
        database = await self._database.opened()

        async def work(connection: AsyncConnection) -> bool:
            if not await self._allowed(connection, share_id, owner, token):
                return False
            await connection.execute(sa.delete(table).where(table.c.id == share_id))
            return True

        return await database.run(work)

    async def stamp(self, share_id: str) -> float | None:
        """When the share last changed, or None if there is none (one row by its key: cheap)."""
        database = await self._database.opened()

        async def work(connection: AsyncConnection) -> float | None:
            return (await connection.execute(sa.select(table.c.updated_at).where(table.c.id == share_id))).scalar()

        return await database.run(work)

    async def get(self, share_id: str) -> Share | None:
        database = await self._database.opened()

        async def work(connection: AsyncConnection) -> Share | None:
            row = (await connection.execute(sa.select(table).where(table.c.id == share_id))).first()
            if row is None:
                return None
            return Share(row.id, row.owner, row.conversation, row.updated_at, dict(row.snapshot))

        return await database.run(work)

    async def of(self, owner: str, conversation: str) -> str | None:
        """The id of the owner's share of this conversation, if there is one."""
        database = await self._database.opened()

        async def work(connection: AsyncConnection) -> str | None:
            statement = sa.select(table.c.id).where((table.c.owner == owner) & (table.c.conversation == conversation))
            return (await connection.execute(statement.order_by(table.c.updated_at.desc()).limit(1))).scalar()

        return await database.run(work)

    async def count(self, owner: str, visitor: str = "") -> int:
        """The shares this owner keeps, or this visitor made (a new browser is the same visitor),
        whichever is more."""
        database = await self._database.opened()

        async def work(connection: AsyncConnection) -> int:
            mine = (await connection.execute(sa.select(sa.func.count()).where(table.c.owner == owner))).scalar() or 0
            theirs = 0
            if visitor:
                theirs = (await connection.execute(sa.select(sa.func.count()).where(table.c.visitor == visitor))).scalar() or 0
            return int(max(mine, theirs))

        return await database.run(work)
