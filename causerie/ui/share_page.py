"""Sharing the conversation on screen as a read-only link, and continuing a shared one.

In the sidebar, *🔗 Share*: with or without the thinking and the system prompt (off at first), *Share
or update the link* makes a snapshot of the path on screen (history/shares.py) at /s/<id>, or
updates the one this browser or account made of this conversation (same address); *Revoke* ends
it. A page opened as /?continue=<id> copies that shared conversation into the person's list.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr

from ..answering.limits import header_entries
from ..answering.service import ChatService
from ..files.picture_store import picture_type
from ..history.conversations import Conversation, is_temporary, new_id
from ..history.library import HistoryNotice
from ..history.shares import (
    MOST_PICTURE_BYTES,
    MOST_SNAPSHOT_CHARS,
    ShareChoices,
    SharesOnFirstUse,
    has_answer,
    snapshot_chars,
    snapshot_of,
)
from ..history.store.errors import StoreError
from ..history.versions import path_only
from ..i18n.wording import words
from ..inert import inert_text
from .conversation_list import ConversationHandlers
from .conversation_list_page import after_reading_store
from .labels import TEXTS, Labels
from .listeners import QUEUED_PLAIN, QUICK, QUICK_PLAIN
from .panel import PageSettings
from .visitors import page_language, run_owner, visitor_of

SHARE_ID = r"^[A-Za-z0-9_-]{16,32}$"
CONTINUE_JS = (
    "(ask) => { const id = new URLSearchParams(location.search).get('continue') || ''; "
    "return id && window.confirm((navigator.language || '').toLowerCase().startsWith('fr') ? ask.fr : ask.en) ? id : ''; }"
)
FORGET_CONTINUE_JS = (
    "() => { const url = new URL(location.href); if (url.searchParams.has('continue')) "
    "{ url.searchParams.delete('continue'); history.replaceState(null, '', url); } }"
)


@dataclass(frozen=True)
class ShareParts:
    thinking: Any
    system_prompt: Any
    make: Any
    revoke: Any
    said: Any
    continued: Any
    """A hidden box: the id of a shared conversation to continue (from the page's address)."""


def picture_reader(upload_dir: Path):
    """A file of the chat as a picture to copy into a share: only a real picture (by its first
    bytes) in this server's upload folder, of at most the share's size for one."""
    root = upload_dir.resolve()

    def read(file: Any) -> tuple[str, bytes] | None:
        try:
            path = Path(str(file.get("path") or "")).resolve()
            if not path.is_relative_to(root) or not path.is_file() or path.stat().st_size > MOST_PICTURE_BYTES:
                return None
            data = path.read_bytes()
        except (OSError, ValueError):
            return None
        told = picture_type(data)
        return (told[0], data) if told else None

    return read


def build_share(service: ChatService, say: Labels) -> ShareParts | None:
    if not service.settings.share_links:
        return None
    with gr.Accordion(say("share"), open=False, elem_id="share-options"):
        thinking = gr.Checkbox(False, label=say("share_thinking"), elem_id="share-thinking")
        system_prompt = gr.Checkbox(False, label=say("share_system_prompt"), elem_id="share-system-prompt")
        with gr.Row():
            make = gr.Button(say("share_make"), elem_id="share-make", size="sm", variant="primary")
            revoke = gr.Button(say("share_revoke"), elem_id="share-revoke", size="sm", variant="stop")
        said = gr.Markdown("", elem_id="share-said")
    return ShareParts(thinking, system_prompt, make, revoke, said, gr.Textbox("", visible=False))


HOST = re.compile(r"^(?:[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})*\.?|\[[0-9A-Fa-f:.]{2,45}\])(?::\d{1,5})?$")
"""A Host header's shape: a name or an address, and a port."""


def page_root(request: gr.Request, settings: Any) -> str:
    """This server's address as the person reached it: behind a proxy the app trusts
    (TRUSTED_PROXY_HOPS), as the proxy says (the last entry, over every line); else as the request
    itself says. Only http or https, and a host shaped as one: the headers are the client's when
    the proxy does not set them, and the link made from them is shown to the person."""
    headers, url = request.headers, request.request.url
    trusted = settings.public.proxy_hops > 0
    said_scheme = header_entries(headers, "x-forwarded-proto")[-1:] if trusted else []
    scheme = (said_scheme[0] if said_scheme else url.scheme or "http").lower()
    if scheme not in ("http", "https"):
        scheme = "https" if url.scheme == "https" else "http"
    said_hosts = [*(header_entries(headers, "x-forwarded-host")[-1:] if trusted else []), headers.get("host") or ""]
    host = next((said for said in said_hosts if HOST.match(said)), None)
    if host is None:  # (the address this server was reached at)
        server = request.request.scope.get("server") or ("localhost", None)
        host = server[0] if server[1] in (None, 80, 443) else f"{server[0]}:{server[1]}"
    root = str(request.request.scope.get("root_path") or "").rstrip("/")
    return f"{scheme}://{host}{root}"


def wire_share(
    demo: gr.Blocks,
    service: ChatService,
    shares: SharesOnFirstUse,
    parts: ShareParts | None,
    history: ConversationHandlers,
    page: PageSettings,
) -> None:
    if parts is None:
        return
    settings = service.settings
    panel = history.panel
    read_picture = picture_reader(settings.upload_dir)

    async def make(values: dict, request: gr.Request) -> dict:
        """A share of the conversation on screen as saved (its files vetted: only this person's
        pictures are copied), or its update at the same address."""
        language = page_language(request)
        view = values[history.view]

        answer: dict = {}

        def said(kind: str, **params: Any) -> dict:
            answer[parts.said] = words("page", f"share.{kind}", params or None, language)
            return {}

        if is_temporary(view.shown) or view.shown in view.live:
            said("temporary" if is_temporary(view.shown) else "busy")
            return answer
        owner = run_owner(request, values.get(panel.browser), settings.history.secret)
        visitor = service.records.visitor_hash(visitor_of(request, settings)) or ""

        async def work(shelf) -> dict:
            kept = await shelf.get(view.shown)
            if kept is None or not has_answer(kept.messages):
                return said("nothing")
            messages = path_only(history.files.messages(history.owner(values, request), kept.messages))
            snapshot = snapshot_of(
                messages,
                title=kept.shown_title,
                language=language,
                system_prompt=values.get(page.system_prompt),
                choices=ShareChoices(
                    thinking=bool(values.get(parts.thinking)), system_prompt=bool(values.get(parts.system_prompt))
                ),
                read_picture=read_picture,
            )
            if snapshot_chars(snapshot) > MOST_SNAPSHOT_CHARS:
                return said("too_large", limit=MOST_SNAPSHOT_CHARS)
            store = await shares.opened()
            try:
                share_id = await store.of(owner, view.shown)
                if share_id and await store.update(share_id, snapshot, owner=owner):
                    return said("updated", url=inert_text(f"{page_root(request, settings)}/s/{share_id}"))
                if await store.count(owner, visitor) >= settings.shares_per_person:
                    return said("too_many", count=settings.shares_per_person)
                share_id, _ = await store.create(owner, view.shown, snapshot, visitor)
            except StoreError:
                return said("unavailable")
            return said("made", url=inert_text(f"{page_root(request, settings)}/s/{share_id}"))

        updates = await history.on_shelf(values, request, work)  # (which keeps only the list's outputs)
        return {**updates, **answer}

    async def revoke(conversation: str, browser: Any, request: gr.Request) -> str:
        language = page_language(request)
        owner = run_owner(request, browser, settings.history.secret)
        try:
            store = await shares.opened()
            share_id = await store.of(owner, conversation or "")
            if not share_id:
                return words("page", "share.none", None, language)
            await store.revoke(share_id, owner=owner)
        except StoreError:
            return words("page", "share.unavailable", None, language)
        return words("page", "share.revoked", None, language)

    async def forget_deleted(conversation: str, browser: Any, request: gr.Request) -> None:
        """A conversation deleted: its link, if it had one, stops working too."""
        if not conversation:
            return
        owner = run_owner(request, browser, settings.history.secret)
        try:
            store = await shares.opened()
            if share_id := await store.of(owner, str(conversation)):
                await store.revoke(share_id, owner=owner)
        except StoreError:
            pass

    panel.confirmed.change(
        forget_deleted, [panel.confirmed, panel.browser], None, api_visibility="private", concurrency_limit=None
    )
    inputs = history.inputs(page.system_prompt, parts.thinking, parts.system_prompt)
    after_reading_store(panel, parts.make.click, make, inputs, {*history.list_outputs(), parts.said}, **QUEUED_PLAIN)
    parts.revoke.click(revoke, [panel.current, panel.browser], parts.said, api_visibility="private", concurrency_limit=None)

    async def on_continue(values: dict, request: gr.Request) -> dict:
        """The shared conversation, copied into the person's list as a new one, and opened."""
        share_id = str(values[parts.continued] or "")
        if not re.match(SHARE_ID, share_id):
            return {panel.notice: gr.skip()}  # (an empty dict would read as one output)
        try:
            share = await (await shares.opened()).get(share_id)
        except StoreError:
            share = None
        if share is None:
            return {"notices": [HistoryNotice("continue_gone", {})]}
        snapshot = share.snapshot
        kept = [
            {k: v for k, v in m.items() if k in ("role", "content", "sources", "footer", "thinking") and isinstance(v, str)}
            for m in snapshot.get("messages") or ()
        ]
        conversation = Conversation(id=new_id(), title=str(snapshot.get("title") or "")[:200]).with_messages(kept, {})
        owner = history.owner(values, request)

        async def work(shelf) -> dict:
            return await history.keep_and_open(shelf, values[history.view], conversation, owner, HistoryNotice("continued", {}))

        return await history.on_shelf(values, request, work, chat=True)

    # Only a page opened as /?continue=<id> goes further than the browser (the box changes).
    english, french = TEXTS["continue_ask"]
    asking = json.dumps({"en": english, "fr": french})
    demo.load(None, None, parts.continued, js=f"() => ({CONTINUE_JS})({asking})", **QUICK_PLAIN)
    after_reading_store(
        panel, parts.continued.change, on_continue, history.inputs(parts.continued), history.outputs(), **QUEUED_PLAIN
    ).then(None, None, None, js=FORGET_CONTINUE_JS, **QUICK)
