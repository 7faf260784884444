"""What a provider's HTTP error means: a Failure with its kind and parameters (wording.py words it).

Provider error text is kept (as `detail`) only after any key-shaped string in it has been removed.
A 400/422 that names a parameter we sent is read two ways: the model does not take that parameter
at all (remembered for that endpoint and model, and the request retried without it), or the value
is wrong (an error for the person who sent it; nothing remembered).
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

from ..events import Failure
from .providers import Endpoint

# Key-shaped tokens, including the partially masked keys some providers echo back ("sk-ab***yz").
_KEY_PATTERN = re.compile(
    r"(?:xai-|sk-|gsk_|hf_|sk_|AIza|Bearer\s+)[A-Za-z0-9_\-\*\.]{4,}|[A-Za-z0-9_\-]{2,}\*{3,}[A-Za-z0-9_\-]*"
)
_CREDITS_WORDS = ("credit", "spending limit", "quota", "billing", "insufficient", "balance", "exhausted")
_PARAMETERS = (
    "reasoning_effort",
    "max_completion_tokens",
    "max_tokens",
    "temperature",
    "top_p",
    "stream_options",
    "presence_penalty",
    "frequency_penalty",
    "stop",
    "user",
)
# How providers say a model does not take a parameter at all (OpenAI, xAI, Groq, Mistral's
# extra_forbidden, Gemini's "Unknown name"), as opposed to a value out of range.
_UNSUPPORTED_WORDS = (
    "unsupported",
    "not supported",
    "does not support",
    "doesn't support",
    "unknown",
    "unrecognized",
    "unrecognised",
    "extra_forbidden",
    "extra inputs",
    "not permitted",
    "not allowed",
    "is not available",
)
# ... and how they say the value is wrong: these win ("Unsupported value: 'reasoning_effort' does not
# support 'minimal'" is about the value, not the parameter).
_VALUE_WORDS = (
    "unsupported value",
    "invalid value",
    "supported values",
    "must be",
    "between",
    "range",
    "expected",
    "greater than",
    "less than",
    "maximum",
    "minimum",
    "invalid_value",
    "unsupported_value",
    "too large",
    "too small",
    "at most",
    "at least",
)


def redact(text: str, key: str | None = None) -> str:
    """Remove the key (if known) and anything shaped like a key from provider text."""
    if key:
        text = text.replace(key, "[redacted]")
    return _KEY_PATTERN.sub("[redacted]", text)


def provider_message(body: bytes | str) -> str:
    """The human part of an error body: OpenAI's nested error, xAI's flat one, Gemini's list."""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    try:
        data = json.loads(text)
    except ValueError:
        return text.strip()[:300]
    if isinstance(data, list) and data:
        data = data[0]
    if isinstance(data, dict):
        err = data.get("error", data)
        if isinstance(err, dict):
            message = err.get("message") or err.get("error") or err.get("detail") or err.get("msg")
            if message:
                return str(message)[:500]
            if isinstance(err.get("detail"), list):  # FastAPI/Mistral validation errors
                return json.dumps(err["detail"])[:500]
        elif isinstance(err, str):
            return err[:500]
        if "detail" in data:
            return json.dumps(data["detail"])[:500] if not isinstance(data["detail"], str) else data["detail"]
    return text.strip()[:300]


@dataclass(frozen=True)
class Rejection:
    """A 400/422 about one parameter we sent: `unsupported` (drop it for this model) or a bad value."""

    param: str
    unsupported: bool


def rejected_parameter(status: int, message: str, sent: dict) -> Rejection | None:
    """The parameter a 400/422 is about, if the message names one that we sent."""
    if status not in (400, 422):
        return None
    lowered = message.lower().replace("reasoningeffort", "reasoning_effort")
    lowered = lowered.replace("maxtokens", "max_tokens").replace("topp", "top_p")
    for name in _PARAMETERS:
        if name in sent and re.search(rf"(?<![a-z_]){re.escape(name)}(?![a-z_])", lowered):
            about_value = any(word in lowered for word in _VALUE_WORDS)
            return Rejection(name, not about_value and any(word in lowered for word in _UNSUPPORTED_WORDS))
    return None


def is_credits_exhausted(message: str) -> bool:
    lowered = message.lower()
    return any(word in lowered for word in _CREDITS_WORDS)


@dataclass(frozen=True)
class Verdict:
    """How a try ended without a stream: the failure to report, and whether trying again may help."""

    failure: Failure
    retryable: bool = False
    retry_after: str | None = None
    """The provider's Retry-After, when it sent one."""
    unsupported: str | None = None
    """A parameter the model does not take: send the request again without it (once; if another
    comes back, `failure` is reported)."""


def classify_http_error(
    endpoint: Endpoint,
    model: str,
    status: int,
    detail: str,
    *,
    sent: dict,
    known_models: list[str] | None = None,
    retry_after: str | None = None,
) -> Verdict:
    """`detail` is the provider's own message, keys already removed (`redact(provider_message(body))`)."""
    p = endpoint.provider
    params = {"provider": p.label, "status": status, "detail": detail}
    lowered = detail.lower()
    rejection = rejected_parameter(status, detail, sent)

    def failure(kind: str, retryable: bool = False, **extra) -> Verdict:
        return Verdict(Failure(kind, {**params, **extra}, status), retryable, retry_after if retryable else None)

    if rejection is not None and rejection.unsupported:
        return Verdict(Failure("bad_request", params, status), unsupported=rejection.param)
    if status in (401, 403) or (status == 400 and ("api key" in lowered or "api-key" in lowered)):
        if status == 403 and is_credits_exhausted(detail):
            return failure("credits")
        # Whose key it was says what to do: wording.py words the hint for `key_from`.
        return failure("auth", key_from=endpoint.key_from, key_env=p.key_env)
    if status == 402:
        return failure("credits")
    if status == 404:
        return failure("not_found", model=model, models=list(known_models or ()), detail=None)
    if status == 429:
        if is_credits_exhausted(detail):
            return failure("credits")
        return failure("rate_limited", True)
    if status >= 500:
        return failure("server", status in (502, 503, 504, 529))
    if status == 413:
        return failure("bad_request", why="too_large")
    if rejection is not None:
        return failure("invalid_value", why="provider", param=rejection.param)
    return failure("bad_request")


def retry_after_seconds(value: str | None, *, now: float | None = None) -> float | None:
    """Retry-After as seconds ("30") or as an HTTP date ("Wed, 21 Oct 2026 07:28:00 GMT")."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))
