"""A paced OpenAI-compatible server for the benchmark: deterministic tokens at a set rate.

Every chat completion streams `--tokens` tokens ("tok0 ", "tok1 ", ...) at `--rate` tokens per
second after `--ttft` seconds, then a finish chunk, a usage chunk and [DONE]. It speaks just
enough HTTP/1.1 (keep-alive, chunked bodies) on raw asyncio streams so that the server itself
costs little CPU next to what it measures. Loopback only.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

MODELS = json.dumps({"object": "list", "data": [{"id": "paced", "object": "model"}]}).encode()


def chunk_frame(payload: bytes) -> bytes:
    return f"{len(payload):x}\r\n".encode() + payload + b"\r\n"


class Paced:
    def __init__(self, tokens: int, rate: float, ttft: float) -> None:
        self.tokens, self.rate, self.ttft = tokens, rate, ttft
        head = b'data: {"id":"p","object":"chat.completion.chunk","model":"paced","choices":[{"index":0,"delta":{"content":"'
        tail = b'"},"finish_reason":null}]}\n\n'
        self.frames = [chunk_frame(head + f"tok{i} ".encode() + tail) for i in range(tokens)]
        finish = b'data: {"id":"p","object":"chat.completion.chunk","model":"paced","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\n'
        usage = (
            'data: {"id":"p","object":"chat.completion.chunk","model":"paced","choices":[],"usage":'
            f'{{"prompt_tokens":20,"completion_tokens":{tokens},"total_tokens":{tokens + 20}}}}}\n\n'
        ).encode()
        self.end = chunk_frame(finish) + chunk_frame(usage) + chunk_frame(b"data: [DONE]\n\n") + b"0\r\n\r\n"
        # The same answer as a Responses API stream (POST /responses), framed as xAI frames it.
        created = b'event: response.created\ndata: {"type":"response.created","sequence_number":0,"response":{"id":"r","object":"response","created_at":0,"model":"paced","output":[],"status":"in_progress","tools":[],"parallel_tool_calls":true,"tool_choice":"auto"}}\n\n'
        delta = (
            b'event: response.output_text.delta\ndata: {"type":"response.output_text.delta","sequence_number":1,'
            b'"item_id":"m","output_index":0,"content_index":0,"logprobs":[],"delta":"'
        )
        self.response_frames = [chunk_frame(created)] + [
            chunk_frame(delta + f"tok{i} ".encode() + b'"}\n\n') for i in range(tokens)
        ]
        completed = (
            'event: response.completed\ndata: {"type":"response.completed","sequence_number":2,"response":'
            '{"id":"r","object":"response","created_at":0,"model":"paced","output":[],"status":"completed",'
            '"tools":[],"parallel_tool_calls":true,"tool_choice":"auto","usage":{"input_tokens":20,'
            '"input_tokens_details":{"cached_tokens":0},"output_tokens":' + str(tokens) + ","
            '"output_tokens_details":{"reasoning_tokens":0},"total_tokens":' + str(tokens + 20) + "}}}\n\n"
        )
        self.response_end = chunk_frame(completed.encode()) + b"0\r\n\r\n"

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                request_line, *header_lines = head.decode("latin-1").split("\r\n")
                method, path, _ = request_line.split(" ", 2)
                headers = {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in header_lines if h)}
                length = int(headers.get("content-length", "0"))
                if length:
                    await reader.readexactly(length)
                if method == "GET" and path.endswith("/models"):
                    writer.write(
                        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: "
                        + str(len(MODELS)).encode()
                        + b"\r\n\r\n"
                        + MODELS
                    )
                elif method == "POST" and path.endswith("/chat/completions"):
                    await self.stream(writer, self.frames, self.end)
                elif method == "POST" and path.endswith("/responses"):
                    await self.stream(writer, self.response_frames[1:], self.response_end, self.response_frames[0])
                else:
                    writer.write(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            pass
        finally:
            writer.close()

    async def stream(self, writer: asyncio.StreamWriter, frames: list[bytes], end: bytes, first: bytes = b"") -> None:
        writer.write(
            b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-cache\r\n"
            b"transfer-encoding: chunked\r\n\r\n" + first
        )
        start = time.monotonic() + self.ttft
        interval = 1.0 / self.rate
        for i, frame in enumerate(frames):
            delay = start + i * interval - time.monotonic()  # an absolute schedule: no drift
            if delay > 0:
                await asyncio.sleep(delay)
            writer.write(frame)
            await writer.drain()
        writer.write(end)


async def serve(port: int, paced: Paced) -> None:
    server = await asyncio.start_server(paced.handle, "127.0.0.1", port, backlog=1024)
    async with server:
        await server.serve_forever()


@contextlib.contextmanager
def running(tokens: int = 200, rate: float = 100.0, ttft: float = 0.1) -> Iterator[str]:
    """A paced server in its own process for the length of a `with`; gives its base URL."""
    from procs import free_port

    port = free_port()
    process = subprocess.Popen(
        [sys.executable, __file__, "--port", str(port), "--tokens", str(tokens), "--rate", str(rate), "--ttft", str(ttft)]
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the paced server did not start") from None
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        process.terminate()
        process.wait(5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--tokens", type=int, default=200)
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--ttft", type=float, default=0.1)
    args = parser.parse_args()
    asyncio.run(serve(args.port, Paced(args.tokens, args.rate, args.ttft)))


if __name__ == "__main__":
    main()
