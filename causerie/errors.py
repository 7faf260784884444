"""What went wrong, in words a person can act on.

Every failure becomes a Failure event with its own message: which provider, what happened, and
what to do (the variable to set, a model to pick, when to try again). Provider error text is
quoted only after any key-shaped string in it has been removed.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from .events import Failure
from .providers import Endpoint

# Key-shaped tokens, including the partially masked keys some providers echo back ("sk-ab***yz").
_KEY_PATTERN = re.compile(
    r"(?:xai-|sk-|gsk_|hf_|sk_|AIza|Bearer\s+)[A-Za-z0-9_\-\*\.]{4,}|[A-Za-z0-9_\-]{2,}\*{3,}[A-Za-z0-9_\-]*"
)
_CREDITS_WORDS = ("credit", "spending limit", "quota", "billing", "insufficient", "balance", "exhausted")
_PARAMETERS = (
    "reasoning_effort", "max_completion_tokens", "max_tokens", "temperature", "top_p",
    "stream_options", "presence_penalty", "frequency_penalty", "stop", "user",
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


def unsupported_parameter(status: int, message: str, sent: dict) -> str | None:
    """The parameter a 400/422 rejects, if the message names one that we sent."""
    if status not in (400, 422):
        return None
    lowered = message.lower().replace("reasoningeffort", "reasoning_effort")
    lowered = lowered.replace("maxtokens", "max_tokens").replace("topp", "top_p")
    for name in _PARAMETERS:
        if name in sent and re.search(rf"(?<![a-z_]){re.escape(name)}(?![a-z_])", lowered):
            return name
    return None


def is_credits_exhausted(message: str) -> bool:
    lowered = message.lower()
    return any(word in lowered for word in _CREDITS_WORDS)


@dataclass(frozen=True)
class HttpVerdict:
    failure: Failure
    retryable: bool


def classify_http_error(
    endpoint: Endpoint, model: str, status: int, body: bytes, *, known_models: list[str] | None = None
) -> HttpVerdict:
    p = endpoint.provider
    detail = redact(provider_message(body), endpoint.api_key)
    quoted = f' The provider said: "{detail}"' if detail else ""
    key_hint = (
        f"set a valid key in {p.key_env} in .env or the Space's secrets" if p.key_env
        else "check the server's API key settings"
    )
    lowered = detail.lower()

    if status in (401, 403) or (status == 400 and ("api key" in lowered or "api-key" in lowered)):
        if status == 403 and is_credits_exhausted(detail):
            return HttpVerdict(Failure("credits", f"{p.label} refused the request: the account has no credits left.{quoted} Add credits in the provider's console.", status), False)
        return HttpVerdict(Failure("auth", f"{p.label} rejected the API key (HTTP {status}): {key_hint}.{quoted}", status), False)
    if status == 402:
        return HttpVerdict(Failure("credits", f"{p.label} says the account is out of credits (HTTP 402).{quoted} Add credits in the provider's console.", status), False)
    if status == 404:
        suggestion = ""
        if known_models:
            shown = ", ".join(known_models[:8])
            suggestion = f" Models it lists: {shown}{'…' if len(known_models) > 8 else ''}."
        return HttpVerdict(Failure("not_found", f"{p.label} does not know the model {model!r} (HTTP 404). Pick another model.{suggestion}", status), False)
    if status == 429:
        if is_credits_exhausted(detail):
            return HttpVerdict(Failure("credits", f"{p.label} refused the request: the credits or spending limit are exhausted (HTTP 429).{quoted} Raise the limit or add credits in the provider's console.", status), False)
        return HttpVerdict(Failure("rate_limited", f"{p.label} is rate limiting these requests (HTTP 429). Wait a minute and try again, or pick another provider.", status), True)
    if status in (500, 502, 503, 504, 529) or status >= 500:
        return HttpVerdict(Failure("server", f"{p.label} had a server error (HTTP {status}). Try again in a moment.{quoted}", status), status in (502, 503, 504, 529))
    if status == 413:
        return HttpVerdict(Failure("bad_request", f"The conversation is too large for {p.label} (HTTP 413). Clear the chat or shorten the message.", status), False)
    return HttpVerdict(Failure("bad_request", f"{p.label} rejected the request (HTTP {status}).{quoted}", status), False)


def retry_after_seconds(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None
