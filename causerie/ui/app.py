"""The Gradio app: a chat with a settings sidebar, plus the API endpoints. Wiring only."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import gradio as gr
from starlette.middleware import Middleware

from .. import patches
from ..answering.access import offered_providers
from ..answering.answer import SessionTotals
from ..answering.prompts import Preset
from ..answering.runs import AnswerRuns
from ..answering.service import ChatService
from ..compare.votes import BallotBox
from ..config.page_policy import SecurityHeaders, security_headers
from ..config.settings import Settings
from ..endpoints.providers import PROVIDERS
from ..files.attachments import ACCEPTED_SUFFIXES
from ..history.library import HistoryNotice
from ..history.shelves import Keeper, keeper_for
from ..i18n.wording import words
from .api import API_ARITIES, register_api
from .api_calls import CompleteApiArguments
from .chat import ChatHandlers
from .compare_page import build_tabs, wire_tabs
from .conversation_list import ConversationHandlers
from .conversation_list_page import KEEP_BROWSER_JS, NOTE_LIVE_JS, after_opening, build_panel, wire_panel, wire_saves
from .labels import Labels
from .page_guard import ANSWER_GUARD_HEAD, MESSAGE_CSS
from .panel import PageSettings, effort_update, search_update, wire_access
from .render import EMPTY_CHAT_MARK, LATEX_DELIMITERS
from .scripts import script
from .transfer import MAX_IMPORT_BYTES
from .view import ConversationView
from .visitors import distrust_proxy_headers, is_issued, issue_browser_id, page_language

FAVICON = str(Path(__file__).resolve().parent / "static" / "favicon.png")

CHAT_MARK_JS = script("chat_mark")
SHOW_QUESTION_JS = script("show_question", chatMark=CHAT_MARK_JS)

ECHO_WITHIN_S = 0.05

KEEP_CHOSEN_MODEL_JS = script("keep_chosen_model")


CSS = """
.causerie-embed .gradio-container #conversations, .causerie-embed .gradio-container #settings,
.causerie-embed .gradio-container footer,
.causerie-embed .gradio-container #main-tabs > .tab-wrapper { display: none !important; }
#session-totals { font-size: 0.9em; opacity: 0.85; }
#conversation-list label { width: 100%; }
#conversation-list .wrap { flex-direction: column; gap: 2px; }
#history-notice { font-size: 0.85em; }
"""


def build_demo(service: ChatService, keeper: Keeper | None = None, startup_notices: list[HistoryNotice] | None = None,
               labels: Labels | None = None) -> gr.Blocks:
    """The app. Its words are `labels`' keys: pass the same Labels to launch_options."""
    say = labels if labels is not None else Labels()
    settings = service.settings
    if keeper is None:
        keeper, startup_notices = keeper_for(settings.history, on_space=settings.on_space)
    ready = service.ready_providers()
    default = service.default_provider()
    presets = service.presets
    default_preset = presets.get(settings.default_prompt) or next(iter(presets.values()), None)
    preset_order = sorted(presets.values(), key=lambda p: (p.id != (default_preset.id if default_preset else ""), p.language, p.id))

    def on_preset_change(preset_id):
        preset = presets.get(preset_id)
        if preset is None:
            return gr.skip(), gr.skip(), gr.skip(), gr.skip()
        s = preset.settings
        shown = [s.get(name) for name in ("temperature", "top_p", "max_tokens")]
        return preset.prompt, *("" if value is None else f"{value:g}" for value in shown)

    offered = offered_providers(settings)

    # Visitors' uploads are not kept forever on a public server (Gradio's cache clean-up covers them).
    keep_s = int(settings.uploads_keep_hours * 3600)
    with gr.Blocks(title="Causerie", fill_height=True, analytics_enabled=False,
                   delete_cache=(min(3600, keep_s), keep_s) if keep_s else None) as demo:
        totals_state = gr.State(SessionTotals())
        view_state = gr.State(ConversationView())
        with gr.Sidebar(label=say("conversations"), open=True, position="left", elem_id="conversations"):
            panel, history_buttons = build_panel(keeper, say, login=settings.oauth)
        with gr.Sidebar(label=say("settings"), open=True, position="right", elem_id="settings"):
            gr.Markdown("### Causerie")
            provider_box = gr.Dropdown(
                choices=[(p.label if p in ready else say.add(f"provider.{p.id}", *(f"{p.label} {suffix}" for suffix in
                                                                                  say.pair("your_key_suffix"))), p.id)
                         for p in offered],
                value=default.id if default else None, label=say("provider"), elem_id="provider",
            )
            initial_model = service.initial_model(default.id) if default else ""
            model_box = gr.Dropdown(
                choices=[initial_model] if initial_model else [], value=initial_model or None,
                label=say("model"), allow_custom_value=True, filterable=True, elem_id="model",
                info=say("model_info"),
            )
            levels = service.info(default.id, initial_model).reasoning_effort if default else ()
            effort_box = gr.Dropdown(
                choices=[(say("model_default"), "")] + [(lv, lv) for lv in levels], value="", label=say("reasoning_effort"),
                visible=bool(levels), elem_id="reasoning-effort",
            )
            search_shown, options_shown = search_update(default.id if default else None)
            search_box = gr.Dropdown(
                choices=search_shown["choices"], value="", label=say("search_label"), info=say("search_info"),
                visible=search_shown["visible"], elem_id="search",
            )
            # X search's options in one box, in X's own search syntax: each block costs every new
            # page a little (bench/NOTES.md).
            x_options_box = gr.Textbox("", label=say("x_options"), placeholder=say("x_options_placeholder"),
                                       elem_id="x-search", max_lines=1, visible=options_shown["visible"])
            preset_box = gr.Dropdown(
                choices=[(p.label, p.id) for p in preset_order],
                value=default_preset.id if default_preset else None, label=say("preset"), elem_id="preset",
            )
            system_box = gr.Textbox(
                value=default_preset.prompt if default_preset else "", label=say("system_prompt"),
                lines=4, max_lines=12, elem_id="system-prompt",
            )
            with gr.Accordion(say("parameters"), open=False):
                # Text boxes, not gr.Number: a Number box has no empty value (it sends 0 once the
                # panel is opened), and empty must mean the model's own default.
                temperature_box = gr.Textbox("", label=say("temperature"), placeholder=say("model_default"), elem_id="temperature")
                top_p_box = gr.Textbox("", label=say("top_p"), placeholder=say("model_default"), elem_id="top-p")
                max_tokens_box = gr.Textbox("", label=say("max_tokens"), placeholder=say("model_default"), elem_id="max-tokens")
            with gr.Accordion(say("your_key"), open=not ready or settings.public.require_user_key, elem_id="your-key"):
                # The note is the box's `info`, not a Markdown of its own: every component costs
                # each new visitor's page a little (bench/NOTES.md).
                key_box = gr.Textbox("", type="password", label=say("key_box"),
                                     placeholder=say("key_placeholder"), info=_key_note(settings, say),
                                     elem_id="user-key", max_lines=1)
                base_url_box = gr.Textbox("", label=say("base_url"), placeholder=say("base_url_placeholder"),
                                          elem_id="base-url", max_lines=1,
                                          visible=settings.public.allow_custom_endpoints,
                                          info=say("base_url_info"))
                key_for = gr.Textbox(default.id if default else "", visible=False)
            totals_box = gr.Markdown(say("no_answers_yet"), elem_id="session-totals")
            if not settings.public.public:
                with gr.Accordion(say("other_providers"), open=not ready):
                    gr.Markdown(say.add("providers_table", *(_not_ready_table(service, say, language)
                                                             for language in ("en", "fr"))))

        with gr.Tabs(elem_id="main-tabs"):
            with gr.Tab(say("tab_chat"), id="chat", elem_id="chat-tab"):
                chatbot = gr.Chatbot(
                    elem_id="chatbot", buttons=["copy", "copy_all"], latex_delimiters=LATEX_DELIMITERS,
                    sanitize_html=True, editable="user", scale=1, height="72vh", show_label=False,
                    placeholder=say("chat_placeholder"), feedback_options=None,
                    examples=example_questions(preset_order),
                )
                # Enter sends, Shift+Enter starts a new line; files are attached with the clip or dropped in.
                textbox = gr.MultimodalTextbox(
                    elem_id="chat-input", placeholder=say("input_placeholder"), show_label=False, lines=1, max_lines=10,
                    submit_btn=True, stop_btn=False, autofocus=True, file_types=ACCEPTED_SUFFIXES, file_count="multiple",
                    sources=["upload"],
                )
            tabs = build_tabs(say, preset_order)
        page_settings = PageSettings(provider=provider_box, model=model_box, reasoning_effort=effort_box,
                                     preset=preset_box, system_prompt=system_box, temperature=temperature_box,
                                     top_p=top_p_box, max_tokens=max_tokens_box, api_key=key_box,
                                     key_for=key_for, base_url=base_url_box, search=search_box,
                                     x_options=x_options_box)
        # Answers run on their own, so that a page that goes away and comes back finds them (runs.py).
        runs = AnswerRuns(grace_s=settings.answer_grace_s, max_runs=2 * settings.concurrency_limit)
        history = ConversationHandlers(service, keeper, page_settings, chatbot, view_state, panel,
                                       startup_notices or [], runs)
        _wire_chat(service, page_settings, chatbot, textbox, totals_state, totals_box, view_state, history)
        events = {"api_visibility": "private", "queue": False}
        # `.input`, not `.change`: opening a conversation sets these too, and must not reset the
        # model or overwrite the prompt it restores.
        wire_access(service, page_settings, events)
        opened_with = gr.Textbox(initial_model, visible=False)
        listed_pick = gr.Textbox(visible=False)

        def in_page_language(updates: dict, language: str) -> None:
            """A page in another language than the default preset's lists its own language's
            presets first and opens on the same preset in it (unless a conversation set one)."""
            if preset_box in updates or not default_preset or language == default_preset.language:
                return
            ordered = sorted(preset_order, key=lambda p: p.language != language)
            mine = same_preset_in(presets, default_preset, language)
            updates[preset_box] = gr.update(choices=[(p.label, p.id) for p in ordered],
                                            value=mine.id if mine else default_preset.id)
            if mine:
                updates.update(zip((system_box, temperature_box, top_p_box, max_tokens_box), on_preset_change(mine.id),
                                   strict=True))

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
            provider_id = updates.get(provider_box, values[provider_box])
            # A restored conversation sets its model as an update (with that provider's list);
            # otherwise the box holds its own value and the list's suggestion may replace it.
            if isinstance(updates.get(model_box), dict) or not provider_id:
                updates[listed_pick] = ""
            else:
                choices, pick = await service.model_choices(provider_id)
                updates.update({model_box: gr.update(choices=choices), listed_pick: pick})
            # Settings left alone get their current value (cheap; see keep_unchanged) only if this
            # was quick: during a slow model list the person may have changed one meanwhile.
            if time.monotonic() - started < ECHO_WITHIN_S:
                history.keep_unchanged(values, updates)
            return updates

        after_opening(panel, demo.load, on_open, history.inputs(panel.resume), history.outputs(listed_pick, panel.resume),
                      **events, postprocess=False).then(
            None, [model_box, opened_with, listed_pick], model_box, js=KEEP_CHOSEN_MODEL_JS, **events).then(
            None, panel.browser, None, js=KEEP_BROWSER_JS, **events)
        demo.load(None, None, None, js=script("page", embedded=settings.embed), **events)
        model_box.change(lambda p, m, e: effort_update(service, p, m, e), [provider_box, model_box, effort_box], effort_box, **events)
        preset_fields = [system_box, temperature_box, top_p_box, max_tokens_box]
        preset_box.input(on_preset_change, preset_box, preset_fields, **events)
        offered_examples = examples_of(preset_order)

        def on_example(event: gr.SelectData):
            """An example question goes into the box (to send as it is, or change first), and its
            preset is chosen, so that the answer comes in the style it was written for."""
            if not isinstance(event.index, int) or not 0 <= event.index < len(offered_examples):
                return (gr.skip(),) * 6
            preset = offered_examples[event.index]
            return {"text": preset.example, "files": []}, preset.id, *on_preset_change(preset.id)

        chatbot.example_select(on_example, None, [textbox, preset_box, *preset_fields], **events)
        wire_panel(history, panel, history_buttons)
        ballots = BallotBox(settings.history.votes_url)
        wire_tabs(service, ballots, tabs, page_settings, events)
        register_api(service, default_preset.prompt if default_preset else None, ballots)
    # Less of Gradio's work per session and per update, and a Stop without Gradio's bare "Error":
    # each patch checks first that Gradio is as it was written for (causerie/patches/).
    patches.apply(demo, settings.patches)
    # api_open=False: the API goes through the queue (and its limits), never around it.
    demo.queue(default_concurrency_limit=settings.concurrency_limit, max_size=settings.queue_max_size,
               status_update_rate=1, api_open=False)
    return demo


def _wire_chat(service: ChatService, page_settings: PageSettings, chatbot: gr.Chatbot, textbox: gr.Textbox,
               totals_state: gr.State, totals_box: gr.Markdown, view_state: gr.State,
               history: ConversationHandlers) -> None:
    """Submit, Retry and Edit stream an answer; Stop cancels it; Undo and Clear are instant.

    On submit, the browser itself shows the question, moves it into a hidden box and empties the
    textbox (a JavaScript step: no round trip before the answer starts). The answer reads the hidden box,
    not the textbox: the browser does not apply the Stop button to a component a running event
    reads. Showing Stop runs beside the answer, not before it.
    """
    quick = {"api_visibility": "private", "queue": False}
    # No pre- or post-processing: the handlers take the browser's plain values (strings, numbers,
    # message dicts) and yield the chat in the form the browser takes (render.message). Each would
    # cost a worker-thread hop, per input when an answer starts and per update while it streams.
    streamed = {"api_visibility": "private", "concurrency_limit": service.settings.concurrency_limit,
                "preprocess": False, "postprocess": False}
    outputs = [chatbot, totals_state]
    pending = gr.MultimodalTextbox(visible=False, elem_id="chat-message")
    # What a question sends in place of the page's chat, and where the server asks for the chat
    # when that is not enough (ChatHandlers.submit).
    mark = gr.Textbox(EMPTY_CHAT_MARK, visible=False, elem_id="chat-mark")
    resend = gr.Textbox("", visible=False, elem_id="chat-resend")
    panel = history.panel
    handlers = ChatHandlers(service, page_settings, chatbot=chatbot, pending=pending, mark=mark, totals=totals_state,
                            view=view_state, panel=panel, runs=history.runs)

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
        submitted.then(handlers.submit, handlers.inputs(pending, mark, with_chat=False), [*outputs, resend], **streamed),
        resend.change(handlers.submit_with_chat, handlers.inputs(pending), outputs, **streamed),
        chatbot.retry(handlers.retry, handlers.inputs(), outputs, **streamed),
        chatbot.edit(handlers.edit, handlers.inputs(), outputs, **streamed),
        # The page opened on an answer still being written: follow it (set by on_open).
        panel.resume.change(handlers.resume, handlers.inputs(), outputs, **streamed),
    ]
    ended = [stream.then(idle, view_state, textbox, **quick).then(totals_line, totals_state, totals_box, **quick)
             for stream in streams]
    stop = textbox.stop(handlers.stop_now, {view_state, panel.browser}, None, cancels=streams, **quick)
    undo = chatbot.undo(handlers.undo, [chatbot, view_state], [chatbot, textbox], **quick)
    clear = chatbot.clear(handlers.stop_now, {view_state, panel.browser}, None, cancels=streams, **quick)
    for put_away in wire_saves(history, ended, stop, undo, clear):  # once the stopped answers are put away
        put_away.then(idle, view_state, textbox, **quick)


def totals_line(totals: SessionTotals, request: gr.Request) -> str:
    return totals.summary(page_language(request))


def examples_of(presets: list[Preset]) -> list[Preset]:
    """The presets whose example questions the empty chat offers: English ones, then French ones
    (the page shows those of its language: examples_css)."""
    return sorted((p for p in presets if p.example), key=lambda p: p.language != "en")


def example_questions(presets: list[Preset]) -> list[dict]:
    return [{"text": p.example} for p in examples_of(presets)]


def examples_css(presets: list[Preset]) -> str:
    """Gradio does not translate example questions; every language's are in the page, and the
    page's language (Gradio sets <html lang>) shows its own."""
    english = sum(p.language == "en" for p in examples_of(presets))
    return (f'html[lang^="fr"] #chatbot .examples .example:nth-child(-n+{english}) {{ display: none; }}\n'
            f'html:not([lang^="fr"]) #chatbot .examples .example:nth-child(n+{english + 1}) {{ display: none; }}\n')


def same_preset_in(presets: dict[str, Preset], preset: Preset, language: str) -> Preset | None:
    """The preset written for the same use in another language (general-en and general-fr)."""
    stem = preset.id.rsplit("-", 1)[0]
    return next((p for p in presets.values() if p.language == language and p.id.rsplit("-", 1)[0] == stem), None)


def _not_ready_table(service: ChatService, say: Labels, language: str) -> str:
    english = language == "en"
    get_key = say.pair("get_a_key")[0 if english else 1]
    rows = [
        f"| {p.label} | {service.settings.what_to_set(p, language)}{f' ([{get_key}]({p.docs_url}))' if p.docs_url else ''} |"
        for p in PROVIDERS if not service.settings.is_ready(p)
    ]
    if not rows:
        return say.pair("every_provider_ready")[0 if english else 1]
    intro = "" if service.ready_providers() else f"**{words('failure', 'not_ready', {'why': 'nothing'}, language)}**\n\n"
    heads = [say.pair(key)[0 if english else 1] for key in ("table_provider", "table_to_use")]
    return intro + f"| {heads[0]} | {heads[1]} |\n|---|---|\n" + "\n".join(rows)


def _key_note(settings: Settings, say: Labels) -> Any:
    lead = ("key_note.own_only" if settings.public.require_user_key else
            "key_note.public" if settings.public.public else "key_note.local")
    return say.add("key_note", *(f"{first} {then}" for first, then in zip(say.pair(lead), say.pair("key_note.kept"), strict=True)))


def launch_options(service: ChatService, labels: Labels | None = None) -> dict[str, Any]:
    """`demo.launch`'s options; `labels` are the ones build_demo was given (their words). Also
    keeps the server from reading proxy headers the app's own setting did not trust."""
    distrust_proxy_headers()
    css = CSS + examples_css(list(service.presets.values()))
    # No run history: Gradio's "Runs" page would keep every question (and key box) in localStorage.
    options = {"max_threads": service.settings.max_threads, "css": css + MESSAGE_CSS, "head": ANSWER_GUARD_HEAD,
               "i18n": (labels or Labels()).i18n(), "favicon_path": FAVICON,
               "footer_links": ["api"], "inbrowser": service.settings.open_browser, "max_file_size": max(MAX_IMPORT_BYTES, int(service.settings.max_attachment_mb * 1_000_000)),
               "run_history": False,
               # A curl call with values missing gets them as null, so the endpoint names what it
               # lacks (api_calls.py); every response carries the page's Content-Security-Policy
               # (page_policy.py). SSR stays off: it would put Gradio's Node server in front, without it.
               "app_kwargs": {"middleware": [Middleware(CompleteApiArguments, arities=API_ARITIES), Middleware(
                   SecurityHeaders, headers=security_headers(service.settings.frame_ancestors))]},
               "ssr_mode": False}
    if users := service.settings.history.auth_users:
        options["auth"] = list(users.items())
        options["auth_message"] = "Sign in to see your conversations. / Connectez-vous pour voir vos conversations."
    return options
