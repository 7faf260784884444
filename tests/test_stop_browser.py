"""Stop in a real Chromium: the page shows exactly what is kept (every token that arrived, no
"paused" line), and a Stop never shows an error, also with many answers streaming."""

from __future__ import annotations

import random
import threading
import time

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from causerie.endpoints import reading

from support.browsers import send, settled
from support.scripted_server import Reply, delta, sse, text_stream

pytestmark = pytest.mark.browser

ERRORS_JS = """() => [...document.querySelectorAll('#chatbot .error, [data-testid="toast-body"], .toast-body')]
  .map((node) => node.outerHTML.slice(0, 200))"""
"""Gradio's marks of a failed event: its status tracker's red badge over the outputs, a toast."""


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
    scripted.default = Reply(chunks=text_stream("First", " second", " third", " never sent"), delay=0.02, pauses={3: 30.0})
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


def test_stops_under_load_never_show_an_error(app, scripted, browser: Browser):
    """Pages ask and press Stop at random moments while answers stream through the API. Gradio's
    cancel used to end the stream with a message the page's client could not apply: under load,
    about one Stop in five left a bare red "Error" over the chat (patches/cancel_completion.py)."""
    scripted.default = Reply(chunks=sse(*[delta(f"tok{i} ") for i in range(1000)], delta(finish="stop")), delay=0.03)
    pick = random.Random(9)
    busy = threading.Event()

    def api_caller() -> None:
        with httpx.Client(timeout=60) as http:
            while not busy.is_set():
                event = http.post(app.url + "gradio_api/call/chat", json={"data": ["Hi", *[None] * 17]}).json()
                with http.stream("GET", app.url + f"gradio_api/call/chat/{event['event_id']}") as reply:
                    for _ in reply.iter_bytes():
                        pass

    callers = [threading.Thread(target=api_caller, daemon=True) for _ in range(20)]
    for caller in callers:
        caller.start()
    contexts = [browser.new_context() for _ in range(4)]
    try:
        pages = [open_chat(context.new_page(), app.url) for context in contexts]
        for round_number in range(6):
            for page in pages:
                send(page, f"Question {round_number}")
            for page in pick.sample(pages, len(pages)):
                expect(page.locator("#chat-input .stop-button")).to_have_count(1, timeout=20000)
                time.sleep(pick.uniform(0, 0.6))
                assert page.evaluate(ERRORS_JS) == []  # (a badge would also cover the Stop button)
                page.locator("#chat-input .stop-button").click()
            for page in pages:
                expect(page.locator("#chat-input .stop-button")).to_have_count(0, timeout=20000)
            time.sleep(1.0)  # a failure's badge comes once the cancel's last message is handled
            assert [found for page in pages if (found := page.evaluate(ERRORS_JS))] == []
    finally:
        busy.set()
        for context in contexts:
            context.close()
        for caller in callers:
            caller.join(timeout=30)


def test_the_bin_mid_answer_opens_a_new_chat_ready_to_send_and_keeps_the_stopped_one(app, scripted, page: Page):
    """The bin cancels the answer as Stop does; the new chat it opens takes a question at once."""
    scripted.default = Reply(chunks=sse(*[delta(f"t{i} ") for i in range(300)], delta(finish="stop")), delay=0.03)
    open_chat(page, app.url)
    send(page, "Bin me")
    expect(page.get_by_test_id("bot").first).to_contain_text("t3", timeout=5000)
    page.get_by_role("button", name="Clear").click()
    assert scripted.settled_outcome() == "disconnected"
    expect(page.get_by_test_id("user")).to_have_count(0, timeout=10000)
    expect(page.locator("#chat-input .stop-button")).to_have_count(0, timeout=10000)
    expect(page.locator("#chat-input .submit-button")).to_have_count(1)
    expect(page.locator("#conversation-list")).to_contain_text("Bin me", timeout=10000)
    scripted.default = Reply(chunks=text_stream("Fresh answer."))
    send(page, "Next one")
    expect(page.get_by_test_id("bot").first).to_contain_text("Fresh answer.", timeout=10000)
