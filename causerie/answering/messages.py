"""The messages sent upstream, built afresh every turn from plain {role, content} turns.

The page turns its chat (thinking blocks, footers, notices) into plain turns first (ui/turns.py);
the API's history is checked into the same shape at the edge (options.plain_history). Upstream gets
the system prompt, then the turns. Two turns of the same role in a row (a question whose answer
failed with nothing kept, then the next one) are sent as one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ..files.attachments import content_chars


def build_messages(system_prompt: str | None, turns: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """`turns`' content is a string, or (a question with images: attachments.with_files) a list
    of content parts."""
    messages: list[dict[str, Any]] = []
    if system_prompt and system_prompt.strip():
        messages.append({"role": "system", "content": system_prompt.strip()})
    for turn in turns:
        role, content = turn["role"], turn["content"]
        content = content.strip() if isinstance(content, str) else content
        if role not in ("user", "assistant") or not content:
            continue
        if messages and messages[-1]["role"] == role:
            messages[-1] = {"role": role, "content": _joined(messages[-1]["content"], content)}
        else:
            messages.append({"role": role, "content": content})
    return messages


def _joined(first: str | list, second: str | list) -> str | list:
    if isinstance(first, str) and isinstance(second, str):
        return first + "\n\n" + second
    return _parts(first) + _parts(second)


def _parts(content: str | list) -> list:
    return [{"type": "text", "text": content}] if isinstance(content, str) else list(content)


def text_of_parts(parts: Sequence) -> tuple[str, bool]:
    """An OpenAI content list's text parts ({type: "text", text}) joined by newlines, and whether
    every part was one (the API takes text only; an import keeps the text and leaves the rest)."""
    texts = [p["text"] for p in parts if isinstance(p, Mapping) and p.get("type") == "text" and isinstance(p.get("text"), str)]
    return "\n".join(texts), len(texts) == len(parts)


def within(messages: list[dict[str, Any]], limit: int) -> tuple[list[dict[str, Any]], int] | None:
    """The messages cut to at most `limit` characters of content (0: no limit) by leaving out the
    oldest turns, and how many were left out. The system prompt and the last question always stay,
    and what is sent starts with a question; None when those alone are over the limit."""
    if not limit:
        return messages, 0
    sizes = [content_chars(m["content"]) for m in messages]
    total = sum(sizes)
    if total <= limit:
        return messages, 0
    head = 1 if messages and messages[0]["role"] == "system" else 0
    start = head
    while total > limit and start < len(messages) - 1:
        total -= sizes[start]
        start += 1
    while start < len(messages) - 1 and messages[start]["role"] != "user":
        start += 1  # an answer without its question would read as the model's own opening
    if total > limit:
        return None
    return messages[:head] + messages[start:], start - head
