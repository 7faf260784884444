"""Conversations kept in a browser: one localStorage entry per conversation, sealed on its own.

Two tabs of one browser save at any moment, and a browser writes what a page gives it whenever
that arrives (ui/browser_state.py): a single value holding every conversation, read by one tab
and written back later, undoes what another tab wrote in between. So each conversation has its
own entry, `{"at": updated_at, "sealed": token}` (a deleted one `{"at": deleted_at, "deleted":
true}`), and the page writes an entry only if what the browser holds for it is not newer, in one
synchronous step (WRITE_JS). A save then touches only the conversations it changed, and no
interleaving of two tabs can undo the other's.

The shelf is built from what the browser holds now, the entries this page gave it last (they may
not have reached it yet), and the single value of earlier versions (read, written out as entries,
then removed). It works in memory and hands back the entries to write (`writes`). An entry this
secret cannot open is left where it is, never rewritten or removed: it opens again once the
server has the secret that sealed it (HISTORY_SECRET, or one of HISTORY_OLD_SECRETS).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping

from ..config.history_settings import HistoryLimits
from .conversations import ID_PATTERN, Conversation, UnreadableFile, is_temporary, read_one
from .library import MAX_TOMBSTONES, HistoryNotice, Library, LibraryReads
from .sealing import Sealer, Unreadable

log = logging.getLogger(__name__)
MAX_ENTRIES = 10_000
"""Entries read from one browser at most (a page sends what it holds: bound the work)."""


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


class BrowserShelf(LibraryReads):
    """One request's view of a browser's conversations; answers the same calls as the other shelves."""

    def __init__(
        self, entries: Mapping[str, str], legacy: object, sealer: Sealer, limits: HistoryLimits, sent: Library | None = None
    ) -> None:
        self._sealer, self.limits = sealer, limits
        self.notices: list[HistoryNotice] = []
        self._held: dict[str, tuple[float, bool]] = {}
        """What the browser holds, by conversation, that this shelf opened: (at, deleted)."""
        self._unopened: dict[str, tuple[float, int]] = {}
        """Entries no secret here opens, by conversation: (at, characters). Never written over."""
        self._deleted_here: set[str] = set()
        self._old_secret: set[str] = set()
        """Conversations an older secret sealed: sealed again with the current one at the next write."""
        self._legacy_opened = False
        self._legacy_unopened = 0
        self.sent = Library()
        """What `writes` handed over (merged into the page's next request: it may read the browser
        before the browser has written it)."""
        conversations, deleted = [], {}
        for conversation_id, raw in list(entries.items())[:MAX_ENTRIES]:
            if isinstance(conversation_id, str) and ID_PATTERN.match(conversation_id) and isinstance(raw, str):
                self._take(conversation_id, raw, conversations, deleted)
        self.library = Library()
        self.library.merge(Library(conversations, deleted))
        self._take_legacy(legacy)
        if sent is not None:
            self.library.merge(sent)
            self._deleted_here.update(sent.tombstones())

    def _take(self, conversation_id: str, raw: str, conversations: list, deleted: dict) -> None:
        try:
            entry = json.loads(raw)
        except (ValueError, RecursionError):
            entry = None
        at = _number(entry.get("at")) if isinstance(entry, dict) else None
        if at is None:
            self._unreadable(conversation_id, float("inf"), len(raw), "not an entry")
            return
        if entry.get("deleted") is True:
            self._held[conversation_id] = (at, True)
            deleted[conversation_id] = at
            return
        try:
            text, old = self._sealer.open_noting_age(entry.get("sealed"))
            conversation = read_one(json.loads(text))
        except (Unreadable, UnreadableFile, ValueError, RecursionError) as exc:
            self._unreadable(conversation_id, at, len(raw), str(exc))
            return
        if conversation.id != conversation_id:
            self._unreadable(conversation_id, at, len(raw), "filed under another conversation")
            return
        self._held[conversation_id] = (at, False)
        if old:
            self._old_secret.add(conversation_id)
        conversations.append(conversation)

    def _take_legacy(self, value: object) -> None:
        """The single value earlier versions kept: `{"sealed": token}`, maybe with `"unopened"`."""
        if value in (None, "", {}):
            return
        tokens = [value.get(name) for name in ("sealed", "unopened")] if isinstance(value, dict) else []
        tokens = [t for t in tokens if isinstance(t, str)]
        if not tokens:
            self._unreadable("", 0.0, 0, "not a sealed value")
            return
        for token in tokens:
            try:
                self.library.merge(Library.from_json(self._sealer.open(token)))
            except (Unreadable, ValueError, RecursionError) as exc:
                self._unreadable("", 0.0, 0, str(exc))
                self._legacy_unopened += len(token)
        self._legacy_opened = not self._legacy_unopened

    def _unreadable(self, conversation_id: str, at: float, size: int, why: str) -> None:
        log.warning(
            "a browser's saved conversation could not be opened (%s); it is kept unopened "
            "(if HISTORY_SECRET changed, list the previous one in HISTORY_OLD_SECRETS)",
            why,
        )
        if conversation_id:
            self._unopened[conversation_id] = (at, size)
        if not any(n.kind == "history_unreadable" for n in self.notices):
            self.notices.append(HistoryNotice("history_unreadable", {}))

    # -- the calls every shelf answers --------------------------------------------------------------

    async def put(self, conversation: Conversation) -> list[HistoryNotice]:
        if is_temporary(conversation.id):  # a temporary chat is kept nowhere
            return []
        if conversation.id in self._unopened:  # never over what another secret sealed
            return []
        unopened = list(self._unopened.values())
        # What is kept unopened counts against the caps (it is in the browser too) but is never dropped.
        reserved = (len(unopened), sum(size for _, size in unopened) + self._legacy_unopened)
        before = set(self.library.tombstones())
        notices = self.library.put(conversation, self.limits, reserved=reserved)
        self._deleted_here.update(set(self.library.tombstones()) - before)
        return notices

    async def delete(self, conversation_id: str) -> None:
        self.library.delete(conversation_id)
        self._deleted_here.add(conversation_id)

    # -- what to write ----------------------------------------------------------------------------

    def _stale(self, conversation: Conversation) -> bool:
        held = self._held.get(conversation.id)
        if conversation.id in self._unopened:
            return False
        return held is None or held[1] or held[0] < conversation.updated_at or conversation.id in self._old_secret

    def writes(self) -> dict | None:
        """The entries the browser should write (WRITE_JS), or None when it holds everything
        already: each conversation it lacks or holds older, each deletion it has not seen, the
        oldest deletions beyond MAX_TOMBSTONES to forget, and whether to remove the earlier
        versions' single value (once every conversation in it is written here). What is handed
        over is also kept as `sent`, for the page's next request."""
        put: dict[str, dict] = {}
        written: list[Conversation] = []
        for conversation in self.library.all():
            if self._stale(conversation):
                written.append(conversation)
                put[conversation.id] = {
                    "at": conversation.updated_at,
                    "sealed": self._sealer.seal(json.dumps(conversation.to_dict(), ensure_ascii=False)),
                }
        deleted: dict[str, float] = {}
        for conversation_id, at in self.library.tombstones().items():
            held = self._held.get(conversation_id)
            if held is not None and held[1] and held[0] >= at:
                continue
            if (held is not None and not held[1]) or conversation_id in self._deleted_here:
                put[conversation_id] = {"at": at, "deleted": True}
                deleted[conversation_id] = at
        held_deletions = sorted((at, i) for i, (at, gone) in self._held.items() if gone and i not in put)
        for at, conversation_id in held_deletions[: max(0, len(held_deletions) - MAX_TOMBSTONES)]:
            put[conversation_id] = {"at": at, "forget": True}
        self.sent = Library(written, deleted)
        if not put and not self._legacy_opened:
            return None
        return {"put": put, "retire": self._legacy_opened}
