"""An answer's facts in words, as the page shows them under it and an MCP client gets them after
it: who wrote it, how fast, tokens in and out, the cost, the tools and sources it used."""

from __future__ import annotations

from ..i18n.wording import DEFAULT_LANGUAGE, number, words
from .answer import Answer


def _number(value: float | int | None, language: str) -> str:
    return number(value, language) if isinstance(value, int) else "?"


def footer_text(answer: Answer, language: str = DEFAULT_LANGUAGE) -> str:
    def say(kind: str, **params) -> str:
        return words("page", kind, params, language)

    parts = [f"{answer.provider_label} · {answer.model}" if answer.model else answer.provider_label]
    drawn = bool(answer.pictures) and "image" not in answer.tool_counts  # (the picture wire's answer)
    if drawn and answer.finished_at is not None:
        parts.append(say("drawn_in", seconds=answer.total_s))
    elif answer.ttft_s is not None:
        parts.append(say("ttft", seconds=answer.ttft_s))
    if answer.tokens_per_s:
        parts.append(say("speed", rate=answer.tokens_per_s))
    usage = answer.usage
    if usage is not None and (usage.prompt_tokens is not None or usage.completion_tokens is not None):  # (pictures: none)
        prompt = _number(usage.prompt_tokens, language)
        if usage.cached_tokens:  # a provider's prompt cache: billed less
            prompt += say("cached", count=_number(usage.cached_tokens, language))
        tokens = say("tokens", prompt=prompt, completion=_number(usage.completion_tokens, language))
        if usage.reasoning_tokens:
            tokens += say("reasoning_tokens", count=_number(usage.reasoning_tokens, language))
        parts.append(("≈ " if usage.estimated else "") + tokens + (say("estimated") if usage.estimated else ""))
    if answer.cost_usd is not None:
        cost = f"${answer.cost_usd:.4f}" if answer.cost_usd >= 0.0001 else "< $0.0001"
        parts.append(say("cost", cost=cost, why=usage.cost_source if usage else None))
    if answer.tool_counts:  # each kind by its own name: an image made is no search
        parts += [
            say("tools", count=count, why=f"{kind}.one" if count == 1 else kind) for kind, count in answer.tool_counts.items()
        ]
    elif usage is not None and usage.tool_calls:  # counted by the provider, kinds unknown
        parts.append(say("tools", count=usage.tool_calls, why="one" if usage.tool_calls == 1 else None))
    if drawn:  # (a Responses tool's are counted with the tools)
        count = len(answer.pictures)
        parts.append(say("tools", count=count, why="image.one" if count == 1 else "image"))
    if answer.citations:
        count = len(answer.citations)
        parts.append(say("sources", count=count, why="one" if count == 1 else None))
    if answer.finish_reason == "length":
        parts.append(say("length"))
    return " · ".join(parts)
