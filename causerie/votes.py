"""Compare mode's votes: what one is, and the ballot box that keeps them in the store.

The store (SQLAlchemy, migrated by Alembic) is opened on first use, not at start: most runs never
compare, and the app starts faster without loading it. Its database is DATABASE_URL, shared with
conversations, or else a SQLite file in the data folder.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .rating import OUTCOMES_ALL, Standing, Tally, leaderboard
from .store.errors import StoreError

if TYPE_CHECKING:
    from .store.vote_store import VoteStore

log = logging.getLogger(__name__)


class VotesUnavailable(RuntimeError):
    """The votes' database could not be opened or answered (the log says why)."""


@dataclass(frozen=True)
class Vote:
    question_id: str
    models: tuple[str, ...]
    """"provider:model" of each side, in the order shown (A, B, ...)."""
    outcome: str
    """"tie", "bad", or the shown position of the best side ("0" for A)."""
    preset: str = ""
    blind: bool = True
    created_at: float = field(default_factory=time.time)

    def __post_init__(self) -> None:
        if len(self.models) < 2:
            raise ValueError("a vote compares at least two models")
        if self.outcome not in OUTCOMES_ALL and not (self.outcome.isdigit() and int(self.outcome) < len(self.models)):
            raise ValueError(f"no such outcome: {self.outcome!r}")


def preset_kind(preset_id: str | None) -> str:
    """What a preset is for, whatever its language: "letters" for letters-en and letters-fr."""
    return (preset_id or "").rsplit("-", 1)[0] if preset_id and "-" in preset_id else (preset_id or "")


class BallotBox:
    """Votes in, leaderboards out. One per app; the store opens at the first call."""

    def __init__(self, url: str) -> None:
        self._url = url
        self._store: VoteStore | None = None
        self._opening = asyncio.Lock()

    async def _opened(self) -> VoteStore:
        if self._store is not None:
            return self._store
        async with self._opening:
            if self._store is None:
                from .store.migrate import upgrade
                from .store.urls import shown_url
                from .store.vote_store import VoteStore

                try:
                    if self._url.startswith("sqlite"):  # the default file's folder is made on first use
                        Path(self._url.split("///", 1)[-1]).parent.mkdir(parents=True, exist_ok=True)
                    await asyncio.wait_for(upgrade(self._url), 30)
                except Exception as exc:  # any driver's error: the page says votes are unavailable
                    log.warning("votes: could not open %s: %s", shown_url(self._url), type(exc).__name__)
                    raise VotesUnavailable(type(exc).__name__) from None
                self._store = VoteStore(self._url)
        return self._store

    async def record(self, vote: Vote) -> bool:
        """True when kept, False when this question had its vote already."""
        store = await self._opened()
        try:
            return await store.record(vote)
        except StoreError as exc:
            raise VotesUnavailable(str(exc)) from None

    async def tallies(self, preset: str | None = None) -> list[Tally]:
        store = await self._opened()
        try:
            return await store.tallies(preset or None)
        except StoreError as exc:
            raise VotesUnavailable(str(exc)) from None

    async def standings(self, preset: str | None = None) -> tuple[list[Standing], int]:
        """The leaderboard, and how many votes it counts (the bootstrap runs in a thread: a few
        hundred fits)."""
        tallies = await self.tallies(preset)
        return await asyncio.to_thread(leaderboard, tallies), sum(t.count for t in tallies)

    async def close(self) -> None:
        if self._store is not None:
            await self._store.close()
