"""The programmatic endpoints, /chat and /chat_details: API-only, independent of the UI."""

from __future__ import annotations

from collections.abc import AsyncIterator

import gradio as gr

from ..answer import Answer
from ..service import ChatService, chat_params


def _raise_failure(answer: Answer | None) -> None:
    if answer is None or answer.failure is not None:
        raise gr.Error(answer.failure.message if answer else "No answer.", print_exception=False)


def register_api(service: ChatService, default_system_prompt: str | None) -> None:
    """Call inside the Blocks context. Both endpoints take the same arguments; gr.api reads each
    function's own signature, so each spells them out and hands them to `ask`."""

    def ask(message, history, system_prompt, provider, model, temperature, max_tokens, reasoning_effort):
        return service.answers(
            provider_id=provider, model=model, history=history, message=message,
            system_prompt=default_system_prompt if system_prompt is None else system_prompt,
            params=chat_params(temperature, None, max_tokens, reasoning_effort),
        )

    async def chat(
        message: str,
        history: list[dict] | None = None,
        system_prompt: str | None = None,
        provider: str | None = None,
        model: str | None = None,
        temperature: float | None = None,
        max_tokens: int | None = None,
        reasoning_effort: str | None = None,
    ) -> AsyncIterator[str]:
        """Ask a model; streams the answer as it grows, and ends with the whole answer."""
        sent, answer = "", None
        async for answer in ask(message, history, system_prompt, provider, model, temperature, max_tokens, reasoning_effort):
            if answer.failure is None and answer.text != sent:
                sent = answer.text
                yield sent
        _raise_failure(answer)

    async def chat_details(
        message: str,
        history: list[dict] | None = None,
        system_prompt: str | None = None,
        provider: str | None = None,
        model: str | None = None,
        temperature: float | None = None,
        max_tokens: int | None = None,
        reasoning_effort: str | None = None,
    ) -> dict:
        """Ask a model; returns the answer with its reasoning, usage, timings, cost and finish reason."""
        answer = None
        async for answer in ask(message, history, system_prompt, provider, model, temperature, max_tokens, reasoning_effort):
            pass
        _raise_failure(answer)
        return answer.details()

    limit = service.settings.concurrency_limit
    gr.api(chat, api_name="chat", concurrency_limit=limit)
    gr.api(chat_details, api_name="chat_details", concurrency_limit=limit)
