"""Export (the conversation on screen as Markdown or JSON, or all of them as JSON) and import.

An export's file is made in the browser (DOWNLOAD_JS) from the text the server sends: nothing is
written on the server. An import never replaces a conversation the person has: one with the same
id gets a new id. Both keep a file's path only when it is the person's own upload (file_stamps.py):
an import's paths are data, and an export is the next import.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import gradio as gr

from ..history.conversations import UnreadableFile, bundle_json, file_stem, new_id, read_import, to_markdown
from ..history.library import HistoryNotice
from ..history.store.errors import StoreError
from ..i18n.wording import words
from .conversation_list import ConversationHandlers
from .scripts import script
from .visitors import owner_of, page_language

MAX_IMPORT_BYTES = 20_000_000
"""Also Gradio's upload limit (launch_options): a larger file is refused before it is stored."""

DOWNLOAD_JS = script("download")


def _file(name: str, kind: str, text: str) -> str:
    return json.dumps({"name": name, "type": kind, "text": text})


class Transfers:
    def __init__(self, history: ConversationHandlers) -> None:
        self.history = history

    async def _export(self, values: dict, request: gr.Request, kind: str) -> str:
        history = self.history
        view, owner = values[history.view], history.owner(values, request)
        try:
            async with view.lock():
                shelf = await history.shelf_for(values, owner_of(request))
                if kind == "all":
                    kept = [replace(c, messages=history.files.messages(owner, c.messages)) for c in await shelf.all()]
                    return _file("causerie-conversations.json", "application/json", bundle_json(kept))
                current = history.shown_conversation(values, await shelf.get(view.shown), owner)
        except StoreError:
            gr.Warning(words("history", "store_unreachable", None, page_language(request)))
            return ""
        if kind == "markdown":
            return _file(f"{file_stem(current)}.md", "text/markdown", to_markdown(current))
        return _file(f"{file_stem(current)}.json", "application/json", current.to_json())

    async def export_markdown(self, values: dict, request: gr.Request) -> str:
        return await self._export(values, request, "markdown")

    async def export_json(self, values: dict, request: gr.Request) -> str:
        return await self._export(values, request, "json")

    async def export_all(self, values: dict, request: gr.Request) -> str:
        return await self._export(values, request, "all")

    async def on_import(self, values: dict, request: gr.Request) -> dict:
        history = self.history
        upload = values[history.panel.importer]  # a path in Gradio's upload cache (preprocessed)
        limit = history.keeper.limits.max_conversations
        owner = history.owner(values, request)

        async def work(shelf) -> dict:
            try:
                size = Path(upload).stat().st_size
                if size > MAX_IMPORT_BYTES:
                    return {
                        "notices": [
                            HistoryNotice(
                                "import_too_large", {"size": f"{size / 1e6:.1f}", "limit": MAX_IMPORT_BYTES // 1_000_000}
                            )
                        ]
                    }
                found = read_import(Path(upload).read_bytes())
            except UnreadableFile as exc:
                return {"notices": [HistoryNotice("import_failed", {"why": exc.why, **exc.params})]}
            except (OSError, TypeError):
                return {"notices": [HistoryNotice("import_failed", {"why": "not_ours"})]}
            kept = len(await shelf.summaries())
            if kept + len(found) > limit:  # said before anything is dropped, not after
                return {
                    "notices": [
                        HistoryNotice("import_failed", {"why": "too_many", "count": len(found), "kept": kept, "limit": limit})
                    ]
                }
            notices: list[HistoryNotice] = []
            first = None
            for conversation in found:
                if await shelf.get(conversation.id) is not None:  # never replace a kept one
                    conversation = replace(conversation, id=new_id())
                # Only the person's own files (their export, say) keep their paths.
                conversation = replace(conversation, messages=history.files.messages(owner, conversation.messages))
                notices += await shelf.put(conversation)
                first = first or conversation
            opened = await history.open(values[history.view], first, owner)
            opened["notices"] = [HistoryNotice("imported", {"count": len(found)}), *notices, *opened["notices"]]
            return opened

        return await history.on_shelf(values, request, work, chat=True)
