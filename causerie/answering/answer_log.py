"""One structured log line per answer, for the owner: what was asked of whom, how it went, what it
cost. Never the question, the answer, a key, an IP address or a session; the question and answer
only when the owner turns LOG_CONTENT on.

The line is JSON on the `causerie.answers` logger:
{"event": "answer", "id": "…", "provider": "xai", "model": "…", "status": "ok", "ttft_s": 0.41,
 "total_s": 3.2, "prompt_tokens": 120, "completion_tokens": 300, "cost_usd": 0.0004, "key": "server"}
`status` is "ok", "stopped" (the person stopped it or left), or the failure's kind.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

import orjson

from ..events import Failure, Finish, Usage
from .answer import counted
from .limits import Visitor

log = logging.getLogger("causerie.answers")


@dataclass
class AnswerRecord:
    provider: str | None = None
    model: str | None = None
    key_from: str | None = None
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:16])
    started: float = field(default_factory=time.perf_counter)
    first_token: float | None = None
    usage: Usage | None = None
    status: str = "stopped"
    trimmed: int = 0
    question: str | None = None
    answer: list[str] | None = None
    """Only with LOG_CONTENT: the answer's pieces, joined when logged."""
    at: float = field(default_factory=time.time)
    visitor: str = ""
    """Who asked, as a stable hash (never a name or an address): for the cockpit's spend by visitor."""
    owner_pays: bool = False
    why: str | None = None
    """A refusal's cause (a budget, a rate...), for the cockpit."""
    tools: dict[str, str] = field(default_factory=dict)
    """The server-side tools the answer ran, their kind by item."""
    pictures: int = 0

    def ended(self, event: Failure | Finish) -> None:
        self.status = event.kind if type(event) is Failure else "ok"
        if type(event) is Failure and isinstance(why := event.params.get("why"), str):
            self.why = why[:40]

    def row(self) -> dict:
        """The record as the cockpit keeps it (history/store/usage_store.py): no question, no
        answer, no key, no name, no address."""
        usage = self.usage
        counts = counted(self.tools)
        return {
            "at": self.at,
            "provider": (self.provider or "")[:64],
            "model": (self.model or "")[:256],
            "key": self.key_from or "",
            "owner_pays": self.owner_pays,
            "visitor": self.visitor,
            "status": self.status[:40],
            "why": self.why,
            "ttft_s": None if self.first_token is None else round(self.first_token - self.started, 4),
            "total_s": round(time.perf_counter() - self.started, 4),
            "prompt_tokens": _count(usage.prompt_tokens) if usage else None,
            "completion_tokens": _count(usage.completion_tokens) if usage else None,
            "cached_tokens": _count(usage.cached_tokens) if usage else None,
            "cost_usd": usage.cost_usd if usage and usage.cost_usd is not None and math.isfinite(usage.cost_usd) else None,
            "cost_source": usage.cost_source if usage else None,
            "tools": " ".join(f"{kind}:{count}" for kind, count in counts.items()),
            "pictures": self.pictures,
        }

    def line(self) -> str:
        usage = self.usage
        fields = {
            "event": "answer",
            "id": self.id,
            "provider": self.provider,
            "model": self.model,
            "status": self.status,
            "ttft_s": None if self.first_token is None else round(self.first_token - self.started, 3),
            "total_s": round(time.perf_counter() - self.started, 3),
            "prompt_tokens": usage.prompt_tokens if usage else None,
            "completion_tokens": usage.completion_tokens if usage else None,
            "cost_usd": usage.cost_usd if usage else None,
            "key": self.key_from,
        }
        if self.trimmed:
            fields["trimmed_messages"] = self.trimmed
        if self.question is not None:
            fields["question"] = self.question
            fields["answer"] = "".join(self.answer or ())
        return orjson.dumps(fields).decode()

    def write(self) -> None:
        log.info("%s", self.line())


MOST_COUNTED = 2**31 - 1
"""A count as a database's integer column holds it (a visitor's own server may report any number)."""


def _count(value: int | None) -> int | None:
    return None if value is None else max(0, min(value, MOST_COUNTED))


class AnswerRecords:
    """Where every answer's record goes: the log line, and `sink` (the cockpit's table, given by
    the app: history/store/usage_store.py) when there is one."""

    def __init__(self, secret: str) -> None:
        self._key = hashlib.sha256(f"causerie:visitors:{secret}".encode()).digest()
        self.sink: Callable[[dict], None] | None = None

    def visitor_hash(self, visitor: Visitor) -> str:
        """A stable pseudonym for who asked: a signed-in person, else their address (as the limits
        count it), else their page session; never the name or address itself."""
        names = visitor.names()
        return hmac.new(self._key, names[-1].encode(), hashlib.sha256).hexdigest()[:12] if names else ""

    def write(self, record: AnswerRecord) -> None:
        record.write()
        if self.sink is not None:
            try:
                self.sink(record.row())
            except Exception:  # (the cockpit's table: an answer never fails for it)
                log.exception("An answer's record could not be kept for the cockpit")
