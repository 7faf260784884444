"""Files attached to a question: images sent as `image_url` parts, text files and PDFs' text added
to the question with their names.

A turn may carry `files`: references ({path, name, mime}) to files the page uploaded. They are
read here, once per answer (recent reads are remembered), from the upload folder only: a path
anywhere else is refused, whatever the page sent. Images are checked by opening them (Pillow),
turned into JPEG or PNG (what every vision API takes) and downscaled when larger than
MAX_IMAGE_SIDE; PDFs' text comes from pypdf. What cannot be attached is a Failure with the file's
name and the reason.
"""

from __future__ import annotations

import base64
import io
import logging
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .events import Failure

log = logging.getLogger(__name__)

MAX_IMAGE_SIDE = 2048          # px, the long side; larger images are downscaled (providers do it anyway)
MAX_FILES = 10                 # per question
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp"}
TEXT_SUFFIXES = {
    ".txt", ".md", ".markdown", ".csv", ".tsv", ".json", ".jsonl", ".yaml", ".yml", ".toml", ".xml", ".html", ".htm",
    ".css", ".py", ".ipynb", ".js", ".mjs", ".ts", ".tsx", ".jsx", ".java", ".kt", ".c", ".h", ".cc", ".cpp", ".hpp",
    ".cs", ".go", ".rs", ".rb", ".php", ".swift", ".scala", ".r", ".jl", ".m", ".sh", ".bash", ".zsh", ".ps1", ".bat",
    ".sql", ".tex", ".bib", ".ini", ".cfg", ".conf", ".log", ".srt", ".vtt", ".rst", ".org", ".lua", ".pl", ".dart",
}
PDF_SUFFIXES = {".pdf"}
ACCEPTED_SUFFIXES = sorted(IMAGE_SUFFIXES | TEXT_SUFFIXES | PDF_SUFFIXES)
# The size an image counts for against MAX_CONTEXT_CHARS (about what a provider bills it as, in
# characters of text: a 1024 px image is roughly 1,000 tokens).
IMAGE_CHARS = 4000


@dataclass(frozen=True)
class Attached:
    """A file as it goes upstream: `text` (a text file's or PDF's) or `image_url` (a data URL)."""

    name: str
    kind: str  # "image", "text" or "pdf"
    text: str = ""
    image_url: str = ""


class AttachmentReader:
    """Reads attached files from `root` (the upload folder) for the answers of one app."""

    def __init__(self, root: Path, max_bytes: int, remember: int = 64) -> None:
        self.root = root.resolve()
        self.max_bytes = max_bytes
        self._recent: OrderedDict[tuple[str, int, int], Attached] = OrderedDict()
        self._remember = remember

    def read(self, ref: Mapping[str, Any]) -> Attached | Failure:
        """One file, or why it cannot be attached. Blocking (files, Pillow, pypdf): call it in a
        thread."""
        name = str(ref.get("name") or Path(str(ref.get("path") or "file")).name)[:200]
        path = self._inside_root(ref.get("path"))
        if path is None:
            return Failure("attachment", {"why": "gone", "name": name})
        suffix = Path(name).suffix.lower() or path.suffix.lower()
        if suffix not in IMAGE_SUFFIXES | TEXT_SUFFIXES | PDF_SUFFIXES:
            return Failure("attachment", {"why": "type", "name": name, "kind": suffix or "no extension"})
        stat = path.stat()
        if stat.st_size > self.max_bytes:
            return Failure("attachment", {"why": "size", "name": name, "size_mb": stat.st_size / 1e6,
                                          "limit_mb": self.max_bytes / 1e6})
        key = (str(path), stat.st_size, stat.st_mtime_ns)
        if (known := self._recent.get(key)) is not None:
            self._recent.move_to_end(key)
            return known if known.name == name else Attached(name, known.kind, known.text, known.image_url)
        data = path.read_bytes()
        if suffix in IMAGE_SUFFIXES:
            made = _image(name, data)
        elif suffix in PDF_SUFFIXES:
            made = _pdf(name, data)
        else:
            made = _text(name, data)
        if isinstance(made, Attached):
            self._recent[key] = made
            while len(self._recent) > self._remember:
                self._recent.popitem(last=False)
        return made

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


def _image(name: str, data: bytes) -> Attached | Failure:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            if image.format not in ("JPEG", "PNG", "WEBP"):
                return Failure("attachment", {"why": "type", "name": name, "kind": image.format or "image"})
            keep = image.format in ("JPEG", "PNG") and max(image.size) <= MAX_IMAGE_SIDE
            if keep:
                out, mime = data, f"image/{image.format.lower()}"
            else:
                if max(image.size) > MAX_IMAGE_SIDE:
                    image.thumbnail((MAX_IMAGE_SIDE, MAX_IMAGE_SIDE))
                alpha = image.mode in ("RGBA", "LA", "P") and image.format != "JPEG"
                converted = image.convert("RGBA" if alpha else "RGB")
                buffer = io.BytesIO()
                converted.save(buffer, "PNG" if alpha else "JPEG", **({} if alpha else {"quality": 88}))
                out, mime = buffer.getvalue(), "image/png" if alpha else "image/jpeg"
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        return Failure("attachment", {"why": "unreadable", "name": name, "problem": "not_image"})
    return Attached(name, "image", image_url=f"data:{mime};base64,{base64.b64encode(out).decode()}")


def _text(name: str, data: bytes) -> Attached | Failure:
    if b"\x00" in data[:8192]:
        return Failure("attachment", {"why": "unreadable", "name": name, "problem": "not_text"})
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return Attached(name, "text", text=data.decode(encoding))
        except UnicodeDecodeError:
            continue
    return Attached(name, "text", text=data.decode("latin-1"))


def _pdf(name: str, data: bytes) -> Attached | Failure:
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            return Failure("attachment", {"why": "unreadable", "name": name, "problem": "pdf_locked"})
        pages = [(page.extract_text() or "").strip() for page in reader.pages]
    except (PyPdfError, OSError, ValueError, KeyError, TypeError) as exc:
        log.info("A PDF could not be read: %s", type(exc).__name__)
        return Failure("attachment", {"why": "unreadable", "name": name, "problem": "pdf_damaged"})
    text = "\n\n".join(f"[page {n}]\n{page}" for n, page in enumerate(pages, 1) if page)
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
    return [{"type": "text", "text": text or "(see the attached image)"},
            *({"type": "image_url", "image_url": {"url": item.image_url}} for item in images)]


def text_of(content: str | Sequence[Mapping[str, Any]]) -> str:
    """A message content's text (its text parts, for a list)."""
    if isinstance(content, str):
        return content
    return "\n".join(part.get("text") or "" for part in content if part.get("type") == "text")


def content_chars(content: str | Sequence[Mapping[str, Any]]) -> int:
    """The size of a message's content, in characters: its text, and IMAGE_CHARS an image."""
    if isinstance(content, str):
        return len(content)
    return sum(len(part.get("text") or "") if part.get("type") == "text" else IMAGE_CHARS for part in content)
