"""Moving between the versions of an answer (‹ 2/3 ›), and continuing a chat in a new one from an
answer (⑂), in the page: ui/js/chat_links.js clicks a hidden button with what was asked.

Both work on the conversation as it was saved (the browser's sealed copy or the server's store),
not on what the page sends: its files keep the stamps the server gave them (file_stamps.py), and
a page cannot slip in a version of its own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import gradio as gr

from ..compare.compare import LETTERS, Comparison
from ..history.conversations import Conversation, new_id
from ..history.library import HistoryNotice
from ..history.versions import answer_ends, as_versions, dropped, path_only, switched
from .conversation_list import ConversationHandlers
from .conversation_list_page import after_reading_store
from .labels import TEXTS
from .listeners import QUEUED_PLAIN, QUICK_PLAIN
from .scripts import script

ASKED = re.compile(r"^(prev|next|drop|fork):(\d{1,4})$")
VERSIONS_CSS = "#version-go, #fork-go { display: none !important; }\n#chatbot .causerie-fork { font-size: 14px; }\n"


@dataclass(frozen=True)
class VersionParts:
    asked: Any
    go: Any
    fork: Any


def build_version_controls() -> VersionParts:
    return VersionParts(
        gr.Textbox("", visible=False), gr.Button("go", elem_id="version-go"), gr.Button("fork", elem_id="fork-go")
    )


def chat_links_js() -> Any:
    english, french = TEXTS["fork"]
    drop_en, drop_fr = TEXTS["version_drop_ask"]
    return script("chat_links", forkLabels={"en": english, "fr": french}, dropAsk={"en": drop_en, "fr": drop_fr})


def _asked(values: dict, parts: VersionParts) -> tuple[str, int] | None:
    found = ASKED.match(str(values.get(parts.asked) or ""))
    return (found.group(1), int(found.group(2))) if found else None


def wire_versions(history: ConversationHandlers, parts: VersionParts) -> None:
    panel = history.panel

    async def on_version(values: dict, request: gr.Request) -> dict:
        """The version before or after the one shown, at the n-th question asked more than once; or
        that one gone (the one before it shows)."""
        view = values[history.view]
        asked = _asked(values, parts)
        if asked is None or asked[0] == "fork":
            return {history.panel.notice: gr.skip()}
        if view.shown in view.live:
            return {"notices": [HistoryNotice("version_busy", {})]}
        owner = history.owner(values, request)

        async def work(shelf) -> dict:
            kept = await shelf.get(view.shown)
            if kept is None:
                return {history.panel.notice: gr.skip()}
            points = [n for n, m in enumerate(kept.messages) if m.get("role") == "user" and m.get("versions")]
            if asked[1] >= len(points):
                return {history.panel.notice: gr.skip()}
            point = points[asked[1]]
            if asked[0] == "drop":
                messages = dropped(kept.messages, point)
            else:
                messages = switched(kept.messages, point, -1 if asked[0] == "prev" else 1)
            if messages is None:
                return {history.panel.notice: gr.skip()}
            return await history.keep_and_open(shelf, view, kept.with_messages(messages, kept.settings), owner)

        return await history.on_shelf(values, request, work, chat=True)

    async def on_fork(values: dict, request: gr.Request) -> dict:
        """A new conversation: the path on screen up to and with the n-th answer."""
        view = values[history.view]
        asked = _asked(values, parts)
        if asked is None or asked[0] != "fork":
            return {history.panel.notice: gr.skip()}
        owner = history.owner(values, request)

        async def work(shelf) -> dict:
            kept = await shelf.get(view.shown)
            if kept is None:
                return {history.panel.notice: gr.skip()}
            answers = answer_ends(kept.messages)
            if asked[1] >= len(answers):
                return {history.panel.notice: gr.skip()}
            messages = path_only(kept.messages[: answers[asked[1]] + 1])
            title = kept.shown_title
            conversation = Conversation(id=new_id(), title=f"⑂ {title}"[:200]).with_messages(messages, kept.settings)
            return await history.keep_and_open(shelf, view, conversation, owner, HistoryNotice("forked", {}))

        return await history.on_shelf(values, request, work, chat=True)

    js = "() => window.causerieChatLinks?.asked ?? ''"
    for button, handler in ((parts.go, on_version), (parts.fork, on_fork)):
        asked = button.click(None, None, parts.asked, js=js, **QUICK_PLAIN)
        after_reading_store(panel, asked.then, handler, history.inputs(parts.asked), history.outputs(), **QUEUED_PLAIN)


def wire_compare_to_chat(history: ConversationHandlers, compare: Any, main_tabs: Any) -> None:
    """Compare's *Continue in a chat*: a new conversation of the first side's questions and answers,
    each other side's a version of it (named by its model once names show, else by its letter), and
    the chat opens on it."""
    panel = history.panel

    async def take(values: dict, request: gr.Request) -> dict:
        comparison: Comparison = values[compare.state]
        view = values[history.view]
        owner = history.owner(values, request)
        paths = []
        for number, turns in enumerate(comparison.turns):
            name = comparison.models[number] if comparison.revealed else f"{LETTERS[number]}"
            paths.append([{**t, "footer": name} if t.get("role") == "assistant" else dict(t) for t in turns])
        if not any(t.get("role") == "assistant" and t.get("content") for path in paths for t in path):
            return {panel.notice: gr.skip()}
        messages = as_versions(paths)

        async def work(shelf) -> dict:
            opened = await history.keep_and_open(shelf, view, Conversation(id=new_id()).with_messages(messages, {}), owner)
            return {**opened, main_tabs: gr.Tabs(selected="chat")}

        return await history.on_shelf(values, request, work, chat=True)

    after_reading_store(
        panel, compare.to_chat.click, take, history.inputs(compare.state), {*history.outputs(), main_tabs}, **QUEUED_PLAIN
    )
