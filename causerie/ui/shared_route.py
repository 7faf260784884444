"""The shared pages, /s/<id> and their pictures /s/<id>/picture/<n>: an ASGI middleware in front of
Gradio, answering with plain HTML made on the server (history/shares.py).

Many readers, one writer: a page is made once and kept (an LRU cache by size), under the time its
share last changed; each view asks the store only that time (one row, by its key), so an update
or a revoke shows at once in every process, and a revoked share answers 404.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from ..history.shares import gone_page, shared_page, snapshot_pictures
from ..history.store.errors import StoreError
from ..lru_cache import LRUCache

log = logging.getLogger(__name__)
PATH = re.compile(r"^/s/([A-Za-z0-9_-]{16,32})(?:/picture/(\d{1,3}))?/?$")


def page_headers(frame_ancestors: str, content_type: str) -> list[tuple[bytes, bytes]]:
    policy = (
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; base-uri 'none'; form-action 'none'; "
        f"frame-ancestors {frame_ancestors}"
    )
    return [
        (b"content-type", content_type.encode()),
        (b"content-security-policy", policy.encode()),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"no-referrer"),
        (b"cache-control", b"no-cache"),
    ]


class SharedPages:
    def __init__(self, app: ASGIApp, *, store: Callable[[], Any], frame_ancestors: str = "*") -> None:
        """`store`: the ShareStore, made on first use (history/store/share_store.py)."""
        self.app, self.store, self.frame_ancestors = app, store, frame_ancestors
        self.pages: LRUCache[tuple[float, bytes]] = LRUCache(32_000_000, lambda kept: len(kept[1]) + 100)
        self.pictures: LRUCache[tuple[float, list[tuple[str, bytes]]]] = LRUCache(
            64_000_000, lambda kept: sum(len(data) for _, data in kept[1]) + 100
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        found = PATH.match(scope.get("path", "")) if scope["type"] == "http" and scope.get("method") in ("GET", "HEAD") else None
        store = self.store() if found else None
        if found is None or store is None:
            await self.app(scope, receive, send)
            return
        share_id, picture = found.group(1), found.group(2)
        try:
            status, content_type, body = await self._answer(store, share_id, picture)
        except StoreError:
            status, content_type, body = 503, "text/plain; charset=utf-8", b"The store did not answer; try again in a moment."
        await send({"type": "http.response.start", "status": status, "headers": page_headers(self.frame_ancestors, content_type)})
        await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body})

    async def _answer(self, store: Any, share_id: str, picture: str | None) -> tuple[int, str, bytes]:
        gone = (404, "text/html; charset=utf-8", gone_page().encode())
        stamp = await store.stamp(share_id)
        if stamp is None:
            self.pages.pop(share_id)
            self.pictures.pop(share_id)
            return gone
        if picture is not None:
            kept_pictures = self.pictures.get(share_id)
            if kept_pictures is None or kept_pictures[0] != stamp:
                share = await store.get(share_id)
                if share is None:
                    return gone
                kept_pictures = (share.updated_at, await asyncio.to_thread(snapshot_pictures, share.snapshot))
                self.pictures.put(share_id, kept_pictures)
            if int(picture) >= len(kept_pictures[1]):
                return gone
            mime, data = kept_pictures[1][int(picture)]
            return 200, mime, data
        kept = self.pages.get(share_id)
        if kept is not None and kept[0] == stamp:
            return 200, "text/html; charset=utf-8", kept[1]
        share = await store.get(share_id)
        if share is None:
            return gone
        page = (await asyncio.to_thread(shared_page, share_id, share.snapshot)).encode()  # (not on the loop)
        self.pages.put(share_id, (share.updated_at, page))
        return 200, "text/html; charset=utf-8", page
