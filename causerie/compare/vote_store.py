"""Compare mode's votes, in the same database as conversations (database.py)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from ..history.store.database import Database
from ..history.store.schema import votes as table
from .rating import Tally, Vote


class VoteStore:
    def __init__(self, url: str, *, timeout: float = 10.0) -> None:
        self._database = Database(url, timeout=timeout, what="vote store")

    async def close(self) -> None:
        await self._database.close()

    async def record(self, vote: Vote) -> bool:
        """Keeps the vote; False if this question already had one (nothing changes then)."""

        async def work(connection: AsyncConnection) -> bool:
            insert = self._database.insert(table).values(
                id=vote.question_id,
                created_at=vote.created_at,
                models="\n".join(vote.models),
                outcome=vote.outcome,
                preset=vote.preset,
            )
            result = await connection.execute(insert.on_conflict_do_nothing(index_elements=["id"]))
            return result.rowcount == 1

        return await self._database.run(work)

    async def tallies(self, preset: str | None = None) -> list[Tally]:
        """The votes counted by models and outcome; only one preset's kind when given."""

        async def work(connection: AsyncConnection) -> list[Tally]:
            statement = sa.select(table.c.models, table.c.outcome, sa.func.count().label("n")).group_by(
                table.c.models, table.c.outcome
            )
            if preset:
                statement = statement.where(table.c.preset == preset)
            rows = (await connection.execute(statement)).all()
            return [Tally(tuple(row.models.split("\n")), row.outcome, int(row.n)) for row in rows]

        return await self._database.run(work)
