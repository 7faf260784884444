"""Sharing the conversation on screen as a read-only link, and continuing a shared one.

In the sidebar, *🔗 Share*: with or without the thinking and the system prompt (off at first), *Share
or update the link* makes a snapshot of the path on screen (history/shares.py) at /s/<id>, or
updates the one this browser or account made of this conversation (same address); *Revoke* ends
it. A page opened as /?continue=<id> copies that shared conversation into the person's list.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr

from ..answering.service import ChatService
from ..history.conversations import Conversation, new_id
from ..history.library import HistoryNotice
from ..history.shares import ShareChoices, snapshot_of
from ..history.store.errors import StoreError
from ..i18n.wording import words
from ..inert import inert_text
from .conversation_list import ConversationHandlers
from .conversation_list_page import after_reading_store
from .labels import Labels
from .listeners import QUEUED_PLAIN, QUICK, QUICK_PLAIN
from .panel import PageSettings
from .turns import saved_messages
from .visitors import page_language, run_owner

MAGIC = {b"\x89PNG\r\n\x1a\n": "image/png", b"\xff\xd8\xff": "image/jpeg", b"GIF8": "image/gif"}
SHARE_ID = r"^[A-Za-z0-9_-]{16,32}$"
CONTINUE_JS = "() => { const id = new URLSearchParams(location.search).get('continue') || ''; return id; }"
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
            if not path.is_relative_to(root) or not path.is_file() or path.stat().st_size > 2_000_000:
                return None
            data = path.read_bytes()
        except (OSError, ValueError):
            return None
        if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
            return "image/webp", data
        return next(((mime, data) for magic, mime in MAGIC.items() if data.startswith(magic)), None)

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


def page_root(request: gr.Request) -> str:
    """This server's address as the person reached it (behind a proxy: as the proxy says)."""
    headers = request.headers
    scheme = (headers.get("x-forwarded-proto") or request.request.url.scheme or "http").split(",")[0].strip()
    host = (headers.get("x-forwarded-host") or headers.get("host") or "localhost").split(",")[0].strip()
    return f"{scheme}://{host}"


def wire_share(
    demo: gr.Blocks,
    service: ChatService,
    shares: Any,
    parts: ShareParts | None,
    history: ConversationHandlers,
    page: PageSettings,
) -> None:
    if parts is None:
        return
    settings = service.settings
    panel, chatbot = history.panel, history.chatbot
    read_picture = picture_reader(settings.upload_dir)

    async def make(
        chat: Any,
        conversation: str,
        browser: Any,
        title: str,
        prompt: str,
        thinking: bool,
        with_prompt: bool,
        request: gr.Request,
    ) -> str:
        language = page_language(request)
        messages = saved_messages(chat)
        if not any(m["role"] == "assistant" and m.get("content") for m in messages):
            return words("page", "share.nothing", None, language)
        owner = run_owner(request, browser, settings.history.secret)
        snapshot = snapshot_of(
            messages,
            title=title or Conversation(id="x").with_messages(messages, {}).shown_title,
            language=language,
            system_prompt=prompt,
            choices=ShareChoices(thinking=bool(thinking), system_prompt=bool(with_prompt)),
            read_picture=read_picture,
        )
        try:
            share_id = await shares.of(owner, conversation or "")
            if share_id and await shares.update(share_id, snapshot, owner=owner):
                return words("page", "share.updated", {"url": inert_text(f"{page_root(request)}/s/{share_id}")}, language)
            if await shares.count(owner) >= settings.shares_per_person:
                return words("page", "share.too_many", {"count": settings.shares_per_person}, language)
            share_id, _ = await shares.create(owner, conversation or "", snapshot)
        except StoreError:
            return words("page", "share.unavailable", None, language)
        return words("page", "share.made", {"url": inert_text(f"{page_root(request)}/s/{share_id}")}, language)

    async def revoke(conversation: str, browser: Any, request: gr.Request) -> str:
        language = page_language(request)
        owner = run_owner(request, browser, settings.history.secret)
        try:
            share_id = await shares.of(owner, conversation or "")
            if not share_id:
                return words("page", "share.none", None, language)
            await shares.revoke(share_id, owner=owner)
        except StoreError:
            return words("page", "share.unavailable", None, language)
        return words("page", "share.revoked", None, language)

    inputs = [chatbot, panel.current, panel.browser, panel.title, page.system_prompt, parts.thinking, parts.system_prompt]
    parts.make.click(make, inputs, parts.said, api_visibility="private", concurrency_limit=None, preprocess=False)
    parts.revoke.click(revoke, [panel.current, panel.browser], parts.said, api_visibility="private", concurrency_limit=None)

    async def on_continue(values: dict, request: gr.Request) -> dict:
        """The shared conversation, copied into the person's list as a new one, and opened."""
        share_id = str(values[parts.continued] or "")
        if not re.match(SHARE_ID, share_id):
            return {panel.notice: gr.skip()}  # (an empty dict would read as one output)
        try:
            share = await shares.get(share_id)
        except StoreError:
            share = None
        if share is None:
            return {"notices": [HistoryNotice("continue_gone", {})]}
        snapshot = share.snapshot
        kept = [
            {k: v for k, v in m.items() if k in ("role", "content", "tools", "sources", "footer", "thinking")}
            for m in snapshot.get("messages") or ()
        ]
        conversation = Conversation(id=new_id(), title=str(snapshot.get("title") or "")[:200]).with_messages(kept, {})
        owner = history.owner(values, request)

        async def work(shelf) -> dict:
            notices = await shelf.put(conversation)
            opened = await history.open(values[history.view], conversation, owner)
            opened["notices"] = [HistoryNotice("continued", {}), *notices, *opened["notices"]]
            return opened

        return await history.on_shelf(values, request, work, chat=True)

    # Only a page opened as /?continue=<id> goes further than the browser (the box changes).
    demo.load(None, None, parts.continued, js=CONTINUE_JS, **QUICK_PLAIN)
    after_reading_store(
        panel, parts.continued.change, on_continue, history.inputs(parts.continued), history.outputs(), **QUEUED_PLAIN
    ).then(None, None, None, js=FORGET_CONTINUE_JS, **QUICK)
