"""Attachments in the core: images, text files and PDFs read from the upload folder and sent as a
vision API takes them; refusals named. Real HTTP to the scripted server, which checks the
`image_url` parts as a provider does."""

from __future__ import annotations

import asyncio
import io
import resource
import time
from dataclasses import replace
from pathlib import Path

import pytest
from PIL import Image

from causerie.answering.limits import Visitor
from causerie.answering.options import ChatOptions
from causerie.answering.service import ChatService
from causerie.config.settings import load_settings, upload_folder
from causerie.endpoints.model_info import ModelInfo
from causerie.events import Failure

from support.apps import run_async
from support.keys import SERVER_KEY
from support.sample_files import image_bytes, make_costly_pdf, make_pdf
from support.scripted_server import image_parts


@pytest.fixture
def uploads(tmp_path):
    folder = tmp_path / "gradio"
    folder.mkdir()
    return folder


def service_for(scripted, uploads: Path, **env) -> ChatService:
    settings = load_settings({"OPENAI_API_KEY": SERVER_KEY, "OPENAI_BASE_URL": scripted.base_url, **env})
    return ChatService(replace(settings, upload_dir=uploads))


def put(uploads: Path, name: str, data: bytes) -> dict:
    path = uploads / "abc123" / name
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(data)
    return {"path": str(path), "name": name}


def ask(service: ChatService, turns: list, model: str = "model-a") -> list:
    async def go():
        try:
            return [e async for e in service.stream_answer(ChatOptions("openai", model), turns, Visitor(session="s1"))]
        finally:
            await service.aclose()

    return run_async(go())


def failure_of(events):
    return next((e for e in events if type(e) is Failure), None)


def test_the_upload_folder_is_gradios():
    from gradio.utils import get_upload_folder

    assert upload_folder() == Path(get_upload_folder())


def test_images_are_sent_as_image_url_parts_downscaled_and_as_jpeg_or_png(scripted, uploads):
    service = service_for(scripted, uploads)
    files = [
        put(uploads, "wide.png", image_bytes((3000, 1000), "PNG")),
        put(uploads, "photo.webp", image_bytes((400, 300), "WEBP")),
        put(uploads, "alpha.webp", image_bytes((64, 64), "WEBP", "RGBA")),
        put(uploads, "small.jpg", image_bytes((100, 100), "JPEG")),
    ]
    events = ask(service, [{"role": "user", "content": "What is in these?", "files": files}])
    assert failure_of(events) is None  # the scripted server answers 400 to an image it cannot read
    body = scripted.requests[-1]["body"]
    content = body["messages"][-1]["content"]
    assert content[0] == {"type": "text", "text": "What is in these?"}
    assert [p["type"] for p in content[1:]] == ["image_url"] * 4
    sizes = [Image.open(io.BytesIO(raw)).size for raw in image_parts(body)]
    formats = [Image.open(io.BytesIO(raw)).format for raw in image_parts(body)]
    assert sizes == [(2048, 683), (400, 300), (64, 64), (100, 100)]
    assert formats == ["JPEG", "JPEG", "PNG", "JPEG"]  # webp is not taken everywhere; alpha stays PNG


def test_text_files_and_pdfs_are_added_to_the_question_with_their_names(scripted, uploads):
    service = service_for(scripted, uploads)
    files = [
        put(uploads, "notes.md", "# Plan\n- un\n- été\n".encode()),
        put(uploads, "data.csv", "a,b\ncafé,2\n".encode("cp1252")),
        put(uploads, "report.pdf", make_pdf("Bonjour du PDF")),
    ]
    assert failure_of(ask(service, [{"role": "user", "content": "Summarise.", "files": files}])) is None
    sent = scripted.requests[-1]["body"]["messages"][-1]["content"]
    assert isinstance(sent, str)
    assert sent.startswith("Summarise.\n\nAttached file notes.md:\n```\n# Plan\n- un\n- été\n```")
    assert "Attached file data.csv:\n```\na,b\ncafé,2\n```" in sent
    assert "Attached file report.pdf:\n```\n[page 1]\nBonjour du PDF\n```" in sent


@pytest.mark.parametrize(
    "name, data, why",
    [
        ("tool.exe", b"MZ\x90\x00", "type"),
        ("fake.png", b"not an image at all", "unreadable"),
        ("binary.txt", b"\x00\x01\x02 text", "unreadable"),
        ("empty.pdf", b"%PDF-1.4\n%%EOF", "unreadable"),
        ("big.txt", b"a" * 2_000_000, "size"),
    ],
)
def test_what_cannot_be_attached_is_refused_by_name_and_nothing_is_sent(scripted, uploads, name, data, why):
    service = service_for(scripted, uploads, MAX_ATTACHMENT_MB="1")
    failure = failure_of(ask(service, [{"role": "user", "content": "Look", "files": [put(uploads, name, data)]}]))
    assert failure is not None and failure.kind == "attachment" and failure.params["why"] == why
    assert name in failure.message
    assert scripted.requests == []


def test_a_path_outside_the_upload_folder_is_never_read(scripted, uploads, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("the owner's secret")
    service = service_for(scripted, uploads)
    for path in (str(secret), str(uploads / ".." / "secret.txt"), "/etc/passwd"):
        failure = failure_of(ask(service, [{"role": "user", "content": "Hi", "files": [{"path": path, "name": "notes.txt"}]}]))
        assert failure is not None and failure.params["why"] == "gone"
    assert scripted.requests == []
    link = uploads / "link.txt"
    link.symlink_to(secret)
    failure = failure_of(ask(service, [{"role": "user", "content": "Hi", "files": [{"path": str(link), "name": "link.txt"}]}]))
    assert failure is not None and failure.params["why"] == "gone"


def test_an_image_for_a_text_only_model_is_refused_and_an_earlier_missing_file_is_named(scripted, uploads):
    service = service_for(scripted, uploads)
    service.model_info._records[("openai", "text-only")] = ModelInfo(vision=False)
    picture = put(uploads, "cat.png", image_bytes((50, 50), "PNG"))
    failure = failure_of(ask(service, [{"role": "user", "content": "Who?", "files": [picture]}], model="text-only"))
    assert failure.kind == "attachment" and failure.params["why"] == "text_only"
    assert "text-only (OpenAI) reads text only: the image cat.png was not sent" in failure.message
    assert scripted.requests == []
    turns = [
        {"role": "user", "content": "Read this", "files": [{"path": str(uploads / "gone.txt"), "name": "gone.txt"}]},
        {"role": "assistant", "content": "Done."},
        {"role": "user", "content": "And now?"},
    ]
    assert failure_of(ask(service, turns)) is None
    first = scripted.requests[-1]["body"]["messages"][0]["content"]
    assert first == "Read this\n\n(Attached file gone.txt: no longer available.)"


def test_a_text_only_model_still_answers_after_an_image_of_an_earlier_turn(scripted, uploads):
    service = service_for(scripted, uploads)
    service.model_info._records[("openai", "text-only")] = ModelInfo(vision=False)
    turns = [
        {"role": "user", "content": "Look", "files": [put(uploads, "cat.png", image_bytes((50, 50), "PNG"))]},
        {"role": "assistant", "content": "A cat."},
        {"role": "user", "content": "Tell me more."},
    ]
    assert failure_of(ask(service, turns, model="text-only")) is None
    assert scripted.requests[-1]["body"]["messages"][0]["content"] == "Look\n\n(1 image(s) not sent: this model reads text only)"


def test_photos_come_upright_without_their_metadata_and_huge_images_are_refused_unread(scripted, uploads):
    from PIL import Image

    photo = Image.new("RGB", (300, 100), (10, 200, 10))
    exif = photo.getexif()
    exif[0x0112] = 6  # orientation: the camera was turned; the picture is 100 wide, 300 high
    exif[0x010F] = "PhoneMaker"
    buffer = io.BytesIO()
    photo.save(buffer, "JPEG", exif=exif)
    service = service_for(scripted, uploads)
    assert (
        failure_of(
            ask(service, [{"role": "user", "content": "Which way up?", "files": [put(uploads, "photo.jpg", buffer.getvalue())]}])
        )
        is None
    )
    sent = Image.open(io.BytesIO(image_parts(scripted.requests[-1]["body"])[0]))
    assert sent.size == (100, 300) and not sent.getexif()
    huge = Image.new("1", (9000, 9000))  # 81 MP, a few KB as a PNG: refused before it is decoded
    buffer = io.BytesIO()
    huge.save(buffer, "PNG")
    failure = failure_of(
        ask(service, [{"role": "user", "content": "And this?", "files": [put(uploads, "huge.png", buffer.getvalue())]}])
    )
    assert failure.params["why"] == "pixels" and "9,000 × 9,000 pixels" in failure.message
    assert len(scripted.requests) == 1


def test_reading_files_counts_against_the_rate_limit_first(scripted, uploads):
    service = service_for(scripted, uploads, PUBLIC_MODE="1", RATE_LIMIT_PER_MINUTE="2", MAX_INPUT_CHARS="1000")
    big = put(uploads, "big.txt", b"word " * 1000)
    for _ in range(2):
        failure = failure_of(ask(service, [{"role": "user", "content": "Read", "files": [big]}]))
        assert failure.kind == "too_long" and failure.params["why"] == "with_files"
        assert "the text of its attached files are 5,0" in failure.message
    assert failure_of(ask(service, [{"role": "user", "content": "Read", "files": [big]}])).kind == "limited"
    assert scripted.requests == []


@pytest.mark.slow  # (waits on real time or starts processes: not in the fast loop)
def test_a_pdf_built_to_be_costly_is_refused_within_its_budget_out_of_this_process_and_once(scripted, uploads, monkeypatch):
    """3 KB whose 8 pages all point at one stream of 1 MB of text operators: 12 s of CPU read in
    this process before. Read by a child process within PDF_READ_SECONDS of CPU, it is refused as
    too costly, and this process's CPU barely moves; the question's other file is not read for
    nothing; asked again, the same refusal comes at once, from memory."""
    from causerie.files import attachments

    service = service_for(scripted, uploads, PDF_READ_SECONDS="1")
    files = [put(uploads, "costly.pdf", make_costly_pdf(8)), put(uploads, "costly2.pdf", make_costly_pdf(8, salt="b"))]
    assert len((uploads / "abc123" / "costly.pdf").read_bytes()) < 4000
    real, children = getattr(attachments, "pdf_text", None), []

    def counted(*args):
        children.append(args)
        return real(*args)

    monkeypatch.setattr(attachments, "pdf_text", counted, raising=False)
    cpu = time.process_time()
    failure = failure_of(ask(service, [{"role": "user", "content": "Summarise", "files": files}]))
    assert failure is not None and failure.params.get("problem") == "pdf_too_costly", failure
    assert "costly.pdf was not attached: reading the PDF took too long" in failure.message
    assert time.process_time() - cpu < 1.0 and len(children) == 1
    before, started = resource.getrusage(resource.RUSAGE_CHILDREN), time.monotonic()
    again = failure_of(ask(service, [{"role": "user", "content": "Summarise, please", "files": files}]))
    assert again.params == failure.params and time.monotonic() - started < 1.0
    assert resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime == before.ru_utime and len(children) == 1
    assert scripted.requests == []


@pytest.mark.slow  # (waits on real time or starts processes: not in the fast loop)
def test_one_visitors_costly_pdfs_do_not_hold_up_another_visitors_files(scripted, uploads):
    """A visitor asks twice at once (two sessions, one address) with PDFs built to be costly; then
    another visitor asks with a text file. Both of the readers' threads were the first visitor's
    until their PDFs were read, and the other visitor's file waited; now the first visitor's are
    read one after the other, and the other visitor's is read meanwhile."""
    from causerie.answering.limits import Visitor

    service = service_for(scripted, uploads, PDF_READ_SECONDS="2")
    costly = [put(uploads, f"costly{n}.pdf", make_costly_pdf(8, salt=str(n))) for n in range(2)]
    small = put(uploads, "notes.txt", b"Bonjour du fichier")
    reads: list[tuple[str, str]] = []
    read = service.attachments.read

    def logged(ref, max_chars=0):
        reads.append(("start", ref["name"]))
        try:
            return read(ref, max_chars)
        finally:
            reads.append(("end", ref["name"]))

    service.attachments.read = logged

    async def asks(visitor: Visitor, file: dict) -> None:
        turns = [{"role": "user", "content": "Read", "files": [file]}]
        async for _ in service.stream_answer(ChatOptions("openai", "model-a"), turns, visitor):
            pass

    async def go() -> None:
        try:
            theirs = [asyncio.create_task(asks(Visitor(session=f"a{n}", ip="203.0.113.7"), costly[n])) for n in range(2)]
            await asyncio.sleep(0.3)  # both costly questions are being read, or wait to be
            await asks(Visitor(session="b", ip="198.51.100.9"), small)
            await asyncio.gather(*theirs)
        finally:
            await service.aclose()

    run_async(go())
    first_costly_ended = min(reads.index(("end", f["name"])) for f in costly)
    assert reads.index(("end", "notes.txt")) < first_costly_ended, reads
    assert [event for event, name in reads if name != "notes.txt"] == ["start", "end", "start", "end"], reads
    assert "Bonjour du fichier" in scripted.requests[0]["body"]["messages"][-1]["content"]
    assert service._file_readers._lanes == {}


@pytest.mark.slow  # (waits on real time or starts processes: not in the fast loop)
def test_inflated_bytes_are_budgeted_per_stream_and_over_the_pages_read():
    from causerie.files.attachments import _pdf
    from causerie.files.pdf_text import PdfBudget

    one_stream, pages = PdfBudget(stream_bytes=1_000_000), PdfBudget(content_bytes=250_000)
    assert _pdf("big.pdf", make_costly_pdf(1, inflated=3_000_000), 0, one_stream).params["problem"] == "pdf_too_costly"
    assert _pdf("many.pdf", make_costly_pdf(3, inflated=100_000), 0, pages).params["problem"] == "pdf_too_costly"
    assert _pdf("fine.pdf", make_costly_pdf(2, inflated=100_000), 0, pages).kind == "pdf"


def test_recently_read_files_are_kept_within_a_byte_budget(uploads):
    from causerie.files.attachments import AttachmentReader

    reader = AttachmentReader(uploads, 10_000_000, remember_bytes=4_000)
    refs = [put(uploads, f"note{n}.txt", b"x" * 900) for n in range(10)]
    for ref in refs:
        assert reader.read(ref).text == "x" * 900
    assert reader._recent.bytes <= 4_000 and len(reader._recent) == 4


@pytest.mark.slow  # (waits on real time or starts processes: not in the fast loop)
def test_uploads_are_cleaned_up_after_a_day_in_public_mode_and_kept_locally():
    from causerie.history.shelves import keeper_for
    from causerie.ui import build_demo

    for env, expected in (
        ({}, None),
        ({"PUBLIC_MODE": "1"}, (3600, 86400)),
        ({"PUBLIC_MODE": "1", "UPLOADS_KEEP_HOURS": "0.5"}, (1800, 1800)),
    ):
        settings = load_settings({"OPENAI_API_KEY": SERVER_KEY, "HISTORY_SECRET": "x" * 32, **env})
        service = ChatService(settings)
        keeper, notices = keeper_for(settings.history, on_space=False)
        assert build_demo(service, keeper, notices).delete_cache == expected
