"""A conversation as a tree: the versions a Retry or an edited question made, kept, not overwritten.

A conversation's messages are the path on screen. Where a question was asked again (Retry, or its
words edited), that question's message carries `versions`: the other paths from that point on
(each a list of messages, the question first, which may carry versions of their own further on),
those `before` the one shown and those `after` it. The one shown is the rest of the messages. So
the path is still a valid OpenAI list, only the path shown goes upstream, and moving between
versions swaps the path's tail with another (`switched`), nothing else.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

MOST_VERSIONS = 50
"""Versions kept at one point (the oldest beyond it are dropped)."""
MOST_DEPTH = 32
"""Versions within versions, at most this deep (each Retry of an older version adds a level). Each
level is five of JSON's, and the page's chat goes to the browser through orjson, which stops at
255: a tree of 50 levels (an import, or many Retries) broke that page's stream. The deeper ones
are dropped; the path on screen and the versions near it stay."""


def shown_number(versions: Mapping[str, Any]) -> tuple[int, int]:
    """(the number of the version shown, how many there are): 2, 3 for ‹ 2/3 ›."""
    before, after = len(versions.get("before") or ()), len(versions.get("after") or ())
    return before + 1, before + 1 + after


def _without_versions(tail: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """A tail as a version: its first message without the versions it carried (they are its
    siblings, kept beside it)."""
    tail = [dict(m) for m in tail]
    if tail:
        tail[0].pop("versions", None)
    return tail


def asked_again(old_tail: Sequence[Mapping[str, Any]]) -> dict[str, list]:
    """The versions of a point where the question was asked again: every earlier version, the
    one that was shown last among them; the new answer is the last, shown. (The old tail goes a
    level down: what would then be deeper than MOST_DEPTH is dropped.)"""
    known = (old_tail[0].get("versions") if old_tail else None) or {}
    versions = [*(known.get("before") or ()), _without_versions(old_tail), *(known.get("after") or ())]
    return {"before": [_within(tail, 2) for tail in versions[-MOST_VERSIONS:]], "after": []}


def _within(tail: Sequence[Mapping[str, Any]], depth: int) -> list[dict[str, Any]]:
    """A version whose versions are the `depth`-th level, without the levels past MOST_DEPTH."""
    kept = []
    for message in tail:
        versions = message.get("versions")
        if versions:
            message = dict(message)
            if depth > MOST_DEPTH:
                del message["versions"]
            else:
                message["versions"] = {
                    side: [_within(t, depth + 1) for t in versions.get(side) or ()] for side in ("before", "after")
                }
        kept.append(message)
    return kept


def switched(messages: Sequence[Mapping[str, Any]], position: int, step: int) -> list[dict[str, Any]] | None:
    """The conversation with the version before (-1) or after (+1) the one shown at `position`
    (the index of a message that carries versions); None when there is none that way."""
    if not 0 <= position < len(messages) or step not in (-1, 1):
        return None
    versions = messages[position].get("versions") or {}
    before, after = list(versions.get("before") or ()), list(versions.get("after") or ())
    current = _without_versions(messages[position:])
    if step < 0 and before:
        tail = [dict(m) for m in before.pop()]
        after.insert(0, current)
    elif step > 0 and after:
        tail = [dict(m) for m in after.pop(0)]
        before.append(current)
    else:
        return None
    if not tail:
        return None
    tail[0]["versions"] = {"before": before, "after": after}
    return [*(dict(m) for m in messages[:position]), *tail]


def dropped(messages: Sequence[Mapping[str, Any]], position: int) -> list[dict[str, Any]] | None:
    """The conversation without the version shown at `position`: the one before it shows (or,
    with none before, the one after); None when it is the only one."""
    if not 0 <= position < len(messages):
        return None
    versions = messages[position].get("versions") or {}
    before, after = list(versions.get("before") or ()), list(versions.get("after") or ())
    if not before and not after:
        return None
    tail = [dict(m) for m in (before.pop() if before else after.pop(0))]
    if not tail:
        return None
    if before or after:
        tail[0]["versions"] = {"before": before, "after": after}
    else:
        tail[0].pop("versions", None)
    return [*(dict(m) for m in messages[:position]), *tail]


def as_versions(paths: Sequence[Sequence[Mapping[str, Any]]]) -> list[dict[str, Any]]:
    """Several whole conversations from the same first question (Compare's sides) as one: the
    first shown, the others its versions."""
    kept = [[dict(m) for m in path] for path in paths if path]
    if not kept:
        return []
    shown = kept[0]
    if len(kept) > 1:
        shown[0]["versions"] = {"before": [], "after": kept[1:MOST_VERSIONS]}
    return shown


def kept_versions(messages: Sequence[Mapping[str, Any]], kept: Sequence[Mapping[str, Any]]) -> tuple[dict[str, Any], ...]:
    """`messages` with the versions `kept` (the conversation as saved) had at the questions that
    still read the same and now have none: a chat rebuilt without them (after a restart, or from a
    page's copy) does not lose them."""
    asked = [m for m in kept if m.get("role") == "user"]
    out, number = [], 0
    for message in messages:
        message = dict(message)
        if message.get("role") == "user":
            before = asked[number] if number < len(asked) else None
            number += 1
            if not message.get("versions") and before is not None and before.get("versions"):
                if before.get("content") == message.get("content"):
                    message["versions"] = before["versions"]
        out.append(message)
    return tuple(out)


def answer_ends(messages: Sequence[Mapping[str, Any]]) -> list[int]:
    """Where each answer ends: the last of each run of assistant messages. The page shows a run as
    one answer, with one row of buttons (Gradio groups a role's consecutive messages), so the ⑂ of
    the n-th row means the n-th run, not the n-th assistant message."""
    return [
        n
        for n, m in enumerate(messages)
        if m.get("role") == "assistant" and (n + 1 == len(messages) or messages[n + 1].get("role") != "assistant")
    ]


def path_only(messages: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The path on screen alone (a fork, a share): no other version anywhere in it."""
    return [{k: v for k, v in m.items() if k != "versions"} for m in messages]
