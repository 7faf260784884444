"""Reading one opened Chat Completions response into events.

The bytes are cut into server-sent events (`wire.SSEDecoder`), each chunk parsed with orjson and
turned into events by `wire.ChunkParser`. While no token comes, a "waiting" status about once a
second; once the answer has started, a pause longer than the idle limit ends it. A response that
is no OpenAI-compatible answer (an HTML page, some other JSON) is said to be one, with its start.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import orjson

from ..events import Event, Failure, Finish, Status, Usage
from ..files.attachments import content_chars
from .errors import provider_message, redact
from .providers import Endpoint
from .wire import ChunkParser, SSEDecoder, joined

# While nothing comes, a "waiting" status every TICK_S seconds: from the start before the first
# token, and after PAUSE_SHOWN_S seconds of silence once the answer has started (token gaps of a
# second are normal for a slow model).
TICK_S = 1.0
PAUSE_SHOWN_S = 3.0
# A server that ignores `stream` answers in one piece: read this much of it at most.
WHOLE_ANSWER_MAX_BYTES = 8 * 1024 * 1024


@dataclass(frozen=True)
class ChatRequest:
    endpoint: Endpoint
    model: str
    messages: list[dict[str, Any]]
    params: Mapping[str, Any] = field(default_factory=dict)
    """Optional parameters to send (temperature, top_p, max_tokens, reasoning_effort), set ones only."""
    tools: tuple[str, ...] = ()
    """Server-side tools (responses.py); none: Chat Completions."""
    search: Any = None
    """The search tools' options (options.SearchOptions)."""
    conversation_id: str | None = None
    functions: tuple[Mapping[str, Any], ...] = ()
    """Functions the model may ask to call (tools/functions.py: name, description, parameters);
    sent as Chat Completions `tools`, or as Responses function tools."""
    remote_tools: tuple[Mapping[str, Any], ...] = ()
    """MCP servers the provider calls on its own side (xAI's remote MCP: `{"type": "mcp", ...}`)."""
    tool_choice: str | None = None
    """"none": the model must answer now (the last round of tool calls is spent)."""


@dataclass(frozen=True)
class Timeouts:
    connect: float
    read: float
    """Longest silence while waiting for the answer to start (reasoning models think for minutes)."""
    idle: float
    """Longest pause once the answer has started."""


def estimate_tokens(text_chars: int) -> int:
    # About four characters per token for English and French text: good enough for a label
    # that says "estimated".
    return max(1, round(text_chars / 4)) if text_chars else 0


def _first_bytes(raw: bytes, key: str | None) -> str:
    """The start of a body, to show: keys removed, also one cut short at the end of what was read."""
    text = redact(" ".join(raw[:400].decode("utf-8", "replace").split()), key)
    if key:
        for size in range(len(key) - 1, 3, -1):
            if text.endswith(key[:size]):
                text = text[:-size] + "[redacted]"
                break
    return text[:120]


def waiting_status(label: str, silent_s: float, *, answering: bool) -> Status:
    return Status("waiting", {"provider": label, "seconds": int(silent_s), "why": "paused" if answering else "first"})


def read_timeout(timeouts: Timeouts, label: str, *, started: bool) -> Failure:
    if started:
        return Failure(
            "timeout", {"provider": label, "why": "idle", "seconds": timeouts.idle, "setting": "CAUSERIE_IDLE_TIMEOUT"}
        )
    return Failure("timeout", {"provider": label, "why": "first", "seconds": timeouts.read, "setting": "CAUSERIE_READ_TIMEOUT"})


def not_compatible(endpoint: Endpoint, response: aiohttp.ClientResponse, head: bytes) -> Failure:
    p = endpoint.provider
    return Failure(
        "not_compatible",
        {
            "provider": p.label,
            "base_url": endpoint.base_url,
            "status": response.status,
            "content_type": response.headers.get("content-type") or "no content type",
            "first_bytes": _first_bytes(head, endpoint.api_key),
            "base_url_env": p.base_url_env,
        },
    )


async def _whole_json(endpoint: Endpoint, response: aiohttp.ClientResponse) -> dict | Failure:
    """A server that ignored `stream` and answered one JSON completion (or an error)."""
    raw = b""
    while len(raw) < WHOLE_ANSWER_MAX_BYTES and (piece := await response.content.read(WHOLE_ANSWER_MAX_BYTES - len(raw))):
        raw += piece
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return not_compatible(endpoint, response, raw)
    if isinstance(data, dict) and "error" in data:
        detail = redact(provider_message(raw), endpoint.api_key)
        return Failure("stream_error", {"provider": endpoint.provider.label, "why": "whole", "detail": detail})
    if not isinstance(data, dict) or not isinstance(data.get("choices"), list):
        return not_compatible(endpoint, response, raw)
    return data


def _ending(request: ChatRequest, parser: ChunkParser) -> list[Event]:
    """What closes a stream that was read to its end: usage (estimated if none came), then
    Finish, or the Failure that says why the answer is not whole."""
    label = request.endpoint.provider.label
    events = parser.flush()
    if parser.usage is None:
        prompt_chars = sum(content_chars(m["content"]) for m in request.messages)
        events.append(
            Usage(
                estimate_tokens(prompt_chars),
                estimate_tokens(parser.answer_chars + parser.reasoning_chars),
                None,
                None,
                estimated=True,
            )
        )
    if (calls := parser.tool_calls()) is not None and parser.finish_reason not in (None, "length"):
        # (Some servers end a turn of calls with "stop": it is a turn of calls all the same. One cut at
        # "length" has arguments cut short: it is an answer cut off, not calls to run.)
        events += [calls, Finish("tool_calls")]
        return events
    if parser.finish_reason is None:
        events.append(Failure("cut_off", {"provider": label, "why": "no_finish"}))
    elif parser.answer_chars == 0 and parser.finish_reason != "tool_calls":
        events.append(Failure("empty", {"provider": label, "finish_reason": parser.finish_reason}))
    else:
        # A tool call with no text is an answer too: its thinking and usage are kept, and the
        # reader says that a tool was asked for.
        events.append(Finish(parser.finish_reason))
    return events


async def read_events(
    request: ChatRequest,
    response: aiohttp.ClientResponse,
    started: float,
    timeouts: Timeouts,
    gather_s: Callable[[], float] = lambda: 0.0,
) -> AsyncIterator[Event]:
    """Events from the stream's bytes, and "waiting" statuses while no token comes. A pause
    longer than the idle limit once the answer has started ends it (a Failure).

    Once the answer has started, the stream's bytes may gather for `gather_s()` seconds between
    reads (see `_gather`): what arrived meanwhile is read at once, and the pieces of text it holds
    come out as one event (`wire.joined`)."""
    endpoint = request.endpoint
    label = endpoint.provider.label
    parser = ChunkParser(completion_excludes_reasoning=endpoint.provider.completion_excludes_reasoning)
    if "text/event-stream" not in response.headers.get("content-type", ""):
        try:
            whole = await _whole_json(endpoint, response)
        except TimeoutError:  # aiohttp's socket read timeout is one (and a ClientError too)
            whole = read_timeout(timeouts, label, started=False)
        except aiohttp.ClientError:
            whole = Failure("cut_off", {"provider": label, "why": "connection"})
        for event in [whole] if type(whole) is Failure else [*parser.feed(whole), *_ending(request, parser)]:
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
        dropped = False
        while True:
            try:
                data = content.read_nowait(-1)
                if not data and not content.at_eof():
                    if (parser.answer_chars or parser.reasoning_chars) and (pause := gather_s()) > 0:
                        await _gather(response, pause)
                    data = await alarm.read(content)
            except aiohttp.ClientError as exc:
                if isinstance(exc, TimeoutError):
                    raise
                data, dropped = held_back(content), True  # read what came before the drop, then say so
            ended = not data and content.at_eof()
            if data or ended:
                if chunks == 0 and len(head) < 200:
                    head += data[:200]
                batch: list[Event] = []
                # At the end, an event the server left unterminated (some do) is read the same way.
                for payload in decoder.close() if ended else decoder.feed(data):
                    if not payload:
                        continue
                    if payload == b"[DONE]":
                        for event in joined(batch) + _ending(request, parser):
                            yield event
                        return
                    try:
                        chunk = orjson.loads(payload)
                    except orjson.JSONDecodeError:
                        batch.append(Failure("invalid_stream", {"provider": label}))
                        break
                    if not isinstance(chunk, dict):
                        continue
                    chunks += 1
                    if "error" in chunk and not chunk.get("choices"):
                        detail = redact(provider_message(payload), endpoint.api_key)
                        batch.append(Failure("stream_error", {"provider": label, "detail": detail}))
                        break
                    batch += parser.feed(chunk)
                for event in joined(batch):
                    yield event
                if batch and type(batch[-1]) is Failure:
                    return
                if ended:
                    break
            if dropped:
                yield Failure("cut_off", {"provider": label, "why": "connection"})
                return
            if alarm.due:  # about once a second: has the model gone quiet?
                alarm.due = False
                now = loop.time()
                if (so_far := parser.answer_chars + parser.reasoning_chars) != progress:
                    progress_at, progress = now, so_far
                silent = now - progress_at
                if silent >= (timeouts.idle if progress else timeouts.read):
                    yield read_timeout(timeouts, label, started=bool(progress))
                    return
                if silent >= (PAUSE_SHOWN_S if progress else TICK_S):
                    yield waiting_status(label, silent, answering=bool(progress))
    except TimeoutError:  # aiohttp's socket read timeout is one
        yield read_timeout(timeouts, label, started=bool(parser.answer_chars or parser.reasoning_chars))
        return
    except aiohttp.ClientError:
        yield Failure("cut_off", {"provider": label, "why": "connection"})
        return
    finally:
        alarm.close()
    if chunks == 0:
        yield not_compatible(endpoint, response, head)
        return
    for event in _ending(request, parser):
        yield event


def held_back(content: aiohttp.StreamReader) -> bytes:
    """The bytes a failed stream received before it failed. aiohttp raises the connection's error
    on the next read even when bytes that came before it wait in its buffer (StreamReader checks
    the error first): a provider that sends its last tokens and drops the connection in the same
    moment would otherwise lose them. (aiohttp has no public read past the error.)"""
    try:
        return content._read_nowait(-1) if content._buffer else b""
    except Exception:  # noqa: BLE001 (another aiohttp: nothing to take)
        return b""


async def _gather(response: aiohttp.ClientResponse, seconds: float) -> None:
    """Let the stream's bytes gather for `seconds`: the socket is not read meanwhile, so the
    tokens that arrive wait in it and are taken in one read after, not one wake-up and one parse
    step each. Only the transport is paused (asyncio's own flow control), never aiohttp's
    parser, and only if aiohttp is not holding it paused itself; it is resumed however the wait
    ends (a Stop cancels it). aiohttp's read timeout runs on meanwhile: it is the idle limit or
    longer, far above a gather's tenth of a second."""
    connection = response.connection
    transport = connection.transport if connection is not None else None
    paused = False
    try:
        if transport is not None and not transport.is_closing() and transport.is_reading():
            transport.pause_reading()
            paused = True
        await asyncio.sleep(seconds)
    finally:
        if paused and not transport.is_closing():
            transport.resume_reading()


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
        self.task: asyncio.Task | None = None
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
        self.task = asyncio.current_task()  # the task reading now (it may change between reads)
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
