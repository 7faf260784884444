"""MCP tools as the functions a model is offered, and back.

A function's name must match `^[a-zA-Z0-9_-]{1,64}$` (OpenAI's rule, which the others follow), and
two servers may have tools of the same name: a tool is offered as `<server>__<tool>`, made to fit,
and the name the model calls is looked up in the table of this answer's offer, never parsed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..config.tool_settings import ToolServer

_NOT_NAME = re.compile(r"[^A-Za-z0-9_-]")
DESCRIPTION_CHARS = 1024
"""A tool's description, as offered: at most this long (a server's text goes to the model)."""


@dataclass(frozen=True)
class Tool:
    """One tool of one server, as it listed it."""

    server: str
    name: str
    description: str = ""
    schema: Mapping[str, Any] = field(default_factory=lambda: {"type": "object", "properties": {}})

    @property
    def key(self) -> str:
        """How settings and the API name it: "server:tool"."""
        return f"{self.server}:{self.name}"


@dataclass(frozen=True)
class Toolbox:
    """The tools offered for one answer, with the servers they come from."""

    tools: tuple[Tool, ...] = ()
    servers: Mapping[str, ToolServer] = field(default_factory=dict)
    by_function: Mapping[str, Tool] = field(default_factory=dict)

    @classmethod
    def of(cls, tools: Iterable[Tool], servers: Iterable[ToolServer]) -> Toolbox:
        tools = tuple(tools)
        names: dict[str, Tool] = {}
        for tool in tools:
            base = _NOT_NAME.sub("_", f"{tool.server}__{tool.name}")[:64]
            name, n = base, 1
            while name in names:
                n += 1
                name = f"{base[: 64 - len(str(n)) - 1]}_{n}"
            names[name] = tool
        return cls(tools, {s.label: s for s in servers}, names)

    def __bool__(self) -> bool:
        return bool(self.tools)

    def functions(self) -> tuple[dict[str, Any], ...]:
        """The functions to offer: name, description, parameters (Chat Completions puts them under
        `function`, the Responses API beside `type`: endpoints do that)."""
        return tuple(
            {
                "name": name,
                "description": (tool.description or f"{tool.name} (from {tool.server})")[:DESCRIPTION_CHARS],
                "parameters": _parameters(tool.schema),
            }
            for name, tool in self.by_function.items()
        )


def _parameters(schema: Mapping[str, Any]) -> dict[str, Any]:
    """A tool's input schema as function parameters: an object schema (what every provider takes)."""
    schema = dict(schema) if isinstance(schema, Mapping) else {}
    if schema.get("type") != "object":
        return {"type": "object", "properties": {}}
    schema.setdefault("properties", {})
    return schema
