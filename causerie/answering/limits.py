"""Who is asking, and how much they may ask: per-visitor rate and token limits.

A `Visitor` is built at the edge (the page or the API) from the request; the service counts each
answer against every one of its names (its session or signed-in account, and its IP address), so
opening a new session does not reset an address's count. Counts live in this process's memory,
bounded in size; several processes each count their own share.
"""

from __future__ import annotations

import ipaddress
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from ..endpoints.egress import plain_address
from ..events import Failure

MAX_TRACKED = 50_000
"""Names counted at once, at most; beyond it the least recently seen are forgotten."""


@dataclass(frozen=True)
class Visitor:
    """The person an answer is for. `hf_token` is their Hugging Face login token, when signed in."""

    session: str | None = None
    ip: str | None = None
    user: str | None = None
    """A signed-in name (user:… or hf:…), counted instead of the session."""
    hf_token: str | None = field(default=None, repr=False)

    def names(self) -> tuple[str, ...]:
        """What the limits count: a signed-in person as themselves (wherever they are: a campus
        shares one address); anyone else by session and by address (an IPv6 address by its /64,
        which one machine can hop around in)."""
        if self.user:
            return (self.user,)
        return tuple(
            name
            for name in (f"session:{self.session}" if self.session else None, f"ip:{_network_of(self.ip)}" if self.ip else None)
            if name
        )


def header_entries(headers: Any, name: str) -> list[str]:
    """A list-valued header's entries, over all its lines: a request may carry a header twice (a
    proxy that adds its own line), and the lines read as one, joined by commas (RFC 9110, 5.3)."""
    lines = headers.getlist(name) if hasattr(headers, "getlist") else [headers.get(name) or ""]
    return [part.strip() for line in lines for part in line.split(",") if part.strip()]


def client_ip(request: Any, proxy_hops: int) -> str | None:
    """The visitor's address (`request`: Gradio's or Starlette's, with `headers` and `client`): behind `proxy_hops` proxies (a Space has one), the entry that many
    places from the end of X-Forwarded-For, the part a proxy of ours wrote (a visitor can put
    anything at its start); else the connection's peer."""
    if proxy_hops:
        forwarded = header_entries(request.headers, "x-forwarded-for")  # (every line: the first may be the visitor's)
        if len(forwarded) >= proxy_hops:
            return forwarded[-proxy_hops]
    client: Any = getattr(request, "client", None)
    return getattr(client, "host", None)


def _network_of(ip: str) -> str:
    """An address as the limits count it: an IPv6 one by its /64, an IPv4 one carried in IPv6 as
    itself."""
    try:
        address = plain_address(ipaddress.ip_address(ip))
    except ValueError:
        return ip
    if isinstance(address, ipaddress.IPv6Address):
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


class _Windows:
    """Per name, (time, amount) entries younger than `span_s`, oldest first; bounded in names."""

    def __init__(self, span_s: float) -> None:
        self.span_s = span_s
        self._entries: dict[str, deque] = {}

    def _fresh(self, name: str, now: float) -> deque | None:
        entries = self._entries.get(name)
        if entries is None:
            return None
        while entries and entries[0][0] <= now - self.span_s:
            entries.popleft()
        if not entries:
            del self._entries[name]
            return None
        self._entries[name] = self._entries.pop(name)  # most recently seen last
        return entries

    def total(self, name: str, now: float) -> tuple[float, float]:
        """(amount in the window, seconds until its oldest entry leaves it)."""
        entries = self._fresh(name, now)
        if not entries:
            return 0, 0.0
        return sum(amount for _, amount in entries), entries[0][0] + self.span_s - now

    def add(self, name: str, amount: float, now: float) -> None:
        entries = self._fresh(name, now)
        if entries is None:
            while len(self._entries) >= MAX_TRACKED:
                del self._entries[next(iter(self._entries))]
            entries = self._entries[name] = deque()
        entries.append((now, amount))


def rate_refusal(limit: int, wait_s: float) -> Failure:
    """RATE_LIMIT_PER_MINUTE reached: a question again in `wait_s` seconds."""
    return Failure(
        "limited", {"why": "rate", "limit": limit, "seconds": max(1, round(wait_s)), "setting": "RATE_LIMIT_PER_MINUTE"}
    )


def tokens_refusal(limit: int, *, wait_s: float = 0.0, needed: int | None = None) -> Failure:
    """TOKENS_PER_HOUR reached (room again in `wait_s` seconds), or, with `needed`, more than it
    holds at all."""
    if needed is not None:
        return Failure("limited", {"why": "tokens_one", "limit": limit, "needed": needed, "setting": "TOKENS_PER_HOUR"})
    return Failure(
        "limited", {"why": "tokens", "limit": limit, "minutes": max(1, round(wait_s / 60)), "setting": "TOKENS_PER_HOUR"}
    )


CHARS_PER_TOKEN = 4
"""For estimates where no count is known (English and French text run at about four)."""

LISTS_PER_QUESTION = 3
"""Model lists a visitor may have fetched with their own key or endpoint, per question allowed."""


class RateLimiter:
    """RATE_LIMIT_PER_MINUTE questions, TOKENS_PER_HOUR tokens and IMAGES_PER_HOUR pictures, per
    name; 0 turns each off.

    An answer's tokens (pictures) are reserved when it is admitted (its prompt and the most it may
    write; the pictures asked for) and settled when it ends: answers started together cannot
    overrun the budget between them."""

    def __init__(self, per_minute: int, tokens_per_hour: int, clock=time.monotonic, pictures_per_hour: int = 0) -> None:
        self.per_minute, self.tokens_per_hour, self.clock = per_minute, tokens_per_hour, clock
        self.pictures_per_hour = pictures_per_hour
        self.shared: Any = None
        """The counts every process shares (shared_limits.SharedLimits), when the store is PostgreSQL."""
        self._questions = _Windows(60.0)
        self._lists = _Windows(60.0)
        self._tokens = _Windows(3600.0)
        self._pictures = _Windows(3600.0)

    def may_list(self, visitor: Visitor) -> bool:
        """Whether to fetch a model list with the visitor's own key or endpoint (each is a request
        from this server to an address they chose): counted, at most LISTS_PER_QUESTION times the
        questions allowed a minute."""
        if not self.per_minute:
            return True
        now, names = self.clock(), visitor.names()
        if any(self._lists.total(name, now)[0] >= LISTS_PER_QUESTION * self.per_minute for name in names):
            return False
        for name in names:
            self._lists.add(name, 1, now)
        return True

    def admit(self, visitor: Visitor, *, owner_pays: bool, reserve: int = 0) -> Failure | None:
        """Counts one question for the visitor, or says why it is refused and for how long.
        The token budget is the owner's money: it applies only when the owner pays, and `reserve`
        tokens are set aside for the answer until `settle`."""
        now = self.clock()
        names = visitor.names()
        if self.per_minute:
            for name in names:
                count, wait = self._questions.total(name, now)
                if count >= self.per_minute:
                    return rate_refusal(self.per_minute, wait)
        if self.tokens_per_hour and owner_pays:
            if reserve > self.tokens_per_hour:  # no wait would ever make room for it
                return tokens_refusal(self.tokens_per_hour, needed=reserve)
            for name in names:
                spent, wait = self._tokens.total(name, now)
                if spent + reserve > self.tokens_per_hour:  # the prompt and the most it may write must fit
                    return tokens_refusal(self.tokens_per_hour, wait_s=wait)
        for name in names:
            if self.per_minute:
                self._questions.add(name, 1, now)
            if self.tokens_per_hour and owner_pays and reserve:
                self._tokens.add(name, reserve, now)
        return None

    async def admit_everywhere(self, visitor: Visitor, *, owner_pays: bool, reserve: int = 0) -> Failure | None:
        """`admit`, counted for every process when the counts are shared (shared_limits.py);
        in this process alone when they are not, or while their database fails."""
        shared = self.shared
        if shared is not None and shared.up:
            try:
                return await shared.admit(visitor, owner_pays=owner_pays, reserve=reserve)
            except Exception as exc:
                shared.failed(exc)
        return self.admit(visitor, owner_pays=owner_pays, reserve=reserve)

    def settle(self, visitor: Visitor, reserved: int, spent: int) -> None:
        """An answer admitted with `reserved` tokens set aside has ended, having cost `spent`."""
        if self.shared is not None and self.shared.up:
            self.shared.settle(visitor, reserved, spent)
            return
        if self.tokens_per_hour and spent != reserved:
            now = self.clock()
            for name in visitor.names():
                self._tokens.add(name, spent - reserved, now)

    def admit_pictures(self, visitor: Visitor, count: int, *, owner_pays: bool) -> Failure | None:
        """Reserves `count` pictures of the visitor's hour when the owner pays, or says why not."""
        limit = self.pictures_per_hour
        if not limit or not owner_pays:
            return None
        if count > limit:
            return Failure("limited", {"why": "pictures_one", "limit": limit, "needed": count, "setting": "IMAGES_PER_HOUR"})
        now, names = self.clock(), visitor.names()
        for name in names:
            made, wait = self._pictures.total(name, now)
            if made + count > limit:
                minutes = max(1, round(wait / 60))
                return Failure("limited", {"why": "pictures", "limit": limit, "minutes": minutes, "setting": "IMAGES_PER_HOUR"})
        for name in names:
            self._pictures.add(name, count, now)
        return None

    def settle_pictures(self, visitor: Visitor, reserved: int, made: int) -> None:
        """A picture answer admitted with `reserved` pictures has ended, having made `made`."""
        if self.pictures_per_hour and made != reserved:
            now = self.clock()
            for name in visitor.names():
                self._pictures.add(name, made - reserved, now)
