"""The chat's event handlers: submit, retry, edit and undo. Each turn is built afresh.

Gradio's ChatInterface is not used: it writes a State and re-renders extra outputs on every
streamed update, which costs a worker-thread hop and a config rebuild per update. Here a streamed
update carries the chat alone; session totals change once, at the end of an answer.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import gradio as gr

from ..answer import SessionTotals
from ..conversation import content_text
from ..service import ChatService, chat_params
from .render import message as chat_message
from .render import render


def _turn_start(history: list[dict], index: Any) -> int | None:
    """Index of the user message an event points at (Gradio may give a (row, part) tuple), or
    None when it points at nothing usable: a handler then leaves the chat as it is."""
    try:
        start = index[0] if isinstance(index, (list, tuple)) else int(index)
    except (TypeError, ValueError, IndexError):
        return None
    if not 0 <= start < len(history) or history[start].get("role") != "user":
        return None
    return start


class ChatHandlers:
    def __init__(self, service: ChatService) -> None:
        self.service = service

    async def _turn(self, prior: list, message: str, provider_id, model, system_prompt, temperature, top_p,
                    max_tokens, effort, totals: SessionTotals, show_question: bool = True) -> AsyncIterator[tuple]:
        base = [*prior, chat_message("user", message)]
        if show_question:
            yield base, gr.skip()  # the question shows at once, before the provider answers
        answer = None
        async for answer in self.service.answers(
            provider_id=provider_id, model=model, system_prompt=system_prompt,
            history=prior, message=message, params=chat_params(temperature, top_p, max_tokens, effort),
        ):
            if answer.finished_at is None:
                yield base + render(answer), gr.skip()
        yield base + render(answer), totals.plus(answer)

    async def submit(self, message: str, history: list, provider_id, model, system_prompt, temperature, top_p,
                     max_tokens, effort, totals: SessionTotals) -> AsyncIterator[tuple]:
        settings = (provider_id, model, system_prompt, temperature, top_p, max_tokens, effort, totals)
        if not (message or "").strip():
            yield history, gr.skip()
            return
        # The browser already shows the question (SHOW_QUESTION_JS): the chat it sends ends with it.
        prior = list(history or [])
        if prior and prior[-1].get("role") == "user" and content_text(prior[-1].get("content")) == message:
            prior.pop()
        async for update in self._turn(prior, message, *settings, show_question=False):
            yield update

    async def _again(self, history: list, index: Any, message: str | None, settings: tuple) -> AsyncIterator[tuple]:
        """Answer again from the user message at `index` (its own text, or `message` if edited)."""
        start = _turn_start(history, index)
        if start is None:
            yield history, gr.skip()
            return
        text = content_text(history[start]["content"]) if message is None else message
        async for update in self._turn(list(history[:start]), text, *settings):
            yield update

    async def retry(self, history: list, provider_id, model, system_prompt, temperature, top_p, max_tokens,
                    effort, totals: SessionTotals, event: gr.RetryData) -> AsyncIterator[tuple]:
        settings = (provider_id, model, system_prompt, temperature, top_p, max_tokens, effort, totals)
        async for update in self._again(history, event.index, None, settings):
            yield update

    async def edit(self, history: list, provider_id, model, system_prompt, temperature, top_p, max_tokens,
                   effort, totals: SessionTotals, event: gr.EditData) -> AsyncIterator[tuple]:
        settings = (provider_id, model, system_prompt, temperature, top_p, max_tokens, effort, totals)
        async for update in self._again(history, event.index, content_text(event.value), settings):
            yield update

    @staticmethod
    def undo(history: list, event: gr.UndoData) -> tuple[list, str]:
        start = _turn_start(history, event.index)
        if start is None:
            return history, gr.skip()
        return list(history[:start]), content_text(history[start]["content"])
