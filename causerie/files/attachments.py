"""Files attached to a question: images sent as `image_url` parts, text files and PDFs' text added
to the question with their names.

A turn may carry `files`: references ({path, name, mime}) to files the page uploaded. They are
read here, once per answer (recent reads are remembered), from the upload folder only: a path
anywhere else is refused, whatever the page sent. Images are checked by opening them (Pillow),
turned into JPEG or PNG (what every vision API takes) and downscaled when larger than
MAX_IMAGE_SIDE; PDFs' text comes from pypdf, in a child process within a budget (pdf_text.py).
What cannot be attached is a Failure with the file's name and the reason; it is remembered like
what can, so that asking again does not pay for it again.
"""

from __future__ import annotations

import asyncio
import base64
import io
import logging
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..events import Failure
from ..lru_cache import LRUCache
from .pdf_text import PdfBudget, pdf_text

log = logging.getLogger(__name__)

MAX_IMAGE_SIDE = 2048  # px, the long side; larger images are downscaled (providers do it anyway)
MAX_IMAGE_PIXELS = 50_000_000  # larger images are refused before they are decoded (a 50 MP photo is 7,000 × 7,000 px)
MAX_IMAGE_BYTES = 4_000_000  # an image kept as it was is re-encoded above this (providers cap an image at 5-20 MB)
MAX_PDF_PAGES = 500  # pages read from a PDF; text past the question's limit is not extracted either
MAX_FILES = 10  # per question
REMEMBERED_BYTES = 64_000_000  # what the reader keeps of recent files (their text and images), in all
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp"}
TEXT_SUFFIXES = {
    ".txt",
    ".md",
    ".markdown",
    ".csv",
    ".tsv",
    ".json",
    ".jsonl",
    ".yaml",
    ".yml",
    ".toml",
    ".xml",
    ".html",
    ".htm",
    ".css",
    ".py",
    ".ipynb",
    ".js",
    ".mjs",
    ".ts",
    ".tsx",
    ".jsx",
    ".java",
    ".kt",
    ".c",
    ".h",
    ".cc",
    ".cpp",
    ".hpp",
    ".cs",
    ".go",
    ".rs",
    ".rb",
    ".php",
    ".swift",
    ".scala",
    ".r",
    ".jl",
    ".m",
    ".sh",
    ".bash",
    ".zsh",
    ".ps1",
    ".bat",
    ".sql",
    ".tex",
    ".bib",
    ".ini",
    ".cfg",
    ".conf",
    ".log",
    ".srt",
    ".vtt",
    ".rst",
    ".org",
    ".lua",
    ".pl",
    ".dart",
}
PDF_SUFFIXES = {".pdf"}
ACCEPTED_SUFFIXES = sorted(IMAGE_SUFFIXES | TEXT_SUFFIXES | PDF_SUFFIXES)
# The size an image counts for against MAX_CONTEXT_CHARS (about what a provider bills it as, in
# characters of text: a 1024 px image is roughly 1,000 tokens).
IMAGE_CHARS = 4000
FAILURE_BYTES = 200
"""What a remembered Failure counts for against REMEMBERED_BYTES."""
READER_THREADS = 2
"""Questions whose files are read at once, for everyone (a PDF's own work is in a child process)."""


@dataclass(frozen=True)
class Attached:
    """A file as it goes upstream: `text` (a text file's or PDF's) or `image_url` (a data URL)."""

    name: str
    kind: str  # "image", "text" or "pdf"
    text: str = ""
    image_url: str = ""


class AttachmentReader:
    """Reads attached files from `root` (the upload folder) for the answers of one app. Files of
    earlier turns are read again each turn: the last REMEMBERED_BYTES of what was read are kept."""

    def __init__(
        self, root: Path, max_bytes: int, remember_bytes: int = REMEMBERED_BYTES, pdf_budget: PdfBudget = PdfBudget()
    ) -> None:
        self.root = root.resolve()
        self.max_bytes = max_bytes
        self.pdf_budget = pdf_budget
        self._recent: LRUCache[Attached | Failure] = LRUCache(remember_bytes, _remembered_size, largest=remember_bytes // 4)

    def read(self, ref: Mapping[str, Any], max_chars: int = 0) -> Attached | Failure:
        """One file, or why it cannot be attached; a PDF's text stops being extracted past
        `max_chars` (0: no limit). Blocking (files, Pillow, pypdf): call it in a thread."""
        name = str(ref.get("name") or Path(str(ref.get("path") or "file")).name)[:200]
        path = self._inside_root(ref.get("path"))
        if path is None:
            return Failure("attachment", {"why": "gone", "name": name})
        suffix = Path(name).suffix.lower() or path.suffix.lower()
        if suffix not in IMAGE_SUFFIXES | TEXT_SUFFIXES | PDF_SUFFIXES:
            return Failure("attachment", {"why": "type", "name": name, "kind": suffix or "no extension"})
        stat = path.stat()
        if stat.st_size > self.max_bytes:
            return Failure(
                "attachment", {"why": "size", "name": name, "size_mb": stat.st_size / 1e6, "limit_mb": self.max_bytes / 1e6}
            )
        key = (str(path), stat.st_size, stat.st_mtime_ns)
        if (known := self._recent.get(key)) is not None:
            return _named(known, name)
        data = path.read_bytes()
        if suffix in IMAGE_SUFFIXES:
            made = _image(name, data)
        elif suffix in PDF_SUFFIXES:
            made = _pdf(name, data, max_chars, self.pdf_budget)
        else:
            made = _text(name, data)
        self._recent.put(key, made)
        return made

    def size_on_disk(self, refs: Iterable[Mapping[str, Any]]) -> int:
        """How many bytes these files take, counting only files of the upload folder, each at
        most max_bytes (what reserving tokens for them may assume before reading them)."""
        paths = (self._inside_root(ref.get("path")) for ref in refs)
        return sum(min(path.stat().st_size, self.max_bytes) for path in paths if path is not None)

    def _inside_root(self, raw: Any) -> Path | None:
        """The file, if it is a file inside the upload folder; None otherwise (gone, or never ours)."""
        if not isinstance(raw, str) or not raw:
            return None
        try:
            path = Path(raw).resolve()
        except (OSError, ValueError):
            return None
        if not path.is_relative_to(self.root) or not path.is_file():
            return None
        return path


class ReadingLanes:
    """Attached files are read READER_THREADS questions at a time, whoever asks, and each visitor's
    questions one after another (their lane): a visitor who sends costly files waits for their
    own and holds one reader at most, so they cannot stall everyone else's files."""

    def __init__(self, reader: AttachmentReader, threads: int = READER_THREADS) -> None:
        self.reader = reader
        self._threads = ThreadPoolExecutor(threads, thread_name_prefix="attachments")
        self._lanes: dict[str, tuple[asyncio.Lock, int]] = {}
        """A lock and how many questions hold or wait for it, per lane (let go when none do)."""

    async def read(self, lane: str, refs: Sequence[tuple[bool, Mapping[str, Any]]], max_chars: int) -> list[Attached | Failure]:
        """The files (each with whether it is the question's own), in order; reading stops at the
        first of the question's own that fails: the question is refused for it."""
        lock, users = self._lanes.get(lane) or (asyncio.Lock(), 0)
        self._lanes[lane] = (lock, users + 1)
        try:
            async with lock:
                return await asyncio.get_running_loop().run_in_executor(self._threads, self._read_all, refs, max_chars)
        finally:
            lock, users = self._lanes[lane]
            if users == 1:
                del self._lanes[lane]
            else:
                self._lanes[lane] = (lock, users - 1)

    def _read_all(self, refs: Sequence[tuple[bool, Mapping[str, Any]]], max_chars: int) -> list[Attached | Failure]:
        read: list[Attached | Failure] = []
        for own, ref in refs:
            read.append(self.reader.read(ref, max_chars))
            if own and isinstance(read[-1], Failure):
                break
        return read


def _remembered_size(item: Attached | Failure) -> int:
    return len(item.text) + len(item.image_url) if isinstance(item, Attached) else FAILURE_BYTES


def _named(item: Attached | Failure, name: str) -> Attached | Failure:
    """A remembered reading, under the name the file is attached with this time."""
    if isinstance(item, Failure):
        return item if item.params.get("name") == name else Failure(item.kind, {**item.params, "name": name})
    return item if item.name == name else Attached(name, item.kind, item.text, item.image_url)


def _image(name: str, data: bytes) -> Attached | Failure:
    """A JPEG or PNG every vision API takes: kept as it is when it is small, upright and carries
    no metadata (a phone's photo carries its place); else turned upright, downscaled to
    MAX_IMAGE_SIDE and re-encoded without metadata."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            kind = "JPEG" if image.format == "MPO" else image.format  # MPO: a phone's JPEG with extra pictures
            if kind not in ("JPEG", "PNG", "WEBP"):
                return Failure("attachment", {"why": "type", "name": name, "kind": image.format or "image"})
            width, height = image.size
            if width * height > MAX_IMAGE_PIXELS:
                return Failure(
                    "attachment",
                    {"why": "pixels", "name": name, "width": width, "height": height, "limit_mp": MAX_IMAGE_PIXELS // 1_000_000},
                )
            if (
                kind in ("JPEG", "PNG")
                and max(image.size) <= MAX_IMAGE_SIDE
                and len(data) <= MAX_IMAGE_BYTES
                and not image.getexif()
                and image.format != "MPO"
            ):
                return Attached(name, "image", image_url=f"data:image/{kind.lower()};base64,{base64.b64encode(data).decode()}")
            if kind == "JPEG":
                image.draft("RGB", (MAX_IMAGE_SIDE, MAX_IMAGE_SIDE))  # decodes at a fraction of the size, when it can
            upright = ImageOps.exif_transpose(image)
            upright.thumbnail((MAX_IMAGE_SIDE, MAX_IMAGE_SIDE))
            alpha = upright.mode in ("RGBA", "LA", "PA") or (upright.mode == "P" and "transparency" in upright.info)
            buffer = io.BytesIO()
            if alpha:
                upright.convert("RGBA").save(buffer, "PNG")
            else:
                upright.convert("RGB").save(buffer, "JPEG", quality=88)
            mime = "image/png" if alpha else "image/jpeg"
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        return Failure("attachment", {"why": "unreadable", "name": name, "problem": "not_image"})
    return Attached(name, "image", image_url=f"data:{mime};base64,{base64.b64encode(buffer.getvalue()).decode()}")


def _text(name: str, data: bytes) -> Attached | Failure:
    if b"\x00" in data[:8192]:
        return Failure("attachment", {"why": "unreadable", "name": name, "problem": "not_text"})
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return Attached(name, "text", text=data.decode(encoding))
        except UnicodeDecodeError:
            continue
    return Attached(name, "text", text=data.decode("latin-1"))


def _pdf(name: str, data: bytes, max_chars: int = 0, budget: PdfBudget = PdfBudget()) -> Attached | Failure:
    read = pdf_text(data, max_chars, MAX_PDF_PAGES, budget)
    if read.problem is not None:
        log.info("A PDF could not be read: %s", read.problem)
        return Failure("attachment", {"why": "unreadable", "name": name, "problem": read.problem})
    text = "\n\n".join(f"[page {n}]\n{page}" for n, page in enumerate(read.pages, 1) if page)
    if not text:
        return Failure("attachment", {"why": "no_text", "name": name})
    return Attached(name, "pdf", text=text)


def with_files(question: str, files: Sequence[Attached]) -> str | list[dict]:
    """A question with its attachments as a message's content: the text of text files and PDFs
    after the question, each under its name; images as `image_url` parts after the text."""
    blocks = [question] if question.strip() else []
    for item in files:
        if item.kind != "image":
            fence = "````" if "```" in item.text else "```"
            blocks.append(f"Attached file {item.name}:\n{fence}\n{item.text.rstrip()}\n{fence}")
    text = "\n\n".join(blocks)
    images = [item for item in files if item.kind == "image"]
    if not images:
        return text
    return [
        {"type": "text", "text": text or "(see the attached image)"},
        *({"type": "image_url", "image_url": {"url": item.image_url}} for item in images),
    ]


def text_of(content: str | Sequence[Mapping[str, Any]]) -> str:
    """A message content's text (its text parts, for a list)."""
    if isinstance(content, str):
        return content
    return "\n".join(part.get("text") or "" for part in content if part.get("type") == "text")


def without_images(messages: list[dict], note: str) -> list[dict]:
    """The messages with their images left out, `note` said in their place (for a model that
    reads text only, when the images are in earlier turns)."""
    result = []
    for message in messages:
        content = message["content"]
        if isinstance(content, list) and any(part.get("type") == "image_url" for part in content):
            text = text_of(content)
            dropped = sum(part.get("type") == "image_url" for part in content)
            content = f"{text}\n\n({dropped} {note})".strip()
            message = {**message, "content": content}
        result.append(message)
    return result


def content_chars(content: str | Sequence[Mapping[str, Any]]) -> int:
    """The size of a message's content, in characters: its text, and IMAGE_CHARS an image."""
    if isinstance(content, str):
        return len(content)
    return sum(len(part.get("text") or "") if part.get("type") == "text" else IMAGE_CHARS for part in content)
