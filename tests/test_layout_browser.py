"""The page at every width, in a real Chromium: the chat owns the screen, the sidebars are drawers
on a narrow one, nothing scrolls sideways or covers the composer, in English and French, light and
dark; the keyboard shortcuts; the accessibility check (axe-core) on the chat, Compare and the
leaderboard; money shown as money; the page installable."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from causerie.ui.header import DRAWERS_BELOW_PX, THEME_COLOUR

from support.accessibility import serious_violations
from support.apps import RunningApp
from support.browsers import open_settings, send
from support.scripted_server import Reply, chat_requests, text_stream

pytestmark = pytest.mark.browser

MEASURE = """() => {
  const chat = document.querySelector('#chatbot').getBoundingClientRect();
  const box = document.querySelector('#chat-input').getBoundingClientRect();
  const atBox = document.elementFromPoint(box.left + box.width / 2, box.top + box.height / 2);
  return {
    chat: chat.width, width: innerWidth, height: innerHeight,
    sideways: document.documentElement.scrollWidth > innerWidth,
    boxInSight: box.top >= 0 && box.bottom <= innerHeight,
    boxOnTop: Boolean(atBox && atBox.closest('#chat-input')),
    conversations: document.querySelector('#conversations').classList.contains('open'),
    settings: document.querySelector('#settings').classList.contains('open'),
  };
}"""


@pytest.fixture(scope="module")
def layout_app(_scripted):
    _scripted.models = {"object": "list", "data": [{"id": "grok-4.3"}, {"id": "gpt-4o-mini"}]}
    running = RunningApp({"OPENAI_BASE_URL": _scripted.base_url})
    yield running
    running.close()


def opened(browser: Browser, url: str, width: int, *, locale: str = "en-US", scheme: str = "light") -> Page:
    context = browser.new_context(
        viewport={"width": width, "height": 844 if width < 500 else 900}, locale=locale, color_scheme=scheme
    )
    page = context.new_page()
    page.goto(url)
    page.wait_for_selector("#chat-input textarea")
    expect(page.locator("#main-tabs")).to_be_visible()
    page.wait_for_timeout(400)  # (the page's opening step folds the drawers)
    return page


@pytest.mark.parametrize("width", [390, 820, 1024, 1280, 1920])
@pytest.mark.parametrize(("locale", "scheme"), [("en-US", "light"), ("fr-FR", "dark")])
def test_the_chat_owns_the_screen_at_every_width(layout_app, browser: Browser, width, locale, scheme):
    page = opened(browser, layout_app.url, width, locale=locale, scheme=scheme)
    seen = page.evaluate(MEASURE)
    share = 0.6 if width < 1280 else 0.5
    assert seen["chat"] >= max(min(320, width - 70), share * width if width > 500 else 0), seen
    if width == 820:
        assert seen["chat"] >= 490, seen
    assert not seen["sideways"] and seen["boxInSight"] and seen["boxOnTop"], seen
    assert seen["conversations"] == (width >= DRAWERS_BELOW_PX) and not seen["settings"], seen
    # The model and the search are above the chat; the settings a click away.
    for shown in ("#model-picker", "#open-settings"):
        expect(page.locator(shown)).to_be_visible()
    expect(page.locator("#system-prompt")).to_be_hidden()
    expect(page.locator("#brand")).to_contain_text("Causerie")
    page.context.close()


@pytest.mark.parametrize("width", [820, 1280])
def test_the_sidebars_are_drawers_that_a_click_outside_closes(layout_app, browser: Browser, width):
    page = opened(browser, layout_app.url, width)
    before = page.evaluate(MEASURE)["chat"]
    open_settings(page)
    expect(page.locator("#system-prompt textarea")).to_be_visible()
    assert page.evaluate(MEASURE)["chat"] == before  # over the chat, not beside it
    page.mouse.click(width * 0.3, 500)
    expect(page.locator("#settings.open")).to_have_count(0)
    if width < DRAWERS_BELOW_PX:
        page.locator("#conversations .toggle-button").click()
        expect(page.locator("#new-chat")).to_be_in_viewport()
        assert page.evaluate(MEASURE)["chat"] == before
        page.mouse.click(width - 40, 500)
        expect(page.locator("#conversations.open")).to_have_count(0)
    page.context.close()


def test_the_keyboard_shortcuts(layout_app, scripted, browser: Browser):
    page = opened(browser, layout_app.url, 1280)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=layout_app.url.rstrip("/"))
    page.locator("body").click(position={"x": 700, "y": 300})
    page.keyboard.press("?")
    expect(page.locator("#shortcuts")).to_be_visible()
    expect(page.locator("#shortcuts")).to_contain_text("Ctrl+Shift+O")
    page.keyboard.press("Escape")
    expect(page.locator("#shortcuts")).to_be_hidden()
    page.keyboard.press("Control+.")
    expect(page.locator("#settings.open")).to_have_count(1)
    page.keyboard.press("Control+.")
    expect(page.locator("#settings.open")).to_have_count(0)
    page.keyboard.press("Control+Shift+S")
    expect(page.locator("#conversations.open")).to_have_count(0)
    page.keyboard.press("Control+Shift+S")
    expect(page.locator("#conversations.open")).to_have_count(1)
    page.locator("body").click(position={"x": 700, "y": 300})
    page.keyboard.press("/")
    expect(page.locator("#chat-input textarea")).to_be_focused()
    # Esc stops an answer; Ctrl+Shift+C copies the last one; Ctrl+Shift+O starts a new chat.
    scripted.default = Reply(chunks=text_stream(*(f"word{i} " for i in range(400))), delay=0.02)
    send(page, "Count")
    expect(page.locator("#chat-input .stop-button")).to_be_visible(timeout=10000)
    expect(page.get_by_test_id("bot").last).to_contain_text("word3")
    page.keyboard.press("Escape")
    expect(page.locator("#chat-input .stop-button")).to_have_count(0, timeout=10000)
    shown = page.get_by_test_id("bot").last.inner_text()
    assert "word399" not in shown
    page.keyboard.press("Control+Shift+C")
    page.wait_for_function("async () => (await navigator.clipboard.readText()).includes('word3')")
    page.keyboard.press("Control+Shift+O")
    expect(page.get_by_test_id("bot")).to_have_count(0, timeout=10000)
    expect(page.locator("#chat-input textarea")).to_be_focused()
    page.context.close()


@pytest.mark.parametrize(("width", "scheme"), [(1280, "light"), (1280, "dark"), (390, "light"), (390, "dark")])
def test_no_serious_accessibility_violation_on_the_chat_compare_and_the_leaderboard(layout_app, scripted, browser, width, scheme):
    page = opened(browser, layout_app.url, width, scheme=scheme)
    scripted.default = Reply(chunks=text_stream("Revenue grew from $6 billion ", "to $24 billion; ", "the formula $x^2$ stays."))
    send(page, "How much?")
    chat = page.locator("#chatbot")
    expect(chat).to_contain_text("to first token", timeout=10000)
    # Money is money: the two amounts are text, the formula is a formula.
    expect(chat).to_contain_text("Revenue grew from $6 billion to $24 billion")
    expect(chat.locator(".katex")).to_have_count(1)
    assert serious_violations(page) == []
    page.get_by_role("tab", name="Compare").click()
    expect(page.locator("#compare-input")).to_be_visible()
    assert serious_violations(page) == []
    page.get_by_role("tab", name="Leaderboard").click()
    expect(page.locator("#leaderboard")).to_be_visible()
    assert serious_violations(page) == []
    page.context.close()


BROKEN_WORDS = """(selector) => {
  const broken = [];
  for (const cell of document.querySelectorAll(selector)) {
    const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      for (const word of node.data.matchAll(/\\S+/g)) {
        const range = document.createRange();
        range.setStart(node, word.index);
        range.setEnd(node, word.index + word[0].length);
        const lines = new Set([...range.getClientRects()].filter((r) => r.width > 0).map((r) => Math.round(r.top)));
        if (lines.size > 1) broken.push(word[0]);
      }
    }
  }
  return broken;
}"""


@pytest.mark.parametrize("width", [390, 820, 1280])
def test_no_word_is_broken_in_the_providers_table_or_the_french_leaderboards_headers(layout_app, browser: Browser, width):
    page = opened(browser, layout_app.url, width, locale="fr-FR")
    open_settings(page)
    page.locator("#settings").get_by_text("Autres fournisseurs").click()
    cells = "#settings table td, #settings table th"
    expect(page.locator(cells).first).to_be_visible()
    assert page.locator(cells).count() > 10
    assert page.evaluate(BROKEN_WORDS, cells) == []
    page.keyboard.press("Control+.")  # (closes the settings: on a phone they cover the page)
    page.get_by_role("tab", name="Classement").click()
    expect(page.locator("#leaderboard th").first).to_be_visible(timeout=10000)
    expect(page.locator("#leaderboard th").nth(5)).to_contain_text("Victoires")
    assert page.evaluate(BROKEN_WORDS, "#leaderboard th") == []
    # Nor spilling over the next column: a narrow screen scrolls the table in its box, not the page.
    spilled = "() => [...document.querySelectorAll('#leaderboard th')].filter(th => th.scrollWidth > th.clientWidth + 1).length"
    assert page.evaluate(spilled) == 0
    assert page.evaluate("() => document.documentElement.scrollWidth <= innerWidth")
    page.context.close()


def test_the_page_is_installable(layout_app, browser: Browser):
    manifest = httpx.get(layout_app.url + "manifest.json").json()
    assert manifest["name"] == "Causerie" and manifest["icons"]
    assert httpx.get(layout_app.url + "config").json()["pwa"] is True
    page = opened(browser, layout_app.url, 1280)  # (Gradio adds the head's tags in the page)
    expect(page.locator('meta[name="theme-color"]')).to_have_attribute("content", THEME_COLOUR)
    page.context.close()


def test_a_visitor_with_nothing_set_up_is_told_where_to_paste_a_key(browser: Browser):
    """A public server that answers with the visitor's own key only (a Space's usual setup): the
    empty chat says where the key goes and which providers take one, and the settings are open on
    the key box."""
    bare = RunningApp({"PUBLIC_MODE": "1", "REQUIRE_USER_KEY": "1"})
    try:
        page = opened(browser, bare.url, 1280)
        chat = page.locator("#chatbot")
        expect(chat).to_contain_text("To start, paste your own API key")
        expect(chat).to_contain_text("xAI (Grok)")
        expect(page.locator("#user-key input")).to_be_in_viewport()
        page.context.close()
        french = opened(browser, bare.url, 820, locale="fr-FR")
        expect(french.locator("#chatbot")).to_contain_text("Pour commencer, collez votre propre clé")
        french.context.close()
    finally:
        bare.close()


def test_the_chosen_models_price_shows_beside_the_picker_when_known(scripted, browser: Browser):
    # (An app of its own: the module's app may have listed other models meanwhile, and keeps lists.)
    scripted.models = {"object": "list", "data": [{"id": "grok-4.3"}, {"id": "gpt-4o-mini"}]}
    own = RunningApp({"OPENAI_BASE_URL": scripted.base_url})
    try:
        page = opened(browser, own.url, 1280, locale="fr-FR")
        facts = page.locator("#model-facts")
        expect(page.locator("#model-picker input")).to_have_value("OpenAI · gpt-4o-mini", timeout=10000)  # (OpenAI's pick)
        expect(facts).to_contain_text("0,15 $ en entrée · 0,6 $ en sortie, par million de tokens")
        page.locator("#model-picker input").click()
        page.get_by_role("option", name="OpenAI · grok-4.3").click()
        expect(facts).not_to_contain_text("million")  # (no price known for it at OpenAI)
        expect(facts).to_be_in_viewport()
        page.context.close()
    finally:
        own.close()


def test_one_picker_lists_every_providers_models_and_picks_provider_and_model(scripted, browser: Browser):
    """Two providers ready: the picker above the chat lists both's models, grouped, filtered by
    typing; picking one of the other provider's sets the settings' provider and model, the search
    choice and the facts, and the question goes to it. The settings' boxes show in the picker."""
    scripted.models = {"object": "list", "data": [{"id": "grok-4.3"}, {"id": "gpt-4o-mini"}]}
    both = RunningApp({"XAI_API_KEY": "test-not-secret", "XAI_BASE_URL": scripted.base_url, "OPENAI_BASE_URL": scripted.base_url})
    try:
        page = opened(browser, both.url, 1280)
        picker = page.locator("#model-picker input")
        expect(picker).to_have_value("xAI (Grok) · grok-4.3", timeout=10000)
        expect(page.locator("#search")).to_be_visible()  # (xAI searches)
        picker.click()
        options = page.get_by_role("option")
        expect(options.nth(7)).to_be_visible(timeout=10000)
        labels = options.evaluate_all("all => all.map(o => o.getAttribute('aria-label'))")
        assert labels[:8] == [
            "xAI (Grok) · grok-4.3",
            "xAI (Grok) · gpt-4o-mini",
            "xAI (Grok) · grok-imagine-image",  # (picture models, from models.yaml, after the listed ones)
            "xAI (Grok) · grok-imagine-image-quality",
            "OpenAI · grok-4.3",
            "OpenAI · gpt-4o-mini",
            "OpenAI · gpt-image-1",
            "OpenAI · gpt-image-1-mini",
        ]
        assert all(label.startswith("Local (offline) · ") for label in labels[8:]), labels  # (where installed)
        picker.fill("")
        picker.press_sequentially("openai · gpt-4")  # (as typed: the list filters on each key)
        expect(options).to_have_count(1)
        expect(options.first).to_have_attribute("aria-label", "OpenAI · gpt-4o-mini")
        options.first.click()
        expect(picker).to_have_value("OpenAI · gpt-4o-mini")
        expect(page.locator("#provider input")).to_have_value("OpenAI")
        expect(page.locator("#model input")).to_have_value("gpt-4o-mini")
        page.locator("#search input").click()  # (OpenAI searches the web, not X)
        expect(page.get_by_role("option", name="Search the web", exact=True)).to_be_visible()
        expect(page.get_by_role("option", name="Search X")).to_have_count(0)
        page.keyboard.press("Escape")
        expect(page.locator("#model-facts")).to_contain_text("$0.15 in")
        scripted.default = Reply(chunks=text_stream("Picked."))
        send(page, "Which model are you?")
        expect(page.locator("#chatbot")).to_contain_text("Picked.", timeout=10000)
        assert chat_requests(scripted)[-1]["body"]["model"] == "gpt-4o-mini"

        # The settings' model box, and what it sets, show in the picker.
        open_settings(page)
        model = page.locator("#model input")
        model.fill("my-own-model")
        model.press("Enter")
        expect(picker).to_have_value(re.compile("OpenAI · my-own-model"))
        page.context.close()
    finally:
        both.close()
