"""What one answer is asked with: one immutable object, built once at the edge (the page or the
API) and passed down unchanged.

Building it checks every value, so a wrong one is refused with a message that names it before any
provider is called: `InvalidOptions` carries a Failure (kind `bad_argument` for a value of the
wrong type, `invalid_value` for one out of range). Adding a setting is adding a field here.
"""

from __future__ import annotations

import datetime
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from ..endpoints.pictures import ASPECT_RATIOS, MAX_PICTURES
from ..events import Failure
from .messages import text_of_parts

TEMPERATURE_RANGE = (0.0, 2.0)
TOP_P_RANGE = (0.0, 1.0)
MAX_TOKENS_LIMIT = 10_000_000  # more than any model writes in one answer; beyond it is a mistake
ROLES = ("user", "assistant", "system")
# Lengths beyond which a value is a mistake or an attack, not a setting (a 100 KB model id was sent
# upstream and echoed whole).
MAX_NAME_CHARS = 256  # a provider or model id
MAX_KEY_CHARS = 1024  # an API key (JWT-shaped tokens run to about a thousand)
MAX_URL_CHARS = 2048
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class InvalidOptions(ValueError):
    def __init__(self, failure: Failure) -> None:
        super().__init__(failure.message)
        self.failure = failure


@dataclass(frozen=True)
class GenerationParams:
    """Optional generation parameters; None means the model's own default (nothing is sent)."""

    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = None
    reasoning_effort: str | None = None

    def to_body(self) -> dict[str, Any]:
        """The set parameters, as the request body names them."""
        return {
            name: value
            for name, value in (
                ("temperature", self.temperature),
                ("top_p", self.top_p),
                ("max_tokens", self.max_tokens),
                ("reasoning_effort", self.reasoning_effort),
            )
            if value is not None
        }


@dataclass(frozen=True)
class ChatOptions:
    """Who answers and how: provider and model (None: the app's default), the system prompt and
    the generation parameters."""

    provider_id: str | None = None
    model: str | None = None
    system_prompt: str | None = None
    params: GenerationParams = field(default_factory=GenerationParams)
    api_key: str | None = field(default=None, repr=False)
    """The person's own key for this provider: used for this answer only, never kept or shown."""
    base_url: str | None = None
    """The person's own endpoint for this provider's wire (allowed or not by the server's settings)."""
    tools: tuple[str, ...] = ()
    """The provider's own server-side tools to let the model use (TOOLS): they go through its
    Responses API."""
    search: SearchOptions = field(default_factory=lambda: SearchOptions())
    conversation_id: str | None = None
    """Sent to providers that cache prompts by conversation (xAI), so a long chat's repeated
    beginning costs less."""
    asked_through: str = "page"
    """"page", "api" or "mcp" (an MCP client): what to do about a missing key is said in its terms."""
    owner_keys: bool = True
    """Whether the server's keys may answer. False for an MCP caller on a public server unless the
    owner allows it (MCP_OWNER_PAYS): they bring their own key."""
    store_nothing: bool = False
    """A temporary chat's: the provider is asked to keep no copy (where it takes `store`; the
    Responses API is always asked), as Causerie keeps none."""
    pictures: PictureOptions = field(default_factory=lambda: PictureOptions())
    """How many pictures a picture question makes, and their shape (answering/pictures.py)."""
    mcp_tools: tuple[str, ...] = ()
    """MCP servers' tools offered to the model: "server:tool", "server:*", or "*" for all of them
    (answering/tool_rounds.py)."""
    auto_approve: frozenset[str] = frozenset()
    """"server:tool" calls approved in advance by the caller (the API: it cannot click)."""
    mcp_server_url: str | None = None
    """A visitor's own MCP server for their session (where ALLOW_CUSTOM_ENDPOINTS allows it)."""
    approve_by: str | None = None
    """The page's run owner, who approves each call by clicking; None: no one can (the API)."""


@dataclass(frozen=True)
class PictureOptions:
    count: int = 1
    aspect_ratio: str | None = None
    """One of ASPECT_RATIOS; None: the model's own choice."""


def picture_options(count: Any = None, aspect_ratio: Any = None, *, count_name: str = "n") -> PictureOptions:
    """The number of pictures (1 to MAX_PICTURES) and an aspect ratio ("16:9"; empty or "auto":
    the model's own)."""
    number = _number(count_name, count, 1, MAX_PICTURES, whole=True)
    ratio = checked_id("aspect_ratio", aspect_ratio, 16)
    ratio = ratio.strip() if ratio and ratio.strip() not in ("", "auto") else None
    if ratio is not None and ratio not in ASPECT_RATIOS:
        raise _wrong("aspect_ratio", f"one of {', '.join(ASPECT_RATIOS)} or auto", ratio)
    return PictureOptions(int(number or 1), ratio)


TOOLS = ("web_search", "x_search", "code_execution")


@dataclass(frozen=True)
class SearchOptions:
    """What the search tools look at: X handles to include or leave out, and a date range
    (YYYY-MM-DD), all optional."""

    x_handles: tuple[str, ...] = ()
    excluded_x_handles: tuple[str, ...] = ()
    from_date: str | None = None
    to_date: str | None = None


def checked_tools(value: Any) -> tuple[str, ...]:
    """A list of tool names, each one of TOOLS."""
    if value is None or value == "":
        return ()
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise _wrong("tools", f"a list of tool names ({', '.join(TOOLS)})", value)
    for name in value:
        if name not in TOOLS:
            raise InvalidOptions(Failure("tool", {"why": "unknown", "tool": name, "known": ", ".join(TOOLS)}))
    return tuple(dict.fromkeys(value))


MCP_TOOL = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,31}:(?:\*|[A-Za-z0-9_.\-/]{1,128})$")
"""A tool as settings and the API name it: "server:tool" (the label of config/tool_settings.py)."""


def mcp_tool_list(name: str, value: Any, *, everything: bool) -> tuple[str, ...]:
    """ "server:tool" names, as a list (or a comma-separated string); `everything`: "all" is taken."""
    if value is None or value == "" or value == []:
        return ()
    if everything and value in ("all", "*", ["all"], ["*"]):
        return ("*",)
    items = [v.strip() for v in value.split(",")] if isinstance(value, str) else value
    if not isinstance(items, (list, tuple)) or not all(isinstance(v, str) for v in items) or len(items) > 200:
        raise _wrong(name, ('"all" or ' if everything else "") + 'a list of "server:tool" names', value)
    for item in items:
        if not MCP_TOOL.match(item.strip()):
            raise _wrong(name, 'names as "server:tool" (or "server:*")', item[:80])
    return tuple(dict.fromkeys(item.strip() for item in items))


def search_options(x_handles: Any = "", excluded_x_handles: Any = "", from_date: Any = "", to_date: Any = "") -> SearchOptions:
    """Handles as a text of names separated by commas or spaces (an @ is dropped), dates as YYYY-MM-DD."""

    def handles(name: str, raw: Any) -> tuple[str, ...]:
        if raw is None or raw == "":
            return ()
        if isinstance(raw, (list, tuple)):
            raw = " ".join(str(v) for v in raw)
        if not isinstance(raw, str):
            raise _wrong(name, "X handles separated by commas", raw)
        found = tuple(h.lstrip("@") for h in re.split(r"[\s,]+", raw) if h.strip("@"))
        for handle in found:
            if not re.fullmatch(r"[A-Za-z0-9_]{1,15}", handle):
                raise _wrong(name, "X handles (letters, digits and _, at most 15)", handle)
        if len(found) > 10:
            raise _wrong(name, "at most 10 X handles", f"{len(found)} handles")
        return found

    def day(name: str, raw: Any) -> str | None:
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            return None
        try:
            return datetime.date.fromisoformat(str(raw).strip()).isoformat()
        except ValueError:
            raise _wrong(name, "a date as YYYY-MM-DD", raw) from None

    result = SearchOptions(
        handles("x_handles", x_handles),
        handles("excluded_x_handles", excluded_x_handles),
        day("from_date", from_date),
        day("to_date", to_date),
    )
    if result.x_handles and result.excluded_x_handles:  # xAI takes one list or the other
        raise _wrong(
            "excluded_x_handles",
            "empty when x_handles is given (X search takes one list or the other)",
            " ".join(result.excluded_x_handles),
        )
    if result.from_date and result.to_date and result.from_date > result.to_date:
        raise _wrong("from_date", f"on or before to_date ({result.to_date})", result.from_date)
    return result


def choice_refused(param: str, owner: str, allowed: Iterable[str], value: Any) -> Failure:
    """A value that must be one of a list (a model's efforts, a provider's voices...): refused by name."""
    return Failure(
        "invalid_value", {"why": "choice", "param": param, "model": owner, "allowed": ", ".join(allowed), "value": value}
    )


def _wrong(argument: str, expected: str, got: Any) -> InvalidOptions:
    shown = repr(got) if not isinstance(got, (dict, list)) else type(got).__name__
    return InvalidOptions(Failure("bad_argument", {"argument": argument, "expected": expected, "got": shown[:80]}))


def sendable(name: str, value: str) -> str:
    """Text as it is, if it can be sent: a lone UTF-16 surrogate (a broken character some pastes
    carry) cannot be encoded in a request or shown on a page, and is refused by name here, at the
    edge, rather than failing somewhere later."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidOptions(Failure("bad_text", {"argument": name, "position": exc.start + 1})) from None
    return value


def checked_id(name: str, value: Any, limit: int = MAX_NAME_CHARS) -> str | None:
    """A provider or model id: a string of at most `limit` characters, without spaces or control
    characters (it goes into a request, and may be shown)."""
    text = stripped(name, value)
    if text is None:
        return None
    sendable(name, text)
    if len(text) > limit or _CONTROL.search(text) or any(c.isspace() for c in text):
        raise _wrong(
            name,
            f"an id of at most {limit} characters, without spaces or control characters",
            text[:40] + ("…" if len(text) > 40 else ""),
        )
    return text


def api_key_value(value: Any) -> str | None:
    """A key as it goes into an Authorization header: visible ASCII only, bounded. Never echoed."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise _wrong("api_key", "a string or null", "a value of type " + type(value).__name__)
    key = value.strip()
    if not key:
        return None
    if len(key) > MAX_KEY_CHARS or not all("!" <= c <= "~" for c in key):
        raise InvalidOptions(
            Failure(
                "bad_argument",
                {
                    "argument": "api_key",
                    "got": "a key with a space, a line break or another character no key has"
                    if len(key) <= MAX_KEY_CHARS
                    else f"{len(key):,} characters",
                    "expected": f"a key as the provider gave it (visible ASCII characters, at most {MAX_KEY_CHARS})",
                },
            )
        )
    return key


def base_url_value(value: Any) -> str | None:
    """An http(s) address that parses, with a host and a valid port, bounded and without spaces."""
    url = stripped("base_url", value)
    if url is None:
        return None
    sendable("base_url", url)
    expected = f"an http:// or https:// address of at most {MAX_URL_CHARS} characters"
    if len(url) > MAX_URL_CHARS or _CONTROL.search(url) or any(c.isspace() for c in url):
        raise _wrong("base_url", expected, url[:80])
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (a port out of range or not a number raises here)
    except ValueError as exc:
        raise _wrong("base_url", f"{expected} ({exc})", url[:80]) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise _wrong("base_url", expected, url[:80])
    return url


def _unset(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _from_text(value: Any, *, decimal_comma: bool) -> Any:
    """A number typed as text ("0.7", the page's boxes) is that number; other values stay as they
    are. A decimal comma ("0,7", as French keyboards type it) only where a fraction is expected: in
    a count, "1,000" is refused rather than read as 1."""
    if isinstance(value, str):
        text = value.strip().replace(",", ".") if decimal_comma else value.strip()
        try:
            return float(text)
        except ValueError:
            return value
    return value


def _finite(value: Any) -> bool:
    try:
        return math.isfinite(value)
    except OverflowError:  # an integer too large for a float
        return False


def _number(name: str, value: Any, low: float, high: float | None = None, *, whole: bool = False) -> float | int | None:
    """A checked number, None when unset: between `low` and `high` (no upper bound when None),
    and a whole number when `whole`."""
    if _unset(value):
        return None
    value = _from_text(value, decimal_comma=not whole)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not _finite(value) or (whole and value != int(value)):
        expected = (
            f"a whole number from {low:g} to {high:,}"
            if whole and high is not None
            else f"a whole number of at least {low:g}"
            if whole
            else f"a number from {low:g} to {high:g}"
        )
        raise _wrong(name, expected + ", or null for the model's default", value)
    if value < low or (high is not None and value > high):
        why = ("range_whole" if whole else "range") if high is not None else "at_least"
        shown = value if len(str(value)) <= 20 else f"{float(value):.3g}"
        raise InvalidOptions(
            Failure(
                "invalid_value",
                {"why": why, "param": name, "minimum": int(low) if whole else low, "maximum": high, "value": shown},
            )
        )
    return int(value) if whole else float(value)


def optional_text(name: str, value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise _wrong(name, "a string or null", value)
    return sendable(name, value)


def generation_params(
    *, temperature: Any = None, top_p: Any = None, max_tokens: Any = None, reasoning_effort: Any = None
) -> GenerationParams:
    """Checked parameters: temperature 0-2, top_p 0-1, max_tokens at least 1. The reasoning
    effort is checked against the model's known levels once the model is known (service.py)."""
    effort = checked_id("reasoning_effort", reasoning_effort, 64)
    return GenerationParams(
        temperature=_number("temperature", temperature, *TEMPERATURE_RANGE),
        top_p=_number("top_p", top_p, *TOP_P_RANGE),
        max_tokens=_number("max_tokens", max_tokens, 1, MAX_TOKENS_LIMIT, whole=True),
        reasoning_effort=effort.strip() if effort and effort.strip() else None,
    )


def question(value: Any, argument: str = "message") -> str:
    """The person's message (given as `argument`): a string with something in it."""
    if not isinstance(value, str):
        raise _wrong(argument, "a string", value)
    if not value.strip():
        raise _wrong(argument, "a question with some text in it", value)
    return sendable(argument, value)


def plain_history(value: Any) -> list[dict[str, str]]:
    """Earlier turns as the API takes them: a list of {role, content}, content a string or a list
    of OpenAI text parts. System messages in it are dropped: the system prompt has its own argument."""
    if value is None:
        return []
    if not isinstance(value, (list, tuple)):
        raise _wrong("history", "a list of {role, content} messages, or null", value)
    turns: list[dict[str, str]] = []
    for number, message in enumerate(value):
        where = f"history[{number}]"
        if not isinstance(message, Mapping):
            raise _wrong(where, "a {role, content} message", message)
        role, content = message.get("role"), message.get("content")
        if role not in ROLES:
            raise _wrong(f"{where}.role", "'user', 'assistant' or 'system'", role)
        if isinstance(content, (list, tuple)):
            text, only_text = text_of_parts(content)
            content = text if only_text else content
        if not isinstance(content, str):
            raise _wrong(f"{where}.content", "a string or a list of {type: 'text', text} parts", content)
        sendable(f"{where}.content", content)
        if role != "system":
            turns.append({"role": role, "content": content})
    return turns


SPOKEN_LANGUAGES = ("en", "fr", "de", "es", "it", "pt", "nl", "ja", "zh", "ko", "ru", "ar", "hi", "tr", "vi", "id", "bn")


def spoken_language(value: Any) -> str | None:
    """A language as speech APIs take it (ISO 639-1, as "en" or "fr"); None when not given."""
    if value is None or value == "":
        return None
    if not isinstance(value, str) or value.strip().lower() not in SPOKEN_LANGUAGES:
        raise InvalidOptions(
            Failure(
                "bad_argument",
                {"argument": "language", "got": repr(value)[:40], "expected": "one of " + ", ".join(SPOKEN_LANGUAGES)},
            )
        )
    return value.strip().lower()


def stripped(name: str, value: Any) -> str | None:
    """An optional string argument, None when empty."""
    return (optional_text(name, value) or "").strip() or None


def api_options(
    *,
    system_prompt: Any,
    default_system_prompt: str | None,
    provider: Any,
    model: Any,
    temperature: Any,
    top_p: Any,
    max_tokens: Any,
    reasoning_effort: Any,
    api_key: Any = None,
    base_url: Any = None,
    tools: Any = None,
    x_handles: Any = None,
    excluded_x_handles: Any = None,
    from_date: Any = None,
    to_date: Any = None,
    asked_through: str = "api",
    owner_keys: bool = True,
    mcp_tools: Any = None,
    auto_approve: Any = None,
) -> ChatOptions:
    """The API's arguments, checked one by one; the first wrong one is refused by name."""
    prompt = optional_text("system_prompt", system_prompt)
    return ChatOptions(
        provider_id=checked_id("provider", provider, 64),
        model=checked_id("model", model),
        system_prompt=default_system_prompt if prompt is None else prompt,
        params=generation_params(temperature=temperature, top_p=top_p, max_tokens=max_tokens, reasoning_effort=reasoning_effort),
        api_key=api_key_value(api_key),
        base_url=base_url_value(base_url),
        asked_through=asked_through,
        owner_keys=owner_keys,
        tools=checked_tools(tools),
        search=search_options(x_handles, excluded_x_handles, from_date, to_date),
        mcp_tools=mcp_tool_list("mcp_tools", mcp_tools, everything=True),
        auto_approve=frozenset(mcp_tool_list("auto_approve", auto_approve, everything=False)),
    )
