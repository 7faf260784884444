"""A PDF's text, read in a child process within a budget.

pypdf is pure Python: a tiny PDF can make it work for hours. Its pages may all point at one content
stream that inflates a thousandfold: a 3 KB file whose 4 pages each parse the same 1 MB of text
operators costs 6 s of CPU, and listing that page 500 times, 12 minutes. Read in the app's own
threads, that CPU is taken under the GIL every streamed answer needs, and the reader threads are
everyone's. So each PDF is
read by a child process of its own, which sets its own limits before it reads anything: CPU
seconds (the kernel stops it past them), address space, a lower priority than the app's, and
pypdf's cap on one stream's inflated bytes; the pages' content streams count against a budget of
inflated bytes in all; the parent kills it past a wall-clock limit. Past any of them the PDF is
"too costly to read".

Run as `python -m causerie.files.pdf_text`: a JSON line of parameters, then the PDF, on stdin; a JSON
object on stdout. A process of its own, not multiprocessing's: those import the app's main module
again (app.py builds the whole app), and a forked copy of the app would hold its threads' locks.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

PACKAGE_PARENT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class PdfBudget:
    cpu_s: int = 5
    """CPU seconds (PDF_READ_SECONDS), the interpreter's start included (about 0.2 s)."""
    wall_s: float = 30.0
    """Seconds before the child is killed, whatever it is doing (it may be waiting for a busy CPU:
    the CPU limit is the one that should end a costly PDF)."""
    memory_bytes: int = 1_000_000_000
    stream_bytes: int = 20_000_000
    """One stream, inflated (pypdf's own cap)."""
    content_bytes: int = 50_000_000
    """The content streams of the pages read, inflated, in all: pages may share one stream (a
    500-page book of text has about 2 MB; reading it costs about 2 s of CPU)."""


@dataclass(frozen=True)
class PdfText:
    pages: tuple[str, ...] = ()
    problem: str | None = None
    """None, or why there is no text: pdf_locked, pdf_damaged or pdf_too_costly (wording.py)."""


def pdf_text(data: bytes, max_chars: int, max_pages: int, budget: PdfBudget) -> PdfText:
    """The PDF's text page by page (stopping past `max_chars`, when not 0, and `max_pages`), or why
    not. Blocking (it waits for the child): call it in a thread."""
    header = json.dumps({"max_chars": max_chars, "max_pages": max_pages, "budget": asdict(budget)}).encode()
    child = subprocess.Popen(
        [sys.executable, "-m", "causerie.files.pdf_text"],
        cwd=PACKAGE_PARENT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    try:
        out, _ = child.communicate(header + b"\n" + data, timeout=budget.wall_s)
    except subprocess.TimeoutExpired:
        child.kill()
        child.communicate()
        return PdfText(problem="pdf_too_costly")
    if child.returncode != 0:  # SIGXCPU past the CPU seconds, SIGKILL past the hard limit
        return PdfText(problem="pdf_too_costly")
    try:
        found = json.loads(out)
        return PdfText(tuple(found["pages"]), found["problem"])
    except (ValueError, KeyError, TypeError):
        return PdfText(problem="pdf_damaged")


def _limit(budget: PdfBudget) -> None:
    """In the child, before anything is read: the CPU, memory and priority it may have."""
    try:
        import resource
    except ImportError:  # Windows: the wall-clock limit alone
        return
    for kind, soft, hard in (
        (resource.RLIMIT_CPU, budget.cpu_s, budget.cpu_s + 1),
        (resource.RLIMIT_AS, budget.memory_bytes, budget.memory_bytes),
    ):
        with contextlib.suppress(ValueError, OSError):  # a lower limit set from outside stays
            resource.setrlimit(kind, (soft, hard))
    os.nice(10)  # the app's answers first, whatever this costs


def _stream_caps(budget: PdfBudget):
    """pypdf's caps on inflated streams (pypdf.Configuration since 6.x; module constants before)."""
    try:
        from pypdf import apply_configuration
    except ImportError:
        from pypdf import filters

        filters.ZLIB_MAX_OUTPUT_LENGTH = filters.LZW_MAX_OUTPUT_LENGTH = budget.stream_bytes
        return contextlib.nullcontext()
    caps = (
        "zlib_maximum_output_length",
        "lzw_maximum_output_length",
        "run_length_maximum_output_length",
        "array_based_stream_maximum_output_length",
        "maximum_declared_stream_length",
    )
    return apply_configuration(**dict.fromkeys(caps, budget.stream_bytes))


def _extract(data: bytes, max_chars: int, max_pages: int, budget: PdfBudget) -> dict:
    from pypdf import PdfReader, errors

    # pypdf's own caps (stream_bytes) raise LimitReachedError, where the installed pypdf has it.
    too_costly = (MemoryError, getattr(errors, "LimitReachedError", MemoryError))
    pages: list[str] = []
    try:
        with _stream_caps(budget):
            reader = PdfReader(io.BytesIO(data))
            if reader.is_encrypted:
                return {"problem": "pdf_locked", "pages": []}
            chars = inflated = 0
            for number, page in enumerate(reader.pages):
                if number >= max_pages or (max_chars and chars > max_chars):
                    break  # what is past the limit would be refused anyway: not worth the CPU
                contents = page.get_contents()
                inflated += len(contents.get_data()) if contents is not None else 0
                if inflated > budget.content_bytes:
                    return {"problem": "pdf_too_costly", "pages": []}
                pages.append((page.extract_text() or "").strip())
                chars += len(pages[-1])
    except too_costly:
        return {"problem": "pdf_too_costly", "pages": []}
    except Exception:  # whatever a malformed file makes pypdf raise (the child has nothing else to lose)
        return {"problem": "pdf_damaged", "pages": []}
    return {"problem": None, "pages": pages}


def main() -> None:
    header = sys.stdin.buffer.readline()
    asked = json.loads(header)
    budget = PdfBudget(**asked["budget"])
    _limit(budget)
    found = _extract(sys.stdin.buffer.read(), asked["max_chars"], asked["max_pages"], budget)
    sys.stdout.write(json.dumps(found))


if __name__ == "__main__":
    main()
