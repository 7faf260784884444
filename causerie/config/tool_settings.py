"""The tools a model may call: the owner's MCP servers, which calls need no approval, how many
rounds an answer may take, and the servers xAI may call on its own side.

    MCP_SERVERS=calc=http://127.0.0.1:8765/mcp, docs=https://mcp.example.com/mcp
    MCP_TOKEN_DOCS=…                 # sent as "Authorization: Bearer …" to docs only
    MCP_HEADERS_DOCS="X-Team: a; X-Region: eu"   # more headers, to docs only
    MCP_AUTO_APPROVE=calc:add, calc:*            # calls that run without asking
    MAX_TOOL_STEPS=8
    XAI_REMOTE_MCP=deepwiki=https://mcp.deepwiki.com/mcp   # xAI calls these itself (no approval)

A server's label names it everywhere (settings, steps, the API's "server:tool"), so it is checked
here once: letters, digits, `_` and `-`. Headers and tokens are the owner's secrets: they go to
their own server only, and never into a message.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from .setting_values import SettingsError, number

LABEL = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,31}$")
VISITOR_LABEL = "mine"
"""The label of a server a visitor adds for their session (never one of the owner's)."""


@dataclass(frozen=True)
class ToolServer:
    """One MCP server: its label, its Streamable HTTP address, and the headers sent to it."""

    label: str
    url: str
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)
    owners: bool = True
    """Listed by the owner (trusted, may be pre-approved); False: a visitor's own, for their session,
    reached through the egress guard in public mode and never pre-approved."""


@dataclass(frozen=True)
class ToolSettings:
    servers: tuple[ToolServer, ...] = ()
    auto_approve: frozenset[str] = frozenset()
    """"server:tool" (or "server:*") calls the owner approves in advance, on their own servers only."""
    max_steps: int = 8
    """Rounds of tool calls one answer may take (MAX_TOOL_STEPS); then the model answers with what it has."""
    call_timeout_s: float = 60.0
    """Longest one tool call may take (MCP_TOOL_TIMEOUT); then its result is a timeout."""
    list_timeout_s: float = 10.0
    """Longest a server may take to list its tools."""
    xai_remote: tuple[ToolServer, ...] = ()
    """Servers xAI calls on its own side (XAI_REMOTE_MCP): the owner's only, with no approval."""

    def server(self, label: str) -> ToolServer | None:
        return next((s for s in self.servers if s.label == label), None)

    def pre_approved(self, server: ToolServer, tool: str) -> bool:
        """Whether the owner approved this call in advance (never on a visitor's server)."""
        return server.owners and bool({f"{server.label}:{tool}", f"{server.label}:*"} & self.auto_approve)


def _headers(env: Mapping[str, str], label: str) -> dict[str, str]:
    suffix = label.upper().replace("-", "_")
    headers: dict[str, str] = {}
    for part in re.split(r"[;\n]", env.get(f"MCP_HEADERS_{suffix}", "")):
        if not part.strip():
            continue
        name, colon, value = part.partition(":")
        if not colon or not re.fullmatch(r"[A-Za-z0-9-]{1,64}", name.strip()) or not value.strip():
            raise SettingsError(
                f"MCP_HEADERS_{suffix} must be 'Name: value' pairs separated by ';' (a header's name is letters, "
                "digits and '-'). Fix it in .env or the Space's secrets."
            )
        headers[name.strip()] = value.strip()
    if token := env.get(f"MCP_TOKEN_{suffix}", "").strip():
        headers["Authorization"] = f"Bearer {token}"
    return headers


def servers_from(env: Mapping[str, str], name: str) -> tuple[ToolServer, ...]:
    """`label=url` pairs separated by commas or spaces, each checked."""
    servers: list[ToolServer] = []
    for entry in re.split(r"[,\s]+", env.get(name, "").strip()):
        if not entry:
            continue
        label, equals, url = entry.partition("=")
        if not equals or not LABEL.match(label):
            raise SettingsError(
                f"{name} must be label=url pairs separated by commas (a label starts with a letter: letters, digits, "
                f"'_' and '-', at most 32), got {entry!r}. Example: {name}=calc=http://127.0.0.1:8765/mcp"
            )
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise SettingsError(f"{name}: the address of {label!r} must start with http:// or https://, got {url!r}.")
        if label == VISITOR_LABEL or any(s.label == label for s in servers):
            raise SettingsError(f"{name}: the label {label!r} is used twice or is reserved; give each server its own.")
        servers.append(ToolServer(label, url, _headers(env, label)))
    return tuple(servers)


def load_tool_settings(env: Mapping[str, str]) -> ToolSettings:
    servers = servers_from(env, "MCP_SERVERS")
    labels = {s.label for s in servers}
    approved = frozenset(a.strip() for a in re.split(r"[,\s]+", env.get("MCP_AUTO_APPROVE", "")) if a.strip())
    for entry in sorted(approved):
        server, colon, tool = entry.partition(":")
        if not colon or not tool or server not in labels:
            raise SettingsError(
                f"MCP_AUTO_APPROVE takes server:tool (or server:*) for servers of MCP_SERVERS ({', '.join(sorted(labels)) or 'none'}), "
                f"got {entry!r}."
            )
    steps = number(env, "MAX_TOOL_STEPS", 8, minimum=1)
    if steps != int(steps) or steps > 50:
        raise SettingsError(f"MAX_TOOL_STEPS must be a whole number from 1 to 50, got {env['MAX_TOOL_STEPS']!r}.")
    remote = servers_from(env, "XAI_REMOTE_MCP")
    suffixes: dict[str, str] = {}
    for server in (*servers, *remote):  # (MCP_TOKEN_DOCS_A would be both docs-a's and docs_a's)
        suffix = server.label.upper().replace("-", "_")
        if suffix in suffixes:
            raise SettingsError(
                f"The MCP servers {suffixes[suffix]!r} and {server.label!r} would read the same MCP_TOKEN_{suffix} and "
                "MCP_HEADERS_" + suffix + ": give one of them another label."
            )
        suffixes[suffix] = server.label
    if clash := labels & {s.label for s in remote}:
        raise SettingsError(
            f"XAI_REMOTE_MCP and MCP_SERVERS both name {', '.join(sorted(clash))}: give each server its own label."
        )
    return ToolSettings(
        servers=servers,
        auto_approve=approved,
        max_steps=int(steps),
        call_timeout_s=number(env, "MCP_TOOL_TIMEOUT", 60.0, minimum=1),
        xai_remote=remote,
    )


def remote_tool(server: ToolServer) -> dict[str, object]:
    """An XAI_REMOTE_MCP server as the Responses API's `mcp` tool: its token as `authorization`,
    its other headers as `headers` (xAI sends them to that server; the token goes to xAI with the
    request, so only on the owner's own endpoint: answering/tool_use.py, ToolUse.remote_tools)."""
    tool: dict[str, object] = {"type": "mcp", "server_url": server.url, "server_label": server.label}
    headers = dict(server.headers)
    if (bearer := headers.pop("Authorization", "")).startswith("Bearer "):
        tool["authorization"] = bearer.removeprefix("Bearer ")
    if headers:
        tool["headers"] = headers
    return tool
