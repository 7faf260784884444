"""The streaming contract: one model's answer is an async iterator of these events.

The chat UI, the API and the benchmark all consume the same events, so every provider quirk is
resolved before an event is made (see client.py and wire.py). Failures and statuses carry a kind
and its parameters, not sentences: `wording.py` words them, in one place.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .i18n.wording import DEFAULT_LANGUAGE, words


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
    cost_source: str | None = None
    """Where cost_usd comes from: "provider" (what the account was charged, as the provider
    reported it) or "price_table" (tokens times the listed price, models.yaml or discovery)."""
    tool_calls: int | None = None
    """Server-side tool calls (searches) the provider ran for this answer; their price is in a
    billed cost (xAI's ticks) when the provider reports one."""


@dataclass(frozen=True, slots=True)
class Status:
    """Something the person should see while waiting (a retry, a queue, silence); not part of
    the answer. `kind` names it (retrying, queued, starting_local, waiting); `params` fill it in."""

    kind: str
    params: Mapping[str, Any] = field(default_factory=dict)

    @property
    def message(self) -> str:
        return self.said_in(DEFAULT_LANGUAGE)

    def said_in(self, language: str) -> str:
        return words("status", self.kind, self.params, language)


@dataclass(frozen=True, slots=True)
class Notice:
    """Something the person should know about this answer once it is written (the oldest turns
    were left out, say); shown under it. `kind` names it, `params` fill it in."""

    kind: str
    params: Mapping[str, Any] = field(default_factory=dict)

    @property
    def message(self) -> str:
        return self.said_in(DEFAULT_LANGUAGE)

    def said_in(self, language: str) -> str:
        return words("notice", self.kind, self.params, language)


@dataclass(frozen=True, slots=True)
class Citation:
    """A source the answer used (a provider's search tool: a `url_citation`); `title` may be empty."""

    url: str
    title: str = ""


@dataclass(frozen=True, slots=True)
class Picture:
    """A picture the answer made, already kept in this app's own file store: its path on this
    server (never the provider's address, which expires), its type and size in bytes, and the
    prompt the provider says it drew from (`revised_prompt`; may be empty)."""

    path: str
    mime_type: str
    size: int
    revised_prompt: str = ""


@dataclass(frozen=True, slots=True)
class FunctionCall:
    """One call the model asked for: the provider's id for it, the function's name as offered,
    and its arguments as the model wrote them (JSON text, unchecked)."""

    call_id: str
    name: str
    arguments: str


@dataclass(frozen=True, slots=True)
class ToolCalls:
    """The model ended its turn asking for these calls (Chat Completions `tool_calls`, Responses
    `function_call` items). The wire yields it before `Finish("tool_calls")`; the tool rounds
    (answering/tool_rounds.py) run them and ask again. The page never sees it."""

    calls: tuple[FunctionCall, ...]


@dataclass(frozen=True, slots=True)
class ToolStep:
    """One tool call as the person sees it, yielded again each time it changes: asked for,
    `waiting` for their approval, `running`, then `done`, `failed` or `denied`.

    `id` is this app's own for the step (unguessable: the page approves by it, and the model never
    sees it); `call_id` and `function` are the model's, kept to replay the call next turn.
    `arguments` and `result` are text from the model and the tool: shown inert, never logged.
    `remote`: run by the provider on its side (xAI's code execution, its remote MCP), shown only."""

    id: str
    server: str
    tool: str
    arguments: str
    state: str
    result: str = ""
    duration_s: float | None = None
    call_id: str = ""
    function: str = ""
    round: int = 0
    remote: bool = False


@dataclass(frozen=True, slots=True)
class Finish:
    """The stream ended normally; `reason` is the provider's finish_reason ("stop", "length",
    "tool_calls", ...)."""

    reason: str


@dataclass(frozen=True, slots=True)
class Failure:
    """The answer failed. `kind` is a short stable name for code and tests (auth, credits,
    not_found, rate_limited, server, connect, timeout, bad_request, invalid_value, bad_argument,
    stream_error, invalid_stream, not_compatible, cut_off, empty, not_ready, no_model, local,
    internal, and the server's own refusals: login_required, too_long, limited, endpoint_refused,
    redirected); `params` hold what the words need (provider, model, HTTP status, the provider's own
    text with keys removed, ...). `message` is the English wording; `wording.words` words it in
    another language. Never holds a key."""

    kind: str
    params: Mapping[str, Any] = field(default_factory=dict)
    status: int | None = None

    @property
    def message(self) -> str:
        return self.said_in(DEFAULT_LANGUAGE)

    def said_in(self, language: str) -> str:
        return words("failure", self.kind, self.params, language)


Event = (
    Start | TextDelta | ReasoningDelta | Usage | Status | Notice | Citation | Picture | ToolCalls | ToolStep | Finish | Failure
)
