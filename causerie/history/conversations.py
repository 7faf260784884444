"""A saved conversation, and the files it travels in: our JSON, plain OpenAI messages, Markdown.

A conversation's messages are plain records, not the page's chat: `{"role", "content"}` plus, on
a question, optional `files` (attachments), and on an answer, optional `files` (the pictures it made), `thinking`,
`thinking_seconds`, `tools` (its tool calls: answering/messages.checked_steps), `notice` and `footer`. So the `messages` of
our JSON are also a valid OpenAI message list, and a plain OpenAI list imports as a conversation.
Settings are the page's values as strings (an empty one means the model's default).
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from ..answering.messages import checked_steps, step_line, text_of_parts
from .versions import MOST_DEPTH, MOST_VERSIONS

FORMAT = "causerie.conversation"
BUNDLE_FORMAT = "causerie.conversations"
VERSION = 1
SETTING_NAMES = (
    "provider",
    "model",
    "preset",
    "system_prompt",
    "temperature",
    "top_p",
    "max_tokens",
    "reasoning_effort",
    "search",
)
ANSWER_EXTRAS = ("thinking", "thinking_seconds", "sources", "notice", "footer")
TITLE_CHARS = 60
ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class UnreadableFile(ValueError):
    """An import that is not a conversation: `why` (not_json, empty, not_ours, bad_message) and
    its parameters, worded in wording.py."""

    def __init__(self, why: str, **params: Any) -> None:
        super().__init__(why, params)
        self.why, self.params = why, params


def new_id() -> str:
    return uuid.uuid4().hex


TEMPORARY_PREFIX = "tmp-"
"""A temporary chat's id starts so (a `new_id` never does): no shelf keeps it, whatever the page's
state says (a server restart forgets that)."""


def new_temporary_id() -> str:
    return TEMPORARY_PREFIX + uuid.uuid4().hex


def is_temporary(conversation_id: str) -> bool:
    return conversation_id.startswith(TEMPORARY_PREFIX)


def auto_title(messages: Iterable[Mapping[str, Any]]) -> str:
    """The first question's first words, on one line."""
    for message in messages:
        if message.get("role") == "user" and (text := " ".join(str(message.get("content") or "").split())):
            return text if len(text) <= TITLE_CHARS else text[: TITLE_CHARS - 1].rstrip() + "…"
    return ""


@dataclass(frozen=True)
class Conversation:
    id: str
    messages: tuple[dict, ...] = ()
    settings: Mapping[str, str] = field(default_factory=dict)
    title: str = ""
    """Empty until the person renames it: `shown_title` then uses the first question."""
    created_at: float = 0.0
    updated_at: float = 0.0
    pinned: bool = False
    """Pinned to the top of the list (the person's choice), above the most recent."""

    @property
    def shown_title(self) -> str:
        return self.title or auto_title(self.messages) or "New chat"

    def text(self) -> str:
        """Everything a search looks through: title, prompt and messages."""
        return "\n".join(
            [self.shown_title, self.settings.get("system_prompt", ""), *(str(m.get("content") or "") for m in self.messages)]
        )

    def with_messages(self, messages: Iterable[dict], settings: Mapping[str, str], now: float | None = None) -> Conversation:
        now = time.time() if now is None else now
        return replace(self, messages=tuple(messages), settings=dict(settings), updated_at=now, created_at=self.created_at or now)

    def to_dict(self) -> dict:
        return {
            "format": FORMAT,
            "version": VERSION,
            "id": self.id,
            "title": self.shown_title,
            "renamed": bool(self.title),
            "pinned": self.pinned,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "settings": dict(self.settings),
            "messages": [dict(m) for m in self.messages],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2)


def _text(content: Any, position: int = 0) -> str:
    """Text of an OpenAI content value: a string or a list of parts (text parts kept)."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return text_of_parts(content)[0]
    raise UnreadableFile("bad_message", position=position + 1)


MOST_VERSION_DEPTH = MOST_DEPTH
"""Versions within versions, at most this deep (history/versions.py); deeper ones are dropped."""


def _versions(raw: Any, position: int, depth: int) -> dict | None:
    """A point's other versions (history/versions.py), each checked as messages are; None if none."""
    if not isinstance(raw, Mapping) or depth >= MOST_VERSION_DEPTH:
        return None
    kept = {}
    for side in ("before", "after"):
        tails = raw.get(side) if isinstance(raw.get(side), list) else []
        checked = (
            [m for n, item in enumerate(tail[:2000]) if (m := _message(item, position + n, depth + 1)) is not None]
            for tail in tails[-MOST_VERSIONS:]
            if isinstance(tail, list) and tail
        )
        # A version is a question and what followed it: questions and answers only.
        kept[side] = [
            [m for m in tail if m["role"] in ("user", "assistant")] for tail in checked if tail and tail[0]["role"] == "user"
        ]
    return kept if kept["before"] or kept["after"] else None


def _message(raw: Any, position: int, depth: int = 0) -> dict | None:
    if not isinstance(raw, Mapping) or raw.get("role") not in ("user", "assistant", "system", "tool", "developer"):
        raise UnreadableFile("bad_message", position=position + 1)
    if raw["role"] in ("tool", "developer"):
        return None
    message = {"role": raw["role"], "content": _text(raw.get("content"), position)}
    if raw["role"] in ("user", "assistant") and (files := _files(raw.get("files"))):
        message["files"] = files  # a question's attachments, an answer's pictures
    if raw["role"] == "user" and (versions := _versions(raw.get("versions"), position, depth)):
        message["versions"] = versions  # the other paths from this question on (history/versions.py)
    if raw["role"] == "assistant":
        for name in ANSWER_EXTRAS:
            value = raw.get(name)
            if name == "thinking_seconds" and isinstance(value, (int, float)) and not isinstance(value, bool):
                message[name] = float(value)
            elif name != "thinking_seconds" and isinstance(value, str) and value:
                message[name] = value
        if steps := checked_steps(raw.get("tools")):
            message["tools"] = steps  # the tool calls the answer made, and their results
        # Reasoning as DeepSeek and OpenRouter return it, when our own field is absent.
        reasoning = raw.get("reasoning_content") or raw.get("reasoning")
        if "thinking" not in message and isinstance(reasoning, str) and reasoning:
            message["thinking"] = reasoning
    return message


FILE_FIELDS = ("path", "orig_name", "mime_type", "size", "stamp")


def _files(raw: Any) -> list[dict]:
    """A question's attached files (or an answer's pictures): where the server keeps each, its stamp (file_stamps.py: an
    import's paths and stamps are vetted before anything uses them) and how the page shows it;
    a file with neither path nor name, and anything else, is dropped."""
    if not isinstance(raw, list):
        return []
    files = [
        {name: item[name] for name in FILE_FIELDS if type(item.get(name)) is (int if name == "size" else str)}
        for item in raw[:20]
        if isinstance(item, Mapping)
    ]
    return [f for f in files if "path" in f or "orig_name" in f]


def _from_messages(raw_messages: list, base: Mapping[str, Any]) -> Conversation:
    messages, prompts = [], []
    for position, raw in enumerate(raw_messages):
        message = _message(raw, position)
        if message is None:
            continue
        if message["role"] == "system":
            prompts.append(message["content"])
        else:
            messages.append(message)
    raw_settings = base.get("settings") if isinstance(base.get("settings"), Mapping) else {}
    settings = {
        name: str(raw_settings[name])
        for name in SETTING_NAMES
        if isinstance(raw_settings.get(name), (str, int, float)) and not isinstance(raw_settings.get(name), bool)
    }
    if prompts:
        settings["system_prompt"] = "\n\n".join(prompts)
    raw_id = base.get("id")
    now = time.time()

    def stamp(name: str) -> float:
        value = base.get(name)
        return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0 else now

    title = base.get("title") if base.get("renamed") and isinstance(base.get("title"), str) else ""
    return Conversation(
        id=raw_id if isinstance(raw_id, str) and ID_PATTERN.match(raw_id) and not is_temporary(raw_id) else new_id(),
        messages=tuple(messages),
        settings=settings,
        title=title,
        pinned=base.get("pinned") is True,
        created_at=stamp("created_at"),
        updated_at=stamp("updated_at"),
    )


def read_import(data: bytes | str) -> list[Conversation]:
    """Conversations from a JSON file: ours (one, or a bundle), or a plain list of OpenAI messages.
    Raises UnreadableFile with what was expected."""
    try:
        parsed = json.loads(data)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise UnreadableFile("not_json") from None
    if isinstance(parsed, list):
        if not parsed:
            raise UnreadableFile("empty")
        return [_from_messages(parsed, {})]
    if not isinstance(parsed, Mapping):
        raise UnreadableFile("not_ours")
    if parsed.get("format") == BUNDLE_FORMAT and isinstance(parsed.get("conversations"), list):
        found = [read_one(item) for item in parsed["conversations"]]
        if not found:
            raise UnreadableFile("empty")
        return found
    return [read_one(parsed)]


def read_one(parsed: Any) -> Conversation:
    if not isinstance(parsed, Mapping) or not isinstance(parsed.get("messages"), list):
        raise UnreadableFile("not_ours")
    return _from_messages(parsed["messages"], parsed)


def bundle_json(conversations: Iterable[Conversation]) -> str:
    return json.dumps(
        {"format": BUNDLE_FORMAT, "version": VERSION, "conversations": [c.to_dict() for c in conversations]},
        ensure_ascii=False,
        indent=2,
    )


def to_markdown(conversation: Conversation) -> str:
    """A readable copy: settings up top, each turn under a heading, thinking folded."""
    s = conversation.settings
    lines = [f"# {conversation.shown_title}", ""]
    facts = [f"{name.replace('_', ' ')}: {s[name]}" for name in SETTING_NAMES if name != "system_prompt" and s.get(name)]
    if facts:
        lines += ["*" + " · ".join(facts) + "*", ""]
    if s.get("system_prompt"):
        lines += ["**System prompt**", "", *("> " + line for line in s["system_prompt"].splitlines()), ""]
    for message in conversation.messages:
        if message["role"] == "user":
            lines += ["## You", "", message["content"], ""]
            lines += [f"- 📎 {f.get('orig_name') or f.get('path', 'file').rsplit('/', 1)[-1]}" for f in message.get("files", ())]
            lines += [""] if message.get("files") else []
            continue
        lines += ["## " + (s.get("model") or "Assistant"), ""]
        if message.get("thinking"):
            lines += ["<details><summary>Thinking</summary>", "", message["thinking"], "", "</details>", ""]
        if message.get("tools"):
            lines += [f"- 🔧 {step_line(step)}" for step in message["tools"]] + [""]
        if message.get("content"):
            lines += [message["content"], ""]
        lines += [f"- 🖼️ {f.get('orig_name') or f.get('path', 'picture').rsplit('/', 1)[-1]}" for f in message.get("files", ())]
        lines += [""] if message.get("files") else []
        if message.get("notice"):
            lines += [f"> {message['notice']}", ""]
        if message.get("footer"):
            lines += [f"<sub>{message['footer']}</sub>", ""]
    return "\n".join(lines).rstrip() + "\n"


def file_stem(conversation: Conversation) -> str:
    """A safe file name from the title."""
    stem = re.sub(r"[^\w\- ]+", "", conversation.shown_title, flags=re.UNICODE).strip().replace(" ", "-")
    return (stem or "conversation")[:50]
