"""Turning an Answer into chat messages: a thought, the answer, and a footer or a notice.

The thought and Causerie's own footers and notices are marked in their metadata, so that
answering/messages.py leaves them out of what is sent upstream.

Messages are built in the form the Chatbot sends to the browser (content as a list of parts), so
the streamed events skip Gradio's post-processing: it would run in a worker thread on every
update of every answer (tests/test_ui_parts.py checks that the form is the one Gradio makes).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from pathlib import PurePath
from typing import Any
from urllib.parse import urlsplit

from ..answering.answer import Answer
from ..answering.footer import footer_text
from ..answering.messages import checked_steps
from ..events import Picture, ToolStep
from ..history.versions import shown_number
from ..i18n.wording import DEFAULT_LANGUAGE, LANGUAGES, words
from ..inert import LATEX_DELIMITERS as DELIMITERS
from ..inert import inert, inert_text
from ..patches.chat_marks import FileFree
from .turns import UI_ONLY_PREFIX

LATEX_DELIMITERS = [{"left": left, "right": right, "display": left in ("$$", "\\[")} for left, right in DELIMITERS]
"""Every chat's LaTeX delimiters, as Gradio takes them: inert() reads answers with the same ones."""


def sources_text(answer: Answer, language: str = DEFAULT_LANGUAGE) -> str:
    """The sources an answer used, as numbered links (a title where the provider gave one, else
    the address without its scheme, shortened)."""
    lines = [f"**{words('page', 'sources_title', None, language)}**", ""]
    for rank, citation in enumerate(answer.citations, 1):
        parts = urlsplit(citation.url)
        address = (parts.netloc + parts.path).rstrip("/") or citation.url
        shown = (citation.title or (address if len(address) <= 60 else address[:59] + "…")).replace("[", "(").replace("]", ")")
        lines.append(f"{rank}. [{shown}]({citation.url.replace(')', '%29').replace(' ', '%20')})")
    return "\n".join(lines)


def chat_mark(chat: list[dict]) -> str:
    """A short mark of a chat as the page holds it: how many messages, questions and parts, and
    the UTF-8 bytes of its texts. A question sends the mark of the page's chat instead of the chat
    (CHAT_MARK_JS in ui/app.py computes the same in the browser), and is answered from the copy
    this page was given (ConversationView.chat_for_mark) when the marks agree. It tells that copy
    from another chat or an older one, not from an edit that keeps every length: the page changes
    its chat on its own only by showing the question, emptying it (the bin), and editing a
    question, and the server forgets its copy at an edit (ConversationView.chat_changed)."""
    questions = parts = size = 0
    for item in chat:
        if not isinstance(item, dict):
            continue
        questions += item.get("role") == "user"
        content = item.get("content")
        for part in content if isinstance(content, list) else [{"text": content}]:
            parts += 1
            text = part.get("text") if isinstance(part, dict) else None
            if isinstance(text, str):
                size += len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))
    return f"{len(chat)}.{questions}.{parts}.{size}"


EMPTY_CHAT_MARK = chat_mark([])


def shown_chat(messages: list[dict], has_files: bool) -> list[dict]:
    """The chat as an update sends it: marked FileFree when none of its messages has a file."""
    return messages if has_files else FileFree(messages)


def answered_chat(shown: list[dict], answer: Answer, language: str, has_files: bool, after: Sequence[dict] = ()) -> list[dict]:
    """The chat `shown` (which holds files if `has_files`) with the answer after it, as an update
    sends it (its pictures are files too); `after`: what goes between the question and its answer
    (the question's versions' line: the answer's footer stays its last message)."""
    return shown_chat(shown + list(after) + render(answer, language), has_files or bool(answer.pictures))


def is_version_line(message: Any) -> bool:
    metadata = message.get("metadata") if isinstance(message, Mapping) else getattr(message, "metadata", None)
    return isinstance(metadata, Mapping) and metadata.get("id") == f"{UI_ONLY_PREFIX}versions"


def version_message(versions: Mapping[str, Any], number: int, language: str = DEFAULT_LANGUAGE) -> dict:
    """The line under a question asked more than once: ‹ 2/3 ›, its arrows links for the page's
    script (`number`: which such line of the chat it is). The other versions ride in its metadata,
    for the save (turns.saved_messages)."""
    shown, total = shown_number(versions)
    back = f"[‹](#causerie-version-prev-{number})" if shown > 1 else "‹"
    on = f"[›](#causerie-version-next-{number})" if shown < total else "›"
    said = words("page", "version.of", {"shown": shown, "total": total}, language)
    drop = f" · [{words('page', 'version.drop', None, language)}](#causerie-version-drop-{number})"
    metadata = {"id": f"{UI_ONLY_PREFIX}versions", "versions": without_stamps(versions)}
    return message("assistant", "", metadata, controls=f"<sub>{back} {said} {on}{drop}</sub>")


def without_stamps(value: Any) -> Any:
    """Versions as the page may hold them: their files' stamps stay on the server (file_stamps.py)."""
    if isinstance(value, Mapping):
        return {k: without_stamps(v) for k, v in value.items() if k != "stamp"}
    if isinstance(value, list):
        return [without_stamps(v) for v in value]
    return value


def picture_files(pictures: tuple[Picture, ...]) -> list[dict]:
    """An answer's pictures as a conversation keeps them (file references, as attachments are)."""
    return [
        {"path": p.path, "orig_name": f"picture-{n}{PurePath(p.path).suffix}", "mime_type": p.mime_type, "size": p.size}
        for n, p in enumerate(pictures, 1)
    ]


def message(role: str, text: str, metadata: dict | None = None, files: list[dict] | None = None, *, controls: str = "") -> dict:
    """One chat message as the Chatbot component sends it to the browser; a question's attached
    files (as the page's upload box gives them) follow its text. What the page shows beside the
    person's own words (answers, thoughts, sources, notices, footers) is made inert first: it may
    name or quote anything (inert.py)."""
    if role != "user":
        text = inert(text) + controls  # (`controls`: the page's own links, made here, never from data)
    parts = [{"text": text, "type": "text"}] if text or not files else []
    parts += [{"file": _file_data(file), "type": "file", "alt_text": None} for file in files or ()]
    return {"role": role, "metadata": metadata, "content": parts, "options": None}


def _file_data(file: dict) -> dict:
    """A file as Gradio's FileData: its `meta` marks it (Gradio refuses a file part without), and
    its address is the app's own (a saved one may come from another host). Its stamp stays on
    the server (file_stamps.py)."""
    shown = {key: value for key, value in file.items() if key != "stamp"}
    return {**shown, "url": f"/gradio_api/file={file['path']}", "meta": {"_type": "gradio.FileData"}}


def _thought(text: str, thinking: bool, seconds: float | None, language: str = DEFAULT_LANGUAGE) -> dict:
    # (Looked up, not worded: this runs on every update of an answer that thinks.)
    metadata = {
        "title": LANGUAGES.get(language, LANGUAGES[DEFAULT_LANGUAGE])["page"]["thinking"],
        "id": f"{UI_ONLY_PREFIX}thought",
        "status": "pending" if thinking else "done",
    }
    if seconds is not None:
        metadata["duration"] = round(seconds, 1)
    return message("assistant", text, metadata)


SHORT_RESULT_CHARS = 400
"""A step's result this long or shorter is shown open; a longer one is folded."""


def kept_step(step: ToolStep) -> dict[str, Any]:
    """A step as a conversation keeps it (answering/messages.checked_steps): never its approval id."""
    kept: dict[str, Any] = {
        "server": step.server,
        "tool": step.tool,
        "function": step.function,
        "call_id": step.call_id,
        "arguments": step.arguments,
        "result": step.result,
        "state": step.state,
        "round": step.round,
    }
    if step.duration_s is not None:
        kept["duration_s"] = step.duration_s
    if step.remote:
        kept["remote"] = True
    return kept


def _fenced(text: str, kind: str) -> str:
    """`text` as a code block that nothing in it can close."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{kind}\n{text}\n{fence}"


def _pretty(arguments: str) -> tuple[str, str]:
    try:
        return json.dumps(json.loads(arguments), indent=2, ensure_ascii=False), "json"
    except ValueError:
        return arguments, "text"


def step_message(step: Mapping[str, Any], language: str = DEFAULT_LANGUAGE, approval_id: str | None = None) -> dict:
    """One tool call as the chat shows it: a fold titled with its server and tool, its arguments,
    Allow / Deny / Always while it waits (`approval_id`), then its result. The call's record rides
    in the metadata, for the save (turns.saved_messages); the arguments and result are data, shown
    as code blocks, and the whole is made inert like any answer."""
    state = str(step.get("state") or "asked")
    tool, server = inert_text(str(step.get("tool") or "?")), inert_text(str(step.get("server") or ""))
    parts = []
    if step.get("arguments"):
        shown, kind = _pretty(str(step["arguments"]))
        parts.append(f"**{words('page', 'tool.arguments', None, language)}**\n\n{_fenced(shown, kind)}")
    controls = ""
    if state == "waiting" and approval_id:
        links = [
            f"[{words('page', 'tool.allow', None, language)}](#causerie-tool-allow-{approval_id})",
            f"[{words('page', 'tool.deny', None, language)}](#causerie-tool-deny-{approval_id})",
            f"[{words('page', 'tool.always', {'tool': tool}, language)}](#causerie-tool-always-{approval_id})",
        ]
        controls = "\n\n" + " · ".join(links)
    result = str(step.get("result") or "")
    if state == "denied" and result:
        parts.append(words("page", "tool.why_denied", {"why": inert_text(result)}, language))
    elif result:
        parts.append(f"**{words('page', 'tool.result', None, language)}**\n\n{_fenced(result, 'text')}")
    log = words(
        "page",
        f"tool.{state}" if state in ("asked", "waiting", "running", "done", "failed", "denied") else "tool.asked",
        None,
        language,
    )
    if step.get("remote") and step.get("provider"):
        log += " · " + words("page", "tool.remote", {"provider": step["provider"]}, language)
    metadata: dict[str, Any] = {
        "title": words("page", "tool.title", {"server": server or "—", "tool": tool}, language),
        "id": f"{UI_ONLY_PREFIX}tool",
        "log": log,
        "tool": {key: value for key, value in step.items() if key != "provider"},
    }
    if state in ("asked", "waiting", "running"):
        metadata["status"] = "pending"
    elif len(result) > SHORT_RESULT_CHARS or result.count("\n") > 8:
        metadata["status"] = "done"  # (folded)
    if isinstance(duration := step.get("duration_s"), (int, float)):
        metadata["duration"] = round(float(duration), 1)
    return message("assistant", "\n\n".join(parts), metadata, controls=controls)


def page_messages(saved: list[dict], language: str = DEFAULT_LANGUAGE) -> list[dict]:
    """A conversation's saved messages as the page shows them (the inverse of saved_messages).
    Every path in them is shown: vet them first (ConversationHandlers.open)."""
    shown: list[dict] = []
    markers = 0
    for item in saved:
        if item.get("role") == "user":
            shown.append(_question(item, language))
            if isinstance(versions := item.get("versions"), Mapping) and versions:  # (its line, under it)
                shown.append(version_message(versions, markers, language))
                markers += 1
            continue
        if item.get("thinking"):
            shown.append(_thought(item["thinking"], False, item.get("thinking_seconds"), language))
        shown += [step_message(step, language) for step in checked_steps(item.get("tools"))]
        if item.get("content"):
            shown.append(message("assistant", item["content"]))
        if item.get("files"):
            shown.append(_pictures(item["files"], language))
        if item.get("sources"):
            shown.append(message("assistant", item["sources"], {"id": f"{UI_ONLY_PREFIX}sources"}))
        if item.get("notice"):
            shown.append(message("assistant", item["notice"], {"id": f"{UI_ONLY_PREFIX}notice"}))
        if item.get("footer"):
            shown.append(message("assistant", f"<sub>{item['footer']}</sub>", {"id": f"{UI_ONLY_PREFIX}footer"}))
    return shown


def _question(item: dict, language: str) -> dict:
    """A saved question as the page shows it. A file without a path (file_stamps.py: gone, or
    never this person's) is named in the text as no longer available: the page gets no path. The
    question stays as written, not its file's name (a name is data: inert_text)."""
    files = item.get("files") or ()
    gone = [
        words("page", "file_gone", {"name": inert_text(file.get("orig_name") or "file")}, language)
        for file in files
        if "path" not in file
    ]
    text = "\n\n".join(filter(None, [item.get("content", ""), *gone]))
    return message("user", text, files=[file for file in files if "path" in file])


def _pictures(files: list[dict], language: str) -> dict:
    """A saved answer's pictures; one no longer kept (file_stamps.py: deleted after
    UPLOADS_KEEP_HOURS, or never this person's) is said so in its place."""
    gone = [str(file.get("orig_name") or "picture")[:200] for file in files if "path" not in file]
    said = [words("page", "picture_gone", {"name": inert_text(name)}, language) for name in gone]
    metadata: dict = {"id": f"{UI_ONLY_PREFIX}pictures"}
    if gone:  # (their names, for the next save: turns.saved_messages)
        metadata["gone"] = gone
    return message("assistant", "\n\n".join(said), metadata, files=[file for file in files if "path" in file])


def render(answer: Answer, language: str = DEFAULT_LANGUAGE) -> list[dict]:
    """The answer as chat messages, worded in `language` (the page's)."""
    messages: list[dict] = []
    if answer.reasoning:
        messages.append(_thought(answer.reasoning, answer.thinking, answer.thinking_s, language))
    for step in answer.steps:
        shown = kept_step(step)
        if step.remote:
            shown["provider"] = answer.provider_label
        messages.append(step_message(shown, language, step.id if step.state == "waiting" else None))
    if answer.text:
        messages.append(message("assistant", answer.text))
    if answer.pictures:
        messages.append(message("assistant", "", {"id": f"{UI_ONLY_PREFIX}pictures"}, files=picture_files(answer.pictures)))
    if answer.citations and answer.finished_at is not None:
        messages.append(message("assistant", sources_text(answer, language), {"id": f"{UI_ONLY_PREFIX}sources"}))
    if answer.status is not None:
        messages.append(message("assistant", f"⏳ {answer.status.said_in(language)}", {"id": f"{UI_ONLY_PREFIX}status"}))
    # One notice line under an answer (a saved answer keeps one): what the person should know, then
    # why it failed.
    notes = [f"ℹ️ {notice.message}" for notice in answer.notices]
    if answer.failure is not None:
        kept = words("notice", "partial_kept", None, language) if answer.text else ""
        notes.append(f"⚠️ {answer.failure.said_in(language)}{kept}")
    elif answer.asked_for_tool:
        notes.append(f"ℹ️ {words('notice', 'tool_calls', None, language)}")
    if notes:
        messages.append(message("assistant", "\n\n".join(notes), {"id": f"{UI_ONLY_PREFIX}notice"}))
    if answer.finished_at is not None and answer.provider_label:
        messages.append(message("assistant", f"<sub>{footer_text(answer, language)}</sub>", {"id": f"{UI_ONLY_PREFIX}footer"}))
    return messages
