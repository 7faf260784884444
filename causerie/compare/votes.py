"""Compare mode's ballot box: votes in (rating.Vote), leaderboards out (rating.leaderboard).

The store (SQLAlchemy, migrated by Alembic) is opened on first use, not at start: most runs never
compare, and the app starts faster without loading it. Its database is DATABASE_URL, shared with
conversations, or else a SQLite file in the data folder. Leaderboards are computed one at a time
and kept for a while (a few hundred fits each): anyone may look, as often as they like.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING

from ..history.store.errors import StoreError
from .rating import Board, Tally, Vote, leaderboard

if TYPE_CHECKING:
    from .vote_store import VoteStore

log = logging.getLogger(__name__)
KEEP_BOARD_S = 30.0
"""How long a leaderboard is shown as computed (votes of other processes show after this)."""
RETRY_OPEN_S = 60.0
"""After the database could not be opened, how long before trying again."""


class BallotBox:
    """One per app; the store opens at the first call. Every method raises StoreError when the
    votes' database could not be opened or answered (the log says why)."""

    def __init__(self, url: str) -> None:
        self._url = url
        self._store: VoteStore | None = None
        self._opening = asyncio.Lock()
        self._failed_at = -RETRY_OPEN_S
        self._boards: dict[str, tuple[float, Board]] = {}
        self._computing = asyncio.Lock()

    async def _opened(self) -> VoteStore:
        if self._store is not None:
            return self._store
        async with self._opening:
            if self._store is None:
                if time.monotonic() - self._failed_at < RETRY_OPEN_S:
                    raise StoreError("not reachable a moment ago")
                from ..config.store_urls import shown_url, sqlite_folder
                from ..history.store.migrate import upgrade_now
                from .vote_store import VoteStore

                try:
                    if folder := sqlite_folder(self._url):  # the default file's folder is made on first use
                        folder.mkdir(parents=True, exist_ok=True)
                    # On a thread of its own: Alembic's work would hold up every answer streaming.
                    await asyncio.to_thread(upgrade_now, self._url, 30)
                except Exception as exc:  # any driver's error: the page says votes are unavailable
                    self._failed_at = time.monotonic()
                    log.warning("votes: could not open %s: %s", shown_url(self._url), type(exc).__name__)
                    raise StoreError(type(exc).__name__) from None
                self._store = VoteStore(self._url)
        return self._store

    async def record(self, vote: Vote) -> bool:
        """True when kept, False when this question had its vote already."""
        kept = await (await self._opened()).record(vote)
        self._boards.clear()  # this process's own votes show at once
        return kept

    async def tallies(self, preset: str | None = None) -> list[Tally]:
        return await (await self._opened()).tallies(preset or None)

    async def board(self, preset: str | None = None) -> Board:
        """The leaderboard, as computed at most KEEP_BOARD_S ago."""
        key = preset or ""
        async with self._computing:
            kept = self._boards.get(key)
            if kept is not None and time.monotonic() - kept[0] < KEEP_BOARD_S:
                return kept[1]
            # The bootstrap runs in a thread (its arrays are small: numpy keeps the GIL much of
            # the time, so one at a time).
            board = await asyncio.to_thread(leaderboard, await self.tallies(preset))
            self._boards[key] = (time.monotonic(), board)
            return board

    async def close(self) -> None:
        if self._store is not None:
            await self._store.close()
