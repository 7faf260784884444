"""A scripted OpenAI-compatible server on loopback: real HTTP and SSE, replies chosen by the test.

Tests queue replies (a recorded stream, an error status, chunks with delays, a broken stream);
each POST to /v1/chat/completions takes the next one. Every request body and header is recorded,
and a stream the client abandoned is noted, so tests can check what went over the wire.
"""

from __future__ import annotations

import asyncio
import base64
import json
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "streams"


def sse(*chunks: dict | str, done: bool = True) -> list[bytes]:
    """SSE frames for chunk dicts (or raw data strings), ending in [DONE] unless told otherwise."""
    frames = [f"data: {c if isinstance(c, str) else json.dumps(c)}\n\n".encode() for c in chunks]
    if done:
        frames.append(b"data: [DONE]\n\n")
    return frames


def delta(content: str | None = None, finish: str | None = None, **fields: Any) -> dict:
    d: dict[str, Any] = dict(fields)
    if content is not None:
        d["content"] = content
    return {"object": "chat.completion.chunk", "choices": [{"index": 0, "delta": d, "finish_reason": finish}]}


def text_stream(*pieces: str, finish: str = "stop", usage: dict | None = None) -> list[bytes]:
    chunks: list[dict] = [delta(p) for p in pieces] + [delta(finish=finish)]
    if usage:
        chunks.append({"object": "chat.completion.chunk", "choices": [], "usage": usage})
    return sse(*chunks)


def tool_call_stream(*calls: tuple[str, dict | str], text: str = "", ids: tuple[str, ...] = ()) -> list[bytes]:
    """A turn that asks for tool calls, as OpenAI streams it: the id and name first, the arguments
    in pieces, then finish_reason "tool_calls" and usage. `text`: words said before the calls."""
    chunks: list[dict] = [delta(text)] if text else []
    for index, (name, arguments) in enumerate(calls):
        raw = arguments if isinstance(arguments, str) else json.dumps(arguments)
        call_id = ids[index] if index < len(ids) else f"call_{index}_x"
        chunks.append(
            delta(tool_calls=[{"index": index, "id": call_id, "type": "function", "function": {"name": name, "arguments": ""}}])
        )
        for start in range(0, len(raw), 7):
            chunks.append(delta(tool_calls=[{"index": index, "function": {"arguments": raw[start : start + 7]}}]))
    chunks.append(delta(finish="tool_calls"))
    chunks.append({"object": "chat.completion.chunk", "choices": [], "usage": {"prompt_tokens": 50, "completion_tokens": 10}})
    return sse(*chunks)


def tool_results(body: dict) -> list[str]:
    """The `tool` messages' contents a request sent back, in order."""
    return [m["content"] for m in body.get("messages") or () if m.get("role") == "tool"]


@dataclass
class Reply:
    status: int = 200
    chunks: list[bytes] = field(default_factory=list)
    """Body pieces, sent one by one (with `delay` seconds between them)."""
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "text/event-stream"
    delay: float = 0.0
    first_delay: float = 0.0
    break_after: int | None = None
    """Drop the connection (no clean end) after this many chunks."""
    pauses: dict[int, float] = field(default_factory=dict)
    """Seconds to wait before sending the chunk of this index (a model searching, say)."""
    hold: threading.Event | None = None
    """Before the last chunk, wait until this is set: streams sharing it end together."""
    respond: Any = None
    """A function of the request's body that gives the chunks (an answer made from a tool's result)."""

    @classmethod
    def fixture(cls, name: str, **kw: Any) -> Reply:
        return cls(chunks=[(FIXTURES / f"{name}.sse").read_bytes()], **kw)

    @classmethod
    def responses_fixture(cls, name: str, **kw: Any) -> Reply:
        """A recorded Responses API stream, one chunk per event (so `delay` and `break_after`
        count events)."""
        raw = (FIXTURES.parent / "responses" / f"{name}.sse").read_text(encoding="utf-8")
        return cls(chunks=[block.strip().encode() + b"\n\n" for block in raw.split("\n\n") if block.strip()], **kw)

    @classmethod
    def error(cls, status: int, payload: Any, **kw: Any) -> Reply:
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        return cls(status=status, body=body, content_type="application/json", **kw)


class LoopbackServer:
    """A Starlette app served by uvicorn on a free loopback port, in a thread of its own."""

    def serve(self, routes: list[Route], host: str) -> None:
        """Serves `routes` on a free port of `host` (once started): its `origin`, and `base_url` (/v1)."""
        self.port = _free_port(host)
        self.origin = f"http://{host}:{self.port}"
        self.base_url = f"{self.origin}/v1"
        config = uvicorn.Config(Starlette(routes=routes), host=host, port=self.port, log_level="warning", lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    def start(self):
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{type(self).__name__} did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=5)


class ScriptedServer(LoopbackServer):
    def __init__(self, host: str = "127.0.0.1") -> None:
        self.replies: deque[Reply] = deque()
        self.replies_by_model: dict[str, deque[Reply]] = {}
        """Replies for requests naming a given model (requests that run at once, as compare
        mode's, arrive in any order)."""
        self.default: Reply = Reply(chunks=text_stream("Hello", " there", "!"))
        self.requests: list[dict[str, Any]] = []
        self.held = 0
        """Streams waiting at their reply's `hold`, right now."""
        self.models: Any = {"object": "list", "data": [{"id": "model-a"}, {"id": "model-b"}]}
        self.models_status = 200
        self.models_delay = 0.0
        self.language_models: Any = None
        self.models_by_key: dict[str, Any] = {}
        """Model lists for requests bearing a given key (a visitor's own account lists others)."""
        self.serve(
            [
                Route("/v1/chat/completions", self._chat, methods=["POST"]),
                Route("/v1/responses", self._chat, methods=["POST"]),
                Route("/v1/models", self._models, methods=["GET"]),
                Route("/v1/language-models", self._language_models, methods=["GET"]),
            ],
            host,
        )

    # -- control from tests --

    def queue(self, *replies: Reply) -> None:
        self.replies.extend(replies)

    def queue_for(self, model: str, *replies: Reply) -> None:
        self.replies_by_model.setdefault(model, deque()).extend(replies)

    def reset(self) -> None:
        self.replies.clear()
        self.replies_by_model.clear()
        self.requests.clear()
        self.default = Reply(chunks=text_stream("Hello", " there", "!"))
        self.models = {"object": "list", "data": [{"id": "model-a"}, {"id": "model-b"}]}
        self.models_status = 200
        self.models_delay = 0.0
        self.language_models = None
        self.models_by_key = {}
        self.held = 0

    def last_outcome(self) -> str:
        """How the last chat stream ended on the server: open, completed or disconnected."""
        chats = [r for r in self.requests if r["path"] in ("/v1/chat/completions", "/v1/responses")]
        return chats[-1]["outcome"] if chats else "none"

    def wait_until_all_held(self, seconds: float = 60.0, quiet_s: float = 1.5) -> None:
        """Returns once every chat request that came is waiting at its reply's `hold`, and no more
        have come for `quiet_s` (the answers that other processes admitted are all in)."""
        deadline, since, last = time.monotonic() + seconds, time.monotonic(), -1
        while time.monotonic() < deadline:
            started = len([r for r in self.requests if r["path"] == "/v1/chat/completions"])
            if started and self.held == started:
                if started != last:
                    last, since = started, time.monotonic()
                elif time.monotonic() - since > quiet_s:
                    return
            time.sleep(0.05)

    def settled_outcome(self, seconds: float = 5.0) -> str:
        """The last chat stream's outcome once it is no longer open (or "open" after `seconds`).

        The server sees a client's disconnect a moment after the client closed: read at once, a
        closed stream can still look open."""
        deadline = time.monotonic() + seconds
        while self.last_outcome() == "open" and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.last_outcome()

    # -- handlers --

    async def _models(self, request: Request) -> Response:
        self.requests.append({"path": "/v1/models", "headers": dict(request.headers)})
        await asyncio.sleep(self.models_delay)
        key = request.headers.get("authorization", "").removeprefix("Bearer ")
        return JSONResponse(self.models_by_key.get(key, self.models), status_code=self.models_status)

    async def _language_models(self, request: Request) -> Response:
        self.requests.append({"path": "/v1/language-models", "headers": dict(request.headers)})
        if self.language_models is None:
            return JSONResponse({"error": "not found"}, status_code=404)
        return JSONResponse(self.language_models)

    async def _chat(self, request: Request) -> Response:
        body = await request.json()
        record = {"path": request.url.path, "headers": dict(request.headers), "body": body, "outcome": "open"}
        self.requests.append(record)
        if (wrong := _bad_image(body)) is not None:  # as a vision API does: a part it cannot read is a 400
            return JSONResponse(
                {"error": {"message": f"Invalid image_url: {wrong}", "type": "invalid_request_error"}}, status_code=400
            )
        for_model = self.replies_by_model.get(body.get("model"))
        reply = for_model.popleft() if for_model else self.replies.popleft() if self.replies else self.default
        if reply.body is not None:
            return Response(reply.body, status_code=reply.status, headers=reply.headers, media_type=reply.content_type)

        chunks = reply.respond(body) if reply.respond is not None else reply.chunks

        async def pieces():
            sent = 0
            try:
                if reply.first_delay:
                    await asyncio.sleep(reply.first_delay)
                for piece in chunks:
                    if reply.break_after is not None and sent >= reply.break_after:
                        raise ConnectionAbortedError("scripted break")
                    if sent and reply.delay:
                        await asyncio.sleep(reply.delay)
                    if sent in reply.pauses:
                        await asyncio.sleep(reply.pauses[sent])
                    if reply.hold is not None and sent == len(chunks) - 1:
                        self.held += 1
                        try:
                            while not reply.hold.is_set():
                                await asyncio.sleep(0.002)
                        finally:
                            self.held -= 1
                    yield piece
                    sent += 1
                record["outcome"] = "completed"
            except (asyncio.CancelledError, GeneratorExit):
                record["outcome"] = "disconnected"  # the client went away mid-stream
                raise

        return StreamingResponse(pieces(), status_code=reply.status, headers=reply.headers, media_type=reply.content_type)


IMAGE_MAGIC = {"image/jpeg": b"\xff\xd8\xff", "image/png": b"\x89PNG\r\n\x1a\n"}


def _image_urls(body: dict) -> list[str]:
    """The `image_url` parts' URLs of a chat request, in order."""
    return [
        (part.get("image_url") or {}).get("url") or ""
        for message in body.get("messages") or ()
        for part in (message.get("content") if isinstance(message.get("content"), list) else ())
        if part.get("type") == "image_url"
    ]


def image_parts(body: dict) -> list[bytes]:
    """The images a chat request carries, decoded from their data URLs."""
    return [base64.b64decode(url.split(",", 1)[1]) for url in _image_urls(body)]


def _bad_image(body: dict) -> str | None:
    """What is wrong with an `image_url` part (a data URL of a JPEG or PNG, as xAI takes), or None."""
    for url in _image_urls(body):
        head, _, data = url.partition(",")
        mime = head.removeprefix("data:").removesuffix(";base64")
        if not head.startswith("data:") or not head.endswith(";base64") or mime not in IMAGE_MAGIC:
            return f"not a base64 data URL of a JPEG or PNG ({head[:40]!r})"
        try:
            raw = base64.b64decode(data, validate=True)
        except ValueError:
            return "not valid base64"
        if not raw.startswith(IMAGE_MAGIC[mime]):
            return f"the data is not a {mime}"
    return None


def _free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def chat_requests(scripted) -> list[dict]:
    """The chat requests the scripted provider has had, in order."""
    return [r for r in scripted.requests if r["path"] == "/v1/chat/completions"]
