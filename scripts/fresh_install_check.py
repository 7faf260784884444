"""Use the app as a fresh install of requirements.txt alone has it (a Space, or the README's first
command): run this with that environment's Python. It starts the app signed-in mode on SQLite,
against a provider address given as its argument, and checks the store, the votes, the leaderboard,
the Responses path and the MCP server, each of which needs a package only the runtime may bring
(SQLAlchemy's asyncio needs greenlet; the Responses path, the openai SDK; MCP, the mcp SDK).

    python scripts/fresh_install_check.py http://127.0.0.1:PORT/v1   # a scripted provider

Prints one line per check and exits non-zero at the first that fails. Runs nothing from tests/ and
imports nothing the runtime does not declare (gradio_client comes with gradio)."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the app is run from its checkout, as a Space runs it
USER, PASSWORD = "alice", "fresh-install-check"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def check(name: str, ok: bool, detail: object = "") -> None:
    print(f"{'ok' if ok else 'FAILED'}: {name}" + (f" ({detail})" if not ok and detail else ""), flush=True)
    if not ok:
        raise SystemExit(1)


async def store_round_trip(url: str) -> None:
    """A signed-in person's conversation written and read back, and a vote kept."""
    from causerie.compare.rating import Vote
    from causerie.compare.votes import BallotBox
    from causerie.config.history_settings import HistoryLimits
    from causerie.config.store_urls import async_url
    from causerie.history.conversations import Conversation
    from causerie.history.store.conversation_store import ConversationStore

    store = ConversationStore(async_url(url), HistoryLimits())
    try:
        await store.put(
            USER,
            Conversation(
                "c1",
                ({"role": "user", "content": "Bonjour"}, {"role": "assistant", "content": "Salut"}),
                created_at=1,
                updated_at=1,
            ),
        )
        kept = await store.get(USER, "c1")
        check("the store keeps a signed-in person's conversation", kept is not None and len(kept.messages) == 2)
    finally:
        await store.close()
    ballots = BallotBox(async_url(url))
    try:
        check("a vote is kept", await ballots.record(Vote("q1", ("xai:model-a", "xai:model-b"), "0")))
    finally:
        await ballots.close()


async def mcp_ask(port: int) -> tuple[list[str], str]:
    """The MCP server's tools, and `ask`'s answer, through the mcp SDK's own client (signed in)."""
    import base64

    import httpx
    from mcp import ClientSession
    from mcp.client.streamable_http import streamable_http_client

    signed_in = {"Authorization": "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()}
    http = httpx.AsyncClient(headers=signed_in, timeout=httpx.Timeout(30, read=120))
    async with http, streamable_http_client(f"http://127.0.0.1:{port}/gradio_api/mcp/", http_client=http) as (read, write, _):
        async with ClientSession(read, write) as session:
            await session.initialize()
            tools = [tool.name for tool in (await session.list_tools()).tools]
            result = await session.call_tool("ask", {"message": "Bonjour", "provider": "xai", "model": "model-a"})
            return tools, result.content[0].text


def main(provider_url: str) -> None:
    from gradio_client import Client

    folder = Path(tempfile.mkdtemp(prefix="causerie-fresh-"))
    database = f"sqlite:///{folder / 'causerie.db'}"
    port = free_port()
    keep = ("PATH", "HOME", "LANG", "TMPDIR", "SYSTEMROOT")
    env = {name: os.environ[name] for name in keep if name in os.environ}
    env.update(
        {
            "GRADIO_SERVER_NAME": "127.0.0.1",
            "GRADIO_SERVER_PORT": str(port),
            "CAUSERIE_DATA_DIR": str(folder),
            "DATABASE_URL": database,
            "AUTH_USERS": f"{USER}:{PASSWORD}",
            "HISTORY_SECRET": "fresh-install-check-secret",
            "XAI_API_KEY": "not-a-real-key",
            "XAI_BASE_URL": provider_url,
            "GRADIO_ANALYTICS_ENABLED": "False",
            "MCP_SERVER": "1",
        }
    )
    log = (folder / "app.log").open("wb")
    app = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        while True:
            if app.poll() is not None:
                check("the app starts signed-in mode on SQLite", False, (folder / "app.log").read_text()[-2000:])
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    check("the app starts within 120 s", False, (folder / "app.log").read_text()[-2000:])
                time.sleep(0.5)
        check("the app starts signed-in mode on SQLite", True)
        client = Client(f"http://127.0.0.1:{port}/", auth=(USER, PASSWORD), verbose=False)
        answer = client.predict("Bonjour", provider="xai", model="model-a", api_name="/chat")
        check("/chat answers through Chat Completions", bool(answer), answer)
        details = client.predict(
            "Search, please", provider="xai", model="grok-4.3", tools=["web_search"], api_name="/chat_details"
        )
        check("/chat_details answers through the Responses API", bool(details.get("answer")), details)
        asyncio.run(store_round_trip(database))
        board = client.predict(api_name="/leaderboard")
        check("the leaderboard reads the votes", {row.get("model") for row in board} >= {"xai:model-a"}, board)
        tools, said = asyncio.run(mcp_ask(port))
        check("the MCP server lists its tools and answers", tools == ["ask", "search", "compare"] and bool(said), (tools, said))
    finally:
        app.terminate()
        try:
            app.wait(20)
        except subprocess.TimeoutExpired:
            app.kill()


if __name__ == "__main__":
    main(sys.argv[1])
