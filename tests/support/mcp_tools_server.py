"""A real MCP server on loopback, made with the `mcp` SDK's own server (FastMCP, Streamable HTTP),
run in a process of its own so that a test can kill it mid-call.

Its tools record each call (name, arguments, start and end) and every HTTP request's headers in a
JSON-lines file, which the test reads: what reached the server is known, not guessed.

    python -m support.mcp_tools_server PORT LOG
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class McpToolsServer:
    """The test's handle on the server process: its URL, what it recorded, and a way to kill it."""

    def __init__(self, log: Path) -> None:
        self.log = log
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}/mcp"
        self.process: subprocess.Popen | None = None

    def start(self) -> McpToolsServer:
        self.log.write_text("")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "support.mcp_tools_server", str(self.port), str(self.log)],
            cwd=HERE.parent,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("the MCP tools server did not start")

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(5)

    def records(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.log.read_text().splitlines() if line.strip()]

    def calls(self) -> list[dict[str, Any]]:
        return [r for r in self.records() if r["kind"] == "call"]

    def headers(self) -> list[dict[str, str]]:
        return [r["headers"] for r in self.records() if r["kind"] == "http"]

    def clear(self) -> None:
        self.log.write_text("")

    def wait_for_call(self, tool: str, seconds: float = 10.0) -> dict[str, Any]:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            for call in self.calls():
                if call["tool"] == tool:
                    return call
            time.sleep(0.02)
        raise AssertionError(f"no call of {tool} reached the server")


def _serve(port: int, log: Path) -> None:
    import uvicorn
    from mcp.server.fastmcp import FastMCP

    def note(record: dict[str, Any]) -> None:
        with log.open("a") as out:
            out.write(json.dumps(record) + "\n")

    server = FastMCP("causerie-test-tools", port=port)

    @server.tool(description="Adds two numbers.")
    def add(a: float, b: float) -> str:
        note({"kind": "call", "tool": "add", "arguments": {"a": a, "b": b}, "at": time.time()})
        total = a + b
        return str(int(total) if total == int(total) else total)

    @server.tool(description="Says the text back.")
    def echo(text: str) -> str:
        note({"kind": "call", "tool": "echo", "arguments": {"text": text}, "at": time.time()})
        return text

    @server.tool(description="Waits, then says it waited.")
    async def wait(seconds: float = 1.0) -> str:
        started = time.time()
        note({"kind": "call", "tool": "wait", "arguments": {"seconds": seconds}, "at": started})
        try:
            await asyncio.sleep(seconds)
        except asyncio.CancelledError:
            note({"kind": "cancelled", "tool": "wait", "at": time.time()})
            raise
        note({"kind": "ended", "tool": "wait", "at": started, "ended": time.time()})
        return f"waited {seconds:g} s"

    @server.tool(description="Always fails.")
    def broken() -> str:
        note({"kind": "call", "tool": "broken", "arguments": {}, "at": time.time()})
        raise ValueError("the tool broke on purpose")

    @server.tool(description="Returns a long text.")
    def long_text(lines: int = 40) -> str:
        note({"kind": "call", "tool": "long_text", "arguments": {"lines": lines}, "at": time.time()})
        return "\n".join(f"line {n}: <b>bold?</b> ![x](https://example.com/x.png)" for n in range(1, lines + 1))

    app = server.streamable_http_app()

    async def recorded(scope, receive, send):  # every request's headers, before the SDK's app
        if scope["type"] == "http":
            headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
            note({"kind": "http", "method": scope["method"], "headers": headers})
        await app(scope, receive, send)

    uvicorn.run(recorded, host="127.0.0.1", port=port, log_level="warning", lifespan="on")


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    _serve(int(sys.argv[1]), Path(sys.argv[2]))
