"""An answer as it builds up from events, with its timings: what the UI, API and benchmark show."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import Any

from ..events import Citation, Event, Failure, Finish, Notice, Picture, ReasoningDelta, Start, Status, TextDelta, ToolStep, Usage
from ..i18n.wording import DEFAULT_LANGUAGE, number, words

log = logging.getLogger(__name__)


class Growing:
    """Text that grows by pieces: appended in O(1), joined only when read (once per UI update,
    not once per token as `str +=` on an attribute would copy it)."""

    __slots__ = ("_parts",)

    def __init__(self) -> None:
        self._parts: list[str] = []

    def add(self, piece: str) -> None:
        self._parts.append(piece)

    def clear(self) -> None:
        self._parts.clear()

    def value(self) -> str:
        if len(self._parts) > 1:
            self._parts[:] = ["".join(self._parts)]
        return self._parts[0] if self._parts else ""


def note_tool(used: dict[str, str], status: Status) -> None:
    """A "searching" status noted in `used` (a tool's kind by the output item that ran it): a
    tool's item is said when added, then when done, and counts once."""
    params = status.params
    item = params.get("item") or f"{params.get('why')}:{params.get('query')}"
    used.setdefault(item, params.get("why") or "tool")


def counted(used: dict[str, str]) -> dict[str, int]:
    """How many times each kind of tool ran, in the order first used."""
    counts: dict[str, int] = {}
    for kind in used.values():
        counts[kind] = counts.get(kind, 0) + 1
    return counts


@dataclass
class Answer:
    provider_label: str = ""
    model: str = ""
    _text: Growing = field(default_factory=Growing, repr=False)
    _reasoning: Growing = field(default_factory=Growing, repr=False)
    usage: Usage | None = None
    finish_reason: str | None = None
    failure: Failure | None = None
    status: Status | None = None
    notices: tuple[Notice, ...] = ()
    citations: tuple[Citation, ...] = ()
    """The sources a search tool found and the answer used, each once."""
    pictures: tuple[Picture, ...] = ()
    """The pictures the answer made, kept in the app's file store, in the order made."""
    steps: tuple[ToolStep, ...] = ()
    """The tool calls the model asked for, each as it is now, in the order asked."""
    tools_used: dict[str, str] = field(default_factory=dict)
    """The provider's server-side tools this answer ran: their kind (web, x, code, image, tool), by
    the output item that ran them."""
    started_at: float = field(default_factory=time.perf_counter)
    first_token_at: float | None = None
    answer_started_at: float | None = None
    finished_at: float | None = None

    def apply(self, event: Event) -> None:
        kind = type(event)
        if kind is TextDelta:
            if self.answer_started_at is None:
                self.answer_started_at = time.perf_counter()
                if self.first_token_at is None:
                    self.first_token_at = self.answer_started_at
            self.status = None
            self._text.add(event.text)
        elif kind is ReasoningDelta:
            if self.first_token_at is None:
                self.first_token_at = time.perf_counter()
            self.status = None
            if event.retroactive:
                self._reasoning.add(self._text.value())
                self._text.clear()
                self.answer_started_at = None
            self._reasoning.add(event.text)
        elif kind is Start:
            self.provider_label, self.model = event.provider_label, event.model
        elif kind is Usage:
            self.usage = event
        elif kind is Status:
            self.status = event
            if event.kind == "searching":
                note_tool(self.tools_used, event)
        elif kind is Notice:
            self.notices += (event,)
        elif kind is Citation:
            if all(event.url != known.url for known in self.citations):  # once each, in order of use
                self.citations += (event,)
        elif kind is Picture:
            if self.first_token_at is None:  # a picture is what such an answer gives first
                self.first_token_at = time.perf_counter()
            self.status = None
            self.pictures += (event,)
        elif kind is ToolStep:
            self.status = None
            for number, step in enumerate(self.steps):
                if step.id == event.id:
                    self.steps = (*self.steps[:number], event, *self.steps[number + 1 :])
                    break
            else:
                self.steps += (event,)
        elif kind is Finish:
            self.finish_reason = event.reason
            self.status = None
            self.finished_at = time.perf_counter()
        elif kind is Failure:
            self.failure = event
            self.status = None
            self.finished_at = time.perf_counter()

    @property
    def text(self) -> str:
        return self._text.value()

    @property
    def reasoning(self) -> str:
        return self._reasoning.value()

    @property
    def thinking(self) -> bool:
        """Still thinking: reasoning has come, the answer has not, nothing has ended."""
        return bool(self.reasoning) and self.answer_started_at is None and self.finished_at is None

    @property
    def cost_usd(self) -> float | None:
        return self.usage.cost_usd if self.usage else None

    @property
    def asked_for_tool(self) -> bool:
        """The model ended by asking for a tool call instead of answering in text, with no tool
        offered (an answer whose calls ran says so with its steps)."""
        return self.finish_reason == "tool_calls" and not self.text.strip() and not self.steps

    @property
    def waiting_for_approval(self) -> bool:
        return any(step.state == "waiting" for step in self.steps)

    @property
    def tool_counts(self) -> dict[str, int]:
        """How many times each kind of server-side tool ran, in the order first used."""
        return counted(self.tools_used)

    @property
    def ttft_s(self) -> float | None:
        return None if self.first_token_at is None else self.first_token_at - self.started_at

    @property
    def total_s(self) -> float:
        end = self.finished_at if self.finished_at is not None else time.perf_counter()
        return end - self.started_at

    @property
    def thinking_s(self) -> float | None:
        if self.first_token_at is None or not self.reasoning:
            return None
        end = self.answer_started_at or self.finished_at or time.perf_counter()
        return end - self.first_token_at

    @property
    def tokens_per_s(self) -> float | None:
        if self.usage is None or not self.usage.completion_tokens or self.first_token_at is None:
            return None
        end = self.finished_at if self.finished_at is not None else time.perf_counter()
        span = end - self.first_token_at
        # A handful of tokens in a few milliseconds says nothing about speed.
        return self.usage.completion_tokens / span if span >= 0.1 and self.usage.completion_tokens >= 5 else None

    def details(self) -> dict[str, Any]:
        """The answer as the /chat_details API returns it."""
        usage = self.usage
        return {
            "answer": self.text,
            "reasoning": self.reasoning,
            "provider": self.provider_label,
            "model": self.model,
            "usage": {
                "prompt_tokens": usage.prompt_tokens if usage else None,
                "completion_tokens": usage.completion_tokens if usage else None,
                "reasoning_tokens": usage.reasoning_tokens if usage else None,
                "cached_tokens": usage.cached_tokens if usage else None,
                "tool_calls": usage.tool_calls if usage else None,
                "tools": self.tool_counts,
                "estimated": usage.estimated if usage else True,
            },
            "timings": {
                "ttft_s": None if self.ttft_s is None else round(self.ttft_s, 4),
                "total_s": round(self.total_s, 4),
                "tokens_per_s": None if self.tokens_per_s is None else round(self.tokens_per_s, 2),
            },
            "cost_usd": self.cost_usd,
            "cost_source": usage.cost_source if usage else None,
            "finish_reason": self.finish_reason,
            "notices": [notice.message for notice in self.notices],
            "citations": [{"url": c.url, "title": c.title} for c in self.citations],
            "tool_calls": [tool_call(step) for step in self.steps],
            "images": [
                {"path": p.path, "mime_type": p.mime_type, "size": p.size, "revised_prompt": p.revised_prompt}
                for p in self.pictures
            ],
        }


def tool_call(step: ToolStep) -> dict[str, Any]:
    """One step as the API returns it: its arguments as the JSON they are (else as written)."""
    try:
        arguments: Any = json.loads(step.arguments or "{}")
    except ValueError:
        arguments = step.arguments
    return {
        "server": step.server,
        "tool": step.tool,
        "arguments": arguments,
        "result": step.result,
        "state": step.state,
        "approved": step.state in ("running", "done") or (step.state == "failed" and step.duration_s is not None),
        "duration_s": step.duration_s,
        **({"remote": True} if step.remote else {}),
    }


async def coalesced(
    answer: Answer, events: AsyncIterator[Event], interval_s: Callable[[], float] = lambda: 0.04
) -> AsyncIterator[Answer]:
    """Apply events to `answer` and yield it: at once for the first token and any status, then at
    most every `interval_s()` seconds, and always at the end. Gradio re-processes the whole value on
    every update, so one update per token would cost CPU in proportion to tokens times history.

    A change is never held back for longer than its interval, even when no event follows it (a
    model that pauses after a few tokens): after the first token, the events are read by a task of
    their own (_Updates), and a timer makes the held update due. Until then they are read here,
    with no task between the stream and whoever waits for the first token. An update an event
    makes due is taken before the next event is read, as when this was one generator: a status is
    seen before the token after it clears it. Leaving early (aclose, a Stop's cancellation) closes
    the stream, stopping that task first.

    Nothing raises out of here: an unexpected error becomes a Failure on the answer.
    """
    updates, reader = _Updates(answer, interval_s), None
    try:
        try:
            async for event in events:
                answer.apply(event)
                if answer.first_token_at is not None:
                    updates.next_at = updates.loop.time() + interval_s()
                    yield answer
                    reader = updates.loop.create_task(updates.read(events))
                    break
                if type(event) is Status or type(event) is ToolStep:  # (a call waiting: shown at once)
                    yield answer
        except Exception:
            log.exception("Unexpected error while answering")
            answer.apply(Failure("internal"))
        while reader is not None:
            await updates.due.wait()
            updates.due.clear()
            if updates.ended:
                break
            yield answer
            updates.taken.set()
        yield answer
    finally:
        if reader is None:
            if (aclose := getattr(events, "aclose", None)) is not None:
                await aclose()
        elif not reader.done():
            reader.cancel()
            try:
                await reader
            except asyncio.CancelledError:
                if (task := asyncio.current_task()) is not None and task.cancelling():
                    raise  # this task is being cancelled too: that goes on


class _Updates:
    """What `coalesced` yields when, once the first token has come: events applied to the answer
    as they come, and `due` set when an update should go out, by an event or by the timer of a
    change held back."""

    __slots__ = ("answer", "interval_s", "loop", "due", "taken", "ended", "next_at", "timer")

    def __init__(self, answer: Answer, interval_s: Callable[[], float]) -> None:
        self.answer, self.interval_s = answer, interval_s
        self.loop = asyncio.get_running_loop()
        self.due, self.taken = asyncio.Event(), asyncio.Event()
        self.ended = False
        self.next_at = 0.0
        self.timer: asyncio.TimerHandle | None = None

    async def read(self, events: AsyncIterator[Event]) -> None:
        answer = self.answer
        try:
            async with aclosing(events) as stream:
                async for event in stream:
                    answer.apply(event)
                    if type(event) is Status or type(event) is ToolStep or self.loop.time() >= self.next_at:
                        self.send()
                        await self.taken.wait()
                    elif self.timer is None:  # held back: sent when its interval is up, whatever comes
                        self.timer = self.loop.call_at(self.next_at, self.send)
        except Exception:
            log.exception("Unexpected error while answering")
            answer.apply(Failure("internal"))
        finally:
            self.ended = True
            if self.timer is not None:
                self.timer.cancel()
            self.due.set()

    def send(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        self.next_at = self.loop.time() + self.interval_s()
        self.taken.clear()  # (an update the timer sent was taken with nobody waiting for it)
        self.due.set()


@dataclass
class SessionTotals:
    """What one person's answers have cost so far in this browser session."""

    answers: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    unpriced: int = 0
    estimated: bool = False
    spoken: int = 0
    """Recordings transcribed and answers read aloud (answering/voice.py)."""
    spoken_usd: float = 0.0

    def plus_voice(self, cost_usd: float | None) -> SessionTotals:
        """A new total with one transcription or reading added."""
        total = SessionTotals(**vars(self))
        total.spoken += 1
        total.spoken_usd += cost_usd or 0.0
        return total

    def plus(self, answer: Answer) -> SessionTotals:
        """A new total with this answer added (session state is replaced, never edited)."""
        total = SessionTotals(**vars(self))
        total.add(answer)
        return total

    def add(self, answer: Answer) -> None:
        usage = answer.usage
        if usage is None:
            return
        self.answers += 1
        self.prompt_tokens += usage.prompt_tokens or 0
        self.completion_tokens += usage.completion_tokens or 0
        self.estimated |= usage.estimated
        if usage.cost_usd is None:
            self.unpriced += 1
        else:
            self.cost_usd += usage.cost_usd

    def summary(self, language: str = DEFAULT_LANGUAGE) -> str:
        def say(kind: str, **params) -> str:
            return words("page", kind, params, language)

        voice = say("totals_voice", count=self.spoken, cost=f"${self.spoken_usd:.4f}") if self.spoken else ""
        if not self.answers:
            return say("totals.none") + voice
        text = say(
            "totals",
            why="one" if self.answers == 1 else None,
            answers=self.answers,
            approx="≈ " if self.estimated else "",
            prompt=number(self.prompt_tokens, language),
            completion=number(self.completion_tokens, language),
        )
        if self.unpriced == self.answers:
            return text + say("totals_unpriced") + voice
        text += say("totals_cost", cost=f"${self.cost_usd:.4f}")
        if self.unpriced:
            text += say("totals_some_unpriced", count=self.unpriced)
        return text + voice
