"""The app's own copy of every picture a model made: providers' picture addresses expire (xAI's
within hours), so each picture is written here as soon as it arrives and shown from here.

Pictures live in the upload folder (`<upload folder>/pictures/`), where the page's attachments
are: Gradio serves that folder, saved conversations stamp and vet its files like attachments
(history/file_stamps.py), and an edit reads a picture back like an attached image. Each file has an
unguessable name. Only what is plainly a picture (PNG, JPEG, WebP or GIF, by its first bytes, not
by what the provider called it, and read through by Pillow) is written. On a public server pictures are kept
UPLOADS_KEEP_HOURS, like uploads: `sweep` deletes older ones, at most once a minute.
"""

from __future__ import annotations

import io
import logging
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

FOLDER = "pictures"
MAX_PICTURE_BYTES = 25_000_000
"""A picture larger than this is not kept (a 2K PNG is about 6 MB)."""
SWEEP_EVERY_S = 60.0

SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "image/png", ".png"),
    (b"\xff\xd8\xff", "image/jpeg", ".jpg"),
    (b"GIF87a", "image/gif", ".gif"),
    (b"GIF89a", "image/gif", ".gif"),
)


def picture_type(data: bytes) -> tuple[str, str] | None:
    """(mime type, file suffix) of a PNG, JPEG, WebP or GIF picture, told by its first bytes; None
    for anything else (an HTML error page, an SVG, which can carry scripts, a truncated file)."""
    for signature, mime, suffix in SIGNATURES:
        if data.startswith(signature):
            return mime, suffix
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp", ".webp"
    return None


def _whole(data: bytes) -> bool:
    """Whether Pillow reads the picture through (its header and structure; a truncated or forged
    file is refused), without decoding its pixels."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            image.verify()
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        return False
    return True


@dataclass(frozen=True)
class KeptPicture:
    path: str
    mime_type: str
    size: int


class NotAPicture(ValueError):
    """The bytes are not a picture this store keeps (`why`: "not_image" or "too_large")."""

    def __init__(self, why: str) -> None:
        super().__init__(why)
        self.why = why


class PictureStore:
    def __init__(self, upload_dir: Path, keep_s: float = 0.0, max_bytes: int = MAX_PICTURE_BYTES) -> None:
        self.root = Path(os.path.abspath(upload_dir)) / FOLDER
        self.keep_s = keep_s
        self.max_bytes = max_bytes
        self._swept_at = 0.0

    def __repr__(self) -> str:
        return f"PictureStore({self.root}, keep_s={self.keep_s:g})"

    def keep(self, data: bytes) -> KeptPicture:
        """Writes the picture under a new unguessable name, or raises NotAPicture. Blocking (a
        file write): call it in a thread."""
        if len(data) > self.max_bytes:
            raise NotAPicture("too_large")
        kind = picture_type(data)
        if kind is None or not _whole(data):
            raise NotAPicture("not_image")
        mime, suffix = kind
        self.root.mkdir(parents=True, exist_ok=True)
        self.sweep()
        path = self.root / f"{secrets.token_hex(16)}{suffix}"
        with open(path, "xb") as file:  # (never over another file)
            file.write(data)
        return KeptPicture(str(path), mime, len(data))

    def sweep(self, now: float | None = None) -> int:
        """Deletes the pictures older than keep_s (none when keep_s is 0); returns how many."""
        now = time.time() if now is None else now
        if not self.keep_s or now - self._swept_at < SWEEP_EVERY_S:
            return 0
        self._swept_at = now
        removed = 0
        try:
            entries = list(os.scandir(self.root))
        except FileNotFoundError:
            return 0
        for entry in entries:
            try:
                if entry.is_file(follow_symlinks=False) and now - entry.stat(follow_symlinks=False).st_mtime > self.keep_s:
                    os.unlink(entry.path)
                    removed += 1
            except OSError:
                continue
        if removed:
            log.info("Deleted %d pictures older than %g h (UPLOADS_KEEP_HOURS).", removed, self.keep_s / 3600)
        return removed
