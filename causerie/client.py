"""One async function's worth of wire: a chat request in, a stream of events out.

Failure messages say what happened and what to do; whether a partial answer is kept is said by
whoever shows it (the chat keeps it; the API reports only the failure).

This module alone speaks HTTP to providers, with aiohttp, and reads the stream's bytes itself
(`wire.SSEDecoder`, then orjson per chunk). Not the openai SDK: it builds a pydantic object per
streamed chunk. Not httpx with httpx-sse: at 100 concurrent streams they cost 2.4 times as much
CPU per token as this client, parsing included (`python bench/wire.py`), and the app's CPU is
what delays the next person's first token. Raw responses also let us read every provider's error
body as it is.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import certifi
import orjson

from .errors import (
    classify_http_error,
    provider_message,
    redact,
    retry_after_seconds,
    unsupported_parameter,
)
from .events import Event, Failure, Finish, Status, Usage
from .providers import Endpoint
from .proxies import proxy_options
from .wire import ChunkParser, SSEDecoder

# When a model rejects a parameter, what to send instead (None: just drop it).
_REPLACEMENTS = {"max_tokens": "max_completion_tokens"}


@dataclass(frozen=True)
class ChatRequest:
    endpoint: Endpoint
    model: str
    messages: list[dict[str, Any]]
    params: Mapping[str, Any] = field(default_factory=dict)
    """Optional parameters (temperature, top_p, max_tokens, reasoning_effort); None means unset."""


@dataclass(frozen=True)
class Timeouts:
    connect: float
    read: float
    """Longest silence while waiting for the answer to start, or between two chunks of it."""


@dataclass
class RetryPolicy:
    max_retries: int = 3
    backoff_s: float = 0.5
    max_wait_s: float = 30.0
    """A Retry-After longer than this is not waited for: the person is told instead."""


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


class ChatClient:
    """Holds the connection pool and what was learnt about models; no per-user state."""

    def __init__(
        self,
        *,
        connect_timeout: float = 10.0,
        read_timeout: float = 600.0,
        retry: RetryPolicy | None = None,
        known_models: Any = None,
    ) -> None:
        self.timeout = Timeouts(connect=connect_timeout, read=read_timeout)
        self.retry = retry or RetryPolicy()
        self.known_models = known_models  # callable(endpoint) -> list[str] | None, for 404 hints
        self._rejected: dict[tuple[str, str], dict[str, str | None]] = {}
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

    def build_body(self, request: ChatRequest) -> dict[str, Any]:
        provider = request.endpoint.provider
        body: dict[str, Any] = {"model": request.model, "messages": request.messages, "stream": True}
        if provider.usage_in_stream:
            body["stream_options"] = {"include_usage": True}
        for name, value in request.params.items():
            if value is not None and value != "":
                body[name] = value
        for name, replacement in self._rejected.get((provider.id, request.model), {}).items():
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
            yield Status(f"Waiting for {request.endpoint.provider.label}: it answers one person at a time, {ahead} ahead of you.")
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
        endpoint, model = request.endpoint, request.model
        provider = endpoint.provider
        body = self.build_body(request)
        headers = endpoint.headers()
        headers["Accept"] = "text/event-stream"
        headers["Content-Type"] = "application/json"
        proxy = proxy_options(endpoint.chat_url)
        attempt = 0
        dropped_once = False
        while True:
            wait: float | None = None
            try:
                async with self.http().post(endpoint.chat_url, data=orjson.dumps(body), headers=headers,
                                            allow_redirects=False, **proxy) as response:
                    if response.status >= 400:
                        raw = await response.read()
                        message = redact(provider_message(raw), endpoint.api_key)
                        param = unsupported_parameter(response.status, message, body)
                        if param and not dropped_once:
                            dropped_once = True
                            replacement = _REPLACEMENTS.get(param)
                            if replacement and replacement not in message:
                                replacement = None
                            self._rejected.setdefault((provider.id, model), {})[param] = replacement
                            body = self.build_body(request)  # the same path later requests take
                            continue
                        known = self.known_models(endpoint) if (self.known_models and response.status == 404) else None
                        verdict = classify_http_error(endpoint, model, response.status, raw, known_models=known)
                        if verdict.retryable and attempt < self.retry.max_retries:
                            wait = self._backoff(attempt, response.headers.get("retry-after"))
                            if wait is not None:
                                attempt += 1
                                yield Status(f"{provider.label} answered HTTP {response.status}; trying again in {wait:.0f} s ({attempt}/{self.retry.max_retries}).")
                        if wait is None:
                            yield verdict.failure
                            return
                    else:
                        async for event in self._read_stream(request, response):
                            yield event
                        return
            except aiohttp.ClientSSLError as exc:  # not retried: it would fail the same way
                what = ("did not show a valid TLS certificate" if isinstance(exc, aiohttp.ClientConnectorCertificateError)
                        else "could not set up a secure (TLS) connection")
                yield Failure("connect", f"{provider.label} at {endpoint.base_url} {what}, so nothing was sent. Check the base URL (https or http?).")
                return
            except (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError, aiohttp.ServerDisconnectedError) as exc:
                # ServerDisconnectedError before any answer: most often a kept-alive connection the
                # server had just closed; nothing was answered, so trying again is safe.
                if attempt < self.retry.max_retries:
                    attempt += 1
                    wait = self._backoff(attempt - 1, None)
                    yield Status(f"Could not reach {provider.label}; trying again in {wait:.1f} s ({attempt}/{self.retry.max_retries}).")
                else:
                    yield self._connect_failure(endpoint, exc)
                    return
            except asyncio.TimeoutError:  # aiohttp's socket read timeout is one
                yield self._read_timeout(provider.label, started=False)
                return
            except aiohttp.ClientError as exc:
                yield Failure("connect", f"The connection to {provider.label} failed before the answer started ({type(exc).__name__}). Try again.")
                return
            if wait:
                await asyncio.sleep(wait)

    def _backoff(self, attempt: int, retry_after: str | None) -> float | None:
        asked = retry_after_seconds(retry_after)
        if asked is not None:
            return asked if asked <= self.retry.max_wait_s else None
        return self.retry.backoff_s * (2**attempt)

    def _read_timeout(self, label: str, *, started: bool) -> Failure:
        if started:
            return Failure("timeout", f"{label} stopped sending for {self.timeout.read:g} s in the middle of the answer. Try again (CAUSERIE_READ_TIMEOUT sets how long to wait).")
        return Failure("timeout", f"{label} sent nothing for {self.timeout.read:g} s, so the request was abandoned. Try again, or raise CAUSERIE_READ_TIMEOUT.")

    def _connect_failure(self, endpoint: Endpoint, exc: Exception) -> Failure:
        p = endpoint.provider
        where = f"set {p.base_url_env} to its address" if p.base_url_env else "check that it is running"
        if isinstance(exc, aiohttp.ConnectionTimeoutError):
            return Failure("connect", f"Connecting to {p.label} at {endpoint.base_url} timed out ({self.timeout.connect:.0f} s), also after retrying. Check the network, or {where}.")
        if isinstance(exc, aiohttp.ServerDisconnectedError):
            return Failure("connect", f"{p.label} at {endpoint.base_url} closed the connection before answering, also after retrying. Try again in a moment; if it keeps happening, check the base URL.")
        if isinstance(exc, aiohttp.ClientConnectorDNSError):
            return Failure("connect", f"The address of {p.label} ({endpoint.base_url}) could not be found, also after retrying. Check the network and the base URL, or {where}.")
        return Failure("connect", f"Could not connect to {p.label} at {endpoint.base_url} (connection refused), also after retrying. Is the server running? If it runs elsewhere, {where}.")

    async def _whole_json(self, label: str, endpoint: Endpoint, response: aiohttp.ClientResponse) -> dict | Failure:
        """A server that ignored `stream` and answered one JSON completion (or an error)."""
        raw = await response.read()
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError:
            content_type = response.headers.get("content-type", "")
            return Failure("invalid_stream", f"{label} answered with something that is neither a stream nor JSON ({content_type or 'no content type'}). Check the base URL: it should end in /v1 or the provider's equivalent.")
        if isinstance(data, dict) and "error" in data:
            return Failure("stream_error", f"{label} reported an error: {redact(provider_message(raw), endpoint.api_key)}")
        return data if isinstance(data, dict) else {}

    @staticmethod
    async def _sse_payloads(response: aiohttp.ClientResponse) -> AsyncIterator[bytes]:
        """The `data` of each server-sent event, as the bytes arrive."""
        decoder = SSEDecoder()
        async for data in response.content.iter_any():
            for payload in decoder.feed(data):
                yield payload
        for payload in decoder.close():
            yield payload

    async def _read_stream(self, request: ChatRequest, response: aiohttp.ClientResponse) -> AsyncIterator[Event]:
        provider = request.endpoint.provider
        label = provider.label
        parser = ChunkParser(completion_excludes_reasoning=provider.completion_excludes_reasoning)
        try:
            if "text/event-stream" not in response.headers.get("content-type", ""):
                whole = await self._whole_json(label, request.endpoint, response)
                if type(whole) is Failure:
                    yield whole
                    return
                for event in parser.feed(whole):
                    yield event
            else:
                async for payload in self._sse_payloads(response):
                    if not payload:
                        continue
                    if payload == b"[DONE]":
                        break
                    try:
                        chunk = orjson.loads(payload)
                    except orjson.JSONDecodeError:
                        yield Failure("invalid_stream", f"{label} sent a stream chunk that is not valid JSON; the answer stopped there. Try again.")
                        return
                    if not isinstance(chunk, dict):
                        continue
                    if "error" in chunk and not chunk.get("choices"):
                        detail = redact(provider_message(payload), request.endpoint.api_key)
                        yield Failure("stream_error", f"{label} reported an error in the middle of the answer: {detail}. Try again to get the rest.")
                        return
                    for event in parser.feed(chunk):
                        yield event
        except asyncio.TimeoutError:  # aiohttp's socket read timeout is one
            yield self._read_timeout(label, started=bool(parser.answer_chars or parser.reasoning_chars))
            return
        except aiohttp.ClientError:
            yield Failure("cut_off", f"The connection to {label} broke in the middle of the answer. Try again to get the rest.")
            return
        for event in parser.flush():
            yield event
        if parser.usage is None:
            prompt_chars = sum(len(m["content"]) if isinstance(m.get("content"), str) else 0 for m in request.messages)
            yield Usage(estimate_tokens(prompt_chars), estimate_tokens(parser.answer_chars + parser.reasoning_chars),
                        None, None, estimated=True)
        if parser.finish_reason is None:
            yield Failure("cut_off", f"The answer from {label} was cut off: the stream ended before the model said it had finished. Try again.")
        elif parser.answer_chars == 0:
            if parser.finish_reason == "tool_calls":
                yield Failure("empty", "The model asked to call a tool instead of answering; Causerie does not run tools. Ask again or pick another model.")
            else:
                yield Failure("empty", f"{label} returned an empty answer (finish reason: {parser.finish_reason}). Try again, rephrase, or pick another model.")
        else:
            yield Finish(parser.finish_reason)
