"""The wire client run against the scripted server, for the tests of the client and of what
goes over the wire: a client with quick retries, an endpoint, a whole stream's events and the
answer they make."""

from __future__ import annotations

import asyncio

from causerie.answering.answer import Answer
from causerie.endpoints.client import ChatClient, ChatRequest, RetryPolicy
from causerie.endpoints.providers import Endpoint, get_provider

from support.apps import run_async

KEY = "test-key-not-a-secret-0123456789"


def make_client(**kw):
    kw.setdefault("retry", RetryPolicy(max_retries=2, backoff_s=0.01))
    kw.setdefault("connect_timeout", 0.5)
    return ChatClient(**kw)


def endpoint(server, provider="openai", key=KEY):
    return Endpoint(get_provider(provider), server.base_url, key)


def run(client, ep, model="model-a", messages=None, **params):
    request = ChatRequest(ep, model, messages or [{"role": "user", "content": "Hi"}], params)

    async def go():
        try:
            return [e async for e in client.stream(request)]
        finally:
            await client.aclose()

    return run_async(go())


async def settled(scripted, seconds: float = 2.0) -> str:
    """scripted.settled_outcome, waited for without holding up this event loop."""
    return await asyncio.to_thread(scripted.settled_outcome, seconds)


def answer_of(events):
    answer = Answer()
    for e in events:
        answer.apply(e)
    return answer
