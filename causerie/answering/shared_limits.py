"""RATE_LIMIT_PER_MINUTE and TOKENS_PER_HOUR counted once for every process, in the store's
database (PostgreSQL), through the same ledger as the dollar budgets (budgets.Ledger): N processes
behind nginx hold one limit.

The shared counts are fixed windows (the clock's minute, its hour, named "q<minute>" and
"t<hour>" in the ledger), where a process's own RateLimiter slides its windows: a visitor may ask
a minute's questions at the end of one minute and again at the start of the next. Tokens are
reserved when an answer is admitted and settled when it ends, as in RateLimiter. If the database
fails, the process's own RateLimiter counts until it answers again (limits that cannot be shared
still hold per process; the dollar budgets, which are money, refuse instead).
"""

from __future__ import annotations

import logging
import time

from ..events import Failure
from .budgets import Ledger, Writes
from .limits import Visitor, rate_refusal, tokens_refusal

log = logging.getLogger(__name__)
RETRY_S = 10.0


class SharedLimits:
    def __init__(self, per_minute: int, tokens_per_hour: int, ledger: Ledger, clock=time.time) -> None:
        self.per_minute, self.tokens_per_hour, self.ledger, self.clock = per_minute, tokens_per_hour, ledger, clock
        self.failed_at = -RETRY_S
        self._settling = Writes()

    @property
    def up(self) -> bool:
        """Whether to ask the ledger (not within RETRY_S of a failure)."""
        return time.monotonic() - self.failed_at >= RETRY_S

    def failed(self, exc: BaseException) -> None:
        self.failed_at = time.monotonic()
        log.warning("Limits: the shared counts failed (%s); each process counts its own for a while.", type(exc).__name__)

    async def admit(self, visitor: Visitor, *, owner_pays: bool, reserve: int) -> Failure | None:
        """Counts one question and reserves its tokens for every process, or says why not. Raises
        what the ledger raised (the caller counts in this process instead)."""
        now, names = self.clock(), sorted(visitor.names())
        hour = f"t{int(now // 3600)}"
        tokens = bool(self.tokens_per_hour and owner_pays and reserve)
        if self.tokens_per_hour and owner_pays and reserve > self.tokens_per_hour:
            return tokens_refusal(self.tokens_per_hour, needed=reserve)
        if tokens and await self.ledger.take(hour, [(name, self.tokens_per_hour) for name in names], reserve):
            return tokens_refusal(self.tokens_per_hour, wait_s=3600 - now % 3600)
        if self.per_minute and await self.ledger.take(f"q{int(now // 60)}", [(name, self.per_minute) for name in names], 1):
            if tokens:
                await self.ledger.add(hour, names, -reserve)
            return rate_refusal(self.per_minute, 60 - now % 60)
        return None

    def settle(self, visitor: Visitor, reserved: int, spent: int) -> None:
        """The answer's tokens were `spent`, not `reserved`: the difference, written soon (in the
        hour of the settlement, a fixed window's approximation)."""
        if not self.tokens_per_hour or spent == reserved:
            return
        hour, names = f"t{int(self.clock() // 3600)}", sorted(visitor.names())
        self._settling.start(self._add(hour, names, spent - reserved))

    async def _add(self, hour: str, names: list[str], amount: float) -> None:
        try:
            await self.ledger.add(hour, names, amount)
        except Exception as exc:
            self.failed(exc)

    async def settled(self) -> None:
        await self._settling.done()
