"""The streaming contract: one model's answer is an async iterator of these events.

The chat UI, the API, compare mode and the benchmark all consume the same events, so every
provider quirk is resolved before an event is made (see client.py and wire.py).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Start:
    """The request is going out: which provider and model will write this answer."""

    provider_id: str
    provider_label: str
    model: str


@dataclass(frozen=True, slots=True)
class TextDelta:
    """A piece of the answer."""

    text: str


@dataclass(frozen=True, slots=True)
class ReasoningDelta:
    """A piece of the model's thinking.

    `retroactive` is set when a lone closing `</think>` showed that the text delivered so far as
    answer was in fact thinking: the consumer moves its answer text into the reasoning first.
    """

    text: str
    retroactive: bool = False


@dataclass(frozen=True, slots=True)
class Usage:
    """Token counts, from the provider, or estimated when it sent none (`estimated=True`)."""

    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    reasoning_tokens: int | None = None
    cached_tokens: int | None = None
    estimated: bool = False
    cost_usd: float | None = None
    """What the answer cost, when the provider says so or a price is known (service.py)."""


@dataclass(frozen=True, slots=True)
class Status:
    """Something the person should see while waiting (a retry, a queue); not part of the answer."""

    message: str


@dataclass(frozen=True, slots=True)
class Finish:
    """The stream ended normally; `reason` is the provider's finish_reason."""

    reason: str


@dataclass(frozen=True, slots=True)
class Failure:
    """The stream failed. `message` says what happened and what to do; never holds a key.

    `kind` is a short stable name (auth, not_found, rate_limited, credits, server, connect,
    timeout, bad_request, stream_error, invalid_stream, cut_off, empty) for code and tests.
    """

    kind: str
    message: str
    status: int | None = None


Event = Start | TextDelta | ReasoningDelta | Usage | Status | Finish | Failure
