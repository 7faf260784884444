"""The page's chat turned back into plain {role, content} turns for the core.

Gradio's chat carries content blocks, metadata (thoughts, Causerie's footers and notices) and
options. Only the user's and the model's own words go upstream; thinking never does.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ..answering.messages import checked_steps
from ..history.conversations import FILE_FIELDS
from ..inert import money_as_written

# Messages the page adds around an answer (thought, footer, notice, status) carry this metadata id prefix.
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
        return ""  # files and components
    if isinstance(content, (list, tuple)):
        return "\n".join(t for t in (content_text(part) for part in content) if t)
    return ""


def _field(message: Any, name: str) -> Any:
    return message.get(name) if isinstance(message, Mapping) else getattr(message, name, None)


def _metadata(message: Any) -> Mapping[str, Any]:
    metadata = _field(message, "metadata") or {}
    return metadata if isinstance(metadata, Mapping) else getattr(metadata, "__dict__", {}) or {}


def _kind(message: Any) -> str:
    """ "thought" (a metadata title), Causerie's own "pictures", "sources", "footer", "notice" or
    "status", or "text"."""
    metadata = _metadata(message)
    ident = str(metadata.get("id") or "")
    if ident == f"{UI_ONLY_PREFIX}tool":
        return "tool"
    if metadata.get("title"):
        return "thought"
    return ident[len(UI_ONLY_PREFIX) :] if ident.startswith(UI_ONLY_PREFIX) else "text"


def is_ui_only(message: Any) -> bool:
    """Thoughts and Causerie's own footers and notices stay in the browser."""
    return _kind(message) != "text"


def content_files(content: Any) -> list[dict]:
    """The files attached to a message (its `file` parts), as the page holds them: path (on the
    server), url, orig_name, mime_type."""
    parts = content if isinstance(content, (list, tuple)) else [content]
    files = []
    for part in parts:
        file = part.get("file") if isinstance(part, Mapping) and part.get("type") == "file" else None
        if hasattr(file, "model_dump"):  # Gradio's FileData, when Gradio has preprocessed the chat
            file = file.model_dump()
        if isinstance(file, Mapping) and isinstance(file.get("path"), str):
            files.append(dict(file))
    return files


def file_refs(files: Iterable[Mapping[str, Any]]) -> list[dict]:
    """Attached files as the core reads them (attachments.py): path and name."""
    return [{"path": f.get("path"), "name": f.get("orig_name") or f.get("name")} for f in files]


def plain_turns(chat: Iterable[Any] | None) -> list[dict[str, Any]]:
    """The user and assistant turns of the page's chat, as plain strings; a question's attached
    files go with it as `files`."""
    turns: list[dict[str, Any]] = []
    steps: list[Any] = []
    """An answer's tool calls, shown before its words: they go with them (messages.build_messages)."""
    for message in chat or ():
        if steps and _field(message, "role") == "user":  # (an answer of tool calls only: they still went)
            turns.append({"role": "assistant", "content": ""})
            _add_steps(turns, steps)
        if (text := _plain_text(message)) is not None:  # the common case, quickly (long chats)
            if text.strip():
                role = message["role"]
                turns.append({"role": role, "content": money_as_written(text) if role == "assistant" else text})
                if steps:
                    _add_steps(turns, steps)
            continue
        role = _field(message, "role")
        if role == "assistant" and _kind(message) == "tool":
            steps.append(_metadata(message).get("tool"))
            continue
        if role == "assistant" and _kind(message) == "pictures":
            _add_pictures(turns, content_files(_field(message, "content")))
            continue
        if role not in ("user", "assistant") or is_ui_only(message):
            continue
        content = _field(message, "content")
        text, files = content_text(content), content_files(content) if role == "user" else []
        text = money_as_written(text) if role == "assistant" else text
        if text.strip() or files:
            turns.append({"role": role, "content": text, **({"files": file_refs(files)} if files else {})})
            if steps and role == "assistant":
                _add_steps(turns, steps)
    if steps:
        turns.append({"role": "assistant", "content": ""})
        _add_steps(turns, steps)
    return turns


def _add_steps(turns: list[dict[str, Any]], steps: list[Any]) -> None:
    """The tool calls shown before this answer's words, with them (checked: the page sent them)."""
    turns[-1] = {**turns[-1], "tools": checked_steps(steps)}
    steps.clear()


def _add_pictures(turns: list[dict[str, Any]], files: list[dict]) -> None:
    """An answer's pictures go with its words (the turn before, when it is the answer's) as
    `pictures`: never sent upstream, but what /edit changes (answering/pictures.py)."""
    if not files:
        return
    if turns and turns[-1]["role"] == "assistant" and "pictures" not in turns[-1]:
        turns[-1] = {**turns[-1], "pictures": file_refs(files)}
    else:
        turns.append({"role": "assistant", "content": "", "pictures": file_refs(files)})


def _plain_text(message: Any) -> str | None:
    """A question's or answer's text when the message is the page's usual plain one (a dict, no
    metadata, one text part); None for anything else (plain_turns then looks closer)."""
    if type(message) is not dict or message.get("metadata") or message.get("role") not in ("user", "assistant"):
        return None
    content = message.get("content")
    if type(content) is list and len(content) == 1 and type(part := content[0]) is dict and part.get("type") == "text":
        text = part.get("text")
        return text if type(text) is str else None
    return None


_ORDER = ("thinking", "tools", "content", "files", "sources", "notice", "footer")


def _footer_text(text: str) -> str:
    return text.removeprefix("<sub>").removesuffix("</sub>")


def saved_messages(chat: Iterable[Any] | None) -> list[dict]:
    """The page's chat as a conversation's messages: an answer's thought, notice and footer
    become fields of the answer; a status line (an answer still waiting) is not kept."""
    saved: list[dict] = []
    answer: dict | None = None
    for message in chat or ():
        role, text = _field(message, "role"), content_text(_field(message, "content"))
        if role == "user":
            answer = None
            files = [{k: f[k] for k in FILE_FIELDS if f.get(k) is not None} for f in content_files(_field(message, "content"))]
            saved.append({"role": "user", "content": text, **({"files": files} if files else {})})
            continue
        if role != "assistant":
            continue
        kind = _kind(message)
        if kind == "status":
            continue
        if kind == "versions":  # (the other paths from the question before: history/versions.py)
            question = next((item for item in reversed(saved) if item["role"] == "user"), None)
            if question is not None and isinstance(versions := _metadata(message).get("versions"), Mapping):
                question["versions"] = {side: list(versions.get(side) or ()) for side in ("before", "after")}
            continue
        if kind == "tool":  # (an answer's calls come one after another, before its words)
            if answer is None or any(_ORDER.index(name) > _ORDER.index("tools") for name in answer if name in _ORDER):
                answer = {"role": "assistant"}
                saved.append(answer)
            answer.setdefault("tools", []).extend(checked_steps([_metadata(message).get("tool")]))
            continue
        field_name = {
            "thought": "thinking",
            "pictures": "files",
            "sources": "sources",
            "notice": "notice",
            "footer": "footer",
        }.get(kind, "content")
        # An answer's parts come in this order; one out of order starts the next answer.
        if answer is None or any(_ORDER.index(name) >= _ORDER.index(field_name) for name in answer if name in _ORDER):
            answer = {"role": "assistant"}
            saved.append(answer)
        if field_name == "files":  # the pictures the answer made, and the names of those no longer kept
            files = [{k: f[k] for k in FILE_FIELDS if f.get(k) is not None} for f in content_files(_field(message, "content"))]
            gone = _metadata(message).get("gone")
            files += [{"orig_name": name} for name in gone if isinstance(name, str)] if isinstance(gone, list) else []
            if files:
                answer["files"] = files
            continue
        if field_name == "footer":
            text = _footer_text(text)
        answer[field_name] = money_as_written(text)
        if kind == "thought" and isinstance(duration := _metadata(message).get("duration"), (int, float)):
            answer["thinking_seconds"] = float(duration)
    for item in saved:
        item.setdefault("content", "")
    return saved
