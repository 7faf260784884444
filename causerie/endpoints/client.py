"""The wire client: a chat request in, a stream of events out.

This module alone speaks HTTP to providers, with aiohttp, and reads the stream's bytes itself
(`wire.SSEDecoder`, then orjson per chunk). Not the openai SDK: it builds a pydantic object per
streamed chunk. Not httpx with httpx-sse: at 100 concurrent streams they cost 2.4 times as much
CPU per token as this client, parsing included (`python bench/wire.py`), and the app's CPU is
what delays the next person's first token. Raw responses also let us read every provider's error
body as it is.

`_stream` is the retry loop; `_attempt` is one try, which ends in an opened stream or in a
`Verdict` (errors.py): the failure, and whether to try again or drop an unsupported parameter.
An opened stream is read by `reading.read_events`.
"""

from __future__ import annotations

import asyncio
import random
import re
import ssl
from collections.abc import AsyncIterator, Callable
from contextlib import aclosing
from dataclasses import dataclass
from typing import Any

import aiohttp
import certifi
import orjson

from ..events import Event, Failure, Status
from . import reading
from .egress import RefusedAddress, guarded_socket, refusal
from .errors import Verdict, classify_http_error, provider_message, redact, retry_after_seconds
from .providers import Endpoint
from .proxies import proxy_options
from .reading import ChatRequest, Timeouts

__all__ = ["ChatClient", "ChatRequest", "RetryPolicy", "tls_context"]

# When a model rejects a parameter, what to send instead (None: just drop it). The token bound is
# never dropped while the other name may be taken: it is what caps the owner's bill.
_REPLACEMENTS = {"max_tokens": "max_completion_tokens", "max_completion_tokens": "max_tokens"}
_TOKEN_FIELDS = ("max_tokens", "max_completion_tokens")
# Models whose rejected parameters are remembered, at most (per endpoint and model).
_REMEMBERED_MODELS = 1024


@dataclass
class RetryPolicy:
    max_retries: int = 3
    backoff_s: float = 0.5
    max_wait_s: float = 30.0
    """A Retry-After longer than this is not waited for: the person is told instead."""


@dataclass(frozen=True)
class _Opened:
    response: aiohttp.ClientResponse


def tls_context() -> ssl.SSLContext:
    """The system's trusted certificates (a company's own CA, SSL_CERT_FILE) and certifi's bundle
    (which is all a python.org Python on macOS has until its certificates are installed)."""
    context = ssl.create_default_context()
    context.load_verify_locations(certifi.where())
    return context


class ChatClient:
    """Holds the connection pool and what was learnt about models; no per-user state."""

    def __init__(
        self,
        *,
        connect_timeout: float = 10.0,
        read_timeout: float = 600.0,
        idle_timeout: float = 120.0,
        retry: RetryPolicy | None = None,
        known_models: Any = None,
        allowed_networks: tuple = (),
        gather_s: Callable[[], float] = lambda: 0.0,
    ) -> None:
        self.timeout = Timeouts(connect=connect_timeout, read=read_timeout, idle=idle_timeout)
        self.retry = retry or RetryPolicy()
        self.known_models = known_models  # callable(endpoint) -> list[str] | None, for 404 hints
        self._unsupported: dict[tuple[str, str], dict[str, str | None]] = {}
        self._tls = tls_context()
        self._http: aiohttp.ClientSession | None = None
        self._http_loop: asyncio.AbstractEventLoop | None = None
        self._guarded: aiohttp.ClientSession | None = None
        self._allowed_networks = allowed_networks
        self._gates: dict[str, asyncio.Semaphore] = {}
        self._waiting: dict[str, int] = {}
        self.gather_s = gather_s
        """Seconds a started stream's bytes may gather between reads (reading.read_events)."""

    # -- plumbing -------------------------------------------------------------------------

    def http(self, *, public_only: bool = False) -> aiohttp.ClientSession:
        """The shared pool, made in the running loop (connections cannot cross loops); with
        `public_only`, the pool for visitors' own endpoints in public mode, whose every connection
        is to a public address (egress.guarded_socket).

        No cookie jar: a cookie one provider sets for one person's request must never ride along
        with someone else's. Proxies are chosen per request by `proxies.proxy_options`."""
        loop = asyncio.get_running_loop()
        if self._http is None or self._http_loop is not loop:
            for old in (self._http, self._guarded):
                if old is not None and not old.closed:
                    old.detach()  # made in another loop: let it go without touching its sockets
            self._http, self._guarded = self._session(), None
            self._http_loop = loop
            self._gates.clear()
        if public_only:
            if self._guarded is None:
                self._guarded = self._session(socket_factory=guarded_socket(self._allowed_networks))
            return self._guarded
        return self._http

    def _session(self, **connector: Any) -> aiohttp.ClientSession:
        return aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=0, ttl_dns_cache=300, ssl=self._tls, **connector),
            timeout=aiohttp.ClientTimeout(
                total=None, sock_connect=self.timeout.connect, sock_read=max(self.timeout.read, self.timeout.idle)
            ),  # a backstop: both are timed in reading.py
            cookie_jar=aiohttp.DummyCookieJar(),
        )

    async def aclose(self) -> None:
        for session in (self._http, self._guarded):
            if session is not None:
                await session.close()
        self._http = self._guarded = None

    def _remember_unsupported(self, request: ChatRequest, param: str, message: str) -> None:
        """A model that does not take `param` at this endpoint: later requests leave it out (or
        send its replacement, when the provider names one)."""
        replacement = _REPLACEMENTS.get(param)
        if replacement and replacement not in message and param != "max_completion_tokens":
            replacement = None
        key = (request.endpoint.base_url, request.model)
        if key not in self._unsupported and len(self._unsupported) >= _REMEMBERED_MODELS:
            del self._unsupported[next(iter(self._unsupported))]
        self._unsupported.setdefault(key, {})[param] = replacement

    def build_body(self, request: ChatRequest) -> dict[str, Any]:
        provider = request.endpoint.provider
        body: dict[str, Any] = {"model": request.model, "messages": request.messages, "stream": True}
        if provider.usage_in_stream:
            body["stream_options"] = {"include_usage": True}
        for name, value in request.params.items():
            if value is not None and value != "":
                body[provider.max_tokens_field if name == "max_tokens" else name] = value
        if request.functions:
            body["tools"] = [{"type": "function", "function": dict(f)} for f in request.functions]
            if request.tool_choice:
                body["tool_choice"] = request.tool_choice
        for name, replacement in self._unsupported.get((request.endpoint.base_url, request.model), {}).items():
            if name in body:
                value = body.pop(name)
                if replacement:
                    body[replacement] = value
        return body

    # -- the stream -----------------------------------------------------------------------

    async def stream(self, request: ChatRequest) -> AsyncIterator[Event]:
        """Stream one answer as events. Never raises for a provider failure: yields Failure.
        A provider with `max_concurrent` answers that many at once; the others wait their turn."""
        gate = self._gate(request.endpoint)
        if gate is not None:
            gate_key = request.endpoint.base_url
            if gate.locked():
                ahead = self._waiting.get(gate_key, 0) + 1
                yield Status("queued", {"provider": request.endpoint.provider.label, "ahead": ahead})
            self._waiting[gate_key] = self._waiting.get(gate_key, 0) + 1
            try:
                await gate.acquire()
            finally:
                self._waiting[gate_key] -= 1
        try:
            # aclosing: the request ends now, not when the collector gets to it, when the reader
            # stops early (Stop, a page that went away), and before the gate opens for the next.
            async with aclosing(self._stream(request)) as events:
                async for event in events:
                    yield event
        finally:
            if gate is not None:
                gate.release()

    def _gate(self, endpoint: Endpoint) -> asyncio.Semaphore | None:
        limit = endpoint.provider.max_concurrent
        if limit is None:
            return None
        self.http()  # gates live in the running loop
        return self._gates.setdefault(endpoint.base_url, asyncio.Semaphore(limit))

    async def _stream(self, request: ChatRequest) -> AsyncIterator[Event]:
        """The retry loop around `_attempt`: retries happen only before the answer starts."""
        label = request.endpoint.provider.label
        started = asyncio.get_running_loop().time()
        retries = 0
        dropped = lowered = False
        body = self.build_body(request)
        while True:
            outcome: _Opened | Verdict | None = None
            async with aclosing(self._attempt(request, body, started)) as attempt:
                async for item in attempt:
                    if type(item) is Status:
                        yield item
                    else:
                        outcome = item
            if type(outcome) is _Opened:
                try:
                    async with aclosing(
                        reading.read_events(request, outcome.response, started, self.timeout, self.gather_s)
                    ) as events:
                        async for event in events:
                            yield event
                finally:
                    outcome.response.release()  # closes the connection if the stream was not read to its end
                return
            if outcome.unsupported and not dropped:
                dropped = True  # once: a second rejected parameter is reported, not looped on
                self._remember_unsupported(request, outcome.unsupported, outcome.failure.params["detail"])
                body = self.build_body(request)
                continue
            if not lowered and (most := _largest_allowed(outcome, body)) is not None:
                lowered = True  # once: "at most 4096 tokens" answered by asking for 4096
                body = {**body, outcome.failure.params["param"]: most}
                continue
            if outcome.retryable and retries < self.retry.max_retries:
                wait = self._backoff(retries, outcome.retry_after)
                if wait is not None:
                    retries += 1
                    kind = "reconnecting" if outcome.failure.kind == "connect" else "retrying"
                    yield Status(
                        kind,
                        {
                            "provider": label,
                            "status": outcome.failure.status,
                            "seconds": wait,
                            "attempt": retries,
                            "max_retries": self.retry.max_retries,
                        },
                    )
                    await asyncio.sleep(wait)
                    continue
            yield outcome.failure
            return

    async def _attempt(
        self, request: ChatRequest, body: dict[str, Any], started: float
    ) -> AsyncIterator[Status | _Opened | Verdict]:
        """One try: "waiting" statuses while the provider has not answered, then an opened stream
        or the verdict on why there is none."""
        endpoint = request.endpoint
        headers = endpoint.headers()
        headers["Accept"] = "text/event-stream"
        headers["Content-Type"] = "application/json"
        if request.conversation_id and (name := endpoint.provider.conversation_header):
            headers[name] = request.conversation_id  # the provider's prompt cache, per conversation
        loop = asyncio.get_running_loop()
        # Redirects are never followed: the key goes to the address it was set for, and nowhere else.
        post = asyncio.ensure_future(
            self.http(public_only=endpoint.public_only).post(
                endpoint.chat_url,
                data=orjson.dumps(body),
                headers=headers,
                allow_redirects=False,
                **({} if endpoint.public_only else proxy_options(endpoint.chat_url)),
            )
        )
        handed_over = False
        try:
            while not post.done():
                done, _ = await asyncio.wait((post,), timeout=reading.TICK_S)
                if not done:
                    if loop.time() - started >= self.timeout.read:
                        yield Verdict(reading.read_timeout(self.timeout, endpoint.provider.label, started=False))
                        return
                    yield reading.waiting_status(endpoint.provider.label, loop.time() - started, answering=False)
            response = post.result()
            if 300 <= response.status < 400:
                location = response.headers.get("location", "?")
                response.release()
                yield Verdict(
                    Failure(
                        "redirected",
                        {
                            "provider": endpoint.provider.label,
                            "base_url": endpoint.base_url,
                            "status": response.status,
                            "location": redact(location[:200], endpoint.api_key),
                        },
                        response.status,
                    )
                )
                return
            if response.status < 400:
                handed_over = True
                yield _Opened(response)
                return
            raw = await response.read()
            response.release()
            known = self.known_models(endpoint) if (self.known_models and response.status == 404) else None
            yield classify_http_error(
                endpoint,
                request.model,
                response.status,
                redact(provider_message(raw), endpoint.api_key),
                sent=body,
                known_models=known,
                retry_after=response.headers.get("retry-after"),
            )
        except aiohttp.ClientSSLError as exc:  # not retried: it would fail the same way
            why = "cert" if isinstance(exc, aiohttp.ClientConnectorCertificateError) else "tls"
            yield Verdict(self._connect_failure(endpoint, why))
        except (aiohttp.ClientOSError, aiohttp.ConnectionTimeoutError, aiohttp.ServerDisconnectedError) as exc:
            if isinstance(exc, aiohttp.ClientConnectorError) and "refused by Causerie" in str(exc.os_error):
                # A visitor's endpoint whose address changed to a private one since it was checked.
                refused = exc.os_error if isinstance(exc.os_error, RefusedAddress) else None
                yield Verdict(
                    refusal(
                        endpoint.base_url,
                        refused.address if refused else exc.host,
                        refused.why if refused else "not a public internet address",
                    )
                )
                return
            # ServerDisconnectedError, or a reset (ClientOSError) before any answer: most often a
            # kept-alive connection the server had just closed; nothing was answered, so trying
            # again is safe. (ClientConnectorError, a connection not made, is a ClientOSError too.)
            why = (
                "timeout"
                if isinstance(exc, aiohttp.ConnectionTimeoutError)
                else "disconnected"
                if isinstance(exc, aiohttp.ServerDisconnectedError) or not isinstance(exc, aiohttp.ClientConnectorError)
                else "dns"
                if isinstance(exc, aiohttp.ClientConnectorDNSError)
                else "refused"
            )
            yield Verdict(self._connect_failure(endpoint, why), retryable=True)
        except TimeoutError:  # aiohttp's socket read timeout is one
            yield Verdict(reading.read_timeout(self.timeout, endpoint.provider.label, started=False))
        except aiohttp.ClientError as exc:
            yield Verdict(self._connect_failure(endpoint, "other", error=type(exc).__name__))
        finally:
            if not post.done():
                post.cancel()
            elif not handed_over and not post.cancelled() and post.exception() is None:
                post.result().release()

    def _backoff(self, attempt: int, retry_after: str | None) -> float | None:
        """Seconds before the next try, jittered so that many people turned away by one 429 do not
        all come back in the same instant; None when the provider asks for a longer wait than
        max_wait_s (the person is told instead)."""
        asked = retry_after_seconds(retry_after)
        if asked is not None:
            if asked > self.retry.max_wait_s:
                return None
            return asked + random.uniform(0, min(1.0, 0.1 + 0.2 * asked))
        base = self.retry.backoff_s * (2**attempt)
        return random.uniform(0.5 * base, 1.5 * base)

    def _connect_failure(self, endpoint: Endpoint, why: str, **extra: Any) -> Failure:
        p = endpoint.provider
        return Failure(
            "connect",
            {
                "provider": p.label,
                "base_url": endpoint.base_url,
                "why": why,
                "seconds": self.timeout.connect,
                "base_url_env": p.base_url_env,
                **extra,
            },
        )


def _largest_allowed(outcome: Verdict, body: dict[str, Any]) -> int | None:
    """The most tokens a model takes, when it refused the token bound we sent as too large and said
    its own ("max_tokens must be less than or equal to 4096"): asking for that instead keeps the
    answer bounded (MAX_TOKENS_CAP is sent on every answer the owner pays for)."""
    failure = outcome.failure
    param = failure.params.get("param")
    if failure.kind != "invalid_value" or param not in _TOKEN_FIELDS or not isinstance(body.get(param), int):
        return None
    numbers = [int(n) for n in re.findall(r"(?<![\w.])(\d{2,9})(?![\w.])", str(failure.params.get("detail") or ""))]
    allowed = [n for n in numbers if 0 < n < body[param]]
    return max(allowed) if allowed else None
