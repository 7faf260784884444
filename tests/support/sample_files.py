"""Files to attach in tests, made on the spot: a PDF with a line of text, a PDF built to be costly
to read, images of any size."""

from __future__ import annotations

import io
import zlib

from PIL import Image


def make_pdf(text: str) -> bytes:
    """A one-page PDF whose page says `text` (Helvetica), with a correct cross-reference table."""
    stream = f"BT /F1 18 Tf 72 720 Td ({text}) Tj ET".encode()
    return _pdf_file(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
            b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        ]
    )


def make_costly_pdf(pages: int, inflated: int = 1_000_000, salt: str = "a") -> bytes:
    """A PDF of a few KB that costs pypdf about 1.5 s of CPU per page and per MB of `inflated`:
    one page, listed `pages` times, whose content is one FlateDecode stream of `inflated` bytes
    of text operators (`salt`: the text shown, to make PDFs that differ)."""
    operators = f"BT /F1 1 Tf 0 0 Td ({salt}) Tj ET\n".encode()
    stream = zlib.compress(operators * (inflated // len(operators)), 9)
    return _pdf_file(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [" + b" ".join([b"5 0 R"] * pages) + b"] /Count %d >>" % pages,
            b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream",
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 3 0 R /Resources << /Font << /F1 4 0 R >> >> >>",
        ]
    )


def _pdf_file(objects: list[bytes]) -> bytes:
    """The objects, numbered from 1 (the first is the catalog), as a PDF file with a correct
    cross-reference table."""
    out, offsets = io.BytesIO(), []
    out.write(b"%PDF-1.4\n")
    for number, body in enumerate(objects, 1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    return out.getvalue()


def image_bytes(size: tuple[int, int], kind: str, mode: str = "RGB") -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size, (200, 30, 30) if mode == "RGB" else (200, 30, 30, 128)).save(buffer, kind)
    return buffer.getvalue()
