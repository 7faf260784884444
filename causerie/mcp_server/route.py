"""The MCP server's place in the app: an ASGI middleware that hands `/gradio_api/mcp` to the `mcp`
SDK's Streamable HTTP session manager, and everything else to Gradio.

Not Gradio's own MCP server (`launch(mcp_server=True)`): that one lists every public event of the
page as a tool, and a client's cancel never reaches the running call (its sessions are stateless,
and the call waits on a queue job it never cancels). Ours lists the chosen tools only, and runs
stateful sessions, where the SDK cancels a call the client cancels.

The session manager's `run()` (a task group) is entered on the first MCP request, in a task of the
server's loop, and left when the server stops: on the lifespan's shutdown, or as soon as Gradio's
`stop_event` is set (`demo.close()`; uvicorn waits for open streams to end before it sends the
shutdown, and a client's stream ends only once the manager stops).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import hmac
import logging
import time
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar
from urllib.parse import urlsplit

import anyio
from mcp.server.lowlevel import Server
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..answering.limits import client_ip

PATH = "/gradio_api/mcp"
"""Where MCP clients connect (Gradio's MCP address): `http://host/gradio_api/mcp/`."""
HTTP_ENDED = "causerie.mcp.http_ended"
"""The scope's key for an event set once the HTTP exchange that carries a call has ended."""
SIGNED_IN = "causerie.mcp.user"
"""The scope's key for the name a caller signed in with (AUTH_USERS), when there are names."""

SESSION_IDLE_S = 600.0
"""An MCP session unused this long is closed (a client opens a new one)."""
MAX_SESSIONS = 1000
"""The most MCP sessions held at once (each holds a little memory and a task); past it, new ones are
refused with a 503 until idle ones close. The question and token limits count each caller apart."""

NEW_SESSIONS_PER_MINUTE = 30
"""New MCP sessions one address may open in a minute (a client opens one and keeps it): one address
cannot fill MAX_SESSIONS for everyone."""
MAX_ADDRESSES = 10_000
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})

T = TypeVar("T")
log = logging.getLogger(__name__)


class McpRoute:
    """Sends MCP requests to the session manager; the rest to the app. With `users` (AUTH_USERS),
    a request without one of their names and passwords (HTTP Basic) gets a 401, as the page asks
    them to sign in."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        server: Server,
        users: Mapping[str, str] | None = None,
        hosts: frozenset[str] | None = None,
        proxy_hops: int = 0,
    ) -> None:
        self.app = app
        self.server = server
        self.users = dict(users or {})
        self.hosts = hosts
        """The host names requests may be addressed to (None: any). On your own machine, where the
        server's keys answer, a web page that points a name of its own at 127.0.0.1 (DNS
        rebinding) must not reach the tools: its requests carry its name."""
        self.openings = SessionOpenings(NEW_SESSIONS_PER_MINUTE)
        self.proxy_hops = proxy_hops
        self._manager: StreamableHTTPSessionManager | None = None
        self._runner: asyncio.Task | None = None
        self._ready: asyncio.Event | None = None
        self._stop: asyncio.Event | None = None
        self._stop_event: Any = None
        self._told = False

    def _is_mcp(self, scope: Scope) -> bool:
        path: str = scope.get("path", "")
        root = scope.get("root_path") or ""
        if root and path.startswith(root):
            path = path[len(root) :]
        return path == PATH or path.startswith(PATH + "/")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.app(scope, self._watch_shutdown(receive), send)
            return
        if scope["type"] != "http" or not self._is_mcp(scope):
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        user = self._signed_in(request)
        refusal = self._refusal(request, user)
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        self._stop_event = getattr(scope.get("app"), "stop_event", None)
        manager = await self._started()
        ended = asyncio.Event()
        try:
            await manager.handle_request({**scope, HTTP_ENDED: ended, SIGNED_IN: user}, receive, send)
        finally:
            ended.set()

    def _refusal(self, request: Request, user: str | None) -> JSONResponse | None:
        """Why this request (from `user`, who signed in, if anyone did) is refused before the SDK
        sees it, if it is."""
        if self.hosts is not None:
            origin = urlsplit(request.headers.get("origin") or "").hostname
            host = urlsplit("//" + (request.headers.get("host") or "")).hostname
            for name, where in ((host, "Host"), (origin, "Origin")):
                if (name is not None or where == "Host") and (name or "").lower() not in self.hosts:
                    return JSONResponse(
                        {
                            "error": f"This MCP server answers requests addressed to this machine only ({where}: {name}). "
                            "To reach it under another name, add that name to MCP_ALLOWED_HOSTS."
                        },
                        status_code=403,
                    )
        if self.users and user is None:
            return JSONResponse(
                {"error": "Sign in: this server's MCP tools take an AUTH_USERS name and password (HTTP Basic)."},
                status_code=401,
                headers={"WWW-Authenticate": 'Basic realm="Causerie MCP", charset="UTF-8"'},
            )
        if self.hosts is None and request.method == "POST" and "mcp-session-id" not in request.headers:
            # A new session on a public server (on your own machine, only you reach it).
            address = client_ip(request, self.proxy_hops) or "?"
            if not self.openings.admit(address):
                return JSONResponse(
                    {"error": f"Too many new MCP sessions from this address: at most {NEW_SESSIONS_PER_MINUTE} a minute."},
                    status_code=429,
                    headers={"Retry-After": "60"},
                )
        return None

    def _signed_in(self, request: Request) -> str | None:
        scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
        if not self.users or scheme.lower() != "basic":
            return None
        try:
            name, _, password = base64.b64decode(encoded.strip(), validate=True).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        kept = self.users.get(name)
        return name if kept is not None and hmac.compare_digest(kept.encode(), password.encode()) else None

    def _watch_shutdown(self, receive: Receive) -> Receive:
        async def watched() -> Message:
            message = await receive()
            if message["type"] == "lifespan.shutdown":
                await self.aclose()
            return message

        return watched

    async def _started(self) -> StreamableHTTPSessionManager:
        if self._ready is None:  # (no await before this: two first requests start one manager)
            self._ready, self._stop = asyncio.Event(), asyncio.Event()
            self._manager = StreamableHTTPSessionManager(
                app=self.server,
                stateless=False,
                json_response=False,
                session_idle_timeout=SESSION_IDLE_S,
                max_sessions=MAX_SESSIONS,
            )
            self._runner = asyncio.get_running_loop().create_task(self._run(), name="causerie-mcp-sessions")
        await self._ready.wait()
        if self._manager is None or self._runner is None or self._runner.done():
            if self._runner is not None and not self._runner.cancelled() and self._runner.exception() and not self._told:
                self._told = True
                log.error("The MCP session manager stopped", exc_info=self._runner.exception())
            raise RuntimeError("the MCP session manager has stopped")
        return self._manager

    async def _run(self) -> None:
        assert self._manager is not None and self._ready is not None and self._stop is not None
        try:
            async with self._manager.run():
                self._ready.set()
                while not self._stop.is_set() and not (self._stop_event is not None and self._stop_event.is_set()):
                    with contextlib.suppress(asyncio.TimeoutError):
                        await asyncio.wait_for(self._stop.wait(), 0.25)
        finally:
            self._ready.set()

    async def aclose(self) -> None:
        if self._runner is not None and self._stop is not None:
            self._stop.set()
            with contextlib.suppress(asyncio.CancelledError):
                await self._runner


class SessionOpenings:
    """A rate limiter of new sessions by address: at most `per_minute` in any sliding minute. Keeps
    at most MAX_ADDRESSES addresses (the longest quiet go first)."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute, self.clock = per_minute, clock
        self._seen: OrderedDict[str, deque[float]] = OrderedDict()

    def admit(self, address: str) -> bool:
        now = self.clock()
        times = self._seen.pop(address, None) or deque()
        while times and now - times[0] >= 60:
            times.popleft()
        admitted = len(times) < self.per_minute
        if admitted:
            times.append(now)
        self._seen[address] = times
        while len(self._seen) > MAX_ADDRESSES:
            self._seen.popitem(last=False)
        return admitted


async def unless_disconnected(request: Request | None, work: Callable[[], Awaitable[T]]) -> tuple[bool, T | None]:
    """`work()`, cancelled if the HTTP exchange carrying the call ends first (a client that drops
    its connection; the SDK cancels a call on the client's cancel notice, not on this). Returns
    whether it finished, and its result."""
    ended: asyncio.Event | None = request.scope.get(HTTP_ENDED) if request is not None else None
    if ended is None:
        return True, await work()
    result: T | None = None
    failed: Exception | None = None
    with anyio.CancelScope() as scope:
        async with anyio.create_task_group() as group:

            async def watch() -> None:
                await ended.wait()
                scope.cancel()

            group.start_soon(watch)
            try:
                result = await work()
            except Exception as exc:  # raised as itself, not inside the task group's ExceptionGroup
                failed = exc
            group.cancel_scope.cancel()
    if failed is not None:
        raise failed
    return not scope.cancelled_caught, result
