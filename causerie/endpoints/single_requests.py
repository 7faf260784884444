"""What the wires that are one request and one answer (pictures, speech) share: a body read with a
cap, and a connection that failed said as the chat wire says it."""

from __future__ import annotations

import aiohttp

from ..events import Failure
from .providers import Endpoint


async def capped_body(response: aiohttp.ClientResponse, limit: int) -> bytes | None:
    """The response's body, or None when it is longer than `limit` bytes (read no further)."""
    body = bytearray()
    async for chunk in response.content.iter_chunked(65536):
        body += chunk
        if len(body) > limit:
            return None
    return bytes(body)


def connect_failure(endpoint: Endpoint, exc: BaseException, timeout_s: float) -> Failure:
    """A request that got no answer: timed out, refused by the egress guard, or another error."""
    label = endpoint.provider.label
    if isinstance(exc, TimeoutError | aiohttp.ServerTimeoutError):
        return Failure("timeout", {"provider": label, "why": "first", "seconds": timeout_s, "setting": "CAUSERIE_READ_TIMEOUT"})
    if isinstance(exc, aiohttp.ClientConnectorError) and "refused by Causerie" in str(exc.os_error):
        return Failure(
            "endpoint_refused",
            {"why": "address", "base_url": endpoint.base_url, "host": exc.host, "reason": "not a public internet address"},
        )
    return Failure(
        "connect",
        {
            "provider": label,
            "base_url": endpoint.base_url,
            "why": "other",
            "error": type(exc).__name__,
            "base_url_env": endpoint.provider.base_url_env,
        },
    )
