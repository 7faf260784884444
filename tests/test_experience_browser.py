"""What people expect of the page, in a real Chromium: French for a French browser (errors
included), attachments reaching the provider, example questions, presets and parameters, Enter
and Shift+Enter, code copy buttons, a phone's screen, and the chat embedded in another site."""

from __future__ import annotations

import functools
import http.server
import io
import re
import tempfile
import threading
import time
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import Browser, Page, expect

from causerie.endpoints.model_info import ModelInfo
from causerie.ui.app import FAVICON as FAVICON_PATH

from support.browsers import open_accordion, open_settings, send
from support.sample_files import make_pdf
from support.scripted_server import Reply, _free_port, chat_requests, image_parts, text_stream

pytestmark = pytest.mark.browser

FAVICON = Path(FAVICON_PATH)
GRADIO_ASSETS = Path(__import__("gradio").__file__).parent / "templates" / "frontend" / "assets"


def starts(prefix: str) -> re.Pattern:
    """For to_have_value: a value that starts with `prefix`."""
    return re.compile("^" + re.escape(prefix))


def opened(page: Page, url: str) -> Page:
    page.goto(url)
    page.wait_for_selector("#chat-input textarea")
    return page


def attach(page: Page, *paths: Path) -> None:
    """Attach files with the box's upload input, and wait until each shows in the box."""
    with page.expect_response(lambda r: "/gradio_api/upload" in r.url):
        page.set_input_files("#chat-input input[type=file]", [str(p) for p in paths])
    expect(page.locator("#chat-input .thumbnail-item")).to_have_count(len(paths), timeout=10000)


def ended(page: Page) -> None:
    expect(page.locator("#chat-input .stop-button")).to_have_count(0, timeout=10000)
    expect(page.get_by_test_id("bot").last).to_contain_text("to first token", timeout=10000)


def answered(page: Page, scripted, count: int) -> None:
    """Wait until the provider has had `count` chat requests and the last answer has ended."""
    deadline = time.monotonic() + 10
    while len(chat_requests(scripted)) < count and time.monotonic() < deadline:
        page.wait_for_timeout(50)
    assert len(chat_requests(scripted)) == count
    ended(page)


def test_a_french_browser_sees_french_everywhere_errors_included(app, scripted, browser: Browser):
    context = browser.new_context(locale="fr-FR")
    page = opened(context.new_page(), app.url)
    expect(page.locator("#provider")).to_contain_text("Fournisseur")
    expect(page.locator("#preset")).to_contain_text("Préréglage")
    expect(page.locator("#preset input")).to_have_value("Assistant général (FR)", timeout=10000)
    expect(page.locator("#system-prompt textarea")).to_have_value(starts("Tu es Causerie"))
    expect(page.locator("#chat-input textarea")).to_have_attribute(
        "placeholder", "Écrivez un message… (Maj+Entrée\u00a0: nouvelle ligne)"
    )
    expect(page.locator("#new-chat")).to_have_text("+ Nouvelle conversation")
    expect(page.locator("#session-totals")).to_have_text("Aucune réponse pour l'instant dans cette session.")
    examples = page.locator("#chatbot .examples .example:visible")
    expect(examples).to_have_count(3)
    for text in examples.all_inner_texts():
        assert text.startswith(("Écris", "Pourquoi")), text
    # The preset list starts with French ones.
    open_settings(page)
    page.locator("#preset input").click()
    expect(page.get_by_role("option").first).to_contain_text("(FR)")
    page.keyboard.press("Escape")

    send(page, "Bonjour ?")
    expect(page.get_by_test_id("bot").last).to_contain_text("avant le premier token", timeout=10000)
    expect(page.locator("#session-totals")).to_contain_text("1 réponse", timeout=10000)
    assert chat_requests(scripted)[-1]["body"]["messages"][0]["content"].startswith("Tu es Causerie")

    scripted.queue(Reply.error(401, {"error": {"message": "Incorrect API key provided"}}))
    send(page, "Et maintenant ?")
    expect(page.locator("#chatbot")).to_contain_text(
        "OpenAI a refusé la clé d'API (HTTP 401) : mettez une clé valide dans OPENAI_API_KEY", timeout=10000
    )
    expect(page.locator("#chatbot")).to_contain_text("Le fournisseur a dit : « Incorrect API key provided »")
    expect(page.get_by_role("button", name="Réessayer").last).to_be_visible()  # Gradio's own words too
    send(page, "Encore ?")  # the chat box is still usable
    expect(page.get_by_test_id("bot").last).to_contain_text("avant le premier token", timeout=10000)
    context.close()


def test_an_image_reaches_a_vision_model_and_survives_retry_and_edit(app, scripted, page: Page, tmp_path):
    picture = tmp_path / "red-square.webp"
    Image.new("RGB", (3000, 1500), (220, 20, 20)).save(picture, "WEBP")
    opened(page, app.url)
    attach(page, picture)
    send(page, "What colour is this?")
    ended(page)
    expect(page.locator("#chatbot [data-testid='user'] img")).to_have_count(1)

    def sent_image() -> Image.Image:
        body = chat_requests(scripted)[-1]["body"]
        images = image_parts(body)  # the scripted server refused anything a vision API would not read
        assert len(images) == 1
        return Image.open(io.BytesIO(images[0]))

    first = sent_image()
    assert first.size == (2048, 1024) and first.format == "JPEG"
    assert chat_requests(scripted)[-1]["body"]["messages"][-1]["content"][0] == {"type": "text", "text": "What colour is this?"}
    expect(page.locator("#chat-input .thumbnail-item")).to_have_count(0)  # the box is empty again

    page.get_by_role("button", name="Retry").last.click()
    answered(page, scripted, 2)
    assert sent_image().size == (2048, 1024)

    # A later question, and an edit of it: the picture stays in the conversation sent.
    send(page, "And its shape?")
    answered(page, scripted, 3)
    assert sent_image().size == (2048, 1024)
    page.get_by_test_id("user").last.hover()
    page.get_by_role("button", name="Edit").last.click()
    page.locator("#chatbot textarea").fill("And its size?")
    page.locator("#chatbot").get_by_role("button", name="Submit").click()
    answered(page, scripted, 4)
    assert sent_image().size == (2048, 1024)
    assert chat_requests(scripted)[-1]["body"]["messages"][-1]["content"] == "And its size?"

    # Gradio offers no Edit on a question carrying files: Undo gives it back, files included.
    for _ in range(2):
        page.get_by_role("button", name="Undo").last.click()
    expect(page.get_by_test_id("user")).to_have_count(0, timeout=5000)
    expect(page.locator("#chat-input textarea")).to_have_value("What colour is this?")
    expect(page.locator("#chat-input .thumbnail-item")).to_have_count(1)
    page.locator("#chat-input textarea").fill("What colour, exactly?")
    page.locator("#chat-input textarea").press("Enter")
    answered(page, scripted, 5)
    assert sent_image().size == (2048, 1024)
    assert chat_requests(scripted)[-1]["body"]["messages"][-1]["content"][0]["text"] == "What colour, exactly?"


def test_a_conversation_with_a_picture_goes_on_after_a_reload(app, scripted, page: Page, tmp_path):
    picture = tmp_path / "green.png"
    Image.new("RGB", (64, 64), (0, 160, 0)).save(picture)
    opened(page, app.url)
    attach(page, picture)
    send(page, "What is this?")
    answered(page, scripted, 1)
    expect(page.locator("#conversation-list label")).to_have_count(1, timeout=10000)  # saved
    page.wait_for_timeout(300)
    page.reload()
    page.wait_for_selector("#chat-input textarea")
    expect(page.locator("#chatbot [data-testid='user'] img")).to_have_count(1, timeout=10000)  # shown again
    send(page, "And its colour?")
    answered(page, scripted, 2)
    body = chat_requests(scripted)[-1]["body"]
    assert len(image_parts(body)) == 1
    assert body["messages"][-1]["content"] == "And its colour?"


def test_text_files_and_pdfs_reach_the_provider_and_an_image_for_a_text_only_model_is_refused(
    app, scripted, page: Page, tmp_path
):
    notes, report = tmp_path / "notes.md", tmp_path / "report.pdf"
    notes.write_text("- acheter du pain\n- appeler Léa\n", encoding="utf-8")
    report.write_bytes(make_pdf("Quarterly figures: 42"))
    opened(page, app.url)
    attach(page, notes, report)
    send(page, "Summarise both.")
    ended(page)
    sent = chat_requests(scripted)[-1]["body"]["messages"][-1]["content"]
    assert sent.startswith("Summarise both.\n\nAttached file notes.md:\n```\n- acheter du pain\n- appeler Léa\n```")
    assert "Attached file report.pdf:\n```\n[page 1]\nQuarterly figures: 42\n```" in sent
    expect(page.locator("#chatbot")).to_contain_text("notes.md")

    picture = tmp_path / "photo.png"
    Image.new("RGB", (40, 40), (0, 0, 200)).save(picture)
    app.service.model_info._records[("openai", "model-a")] = ModelInfo(vision=False)
    try:
        attach(page, picture)
        send(page, "And this?")
        expect(page.locator("#chatbot")).to_contain_text(
            "model-a (OpenAI) reads text only: the image photo.png was not sent", timeout=10000
        )
        assert len(chat_requests(scripted)) == 1
    finally:
        del app.service.model_info._records[("openai", "model-a")]


def test_an_example_question_fills_the_box_and_picks_its_preset(app, scripted, page: Page):
    opened(page, app.url)
    examples = page.locator("#chatbot .examples .example:visible")
    expect(examples).to_have_count(3)
    page.locator("#chatbot .examples .example:visible", has_text="landlord").click()
    expect(page.locator("#chat-input textarea")).to_have_value(starts("Write a polite letter to my landlord"))
    expect(page.locator("#preset input")).to_have_value("Letter writer (EN)")
    page.locator("#chat-input textarea").press("Enter")
    ended(page)
    body = chat_requests(scripted)[-1]["body"]
    assert body["messages"][0]["content"].startswith("You write letters and emails")
    assert body["temperature"] == 0.7  # the preset's
    assert body["messages"][-1]["content"].startswith("Write a polite letter to my landlord")


def test_switching_preset_and_temperature_reach_the_provider(app, scripted, page: Page):
    opened(page, app.url)
    open_settings(page)
    page.locator("#preset input").click()
    page.get_by_role("option", name="Scripts and code (EN)").click()
    expect(page.locator("#system-prompt textarea")).to_have_value(starts("You are an experienced software engineer"))
    open_accordion(page, page.get_by_text("Parameters"))
    expect(page.locator("#temperature input, #temperature textarea").first).to_have_value("0.2")
    page.locator("#temperature input, #temperature textarea").first.fill("0.9")
    send(page, "A script, please.")
    ended(page)
    body = chat_requests(scripted)[-1]["body"]
    assert body["temperature"] == 0.9
    assert body["messages"][0]["content"].startswith("You are an experienced software engineer")


def test_enter_sends_shift_enter_starts_a_line_and_code_blocks_have_a_copy_button(app, scripted, browser: Browser):
    context = browser.new_context(permissions=["clipboard-read", "clipboard-write"])
    page = opened(context.new_page(), app.url)
    assert page.title() == "Causerie"
    icon = page.request.get(app.url + "favicon.ico")
    assert icon.ok and icon.body() == FAVICON.read_bytes()
    scripted.queue(Reply(chunks=text_stream("Here:\n\n```python\nprint('bonjour')\n```\n")))
    box = page.locator("#chat-input textarea")
    box.fill("first line")
    box.press("Shift+Enter")
    box.type("second line")
    assert chat_requests(scripted) == []
    box.press("Enter")
    ended(page)
    assert chat_requests(scripted)[-1]["body"]["messages"][-1]["content"] == "first line\nsecond line"
    copy = page.locator("#chatbot button.copy_code_button")
    expect(copy).to_have_count(1)
    copy.click()
    assert page.evaluate("navigator.clipboard.readText()").strip() == "print('bonjour')"
    context.close()


def test_on_a_phone_the_chat_fits_the_screen_and_the_settings_fold_away(app, scripted, browser: Browser):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True, device_scale_factor=2)
    page = opened(context.new_page(), app.url)
    expect(page.locator("#settings.open")).to_have_count(0, timeout=5000)
    expect(page.locator("#conversations.open")).to_have_count(0)
    scroll = "() => document.documentElement.scrollWidth"
    assert page.evaluate(scroll) <= 390
    box = page.locator("#chat-input textarea").bounding_box()
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= 390
    send(page, "A long question " * 20)
    answered(page, scripted, 1)
    scripted.queue(Reply(chunks=text_stream("```\n" + "x" * 400 + "\n```")))  # a long line scrolls in its block
    send(page, "Wide code?")
    answered(page, scripted, 2)
    assert page.evaluate(scroll) <= 390
    page.locator("#open-settings").click()  # the settings open on demand
    expect(page.locator("#system-prompt")).to_be_in_viewport()
    assert page.evaluate(scroll) <= 390
    context.close()


@pytest.fixture
def other_site(app):
    """Another origin (another port) whose pages embed the app: in an iframe with ?embed=1, and
    as a <gradio-app> element (Gradio's own script, served by the app)."""
    entry = next(GRADIO_ASSETS.glob("index-*.js")).name
    pages = {
        "iframe.html": f'<h1>My site</h1><iframe id="chat" src="{app.url}?embed=1" width="800" height="700"></iframe>',
        "element.html": f'<h1>My site</h1><script type="module" src="{app.url}assets/{entry}"></script>'
        f'<gradio-app src="{app.url}" causerie-embed></gradio-app><footer id="mine">My footer</footer>',
    }
    root = Path(tempfile.mkdtemp())
    for name, html in pages.items():
        (root / name).write_text(f"<!doctype html><html><body>{html}</body></html>", encoding="utf-8")
    port = _free_port()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{port}"
    server.shutdown()


def test_the_chat_works_embedded_in_another_site(app, scripted, page: Page, other_site):
    page.goto(f"{other_site}/iframe.html")
    frame = page.frame_locator("#chat")
    frame.locator("#chat-input textarea").wait_for()
    expect(frame.locator("#settings")).to_be_hidden()  # embed mode: the chat alone
    expect(frame.locator("#conversations")).to_be_hidden()
    frame.locator("#chat-input textarea").fill("Hello from an iframe")
    frame.locator("#chat-input textarea").press("Enter")
    expect(frame.get_by_test_id("bot").last).to_contain_text("to first token", timeout=10000)
    assert chat_requests(scripted)[-1]["body"]["messages"][-1]["content"] == "Hello from an iframe"

    page.goto(f"{other_site}/element.html")
    box = page.locator("gradio-app #chat-input textarea")
    box.wait_for(timeout=20000)
    expect(page.locator("gradio-app #settings")).to_be_hidden()
    expect(page.locator("#mine")).to_be_visible()  # the embed hides the app's footer, not the site's
    box.fill("Hello from an element")
    box.press("Enter")
    expect(page.locator("gradio-app").get_by_test_id("bot").last).to_contain_text("to first token", timeout=10000)
    assert chat_requests(scripted)[-1]["body"]["messages"][-1]["content"] == "Hello from an element"


def test_embed_set_by_the_owner_shows_the_chat_alone(scripted, page: Page):
    from support.apps import RunningApp

    embedded = RunningApp({"OPENAI_BASE_URL": scripted.base_url, "EMBED": "1"})
    try:
        opened(page, embedded.url)
        expect(page.locator("#settings")).to_be_hidden()
        expect(page.locator("#conversations")).to_be_hidden()
        width = page.locator("#chat-input").bounding_box()["width"]
        assert width > 0.6 * page.viewport_size["width"]  # the chat takes the sidebars' room
        send(page, "Hello")
        answered(page, scripted, 1)
    finally:
        embedded.close()


@pytest.mark.parametrize("scheme, dark", [("dark", True), ("light", False)])
def test_light_and_dark_follow_the_system(app, browser: Browser, scheme, dark):
    context = browser.new_context(color_scheme=scheme)
    page = opened(context.new_page(), app.url)
    background = page.evaluate("() => getComputedStyle(document.querySelector('gradio-app') || document.body).backgroundColor")
    red, green, blue = (int(v) for v in re.findall(r"\d+", background)[:3])
    assert (red + green + blue < 3 * 128) == dark, background
    context.close()


def test_search_says_what_it_looks_for_and_lists_numbered_sources(app, scripted, page: Page):
    scripted.queue(Reply.responses_fixture("xai-responses-web-search", pauses={4: 1.5}))  # the search takes a while
    opened(page, app.url)
    page.locator("#search input").click()
    page.get_by_role("option", name="Search the web", exact=True).click()
    send(page, "What is xAI?")
    expect(page.locator("#chatbot")).to_contain_text('Searching the web for "what is xAI"…', timeout=10000)
    ended(page)
    request = scripted.requests[-1]
    assert request["path"] == "/v1/responses" and request["body"]["tools"] == [{"type": "web_search"}]
    sources = page.locator("#chatbot ol a")
    expect(sources.first).to_have_attribute("href", "https://en.wikipedia.org/wiki/XAI_%28company%29")
    count = sources.count()
    assert count >= 2
    expect(page.get_by_test_id("bot").last).to_contain_text(f"{count} sources")
    # The same conversation goes on with the same cache key, its history sent as input items.
    scripted.queue(Reply.responses_fixture("xai-responses-text"))
    send(page, "And Grok?")
    answered_path = "/v1/responses"
    deadline = time.monotonic() + 10
    while len([r for r in scripted.requests if r["path"] == answered_path]) < 2 and time.monotonic() < deadline:
        page.wait_for_timeout(50)
    again = scripted.requests[-1]["body"]
    assert again["prompt_cache_key"] == request["body"]["prompt_cache_key"] != ""
    assert [item["role"] for item in again["input"]] == ["system", "user", "assistant", "user"]


def test_the_search_choice_follows_the_provider(app, page: Page):
    opened(page, app.url)
    expect(page.locator("#search")).to_be_visible()  # OpenAI: the web
    expect(page.locator("#x-search")).to_be_hidden()  # (X options, in the settings: for X search only)
    for label, shown, x in (("xAI (Grok) (your key)", True, True), ("Groq (your key)", False, False)):
        open_settings(page)  # (the provider box is in the settings; the picker lists ready ones)
        page.locator("#provider input").click()
        page.get_by_role("option", name=label).click()
        expect(page.locator("#search")).to_be_visible() if shown else expect(page.locator("#search")).to_be_hidden()
        expect(page.locator("#x-search")).to_be_visible() if x else expect(page.locator("#x-search")).to_be_hidden()
        page.locator("#brand").click()  # (closes the settings)
        if x:
            page.locator("#search input").click()
            expect(page.get_by_role("option", name="Search the web and X")).to_be_visible()
            page.keyboard.press("Escape")


def test_a_preset_with_blanks_asks_for_them_before_the_first_message(app, scripted, page: Page):
    opened(page, app.url)
    open_settings(page)
    page.locator("#preset input").click()
    page.get_by_role("option", name="Translator (EN)").click()
    page.locator("#brand").click()  # (the settings close)
    form = page.locator("#preset-blanks")
    expect(form).to_be_visible()
    blank = page.get_by_role("textbox", name="target language")
    expect(blank).to_be_visible()
    before = len(chat_requests(scripted))
    send(page, "Bonjour tout le monde")
    expect(page.locator("#chatbot")).to_contain_text("blanks to fill first: target language", timeout=10000)
    assert len(chat_requests(scripted)) == before  # nothing was sent
    blank.fill("German")
    blank.press("Enter")
    expect(form).to_be_hidden()
    expect(page.locator("#system-prompt textarea")).to_have_value(starts("You translate the person's text into German."))
    send(page, "Good morning")
    ended(page)
    assert chat_requests(scripted)[-1]["body"]["messages"][0]["content"].startswith(
        "You translate the person's text into German."
    )
