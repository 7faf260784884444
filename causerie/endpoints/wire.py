"""Turning one provider's stream into events; every known quirk is handled here.

`SSEDecoder` cuts the raw bytes into server-sent events; `ChunkParser` turns each decoded chunk
into events.

Reasoning arrives as `reasoning_content`, `reasoning`, list content parts of type `thinking`, or
`<think>…</think>` inside the text (an unpaired closing tag included). Usage arrives on any chunk,
or under `x_groq.usage`. Chunks with empty `choices` and `None` deltas are normal.
"""

from __future__ import annotations

from itertools import groupby
from typing import Any

import orjson

from ..events import Event, FunctionCall, ReasoningDelta, TextDelta, ToolCalls, Usage
from .model_info import XAI_TICKS_PER_USD


class SSEDecoder:
    """Server-sent events from raw bytes, as they arrive: `feed` returns the `data` of every
    event completed so far (several `data:` lines joined with newlines). Comment lines (OpenRouter's
    `: OPENROUTER PROCESSING`) and other fields are skipped; lines may end in LF, CRLF or CR.

    Works on bytes with no per-line objects: at 100 concurrent streams, per-chunk cost is what
    the app's CPU goes on."""

    __slots__ = ("_buffer",)

    def __init__(self) -> None:
        self._buffer = b""

    def feed(self, data: bytes) -> list[bytes]:
        buffer = self._buffer + data if self._buffer else data
        held = b""
        if b"\r" in buffer:
            if buffer.endswith(b"\r"):  # maybe the first half of a CRLF cut by the network
                buffer, held = buffer[:-1], b"\r"
            buffer = buffer.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        events = []
        start = 0
        while (end := buffer.find(b"\n\n", start)) >= 0:
            if (data_of := _event_data(buffer[start:end])) is not None:
                events.append(data_of)
            start = end + 2
        self._buffer = buffer[start:] + held
        return events

    def close(self) -> list[bytes]:
        """An event the server left unterminated at the end of the stream (some do)."""
        rest, self._buffer = self._buffer, b""
        data_of = _event_data(rest.replace(b"\r\n", b"\n").replace(b"\r", b"\n").strip(b"\n"))
        return [] if data_of is None else [data_of]


def _event_data(block: bytes) -> bytes | None:
    if block.startswith(b"data:") and b"\n" not in block:  # the usual event: one data line
        return block[6:] if block[5:6] == b" " else block[5:]
    lines = [line[6:] if line[5:6] == b" " else line[5:] for line in block.split(b"\n") if line.startswith(b"data:")]
    return b"\n".join(lines) if lines else None


OPEN_TAG = "<think>"
CLOSE_TAG = "</think>"


def _partial_tag_suffix(text: str) -> int:
    """Length of the end of `text` that could be the start of a think tag cut by the chunking."""
    for size in range(min(len(CLOSE_TAG) - 1, len(text)), 0, -1):
        tail = text[-size:]
        if OPEN_TAG.startswith(tail) or CLOSE_TAG.startswith(tail):
            return size
    return 0


class ThinkTagSplitter:
    """Separates `<think>…</think>` from streamed answer text, across chunk boundaries."""

    __slots__ = ("inside", "pending", "seen_tag", "strip_lead")

    def __init__(self) -> None:
        self.inside = False
        self.pending = ""
        self.seen_tag = False
        self.strip_lead = False

    def feed(self, text: str) -> list[Event]:
        if not self.pending and "<" not in text:  # the common case: no tag anywhere near
            return self._emit(text)
        buf, self.pending = self.pending + text, ""
        out: list[Event] = []
        while buf:
            if self.inside:
                end = buf.find(CLOSE_TAG)
                if end < 0:
                    break
                out += self._emit(buf[:end])
                buf = buf[end + len(CLOSE_TAG) :]
                self.inside, self.strip_lead = False, True
                continue
            start, end = buf.find(OPEN_TAG), buf.find(CLOSE_TAG)
            if end >= 0 and (start < 0 or end < start) and not self.seen_tag:
                # A lone closing tag: everything so far was thinking (llama.cpp with some flags).
                out.append(ReasoningDelta(buf[:end], retroactive=True))
                buf = buf[end + len(CLOSE_TAG) :]
                self.seen_tag = self.strip_lead = True
                continue
            if start < 0:
                break
            out += self._emit(buf[:start])
            buf = buf[start + len(OPEN_TAG) :]
            self.inside = self.seen_tag = True
        if buf:
            keep = _partial_tag_suffix(buf)
            if keep:
                buf, self.pending = buf[:-keep], buf[-keep:]
            out += self._emit(buf)
        return out

    def flush(self) -> list[Event]:
        rest, self.pending = self.pending, ""
        return self._emit(rest) if rest else []

    def _emit(self, text: str) -> list[Event]:
        if self.inside:
            return [ReasoningDelta(text)] if text else []
        if self.strip_lead:
            text = text.lstrip()
            if not text:
                return []
            self.strip_lead = False
        return [TextDelta(text)] if text else []


def joined(events: list[Event]) -> list[Event]:
    """Pieces of answer (or of thinking) that follow each other, as one piece: what one read of the
    stream brought comes out as one event, and every layer above it handles one event, not one per
    token. Nothing else is merged or reordered; a retroactive piece of thinking stays its own."""
    if len(events) < 2:
        return events
    return [
        run[0] if len(run := list(group)) == 1 else kind("".join(e.text for e in run))
        for kind, group in groupby(events, _piece_kind)
    ]


def _piece_kind(event: Event) -> Any:
    """What joined() groups by: the kind of a piece of text, or the event itself (alone)."""
    kind = type(event)
    if kind is TextDelta or (kind is ReasoningDelta and not event.retroactive):
        return kind
    return id(event)


def _part_text(value: Any) -> str:
    """Text of a content part's payload: a string, or Mistral's list of text parts."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "".join(p.get("text", "") for p in value if isinstance(p, dict))
    return ""


def parse_usage(raw: dict[str, Any], *, completion_excludes_reasoning: bool) -> Usage:
    """Usage normalised so that completion_tokens includes reasoning tokens, as OpenAI counts."""
    details = raw.get("completion_tokens_details") or {}
    prompt_details = raw.get("prompt_tokens_details") or {}
    completion = raw.get("completion_tokens")
    reasoning = details.get("reasoning_tokens") or raw.get("reasoning_tokens")
    if completion_excludes_reasoning and completion is not None and reasoning:
        completion += reasoning
    # What the account was charged, when the provider says: xAI in ticks, OpenRouter in USD.
    ticks, cost = raw.get("cost_in_usd_ticks"), raw.get("cost")
    if isinstance(ticks, (int, float)) and not isinstance(ticks, bool):
        charged: float | None = ticks / XAI_TICKS_PER_USD
    elif isinstance(cost, (int, float)) and not isinstance(cost, bool):
        charged = float(cost)
    else:
        charged = None
    return Usage(
        prompt_tokens=raw.get("prompt_tokens"),
        completion_tokens=completion,
        reasoning_tokens=reasoning,
        cached_tokens=prompt_details.get("cached_tokens"),
        cost_usd=charged,
        cost_source="provider" if charged is not None else None,
    )


class ChunkParser:
    """Parses decoded chunks of one stream. Keeps the little state a stream needs."""

    __slots__ = (
        "splitter",
        "finish_reason",
        "usage",
        "completion_excludes_reasoning",
        "answer_chars",
        "reasoning_chars",
        "calls",
    )

    def __init__(self, *, completion_excludes_reasoning: bool = False) -> None:
        self.splitter = ThinkTagSplitter()
        self.finish_reason: str | None = None
        self.usage: Usage | None = None
        self.completion_excludes_reasoning = completion_excludes_reasoning
        self.answer_chars = 0
        """Characters of answer and of thinking so far: for an empty answer and estimated usage."""
        self.reasoning_chars = 0
        self.calls: dict[str, list] = {}
        """Tool calls asked for, [id, name, pieces of arguments], in order ("call:<n>"), and found
        by their index ("index:<i>") and id ("id:<id>") as their pieces come (_add_calls)."""

    def _counted(self, events: list[Event]) -> list[Event]:
        for event in events:
            if type(event) is TextDelta:
                self.answer_chars += len(event.text)
            elif type(event) is ReasoningDelta:
                self.reasoning_chars += len(event.text)
        return events

    def feed(self, chunk: dict[str, Any]) -> list[Event]:
        out: list[Event] = []
        raw_usage = chunk.get("usage") or (chunk.get("x_groq") or {}).get("usage")
        choices = chunk.get("choices")
        if choices:
            choice = choices[0]
            delta = choice.get("delta") or choice.get("message") or {}
            thinking = delta.get("reasoning_content") or delta.get("reasoning")
            if isinstance(thinking, str) and thinking:
                out.append(ReasoningDelta(thinking))
            content = delta.get("content")
            if isinstance(content, str):
                if content:
                    out += self.splitter.feed(content)
            elif isinstance(content, list):
                for part in content:
                    if not isinstance(part, dict):
                        continue
                    kind = part.get("type")
                    if kind == "thinking":
                        if text := _part_text(part.get("thinking")):
                            out.append(ReasoningDelta(text))
                    elif kind == "text" and part.get("text"):
                        out += self.splitter.feed(part["text"])
            if calls := delta.get("tool_calls"):
                self._add_calls(calls)
            if choice.get("finish_reason"):
                self.finish_reason = choice["finish_reason"]
        if isinstance(raw_usage, dict):
            self.usage = parse_usage(raw_usage, completion_excludes_reasoning=self.completion_excludes_reasoning)
            out.append(self.usage)
        return self._counted(out)

    def flush(self) -> list[Event]:
        return self._counted(self.splitter.flush())

    def _add_calls(self, calls: Any) -> None:
        """Pieces of tool calls, as providers send them: OpenAI's first piece of a call has its index,
        id and name, the next ones the same index and more of its arguments; some repeat the id on
        every piece; some send each call whole, with no index (Ollama), or reuse an index for a new
        id. So a piece belongs to the call of its id, else of its index (unless that call has
        another id), else, with neither, to the last call unless it names a function (a new call)."""
        if not isinstance(calls, list):
            return
        for call in calls:
            if not isinstance(call, dict):
                continue
            index, call_id = call.get("index"), call.get("id") if isinstance(call.get("id"), str) else ""
            function = call.get("function") if isinstance(call.get("function"), dict) else {}
            name = function.get("name") if isinstance(function.get("name"), str) else ""
            known = self.calls.get(f"id:{call_id}") if call_id else None
            if known is None and isinstance(index, int) and (at := self.calls.get(f"index:{index}")) is not None:
                known = at if not call_id or not at[0] or at[0] == call_id else None
            if known is None and not call_id and not isinstance(index, int) and not name and self.calls:
                known = self.calls[next(reversed(self.calls))]
            if known is None:
                known = ["", "", []]
                self.calls[f"call:{len(self.calls)}"] = known
            if isinstance(index, int):
                self.calls[f"index:{index}"] = known
            if call_id and not known[0]:
                known[0] = call_id
                self.calls[f"id:{call_id}"] = known
            if name and not known[1]:
                known[1] = name
            if isinstance(function.get("arguments"), str):
                known[2].append(function["arguments"])
            elif isinstance(function.get("arguments"), dict):  # (Ollama sends an object)
                known[2].append(orjson.dumps(function["arguments"]).decode())

    def tool_calls(self) -> ToolCalls | None:
        """The calls asked for, whole, in order; None if none."""
        made = [known for key, known in self.calls.items() if key.startswith("call:")]
        calls = tuple(
            FunctionCall(call_id or f"call_{number}", name, "".join(pieces))
            for number, (call_id, name, pieces) in enumerate(made)
            if name
        )
        return ToolCalls(calls) if calls else None
