"""Answers that survive the page, in a real Chromium: a reload mid-answer shows it growing and
ending whole, Stop after the reload closes the provider's stream, a second tab sees the same
answer, a page gone for longer than the grace time ends it, and another browser finds nothing."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import Browser, Page, expect

from support.history_pages import open_page, start_app
from support.scripted_server import Reply, text_stream

pytestmark = pytest.mark.browser
WORDS = [f"w{n} " for n in range(40)]
WHOLE = "".join(WORDS).strip()


def long_answer(scripted, delay: float = 0.1) -> None:
    scripted.default = Reply(chunks=text_stream(*WORDS), delay=delay)


def send(page: Page, text: str) -> None:
    page.locator("#chat-input textarea").fill(text)
    page.locator("#chat-input textarea").press("Enter")


def answer_text(page: Page) -> str:
    return page.locator('#chatbot [data-testid="bot"]').first.inner_text()


def wait_for_part(page: Page, word: str = "w4") -> None:
    expect(page.locator("#chatbot")).to_contain_text(word, timeout=10000)


@pytest.fixture
def resume_app(scripted, tmp_path):
    running = start_app(scripted, tmp_path)
    yield running
    running.close()


def test_a_long_answer_survives_a_reload_whole_and_in_order(resume_app, scripted, page: Page):
    long_answer(scripted)
    open_page(page, resume_app.url)
    send(page, "Tell me a long story")
    wait_for_part(page)
    page.reload()
    # The reloaded page shows the answer so far, then as it goes on, with the Stop button.
    expect(page.locator("#chatbot")).to_contain_text("Tell me a long story", timeout=10000)
    expect(page.locator("#chat-input .stop-button")).to_be_visible(timeout=5000)
    expect(page.locator("#chatbot sub")).to_contain_text("OpenAI", timeout=15000)  # the footer, at the end
    assert answer_text(page).strip() == WHOLE  # every word, in order, none twice
    assert scripted.last_outcome() == "completed"  # the provider saw no disconnect
    expect(page.locator("#conversation-list")).to_contain_text("Tell me a long story", timeout=10000)
    page.reload()  # and it was saved whole
    expect(page.locator("#chatbot sub")).to_contain_text("OpenAI", timeout=10000)
    assert answer_text(page).strip() == WHOLE


def test_stop_after_a_reload_closes_the_providers_stream(resume_app, scripted, page: Page):
    long_answer(scripted, delay=0.2)
    open_page(page, resume_app.url)
    send(page, "Tell me a long story")
    wait_for_part(page, "w2")
    page.reload()
    wait_for_part(page, "w5")
    page.locator("#chat-input .stop-button").click()
    deadline = time.monotonic() + 3
    while scripted.last_outcome() != "disconnected" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert scripted.last_outcome() == "disconnected"
    expect(page.locator("#chat-input .stop-button")).to_have_count(0, timeout=5000)
    assert "w39" not in answer_text(page)


def test_two_tabs_on_one_conversation_see_the_same_answer(resume_app, scripted, page: Page):
    long_answer(scripted)
    open_page(page, resume_app.url)
    send(page, "Tell me a long story")
    wait_for_part(page)
    second = page.context.new_page()
    second.goto(resume_app.url)
    wait_for_part(second, "w10")
    for tab in (page, second):
        expect(tab.locator("#chatbot sub")).to_contain_text("OpenAI", timeout=15000)
        assert answer_text(tab).strip() == WHOLE
    assert len([r for r in scripted.requests if r["path"] == "/v1/chat/completions"]) == 1


def test_another_browser_cannot_see_or_stop_the_answer(resume_app, scripted, page: Page, browser: Browser):
    long_answer(scripted, delay=0.05)
    open_page(page, resume_app.url)
    send(page, "Tell me a long story")
    wait_for_part(page)
    stranger = open_page(browser.new_context().new_page(), resume_app.url)
    expect(stranger.locator("#chatbot")).not_to_contain_text("long story")
    expect(stranger.locator("#chat-input .stop-button")).to_have_count(0)
    expect(page.locator("#chatbot sub")).to_contain_text("OpenAI", timeout=15000)
    assert scripted.last_outcome() == "completed"


def test_a_page_gone_longer_than_the_grace_time_ends_the_answer(scripted, tmp_path, browser: Browser):
    app = start_app(scripted, tmp_path, ANSWER_GRACE_SECONDS="1")
    try:
        long_answer(scripted, delay=0.2)
        page = open_page(browser.new_context().new_page(), app.url)
        send(page, "Tell me a long story")
        wait_for_part(page, "w1")
        page.close()
        time.sleep(0.5)
        assert scripted.last_outcome() == "open"  # not a Stop: it goes on for the grace time
        assert scripted.settled_outcome(4) == "disconnected"
    finally:
        app.close()


def test_stop_before_the_first_word_closes_the_providers_stream(resume_app, scripted, page: Page):
    scripted.default = Reply(chunks=text_stream(*WORDS), first_delay=3.0)
    open_page(page, resume_app.url)
    send(page, "Think first")
    expect(page.locator("#chat-input .stop-button")).to_be_visible(timeout=5000)
    time.sleep(0.3)
    page.locator("#chat-input .stop-button").click()
    deadline = time.monotonic() + 3
    while scripted.last_outcome() != "disconnected" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert scripted.last_outcome() == "disconnected"
    page.reload()  # and a stopped answer does not come back
    page.wait_for_selector("#chat-input textarea")
    expect(page.locator("#chat-input .stop-button")).to_have_count(0)


def test_a_tab_already_open_follows_the_answer_when_it_opens_that_conversation(resume_app, scripted, page: Page):
    open_page(page, resume_app.url)
    send(page, "First question")
    expect(page.locator("#chatbot sub")).to_contain_text("OpenAI", timeout=10000)
    other = page.context.new_page()
    open_page(other, resume_app.url)
    other.locator("#new-chat").click()
    long_answer(scripted)
    send(page, "Tell me a long story")
    wait_for_part(page)
    other.locator("#conversation-list label").filter(has_text="First question").click()
    wait_for_part(other, "w15")
    expect(other.locator("#chat-input .stop-button")).to_be_visible()
    expect(other.locator("#chatbot")).to_contain_text("w39", timeout=15000)
    expect(other.locator("#chat-input .stop-button")).to_have_count(0, timeout=5000)
    assert WHOLE in other.locator("#chatbot").inner_text().replace("\n", " ")
    assert len([r for r in scripted.requests if r["path"] == "/v1/chat/completions"]) == 2
