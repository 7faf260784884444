"""Which models a provider lists (GET /models), fetched in the background and cached.

Accepts OpenAI's `{"data": [...]}`, a bare array (Together) and `{"models": [...]}` (xAI's
/language-models, which also carries prices: handed to `on_payload`). A failure is cached
briefly too, so a dead server is not asked on every page load; the person can always type a
model id by hand.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

import aiohttp
import orjson

from .providers import Endpoint
from .proxies import proxy_options

log = logging.getLogger(__name__)


def parse_model_list(payload: Any) -> list[str]:
    if isinstance(payload, dict):
        payload = payload.get("data", payload.get("models", []))
    ids: list[str] = []
    if isinstance(payload, list):
        for item in payload:
            if isinstance(item, str):
                ids.append(item)
            elif isinstance(item, dict):
                model_id = item.get("id") or item.get("name") or item.get("model")
                if isinstance(model_id, str):
                    ids.append(model_id)
    return list(dict.fromkeys(ids))


class ModelCatalog:
    def __init__(
        self,
        *,
        timeout: float = 5.0,
        ttl_s: float = 600.0,
        failure_ttl_s: float = 30.0,
        on_payload: Callable[[Endpoint, Any], None] | None = None,
    ) -> None:
        self.timeout = timeout
        self.ttl_s = ttl_s
        self.failure_ttl_s = failure_ttl_s
        self.on_payload = on_payload
        self._cache: dict[tuple[str, str], tuple[float, list[str]]] = {}
        self._inflight: dict[tuple[str, str], asyncio.Future] = {}

    @staticmethod
    def _key(endpoint: Endpoint) -> tuple[str, str]:
        return (endpoint.provider.id, endpoint.base_url)

    def cached(self, endpoint: Endpoint) -> list[str] | None:
        entry = self._cache.get(self._key(endpoint))
        return entry[1] if entry and entry[0] > time.monotonic() else None

    async def models(self, http: aiohttp.ClientSession, endpoint: Endpoint) -> list[str]:
        """The listed model ids, or [] when the provider cannot be asked right now."""
        key = self._key(endpoint)
        if (hit := self.cached(endpoint)) is not None:
            return hit
        if key in self._inflight:  # many pages loading at once ask the provider once
            return await asyncio.shield(self._inflight[key])
        future = asyncio.get_running_loop().create_future()
        self._inflight[key] = future
        models: list[str] = []
        try:
            models = await self._listed(http, endpoint, share=True)
        finally:
            ttl = self.ttl_s if models else self.failure_ttl_s
            self._cache[key] = (time.monotonic() + ttl, models)
            del self._inflight[key]
            future.set_result(models)
        return models

    async def fetch(self, http: aiohttp.ClientSession, endpoint: Endpoint) -> list[str]:
        """The list asked afresh and kept by nobody: for one person's own key or endpoint, whose
        answer must not reach anyone else (nor the shared prices)."""
        return await self._listed(http, endpoint, share=False)

    async def _listed(self, http: aiohttp.ClientSession, endpoint: Endpoint, *, share: bool) -> list[str]:
        urls = [endpoint.models_url]
        plain = endpoint.base_url.rstrip("/") + "/models"
        if plain not in urls:
            urls.append(plain)  # a compatible server behind XAI_BASE_URL may only have /models
        for url in urls:
            try:
                async with http.get(
                    url,
                    headers=endpoint.headers(),
                    allow_redirects=False,
                    **({} if endpoint.public_only else proxy_options(url)),
                    timeout=aiohttp.ClientTimeout(total=self.timeout),
                ) as response:
                    if response.status != 200:
                        log.info("Model list from %s: HTTP %s", endpoint.provider.label, response.status)
                        continue
                    payload = orjson.loads(await response.read())
            except (TimeoutError, aiohttp.ClientError, orjson.JSONDecodeError) as exc:
                log.info("Model list from %s failed: %s", endpoint.provider.label, type(exc).__name__)
                continue
            if share and self.on_payload is not None:
                self.on_payload(endpoint, payload)
            return parse_model_list(payload)
        return []
