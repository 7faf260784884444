"""How much CPU the wire costs: N answers streamed at once from the paced server, read in this
process by Causerie's client and by the alternatives it was chosen over.

    python bench/wire.py [--users 100] [--rounds 3]

Prints CPU seconds per 1,000 tokens for each reader (the median over rounds). Loopback only,
about half a minute. The numbers behind the choice of aiohttp in causerie/client.py are in
bench/NOTES.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
from pathlib import Path

import httpx
import orjson
from httpx_sse import aconnect_sse

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from causerie.endpoints.client import ChatClient, ChatRequest  # noqa: E402
from causerie.endpoints.providers import Endpoint, get_provider  # noqa: E402
from causerie.endpoints.responses import ResponsesClient  # noqa: E402
from causerie.events import TextDelta  # noqa: E402

from paced_server import running  # noqa: E402  (bench/, this script's folder, is on the path)

MESSAGES = [{"role": "user", "content": "Hello, please answer."}]


async def causerie_client(base_url: str, users: int) -> int:
    client = ChatClient()
    endpoint = Endpoint(get_provider("openai"), base_url, None)

    async def one() -> int:
        return sum([type(e) is TextDelta async for e in client.stream(ChatRequest(endpoint, "paced", MESSAGES))])

    try:
        return sum(await asyncio.gather(*(one() for _ in range(users))))
    finally:
        await client.aclose()


async def httpx_sse_orjson(base_url: str, users: int) -> int:
    """The wire before: httpx with httpx-sse, each chunk parsed with orjson."""
    body = {"model": "paced", "messages": MESSAGES, "stream": True}
    async with httpx.AsyncClient(limits=httpx.Limits(max_connections=None), timeout=60) as http:

        async def one() -> int:
            tokens = 0
            async with aconnect_sse(http, "POST", base_url + "/chat/completions", json=body) as source:
                async for sse in source.aiter_sse():
                    if sse.data == "[DONE]":
                        break
                    chunk = orjson.loads(sse.data)
                    tokens += bool(chunk.get("choices") and chunk["choices"][0]["delta"].get("content"))
            return tokens

        return sum(await asyncio.gather(*(one() for _ in range(users))))


async def openai_sdk(base_url: str, users: int) -> int:
    from openai import AsyncOpenAI

    async with AsyncOpenAI(
        base_url=base_url,
        api_key="placeholder",
        max_retries=0,
        http_client=httpx.AsyncClient(limits=httpx.Limits(max_connections=None), timeout=60),
    ) as sdk:

        async def one() -> int:
            stream = await sdk.chat.completions.create(model="paced", messages=MESSAGES, stream=True)
            return sum([bool(c.choices and c.choices[0].delta.content) async for c in stream])

        return sum(await asyncio.gather(*(one() for _ in range(users))))


async def causerie_responses(base_url: str, users: int) -> int:
    """The Responses path (search tools): the openai SDK's typed events, turned into Causerie's."""
    client = ResponsesClient(connect_timeout=10, read_timeout=60)
    endpoint = Endpoint(get_provider("openai"), base_url, None)
    request = ChatRequest(endpoint, "paced", MESSAGES, tools=("web_search",))

    async def one() -> int:
        return sum([type(e) is TextDelta async for e in client.stream(request)])

    return sum(await asyncio.gather(*(one() for _ in range(users))))


READERS = {
    "Causerie's client (aiohttp, own SSE decoder)": causerie_client,
    "Causerie's Responses path (openai SDK, typed events)": causerie_responses,
    "httpx + httpx-sse + orjson": httpx_sse_orjson,
    "openai SDK (httpx, pydantic per chunk)": openai_sdk,
}


def cpu_s() -> float:
    return sum(os.times()[:2])


async def measure(base_url: str, users: int, rounds: int, tokens_each: int) -> dict[str, list[float]]:
    per_1k: dict[str, list[float]] = {name: [] for name in READERS}
    for _ in range(rounds):
        for name, read in READERS.items():
            before = cpu_s()
            tokens = await read(base_url, users)
            if tokens != users * tokens_each:
                raise SystemExit(f"{name} received {tokens} tokens of {users * tokens_each}")
            per_1k[name].append((cpu_s() - before) / tokens * 1000)
    return per_1k


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--tokens", type=int, default=200)
    args = parser.parse_args()
    try:
        import uvloop  # the loop the app runs on

        uvloop.install()
    except ImportError:
        pass
    with running(args.tokens) as paced_url:
        results = asyncio.run(measure(paced_url, args.users, args.rounds, args.tokens))
    print(f"{args.users} answers of {args.tokens} tokens at once, median of {args.rounds} rounds:\n")
    print("| reader | CPU s per 1k tokens |\n|---|---|")
    for name, values in results.items():
        print(f"| {name} | {statistics.median(values):.4f} |")


if __name__ == "__main__":
    main()
