"""The picture wire: `POST /images/generations` and `/images/edits`, each provider in its own shape,
as one answer's events (Status "drawing", then Picture events, Usage, Finish, or a Failure).

The shapes are data (`SHAPES`, named by `Provider.pictures`), and each sends only the fields its
provider takes: xAI refuses unknown ones (`size`, `quality`) with a 400/422.
- xAI: JSON both ways, `{model, prompt, n, response_format: "url", aspect_ratio}`; an edit adds
  `image: {url: <data URI>, type: "image_url"}` (provider-notes.md). Its answer carries picture
  URLs that expire, and the cost in `usage.cost_in_usd_ticks`.
- OpenAI: JSON generations `{model, prompt, n, size}`, multipart edits (`image` as a file); the
  gpt-image models answer `b64_json`.

A picture address in an answer is data: it is fetched at once, only from the provider's own
origin (with its key) or over https elsewhere (no key, through the egress guard's sockets: never
an address inside this server's network), with redirects not followed and a size cap, and only
real pictures are kept (files/picture_store.py).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import orjson

from ..events import Event, Failure, Finish, Picture, Status, Usage
from ..files.picture_store import KeptPicture, NotAPicture, PictureStore
from .errors import classify_http_error, provider_message, redact
from .model_info import XAI_TICKS_PER_USD
from .providers import Endpoint
from .proxies import proxy_options
from .single_requests import post_once, redirected

log = logging.getLogger(__name__)

MAX_PICTURES = 4
"""Pictures asked for at once, at most (xAI takes 10; four fill a row of the chat)."""
ASPECT_RATIOS = ("1:1", "16:9", "9:16", "4:3", "3:4", "3:2", "2:3")
REFUSAL_WORDS = ("moderation", "safety system", "content policy", "content_policy", "policy violation")
"""A 400 whose message says one of these is a refused prompt (xAI: "rejected by content
moderation"; OpenAI: `moderation_blocked`, `content_policy_violation`)."""


@dataclass(frozen=True)
class PictureRequest:
    endpoint: Endpoint
    model: str
    prompt: str
    count: int = 1
    aspect_ratio: str | None = None
    reference: str | None = None
    """The picture to change, as a data URI (an edit); None makes a new one."""
    per_image: float | None = None
    """The list price of one picture (models.yaml), when the provider reports no cost."""


def xai_body(request: PictureRequest) -> dict[str, Any]:
    body: dict[str, Any] = {"model": request.model, "prompt": request.prompt, "n": request.count, "response_format": "url"}
    if request.aspect_ratio:
        body["aspect_ratio"] = request.aspect_ratio
    if request.reference:
        body["image"] = {"url": request.reference, "type": "image_url"}
    return body


def openai_size(aspect_ratio: str | None) -> str | None:
    """The gpt-image size nearest the ratio: square, landscape or portrait (None: the model's own)."""
    if not aspect_ratio:
        return None
    wide, high = (float(part) for part in aspect_ratio.split(":"))
    return "1024x1024" if wide == high else "1536x1024" if wide > high else "1024x1536"


def openai_body(request: PictureRequest) -> dict[str, Any]:
    body: dict[str, Any] = {"model": request.model, "prompt": request.prompt, "n": request.count}
    if size := openai_size(request.aspect_ratio):
        body["size"] = size
    return body


def openai_edit_form(request: PictureRequest) -> aiohttp.FormData:
    """The multipart form of OpenAI's /images/edits: the picture as a file, the rest as fields."""
    header, _, encoded = (request.reference or "").partition(",")
    mime = header.removeprefix("data:").split(";")[0] or "image/png"
    form = aiohttp.FormData()
    for name, value in openai_body(request).items():
        form.add_field(name, str(value))
    form.add_field("image", base64.b64decode(encoded), filename="picture." + mime.split("/")[-1], content_type=mime)
    return form


@dataclass(frozen=True)
class PictureShape:
    body: Callable[[PictureRequest], dict[str, Any]]
    edit_as_form: bool = False


SHAPES: dict[str, PictureShape] = {"xai": PictureShape(xai_body), "openai": PictureShape(openai_body, edit_as_form=True)}


class PictureClient:
    """Makes pictures with the chat wire's connection pools (client.ChatClient.http)."""

    def __init__(self, http: Callable[..., aiohttp.ClientSession], store: PictureStore, *, timeout_s: float) -> None:
        self._http, self.store, self.timeout_s = http, store, timeout_s

    async def stream(self, request: PictureRequest) -> AsyncIterator[Event]:
        """The pictures as events. A Failure whose `params["made"]` is true came after the provider
        answered with pictures (which it bills); any other, before it made any."""
        endpoint = request.endpoint
        label = endpoint.provider.label
        shape = SHAPES[endpoint.provider.pictures or ""]
        edit = request.reference is not None
        yield Status("drawing", {"count": request.count, "why": "edit" if edit else "one" if request.count == 1 else None})
        url = endpoint.pictures_url(edit)
        body = shape.body(request)
        sent = openai_edit_form(request) if edit and shape.edit_as_form else orjson.dumps(body)
        # A provider's answer holds the pictures themselves at most (base64): read no more.
        limit = MAX_PICTURES * self.store.max_bytes * 4 // 3 + 1_000_000
        answered = await post_once(self._http, endpoint, url, sent, timeout_s=self.timeout_s, limit=limit)
        if type(answered) is Failure:
            yield answered
            return
        status, raw = answered.status, answered.body
        if status >= 300:
            yield _refusal(request, status, redact(provider_message(raw or b""), endpoint.api_key), body)
            return
        if raw is None:
            yield Failure(
                "picture", {"why": "too_large", "provider": label, "limit_mb": self.store.max_bytes / 1e6, "made": True}
            )
            return
        try:
            answer = orjson.loads(raw)
        except orjson.JSONDecodeError:
            answer = None
        items = answer.get("data") if isinstance(answer, Mapping) else None
        items = [item for item in items if isinstance(item, Mapping)][: request.count] if isinstance(items, list) else []
        if not items:
            yield Failure("picture", {"why": "none", "provider": label, "made": True})
            return
        # The cost first: what the provider bills stands even when a picture then cannot be kept.
        yield _usage(answer.get("usage"), request.per_image, len(items))
        for item in items:
            kept = await self._kept(endpoint, item)
            if type(kept) is Failure:
                yield Failure(kept.kind, {**kept.params, "made": True}, kept.status)
                return
            prompt = item.get("revised_prompt")
            yield Picture(kept.path, kept.mime_type, kept.size, prompt.strip()[:4000] if isinstance(prompt, str) else "")
        yield Finish("stop")

    async def _kept(self, endpoint: Endpoint, item: Mapping[str, Any]) -> KeptPicture | Failure:
        """One picture of the answer, fetched if it is an address, and kept."""
        label = endpoint.provider.label
        if isinstance(encoded := item.get("b64_json"), str):
            if len(encoded) > self.store.max_bytes * 4 // 3 + 4:
                return Failure("picture", {"why": "too_large", "provider": label, "limit_mb": self.store.max_bytes / 1e6})
            try:
                data = base64.b64decode(encoded, validate=True)
            except (binascii.Error, ValueError):
                return Failure("picture", {"why": "not_image", "provider": label})
        elif isinstance(address := item.get("url"), str):
            data = await self._download(endpoint, address)
            if type(data) is Failure:
                return data
        else:
            return Failure("picture", {"why": "none", "provider": label})
        try:
            return await asyncio.to_thread(self.store.keep, data)
        except NotAPicture as exc:
            return Failure("picture", {"why": exc.why, "provider": label, "limit_mb": self.store.max_bytes / 1e6})
        except OSError:
            log.exception("A picture could not be written to %s", self.store.root)
            return Failure("picture", {"why": "not_kept", "provider": label})

    async def _download(self, endpoint: Endpoint, address: str) -> bytes | Failure:
        label = endpoint.provider.label
        origin = _origin(address)
        own = origin == _origin(endpoint.base_url)
        if not origin[1] or (not own and origin[0] != "https"):
            return Failure("picture", {"why": "address", "provider": label})
        proxy = {} if endpoint.public_only else proxy_options(address)
        # Elsewhere than the provider's own origin, through the guarded pool unless the owner's
        # proxy carries it (the proxy is then where connections go, and the owner chose it).
        guarded = endpoint.public_only or (not own and not proxy.get("proxy"))
        headers = endpoint.headers() if own else {}
        limit = self.store.max_bytes
        try:
            async with self._http(public_only=guarded).get(
                address,
                headers=headers,
                allow_redirects=False,
                timeout=aiohttp.ClientTimeout(total=self.timeout_s),
                **({} if guarded else proxy),
            ) as response:
                if response.status != 200:
                    return Failure("picture", {"why": "download", "provider": label, "status": response.status}, response.status)
                data = bytearray()
                async for chunk in response.content.iter_chunked(65536):
                    data += chunk
                    if len(data) > limit:
                        return Failure("picture", {"why": "too_large", "provider": label, "limit_mb": limit / 1e6})
                return bytes(data)
        except aiohttp.ClientConnectorError as exc:
            if "refused by Causerie" in str(exc.os_error):
                return Failure("picture", {"why": "address", "provider": label})
            return Failure("picture", {"why": "download.connection", "provider": label})
        except (aiohttp.ClientError, TimeoutError):
            return Failure("picture", {"why": "download.connection", "provider": label})


def _origin(url: str) -> tuple[str, str, int | None]:
    try:
        parts = urlsplit(url)
        return parts.scheme, (parts.hostname or "").lower(), parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return "", "", None


def _refusal(request: PictureRequest, status: int, detail: str, body: dict[str, Any]) -> Failure:
    """A refused request as a Failure: a refused prompt said as such, else as the chat wire says it."""
    endpoint = request.endpoint
    if status in (400, 422) and any(word in detail.lower() for word in REFUSAL_WORDS):
        return Failure(
            "picture", {"why": "refused", "provider": endpoint.provider.label, "status": status, "detail": detail[:300]}, status
        )
    if 300 <= status < 400:
        return redirected(endpoint, status)
    return classify_http_error(endpoint, request.model, status, detail[:300], sent=body).failure


def _usage(raw: Any, per_image: float | None, count: int) -> Usage:
    """What the pictures cost: xAI's billed ticks; else the image tokens OpenAI counts (priced by
    the service from models.yaml); else the price per picture."""
    usage = raw if isinstance(raw, Mapping) else {}

    def whole(name: str) -> int | None:
        value = usage.get(name)
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    ticks = usage.get("cost_in_usd_ticks")
    if isinstance(ticks, int | float) and not isinstance(ticks, bool):
        return Usage(cost_usd=ticks / XAI_TICKS_PER_USD, cost_source="provider")
    if whole("input_tokens") is not None and whole("output_tokens") is not None:
        return Usage(prompt_tokens=whole("input_tokens"), completion_tokens=whole("output_tokens"))
    if per_image is not None:
        return Usage(cost_usd=per_image * count, cost_source="price_table")
    return Usage()
