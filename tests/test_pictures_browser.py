"""Pictures in a real Chromium: /image shows the picture in the chat (from the app's own store, not
the provider's address, which has expired by then), with its prompt and footer; it survives a
reload, is what /edit changes, goes out in an export and comes back with an import (another
browser is told it is not kept for them), and fits a phone's screen."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from support.apps import RunningApp
from support.browsers import open_accordion, open_settings, settled
from support.history_pages import SECRET
from support.keys import SERVER_KEY
from support.picture_server import picture_requests, png

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def picture_app(_pictures, tmp_path_factory):
    data = tmp_path_factory.mktemp("pictures-app")
    env = {
        "XAI_API_KEY": SERVER_KEY,
        "XAI_BASE_URL": _pictures.base_url,
        "HISTORY_SECRET": SECRET,
        "CAUSERIE_DATA_DIR": str(data),
    }
    running = RunningApp(env)
    yield running
    running.close()


def open_chat(page: Page, url: str) -> Page:
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto(url)
    page.wait_for_selector("#chat-input textarea")
    return page


def draw(page: Page, text: str) -> None:
    expect(page.locator("#chat-input .stop-button")).to_have_count(0, timeout=10000)
    footers = page.locator("#chatbot sub")
    before = footers.count()
    page.locator("#chat-input textarea").fill(text)
    page.locator("#chat-input textarea").press("Enter")
    expect(footers).to_have_count(before + 1, timeout=15000)


def shown_pictures(page: Page):
    return page.locator("#chatbot [data-testid='bot'] img")


def loaded(page: Page, index: int = 0) -> dict:
    image = shown_pictures(page).nth(index)
    expect(image).to_be_visible(timeout=10000)
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle(), timeout=10000)
    return image.evaluate("img => ({src: img.getAttribute('src'), width: img.naturalWidth})")


def test_a_picture_is_shown_kept_across_a_reload_and_changed_by_edit(picture_app, pictures, page: Page):
    open_chat(page, picture_app.url)
    draw(page, "/image a red square")
    first = loaded(page)
    assert "/gradio_api/file=" in first["src"] and "/pictures/" in first["src"] and first["width"] == 64
    assert list(pictures.served.values()) == [1]  # the provider's address: fetched once, expired since
    chat = page.locator("#chatbot")
    expect(chat).to_contain_text("A red square, flat colour")
    expect(chat.locator("sub").last).to_contain_text("xAI (Grok) · grok-imagine-image")
    expect(chat.locator("sub").last).to_contain_text("1 image made")
    expect(chat.locator("sub").last).to_contain_text("$0.0200 billed")
    settled(page)

    page.reload()
    page.wait_for_selector("#chat-input textarea")
    again = loaded(page)
    assert again["src"].split("file=")[-1] == first["src"].split("file=")[-1]

    draw(page, "/edit make it night")
    sent = picture_requests(pictures)[-1]
    assert sent["path"] == "/v1/images/edits"
    assert base64.b64decode(sent["body"]["image"]["url"].partition(",")[2]) == pictures.picture
    expect(shown_pictures(page)).to_have_count(2)
    if shots := __import__("os").environ.get("CAUSERIE_SHOTS"):
        page.screenshot(path=f"{shots}/picture-desktop.png")


def test_a_picture_model_picked_above_the_chat_draws_every_question(picture_app, pictures, page: Page):
    open_chat(page, picture_app.url)
    picker = page.locator("#model-picker input")
    expect(picker).to_have_value("xAI (Grok) · grok-4.3", timeout=10000)  # (a text model: /image draws)
    picker.click()
    page.get_by_role("option", name="xAI (Grok) · grok-imagine-image-quality").click()
    expect(page.locator("#model input")).to_have_value("grok-imagine-image-quality")
    draw(page, "a lighthouse at dusk")
    assert picture_requests(pictures)[-1]["body"]["model"] == "grok-imagine-image-quality"
    loaded(page)
    expect(page.locator("#chatbot sub").last).to_contain_text("$0.0200 billed")  # (the provider's figure wins)


def test_the_settings_shape_and_count_go_with_the_request(picture_app, pictures, page: Page):
    open_chat(page, picture_app.url)
    open_settings(page)
    open_accordion(page, page.locator("#picture-options").get_by_text("Pictures"))
    page.locator("#picture-ratio input").click()
    page.get_by_role("option", name="16:9").click()
    page.locator("#picture-count input").click()
    page.get_by_role("option", name="2", exact=True).click()
    page.keyboard.press("Escape")
    draw(page, "/image two wide squares")
    body = picture_requests(pictures)[-1]["body"]
    assert body["n"] == 2 and body["aspect_ratio"] == "16:9"
    expect(shown_pictures(page)).to_have_count(2)
    expect(page.locator("#chatbot sub").last).to_contain_text("2 images made")


def test_export_and_import_keep_the_picture_for_its_owner_only(picture_app, pictures, page: Page, browser: Browser, tmp_path):
    open_chat(page, picture_app.url)
    draw(page, "/image a square for export")
    loaded(page, shown_pictures(page).count() - 1)
    settled(page)
    open_accordion(page, page.locator("#conversation-tools").get_by_text("This conversation"))
    with page.expect_download() as got:
        page.locator("#export-json").click()
    exported = json.loads(Path(got.value.path()).read_text())
    answer = exported["messages"][1]
    assert answer["content"] == "A red square, flat colour"
    (picture,) = answer["files"]
    assert picture["orig_name"] == "picture-1.png" and picture["mime_type"] == "image/png" and picture["stamp"]
    with page.expect_download() as got_md:
        page.locator("#export-markdown").click()
    assert "- 🖼️ picture-1.png" in Path(got_md.value.path()).read_text()

    saved = tmp_path / "export.json"
    saved.write_text(json.dumps(exported))
    # The same browser, after deleting it: the picture comes back.
    page.locator("#delete-conversation").click()
    expect(page.locator("#chatbot")).not_to_contain_text("A red square, flat colour", timeout=10000)
    page.locator("#import-conversations input[type=file], input[type=file]").first.set_input_files(str(saved))
    expect(page.locator("#chatbot")).to_contain_text("A red square, flat colour", timeout=10000)
    loaded(page)
    # Another browser: the file is not theirs, and the chat says so in its place.
    other = open_chat(browser.new_context().new_page(), picture_app.url)
    open_accordion(other, other.locator("#conversation-tools").get_by_text("This conversation"))
    other.locator("#import-conversations input[type=file], input[type=file]").first.set_input_files(str(saved))
    expect(other.locator("#chatbot")).to_contain_text("picture-1.png: no longer kept on this server", timeout=10000)
    expect(shown_pictures(other)).to_have_count(0)
    other.context.close()


def test_a_picture_fits_a_phones_screen(picture_app, pictures, browser: Browser):
    pictures.picture = png(2000, 1200)
    phone = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2).new_page()
    open_chat(phone, picture_app.url)
    draw(phone, "/image a wide red square")
    loaded(phone)
    box = shown_pictures(phone).first.bounding_box()
    chat = phone.locator("#chatbot").bounding_box()
    assert (
        box["width"] <= chat["width"] and box["x"] >= chat["x"] - 1 and box["x"] + box["width"] <= chat["x"] + chat["width"] + 1
    )
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    if shots := __import__("os").environ.get("CAUSERIE_SHOTS"):
        phone.screenshot(path=f"{shots}/picture-phone.png")
    phone.context.close()
