"""An MCP client for the tools models call: their lists (cached), and one answer's calls.

Through the official `mcp` SDK's Streamable HTTP client. The SDK holds each session in anyio task
groups, which must be left in the task that entered them; an answer is read by more than one task
(answering/answer.py reads in its own once it has started), so each session lives in a task of
its own here, and calls reach it from any task.

Who gets what: an owner's server (MCP_SERVERS) gets its own headers (MCP_TOKEN_<LABEL>,
MCP_HEADERS_<LABEL>) and nothing else; a visitor's server gets no header at all, and in public mode
every connection to it goes through the egress guard (endpoints/egress.GuardedTransport). No
provider key is ever sent to any of them.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client

from ..config.tool_settings import ToolServer, ToolSettings
from ..endpoints.egress import GuardedTransport, Network, RefusedAddress
from ..events import Failure
from ..lru_cache import LRUCache
from .functions import Tool

log = logging.getLogger(__name__)

MOST_TOOLS = 64
"""Tools taken from one server (each one's schema goes to the model with every question)."""
TOOL_NAME = re.compile(r"^[A-Za-z0-9_.\-/]{1,128}$")
"""The names of tools listed: others are left out (their name goes into settings, the API and Markdown)."""
MOST_SCHEMA_CHARS = 16_000
"""A tool's input schema, as JSON: a larger one is left out (it goes to the model with every question)."""
RESULT_CHARS = 20_000
"""A tool's result, as sent back to the model and shown: at most this long."""
LIST_KEEP_S = 300.0
FAILED_LIST_KEEP_S = 20.0
CLOSE_S = 3.0
PING_S = 2.0
"""While a call runs, its server is pinged this often: a server that died is known in seconds."""


@dataclass(frozen=True)
class ToolResult:
    text: str
    ok: bool = True


def _http(server: ToolServer, guarded: bool, allowed: Iterable[Network]) -> httpx.AsyncClient:
    """The HTTP client for one server: its own headers only (a visitor's: none), redirects left to
    the SDK (same origin only), no proxy from the environment for a guarded one."""
    return httpx.AsyncClient(
        headers=dict(server.headers) if server.owners else {},
        timeout=httpx.Timeout(30.0, read=300.0),
        transport=GuardedTransport(allowed) if guarded else None,
        follow_redirects=False,
        trust_env=not guarded,
    )


def failure_detail(exc: BaseException) -> str:
    """What went wrong, in a line: an exception group's first cause, its type when it says nothing."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    if isinstance(exc, RefusedAddress):
        return str(exc)
    if isinstance(exc, httpx.HTTPStatusError):
        return f"HTTP {exc.response.status_code}"
    if isinstance(exc, (httpx.ConnectError, ConnectionError)):
        return "could not connect"
    text = " ".join(str(exc).split())[:200]
    return text or type(exc).__name__


def result_text(result: Any) -> ToolResult:
    """An MCP CallToolResult as text for the model: its text parts, its structured content when it
    has no text, and a word for each part of another kind."""
    parts: list[str] = []
    for block in getattr(result, "content", None) or ():
        kind = getattr(block, "type", "")
        if kind == "text":
            parts.append(block.text)
        elif kind == "resource" and isinstance(getattr(block.resource, "text", None), str):
            parts.append(block.resource.text)
        else:
            parts.append(f"[{kind or 'content'} not shown]")
    structured = getattr(result, "structuredContent", None)
    if not parts and structured is not None:
        parts.append(json.dumps(structured, ensure_ascii=False))
    text = "\n".join(parts)
    if len(text) > RESULT_CHARS:
        text = text[:RESULT_CHARS] + f"\n[… cut at {RESULT_CHARS} characters]"
    return ToolResult(text, ok=not getattr(result, "isError", False))


def _list_size(kept: tuple[float, list[Tool] | Failure]) -> int:
    listed = kept[1]
    if not isinstance(listed, list):
        return 500
    return sum(200 + len(t.description) + len(json.dumps(t.schema)) for t in listed)


class McpClient:
    """The MCP servers' tool lists, cached, and the sessions of answers' calls."""

    def __init__(self, settings: ToolSettings, *, public: bool, allowed_networks: Iterable[Network] = ()) -> None:
        self.settings = settings
        self.public = public
        self.allowed = tuple(allowed_networks)
        self._lists: LRUCache[tuple[float, list[Tool] | Failure]] = LRUCache(4_000_000, _list_size)

    def http(self, server: ToolServer) -> httpx.AsyncClient:
        return _http(server, self.public and not server.owners, self.allowed)

    def _key(self, server: ToolServer, who: str) -> tuple[str, str, str]:
        return (server.label, server.url, "" if server.owners else who)

    def cached(self, server: ToolServer, who: str = "") -> bool:
        kept = self._lists.get(self._key(server, who))
        return kept is not None and time.monotonic() < kept[0]

    async def tools(self, server: ToolServer, who: str = "") -> list[Tool] | Failure:
        """The server's tools, from the cache when listed lately; `who`: whose list it is (a
        visitor's server is listed for them alone)."""
        key = self._key(server, who)
        kept = self._lists.get(key)
        if kept is not None and time.monotonic() < kept[0]:
            return kept[1]
        try:
            listed: list[Tool] | Failure = await asyncio.wait_for(self._list(server), self.settings.list_timeout_s)
        except TimeoutError:
            listed = Failure("tool_server", {"why": "slow", "server": server.label, "seconds": self.settings.list_timeout_s})
        except Exception as exc:  # (what a server or the network does is reported, never raised)
            listed = Failure("tool_server", {"why": "unreachable", "server": server.label, "detail": failure_detail(exc)})
        keep = FAILED_LIST_KEEP_S if type(listed) is Failure else LIST_KEEP_S
        self._lists.put(key, (time.monotonic() + keep, listed))
        return listed

    async def _list(self, server: ToolServer) -> list[Tool]:
        tools: list[Tool] = []
        async with (
            self.http(server) as http,
            streamable_http_client(server.url, http_client=http) as (read, write, _),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            cursor = None
            for _ in range(5):  # (pages)
                listed = await session.list_tools(cursor)
                for tool in listed.tools:
                    schema = tool.inputSchema if isinstance(tool.inputSchema, Mapping) else {}
                    if not TOOL_NAME.match(tool.name) or len(json.dumps(schema)) > MOST_SCHEMA_CHARS:
                        log.info("tool server %s: a tool left out (its name or its schema)", server.label)
                        continue  # (called by its own name, which goes into settings and Markdown)
                    tools.append(Tool(server.label, tool.name, (tool.description or "")[:1024], schema))
                cursor = listed.nextCursor
                if not cursor or len(tools) >= MOST_TOOLS:
                    break
        return tools[:MOST_TOOLS]

    def calls(self) -> McpCalls:
        """The sessions of one answer's calls (close them when it ends)."""
        return McpCalls(self)


class _Session:
    """One server's session for one answer, held open in a task of its own."""

    def __init__(self, client: McpClient, server: ToolServer) -> None:
        self.client, self.server = client, server
        self.session: ClientSession | None = None
        self._ready: asyncio.Future = asyncio.get_running_loop().create_future()
        self._closing = asyncio.Event()
        self.task = asyncio.create_task(self._hold())

    async def _hold(self) -> None:
        try:
            async with (
                self.client.http(self.server) as http,
                streamable_http_client(self.server.url, http_client=http) as (read, write, _),
                ClientSession(read, write) as session,
            ):
                await session.initialize()
                self.session = session
                self._ready.set_result(session)
                await self._closing.wait()
        except Exception as exc:
            if not self._ready.done():
                self._ready.set_exception(exc)
            else:
                log.info("tool server %s: session ended: %s", self.server.label, failure_detail(exc))

    async def call(self, tool: str, arguments: Mapping[str, Any], timeout_s: float) -> ToolResult:
        started = time.monotonic()
        try:
            session = await asyncio.wait_for(asyncio.shield(self._ready), timeout_s)
        except TimeoutError:
            return ToolResult(f"The server {self.server.label} did not answer within {timeout_s:g} s.", ok=False)
        except Exception as exc:
            return ToolResult(f"The server {self.server.label} could not be reached: {failure_detail(exc)}.", ok=False)
        calling = asyncio.ensure_future(session.call_tool(tool, dict(arguments)))
        deadline = started + timeout_s
        pings: list[asyncio.Future] = []
        try:
            while True:
                left = deadline - time.monotonic()
                done, _ = await asyncio.wait(
                    {calling, self.task}, timeout=max(0.0, min(left, PING_S)), return_when=asyncio.FIRST_COMPLETED
                )
                if done or left <= PING_S:
                    break
                # The SDK waits for ever on a response stream that broke without an answer (a server
                # that died mid-call); a ping to a dead server fails, and ends the session's task.
                pings.append(asyncio.ensure_future(session.send_ping()))
        except BaseException:
            calling.cancel()
            raise
        finally:
            for ping in pings:
                ping.cancel()
        if calling not in done:
            calling.cancel()
            with contextlib.suppress(BaseException):
                await calling
            if self.task in done:
                return ToolResult(f"The server {self.server.label} closed the connection during the call.", ok=False)
            return ToolResult(f"The tool {tool} did not answer within {timeout_s:g} s.", ok=False)
        try:
            return result_text(calling.result())
        except Exception as exc:
            return ToolResult(f"The tool {tool} failed: {failure_detail(exc)}.", ok=False)

    async def close(self) -> None:
        self._closing.set()
        try:
            await asyncio.wait_for(asyncio.shield(self.task), CLOSE_S)
        except BaseException:
            self.task.cancel()
            with contextlib.suppress(BaseException):
                await self.task


class McpCalls:
    """One answer's calls: a session per server, opened at its first call, all closed at the end
    (also on Stop: the server sees its session end)."""

    def __init__(self, client: McpClient) -> None:
        self.client = client
        self._sessions: dict[str, _Session] = {}
        self._closed = False

    async def call(self, server: ToolServer, tool: str, arguments: Mapping[str, Any]) -> ToolResult:
        if self._closed:  # (the answer ended: nothing more is opened or run)
            return ToolResult("The answer was stopped before this call.", ok=False)
        session = self._sessions.get(server.label)
        if session is None:
            session = self._sessions[server.label] = _Session(self.client, server)
        return await session.call(tool, arguments, self.client.settings.call_timeout_s)

    async def aclose(self) -> None:
        self._closed = True
        sessions, self._sessions = list(self._sessions.values()), {}
        await asyncio.gather(*(s.close() for s in sessions), return_exceptions=True)
