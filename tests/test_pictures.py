"""Pictures: made, changed, kept and priced, against a fake picture provider on loopback that is as
strict as xAI's and OpenAI's documentation (tests/support/picture_server.py): the exact request
bodies, unknown fields refused, picture addresses that expire after one download, cost ticks."""

from __future__ import annotations

import base64
import json
from dataclasses import replace
from pathlib import Path

import pytest
from test_responses import answer_of, recorded, sse_events

from causerie.answering.answer import Answer
from causerie.answering.footer import footer_text
from causerie.answering.limits import Visitor
from causerie.answering.options import ChatOptions, InvalidOptions, PictureOptions, picture_options
from causerie.answering.pictures import picture_ask
from causerie.answering.service import ChatService
from causerie.config.settings import load_settings
from causerie.events import Failure, Finish, Picture, Start, Status, TextDelta, Usage
from causerie.files.picture_store import NotAPicture, PictureStore, picture_type

from support.apps import run_async
from support.keys import SERVER_KEY, VISITOR_KEY
from support.picture_server import TICKS_PER_PICTURE, PictureServer, picture_requests, png
from support.scripted_server import Reply


def service_for(server: PictureServer, tmp_path: Path, **env: str) -> ChatService:
    names = {"xai": ("XAI_API_KEY", "XAI_BASE_URL"), "openai": ("OPENAI_API_KEY", "OPENAI_BASE_URL")}[server.shape]
    settings = load_settings({names[0]: SERVER_KEY, names[1]: server.base_url, **env})
    return ChatService(replace(settings, upload_dir=tmp_path))


def ask(service: ChatService, options: ChatOptions, turns: list[dict] | str, visitor: Visitor | None = None) -> list:
    if isinstance(turns, str):
        turns = [{"role": "user", "content": turns}]

    async def go():
        try:
            return [e async for e in service.stream_answer(options, turns, visitor or Visitor(session="s", ip="10.0.0.1"))]
        finally:
            await service.aclose()

    return run_async(go())


XAI = ChatOptions("xai", "grok-4.3")


def test_a_picture_is_asked_in_xais_exact_shape_downloaded_at_once_kept_and_priced(pictures, tmp_path):
    events = ask(service_for(pictures, tmp_path), XAI, "/image a red square")
    (sent,) = picture_requests(pictures)
    assert sent["path"] == "/v1/images/generations"
    assert sent["body"] == {"model": "grok-imagine-image", "prompt": "a red square", "n": 1, "response_format": "url"}
    assert sent["headers"]["authorization"] == f"Bearer {SERVER_KEY}"
    # The cost as soon as the provider answers: it is billed even if a picture then cannot be kept.
    assert [type(e) for e in events] == [Start, Status, Usage, Picture, TextDelta, Finish]
    assert events[1].message == "Making the picture…"
    picture = events[3]
    kept = Path(picture.path)
    assert kept.parent == tmp_path / "pictures" and kept.read_bytes() == pictures.picture
    assert picture.mime_type == "image/png" and picture.size == len(pictures.picture)
    assert picture.revised_prompt == "A red square, flat colour" == events[4].text
    # The provider's address was fetched once, at once: it has expired since.
    assert list(pictures.served.values()) == [1]
    answer = answer_of(events)
    assert answer.usage.cost_usd == pytest.approx(TICKS_PER_PICTURE / 1e10) and answer.usage.cost_source == "provider"
    footer = footer_text(answer)
    assert footer.startswith("xAI (Grok) · grok-imagine-image") and "1 image made" in footer and "$0.0200 billed" in footer
    assert answer.details()["images"] == [
        {"path": picture.path, "mime_type": "image/png", "size": picture.size, "revised_prompt": picture.revised_prompt}
    ]


def test_several_pictures_with_an_aspect_ratio_each_kept_apart(pictures, tmp_path):
    options = replace(XAI, pictures=PictureOptions(3, "16:9"))
    events = ask(service_for(pictures, tmp_path), options, "/image three red squares")
    (sent,) = picture_requests(pictures)
    assert sent["body"] == {
        "model": "grok-imagine-image",
        "prompt": "three red squares",
        "n": 3,
        "response_format": "url",
        "aspect_ratio": "16:9",
    }
    made = [e for e in events if type(e) is Picture]
    assert len({p.path for p in made}) == 3 and all(Path(p.path).read_bytes() == pictures.picture for p in made)
    assert events[1].message == "Making 3 pictures…"
    assert [e.text for e in events if type(e) is TextDelta] == ["A red square, flat colour"]  # said once
    answer = answer_of(events)
    assert answer.usage.cost_usd == pytest.approx(0.06) and "3 images made" in footer_text(answer)


def test_edit_sends_the_last_picture_as_json_with_a_data_uri(pictures, tmp_path):
    service = service_for(pictures, tmp_path)
    first = ask(service, XAI, "/image a red square")
    picture = next(e for e in first if type(e) is Picture)
    turns = [
        {"role": "user", "content": "/image a red square"},
        {"role": "assistant", "content": picture.revised_prompt, "pictures": [{"path": picture.path, "name": "picture.png"}]},
        {"role": "user", "content": "/edit make it night"},
    ]
    events = ask(service, XAI, turns)
    sent = picture_requests(pictures)[-1]
    assert sent["path"] == "/v1/images/edits"
    body = dict(sent["body"])
    image = body.pop("image")
    assert body == {"model": "grok-imagine-image", "prompt": "make it night", "n": 1, "response_format": "url"}
    assert image["type"] == "image_url" and image["url"].startswith("data:image/png;base64,")
    assert base64.b64decode(image["url"].partition(",")[2]) == Path(picture.path).read_bytes()
    assert events[1].message == "Changing the picture…" and any(type(e) is Picture for e in events)


def test_a_picture_model_makes_pictures_of_plain_questions_and_refines_the_last(pictures, tmp_path):
    service = service_for(pictures, tmp_path)
    options = ChatOptions("xai", "grok-imagine-image")
    ask(service, options, "a lighthouse")
    assert picture_requests(pictures)[-1]["path"] == "/v1/images/generations"
    path = str(tmp_path / "pictures" / next((tmp_path / "pictures").iterdir()).name)
    turns = [
        {"role": "user", "content": "a lighthouse"},
        {"role": "assistant", "content": "", "pictures": [{"path": path, "name": "p.png"}]},
        {"role": "user", "content": "make it night"},
    ]
    ask(service, options, turns)
    assert picture_requests(pictures)[-1]["path"] == "/v1/images/edits"
    ask(service, options, [*turns[:2], {"role": "user", "content": "/image a castle"}])
    assert picture_requests(pictures)[-1]["path"] == "/v1/images/generations"
    assert picture_requests(pictures)[-1]["body"]["prompt"] == "a castle"


def test_an_attached_photo_is_the_picture_to_change(pictures, tmp_path):
    photo = tmp_path / "photo.png"
    photo.write_bytes(png(32, 32, (0, 90, 200)))
    turns = [{"role": "user", "content": "/image make it a watercolour", "files": [{"path": str(photo), "name": "photo.png"}]}]
    events = ask(service_for(pictures, tmp_path), XAI, turns)
    sent = picture_requests(pictures)[-1]
    assert sent["path"] == "/v1/images/edits"
    assert base64.b64decode(sent["body"]["image"]["url"].partition(",")[2]) == photo.read_bytes()
    assert any(type(e) is Picture for e in events)


@pytest.mark.parametrize(
    ("question", "provider", "why"),
    [("/edit make it night", "xai", "no_reference"), ("/image", "xai", "no_prompt"), ("/image a cat", "groq", "unsupported")],
)
def test_what_cannot_be_drawn_is_refused_before_anything_is_sent(pictures, tmp_path, question, provider, why):
    service = service_for(pictures, tmp_path, GROQ_API_KEY=SERVER_KEY)
    (failure,) = ask(service, ChatOptions(provider, None), question)
    assert type(failure) is Failure and failure.kind == "picture" and failure.params["why"] == why
    assert picture_requests(pictures) == []
    assert "/image" in failure.message and "/image" in failure.said_in("fr")


def test_openai_shape_json_generation_multipart_edit_and_list_price(pictures, tmp_path):
    pictures.reset("openai")
    service = service_for(pictures, tmp_path)
    options = ChatOptions("openai", "gpt-5-mini", pictures=PictureOptions(1, "9:16"))
    events = ask(service, options, "/image a tall red square")
    sent = picture_requests(pictures)[-1]
    assert sent["body"] == {"model": "gpt-image-1", "prompt": "a tall red square", "n": 1, "size": "1024x1536"}
    picture = next(e for e in events if type(e) is Picture)
    assert Path(picture.path).read_bytes() == pictures.picture and picture.revised_prompt == ""
    answer = answer_of(events)
    # Priced from the tokens OpenAI counts (20 text in, 4,160 image tokens out), at list price.
    assert answer.text == "" and answer.usage.cost_usd == pytest.approx((20 * 5 + 4160 * 40) / 1e6)
    assert "20 in · 4,160 out · $0.1665 at list price" in footer_text(answer)
    turns = [
        {"role": "user", "content": "/image a tall red square"},
        {"role": "assistant", "content": "", "pictures": [{"path": picture.path, "name": "p.png"}]},
        {"role": "user", "content": "/edit add a moon"},
    ]
    ask(service, options, turns)
    edit = picture_requests(pictures)[-1]
    assert edit["path"] == "/v1/images/edits"
    assert edit["form"] == {"model": "gpt-image-1", "prompt": "add a moon", "n": "1", "size": "1024x1536"}
    assert edit["image"]["bytes"] == Path(picture.path).read_bytes() and edit["image"]["content_type"] == "image/png"


@pytest.mark.parametrize(
    ("status", "payload", "kind", "words"),
    [
        (400, {"code": "invalid", "error": "Generated image rejected by content moderation."}, "picture", "refused to make"),
        (402, {"code": "no credits", "error": "Your team has no credits left."}, "credits", "out of credits"),
        (429, {"code": "rate", "error": "Too many requests"}, "rate_limited", "rate limiting"),
    ],
)
def test_refusals_are_worded_in_english_and_french(pictures, tmp_path, status, payload, kind, words):
    pictures.errors.append((status, payload))
    events = ask(service_for(pictures, tmp_path), XAI, "/image something")
    failure = events[-1]
    assert type(failure) is Failure and failure.kind == kind and failure.status == status
    assert words in failure.message and failure.said_in("fr") != failure.message
    assert not list((tmp_path / "pictures").glob("*")) if (tmp_path / "pictures").exists() else True


def test_a_picture_address_is_data_never_followed_inward_or_over_http_elsewhere(pictures, tmp_path):
    pictures.url_base = "http://127.0.0.2:9"  # another origin, over http
    (failure,) = [e for e in ask(service_for(pictures, tmp_path), XAI, "/image x") if type(e) is Failure]
    assert failure.params["why"] == "address"
    pictures.url_base = f"https://127.0.0.1:{pictures.port}"  # https, but inside this server's network
    (failure,) = [e for e in ask(service_for(pictures, tmp_path), XAI, "/image x") if type(e) is Failure]
    assert failure.params["why"] == "address" and "does not fetch" in failure.message


def test_what_is_not_a_picture_is_not_kept(pictures, tmp_path):
    pictures.picture = b"<html><script>alert(1)</script></html>"
    (failure,) = [e for e in ask(service_for(pictures, tmp_path), XAI, "/image x") if type(e) is Failure]
    assert failure.params["why"] == "not_image"
    assert not (tmp_path / "pictures").exists() or not list((tmp_path / "pictures").iterdir())


def test_an_expired_address_is_said(pictures, tmp_path):
    service = service_for(pictures, tmp_path)
    pictures.url_base = pictures.origin + "/gone"  # (404: as an address that has expired)
    (failure,) = [e for e in ask(service, XAI, "/image x") if type(e) is Failure]
    assert failure.params["why"] == "download" and "HTTP 404" in failure.message


def test_public_mode_counts_pictures_on_the_owners_key_per_visitor(pictures, tmp_path):
    service = service_for(pictures, tmp_path, PUBLIC_MODE="1", IMAGES_PER_HOUR="3")
    visitor = Visitor(session="a", ip="203.0.113.9")
    two = replace(XAI, pictures=PictureOptions(2))
    assert type(ask(service, two, "/image x", visitor)[-1]) is Finish
    refused = ask(service, two, "/image x", visitor)[-1]
    assert refused.kind == "limited" and refused.params["why"] == "pictures" and "IMAGES_PER_HOUR" in refused.message
    assert "IMAGES_PER_HOUR" in refused.said_in("fr")
    too_many = ask(service, replace(XAI, pictures=PictureOptions(4)), "/image x", Visitor(session="b", ip="203.0.113.10"))
    assert too_many[-1].params["why"] == "pictures_one"
    # One more fits; a failed picture gives its place back.
    pictures.errors.append((500, {"code": "x", "error": "boom"}))
    assert ask(service, XAI, "/image x", visitor)[-1].kind == "server"
    assert type(ask(service, XAI, "/image x", visitor)[-1]) is Finish
    # The visitor's own key is theirs to spend.
    own = replace(XAI, api_key=VISITOR_KEY)
    assert type(ask(service, own, "/image x", visitor)[-1]) is Finish
    assert picture_requests(pictures)[-1]["headers"]["authorization"] == f"Bearer {VISITOR_KEY}"


def test_picture_options_are_checked_at_the_edge():
    assert picture_options(2, "16:9") == PictureOptions(2, "16:9")
    assert picture_options(None, "auto") == PictureOptions(1, None)
    with pytest.raises(InvalidOptions, match="aspect_ratio"):
        picture_options(1, "21:9")
    with pytest.raises(InvalidOptions, match="n must be a whole number from 1 to 4"):
        picture_options(5, None)


def test_which_questions_ask_for_pictures():
    assert picture_ask("/image a cat", picture_model=False, after_picture=False).prompt == "a cat"
    assert picture_ask("/edit\nmake it night", picture_model=False, after_picture=False).edit
    assert picture_ask("/images of cats?", picture_model=False, after_picture=False) is None
    assert picture_ask("a cat", picture_model=False, after_picture=True) is None
    assert picture_ask("make it night", picture_model=True, after_picture=True).edit
    assert not picture_ask("/image a castle", picture_model=True, after_picture=True).edit


def test_an_mcp_client_asks_in_words_only(pictures, tmp_path):
    service = service_for(pictures, tmp_path)
    turns = [{"role": "user", "content": "/image a cat"}]
    assert service.pictures.asked(service.settings.ready_providers()[0], ChatOptions("xai"), turns) is not None
    assert service.pictures.asked(service.settings.ready_providers()[0], ChatOptions("xai", asked_through="mcp"), turns) is None


def test_the_store_keeps_real_pictures_only_and_sweeps_old_ones(tmp_path):
    store = PictureStore(tmp_path, keep_s=3600)
    kept = store.keep(png())
    assert Path(kept.path).is_file() and kept.mime_type == "image/png"
    for fake in (b"<svg onload=alert(1)>", png()[:40], b"\x89PNG\r\n\x1a\n"):
        with pytest.raises(NotAPicture):
            store.keep(fake)
    assert picture_type(b"RIFF\x00\x00\x00\x00WEBPVP8 ") == ("image/webp", ".webp")
    old = store.keep(png())
    import os

    os.utime(old.path, (1, 1))
    store._swept_at = 0
    assert store.sweep() == 1 and not Path(old.path).exists() and Path(kept.path).exists()


def test_a_responses_answer_that_made_a_picture_shows_it_with_its_revised_prompt(scripted, tmp_path):
    """xAI's image tool in a Responses stream: the item built with the openai SDK's own types."""
    from openai.types.responses.response_output_item import ImageGenerationCall
    from openai.types.responses.response_output_item_done_event import ResponseOutputItemDoneEvent

    picture = png(20, 20, (10, 200, 10))
    item = ImageGenerationCall(
        id="ig_1", result=base64.b64encode(picture).decode(), status="completed", type="image_generation_call"
    )
    done = ResponseOutputItemDoneEvent(item=item, output_index=0, sequence_number=3, type="response.output_item.done")
    event = json.loads(done.model_dump_json())
    event["item"]["revised_prompt"] = "A green square"  # (xAI's field, which the SDK does not name)
    completed = recorded("xai-responses-text")[-1]

    scripted.queue(
        Reply(
            chunks=sse_events(
                {
                    "type": "response.output_item.added",
                    "output_index": 0,
                    "item": {**event["item"], "status": "in_progress", "result": None},
                },
                event,
                {"type": "response.output_text.delta", "output_index": 1, "content_index": 0, "item_id": "m", "delta": "Done."},
                completed,
            )
        )
    )
    settings = load_settings({"XAI_API_KEY": SERVER_KEY, "XAI_BASE_URL": scripted.base_url})
    service = ChatService(replace(settings, upload_dir=tmp_path))
    events = ask(service, ChatOptions("xai", "grok-4.3", tools=("web_search",)), "Draw a green square")
    answer = answer_of(events)
    assert answer.failure is None and answer.text == "Done." and not answer.notices
    (made,) = answer.pictures
    assert Path(made.path).read_bytes() == picture and made.revised_prompt == "A green square"
    assert answer.details()["images"][0]["revised_prompt"] == "A green square"
    assert "1 image made" in footer_text(answer)


def test_an_answers_pictures_are_kept_with_it_and_shown_back_or_said_gone(tmp_path):
    from causerie.history.conversations import Conversation, read_import, to_markdown
    from causerie.history.file_stamps import FileStamps
    from causerie.ui.render import page_messages, render
    from causerie.ui.turns import plain_turns, saved_messages

    store = PictureStore(tmp_path)
    kept = store.keep(png())
    answer = Answer(provider_label="xAI (Grok)", model="grok-imagine-image")
    for event in (Picture(kept.path, kept.mime_type, kept.size, "A red square"), TextDelta("A red square"), Finish("stop")):
        answer.apply(event)
    chat = [{"role": "user", "content": [{"type": "text", "text": "/image a red square"}]}, *render(answer)]
    saved = saved_messages(chat)
    assert saved[1]["content"] == "A red square"
    assert saved[1]["files"] == [{"path": kept.path, "orig_name": "picture-1.png", "mime_type": "image/png", "size": kept.size}]
    # What an edit reads, and what goes upstream: the picture goes with its answer, never as text.
    turns = plain_turns(chat)
    assert turns[1] == {
        "role": "assistant",
        "content": "A red square",
        "pictures": [{"path": kept.path, "name": "picture-1.png"}],
    }

    stamps = FileStamps("secret", tmp_path)
    stamped = stamps.messages("browser:a", saved, stamp=True)
    assert stamped[1]["files"][0]["stamp"]
    conversation = Conversation(id="c1", messages=stamped, settings={}, created_at=1.0, updated_at=1.0)
    (back,) = read_import(conversation.to_json())
    assert back.messages == conversation.messages
    assert "- 🖼️ picture-1.png" in to_markdown(back)
    shown = page_messages(list(stamps.messages("browser:a", back.messages)))
    pictures_shown = [m for m in shown if m["metadata"] and m["metadata"].get("id") == "causerie-pictures"]
    assert [part["file"]["path"] for part in pictures_shown[0]["content"]] == [kept.path]
    # Another browser, or a picture deleted after UPLOADS_KEEP_HOURS: said, not shown.
    for owner in ("browser:b", "browser:a"):
        if owner == "browser:a":
            Path(kept.path).unlink()
        shown = page_messages(list(stamps.messages(owner, back.messages)))
        (note,) = [m for m in shown if m["metadata"] and m["metadata"].get("id") == "causerie-pictures"]
        assert note["content"] == [{"text": "🖼️ picture-1.png: no longer kept on this server", "type": "text"}]
        # Saved again (a new answer after it): still named, so still said (found in review: dropped).
        assert saved_messages(shown)[1]["files"] == [{"orig_name": "picture-1.png"}]


def test_a_stop_after_the_request_went_out_does_not_give_the_pictures_back(pictures, tmp_path):
    """Found in review: Stop pressed while the provider drew gave the whole reservation back, so
    IMAGES_PER_HOUR could be bypassed while the provider billed every picture."""
    import asyncio
    import contextlib

    service = service_for(pictures, tmp_path, PUBLIC_MODE="1", IMAGES_PER_HOUR="4")
    visitor = Visitor(session="stopper", ip="203.0.113.20")
    pictures.delay_s = 1.0

    async def stopped_twice():
        async def drawing():
            turns = [{"role": "user", "content": "/image x"}]
            async for _ in service.stream_answer(replace(XAI, pictures=PictureOptions(2)), turns, visitor):
                pass

        try:
            for _ in range(2):
                task = asyncio.create_task(drawing())
                await asyncio.sleep(0.4)  # the request is out, the provider drawing: Stop
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        finally:
            await service.aclose()

    run_async(stopped_twice())
    assert len(picture_requests(pictures)) == 2
    pictures.delay_s = 0
    refused = ask(service, XAI, "/image x", visitor)[-1]
    assert refused.kind == "limited" and refused.params["why"] == "pictures"


def test_a_refusal_before_anything_was_made_gives_the_pictures_back_and_says_its_status(pictures, tmp_path):
    service = service_for(pictures, tmp_path, PUBLIC_MODE="1", IMAGES_PER_HOUR="1")
    visitor = Visitor(session="r", ip="203.0.113.21")
    pictures.errors.append((400, {"code": "x", "error": "Generated image rejected by content moderation."}))
    refused = ask(service, XAI, "/image x", visitor)[-1]
    assert "(HTTP 400)" in refused.message and "(HTTP 400)" in refused.said_in("fr")
    assert type(ask(service, XAI, "/image y", visitor)[-1]) is Finish  # its place was given back


@pytest.mark.parametrize("address", ["https://[::1/x.png", "javascript:alert(1)", "//no-scheme/x.png"])
def test_a_malformed_picture_address_is_a_failure_not_an_exception(pictures, tmp_path, address):
    pictures.url_base = address.rsplit("/", 1)[0]
    events = ask(service_for(pictures, tmp_path), XAI, "/image x")
    assert type(events[-1]) is Failure and events[-1].params["why"] == "address"


def test_an_answer_larger_than_any_pictures_is_not_read_whole(pictures, tmp_path):
    pictures.reset("openai")  # (base64 in the answer itself)
    service = service_for(pictures, tmp_path)
    service.picture_store.max_bytes = 1000  # (the cap scales with it)
    pictures.picture = png(400, 400) + b"\0" * 1_200_000  # (more than four such pictures, as base64)
    events = ask(service, ChatOptions("openai", "gpt-5-mini"), "/image x")
    assert type(events[-1]) is Failure and events[-1].params["why"] == "too_large"


def test_a_store_that_cannot_write_is_a_failure(pictures, tmp_path):
    service = service_for(pictures, tmp_path)
    (tmp_path / "pictures").write_text("not a folder")
    events = ask(service, XAI, "/image x")
    assert type(events[-1]) is Failure and events[-1].params["why"] == "not_kept"
    assert "could not write it" in events[-1].message


def test_an_attached_file_that_is_no_picture_is_named(pictures, tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("hello")
    turns = [{"role": "user", "content": "/edit make it red", "files": [{"path": str(notes), "name": "notes.txt"}]}]
    (failure,) = ask(service_for(pictures, tmp_path), XAI, turns)
    assert failure.params["why"] == "reference" and "notes.txt" in failure.message
    assert picture_requests(pictures) == []


def test_in_public_mode_the_owners_key_draws_with_the_offered_picture_models_only(pictures, tmp_path):
    service = service_for(pictures, tmp_path, PUBLIC_MODE="1")
    from causerie.answering.pictures import PictureAsk

    async def go(model):
        try:
            return [
                e
                async for e in service.make_pictures(
                    ChatOptions("xai"), PictureAsk("x", False, model), None, Visitor(session="m")
                )
            ]
        finally:
            await service.aclose()

    (refused,) = run_async(go("grok-5-image-ultra"))
    assert refused.kind == "invalid_value" and "grok-imagine-image" in refused.message
    assert type(run_async(go("grok-imagine-image-quality"))[-1]) is Finish
