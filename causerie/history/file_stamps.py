"""Which attached files a conversation may show, read or export: only this app's uploads, and only
to the person who attached them.

A saved conversation's question keeps its files as references ({path, orig_name, mime_type, size}).
Such a reference is data: an import, a copy of someone's browser storage or a store row can hold
any path, and Gradio serves whatever path a chat it is handed holds, from its working and temp
folders (the app's source, the SQLite store, other visitors' uploads), or fetches it when it is a
URL. So a file is stamped when a chat is saved: an HMAC, keyed from HISTORY_SECRET, over its owner
(`run_owner`: the signed-in person, else the browser) and its path. The page's own chats can only
hold uploads: Gradio refuses any path outside its upload folder in what a page sends.

A reference that comes back from data is `kept` only when its stamp is this owner's and its path
is, still, a regular file of the upload folder reached through no symbolic link. Anything else
(another person's file, a relative, `..` or linked path, a URL, a stamp from elsewhere) loses its
path and stamp and keeps its name: the page shows it as no longer available, and nothing reads it.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

NAME_FIELDS = ("orig_name", "mime_type", "size")
"""What a file that is not (or no longer) available keeps: enough to say which one it was."""


class FileStamps:
    def __init__(self, secret: str, root: Path) -> None:
        self._key = hashlib.sha256(f"causerie:files:{secret}".encode()).digest()
        self._roots = (Path(os.path.abspath(root)), root.resolve())

    def __repr__(self) -> str:
        return f"FileStamps(<secret>, {self._roots[1]})"

    def place(self, raw: Any) -> Path | None:
        """A reference's path, when it is an upload: an absolute, normalised path to a regular file
        inside the upload folder, with no symbolic link on the way; None for anything else."""
        if not isinstance(raw, str) or not raw or "\x00" in raw or not os.path.isabs(raw) or os.path.normpath(raw) != raw:
            return None
        path = Path(raw)
        root = next((root for root in self._roots if path.is_relative_to(root)), None)
        if root is None or path == root:
            return None
        try:
            real = path.resolve(strict=True)
        except (OSError, RuntimeError):
            return None
        if real != self._roots[1] / path.relative_to(root) or not real.is_file():
            return None
        return path

    def _stamp(self, owner: str, path: Path) -> str:
        return hmac.new(self._key, f"{owner}\x00{path}".encode(), hashlib.sha256).hexdigest()

    def kept(self, owner: str, file: Mapping[str, Any]) -> bool:
        """Whether this owner may be shown, read or sent this saved file."""
        path, stamp = self.place(file.get("path")), file.get("stamp")
        return path is not None and isinstance(stamp, str) and hmac.compare_digest(stamp, self._stamp(owner, path))

    def stamped(self, owner: str, files: Iterable[Mapping[str, Any]]) -> list[dict]:
        """Files of a chat the page sent or was shown (uploads), as this owner's conversation keeps
        them: stamped when they are uploads still there, else by name only."""
        result = []
        for file in files:
            path = self.place(file.get("path"))
            result.append(
                {**named(file), "path": str(path), "stamp": self._stamp(owner, path)} if path is not None else named(file)
            )
        return result

    def vetted(self, owner: str, files: Iterable[Mapping[str, Any]]) -> list[dict]:
        """Files from data (a saved conversation, an import, an export): each as it is when this
        owner may have it, else by name only."""
        return [dict(file) if self.kept(owner, file) else named(file) for file in files]

    def messages(self, owner: str, messages: Iterable[Mapping[str, Any]], *, stamp: bool = False) -> tuple[dict, ...]:
        """A conversation's messages with their questions' files vetted (or, `stamp`, stamped)."""
        check = self.stamped if stamp else self.vetted

        def one(message: Mapping[str, Any]) -> dict:
            kept = {**message, "files": check(owner, message["files"])} if message.get("files") else dict(message)
            if isinstance(versions := kept.get("versions"), Mapping):  # (the other paths: history/versions.py)
                kept["versions"] = {
                    side: [list(self.messages(owner, tail, stamp=stamp)) for tail in versions.get(side) or ()]
                    for side in ("before", "after")
                }
            return kept

        return tuple(one(m) for m in messages)


def named(file: Mapping[str, Any]) -> dict:
    """A file by its name alone (no path, no stamp): shown as no longer available."""
    kept = {name: file[name] for name in NAME_FIELDS if isinstance(file.get(name), str | int)}
    if not isinstance(kept.get("orig_name"), str) and isinstance(path := file.get("path"), str):
        kept["orig_name"] = path.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1][:200] or "file"
    return kept
