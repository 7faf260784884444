"""What the wires that are one request and one answer (pictures, speech) share: the request, with
its answer read up to a cap, and a connection that failed said as the chat wire says it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import aiohttp

from ..events import Failure
from .providers import Endpoint
from .proxies import proxy_options


async def capped_body(response: aiohttp.ClientResponse, limit: int) -> bytes | None:
    """The response's body, or None when it is longer than `limit` bytes (read no further)."""
    body = bytearray()
    async for chunk in response.content.iter_chunked(65536):
        body += chunk
        if len(body) > limit:
            return None
    return bytes(body)


def redirected(endpoint: Endpoint, status: int) -> Failure:
    """An answer that is a redirect, which these wires do not follow (where to is not said)."""
    return Failure(
        "redirected",
        {"provider": endpoint.provider.label, "base_url": endpoint.base_url, "status": status, "location": "?"},
        status,
    )


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


@dataclass(frozen=True)
class Answered:
    status: int
    content_type: str
    body: bytes | None
    """None: longer than the cap (read no further)."""


async def post_once(
    http: Callable[..., aiohttp.ClientSession],
    endpoint: Endpoint,
    url: str,
    sent: aiohttp.FormData | bytes,
    *,
    timeout_s: float,
    limit: int,
) -> Answered | Failure:
    """POSTs `sent` (a form, or JSON bytes) to `url` with the endpoint's key, through the egress
    guard's pool when the endpoint is a visitor's (else the owner's proxy, if any), following no
    redirect; the answer, or why there is none."""
    headers = endpoint.headers()
    if isinstance(sent, bytes):
        headers["Content-Type"] = "application/json"
    try:
        async with http(public_only=endpoint.public_only).post(
            url,
            data=sent,
            headers=headers,
            allow_redirects=False,
            timeout=aiohttp.ClientTimeout(total=timeout_s),
            **({} if endpoint.public_only else proxy_options(url)),
        ) as response:
            return Answered(response.status, response.content_type or "", await capped_body(response, limit))
    except (aiohttp.ClientError, TimeoutError) as exc:
        return connect_failure(endpoint, exc, timeout_s)
