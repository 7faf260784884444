"""A browser's storage of conversations without a browser: what READ_STORE_JS sends of it, and
WRITE_JS's rules applied to it (the same rules in Python; the browser tests run the real ones)."""

from __future__ import annotations

import json


class BrowserStorage:
    def __init__(self, legacy: str = "") -> None:
        self.entries: dict[str, str] = {}
        """Conversation id → its entry, as localStorage holds it."""
        self.legacy = legacy
        """Earlier versions' single value (BrowserState's layer), or ""."""

    def held(self) -> str:
        return json.dumps({"legacy": self.legacy, "entries": dict(self.entries)})

    def write(self, payload: str | None) -> None:
        if not payload:
            return
        writes = json.loads(payload)
        for conversation_id, entry in writes["put"].items():
            try:
                held = json.loads(self.entries.get(conversation_id) or "null")
            except ValueError:
                held = None
            at = held.get("at") if isinstance(held, dict) and isinstance(held.get("at"), (int, float)) else None
            if entry.get("forget"):
                if at is not None and held.get("deleted") is True and at <= entry["at"]:
                    del self.entries[conversation_id]
                continue
            if at is not None and (
                at > entry["at"] or (held.get("deleted") is True and not entry.get("deleted") and at >= entry["at"])
            ):
                continue
            self.entries[conversation_id] = json.dumps(entry)
        if writes["retire"]:
            self.legacy = ""
