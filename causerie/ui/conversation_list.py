"""The list of conversations beside the chat: open, new, rename, delete, search, and the saves.

Where they are kept is decided per event (`on_shelf`): the server store for a signed-in person,
else the browser. Answers are saved from the page's ConversationView when they end or are
stopped, never by reading the chat, which by then may show another conversation. Every change
runs under the view's lock, on what the browser holds right now (another tab's saves included)
and what this page last gave it to write, merged; only the conversations it changes are written.
"""

from __future__ import annotations

import html
import json
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace
from typing import Any

import gradio as gr

from ..answering.access import offered_providers
from ..answering.runs import AnswerRun, AnswerRuns
from ..answering.service import ChatService
from ..history.conversations import Conversation, is_temporary
from ..history.file_stamps import FileStamps
from ..history.library import HistoryNotice, Library
from ..history.shelves import BrowserShelf, Keeper, Shelf
from ..history.store.errors import StoreError
from ..history.versions import kept_versions
from ..i18n.wording import words
from ..inert import inert_text
from .browser_state import read_held
from .chat import stop_answers
from .panel import effort_update, search_update
from .render import page_messages, render
from .scripts import script
from .turns import saved_messages
from .view import ConversationView, HistoryPanel, noted_conversations
from .visitors import owner_of, page_language, run_owner

log = logging.getLogger(__name__)

CONFIRM_DELETE_JS = script("confirm_delete")


class ConversationHandlers:
    def __init__(
        self,
        service: ChatService,
        keeper: Keeper,
        settings: Any,
        chatbot: Any,
        view: Any,
        panel: HistoryPanel,
        startup_notices: list[HistoryNotice],
        runs: AnswerRuns,
    ) -> None:
        self.service, self.keeper, self.settings, self.runs = service, keeper, settings, runs
        self.chatbot, self.view, self.panel = chatbot, view, panel
        self.startup_notices = startup_notices
        self.files = FileStamps(service.settings.history.secret, service.settings.upload_dir)

    def owner(self, values: Mapping, request: gr.Request | None) -> str:
        """Whose the page's conversations and files are (visitors.run_owner)."""
        return run_owner(request, values.get(self.panel.browser), self.service.settings.history.secret)

    def inputs(self, *extra: Any) -> set:
        p = self.panel
        return {self.view, p.fresh, p.search, p.current, p.title, p.listing, p.browser, *self.settings.components(), *extra}

    def list_outputs(self) -> set:
        """What a save, a rename or a search changes: the list, what is said of it, and the page's
        note of which conversation is on screen."""
        p = self.panel
        return {p.writes, p.listing, p.title, p.notice, p.current}

    def outputs(self, *extra: Any) -> set:
        """What opening a conversation changes: the chat and the settings too."""
        return {*self.list_outputs(), self.chatbot, self.panel.resume, *self.settings.components(), *extra}

    def keep_unchanged(self, values: Mapping, updates: dict) -> None:
        """When a conversation is opened, every setting it leaves alone gets its current value
        (these events run without post-processing, so that costs nothing): Gradio turns an
        output left out into an update, and builds a new component for each, on every call."""
        for component in (*self.settings.components(), self.panel.current, self.panel.title):
            if component not in updates and component in values:
                updates[component] = values[component]

    # -- where, and the updates every event returns ---------------------------------------------

    async def shelf_for(self, values: Mapping, owner: str | None) -> Shelf:
        view: ConversationView = values[self.view]
        if self.keeper.store is not None and owner:
            return await self.keeper.signed_in(owner, view.unsaved)
        held = read_held(values.get(self.panel.fresh) or "")
        shelf = self.keeper.browser(held.entries, held.legacy, view.sent)
        if held.damaged and not any(n.kind == "history_unreadable" for n in shelf.notices):
            shelf.notices.append(HistoryNotice("history_unreadable", {}))
        return shelf

    async def on_shelf(
        self,
        values: Mapping,
        request: gr.Request | None,
        work: Callable[[Shelf], Awaitable[dict]],
        *,
        opening: bool = False,
        chat: bool = False,
    ) -> dict:
        """Run `work` on this person's shelf (on the page's, if the store fails meanwhile), then add
        the new browser value, the list, and what the person should be told: under the list, and
        as a toast, except when the page opens (outside the queue, where there are no toasts;
        and on an empty list nothing is sent that the page does not already show)."""
        view: ConversationView = values[self.view]
        view.language = page_language(request)
        owner = owner_of(request)
        async with view.lock():
            shelf = await self.shelf_for(values, owner)
            try:
                updates = await work(shelf)
            except StoreError:
                shelf = self.keeper.page(view.unsaved)
                updates = await work(shelf)
            notices = shelf.notices + updates.pop("notices", [])
            writes = shelf.writes()
            if writes is not None:
                updates[self.panel.writes] = json.dumps(writes, separators=(",", ":"))
            view.sent = shelf.sent if isinstance(shelf, BrowserShelf) else Library()
            try:
                summaries = await shelf.summaries(values.get(self.panel.search) or "")
            except StoreError:
                summaries = await self.keeper.page(view.unsaved).summaries()
            if owner and self.keeper.store is not None:
                self.keeper.save_when_back(owner, view.unsaved, view.lock())
        ids = {s.id for s in summaries}
        if summaries or not opening:
            updates[self.panel.listing] = gr.update(
                choices=[(f"📌 {s.title}" if s.pinned else s.title, s.id) for s in summaries],
                value=view.shown if view.shown in ids else None,
            )
        updates[self.panel.current] = view.shown
        if view.warned_unreadable:  # said once a page: the page's own copy stays unreadable until a save
            notices = [n for n in notices if n.kind != "history_unreadable"]
        view.warned_unreadable = view.warned_unreadable or any(n.kind == "history_unreadable" for n in notices)
        latest = {n.kind: n for n in notices}  # one line a kind: the last (an import may drop many)
        lines = [(words("history", n.kind, n.params, page_language(request)), n.is_warning) for n in latest.values()]
        for line, warning in lines if not opening else ():
            toast = gr.Warning if warning else gr.Info
            toast(html.escape(line, quote=False))  # (a toast is HTML: titles and file names in it are data)
        shown = "\n\n".join(f"⚠️ {line}" if warning else f"✓ {line}" for line, warning in lines)
        updates.setdefault(self.panel.notice, inert_text(shown))
        if not chat:  # only what list_outputs() holds
            updates = {k: v for k, v in updates.items() if k in self.list_outputs()}
        elif not opening:  # (on_open decides, by how long the page took to open)
            self.keep_unchanged(values, updates)
        return updates

    async def _settings_updates(self, saved: Mapping[str, str], notices: list[HistoryNotice]) -> dict:
        """The page's settings as a conversation kept them (a provider not set up here is left)."""
        if not saved:
            return {}
        s = self.settings
        updates: dict = {
            s.system_prompt: saved.get("system_prompt", ""),
            s.temperature: saved.get("temperature", ""),
            s.top_p: saved.get("top_p", ""),
            s.max_tokens: saved.get("max_tokens", ""),
        }
        if saved.get("preset") in self.service.presets:
            updates[s.preset] = saved["preset"]
        provider = saved.get("provider") or ""
        if provider and provider in {p.id for p in offered_providers(self.service.settings)}:
            model = saved.get("model") or self.service.initial_model(provider)
            listed = await self.service.models(provider)
            updates[s.provider] = provider
            updates[s.model] = gr.update(choices=listed if model in listed else [model, *listed], value=model)
            updates[s.reasoning_effort] = effort_update(self.service, provider, model, saved.get("reasoning_effort", ""))
            if s.search is not None:
                updates[s.search] = search_update(provider, saved.get("search", ""))[0]
        elif provider:
            current = self.service.default_provider()
            notices.append(HistoryNotice("not_set_up", {"provider": provider, "now": current.label if current else "—"}))
        return updates

    async def open(
        self, view: ConversationView, conversation: Conversation | None, owner: str = "", *, temporary: bool = False
    ) -> dict:
        """Show a conversation (a new one when None): its chat, title and settings. Its files are
        shown only when `owner` attached them (file_stamps.py): Gradio serves any path it is given."""
        notices: list[HistoryNotice] = []
        if conversation is None:
            view.start_new(again=True, temporary=temporary)
            return {self.chatbot: view.shows([]), self.panel.title: "", "notices": notices}
        view.shown = conversation.id
        chat = view.live_chat(conversation.id) or page_messages(
            list(self.files.messages(owner, conversation.messages)), view.language
        )
        updates = await self._settings_updates(conversation.settings, notices)
        return {self.chatbot: view.shows(chat), self.panel.title: conversation.shown_title, "notices": notices, **updates}

    async def _keep_settings(self, shelf: Shelf, values: Mapping) -> None:
        """Before leaving a saved conversation, keep the settings it was left with."""
        view: ConversationView = values[self.view]
        if not view.shown or view.shown in view.live:
            return
        kept = await shelf.get(view.shown)
        settings = self.settings.stored(values)
        if kept is not None and dict(kept.settings) != settings:
            # A hair newer (so that another tab's copy does not win) but not moved up the list.
            await shelf.put(kept.with_messages(kept.messages, settings, now=kept.updated_at + 0.001))

    async def keep_and_open(
        self, shelf: Shelf, view: ConversationView, conversation: Conversation, owner: str, *said: HistoryNotice
    ) -> dict:
        """Keep a conversation made or changed here (a move between versions, a fork, a copy) and show
        it, with what is said of it first."""
        notices = await shelf.put(conversation)
        opened = await self.open(view, conversation, owner)
        opened["notices"] = [*said, *notices, *opened["notices"]]
        return opened

    async def _most_recent(self, shelf: Shelf) -> Conversation | None:
        """The conversation changed last (pinned ones are listed first, not opened first)."""
        recent = await shelf.summaries()
        return await shelf.get(max(recent, key=lambda s: s.updated_at).id) if recent else None

    # -- events ---------------------------------------------------------------------------------

    async def on_load(self, values: dict, request: gr.Request) -> dict:
        async def work(shelf: Shelf) -> dict:
            recent = await self._most_recent(shelf)
            if recent is None:  # a new visitor: the page is already as it should be
                values[self.view].start_new()
                return {"notices": list(self.startup_notices)}
            updates = await self.open(values[self.view], recent, self.owner(values, request))
            updates["notices"] = self.startup_notices + updates["notices"]
            return updates

        return await self.on_shelf(values, request, work, opening=True, chat=True)

    async def on_select(self, values: dict, request: gr.Request) -> dict:
        chosen = values[self.panel.listing]

        async def work(shelf: Shelf) -> dict:
            view: ConversationView = values[self.view]
            if not chosen or chosen == view.shown:
                return {}
            await self._keep_settings(shelf, values)
            updates = await self.open(view, await shelf.get(chosen), self.owner(values, request))
            # An answer this page does not follow (another tab's, one from before a reload): follow it.
            run = self.runs.get(chosen, self.owner(values, request))
            if run is not None and chosen not in view.live:
                await self._show_run(view, run, updates, page_language(request))
            return updates

        return await self.on_shelf(values, request, work, chat=True)

    async def on_new(self, values: dict, request: gr.Request) -> dict:
        async def work(shelf: Shelf) -> dict:
            await self._keep_settings(shelf, values)
            return await self.open(values[self.view], None)

        return await self.on_shelf(values, request, work, chat=True)

    async def on_new_temporary(self, values: dict, request: gr.Request) -> dict:
        """A temporary chat: a new conversation saved nowhere (neither here nor, where it can be
        asked, by the provider), ended by opening another."""

        async def work(shelf: Shelf) -> dict:
            await self._keep_settings(shelf, values)
            return await self.open(values[self.view], None, temporary=True)

        return await self.on_shelf(values, request, work, chat=True)

    async def on_rename(self, values: dict, request: gr.Request) -> dict:
        title = " ".join((values[self.panel.title] or "").split())[:200]

        async def work(shelf: Shelf) -> dict:
            kept = await shelf.get(values[self.view].shown)
            if kept is None or title == kept.shown_title:
                return {}
            return {"notices": await shelf.put(replace(kept, title=title, updated_at=time.time()))}

        return await self.on_shelf(values, request, work)

    async def on_pin(self, values: dict, request: gr.Request) -> dict:
        """Pins the conversation on screen to the top of the list, or unpins it."""

        async def work(shelf: Shelf) -> dict:
            kept = await shelf.get(values[self.view].shown)
            if kept is None:
                return {}
            # A hair newer (so that another tab's copy does not win), as a rename.
            return {"notices": await shelf.put(replace(kept, pinned=not kept.pinned, updated_at=kept.updated_at + 0.001))}

        return await self.on_shelf(values, request, work)

    async def on_delete(self, values: dict, request: gr.Request) -> dict:
        confirmed = values[self.panel.confirmed]

        async def work(shelf: Shelf) -> dict:
            view: ConversationView = values[self.view]
            if not confirmed or confirmed != view.shown:
                return {}
            await shelf.delete(confirmed)
            view.forget(confirmed)
            self.runs.discard(confirmed, self.owner(values, request))
            return await self.open(view, await self._most_recent(shelf), self.owner(values, request))

        return await self.on_shelf(values, request, work, chat=True)

    async def on_search(self, values: dict, request: gr.Request) -> dict:
        async def work(shelf: Shelf) -> dict:
            return {self.panel.notice: gr.skip()}

        return await self.on_shelf(values, request, work)

    async def save_stopped(self, values: dict, request: gr.Request) -> dict:
        """After the bin: the answers this page was showing end now, and are kept as far as they
        went (chat.stop_answers)."""
        await stop_answers(values[self.view], self.runs, self.owner(values, request), page_language(request))
        return await self.save_finished(values, request)

    async def stop_and_show(self, values: dict, request: gr.Request) -> dict:
        """After Stop: as after the bin, and the page is shown the stopped answer as it is saved."""
        view: ConversationView = values[self.view]
        stopped = await stop_answers(view, self.runs, self.owner(values, request), page_language(request))
        updates = await self.save_finished(values, request)
        if view.shown in stopped:
            updates[self.chatbot] = view.shows(stopped[view.shown])
        return updates

    async def resumable(self, values: Mapping, request: gr.Request, updates: dict) -> None:
        """When the page opens: if one of the conversations this browser noted as being answered
        (NOTE_LIVE_JS) has an answer running here, or one that ended with no page to save it, show
        that conversation (its chat so far) and let the resume step follow it."""
        owner = self.owner(values, request)
        for conversation_id in noted_conversations(values.get(self.panel.live)):
            run = self.runs.get(conversation_id, owner)
            if run is not None:
                values[self.view].show_running(conversation_id)
                updates.update({self.panel.title: "", self.panel.current: conversation_id})
                await self._show_run(values[self.view], run, updates, page_language(request))
                return

    async def _show_run(self, view: ConversationView, run: AnswerRun, updates: dict, language: str) -> None:
        """Show a running answer's conversation as far as it went, with its settings; the resume
        box's change starts the step that follows it."""
        shown, settings, after = run.context  # (a RunShown)
        notices: list[HistoryNotice] = []
        updates.update(await self._settings_updates(settings, notices))
        updates.update(
            {
                self.chatbot: view.shows(shown + list(after) + (render(run.answer, language) if run.answer else [])),
                self.panel.resume: f"{run.conversation_id} {time.time()}",
            }
        )

    async def save_finished(self, values: dict, request: gr.Request) -> dict:
        """After answers end: save each into its own conversation."""
        view: ConversationView = values[self.view]
        pending = view.take_finished()
        if not pending:
            return {self.panel.notice: gr.skip()}  # an empty dict would read as one output

        owner = self.owner(values, request)

        async def work(shelf: Shelf) -> dict:
            notices: list[HistoryNotice] = []
            for conversation_id, answer in pending.items():
                if is_temporary(conversation_id):
                    self.runs.discard(conversation_id, owner)  # kept nowhere: the run is let go
                    continue
                if conversation_id in view.deleted:
                    continue
                kept = await shelf.get(conversation_id) or Conversation(id=conversation_id)
                messages = self.files.messages(owner, saved_messages(answer.chat), stamp=True)
                messages = kept_versions(messages, kept.messages)
                notices += await shelf.put(kept.with_messages(messages, answer.settings))
                view.unsaved_new.discard(conversation_id)
                self.runs.discard(conversation_id, owner)  # saved: the run is let go
            shown = await shelf.get(view.shown)
            if shown is None or values.get(self.panel.title):  # never over a title being typed
                return {"notices": notices}
            return {"notices": notices, self.panel.title: shown.shown_title}

        return await self.on_shelf(values, request, work)

    def shown_conversation(self, values: Mapping, kept: Conversation | None, owner: str) -> Conversation:
        """The conversation on screen as it is now: its chat (its files stamped: Gradio checked
        they are uploads) and the panel's settings."""
        view: ConversationView = values[self.view]
        messages = self.files.messages(owner, saved_messages(view.with_metadata(values[self.chatbot])), stamp=True)
        messages = kept_versions(messages, kept.messages if kept is not None else ())
        settings = self.settings.stored(values)
        if kept is not None and kept.messages == messages and dict(kept.settings) == settings:
            return kept  # unchanged since it was saved: the same conversation, dates included
        return (kept or Conversation(id=view.shown)).with_messages(messages, settings)

    async def save_shown(self, values: dict, request: gr.Request) -> dict:
        """After an undo: the chat on screen is the conversation."""

        async def work(shelf: Shelf) -> dict:
            view: ConversationView = values[self.view]
            if view.shown in view.live or is_temporary(view.shown):
                return {}
            kept = await shelf.get(view.shown)
            current = self.shown_conversation(values, kept, self.owner(values, request))
            if kept is None and not current.messages:
                return {}
            return {"notices": await shelf.put(current)}

        return await self.on_shelf(values, request, work)
