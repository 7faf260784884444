"""One structured log line per answer, for the owner: what was asked of whom, how it went, what it
cost. Never the question, the answer, a key, an IP address or a session; the question and answer
only when the owner turns LOG_CONTENT on.

The line is JSON on the `causerie.answers` logger:
{"event": "answer", "id": "…", "provider": "xai", "model": "…", "status": "ok", "ttft_s": 0.41,
 "total_s": 3.2, "prompt_tokens": 120, "completion_tokens": 300, "cost_usd": 0.0004, "key": "server"}
`status` is "ok", "stopped" (the person stopped it or left), or the failure's kind.
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass, field

import orjson

from ..events import Failure, Finish, Usage

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

    def ended(self, event: Failure | Finish) -> None:
        self.status = event.kind if type(event) is Failure else "ok"

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
