"""Answers that run on their own: a page watches an answer, it does not own it.

An `AnswerRun` consumes one answer's updates (`ChatService.answers`) in a task of its own and keeps
the latest, so that a page that went away (a reload, a phone locking, another chat opened) can
come back to it: `follow()` yields the answer so far, then every change, to the end. A page going
away is not a Stop: with nobody watching, the answer goes on for `grace_s` seconds, then is
stopped (and the provider's stream closed). `stop()` ends it at once, whoever asks.

`AnswerRuns` holds the runs of this process by owner and conversation id. Finished runs are kept
until a page has saved them (`discard`) or for `keep_s` seconds; at most `max_runs` are held at
once, and `per_owner` are being written for one owner.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import aclosing
from typing import Any

from .answer import Answer


class AnswerRun:
    def __init__(
        self,
        conversation_id: str,
        owner: str | None,
        answers: AsyncIterator[Answer],
        *,
        grace_s: float,
        context: Any = None,
    ) -> None:
        self.conversation_id, self.owner, self.grace_s = conversation_id, owner, grace_s
        self.context = context
        """What a page needs to show the answer again (its chat before the answer, its settings)."""
        self.answer: Answer | None = None
        self.version = 0
        self.done = False
        self.stopped = False
        self.ended_at: float | None = None
        self._changed = asyncio.Event()
        self._watchers = 0
        self._grace: asyncio.TimerHandle | None = None
        self.task = asyncio.get_running_loop().create_task(self._run(answers))
        # Not in _run's `finally`: a task stopped before it ever ran never runs its body.
        self.task.add_done_callback(self._ended)

    async def _run(self, answers: AsyncIterator[Answer]) -> None:
        try:
            async with aclosing(answers) as updates:
                async for answer in updates:
                    self.answer = answer
                    self._wake()
        except asyncio.CancelledError:
            self.stopped = True

    def _ended(self, task: asyncio.Task) -> None:
        self.stopped = self.stopped or task.cancelled()
        if self.stopped and self.answer is not None:
            self.answer.status = None  # a stopped answer waits for nothing: no "paused" line stays
        self.done = True
        self.ended_at = time.monotonic()
        if self._grace is not None:
            self._grace.cancel()
        self._wake()

    def _wake(self) -> None:
        self.version += 1
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    async def follow(self) -> AsyncIterator[Answer]:
        """The answer as it is now, then each change until it ends (changes made while the reader
        was busy come as one). Leaving early is not a Stop: the answer goes on for the grace time."""
        self._watchers += 1
        if self._grace is not None:
            self._grace.cancel()
            self._grace = None
        seen = -1
        try:
            while True:
                changed = self._changed
                if self.version != seen and self.answer is not None:
                    seen = self.version
                    yield self.answer
                    continue
                if self.done:
                    return
                await changed.wait()
        finally:
            self._watchers -= 1
            if not self._watchers and not self.done:
                self._grace = asyncio.get_running_loop().call_later(self.grace_s, self.stop)

    def stop(self) -> None:
        """End the answer now: the provider's stream is closed."""
        if not self.done:
            self.task.cancel()

    async def end(self, timeout_s: float = 5.0) -> Answer | None:
        """Stop the answer and wait until it has stopped (its stream closed): the answer as far as
        it went, every event that arrived applied (updates held back included)."""
        self.stop()
        if not self.task.done():
            await asyncio.wait({self.task}, timeout=timeout_s)
        return self.answer

    @property
    def watched(self) -> bool:
        return self._watchers > 0


class RunsFull(Exception):
    """No room for another answer: `per_owner` is True when this owner has too many running."""

    def __init__(self, limit: int, per_owner: bool) -> None:
        super().__init__(limit)
        self.limit, self.per_owner = limit, per_owner


class AnswerRuns:
    """This process's answers, by owner and conversation id. Not a module global: the app makes one.

    The owner is a signed-in person's name, or a secret kept by one browser (a visitor's page makes
    it): a conversation id alone, which an exported file carries, opens nothing."""

    def __init__(self, *, grace_s: float, max_runs: int = 400, per_owner: int = 4, keep_s: float = 3600.0) -> None:
        self.grace_s, self.max_runs, self.per_owner, self.keep_s = grace_s, max_runs, per_owner, keep_s
        self._runs: dict[tuple[str | None, str], AnswerRun] = {}

    def start(self, conversation_id: str, owner: str | None, answers: AsyncIterator[Answer], context: Any = None) -> AnswerRun:
        """Run an answer for a conversation; the owner's earlier one there is stopped. Raises
        RunsFull when there is no room (checked before anything is stopped): `max_runs` answers in
        all, `per_owner` being written for one owner."""
        self._prune()
        key = (owner, conversation_id)
        earlier = self._runs.get(key)
        if (
            owner is not None
            and sum(1 for (who, _), run in self._runs.items() if who == owner and not run.done and run is not earlier)
            >= self.per_owner
        ):
            raise RunsFull(self.per_owner, True)
        if earlier is None and len(self._runs) >= self.max_runs:
            finished = [k for k, run in self._runs.items() if run.done]
            if not finished:
                raise RunsFull(self.max_runs, False)
            del self._runs[min(finished, key=lambda k: self._runs[k].ended_at or 0)]
        if earlier is not None:
            earlier.stop()
        run = AnswerRun(conversation_id, owner, answers, grace_s=self.grace_s, context=context)
        self._runs[key] = run
        return run

    def get(self, conversation_id: str, owner: str | None) -> AnswerRun | None:
        """The conversation's run, for its owner only (None for anyone else)."""
        return self._runs.get((owner, conversation_id))

    def stop(self, conversation_id: str, owner: str | None) -> None:
        if (run := self.get(conversation_id, owner)) is not None:
            run.stop()

    def discard(self, conversation_id: str, owner: str | None) -> None:
        """The answer is saved (or its conversation deleted): stopped if still running, and no
        longer kept."""
        if (run := self._runs.pop((owner, conversation_id), None)) is not None:
            run.stop()

    def _prune(self) -> None:
        now = time.monotonic()
        for key in [key for key, run in self._runs.items() if run.done and now - (run.ended_at or now) > self.keep_s]:
            del self._runs[key]

    def __len__(self) -> int:
        return len(self._runs)
