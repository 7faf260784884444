"""One person's conversations as a collection: most recent first, searched, capped.

The browser's list and the server store apply the same caps the same way (`make_room`): when a
save would go over the number or the size allowed, the oldest other conversations go, and the
person is told which, by title. Nearing the caps, they are told before anything goes.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ..config.history_settings import HistoryLimits
from .conversations import Conversation, read_one

NEARLY_FULL = 0.9
MAX_TOMBSTONES = 1000


@dataclass(frozen=True)
class Summary:
    id: str
    title: str
    updated_at: float
    size: int
    pinned: bool = False


def listed_first(pinned: bool, updated_at: float) -> tuple:
    """The list's order, as a sort key: pinned conversations first, then the most recent."""
    return (not pinned, -updated_at)


@dataclass(frozen=True)
class HistoryNotice:
    """Something the person should know about their saved conversations; worded in wording.py."""

    kind: str
    params: dict[str, Any]

    @property
    def is_warning(self) -> bool:
        """Whether something went wrong (a warning), or it is news the person asked for (an
        import that worked)."""
        return self.kind not in {"imported"}


def size_of(conversation: Conversation) -> int:
    """Characters of text (what a browser's storage counts), plus a little per message; cheap
    enough to run over every kept conversation at each save."""
    texts = [conversation.title, *conversation.settings.values()]
    texts += [value for message in conversation.messages for value in message.values() if isinstance(value, str)]
    return sum(map(len, texts)) + 40 * len(conversation.messages) + 200


def _megabytes(size: int) -> str:
    return f"{size / 1_000_000:.1f}"


def make_room(
    kept: Iterable[Summary], saving: Summary, limits: HistoryLimits, reserved: tuple[int, int] = (0, 0)
) -> tuple[list[str], list[HistoryNotice]]:
    """Which conversations to drop so that `saving` fits, and what to tell the person. A
    conversation too large on its own is not saved (nothing else is dropped for it). `reserved`
    (a count and a size) is held beside them and never dropped: conversations kept unopened."""
    if saving.size > limits.max_bytes:
        return [], [HistoryNotice("history_too_large", {"size": _megabytes(saving.size), "limit": _megabytes(limits.max_bytes)})]
    # The oldest go first; pinned ones only once every other is gone.
    others = sorted((s for s in kept if s.id != saving.id), key=lambda s: (s.pinned, s.updated_at))
    count, total = len(others) + 1 + reserved[0], sum(s.size for s in others) + saving.size + reserved[1]
    dropped: list[Summary] = []
    while others and (count > limits.max_conversations or total > limits.max_bytes):
        oldest = others.pop(0)
        dropped.append(oldest)
        count, total = count - 1, total - oldest.size
    notices = []
    if dropped:
        notices.append(
            HistoryNotice(
                "history_dropped",
                {
                    "titles": ", ".join(f"“{s.title}”" for s in dropped),
                    "count": limits.max_conversations,
                    "mb": _megabytes(limits.max_bytes),
                },
            )
        )
    elif count >= NEARLY_FULL * limits.max_conversations or total >= NEARLY_FULL * limits.max_bytes:
        notices.append(
            HistoryNotice(
                "history_nearly_full",
                {"count": count, "max": limits.max_conversations, "size": _megabytes(total), "mb": _megabytes(limits.max_bytes)},
            )
        )
    return [s.id for s in dropped], notices


def matches(text: str, query: str) -> bool:
    words = query.casefold().split()
    folded = text.casefold()
    return all(word in folded for word in words)


class Library:
    """The conversations a browser keeps (the server store has the same operations in SQL).

    Two tabs of one browser each hold a copy; `merge` brings two copies together, conversation
    by conversation (the one changed last wins), and remembers deletions (tombstones) so that a
    conversation deleted in one tab does not come back from the other.
    """

    def __init__(self, conversations: Iterable[Conversation] = (), deleted: dict[str, float] | None = None) -> None:
        self._by_id = {c.id: c for c in conversations}
        self._deleted = dict(deleted or {})

    def __len__(self) -> int:
        return len(self._by_id)

    def get(self, conversation_id: str) -> Conversation | None:
        return self._by_id.get(conversation_id)

    def all(self) -> list[Conversation]:
        return sorted(self._by_id.values(), key=lambda c: listed_first(c.pinned, c.updated_at))

    def summaries(self, query: str = "") -> list[Summary]:
        return [
            Summary(c.id, c.shown_title, c.updated_at, 0, c.pinned) for c in self.all() if not query or matches(c.text(), query)
        ]

    def tombstones(self) -> dict[str, float]:
        """Deleted conversations and when (a copy)."""
        return dict(self._deleted)

    def put(self, conversation: Conversation, limits: HistoryLimits, reserved: tuple[int, int] = (0, 0)) -> list[HistoryNotice]:
        kept = [Summary(c.id, c.shown_title, c.updated_at, size_of(c), c.pinned) for c in self._by_id.values()]
        saving = Summary(conversation.id, conversation.shown_title, conversation.updated_at, size_of(conversation))
        dropped, notices = make_room(kept, saving, limits, reserved)
        if any(n.kind == "history_too_large" for n in notices):
            return notices
        for conversation_id in dropped:
            self.delete(conversation_id, at=conversation.updated_at)
        self._deleted.pop(conversation.id, None)
        self._by_id[conversation.id] = conversation
        return notices

    def delete(self, conversation_id: str, at: float | None = None) -> None:
        self._by_id.pop(conversation_id, None)
        self._deleted[conversation_id] = time.time() if at is None else at
        if len(self._deleted) > MAX_TOMBSTONES:
            for old in sorted(self._deleted, key=self._deleted.__getitem__)[: len(self._deleted) - MAX_TOMBSTONES]:
                del self._deleted[old]

    def merge(self, other: Library) -> None:
        for conversation_id, at in other._deleted.items():
            self._deleted[conversation_id] = max(at, self._deleted.get(conversation_id, 0.0))
        for conversation in other._by_id.values():
            mine = self._by_id.get(conversation.id)
            if mine is None or conversation.updated_at > mine.updated_at:
                self._by_id[conversation.id] = conversation
        for conversation_id, at in self._deleted.items():
            kept = self._by_id.get(conversation_id)
            if kept is not None and kept.updated_at <= at:
                del self._by_id[conversation_id]

    def to_json(self) -> str:
        return json.dumps(
            {"version": 1, "conversations": [c.to_dict() for c in self._by_id.values()], "deleted": self._deleted},
            ensure_ascii=False,
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, text: str) -> Library:
        """Raises ValueError when the text is not a saved library."""
        data = json.loads(text)
        if not isinstance(data, dict) or not isinstance(data.get("conversations"), list):
            raise ValueError("not a list of conversations")
        deleted = data.get("deleted") if isinstance(data.get("deleted"), dict) else {}
        return cls(
            (read_one(item) for item in data["conversations"]),
            {k: float(v) for k, v in deleted.items() if isinstance(v, (int, float)) and not isinstance(v, bool)},
        )


class LibraryReads:
    """A shelf's reads, for a shelf whose conversations are all in its `library` (the browser's,
    and the page's while the store is away)."""

    library: Library

    async def summaries(self, query: str = "") -> list[Summary]:
        return self.library.summaries(query)

    async def get(self, conversation_id: str) -> Conversation | None:
        return self.library.get(conversation_id)

    async def all(self) -> list[Conversation]:
        return self.library.all()
