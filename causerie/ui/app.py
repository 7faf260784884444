"""The Gradio app: a chat with a settings sidebar, plus the API endpoints. Wiring only."""

from __future__ import annotations

import importlib.util
import sys
import time
from typing import Any

import gradio as gr

from ..access import offered_providers
from ..answer import SessionTotals
from ..library import Notice
from ..providers import PROVIDERS
from ..runs import AnswerRuns
from ..service import ChatService
from ..settings import Settings
from ..shelves import Keeper, keeper_for
from ..wording import words
from .api import register_api
from .chat import ChatHandlers
from .conversations import ConversationHandlers
from .history_page import NOTE_LIVE_JS, after_opening, build_panel, wire_panel, wire_saves
from .panel import PageSettings, effort_update, wire_access
from .session_cost import reuse_api_schemas
from .transfer import MAX_IMPORT_BYTES
from .view import ConversationView
from .visitors import page_language

LATEX_DELIMITERS = [
    {"left": "$$", "right": "$$", "display": True},
    {"left": "\\[", "right": "\\]", "display": True},
    {"left": "\\(", "right": "\\)", "display": False},
    {"left": "$", "right": "$", "display": False},
]

# Runs in the browser on submit: the question shows and the textbox empties with no round trip.
# While an answer is being written (the Stop button shows), Enter sends nothing: the text stays in
# the box for when it ends, rather than showing a question that no answer would follow.
SHOW_QUESTION_JS = """(message, history) => {
  if (document.querySelector('#chat-input [data-testid="stop-button"]')) return ['', message, history];
  return message.trim()
    ? [message, '', [...(history || []), {role: 'user', content: [{type: 'text', text: message}], metadata: null, options: null}]]
    : [message, '', history];
}"""

ECHO_WITHIN_S = 0.05

# After the page's model list arrives: the best listed model replaces the one the page opened
# with, unless the person has picked or typed another meanwhile (the list may take seconds).
KEEP_CHOSEN_MODEL_JS = """(now, opened_with, pick) => (pick && (!now || now === opened_with)) ? pick : now"""

# Answers are model output: nothing in them may submit, navigate or run anything. Gradio's
# sanitiser (DOMPurify's defaults) removes scripts and event handlers but keeps forms and links, so
# a `<form><button>` in an answer would reload the page (and lose the chat) when clicked. In the
# capture phase, before any default action: a form submit inside a message is cancelled, and a
# link inside a message opens in a new tab instead of replacing the page.
ANSWER_GUARD_HEAD = """<script>
(() => {
  const inMessage = (node) => node instanceof Element
    && node.closest('#chatbot [data-testid="bot"], #chatbot [data-testid="user"]');
  document.addEventListener('submit', (event) => {
    if (inMessage(event.target)) { event.preventDefault(); event.stopImmediatePropagation(); }
  }, true);
  document.addEventListener('click', (event) => {
    const link = event.target instanceof Element ? event.target.closest('a[href], area[href]') : null;
    if (link && inMessage(link) && !link.getAttribute('href').startsWith('#')) {
      link.target = '_blank';
      link.rel = 'noopener noreferrer';
    }
  }, true);
})();
</script>"""

CSS = """
#session-totals { font-size: 0.9em; opacity: 0.85; }
#conversation-list label { width: 100%; }
#conversation-list .wrap { flex-direction: column; gap: 2px; }
#history-notice { font-size: 0.85em; }
"""


def _skip_missing_matplotlib() -> None:
    """Gradio tries `import matplotlib` around every streamed update; when it is not installed,
    each try searches the whole sys.path. A None entry makes the failing import immediate."""
    if "matplotlib" not in sys.modules and importlib.util.find_spec("matplotlib") is None:
        sys.modules["matplotlib"] = None  # type: ignore[assignment]


def build_demo(service: ChatService, keeper: Keeper | None = None, startup_notices: list[Notice] | None = None) -> gr.Blocks:
    _skip_missing_matplotlib()
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

    with gr.Blocks(title="Causerie", fill_height=True, analytics_enabled=False) as demo:
        totals_state = gr.State(SessionTotals())
        view_state = gr.State(ConversationView())
        with gr.Sidebar(label="Conversations", open=True, position="left", elem_id="conversations"):
            panel, history_buttons = build_panel(keeper, login=settings.oauth)
        with gr.Sidebar(label="Settings", open=True, position="right", elem_id="settings"):
            gr.Markdown("### Causerie")
            provider_box = gr.Dropdown(
                choices=[(p.label if p in ready else f"{p.label} (your key)", p.id) for p in offered],
                value=default.id if default else None, label="Provider", elem_id="provider",
            )
            initial_model = service.initial_model(default.id) if default else ""
            model_box = gr.Dropdown(
                choices=[initial_model] if initial_model else [], value=initial_model or None,
                label="Model", allow_custom_value=True, filterable=True, elem_id="model",
                info="Pick one, or type any model id.",
            )
            levels = service.info(default.id, initial_model).reasoning_effort if default else ()
            effort_box = gr.Dropdown(
                choices=[("model default", "")] + [(lv, lv) for lv in levels], value="", label="Reasoning effort",
                visible=bool(levels), elem_id="reasoning-effort",
            )
            preset_box = gr.Dropdown(
                choices=[(p.label, p.id) for p in preset_order],
                value=default_preset.id if default_preset else None, label="Preset", elem_id="preset",
            )
            system_box = gr.Textbox(
                value=default_preset.prompt if default_preset else "", label="System prompt",
                lines=4, max_lines=12, elem_id="system-prompt",
            )
            with gr.Accordion("Parameters", open=False):
                # Text boxes, not gr.Number: a Number box has no empty value (it sends 0 once the
                # panel is opened), and empty must mean the model's own default.
                temperature_box = gr.Textbox("", label="Temperature (0 to 2)", placeholder="model default", elem_id="temperature")
                top_p_box = gr.Textbox("", label="Top p (0 to 1)", placeholder="model default", elem_id="top-p")
                max_tokens_box = gr.Textbox("", label="Max tokens", placeholder="model default", elem_id="max-tokens")
            with gr.Accordion("Your API key", open=not ready or settings.public.require_user_key, elem_id="your-key"):
                # The note is the box's `info`, not a Markdown of its own: every component costs
                # each new visitor's page a little (bench/NOTES.md).
                key_box = gr.Textbox("", type="password", label="API key for the chosen provider",
                                     placeholder="used for your questions only", info=_key_note(settings),
                                     elem_id="user-key", max_lines=1)
                base_url_box = gr.Textbox("", label="Base URL", placeholder="the provider's own address",
                                          elem_id="base-url", max_lines=1,
                                          visible=settings.public.allow_custom_endpoints,
                                          info="Any OpenAI-compatible server, e.g. https://example.com/v1.")
                key_for = gr.Textbox(default.id if default else "", visible=False)
            totals_box = gr.Markdown(SessionTotals().summary(), elem_id="session-totals")
            if not settings.public.public:
                with gr.Accordion("Other providers", open=not ready):
                    gr.Markdown(_not_ready_table(service))

        chatbot = gr.Chatbot(
            elem_id="chatbot", buttons=["copy", "copy_all"], latex_delimiters=LATEX_DELIMITERS,
            sanitize_html=True, editable="user", scale=1, height="72vh", show_label=False,
            placeholder="Ask anything. Answers stream in; Stop ends them.", feedback_options=None,
        )
        textbox = gr.Textbox(
            elem_id="chat-input", placeholder="Type a message…", show_label=False, lines=1, max_lines=10,
            submit_btn=True, stop_btn=False, autofocus=True,
        )
        page_settings = PageSettings(provider=provider_box, model=model_box, reasoning_effort=effort_box,
                                     preset=preset_box, system_prompt=system_box, temperature=temperature_box,
                                     top_p=top_p_box, max_tokens=max_tokens_box, api_key=key_box,
                                     key_for=key_for, base_url=base_url_box)
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

        async def on_open(values: dict, request: gr.Request) -> dict:
            """One step when the page opens: the most recent conversation, and the provider's model
            list with the model it suggests (for KEEP_CHOSEN_MODEL_JS), unless the conversation
            chose its model."""
            started = time.monotonic()
            updates = await history.on_load(values, request)
            # (Left out unless resuming: the page fires `.change` for any value sent, even the same.)
            await history.resumable(values, request, updates)
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
            None, [model_box, opened_with, listed_pick], model_box, js=KEEP_CHOSEN_MODEL_JS, **events)
        model_box.change(lambda p, m, e: effort_update(service, p, m, e), [provider_box, model_box, effort_box], effort_box, **events)
        preset_box.input(on_preset_change, preset_box, [system_box, temperature_box, top_p_box, max_tokens_box], **events)
        wire_panel(history, panel, history_buttons)
        register_api(service, default_preset.prompt if default_preset else None)
    reuse_api_schemas(demo)
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
    pending = gr.Textbox(visible=False, elem_id="chat-message")
    panel = history.panel
    handlers = ChatHandlers(service, page_settings, chatbot=chatbot, pending=pending, totals=totals_state,
                            view=view_state, panel=panel, runs=history.runs)

    def busy():
        return gr.Textbox(submit_btn=False, stop_btn=True)

    def idle(view: ConversationView):
        """Send shown again, unless another answer of this page is still being written (a Retry's,
        say, while an Enter that sent nothing ends)."""
        return gr.skip() if view.live else gr.Textbox(submit_btn=True, stop_btn=False)

    # The page runs a trigger's listeners in the order they were added, each once the one before
    # has been sent off. Submit: the question is taken (SHOW_QUESTION_JS, which sends nothing while
    # Stop shows) before Stop is shown. Retry and Edit: Stop is shown first; added after the
    # answer, it came only once the answer had ended, and then stayed.
    submitted = textbox.submit(None, [textbox, chatbot], [pending, textbox, chatbot], js=SHOW_QUESTION_JS, **quick)
    for trigger in (textbox.submit, chatbot.retry, chatbot.edit):
        trigger(None, panel.current, None, js=NOTE_LIVE_JS, **quick)
    for trigger in (textbox.submit, chatbot.retry, chatbot.edit, panel.resume.change):
        trigger(busy, None, textbox, **quick)
    streams = [
        submitted.then(handlers.submit, handlers.inputs(pending), outputs, **streamed),
        chatbot.retry(handlers.retry, handlers.inputs(), outputs, **streamed),
        chatbot.edit(handlers.edit, handlers.inputs(), outputs, **streamed),
        # The page opened on an answer still being written: follow it (set by on_open).
        panel.resume.change(handlers.resume, handlers.inputs(), outputs, **streamed),
    ]
    ended = [stream.then(idle, view_state, textbox, **quick).then(totals_line, totals_state, totals_box, **quick)
             for stream in streams]
    stop = textbox.stop(None, None, None, cancels=streams, api_visibility="private")
    undo = chatbot.undo(handlers.undo, chatbot, [chatbot, textbox], **quick)
    clear = chatbot.clear(None, None, None, cancels=streams, api_visibility="private")
    stopped = wire_saves(history, ended, stop, undo, clear)
    stopped.then(idle, view_state, textbox, **quick)  # once the stopped answers are put away


def totals_line(totals: SessionTotals, request: gr.Request) -> str:
    return totals.summary(page_language(request))


def _not_ready_table(service: ChatService) -> str:
    rows = [
        f"| {p.label} | {service.settings.what_to_set(p)}{f' ([get a key]({p.docs_url}))' if p.docs_url else ''} |"
        for p in PROVIDERS if not service.settings.is_ready(p)
    ]
    if not rows:
        return "Every provider is set up."
    intro = "" if service.ready_providers() else f"**{words('failure', 'not_ready', {'why': 'nothing'})}**\n\n"
    return intro + "| Provider | To use it |\n|---|---|\n" + "\n".join(rows)


def _key_note(settings: Settings) -> str:
    if settings.public.require_user_key:
        lead = "This server answers with your own key only."
    elif settings.public.public:
        lead = "Providers marked (your key) need one; with yours, the server's limits on tokens do not apply."
    else:
        lead = "Providers marked (your key) need one; a key given here is used instead of the server's."
    return (f"{lead} The key is sent with each question to the provider's own address, and kept "
            "nowhere but this page: reload it, and it is gone.")


def launch_options(service: ChatService) -> dict[str, Any]:
    # No run history: Gradio's "Runs" page would keep every question (and key box) in localStorage.
    options = {"max_threads": service.settings.max_threads, "css": CSS, "head": ANSWER_GUARD_HEAD,
               "footer_links": ["api"], "inbrowser": service.settings.open_browser, "max_file_size": MAX_IMPORT_BYTES,
               "run_history": False}
    if users := service.settings.history.auth_users:
        options["auth"] = list(users.items())
        options["auth_message"] = "Sign in to see your conversations."
    return options
