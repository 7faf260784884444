"""An answer as it builds up from events, with its timings: what the UI, API and benchmark show."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from .events import Event, Failure, Finish, ReasoningDelta, Start, Status, TextDelta, Usage


@dataclass
class Answer:
    provider_label: str = ""
    model: str = ""
    text: str = ""
    reasoning: str = ""
    usage: Usage | None = None
    finish_reason: str | None = None
    failure: Failure | None = None
    status: str | None = None
    started_at: float = field(default_factory=time.perf_counter)
    first_token_at: float | None = None
    answer_started_at: float | None = None
    finished_at: float | None = None
    cost_usd: float | None = None

    def apply(self, event: Event) -> None:
        kind = type(event)
        if kind is TextDelta:
            if self.answer_started_at is None:
                self.answer_started_at = time.perf_counter()
                if self.first_token_at is None:
                    self.first_token_at = self.answer_started_at
                self.status = None
            self.text += event.text
        elif kind is ReasoningDelta:
            if self.first_token_at is None:
                self.first_token_at = time.perf_counter()
                self.status = None
            if event.retroactive:
                self.reasoning += self.text
                self.text = ""
                self.answer_started_at = None
            self.reasoning += event.text
        elif kind is Start:
            self.provider_label, self.model = event.provider_label, event.model
        elif kind is Usage:
            self.usage = event
        elif kind is Status:
            self.status = event.message
        elif kind is Finish:
            self.finish_reason = event.reason
            self.status = None
            self.finished_at = time.perf_counter()
        elif kind is Failure:
            self.failure = event
            self.status = None
            self.finished_at = time.perf_counter()

    @property
    def thinking(self) -> bool:
        """Still thinking: reasoning has come, the answer has not, nothing has ended."""
        return bool(self.reasoning) and self.answer_started_at is None and self.finished_at is None

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
        return self.usage.completion_tokens / span if span > 0 else None
