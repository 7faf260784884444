"""The tools' descriptions and input schemas, written for a model to read, and the check of a
call's arguments against them (each refused by its name)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import mcp.types as types

from ..answering.access import takes_visitor_key
from ..answering.options import InvalidOptions
from ..answering.service import ChatService
from ..compare.compare import MAX_SIDES, MIN_SIDES
from ..endpoints.providers import PROVIDERS
from ..events import Failure

SEARCHES = {"web": ("web_search",), "x": ("x_search",), "both": ("web_search", "x_search")}
"""`search`'s sources, and the provider tools each needs."""

_CHOICES = {
    "system_prompt": {
        "type": "string",
        "description": "Instructions for the model (a system prompt). Default: the server's general assistant prompt.",
    },
    "provider": {
        "type": "string",
        "description": "Which provider answers, by id (see this tool's description for the ones here). "
        "Default: the server's default provider.",
    },
    "model": {
        "type": "string",
        "description": "A model id at that provider, e.g. grok-4.3. Default: the provider's suggested model.",
    },
    "max_tokens": {"type": "integer", "minimum": 1, "description": "The longest answer, in tokens. Default: the model's own."},
}


def tool_list(service: ChatService) -> list[types.Tool]:
    """The tools, described for a model to read: what each does, and what it returns."""
    settings = service.settings
    if settings.public.public and not settings.mcp.owner_pays:  # callers bring their own key
        own = ", ".join(p.id for p in PROVIDERS if takes_visitor_key(p))
        here = f"Providers that answer here with your own key (the X-Provider-Key header): {own}."
    else:
        here = "Providers ready on this server: " + (", ".join(p.id for p in settings.ready_providers()) or "none") + "."
    searching = ", ".join(p.id for p in PROVIDERS if p.responses_tools)
    return [
        _tool(
            "ask",
            "Ask a model",
            "Ask a large language model one question and get its whole answer, with the model that "
            f"wrote it, the tokens it used and its cost. {here}",
            {
                "message": {"type": "string", "description": "The question or request, as a person would write it."},
                **_CHOICES,
            },
            ["message"],
        ),
        _tool(
            "search",
            "Search the web and X, with sources",
            "Have a model search the web and/or X (Twitter) and answer from what it found, with the "
            f"sources it used as numbered links. Providers that search: {searching}.",
            {
                "query": {"type": "string", "description": "What to find out, as a question or a request."},
                "sources": {
                    "type": "string",
                    "enum": list(SEARCHES),
                    "default": "web",
                    "description": "Where to search: the web, X, or both.",
                },
                "x_handles": _handles("For X: only posts by these accounts (without the @)."),
                "excluded_x_handles": _handles("For X: never posts by these accounts."),
                "from_date": {"type": "string", "description": "Only sources from this day on (YYYY-MM-DD)."},
                "to_date": {"type": "string", "description": "Only sources up to this day (YYYY-MM-DD)."},
                **{name: _CHOICES[name] for name in ("provider", "model")},
            },
            ["query"],
        ),
        _tool(
            "compare",
            "Compare models",
            f"Ask {MIN_SIDES} to {MAX_SIDES} models the same question at once and get each one's answer, "
            "time and cost, to compare them. Uses the server's keys only.",
            {
                "question": {"type": "string", "description": "The question every model answers."},
                "models": {
                    "type": "array",
                    "items": {"type": "string"},
                    "minItems": MIN_SIDES,
                    "maxItems": MAX_SIDES,
                    "description": 'The models, each as "provider:model", e.g. "xai:grok-4.3".',
                },
                "system_prompt": _CHOICES["system_prompt"],
            },
            ["question", "models"],
        ),
    ]


def _tool(name: str, title: str, description: str, properties: dict[str, Any], required: list[str]) -> types.Tool:
    """A tool that only reads (it asks a model), takes these arguments and no others."""
    return types.Tool(
        name=name,
        title=title,
        description=description,
        inputSchema={"type": "object", "properties": properties, "required": required, "additionalProperties": False},
        annotations=types.ToolAnnotations(readOnlyHint=True, openWorldHint=True),
    )


def _handles(description: str) -> dict[str, Any]:
    return {"type": "array", "items": {"type": "string"}, "maxItems": 10, "description": description}


_TYPES = {"string": str, "integer": int, "array": list}


class _Unshown:
    """A value named by its type only, in a refusal."""

    def __init__(self, value: Any) -> None:
        self.kind = type(value).__name__

    def __repr__(self) -> str:
        return f"a {self.kind}"


def checked(schema: Mapping[str, Any], arguments: Mapping[str, Any]) -> None:
    """The arguments against the tool's schema (names, types, counts), each refused by name as the
    API refuses them (the SDK's own check words none: "[...] is too short")."""
    properties = schema["properties"]

    def wrong(name: str, expected: str, value: Any) -> InvalidOptions:
        return InvalidOptions(Failure("bad_argument", {"argument": name, "expected": expected, "got": repr(value)[:80]}))

    for name in schema.get("required", ()):
        if arguments.get(name) is None:
            raise wrong(name, "given", None)
    for name, value in arguments.items():
        spec = properties.get(name)
        if spec is None:  # (its value is not shown: it may be a key put in the wrong place)
            raise wrong(name, "one of " + ", ".join(properties) + " (no other argument is taken)", _Unshown(value))
        if value is None:
            continue
        kind = _TYPES[spec["type"]]
        if not isinstance(value, kind) or isinstance(value, bool):
            raise wrong(name, f"a{'n' if spec['type'][0] in 'ai' else ''} {spec['type']}", value)
        if "enum" in spec and value not in spec["enum"]:
            raise wrong(name, "one of " + ", ".join(spec["enum"]), value)
        if kind is int and value < spec.get("minimum", value):
            raise wrong(name, f"at least {spec['minimum']}", value)
        if kind is list and (
            not spec.get("minItems", 0) <= len(value) <= spec.get("maxItems", len(value))
            or not all(isinstance(item, str) for item in value)
        ):
            counted = f"{spec.get('minItems', 0)} to {spec.get('maxItems', 'any number of')}"
            raise wrong(name, f"a list of {counted} strings", value)
