"""The Gradio app: a chat with a settings sidebar, plus the API endpoints. Wiring only."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import gradio as gr
from starlette.middleware import Middleware

from .. import patches
from ..answering.access import offered_providers
from ..answering.answer import SessionTotals
from ..answering.runs import AnswerRuns
from ..answering.service import ChatService
from ..compare.votes import BallotBox
from ..config.page_policy import SecurityHeaders, security_headers
from ..files.attachments import ACCEPTED_SUFFIXES
from ..history.library import HistoryNotice
from ..history.shares import SharesOnFirstUse
from ..history.shelves import Keeper, keeper_for
from ..i18n.wording import words
from ..mcp_server import middleware as mcp_middleware
from .api import API_ARITIES, register_api
from .api_calls import CompleteApiArguments
from .chat import ChatHandlers
from .cockpit_page import build_cockpit
from .compare_page import build_tabs, wire_tabs
from .conversation_list import ConversationHandlers
from .conversation_list_page import KEEP_BROWSER_JS, NOTE_LIVE_JS, after_opening, build_panel, wire_panel, wire_saves
from .header import DRAWERS_BELOW_PX, LAYOUT_HEAD, build_top_bar, theme
from .labels import Labels
from .listeners import QUICK, streamed
from .page_guard import ANSWER_GUARD_HEAD, MESSAGE_CSS
from .panel import PageSettings, wire_access, wire_picker
from .render import EMPTY_CHAT_MARK, LATEX_DELIMITERS
from .scripts import script
from .settings_page import (
    PresetMenu,
    build_blanks,
    build_model_bar,
    build_settings,
    example_questions,
    examples_css,
    wire_blanks,
    wire_preset_pins,
    wire_presets,
)
from .share_page import build_share, wire_share
from .shared_route import SharedPages
from .tools_page import TOOLS_CSS, build_tool_controls, build_tool_settings, wire_tools, with_tools
from .transfer import MAX_IMPORT_BYTES
from .versions_page import VERSIONS_CSS, build_version_controls, chat_links_js, wire_compare_to_chat, wire_versions
from .view import ConversationView
from .visitors import distrust_proxy_headers, is_issued, issue_browser_id, page_language, visitor_of
from .voice_page import VOICE_CSS, build_microphone, build_voice_controls, build_voice_settings, read_aloud_js, wire_voice

FAVICON = str(Path(__file__).resolve().parent / "static" / "favicon.png")

CHAT_MARK_JS = script("chat_mark")
SHOW_QUESTION_JS = script("show_question", chatMark=CHAT_MARK_JS)

ECHO_WITHIN_S = 0.05

KEEP_CHOSEN_MODEL_JS = script("keep_chosen_model")


CSS = """
.causerie-embed .gradio-container #conversations, .causerie-embed .gradio-container #settings,
.causerie-embed .gradio-container #top-bar,
.causerie-embed .gradio-container footer,
.causerie-embed .gradio-container #main-tabs > .tab-wrapper { display: none !important; }
#session-totals { font-size: 0.9em; opacity: 0.85; }
#conversation-list label { width: 100%; }
#conversation-list .wrap { flex-direction: column; gap: 2px; }
#history-notice { font-size: 0.85em; }
/* The cockpit's route makes Gradio add a bar of pages ("Home") to every page, which gr.Navbar
   (visible=False) does not hide in 6.31: the chat keeps its height, and /admin is reached by its address. */
nav:has(> a[data-sveltekit-reload]) { display: none !important; }
"""


def build_demo(
    service: ChatService,
    keeper: Keeper | None = None,
    startup_notices: list[HistoryNotice] | None = None,
    labels: Labels | None = None,
) -> gr.Blocks:
    """The app, part by part. Its words are `labels`' keys: pass the same Labels to launch_options."""
    say = labels if labels is not None else Labels()
    settings = service.settings
    if keeper is None:
        keeper, startup_notices = keeper_for(settings.history, on_space=settings.on_space)
    menu = PresetMenu(service.presets, settings.default_prompt)
    # Visitors' uploads are not kept forever on a public server (Gradio's cache clean-up covers them).
    keep_s = int(settings.uploads_keep_hours * 3600)
    with gr.Blocks(
        title="Causerie",
        fill_height=True,
        fill_width=True,
        analytics_enabled=False,
        delete_cache=(min(3600, keep_s), keep_s) if keep_s else None,
    ) as demo:
        totals_state = gr.State(SessionTotals())
        view_state = gr.State(ConversationView())
        # The chat owns the screen: the conversations beside it on a wide screen, the settings a
        # drawer a click away (header.py).
        with gr.Sidebar(label=say("conversations"), open=True, position="left", elem_id="conversations"):
            panel, history_buttons = build_panel(keeper, say, login=settings.oauth)
            share_parts = build_share(service, say)
        shares = SharesOnFirstUse(settings.history.votes_url)  # (the page's and the API's)
        build_top_bar(say)
        with gr.Tabs(elem_id="main-tabs") as main_tabs:
            with gr.Tab(say("tab_chat"), id="chat", elem_id="chat-tab"):
                with gr.Row(elem_id="model-bar"):
                    bar = build_model_bar(service, say)
                gr.Markdown(say("temporary_note"), elem_id="temporary-note")
                preset_blanks = build_blanks(say)
                chatbot, textbox, mic = _build_chat(service, say, menu, _first_words(service, say))
                voice = build_voice_controls(service, mic)
                tool_parts = build_tool_controls(service)
                version_parts = build_version_controls()
            tabs = build_tabs(say, menu.order)
        # Open when the person's own key is wanted first (on a phone the page folds it: page.js).
        wants_key = not service.ready_providers() or settings.public.require_user_key
        with gr.Sidebar(label=say("settings"), open=wants_key, position="right", elem_id="settings"):
            page_settings, totals_box, preset_pins = build_settings(service, say, menu, bar)
            voice = build_voice_settings(service, say, voice)
            tool_parts = build_tool_settings(service, say, tool_parts)
        page_settings = with_tools(page_settings, tool_parts)
        initial_model = bar.initial_model
        # Answers run on their own, so that a page that goes away and comes back finds them (runs.py).
        runs = AnswerRuns(grace_s=settings.answer_grace_s, max_runs=2 * settings.concurrency_limit)
        history = ConversationHandlers(service, keeper, page_settings, chatbot, view_state, panel, startup_notices or [], runs)
        ended = _wire_chat(service, page_settings, chatbot, textbox, totals_state, totals_box, view_state, history)
        wire_voice(service, voice, page_settings, chatbot, textbox, totals_state, totals_box, ended)
        wire_tools(demo, service, tool_parts, panel.browser)
        wire_access(service, page_settings, QUICK)
        wire_picker(service, page_settings, bar.picker, bar.facts, QUICK)
        opened = _wire_opening(demo, service, history, page_settings, menu, initial_model)
        _wire_page_scripts(demo, service)
        wire_preset_pins(menu, page_settings, preset_pins, opened)
        wire_presets(menu, page_settings, chatbot, textbox)
        wire_blanks(preset_blanks, page_settings)
        wire_panel(history, panel, history_buttons)
        wire_versions(history, version_parts)
        wire_compare_to_chat(history, tabs.compare, main_tabs)
        if share_parts is not None:
            wire_share(demo, service, shares, share_parts, history, page_settings)
        ballots = BallotBox(settings.history.votes_url)
        wire_tabs(service, ballots, tabs, page_settings, QUICK)
        register_api(service, menu.default.prompt if menu.default else None, ballots, shares)
    if settings.cockpit.admins:  # the owner's cockpit, at /admin, and the records it reads
        from ..history.store.usage_store import UsageStore

        usage = UsageStore(settings.history.votes_url, settings.cockpit.keep_days)
        service.records.sink = usage.add
        build_cockpit(demo, service, usage, say)
    # Less of Gradio's work per session and per update, and a Stop without Gradio's bare "Error":
    # each patch checks first that Gradio is as it was written for (causerie/patches/).
    patches.apply(demo, settings.patches)
    _no_queue_monitoring()
    # api_open=False: the API goes through the queue (and its limits), never around it.
    demo.queue(
        default_concurrency_limit=settings.concurrency_limit,
        max_size=settings.queue_max_size,
        status_update_rate=1,
        api_open=False,
    )
    return demo


def _no_queue_monitoring() -> None:
    """Gradio's queue keeps its last 10,000 events for its /monitoring page and, after every
    event, rebuilds their summary with pandas in a worker thread: a cost that grows with the
    events served, about a fifth of a fresh session's CPU after a few hundred sessions
    (bench/NOTES.md, "Many sessions"). Causerie serves no /monitoring page (launch_options turns
    it off; the owner's cockpit is /admin), so the queue keeps one event and never recomputes,
    through the two environment variables Gradio reads when the queue is made (an owner's own
    values win)."""
    os.environ.setdefault("GRADIO_ANALYTICS_MAX_EVENTS", "1")
    os.environ.setdefault("GRADIO_ANALYTICS_CACHE_FREQUENCY", str(2**62))


def _first_words(service: ChatService, say: Labels) -> Any:
    """What the empty chat says: where to paste a key, when nothing answers without one (a public
    server with no key of its own, or one that asks for the visitor's), naming the providers that
    take one; else how the chat works."""
    settings = service.settings
    if service.ready_providers() and not settings.public.require_user_key:
        return say("chat_placeholder")
    names = ", ".join(p.label for p in offered_providers(settings) if p not in service.ready_providers())
    if not names:
        return say("chat_placeholder")
    english, french = say.pair("chat_placeholder.key")
    return say.add("chat_placeholder.key.shown", english.format(providers=names), french.format(providers=names))


def _build_chat(
    service: ChatService, say: Labels, menu: PresetMenu, placeholder: Any
) -> tuple[gr.Chatbot, gr.MultimodalTextbox, Any]:
    chatbot = gr.Chatbot(
        elem_id="chatbot",
        label=say("tab_chat"),
        buttons=["copy", "copy_all"],
        latex_delimiters=LATEX_DELIMITERS,
        sanitize_html=True,
        editable="user",
        scale=1,
        height="calc(100dvh - 20rem)",  # (header.py's CSS says it for each width)
        show_label=False,
        placeholder=placeholder,
        feedback_options=None,
        examples=example_questions(menu.order),
    )
    # Enter sends, Shift+Enter starts a new line; files are attached with the clip or dropped in;
    # the microphone beside it dictates (voice_page.py).
    with gr.Row(elem_id="composer", equal_height=True):
        textbox = _question_box(say)
        mic = build_microphone(service, say)
    return chatbot, textbox, mic


def _question_box(say: Labels) -> gr.MultimodalTextbox:
    return gr.MultimodalTextbox(
        elem_id="chat-input",
        label=say("message"),
        placeholder=say("input_placeholder"),
        show_label=False,
        lines=1,
        max_lines=10,
        submit_btn=True,
        stop_btn=False,
        autofocus=True,
        file_types=ACCEPTED_SUFFIXES,
        file_count="multiple",
        sources=["upload"],
    )


def _wire_opening(
    demo: gr.Blocks,
    service: ChatService,
    history: ConversationHandlers,
    page: PageSettings,
    menu: PresetMenu,
    initial_model: str,
) -> Any:
    """When the page opens: the conversation to show, a browser id for a new browser, an answer to
    resume, the presets in the page's language, the provider's model list (PROTOCOL.md, "Open the
    page"). Returns its last step."""
    settings, panel = service.settings, history.panel
    opened_with = gr.Textbox(initial_model, visible=False)
    listed_pick = gr.Textbox(visible=False)

    def in_page_language(updates: dict, language: str) -> None:
        """A page in another language than the default preset's lists its own language's
        presets first and opens on the same preset in it (unless a conversation set one)."""
        if page.preset in updates or not menu.default or language == menu.default.language:
            return
        mine = menu.in_language(language)
        updates[page.preset] = gr.update(choices=menu.choices(language), value=mine.id if mine else menu.default.id)
        if mine:
            updates.update(
                zip((page.system_prompt, page.temperature, page.top_p, page.max_tokens), menu.values(mine.id), strict=True)
            )

    async def on_open(values: dict, request: gr.Request) -> dict:
        """One step when the page opens: the most recent conversation, and the provider's model
        list with the model it suggests (for KEEP_CHOSEN_MODEL_JS), unless the conversation
        chose its model."""
        started = time.monotonic()
        if not is_issued(values.get(panel.browser), settings.history.secret):  # a new browser (or a forged id)
            values[panel.browser] = updates_browser = issue_browser_id(settings.history.secret)
        else:
            updates_browser = None
        updates = await history.on_load(values, request)
        if updates_browser:
            updates[panel.browser] = updates_browser
        # (Left out unless resuming: the page fires `.change` for any value sent, even the same.)
        await history.resumable(values, request, updates)
        in_page_language(updates, page_language(request))
        provider_id = updates.get(page.provider, values[page.provider])
        # A restored conversation sets its model as an update (with that provider's list);
        # otherwise the box holds its own value and the list's suggestion may replace it.
        if isinstance(updates.get(page.model), dict) or not provider_id:
            updates[listed_pick] = ""
        else:
            choices, pick = await service.model_choices(provider_id)
            updates.update({page.model: gr.update(choices=choices), listed_pick: pick})
        # Settings left alone get their current value (cheap; see keep_unchanged) only if this
        # was quick: during a slow model list the person may have changed one meanwhile.
        if time.monotonic() - started < ECHO_WITHIN_S:
            history.keep_unchanged(values, updates)
        return updates

    return (
        after_opening(
            panel,
            demo.load,
            on_open,
            history.inputs(panel.resume),
            history.outputs(listed_pick, panel.resume),
            **QUICK,
            postprocess=False,
        )
        .then(None, [page.model, opened_with, listed_pick], page.model, js=KEEP_CHOSEN_MODEL_JS, **QUICK)
        .then(None, panel.browser, None, js=KEEP_BROWSER_JS, **QUICK)
    )


def _wire_page_scripts(demo: gr.Blocks, service: ChatService) -> None:
    """The layout (drawers, embedded and phone pages) and the keyboard shortcuts."""
    settings = service.settings
    demo.load(None, None, None, js=script("page", embedded=settings.embed, drawersBelow=DRAWERS_BELOW_PX), **QUICK)
    demo.load(None, None, None, js=script("shortcuts"), **QUICK)
    demo.load(None, None, None, js=chat_links_js(), **QUICK)  # (approvals, versions, ⑂)
    if service.voice.readers() or service.voice.listeners():
        demo.load(None, None, None, js=read_aloud_js(), **QUICK)


def _wire_chat(
    service: ChatService,
    page_settings: PageSettings,
    chatbot: gr.Chatbot,
    textbox: gr.Textbox,
    totals_state: gr.State,
    totals_box: gr.Markdown,
    view_state: gr.State,
    history: ConversationHandlers,
) -> list:
    """Submit, Retry and Edit stream an answer; Stop cancels it; Undo and Clear are instant.
    Returns the steps that follow each answer's end.

    On submit, the browser itself shows the question, moves it into a hidden box and empties the
    textbox (a JavaScript step: no round trip before the answer starts). The answer reads the hidden box,
    not the textbox: the browser does not apply the Stop button to a component a running event
    reads. Showing Stop runs beside the answer, not before it.
    """
    quick, stream = QUICK, streamed(service.settings.concurrency_limit)
    outputs = [chatbot, totals_state]
    pending = gr.MultimodalTextbox(visible=False, elem_id="chat-message")
    # What a question sends in place of the page's chat, and where the server asks for the chat
    # when that is not enough (ChatHandlers.submit).
    mark = gr.Textbox(EMPTY_CHAT_MARK, visible=False, elem_id="chat-mark")
    resend = gr.Textbox("", visible=False, elem_id="chat-resend")
    panel = history.panel
    handlers = ChatHandlers(
        service,
        page_settings,
        chatbot=chatbot,
        pending=pending,
        mark=mark,
        totals=totals_state,
        view=view_state,
        panel=panel,
        runs=history.runs,
    )

    def busy():
        return gr.MultimodalTextbox(submit_btn=False, stop_btn=True)

    def idle(view: ConversationView):
        """Send shown again, unless another answer of this page is still being written (a Retry's,
        say, while an Enter that sent nothing ends), or about to be (the page was asked for its
        chat: ChatHandlers.submit)."""
        return gr.skip() if view.live or view.awaiting_chat else gr.MultimodalTextbox(submit_btn=True, stop_btn=False)

    # The page runs a trigger's listeners in the order they were added, each once the one before
    # has been sent off. Submit: the question is taken (SHOW_QUESTION_JS, which sends nothing while
    # Stop shows) before Stop is shown. Retry and Edit: Stop is shown first; added after the
    # answer, it came only once the answer had ended, and then stayed.
    submitted = textbox.submit(None, [textbox, chatbot], [pending, textbox, chatbot, mark], js=SHOW_QUESTION_JS, **quick)
    for trigger in (textbox.submit, chatbot.retry, chatbot.edit):
        trigger(None, panel.current, None, js=NOTE_LIVE_JS, **quick)
    chatbot.edit(ConversationView.chat_changed, view_state, None, **quick)  # (the page edits its chat itself)
    for trigger in (textbox.submit, chatbot.retry, chatbot.edit, panel.resume.change):
        trigger(busy, None, textbox, **quick)
    streams = [
        submitted.then(handlers.submit, handlers.inputs(pending, mark, with_chat=False), [*outputs, resend], **stream),
        resend.change(handlers.submit_with_chat, handlers.inputs(pending), outputs, **stream),
        chatbot.retry(handlers.retry, handlers.inputs(), outputs, **stream),
        chatbot.edit(handlers.edit, handlers.inputs(), outputs, **stream),
        # The page opened on an answer still being written: follow it (set by on_open).
        panel.resume.change(handlers.resume, handlers.inputs(), outputs, **stream),
    ]

    async def totals(totals: SessionTotals, request: gr.Request) -> str:
        return await totals_line(service, totals, request)

    ended = [
        stream.then(idle, view_state, textbox, **quick).then(totals, totals_state, totals_box, **quick) for stream in streams
    ]
    stop = textbox.stop(handlers.stop_now, {view_state, panel.browser}, None, cancels=streams, **quick)
    undo = chatbot.undo(handlers.undo, [chatbot, view_state], [chatbot, textbox], **quick)
    clear = chatbot.clear(handlers.stop_now, {view_state, panel.browser}, None, cancels=streams, **quick)
    for put_away in wire_saves(history, ended, stop, undo, clear):  # once the stopped answers are put away
        put_away.then(idle, view_state, textbox, **quick)
    return ended


async def totals_line(service: ChatService, totals: SessionTotals, request: gr.Request) -> str:
    """The session's totals, and, where each visitor has a dollar budget, what they spent of it today."""
    language = page_language(request)
    line = totals.summary(language)
    if not service.budgets.per_visitor:  # (no visitor to build after every answer)
        return line
    left = await service.budgets.left(visitor_of(request, service.settings))
    if left is None:
        return line
    spent, limit, _ = left
    reset = f"{service.budgets.reset_hour:02d}:00"
    return line + "\n\n" + words("page", "budget_left", {"spent": spent, "limit": limit, "reset": reset}, language)


def shared_pages_middleware(service: ChatService) -> list[Middleware]:
    """The shared conversations' pages, /s/<id> (SHARE_LINKS; ui/shared_route.py), read from the
    store on first use."""
    settings = service.settings
    if not settings.share_links:
        return []
    store: list[Any] = []

    def opened() -> Any:
        if not store:
            from ..history.store.share_store import ShareStore

            store.append(ShareStore(settings.history.votes_url))
        return store[0]

    return [Middleware(SharedPages, store=opened, frame_ancestors=settings.frame_ancestors)]


def launch_options(service: ChatService, labels: Labels | None = None) -> dict[str, Any]:
    """`demo.launch`'s options; `labels` are the ones build_demo was given (their words). Also
    keeps the server from reading proxy headers the app's own setting did not trust."""
    distrust_proxy_headers()
    css = CSS + VOICE_CSS + TOOLS_CSS + VERSIONS_CSS + examples_css(list(service.presets.values()))
    # No run history: Gradio's "Runs" page would keep every question (and key box) in localStorage.
    options = {
        "max_threads": service.settings.max_threads,
        "css": css + MESSAGE_CSS,
        "theme": theme(),
        # Installable (a PWA) when self-hosted too, as it is on a Space.
        "pwa": True,
        "head": ANSWER_GUARD_HEAD + LAYOUT_HEAD,
        "i18n": (labels or Labels()).i18n(),
        "favicon_path": FAVICON,
        "footer_links": ["api"],
        "inbrowser": service.settings.open_browser,
        "max_file_size": max(MAX_IMPORT_BYTES, int(service.settings.max_attachment_mb * 1_000_000)),
        "run_history": False,
        # A curl call with values missing gets them as null, so the endpoint names what it
        # lacks (api_calls.py); every response carries the page's Content-Security-Policy
        # (page_policy.py). SSR stays off: it would put Gradio's Node server in front, without it.
        "app_kwargs": {
            "middleware": [
                Middleware(CompleteApiArguments, arities=API_ARITIES),
                Middleware(SecurityHeaders, headers=security_headers(service.settings.frame_ancestors)),
                *mcp_middleware(service),
                *shared_pages_middleware(service),
            ]
        },
        "ssr_mode": False,
        # Gradio's /monitoring pages (on unless False; their summary answers without a key) are
        # not served: the owner's cockpit is /admin.
        "enable_monitoring": False,
        # Never Gradio's own MCP server (GRADIO_MCP_SERVER would turn it on): it would list every
        # event of the page as a tool. MCP_SERVER=1 serves the chosen tools (causerie/mcp_server/).
        "mcp_server": False,
    }
    if users := service.settings.history.auth_users:
        options["auth"] = list(users.items())
        options["auth_message"] = "Sign in to see your conversations. / Connectez-vous pour voir vos conversations."
    return options
