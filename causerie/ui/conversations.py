"""The list of conversations beside the chat: open, new, rename, delete, search, export, import.

Where they are kept is the Keeper's choice (the browser's sealed value, or the server store for a
signed-in person); these handlers only turn its answers into page updates. A conversation is
saved when an answer ends (from ConversationView, never by reading the chat a stream may be
writing), and when the person leaves it (its settings only).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import gradio as gr

from ..conversations import Conversation, UnreadableFile, bundle_json, file_stem, new_id, read_import, to_markdown
from ..library import Notice
from ..service import ChatService
from ..shelves import Keeper, Shelf
from ..store.errors import StoreError
from ..wording import words
from .history import saved_messages
from .panel import effort_update
from .render import page_messages

log = logging.getLogger(__name__)
MAX_IMPORT_BYTES = 20_000_000

# Runs in the browser after an export: the file is made there from the text the server sent.
DOWNLOAD_JS = """(payload) => {
  if (!payload) return;
  const {name, type, text} = JSON.parse(payload);
  const link = document.createElement('a');
  link.href = URL.createObjectURL(new Blob([text], {type}));
  link.download = name;
  document.body.appendChild(link); link.click(); link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 10000);
}"""

CONFIRM_DELETE_JS = """(shown) => confirm('Delete this conversation? This cannot be undone.') ? shown : ''"""


@dataclass
class ConversationView:
    """One page's state (a gr.State, changed in place): the conversation on screen, and the chats
    of answers still being written or ended but not yet saved, by conversation id, with the
    settings they were asked with."""

    shown: str = ""
    live: dict[str, tuple[list, dict]] = field(default_factory=dict)
    finished: dict[str, tuple[list, dict]] = field(default_factory=dict)

    def is_shown(self, conversation_id: str) -> bool:
        return self.shown == conversation_id


def owner_of(request: gr.Request | None) -> str | None:
    """Who is signed in: a basic-auth name (AUTH_USERS) or a Hugging Face login, or None."""
    if request is None:
        return None
    if request.username:
        return f"user:{request.username}"
    try:
        info = request.request.session.get("oauth_info") or {}
    except (AssertionError, AttributeError):  # no session middleware: Hugging Face login is off
        return None
    name = (info.get("userinfo") or {}).get("preferred_username")
    return f"hf:{name}" if name else None


@dataclass(frozen=True)
class HistoryPanel:
    store: Any
    listing: Any
    search: Any
    title: Any
    notice: Any
    download: Any
    """A hidden box: an export's file, as JSON, for DOWNLOAD_JS."""
    importer: Any
    confirmed: Any
    """A hidden box: the conversation CONFIRM_DELETE_JS was told to delete, or "" when cancelled."""
    had_store: Any
    """A hidden box: whether the browser held a saved value before the page opened it."""


class ConversationHandlers:
    def __init__(self, service: ChatService, keeper: Keeper, settings: Any, chatbot: Any, view: Any,
                 panel: HistoryPanel, startup_notices: list[Notice]) -> None:
        self.service, self.keeper, self.settings = service, keeper, settings
        self.chatbot, self.view, self.panel = chatbot, view, panel
        self.startup_notices = startup_notices

    # -- plumbing -----------------------------------------------------------------------------

    def inputs(self, *extra: Any) -> set:
        return {self.view, self.panel.store, self.panel.search, *self.settings.components(), *extra}

    async def _on_shelf(self, values: Mapping, request: gr.Request | None,
                        work: Callable[[Shelf], Awaitable[dict]]) -> dict:
        """Run `work` on this person's shelf; if the server store fails, on the browser's instead.
        Adds the new sealed value, the list and what the person should be told."""
        shelf = self.keeper.shelf(values[self.panel.store], owner_of(request))
        try:
            updates = await work(shelf)
        except StoreError:
            shelf = self.keeper.browser(values[self.panel.store])
            shelf.notices.append(Notice("store_unreachable", {}))
            updates = await work(shelf)
        notices = shelf.notices + updates.pop("notices", [])
        sealed = shelf.sealed()
        if sealed is not None:
            updates[self.panel.store] = sealed
        try:
            summaries = await shelf.summaries(values.get(self.panel.search) or "")
        except StoreError:
            summaries, notices = [], notices + [Notice("store_unreachable", {})]
        view: ConversationView = values[self.view]
        ids = {s.id for s in summaries}
        updates[self.panel.listing] = gr.update(choices=[(s.title, s.id) for s in summaries],
                                                value=view.shown if view.shown in ids else None)
        shown = [words("history", n.kind, n.params) for n in notices]
        for line in shown:
            gr.Warning(line)
        updates.setdefault(self.panel.notice, "\n\n".join(f"⚠️ {line}" for line in shown))
        return updates

    async def _settings_updates(self, saved: Mapping[str, str], notices: list[Notice]) -> dict:
        """The page's settings as a conversation kept them (a provider not set up here is left)."""
        if not saved:
            return {}
        s = self.settings
        updates: dict = {s.system_prompt: saved.get("system_prompt", ""), s.temperature: saved.get("temperature", ""),
                         s.top_p: saved.get("top_p", ""), s.max_tokens: saved.get("max_tokens", "")}
        if saved.get("preset") in self.service.presets:
            updates[s.preset] = saved["preset"]
        provider = saved.get("provider") or ""
        if provider and provider in {p.id for p in self.service.ready_providers()}:
            model = saved.get("model") or self.service.initial_model(provider)
            listed = await self.service.models(provider)
            updates[s.provider] = provider
            updates[s.model] = gr.update(choices=listed if model in listed else [model, *listed], value=model)
            updates[s.reasoning_effort] = effort_update(self.service, provider, model, saved.get("reasoning_effort", ""))
        elif provider:
            current = self.service.default_provider()
            notices.append(Notice("not_set_up", {"provider": provider, "now": current.label if current else "nothing"}))
        return updates

    async def _open(self, shelf: Shelf, view: ConversationView, conversation: Conversation | None) -> dict:
        """Show a conversation (a new one when None): its chat, title and settings."""
        notices: list[Notice] = []
        if conversation is None:
            view.shown = new_id()
            return {self.chatbot: [], self.panel.title: "", "notices": notices}
        view.shown = conversation.id
        live = view.live.get(conversation.id)
        chat = live[0] if live else page_messages(list(conversation.messages))
        updates = await self._settings_updates(conversation.settings, notices)
        return {self.chatbot: chat, self.panel.title: conversation.shown_title, "notices": notices, **updates}

    async def _keep_settings(self, shelf: Shelf, values: Mapping) -> None:
        """Before leaving a saved conversation, keep the settings it was left with."""
        view: ConversationView = values[self.view]
        if not view.shown or view.shown in view.live:
            return
        kept = await shelf.get(view.shown)
        settings = self.settings.stored(values)
        if kept is not None and dict(kept.settings) != settings:
            await shelf.put(kept.with_messages(kept.messages, settings, now=kept.updated_at))

    # -- events -------------------------------------------------------------------------------

    async def on_load(self, values: dict, request: gr.Request) -> dict:
        async def work(shelf: Shelf) -> dict:
            recent = await shelf.summaries()
            opened = await shelf.get(recent[0].id) if recent else None
            updates = await self._open(shelf, values[self.view], opened)
            updates["notices"] = self.startup_notices + updates["notices"]
            if values[self.panel.had_store] and values[self.panel.store] is None and not shelf.server_side:
                updates["notices"].append(Notice("history_unreadable", {}))
            return updates

        return await self._on_shelf(values, request, work)

    async def on_select(self, values: dict, request: gr.Request) -> dict:
        chosen = values[self.panel.listing]

        async def work(shelf: Shelf) -> dict:
            view: ConversationView = values[self.view]
            if not chosen or chosen == view.shown:
                return {}
            await self._keep_settings(shelf, values)
            return await self._open(shelf, view, await shelf.get(chosen))

        return await self._on_shelf(values, request, work)

    async def on_new(self, values: dict, request: gr.Request) -> dict:
        async def work(shelf: Shelf) -> dict:
            await self._keep_settings(shelf, values)
            return await self._open(shelf, values[self.view], None)

        return await self._on_shelf(values, request, work)

    async def on_rename(self, values: dict, request: gr.Request) -> dict:
        title = " ".join((values[self.panel.title] or "").split())[:200]

        async def work(shelf: Shelf) -> dict:
            view: ConversationView = values[self.view]
            kept = await shelf.get(view.shown)
            if kept is None or title == kept.shown_title:
                return {}
            return {"notices": await shelf.put(replace(kept, title=title))}

        return await self._on_shelf(values, request, work)

    async def on_delete(self, values: dict, request: gr.Request) -> dict:
        confirmed = values[self.panel.confirmed]

        async def work(shelf: Shelf) -> dict:
            view: ConversationView = values[self.view]
            if not confirmed or confirmed != view.shown:
                return {}
            await shelf.delete(view.shown)
            view.live.pop(view.shown, None)
            view.finished.pop(view.shown, None)
            recent = await shelf.summaries()
            return await self._open(shelf, view, await shelf.get(recent[0].id) if recent else None)

        return await self._on_shelf(values, request, work)

    async def on_search(self, values: dict, request: gr.Request) -> dict:
        async def work(shelf: Shelf) -> dict:
            return {self.panel.notice: gr.skip()}

        return await self._on_shelf(values, request, work)

    async def save_stopped(self, values: dict, request: gr.Request) -> dict:
        """After Stop: the stopped answers are kept as far as they went."""
        view: ConversationView = values[self.view]
        view.finished.update(view.live)
        view.live.clear()
        return await self.save_finished(values, request)

    async def save_finished(self, values: dict, request: gr.Request) -> dict:
        """After answers end: save each one into its own conversation."""
        view: ConversationView = values[self.view]
        pending, view.finished = view.finished, {}

        async def work(shelf: Shelf) -> dict:
            notices: list[Notice] = []
            for conversation_id, (chat, settings) in pending.items():
                kept = await shelf.get(conversation_id) or Conversation(id=conversation_id)
                notices += await shelf.put(kept.with_messages(saved_messages(chat), settings))
            return {"notices": notices, self.panel.title: await self._title(shelf, view)}

        if not pending:
            return {}
        return await self._on_shelf(values, request, work)

    async def _title(self, shelf: Shelf, view: ConversationView) -> Any:
        kept = await shelf.get(view.shown)
        return kept.shown_title if kept else gr.skip()

    def _shown_conversation(self, values: Mapping, kept: Conversation | None) -> Conversation:
        view: ConversationView = values[self.view]
        base = kept or Conversation(id=view.shown)
        return base.with_messages(saved_messages(values[self.chatbot]), self.settings.stored(values),
                                  now=base.updated_at or None)

    async def save_shown(self, values: dict, request: gr.Request) -> dict:
        """After an undo: the chat on screen is the conversation."""
        async def work(shelf: Shelf) -> dict:
            view: ConversationView = values[self.view]
            if view.shown in view.live:
                return {}
            kept = await shelf.get(view.shown)
            current = self._shown_conversation(values, kept)
            if not current.messages and kept is None:
                return {}
            return {"notices": await shelf.put(current.with_messages(current.messages, current.settings))}

        return await self._on_shelf(values, request, work)

    async def export_markdown(self, values: dict, request: gr.Request) -> str:
        return await self._export(values, request, "markdown")

    async def export_json(self, values: dict, request: gr.Request) -> str:
        return await self._export(values, request, "json")

    async def export_all(self, values: dict, request: gr.Request) -> str:
        return await self._export(values, request, "all")

    def outputs(self, *extra: Any) -> set:
        """What opening a conversation may change."""
        p = self.panel
        return {p.store, p.listing, p.title, p.notice, *self.settings.components(), *extra}

    async def _export(self, values: dict, request: gr.Request, kind: str) -> str:
        shelf = self.keeper.shelf(values[self.panel.store], owner_of(request))
        try:
            if kind == "all":
                text = bundle_json(await shelf.all())
                return json.dumps({"name": "causerie-conversations.json", "type": "application/json", "text": text})
            current = self._shown_conversation(values, await shelf.get(values[self.view].shown))
        except StoreError:
            gr.Warning(words("history", "store_unreachable"))
            return ""
        if kind == "markdown":
            return json.dumps({"name": f"{file_stem(current)}.md", "type": "text/markdown", "text": to_markdown(current)})
        return json.dumps({"name": f"{file_stem(current)}.json", "type": "application/json", "text": current.to_json()})

    async def on_import(self, values: dict, request: gr.Request) -> dict:
        upload = values[self.panel.importer]
        path = upload if isinstance(upload, str) else getattr(upload, "name", None) or (upload or {}).get("path")

        async def work(shelf: Shelf) -> dict:
            try:
                size = Path(path).stat().st_size
                if size > MAX_IMPORT_BYTES:
                    return {"notices": [Notice("import_too_large", {"size": f"{size / 1e6:.1f}", "limit": MAX_IMPORT_BYTES // 1_000_000})]}
                found = read_import(Path(path).read_bytes())
            except (OSError, UnreadableFile) as exc:
                return {"notices": [Notice("import_failed", {"why": str(exc)})]}
            notices: list[Notice] = []
            first = None
            for conversation in found:
                if await shelf.get(conversation.id) is not None:  # never overwrite a kept one
                    conversation = replace(conversation, id=new_id())
                notices += await shelf.put(conversation)
                first = first or conversation
            opened = await self._open(shelf, values[self.view], first)
            opened["notices"] = [Notice("imported", {"count": len(found), "skipped": ""}), *notices, *opened["notices"]]
            return opened

        return await self._on_shelf(values, request, work)
