"""The conversations sidebar: its components, and the wiring of its events and of the saves.

Each event that changes the kept conversations first reads what localStorage holds right now
(READ_STORE_JS, in the browser: no round trip), so that another tab's saves are merged, and the
entries it changed are written by the page (WRITE_JS), never over another tab's newer ones.
The list's events go through the queue, like answers. Gradio sends each event's messages when
they are ready, so an answer's update may reach the page after a switch's: the answer's next update
puts the switch's chat back (ChatHandlers._follow). The whole protocol: PROTOCOL.md.
"""

from __future__ import annotations

from typing import Any

import gradio as gr

from ..history.conversations import TEMPORARY_PREFIX
from ..history.shelves import Keeper
from .browser_state import READ_STORE_JS, WRITE_JS
from .conversation_list import CONFIRM_DELETE_JS, ConversationHandlers
from .labels import Labels
from .listeners import QUEUED_PLAIN, QUICK_PLAIN
from .scripts import script
from .transfer import DOWNLOAD_JS, Transfers
from .view import LIVE_NOTED, HistoryPanel

LIVE_KEY = "causerie-live"
NOTE_LIVE_JS = script("note_live", key=LIVE_KEY, count=LIVE_NOTED)
BROWSER_KEY = "causerie-browser"
READ_STORE_AND_LIVE_JS = script("read_store_and_live", readStore=READ_STORE_JS, liveKey=LIVE_KEY, browserKey=BROWSER_KEY)
KEEP_BROWSER_JS = script("keep_browser", key=BROWSER_KEY)
# The list's handlers return values in the form the page takes (see ConversationHandlers.keep_unchanged).
QUEUED, QUICK = QUEUED_PLAIN, QUICK_PLAIN


TEMPORARY_JS = (
    f"(id) => {{ document.documentElement.classList.toggle('causerie-temporary', (id || '').startsWith('{TEMPORARY_PREFIX}')); }}"
)
"""Marks the page as showing a temporary chat, or not, from the id of the one on screen: once the
server has opened it, and whatever opens another (New chat, the list, the bin, a delete, a reload)."""


def build_panel(keeper: Keeper, say: Labels, *, login: bool) -> tuple[HistoryPanel, dict]:
    """The sidebar's components (call inside the sidebar), and its buttons by name."""
    if login:  # a Space with `hf_oauth: true`: signing in keeps chats on the server
        gr.LoginButton(size="sm")
    gr.Markdown("### " + say("conversations"))
    with gr.Row(equal_height=True):
        new = gr.Button(say("new_chat"), elem_id="new-chat", size="sm", variant="primary", scale=2, min_width=0)
        temporary = gr.Button(
            say("temporary_chat"), elem_id="temporary-chat", size="sm", variant="secondary", scale=1, min_width=0
        )
    search = gr.Textbox(
        placeholder=say("search"),
        label=say("search_conversations"),
        show_label=False,
        elem_id="conversation-search",
        container=False,
        max_lines=1,
    )
    listing = gr.Radio(choices=[], label=say("conversations"), show_label=False, elem_id="conversation-list", container=False)
    notice = gr.Markdown("", elem_id="history-notice")
    with gr.Accordion(say("this_conversation"), open=False, elem_id="conversation-tools"):
        title = gr.Textbox(label=say("title"), elem_id="conversation-title", max_lines=1, info=say("title_info"))
        with gr.Row():
            pin = gr.Button(say("pin"), elem_id="pin-conversation", size="sm")
            delete = gr.Button(say("delete"), elem_id="delete-conversation", size="sm", variant="stop")
        with gr.Row():
            markdown = gr.Button("⬇ Markdown", elem_id="export-markdown", size="sm")
            as_json = gr.Button("⬇ JSON", elem_id="export-json", size="sm")
        with gr.Row():
            every = gr.Button(say("export_all"), elem_id="export-all", size="sm")
            importer = gr.UploadButton(say("import"), file_types=[".json"], elem_id="import-conversations", size="sm")
    panel = HistoryPanel(
        writes=gr.Textbox(visible=False),
        fresh=gr.Textbox(visible=False),
        current=gr.Textbox(visible=False, elem_id="conversation-id"),
        listing=listing,
        search=search,
        title=title,
        notice=notice,
        download=gr.Textbox(visible=False),
        importer=importer,
        confirmed=gr.Textbox(visible=False),
        live=gr.Textbox(visible=False),
        resume=gr.Textbox(visible=False),
        browser=gr.Textbox(visible=False),
    )
    return panel, {
        "new": new,
        "temporary": temporary,
        "pin": pin,
        "delete": delete,
        "markdown": markdown,
        "json": as_json,
        "all": every,
    }


def after_reading_store(panel: HistoryPanel, trigger: Any, fn: Any, inputs: Any, outputs: Any, **options: Any) -> Any:
    """`trigger(...)` runs `fn`, once the browser has put what localStorage holds now into
    panel.fresh. `trigger` is an event listener (`button.click`) or a step's `.then`."""
    return trigger(None, None, panel.fresh, js=READ_STORE_JS, **QUICK).then(fn, inputs, outputs, **options)


def after_opening(panel: HistoryPanel, load: Any, fn: Any, inputs: Any, outputs: Any, **options: Any) -> Any:
    """The page's opening step `fn`, once the browser has given the kept conversations and the
    ones noted as being answered."""
    return load(None, None, [panel.fresh, panel.live, panel.browser], js=READ_STORE_AND_LIVE_JS, **QUICK).then(
        fn, {*inputs, panel.live}, {*outputs, panel.browser}, **options
    )


def wire_panel(history: ConversationHandlers, panel: HistoryPanel, buttons: dict) -> None:
    shown = history.outputs()
    transfers = Transfers(history)
    panel.writes.change(None, panel.writes, None, js=WRITE_JS, trigger_mode="multiple", **QUICK)

    def run(trigger: Any, fn: Any, *extra: Any, outputs: Any = shown, **options: Any) -> Any:
        return after_reading_store(panel, trigger, fn, history.inputs(*extra), outputs, **{**QUEUED, **options})

    run(panel.listing.input, history.on_select, panel.listing)
    run(buttons["new"].click, history.on_new)
    run(buttons["temporary"].click, history.on_new_temporary)
    # A temporary chat is marked while it is on screen (`#temporary-note`, header.py's CSS).
    panel.current.change(None, panel.current, None, js=TEMPORARY_JS, **QUICK)
    confirm = buttons["delete"].click(None, panel.current, panel.confirmed, js=CONFIRM_DELETE_JS, **QUICK)
    run(confirm.then, history.on_delete, panel.confirmed)
    run(panel.title.submit, history.on_rename, outputs=history.list_outputs())
    run(buttons["pin"].click, history.on_pin, outputs=history.list_outputs())
    run(panel.search.change, history.on_search, outputs=history.list_outputs(), trigger_mode="always_last")
    for name, export in (("markdown", transfers.export_markdown), ("json", transfers.export_json), ("all", transfers.export_all)):
        run(buttons[name].click, export, history.chatbot, outputs=panel.download).then(
            None, panel.download, None, js=DOWNLOAD_JS, **QUICK
        )
    run(panel.importer.upload, transfers.on_import, panel.importer)


def wire_saves(history: ConversationHandlers, streams: list, stop: Any, undo: Any, clear: Any) -> tuple[Any, Any]:
    """Saving goes through the queue after an answer's last update, and reads the answer from the
    page's view (the chat on screen may be another conversation by then). Returns the steps that
    saves after Stop and the one that opens a new chat after the bin."""
    panel, saved = history.panel, history.list_outputs()
    for stream in streams:
        after_reading_store(panel, stream.then, history.save_finished, history.inputs(), saved, **QUEUED)
    stopped = after_reading_store(panel, stop.then, history.stop_and_show, history.inputs(), {*saved, history.chatbot}, **QUEUED)
    after_reading_store(panel, undo.then, history.save_shown, history.inputs(history.chatbot), saved, **QUEUED)
    # The bin keeps the conversation in the list (delete is there) and opens a new one.
    cleared = after_reading_store(panel, clear.then, history.save_stopped, history.inputs(), saved, **QUEUED)
    binned = after_reading_store(panel, cleared.then, history.on_new, history.inputs(), history.outputs(), **QUEUED)
    return stopped, binned
