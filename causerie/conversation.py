"""The messages sent upstream, built afresh every turn from what the chat shows.

Gradio's history carries content blocks, metadata (thoughts, footers, notices) and options; the
API passes plain {role, content}. Upstream gets only {role, content} strings: the system prompt,
the user and assistant turns, then the new message. Thinking is never sent back.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

# Messages the UI adds around an answer (footer, failure notice) carry this metadata id prefix.
UI_ONLY_PREFIX = "causerie-"


def content_text(content: Any) -> str:
    """Plain text of a message's content: a string, a list of blocks, or a block."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, Mapping):
        if content.get("type") in (None, "text") and isinstance(content.get("text"), str):
            return content["text"]
        return ""  # files and components: attachments are not sent yet
    if isinstance(content, (list, tuple)):
        return "\n".join(t for t in (content_text(part) for part in content) if t)
    return ""


def _field(message: Any, name: str) -> Any:
    return message.get(name) if isinstance(message, Mapping) else getattr(message, name, None)


def is_ui_only(message: Any) -> bool:
    """Thoughts (a metadata title) and Causerie's own footers and notices stay in the browser."""
    metadata = _field(message, "metadata") or {}
    if not isinstance(metadata, Mapping):
        metadata = getattr(metadata, "__dict__", {}) or {}
    if metadata.get("title"):
        return True
    return str(metadata.get("id") or "").startswith(UI_ONLY_PREFIX)


def normalise_history(history: Iterable[Any] | None) -> list[dict[str, str]]:
    """User and assistant turns as plain strings; consecutive same-role pieces joined."""
    out: list[dict[str, str]] = []
    for message in history or ():
        role = _field(message, "role")
        if role not in ("user", "assistant") or is_ui_only(message):
            continue
        text = content_text(_field(message, "content")).strip()
        if not text:
            continue
        if out and out[-1]["role"] == role:
            out[-1] = {"role": role, "content": out[-1]["content"] + "\n\n" + text}
        else:
            out.append({"role": role, "content": text})
    return out


def build_messages(system_prompt: str | None, history: Iterable[Any] | None, message: str) -> list[dict[str, str]]:
    messages: list[dict[str, str]] = []
    if system_prompt and system_prompt.strip():
        messages.append({"role": "system", "content": system_prompt.strip()})
    messages += normalise_history(history)
    if messages and messages[-1]["role"] == "user":
        # An unanswered turn (a failure with nothing kept) is folded into the new one.
        messages[-1] = {"role": "user", "content": messages[-1]["content"] + "\n\n" + message}
    else:
        messages.append({"role": "user", "content": message})
    return messages
