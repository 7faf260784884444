"""Calls of the API over Gradio's plain HTTP pair (`POST /gradio_api/call/<name>`, as curl makes
them) with fewer values than the endpoint takes: the missing ones are given as null, so that the
endpoint's own checks name what is missing ("'message' must be a string") instead of Gradio's
refusal, which reaches the caller as `{"error": null}` (it counts the values before any function
runs, and hides why). gradio_client always sends every value; the page never calls these routes.

An ASGI middleware, not a change to Gradio: it only completes the JSON body of these routes, and
only for the endpoints the app registered (`arity`), by name."""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable, Mapping
from typing import Any

PREFIXES = ("/gradio_api/call/", "/call/")
MAX_BODY = 16 * 1024 * 1024  # a larger call is passed on untouched (Gradio refuses its own way)


def arity(function: Callable) -> int:
    """How many values an endpoint takes: its parameters but the request Gradio gives it."""
    return sum(1 for name in inspect.signature(function).parameters if name != "request")


class CompleteApiArguments:
    def __init__(self, app: Any, arities: Mapping[str, int]) -> None:
        self.app, self.arities = app, arities

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        path = scope.get("path", "") if scope["type"] == "http" and scope.get("method") == "POST" else ""
        name = next((path[len(p) :] for p in PREFIXES if path.startswith(p)), None)
        wanted = self.arities.get((name or "").strip("/"))
        if not wanted:
            await self.app(scope, receive, send)
            return
        chunks, more = [], True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, _replay([message]), send)  # a disconnect: nothing to complete
                return
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
            if sum(map(len, chunks)) > MAX_BODY:
                await self.app(
                    scope, _replay([{"type": "http.request", "body": b"".join(chunks), "more_body": more}], receive), send
                )
                return
        body = _completed(b"".join(chunks), wanted)
        headers = [(k, v) for k, v in scope.get("headers", []) if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(body)).encode()))
        await self.app(
            {**scope, "headers": headers}, _replay([{"type": "http.request", "body": body, "more_body": False}], receive), send
        )


def _completed(body: bytes, wanted: int) -> bytes:
    """The body with `data` padded with nulls to `wanted` values; as it was when it is not a JSON
    object with a list of fewer values."""
    try:
        parsed = json.loads(body)  # (not orjson: it refuses a lone surrogate, which the endpoint names)
    except ValueError:
        return body
    data = parsed.get("data") if isinstance(parsed, dict) else None
    if not isinstance(data, list) or len(data) >= wanted:
        return body
    return json.dumps({**parsed, "data": data + [None] * (wanted - len(data))}).encode()


def _replay(messages: list[dict], then: Callable | None = None) -> Callable:
    async def receive() -> dict:
        if messages:
            return messages.pop(0)
        if then is not None:
            return await then()
        return {"type": "http.disconnect"}

    return receive
