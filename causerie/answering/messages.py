"""The messages sent upstream, built afresh every turn from plain {role, content} turns.

The page turns its chat (thinking blocks, footers, notices) into plain turns first (ui/turns.py);
the API's history is checked into the same shape at the edge (options.plain_history). Upstream gets
the system prompt, then the turns. Two turns of the same role in a row (a question whose answer
failed with nothing kept, then the next one) are sent as one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ..files.attachments import content_chars


def build_messages(
    system_prompt: str | None, turns: Iterable[Mapping[str, Any]], *, tool_calls: bool = False
) -> list[dict[str, Any]]:
    """`turns`' content is a string, or (a question with images: attachments.with_files) a list
    of content parts. An answer's tool calls (its `tools`, checked_steps) go back as they were made,
    `tool_calls` and `tool` messages, when this request offers tools (`tool_calls`); else as lines of
    text before the answer (a provider may refuse tool messages with no tools offered)."""
    messages: list[dict[str, Any]] = []
    if system_prompt and system_prompt.strip():
        messages.append({"role": "system", "content": system_prompt.strip()})
    for turn in turns:
        role, content = turn["role"], turn["content"]
        content = content.strip() if isinstance(content, str) else content
        steps = [step for step in checked_steps(turn.get("tools")) if not step.get("remote")] if role == "assistant" else []
        if steps and tool_calls:
            messages += replayed(steps)
        elif steps and isinstance(content, str):
            content = "\n".join(map(step_line, steps)) + ("\n\n" + content if content else "")
        if role not in ("user", "assistant") or not content:
            continue
        if messages and messages[-1]["role"] == role and "tool_calls" not in messages[-1]:
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


def message_chars(message: Mapping[str, Any]) -> int:
    """A message's size in characters: its content (attachments.content_chars), and the calls it
    asked for (their names and arguments)."""
    size = content_chars(message["content"])
    for call in message.get("tool_calls") or ():
        function = call.get("function") or {}
        size += len(str(function.get("name") or "")) + len(str(function.get("arguments") or ""))
    return size


def turn_chars(turn: Mapping[str, Any]) -> int:
    """A plain turn's size: its text, and the arguments and results of its tool calls."""
    content = turn["content"]
    size = len(content) if isinstance(content, str) else content_chars(content)
    for step in turn.get("tools") or ():
        if isinstance(step, Mapping):
            size += sum(len(v) for k in ("arguments", "result") if isinstance(v := step.get(k), str))
    return size


def within(messages: list[dict[str, Any]], limit: int) -> tuple[list[dict[str, Any]], int] | None:
    """The messages cut to at most `limit` characters of content (0: no limit) by leaving out the
    oldest turns, and how many were left out. The system prompt and the last question always stay,
    and what is sent starts with a question; None when those alone are over the limit."""
    if not limit:
        return messages, 0
    sizes = [message_chars(m) for m in messages]
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


STEP_TEXT = ("server", "tool", "function", "call_id", "arguments", "result", "state")
NOT_IN_A_NAME = re.compile(r"[^A-Za-z0-9_.\-/]")
"""A tool's or a server's name holds these only (an MCP tool of another name is not listed:
tools/mcp_client.py); a name in a step from elsewhere is made to (it goes into Markdown)."""
STEP_STATES = ("done", "failed", "denied")
MOST_STEPS = 64


def checked_steps(raw: Any) -> list[dict[str, Any]]:
    """An answer's tool steps as kept (saved, imported, sent back by the page): each field of the
    right type and bounded, anything else dropped. They are data: shown inert, sent as text."""
    if not isinstance(raw, (list, tuple)):
        return []
    steps = []
    for item in raw[:MOST_STEPS]:
        if not isinstance(item, Mapping) or item.get("state") not in STEP_STATES:
            continue
        step: dict[str, Any] = {name: item[name][:20_000] for name in STEP_TEXT if isinstance(item.get(name), str)}
        if not step.get("tool"):
            continue
        for name in ("tool", "server", "function"):
            if name in step:
                step[name] = NOT_IN_A_NAME.sub("_", step[name])[:128]
        if isinstance(duration := item.get("duration_s"), (int, float)) and not isinstance(duration, bool):
            step["duration_s"] = float(duration)
        if isinstance(number := item.get("round"), int) and not isinstance(number, bool):
            step["round"] = number
        if item.get("remote") is True:
            step["remote"] = True
        steps.append(step)
    return steps


def told(state: str, result: str) -> str:
    """What the model is told of a call, by its end: its result, its error, or that it was denied."""
    if state == "denied":
        return "The person did not allow this call. Do not try it again; answer without it, or ask them."
    if state == "failed":
        return f"Error: {result}"
    return result


def replayed(steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """An earlier answer's calls as they were made: per round, the assistant's `tool_calls`, then
    a `tool` message per call."""
    messages: list[dict[str, Any]] = []
    by_round: dict[int, list[dict[str, Any]]] = {}
    for number, step in enumerate(steps):
        step.setdefault("call_id", f"call_{number}")
        by_round.setdefault(step.get("round", 1), []).append(step)
    for _, calls in sorted(by_round.items()):
        messages.append(
            {
                "role": "assistant",
                "content": "",
                "tool_calls": [
                    {
                        "id": step["call_id"],
                        "type": "function",
                        "function": {"name": step.get("function") or step["tool"], "arguments": step.get("arguments") or "{}"},
                    }
                    for step in calls
                ],
            }
        )
        messages += [
            {"role": "tool", "tool_call_id": step["call_id"], "content": told(step["state"], step.get("result", ""))}
            for step in calls
        ]
    return messages


def step_line(step: Mapping[str, Any]) -> str:
    """One call as a line of text (sent when the request offers no tools)."""
    where = f"{step.get('server')}:{step['tool']}" if step.get("server") else step["tool"]
    said = told(step["state"], step.get("result", ""))
    return f"[Tool call {where}({step.get('arguments') or ''}) → {said[:2000]}]"
