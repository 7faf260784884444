"""A visitor's own key in a real Chromium: it reaches the provider it was typed for and nothing
else, lists that visitor's models for them alone, and another session sees none of it."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

from support.browsers import open_accordion, open_settings
from support.history_pages import ask, open_page, start_app
from support.keys import VISITOR_KEY

pytestmark = pytest.mark.browser


def pick_provider(page: Page, label: str) -> None:
    open_settings(page)  # (the provider box is in the settings)
    page.locator("#provider input").click()
    page.get_by_role("option", name=label).click()


def test_a_visitors_key_stays_in_their_page_and_goes_to_their_provider_only(scripted, tmp_path, browser: Browser, caplog):
    scripted.models_by_key[VISITOR_KEY] = {"data": [{"id": "alice-private-model"}]}
    app = start_app(scripted, tmp_path)
    try:
        alice = open_page(browser.new_context().new_page(), app.url)
        open_settings(alice)
        open_accordion(alice, alice.get_by_role("button", name="Your API key"))
        alice.locator("#user-key input").fill(VISITOR_KEY)  # as a paste does
        alice.locator("#chat-input textarea").click()
        # Her model list, fetched with her key once she leaves the box, replaces the shared one.
        expect(alice.locator("#model input")).to_have_value("alice-private-model", timeout=10000)
        ask(alice, "Hello with my key")
        chat = [r for r in scripted.requests if r["path"] == "/v1/chat/completions"]
        assert chat[-1]["headers"]["authorization"] == f"Bearer {VISITOR_KEY}"
        assert chat[-1]["body"]["model"] == "alice-private-model"

        # A key belongs to its provider: another provider shows an empty box, and asking it
        # says a key is needed (nothing is sent anywhere); back, and her key is there again.
        pick_provider(alice, "xAI (Grok) (your key)")
        expect(alice.locator("#user-key input")).to_have_value("")
        ask(alice, "And Grok?")
        expect(alice.locator("#chatbot")).to_contain_text("xAI (Grok) needs an API key", timeout=5000)
        assert len([r for r in scripted.requests if r["path"] == "/v1/chat/completions"]) == 1
        pick_provider(alice, "OpenAI")
        expect(alice.locator("#user-key input")).to_have_value(VISITOR_KEY)

        # Bob, in another browser: no key, the shared model list, none of her chats.
        bob = open_page(browser.new_context().new_page(), app.url)
        open_settings(bob)
        open_accordion(bob, bob.get_by_role("button", name="Your API key"))
        expect(bob.locator("#user-key input")).to_have_value("")
        expect(bob.locator("#conversation-list")).not_to_contain_text("Hello with my key")
        ask(bob, "Hello without a key")
        assert "authorization" not in scripted.requests[-1]["headers"]
        assert scripted.requests[-1]["body"]["model"] == "model-a"
        bob.locator("#model input").click()
        expect(bob.get_by_role("option", name="model-b")).to_be_visible()
        expect(bob.get_by_role("option", name="alice-private-model")).to_have_count(0)
        for text in (VISITOR_KEY, "alice-private-model"):
            assert text not in bob.content()
        assert "alice-private-model" not in str(app.service.catalog._cache)

        # Her key is kept by her page only: a reload forgets it.
        alice.reload()
        alice.wait_for_selector("#chat-input textarea")
        open_settings(alice)
        open_accordion(alice, alice.get_by_role("button", name="Your API key"))
        expect(alice.locator("#user-key input")).to_have_value("")
        assert VISITOR_KEY not in caplog.text
    finally:
        app.close()
