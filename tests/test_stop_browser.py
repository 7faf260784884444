"""Stop in a real Chromium: the page shows exactly what is kept (every token that arrived, no
"paused" line)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from causerie import reading

from conftest import send, settled
from scripted_server import Reply, text_stream

pytestmark = pytest.mark.browser


def open_chat(page: Page, url: str) -> Page:
    page.goto(url)
    page.wait_for_selector("#chat-input textarea")
    expect(page.locator("#model input")).to_have_value("model-a", timeout=10000)
    return page


def answers(page: Page) -> list[str]:
    return [text.strip() for text in page.get_by_test_id("bot").all_inner_texts()]


def stopped_and_reloaded(page: Page, scripted) -> tuple[list[str], list[str]]:
    """Stop the answer; what the page shows once the Stop is done, and after a reload (what was
    kept)."""
    page.locator("#chat-input .stop-button").click()
    assert scripted.settled_outcome() == "disconnected"
    expect(page.locator("#chat-input .stop-button")).to_have_count(0, timeout=10000)
    settled(page)
    shown = answers(page)
    page.reload()
    page.wait_for_selector("#chat-input textarea")
    expect(page.get_by_test_id("user")).to_have_count(1, timeout=10000)
    return shown, answers(page)


def test_a_stop_while_the_model_pauses_shows_and_keeps_every_token_that_came(app, scripted, page: Page):
    """The tokens before a pause show within the update interval, and a Stop in the seconds before
    the "paused" notice keeps and shows them all."""
    scripted.default = Reply(chunks=text_stream("First", " second", " third", " never sent"), delay=0.02,
                             pauses={3: 30.0})
    open_chat(page, app.url)
    send(page, "Take your time")
    expect(page.get_by_test_id("bot").first).to_contain_text("First second third", timeout=5000)
    assert "paused" not in page.locator("#chatbot").inner_text()  # the Stop comes before the notice
    shown, kept = stopped_and_reloaded(page, scripted)
    assert shown == kept == ["First second third"]


def test_a_stop_after_the_paused_notice_takes_the_notice_away(app, scripted, page: Page, monkeypatch):
    monkeypatch.setattr(reading, "TICK_S", 0.25)  # the same logic, four times faster
    monkeypatch.setattr(reading, "PAUSE_SHOWN_S", 1.0)
    scripted.default = Reply(chunks=text_stream("Thinking", " aloud", " never sent"), delay=0.02, pauses={2: 30.0})
    open_chat(page, app.url)
    send(page, "Take your time")
    expect(page.locator("#chatbot")).to_contain_text("has paused", timeout=5000)
    shown, kept = stopped_and_reloaded(page, scripted)
    assert shown == kept == ["Thinking aloud"]
