"""Budgets in dollars, over what the owner's keys pay for: DOLLARS_PER_DAY_PER_VISITOR (each of a
visitor's names, as the other limits count them) and DOLLARS_PER_DAY (the whole app).

An answer reserves the most it may cost when it starts (its prompt and its token cap at the
model's list price; a picture, its price) and settles on what it cost when it ends (the
provider's billed figure, else its tokens at list price): answers started together cannot overrun
a budget by more than what one of them reserves beyond its cost. A day runs from
BUDGET_RESET_HOUR (UTC) to the next.

The counts live in a `Ledger`: this process's memory (`MemoryLedger`), or the store's database
(history/store/budget_store.py) on PostgreSQL, where every process counts against the same
budgets with atomic updates. While that ledger fails, answers paid by the owner are refused, said
so (a process that counted on its own would start a fresh budget); settlements are tried again.
"""

from __future__ import annotations

import asyncio
import datetime
import logging
import time
from collections.abc import Coroutine, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from ..config.public_settings import PublicSettings
from ..events import Failure
from ..files.attachments import IMAGE_CHARS
from .limits import Visitor

log = logging.getLogger(__name__)

APP = "app"
"""The name the whole app's spending is counted under."""
RETRY_LEDGER_S = 10.0
"""After the store's ledger failed, answers on the owner's keys are refused this long before it is
asked again (fail closed: no process may spend a budget it cannot count)."""
SETTLE_RETRIES_S = (0.5, 2.0, 8.0)


def budget_day(now: float, reset_hour: int = 0) -> tuple[str, float]:
    """The budget day holding `now` (named by the date it began) and when it ends (epoch seconds)."""
    moment = datetime.datetime.fromtimestamp(now, datetime.UTC)
    start = moment.replace(hour=reset_hour, minute=0, second=0, microsecond=0)
    if moment < start:
        start -= datetime.timedelta(days=1)
    return start.date().isoformat(), (start + datetime.timedelta(days=1)).timestamp()


class Ledger(Protocol):
    async def take(self, day: str, limits: Sequence[tuple[str, float]], amount: float) -> tuple[str, float] | None:
        """Adds `amount` to each name's spending of the day if every one stays within its limit
        (all or none); else returns the first name that would not, with what it has spent."""

    async def add(self, day: str, names: Sequence[str], amount: float) -> None:
        """Adds `amount` (a settlement: negative when an answer cost less than it reserved)."""

    async def spent(self, day: str, name: str) -> float: ...


class MemoryLedger:
    """This process's counts, for the most recent KEPT_WINDOWS days (or windows) only."""

    KEPT_WINDOWS = 8

    def __init__(self) -> None:
        self._spent: dict[str, dict[str, float]] = {}

    def _of(self, day: str) -> dict[str, float]:
        if day not in self._spent:
            self._spent[day] = {}
            while len(self._spent) > self.KEPT_WINDOWS:
                del self._spent[next(iter(self._spent))]
        return self._spent[day]

    async def take(self, day: str, limits: Sequence[tuple[str, float]], amount: float) -> tuple[str, float] | None:
        spent = self._of(day)
        for name, limit in limits:
            if spent.get(name, 0.0) + amount > limit:
                return name, spent.get(name, 0.0)
        for name, _ in limits:
            spent[name] = spent.get(name, 0.0) + amount
        return None

    async def add(self, day: str, names: Sequence[str], amount: float) -> None:
        spent = self._of(day)
        for name in names:
            spent[name] = max(0.0, spent.get(name, 0.0) + amount)

    async def spent(self, day: str, name: str) -> float:
        return self._spent.get(day, {}).get(name, 0.0)


class Writes:
    """Settlements written off the answer's path: tasks kept until they end (the loop holds only
    weak references to tasks), and waited for by `done` (tests, shutdown)."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task] = set()

    def start(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def done(self) -> None:
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)


@dataclass(frozen=True)
class Reservation:
    day: str
    names: tuple[str, ...]
    amount: float
    ledger: object


class DollarBudgets:
    """One per app. `on` only when a budget is set."""

    def __init__(self, public: PublicSettings, ledger: Ledger | None = None, clock=time.time) -> None:
        self.per_visitor, self.per_app = public.dollars_per_day_per_visitor, public.dollars_per_day
        self.reset_hour = public.budget_reset_hour
        self.shared: Ledger | None = ledger
        self.local = MemoryLedger()
        self.clock = clock
        self._failed_at = -RETRY_LEDGER_S
        self._settling = Writes()

    @property
    def on(self) -> bool:
        return bool(self.per_visitor or self.per_app)

    def _ledger(self) -> Ledger:
        return self.shared if self.shared is not None else self.local

    def _limits(self, visitor: Visitor) -> list[tuple[str, float]]:
        limits = [(name, self.per_visitor) for name in visitor.names()] if self.per_visitor else []
        if self.per_app:
            limits.append((APP, self.per_app))
        return sorted(limits)  # (one order for every process: rows are locked in it)

    async def reserve(self, visitor: Visitor, amount: float) -> Reservation | Failure | None:
        """Sets `amount` dollars aside for an answer paid by the owner, or says which budget
        refuses it; None when no budget is set."""
        if not self.on:
            return None
        day, ends = budget_day(self.clock(), self.reset_hour)
        limits = self._limits(visitor)
        for name, limit in limits:
            if amount > limit:
                return self._refusal(name, limit, None, ends, needed=amount)
        ledger = self._ledger()
        if ledger is self.shared and time.monotonic() - self._failed_at < RETRY_LEDGER_S:
            return Failure("limited", {"why": "budget_down"})
        try:
            over = await ledger.take(day, limits, amount)
        except Exception as exc:  # the store's: refused (fail closed) until it answers again
            if ledger is self.local:
                raise
            self._failed_at = time.monotonic()
            log.warning("Budgets: the shared ledger failed (%s); answers on your keys wait for it.", type(exc).__name__)
            return Failure("limited", {"why": "budget_down"})
        if over is not None:
            name, spent = over
            return self._refusal(name, dict(limits)[name], spent, ends)
        return Reservation(day, tuple(name for name, _ in limits), amount, ledger)

    async def reserve_listed(self, visitor: Visitor, amount: float | None, provider, model: str) -> Reservation | Failure | None:
        """`reserve` of the most an answer may cost at list price; one with no known price is
        refused (no budget can hold it). None when no budget is set."""
        if not self.on:
            return None
        return await self.reserve(visitor, amount) if amount is not None else unpriced(provider, model)

    def settle(self, reservation: Reservation | None, cost: float) -> None:
        """The answer ended, having cost `cost` dollars: the difference goes back (or on), soon."""
        if reservation is None or abs(cost - reservation.amount) < 1e-12:
            return
        self._settling.start(self._settle(reservation, cost))

    async def _settle(self, reservation: Reservation, cost: float) -> None:
        """The difference, written; tried again a few times if the store's ledger fails."""
        ledger = reservation.ledger
        for wait in SETTLE_RETRIES_S:
            try:
                await ledger.add(reservation.day, reservation.names, cost - reservation.amount)  # type: ignore[attr-defined]
                return
            except Exception as exc:
                failure = type(exc).__name__
            await asyncio.sleep(wait)
        log.warning("Budgets: a settlement of $%.6f could not be written (%s).", cost - reservation.amount, failure)

    async def settled(self) -> None:
        """Waits for the settlements under way (tests, shutdown)."""
        await self._settling.done()

    async def left(self, visitor: Visitor) -> tuple[float, float, float] | None:
        """(spent today, the visitor's budget, when it resets) for the most spent of their names;
        None when there is no budget per visitor."""
        if not self.per_visitor or not visitor.names():
            return None
        day, ends = budget_day(self.clock(), self.reset_hour)
        try:
            spent = max([await self._ledger().spent(day, name) for name in visitor.names()])
        except Exception:  # (a line under the totals: said another time)
            return None
        return spent, self.per_visitor, ends

    async def spent_today(self) -> tuple[float, float, float] | None:
        """(what the whole app spent today, DOLLARS_PER_DAY, when it resets), for the cockpit."""
        if not self.per_app:
            return None
        day, ends = budget_day(self.clock(), self.reset_hour)
        try:
            return await self._ledger().spent(day, APP), self.per_app, ends
        except Exception:
            return None

    def _refusal(self, name: str, limit: float, spent: float | None, ends: float, needed: float | None = None) -> Failure:
        whole = name == APP
        wait = max(60, round(ends - self.clock()))
        params = {
            "limit": limit,
            "spent": spent,
            "needed": needed,
            "setting": "DOLLARS_PER_DAY" if whole else "DOLLARS_PER_DAY_PER_VISITOR",
            "reset": f"{self.reset_hour:02d}:00",
            "hours": wait // 3600,
            "minutes": wait % 3600 // 60,
        }
        why = ("budget_app" if whole else "budget") + ("_one" if needed is not None else "")
        return Failure("limited", {"why": why, **params})


def unpriced(provider, model: str) -> Failure:
    """A model whose most cost is unknown: no dollar budget can hold it."""
    return Failure("limited", {"why": "budget_unpriced", "model": model, "provider": provider.label})


def most_prompt_tokens(messages: Sequence[Mapping[str, Any]], context: int | None) -> int:
    """The most tokens a prompt may count: every tokenizer here makes at least one UTF-8 byte a
    token (an image counts as IMAGE_CHARS), and no model reads more than its context."""
    size = 0
    for message in messages:
        for call in message.get("tool_calls") or ():  # (the calls an earlier round asked for)
            size += len(str((call.get("function") or {}).get("arguments") or "").encode("utf-8", "surrogatepass"))
        content = message["content"]
        parts = [content] if isinstance(content, str) else content
        for part in parts:
            text = part if isinstance(part, str) else part.get("text") if part.get("type") == "text" else None
            size += len(text.encode("utf-8", "surrogatepass")) if isinstance(text, str) else IMAGE_CHARS
    return min(size, context) if context else size
