"""The programmatic endpoints, /chat and /chat_details: API-only, independent of the UI."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import gradio as gr

from ..answer import Answer, coalesced
from ..service import ChatService


def request_params(temperature: Any = None, top_p: Any = None, max_tokens: Any = None, reasoning_effort: Any = None) -> dict[str, Any]:
    """Only what the person set: an empty box means the model's own default."""
    params: dict[str, Any] = {}
    if temperature not in (None, ""):
        params["temperature"] = float(temperature)
    if top_p not in (None, ""):
        params["top_p"] = float(top_p)
    if max_tokens not in (None, "", 0):
        params["max_tokens"] = int(max_tokens)
    if reasoning_effort:
        params["reasoning_effort"] = str(reasoning_effort)
    return params


def answer_stream(service: ChatService, *, provider: str | None, model: str | None, system_prompt: str | None,
                  history: Any, message: str, params: dict[str, Any]) -> AsyncIterator[Answer]:
    chosen = service.provider_or_default(provider)
    answer = Answer(provider_label=chosen.label if chosen else "", model=model or "")
    events = service.stream_answer(provider_id=provider, model=model, system_prompt=system_prompt,
                                   history=history, message=message, params=params)
    return coalesced(answer, events, service.update_interval_s)


def details(answer: Answer) -> dict[str, Any]:
    usage = answer.usage
    return {
        "answer": answer.text,
        "reasoning": answer.reasoning,
        "provider": answer.provider_label,
        "model": answer.model,
        "usage": {
            "prompt_tokens": usage.prompt_tokens if usage else None,
            "completion_tokens": usage.completion_tokens if usage else None,
            "reasoning_tokens": usage.reasoning_tokens if usage else None,
            "cached_tokens": usage.cached_tokens if usage else None,
            "estimated": usage.estimated if usage else True,
        },
        "timings": {
            "ttft_s": None if answer.ttft_s is None else round(answer.ttft_s, 4),
            "total_s": round(answer.total_s, 4),
            "tokens_per_s": None if answer.tokens_per_s is None else round(answer.tokens_per_s, 2),
        },
        "cost_usd": answer.cost_usd,
        "finish_reason": answer.finish_reason,
    }


def register_api(service: ChatService, default_system_prompt: str | None) -> None:
    """Call inside the Blocks context."""

    def prepare(system_prompt: str | None) -> str | None:
        return default_system_prompt if system_prompt is None else system_prompt

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
        async for answer in answer_stream(
            service, provider=provider, model=model, system_prompt=prepare(system_prompt), history=history,
            message=message, params=request_params(temperature, None, max_tokens, reasoning_effort),
        ):
            if answer.failure is None and answer.text != sent:
                sent = answer.text
                yield sent
        if answer is None or answer.failure is not None:
            raise gr.Error(answer.failure.message if answer else "No answer.", print_exception=False)

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
        async for answer in answer_stream(
            service, provider=provider, model=model, system_prompt=prepare(system_prompt), history=history,
            message=message, params=request_params(temperature, None, max_tokens, reasoning_effort),
        ):
            pass
        if answer is None or answer.failure is not None:
            raise gr.Error(answer.failure.message if answer else "No answer.", print_exception=False)
        return details(answer)

    limit = service.settings.concurrency_limit
    gr.api(chat, api_name="chat", concurrency_limit=limit)
    gr.api(chat_details, api_name="chat_details", concurrency_limit=limit)
