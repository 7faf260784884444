"""Which proxy a provider's URL goes through: HTTPS_PROXY / HTTP_PROXY / NO_PROXY (and the
system's proxy settings on macOS and Windows), as curl and httpx read them, with one rule more:
a loopback address (the bundled model, Ollama, LM Studio) is never sent to a proxy, which could
not reach it.

Worked out once per scheme and host, not per request: aiohttp's own `trust_env` asks again for
every request, in a worker thread, and also reads ~/.netrc — whose credentials would then clash
with (or go out instead of) the provider's key.
"""

from __future__ import annotations

import functools
import ipaddress
import logging
import urllib.request
from typing import Any
from urllib.parse import unquote, urlsplit

from aiohttp import BasicAuth

log = logging.getLogger(__name__)


def _is_loopback(host: str) -> bool:
    if host.lower() in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@functools.lru_cache(maxsize=256)
def proxy_for(scheme: str, host: str) -> tuple[str | None, BasicAuth | None]:
    """(proxy URL without credentials, its credentials) for requests to scheme://host, or (None, None)."""
    if not host or _is_loopback(host) or urllib.request.proxy_bypass(host):
        return None, None
    raw = urllib.request.getproxies().get(scheme)
    if not raw:
        return None, None
    proxy = urlsplit(raw if "://" in raw else f"http://{raw}")
    if proxy.scheme != "http":
        log.warning("%s_PROXY uses %s://, which the HTTP client cannot use; connecting directly.", scheme.upper(), proxy.scheme)
        return None, None
    auth = BasicAuth(unquote(proxy.username), unquote(proxy.password or "")) if proxy.username else None
    where = proxy.netloc.rpartition("@")[2]
    return f"http://{where}", auth


def proxy_options(url: str) -> dict[str, Any]:
    """aiohttp's `proxy` and `proxy_auth` for a request to `url`."""
    target = urlsplit(url)
    proxy, auth = proxy_for(target.scheme, target.hostname or "")
    return {"proxy": proxy, "proxy_auth": auth}
