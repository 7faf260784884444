"""Answers that run on their own: a page watches an answer, it does not own it.

An `AnswerRun` consumes one answer's updates (`ChatService.answers`) in a task of its own and keeps
the latest, so that a page that went away (a reload, a phone locking, another chat opened) can
come back to it: `follow()` yields the answer so far, then every change, to the end. A page going
away is not a Stop: with nobody watching, the answer goes on for `grace_s` seconds, then is
stopped (and the provider's stream closed). `stop()` ends it at once, whoever asks.

`AnswerRuns` holds the runs of this process by conversation id. Conversation ids are random and
known only to the browser (or signed-in account) that holds the conversation; a run also records
its owner, and is found only by the same owner. Finished runs are kept until a page has saved
them (`release`) or for `keep_s` seconds; at most `max_runs` are held at once.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import aclosing
from typing import Any

from .answer import Answer


class AnswerRun:
    def __init__(self, conversation_id: str, owner: str | None, answers: AsyncIterator[Answer], *,
                 grace_s: float, context: Any = None) -> None:
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

    @property
    def watched(self) -> bool:
        return self._watchers > 0


class RunsFull(Exception):
    """Every slot holds an answer still being written."""


class AnswerRuns:
    """This process's answers, by conversation id. Not a module global: the app makes one."""

    def __init__(self, *, grace_s: float, max_runs: int = 400, keep_s: float = 3600.0) -> None:
        self.grace_s, self.max_runs, self.keep_s = grace_s, max_runs, keep_s
        self._runs: dict[str, AnswerRun] = {}

    def start(self, conversation_id: str, owner: str | None, answers: AsyncIterator[Answer],
              context: Any = None) -> AnswerRun:
        """Run an answer for a conversation; one already running there is stopped first. Raises
        RunsFull when `max_runs` answers are being written."""
        self._prune()
        if (earlier := self._runs.pop(conversation_id, None)) is not None:
            earlier.stop()
        if len(self._runs) >= self.max_runs:
            finished = [key for key, run in self._runs.items() if run.done]
            if not finished:
                raise RunsFull
            del self._runs[min(finished, key=lambda key: self._runs[key].ended_at or 0)]
        run = AnswerRun(conversation_id, owner, answers, grace_s=self.grace_s, context=context)
        self._runs[conversation_id] = run
        return run

    def get(self, conversation_id: str, owner: str | None) -> AnswerRun | None:
        """The conversation's run, for its owner only (None for anyone else)."""
        run = self._runs.get(conversation_id)
        return run if run is not None and run.owner == owner else None

    def stop(self, conversation_id: str, owner: str | None) -> None:
        if (run := self.get(conversation_id, owner)) is not None:
            run.stop()

    def release(self, conversation_id: str, run: AnswerRun) -> None:
        """A page has the whole answer (and saves it): the run is no longer kept."""
        if self._runs.get(conversation_id) is run and run.done:
            del self._runs[conversation_id]

    def _prune(self) -> None:
        now = time.monotonic()
        for key in [key for key, run in self._runs.items() if run.done and now - (run.ended_at or now) > self.keep_s]:
            del self._runs[key]

    def __len__(self) -> int:
        return len(self._runs)
