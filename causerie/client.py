"""The wire client: a chat request in, a stream of events out.

This module alone speaks HTTP to providers, with aiohttp, and reads the stream's bytes itself
(`wire.SSEDecoder`, then orjson per chunk). Not the openai SDK: it builds a pydantic object per
streamed chunk. Not httpx with httpx-sse: at 100 concurrent streams they cost 2.4 times as much
CPU per token as this client, parsing included (`python bench/wire.py`), and the app's CPU is
what delays the next person's first token. Raw responses also let us read every provider's error
body as it is.

`_stream` is the retry loop; `_attempt` is one try, which ends in an `Opened` stream, a
`Retryable` failure, an `Unsupported` parameter or a final Failure.
"""

from __future__ import annotations

import asyncio
import random
import ssl
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import certifi
import orjson

from .errors import classify_http_error, provider_message, redact, rejected_parameter, retry_after_seconds
from .events import Event, Failure, Finish, Status, Usage
from .providers import Endpoint
from .proxies import proxy_options
from .wire import ChunkParser, SSEDecoder

# When a model rejects a parameter, what to send instead (None: just drop it).
_REPLACEMENTS = {"max_tokens": "max_completion_tokens"}
# Models whose rejected parameters are remembered, at most (per endpoint and model).
_REMEMBERED_MODELS = 1024
# While nothing comes, a "waiting" status every TICK_S seconds: from the start before the first
# token, and after PAUSE_SHOWN_S seconds of silence once the answer has started (token gaps of a
# second are normal for a slow model).
TICK_S = 1.0
PAUSE_SHOWN_S = 3.0


@dataclass(frozen=True)
class ChatRequest:
    endpoint: Endpoint
    model: str
    messages: list[dict[str, Any]]
    params: Mapping[str, Any] = field(default_factory=dict)
    """Optional parameters to send (temperature, top_p, max_tokens, reasoning_effort), set ones only."""


@dataclass(frozen=True)
class Timeouts:
    connect: float
    read: float
    """Longest silence while waiting for the answer to start (reasoning models think for minutes)."""
    idle: float
    """Longest pause once the answer has started."""


@dataclass
class RetryPolicy:
    max_retries: int = 3
    backoff_s: float = 0.5
    max_wait_s: float = 30.0
    """A Retry-After longer than this is not waited for: the person is told instead."""


@dataclass(frozen=True)
class _Opened:
    response: aiohttp.ClientResponse


@dataclass(frozen=True)
class _Retryable:
    failure: Failure
    retry_after: str | None = None


@dataclass(frozen=True)
class _Unsupported:
    param: str
    message: str


def tls_context() -> ssl.SSLContext:
    """The system's trusted certificates (a company's own CA, SSL_CERT_FILE) and certifi's bundle
    (which is all a python.org Python on macOS has until its certificates are installed)."""
    context = ssl.create_default_context()
    context.load_verify_locations(certifi.where())
    return context


def estimate_tokens(text_chars: int) -> int:
    # About four characters per token for English and French text: good enough for a label
    # that says "estimated".
    return max(1, round(text_chars / 4)) if text_chars else 0


def _first_bytes(raw: bytes, key: str | None) -> str:
    text = " ".join(raw[:400].decode("utf-8", "replace").split())
    return redact(text, key)[:120]


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
    ) -> None:
        self.timeout = Timeouts(connect=connect_timeout, read=read_timeout, idle=idle_timeout)
        self.retry = retry or RetryPolicy()
        self.known_models = known_models  # callable(endpoint) -> list[str] | None, for 404 hints
        self._unsupported: dict[tuple[str, str], dict[str, str | None]] = {}
        self._tls = tls_context()
        self._http: aiohttp.ClientSession | None = None
        self._http_loop: asyncio.AbstractEventLoop | None = None
        self._gates: dict[str, asyncio.Semaphore] = {}
        self._waiting: dict[str, int] = {}

    # -- plumbing -------------------------------------------------------------------------

    def http(self) -> aiohttp.ClientSession:
        """The shared pool, made in the running loop (connections cannot cross loops).

        No cookie jar: a cookie one provider sets for one person's request must never ride along
        with someone else's. Proxies are chosen per request by `proxies.proxy_options`."""
        loop = asyncio.get_running_loop()
        if self._http is None or self._http_loop is not loop:
            if self._http is not None and not self._http.closed:
                self._http.detach()  # made in another loop: let it go without touching its sockets
            self._http = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=0, ttl_dns_cache=300, ssl=self._tls),
                timeout=aiohttp.ClientTimeout(total=None, sock_connect=self.timeout.connect, sock_read=self.timeout.read),
                cookie_jar=aiohttp.DummyCookieJar(),
            )
            self._http_loop = loop
            self._gates.clear()
        return self._http

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.close()
            self._http = None

    def _remember_unsupported(self, request: ChatRequest, param: str, message: str) -> None:
        """A model that does not take `param` at this endpoint: later requests leave it out (or
        send its replacement, when the provider names one)."""
        replacement = _REPLACEMENTS.get(param)
        if replacement and replacement not in message:
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
                body[name] = value
        for name, replacement in self._unsupported.get((request.endpoint.base_url, request.model), {}).items():
            if name in body:
                value = body.pop(name)
                if replacement:
                    body[replacement] = value
        return body

    # -- the stream -----------------------------------------------------------------------

    async def stream(self, request: ChatRequest) -> AsyncIterator[Event]:
        """Stream one answer as events. Never raises for a provider failure: yields Failure."""
        limit = request.endpoint.provider.max_concurrent
        if limit is None:
            async for event in self._stream(request):
                yield event
            return
        gate_key = request.endpoint.base_url
        self.http()  # gates live in the running loop
        gate = self._gates.setdefault(gate_key, asyncio.Semaphore(limit))
        if gate.locked():
            ahead = self._waiting.get(gate_key, 0) + 1
            yield Status("queued", {"provider": request.endpoint.provider.label, "ahead": ahead})
        self._waiting[gate_key] = self._waiting.get(gate_key, 0) + 1
        try:
            await gate.acquire()
        finally:
            self._waiting[gate_key] -= 1
        try:
            async for event in self._stream(request):
                yield event
        finally:
            gate.release()

    async def _stream(self, request: ChatRequest) -> AsyncIterator[Event]:
        """The retry loop around `_attempt`: retries happen only before the answer starts."""
        label = request.endpoint.provider.label
        started = asyncio.get_running_loop().time()
        retries = 0
        dropped = False
        while True:
            outcome: Any = None
            async for item in self._attempt(request, self.build_body(request), started):
                if type(item) is Status:
                    yield item
                else:
                    outcome = item
            if type(outcome) is _Opened:
                try:
                    async for event in self._read_stream(request, outcome.response, started):
                        yield event
                finally:
                    outcome.response.release()  # closes the connection if the stream was not read to its end
                return
            if type(outcome) is _Unsupported and not dropped:
                dropped = True  # once: a second rejected parameter is reported, not looped on
                self._remember_unsupported(request, outcome.param, outcome.message)
                continue
            if type(outcome) is _Retryable and retries < self.retry.max_retries:
                wait = self._backoff(retries, outcome.retry_after)
                if wait is not None:
                    retries += 1
                    kind = "reconnecting" if outcome.failure.kind == "connect" else "retrying"
                    yield Status(kind, {"provider": label, "status": outcome.failure.status, "seconds": wait,
                                        "attempt": retries, "max_retries": self.retry.max_retries})
                    await asyncio.sleep(wait)
                    continue
            if type(outcome) is _Unsupported:
                yield Failure("bad_request", {"provider": label, "status": 400, "detail": outcome.message}, 400)
            else:
                yield outcome.failure if type(outcome) is _Retryable else outcome
            return

    async def _attempt(self, request: ChatRequest, body: dict[str, Any], started: float) -> AsyncIterator[Any]:
        """One try: "waiting" statuses while the provider has not answered, then one outcome."""
        endpoint = request.endpoint
        headers = endpoint.headers()
        headers["Accept"] = "text/event-stream"
        headers["Content-Type"] = "application/json"
        loop = asyncio.get_running_loop()
        post = asyncio.ensure_future(self.http().post(
            endpoint.chat_url, data=orjson.dumps(body), headers=headers, allow_redirects=False,
            **proxy_options(endpoint.chat_url)))
        handed_over = False
        try:
            while not post.done():
                done, _ = await asyncio.wait((post,), timeout=TICK_S)
                if not done:
                    yield self._waiting_status(endpoint, loop.time() - started, answering=False)
            response = post.result()
            if response.status < 400:
                handed_over = True
                yield _Opened(response)
                return
            raw = await response.read()
            response.release()
            yield self._http_outcome(request, body, response, raw)
        except aiohttp.ClientSSLError as exc:  # not retried: it would fail the same way
            why = "cert" if isinstance(exc, aiohttp.ClientConnectorCertificateError) else "tls"
            yield self._connect_failure(endpoint, why)
        except (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError, aiohttp.ServerDisconnectedError) as exc:
            # ServerDisconnectedError before any answer: most often a kept-alive connection the
            # server had just closed; nothing was answered, so trying again is safe.
            why = ("timeout" if isinstance(exc, aiohttp.ConnectionTimeoutError)
                   else "disconnected" if isinstance(exc, aiohttp.ServerDisconnectedError)
                   else "dns" if isinstance(exc, aiohttp.ClientConnectorDNSError) else "refused")
            yield _Retryable(self._connect_failure(endpoint, why))
        except TimeoutError:  # aiohttp's socket read timeout is one
            yield self._read_timeout(endpoint.provider.label, started=False)
        except aiohttp.ClientError as exc:
            yield self._connect_failure(endpoint, "other", error=type(exc).__name__)
        finally:
            if not post.done():
                post.cancel()
            elif not handed_over and not post.cancelled() and post.exception() is None:
                post.result().release()

    def _http_outcome(self, request: ChatRequest, body: dict[str, Any], response: aiohttp.ClientResponse,
                      raw: bytes) -> Any:
        endpoint = request.endpoint
        message = redact(provider_message(raw), endpoint.api_key)
        rejection = rejected_parameter(response.status, message, body)
        if rejection is not None and rejection.unsupported:
            return _Unsupported(rejection.param, message)
        known = self.known_models(endpoint) if (self.known_models and response.status == 404) else None
        verdict = classify_http_error(endpoint, request.model, response.status, raw, known_models=known,
                                      rejection=rejection)
        if verdict.retryable:
            return _Retryable(verdict.failure, response.headers.get("retry-after"))
        return verdict.failure

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

    def _waiting_status(self, endpoint: Endpoint, silent_s: float, *, answering: bool) -> Status:
        return Status("waiting", {"provider": endpoint.provider.label, "seconds": int(silent_s),
                                  "why": "paused" if answering else "first"})

    def _read_timeout(self, label: str, *, started: bool) -> Failure:
        if started:
            return Failure("timeout", {"provider": label, "why": "idle", "seconds": self.timeout.idle,
                                       "setting": "CAUSERIE_IDLE_TIMEOUT"})
        return Failure("timeout", {"provider": label, "why": "first", "seconds": self.timeout.read,
                                   "setting": "CAUSERIE_READ_TIMEOUT"})

    def _connect_failure(self, endpoint: Endpoint, why: str, **extra: Any) -> Failure:
        p = endpoint.provider
        where = f"set {p.base_url_env} to its address" if p.base_url_env else "check that it is running"
        return Failure("connect", {"provider": p.label, "base_url": endpoint.base_url, "why": why,
                                   "seconds": self.timeout.connect, "where_hint": where, **extra})

    def _not_compatible(self, endpoint: Endpoint, response: aiohttp.ClientResponse, head: bytes) -> Failure:
        p = endpoint.provider
        return Failure("not_compatible", {
            "provider": p.label, "base_url": endpoint.base_url, "status": response.status,
            "content_type": response.headers.get("content-type") or "no content type",
            "first_bytes": _first_bytes(head, endpoint.api_key),
            "where_hint": f"set {p.base_url_env} to the right address" if p.base_url_env else None,
        })

    async def _whole_json(self, endpoint: Endpoint, response: aiohttp.ClientResponse) -> dict | Failure:
        """A server that ignored `stream` and answered one JSON completion (or an error)."""
        raw = await response.read()
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return self._not_compatible(endpoint, response, raw)
        if isinstance(data, dict) and "error" in data:
            detail = redact(provider_message(raw), endpoint.api_key)
            return Failure("stream_error", {"provider": endpoint.provider.label, "why": "whole", "detail": detail})
        if not isinstance(data, dict) or not isinstance(data.get("choices"), list):
            return self._not_compatible(endpoint, response, raw)
        return data

    def _ending(self, request: ChatRequest, parser: ChunkParser) -> list[Event]:
        """What closes a stream that was read to its end: usage (estimated if none came), then
        Finish, or the Failure that says why the answer is not whole."""
        label = request.endpoint.provider.label
        events = parser.flush()
        if parser.usage is None:
            prompt_chars = sum(len(m["content"]) if isinstance(m.get("content"), str) else 0 for m in request.messages)
            events.append(Usage(estimate_tokens(prompt_chars), estimate_tokens(parser.answer_chars + parser.reasoning_chars),
                                None, None, estimated=True))
        if parser.finish_reason is None:
            events.append(Failure("cut_off", {"provider": label, "why": "no_finish"}))
        elif parser.answer_chars == 0 and parser.finish_reason != "tool_calls":
            events.append(Failure("empty", {"provider": label, "finish_reason": parser.finish_reason}))
        else:
            # A tool call with no text is an answer too: its thinking and usage are kept, and the
            # reader says that a tool was asked for.
            events.append(Finish(parser.finish_reason))
        return events

    async def _read_stream(self, request: ChatRequest, response: aiohttp.ClientResponse,
                           started: float) -> AsyncIterator[Event]:
        """Events from the stream's bytes, and "waiting" statuses while no token comes. A pause
        longer than the idle limit once the answer has started ends it (a Failure)."""
        endpoint = request.endpoint
        label = endpoint.provider.label
        parser = ChunkParser(completion_excludes_reasoning=endpoint.provider.completion_excludes_reasoning)
        if "text/event-stream" not in response.headers.get("content-type", ""):
            try:
                whole = await self._whole_json(endpoint, response)
            except aiohttp.ClientError:
                whole = Failure("cut_off", {"provider": label, "why": "connection"})
            for event in [whole] if type(whole) is Failure else [*parser.feed(whole), *self._ending(request, parser)]:
                yield event
            return
        content = response.content
        loop = asyncio.get_running_loop()
        decoder = SSEDecoder()
        head = b""
        chunks = 0
        progress_at, progress = started, 0
        alarm = _Alarm(loop)
        try:
            while True:
                data = content.read_nowait(-1)
                if not data:
                    if content.at_eof():
                        break
                    data = await alarm.read(content)
                    if not data and content.at_eof():
                        break
                if data:
                    if chunks == 0 and len(head) < 200:
                        head += data[:200]
                    for payload in decoder.feed(data):
                        if not payload:
                            continue
                        if payload == b"[DONE]":
                            for event in self._ending(request, parser):
                                yield event
                            return
                        try:
                            chunk = orjson.loads(payload)
                        except orjson.JSONDecodeError:
                            yield Failure("invalid_stream", {"provider": label})
                            return
                        if not isinstance(chunk, dict):
                            continue
                        chunks += 1
                        if "error" in chunk and not chunk.get("choices"):
                            detail = redact(provider_message(payload), endpoint.api_key)
                            yield Failure("stream_error", {"provider": label, "detail": detail})
                            return
                        for event in parser.feed(chunk):
                            yield event
                if alarm.due:  # about once a second: has the model gone quiet?
                    alarm.due = False
                    now = loop.time()
                    if (so_far := parser.answer_chars + parser.reasoning_chars) != progress:
                        progress_at, progress = now, so_far
                    silent = now - progress_at
                    if progress and silent >= self.timeout.idle:
                        yield self._read_timeout(label, started=True)
                        return
                    if silent >= (PAUSE_SHOWN_S if progress else TICK_S):
                        yield self._waiting_status(endpoint, silent, answering=bool(progress))
        except TimeoutError:  # aiohttp's socket read timeout is one
            yield self._read_timeout(label, started=False)
            return
        except aiohttp.ClientError:
            yield Failure("cut_off", {"provider": label, "why": "connection"})
            return
        finally:
            alarm.close()
        for payload in decoder.close():  # an event the server left unterminated (some do)
            if payload and payload != b"[DONE]":
                try:
                    chunk = orjson.loads(payload)
                except orjson.JSONDecodeError:
                    continue
                if isinstance(chunk, dict):
                    chunks += 1
                    for event in parser.feed(chunk):
                        yield event
        if chunks == 0:
            yield self._not_compatible(endpoint, response, head)
            return
        for event in self._ending(request, parser):
            yield event


class _Alarm:
    """Rings every TICK_S seconds while a stream is read, so that silence can be shown and timed.

    One timer a second per stream, not one per read: `asyncio.timeout` around each read cost a
    quarter of the wire's CPU (bench/wire.py). When it rings while the reader waits for bytes, it
    wakes the reader the way asyncio.timeout does, by cancelling its task and taking the
    cancellation back (`uncancel`); a real cancellation (Stop) arriving too still goes through.
    """

    __slots__ = ("loop", "task", "handle", "waiting", "woken", "due")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.task = asyncio.current_task()
        self.waiting = self.woken = self.due = False
        self.handle = loop.call_later(TICK_S, self._ring)

    def _ring(self) -> None:
        self.due = True
        if self.waiting and self.task is not None and not self.woken:
            self.woken = True
            self.task.cancel()
        self.handle = self.loop.call_later(TICK_S, self._ring)

    async def read(self, content: aiohttp.StreamReader) -> bytes:
        """The next bytes, or b"" when the alarm rang first."""
        self.waiting = True
        try:
            return await content.readany()
        except asyncio.CancelledError:
            if not self.woken or self.task is None or self.task.uncancel() > 0:
                raise
            return b""
        finally:
            self.waiting = self.woken = False

    def close(self) -> None:
        self.handle.cancel()
