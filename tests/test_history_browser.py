"""Conversations in a real Chromium: they outlive a reload and a server restart, follow their
settings, keep going when the person switches mid-answer, export and import losslessly, and, for
a signed-in person, follow them to another browser through SQLite and PostgreSQL."""

from __future__ import annotations

import json
import re
import time

import pytest
from playwright.sync_api import Browser, Page, expect

from support.browsers import open_accordion, open_settings, settled, stored
from support.history_pages import SECRET, ask, listed, open_page, start_app, wait_listed
from support.scripted_server import Reply, delta, sse, text_stream

pytestmark = pytest.mark.browser


def new_chat(page: Page) -> None:
    page.locator("#new-chat").click()
    expect(page.get_by_test_id("user")).to_have_count(0, timeout=5000)


def open_tools(page: Page) -> None:
    open_accordion(page, page.locator("#conversation-tools").get_by_text("This conversation"))


def set_settings(page: Page, system_prompt: str, temperature: str) -> None:
    open_settings(page)
    page.locator("#system-prompt textarea").fill(system_prompt)
    page.locator("#settings").get_by_text("Parameters").click()
    page.locator("#temperature textarea, #temperature input").first.fill(temperature)


def test_a_chat_survives_reload_with_its_settings_and_is_sealed(history_app, scripted, page: Page):
    scripted.default = Reply(chunks=text_stream("Rayleigh ", "scattering."))
    open_page(page, history_app.url)
    set_settings(page, "Answer in one word.", "0.3")
    ask(page, "Why is the sky blue?")
    wait_listed(page, "Why is the sky blue?")
    settled(page)
    kept = stored(page)
    assert "sky" not in kept and "Rayleigh" not in kept  # sealed, not plain text

    page.reload()
    page.wait_for_selector("#chat-input textarea")
    expect(page.locator("#chatbot")).to_contain_text("Rayleigh scattering.", timeout=10000)
    expect(page.get_by_test_id("user").first).to_contain_text("Why is the sky blue?")
    expect(page.locator("#chatbot")).to_contain_text("OpenAI · ")
    expect(page.locator("#system-prompt textarea")).to_have_value("Answer in one word.")
    open_settings(page)
    page.locator("#settings").get_by_text("Parameters").click()
    expect(page.locator("#temperature textarea, #temperature input").first).to_have_value("0.3")
    wait_listed(page, "Why is the sky blue?")

    # The conversation goes on from where it was, with its settings.
    scripted.default = Reply(chunks=text_stream("Blue."))
    ask(page, "And at sunset?")
    sent = scripted.requests[-1]["body"]
    assert sent["temperature"] == 0.3 and sent["messages"][0]["content"] == "Answer in one word."
    assert [m["content"] for m in sent["messages"][1:]] == ["Why is the sky blue?", "Rayleigh scattering.", "And at sunset?"]


def test_a_chat_survives_a_server_restart_with_the_same_secret(scripted, tmp_path, page: Page):
    scripted.default = Reply(chunks=text_stream("Kept ", "across restarts."))
    first = start_app(scripted, tmp_path)
    port = first.port
    try:
        open_page(page, first.url)
        ask(page, "Remember me")
        wait_listed(page, "Remember me")
        settled(page)
    finally:
        first.close()
    second = start_app(scripted, tmp_path, port=port)
    try:
        page.reload()
        page.wait_for_selector("#chat-input textarea")
        expect(page.locator("#chatbot")).to_contain_text("Kept across restarts.", timeout=10000)
        wait_listed(page, "Remember me")
    finally:
        second.close()
    # Another secret cannot read it: the page says so and starts a fresh list instead of breaking.
    third = start_app(scripted, tmp_path, port=port, HISTORY_SECRET="an-entirely-different-secret")
    try:
        page.reload()
        page.wait_for_selector("#chat-input textarea")
        expect(page.locator("#history-notice")).to_contain_text("could not be read", timeout=10000)
        expect(listed(page)).to_have_count(0)
        scripted.default = Reply(chunks=text_stream("Fresh start."))
        ask(page, "New beginning")
        wait_listed(page, "New beginning")
    finally:
        third.close()
    # The secret rotated: with the earlier ones listed, both open again.
    fourth = start_app(
        scripted,
        tmp_path,
        port=port,
        HISTORY_SECRET="a-fourth-secret-after-rotation",
        HISTORY_OLD_SECRETS=f"an-entirely-different-secret, {SECRET}",
    )
    try:
        page.reload()
        page.wait_for_selector("#chat-input textarea")
        wait_listed(page, "New beginning")
        wait_listed(page, "Remember me")
        expect(page.locator("#history-notice")).not_to_contain_text("could not be read")
    finally:
        fourth.close()


def test_switching_mid_answer_stops_nothing_and_loses_nothing(history_app, scripted, page: Page):
    open_page(page, history_app.url)
    scripted.default = Reply(chunks=text_stream("First answer."))
    ask(page, "Quick one")
    wait_listed(page, "Quick one")

    scripted.default = Reply(chunks=text_stream(*[f"w{i} " for i in range(60)]), delay=0.05)
    new_chat(page)
    ask(page, "Slow one", wait=False)
    expect(page.get_by_test_id("bot").first).to_contain_text("w2", timeout=5000)
    page.locator("#conversation-list").get_by_text("Quick one").click()
    expect(page.locator("#chatbot")).to_contain_text("First answer.", timeout=5000)
    # While the other answer goes on, nothing of it shows here, and Enter sends nothing: the text
    # waits in the box.
    box = page.locator("#chat-input textarea")
    box.fill("Too early")
    box.press("Enter")
    for _ in range(10):
        assert "w3" not in page.locator("#chatbot").inner_text()
        time.sleep(0.1)
    expect(box).to_have_value("Too early")
    assert "Too early" not in page.locator("#chatbot").inner_text()
    box.fill("")
    assert scripted.settled_outcome(10) == "completed"  # the switch stopped nothing
    wait_listed(page, "Slow one")
    page.locator("#conversation-list").get_by_text("Slow one").click()
    expect(page.locator("#chatbot")).to_contain_text("w59", timeout=5000)
    expect(page.locator("#chatbot")).to_contain_text("OpenAI · ")

    # Stop still works, and what was stopped is kept.
    scripted.default = Reply(chunks=sse(*[delta(f"t{i} ") for i in range(300)], delta(finish="stop")), delay=0.03)
    ask(page, "Stop me", wait=False)
    expect(page.get_by_test_id("bot").last).to_contain_text("t3", timeout=5000)
    page.locator("#chat-input .stop-button").click()
    time.sleep(0.5)
    partial = page.get_by_test_id("bot").last.inner_text()
    settled(page)
    page.reload()
    page.wait_for_selector("#chat-input textarea")
    page.locator("#conversation-list").get_by_text("Slow one").click()
    expect(page.locator("#chatbot")).to_contain_text("Stop me", timeout=5000)
    assert partial.strip().split()[0] in page.locator("#chatbot").inner_text()


def test_two_tabs_of_one_browser_keep_each_others_chats(history_app, scripted, page: Page):
    """Each tab's BrowserState read localStorage when it opened; saves merge what is there now."""
    first = open_page(page, history_app.url)
    second = open_page(page.context.new_page(), history_app.url)
    scripted.default = Reply(chunks=text_stream("From the first tab."))
    ask(first, "First tab question")
    wait_listed(first, "First tab question")
    settled(first)
    scripted.default = Reply(chunks=text_stream("From the second tab."))
    ask(second, "Second tab question")
    wait_listed(second, "Second tab question")
    wait_listed(second, "First tab question")  # merged in at its save
    first.locator("#conversation-list").get_by_text("First tab question").click()
    open_tools(first)
    first.locator("#delete-conversation").click()
    expect(listed(first)).to_have_count(1, timeout=5000)
    # The second tab still shows it; its next save must not bring it back.
    scripted.default = Reply(chunks=text_stream("Again."))
    ask(second, "One more")
    time.sleep(0.5)
    for tab in (first, second):
        tab.reload()
        tab.wait_for_selector("#chat-input textarea")
        wait_listed(tab, "Second tab question")
        expect(tab.locator("#conversation-list")).not_to_contain_text("First tab question")


def test_export_then_import_gives_back_the_same_conversation(history_app, scripted, page: Page, browser: Browser, tmp_path):
    scripted.default = Reply(chunks=sse(delta(reasoning_content="Light scatters."), delta("Rayleigh."), delta(finish="stop")))
    open_page(page, history_app.url)
    set_settings(page, "Be precise.", "0.7")
    ask(page, "Why is the sky blue?")
    wait_listed(page, "Why is the sky blue?")
    settled(page)
    open_tools(page)
    with page.expect_download() as got:
        page.locator("#export-json").click()
    exported = json.loads(open(got.value.path()).read())
    assert exported["messages"][1]["thinking"] == "Light scatters." and exported["messages"][1]["content"] == "Rayleigh."
    assert exported["settings"]["system_prompt"] == "Be precise." and exported["settings"]["temperature"] == "0.7"
    assert exported["settings"]["provider"] == "openai" and exported["settings"]["model"] == "model-a"
    with page.expect_download() as got_md:
        page.locator("#export-markdown").click()
    assert got_md.value.suggested_filename.endswith(".md")
    assert "## You" in open(got_md.value.path()).read()

    saved = tmp_path / "export.json"
    saved.write_text(json.dumps(exported))
    fresh = open_page(browser.new_context().new_page(), history_app.url)
    expect(listed(fresh)).to_have_count(0)
    open_tools(fresh)
    fresh.locator("#import-conversations input[type=file], input[type=file]").first.set_input_files(str(saved))
    expect(fresh.locator("#chatbot")).to_contain_text("Rayleigh.", timeout=10000)
    # Good news, not a warning: an info toast, and the notice says it without a warning sign.
    toast = fresh.get_by_test_id("toast-body").filter(has_text="Imported 1 conversation")
    expect(toast).to_have_class(re.compile(r"\binfo\b"))
    expect(fresh.locator("#history-notice")).to_have_text(re.compile(r"^\s*✓ Imported 1 conversation"))
    expect(fresh.locator("#chatbot")).to_contain_text("Thinking")  # folded; its text is checked in the export below
    expect(fresh.locator("#system-prompt textarea")).to_have_value("Be precise.")
    wait_listed(fresh, "Why is the sky blue?")
    with fresh.expect_download() as again:
        fresh.locator("#export-json").click()
    assert json.loads(open(again.value.path()).read()) == exported


def two_chats(page: Page, scripted) -> None:
    """A letter, then a script: two conversations, the script's the most recent."""
    for question in ("Letter to my landlord", "Python script to rename files"):
        scripted.default = Reply(chunks=text_stream(f"Answer about {question.split()[0]}."))
        new_chat(page)
        ask(page, question)
        wait_listed(page, question)


def test_rename_search_and_delete(history_app, scripted, page: Page):
    open_page(page, history_app.url)
    two_chats(page, scripted)
    expect(listed(page)).to_have_count(2)
    assert listed(page).first.inner_text().strip() == "Python script to rename files"  # most recent first

    page.locator("#conversation-search input, #conversation-search textarea").first.fill("landlord")
    expect(listed(page)).to_have_count(1)
    page.locator("#conversation-search input, #conversation-search textarea").first.fill("answer about python")
    expect(listed(page)).to_have_count(1)
    expect(listed(page).first).to_contain_text("Python script")
    page.locator("#conversation-search input, #conversation-search textarea").first.fill("")
    expect(listed(page)).to_have_count(2)

    open_tools(page)
    title = page.locator("#conversation-title input, #conversation-title textarea").first
    title.fill("Renaming script")
    expect(title).to_have_value("Renaming script")
    title.press("Enter")
    wait_listed(page, "Renaming script")
    page.locator("#delete-conversation").click()  # the confirm dialog is accepted
    expect(listed(page)).to_have_count(1)
    expect(page.locator("#chatbot")).to_contain_text("Letter to my landlord", timeout=5000)
    page.reload()
    page.wait_for_selector("#chat-input textarea")
    expect(listed(page)).to_have_count(1)
    wait_listed(page, "Letter to my landlord")


def test_a_pinned_conversation_and_a_pinned_preset_stay_first(history_app, scripted, page: Page):
    open_page(page, history_app.url)
    two_chats(page, scripted)
    listed(page).filter(has_text="Letter to my landlord").click()
    expect(page.get_by_test_id("user").first).to_contain_text("Letter to my landlord", timeout=5000)
    open_tools(page)
    page.locator("#pin-conversation").click()
    expect(listed(page).first).to_have_text(re.compile(r"^\s*📌 Letter to my landlord\s*$"), timeout=5000)
    new_chat(page)
    ask(page, "A third question")
    wait_listed(page, "A third question")
    expect(listed(page).first).to_contain_text("📌 Letter to my landlord")
    expect(listed(page).nth(1)).to_contain_text("A third question")

    # A preset pinned in this browser comes first in the menu, marked.
    open_settings(page)
    preset = page.locator("#preset input")
    preset.click()
    page.get_by_role("option", name="Scripts and code (EN)").click()
    page.locator("#pin-preset").click()
    preset.click()
    expect(page.get_by_role("option").first).to_have_attribute("aria-label", "📌 Scripts and code (EN)")
    preset.press("Escape")

    page.reload()
    page.wait_for_selector("#chat-input textarea")
    expect(listed(page).first).to_contain_text("📌 Letter to my landlord", timeout=10000)
    # The page opens on the conversation changed last, not on the pinned one.
    expect(page.get_by_test_id("user").first).to_contain_text("A third question", timeout=10000)
    open_settings(page)
    preset.click()
    expect(page.get_by_role("option").first).to_have_attribute("aria-label", "📌 Scripts and code (EN)", timeout=10000)
    preset.press("Escape")

    # Unpinned, it goes back to its place by date.
    listed(page).filter(has_text="Letter to my landlord").click()
    expect(page.get_by_test_id("user").first).to_contain_text("Letter to my landlord", timeout=5000)
    open_tools(page)
    page.locator("#pin-conversation").click()
    expect(listed(page).last).to_have_text(re.compile(r"^\s*Letter to my landlord\s*$"), timeout=5000)


def sign_in(browser: Browser, url: str, user: str, password: str) -> Page:
    """A browser of its own (its own storage), signed in through Gradio's login form."""
    page = browser.new_context().new_page()
    page.goto(url)
    page.get_by_label("username").fill(user)
    page.get_by_label("password").fill(password)
    page.get_by_role("button", name="Login").click()
    page.wait_for_selector("#chat-input textarea", timeout=15000)
    return page


def test_a_signed_in_person_sees_the_same_chats_from_two_browsers(scripted, tmp_path, browser: Browser, database_url):
    running = start_app(scripted, tmp_path, AUTH_USERS="alice:alice-password,bob:bob-password", DATABASE_URL=database_url)
    try:
        scripted.default = Reply(chunks=text_stream("Saved on the server."))
        laptop = sign_in(browser, running.url, "alice", "alice-password")
        ask(laptop, "Alice's question")
        wait_listed(laptop, "Alice's question")
        # Kept on the server, not in this browser.
        time.sleep(0.5)
        assert stored(laptop) is None

        phone = sign_in(browser, running.url, "alice", "alice-password")
        wait_listed(phone, "Alice's question")
        expect(phone.locator("#chatbot")).to_contain_text("Saved on the server.", timeout=10000)
        scripted.default = Reply(chunks=text_stream("Second device answer."))
        ask(phone, "From the phone")
        laptop.reload()
        expect(laptop.locator("#chatbot")).to_contain_text("Second device answer.", timeout=15000)

        other = sign_in(browser, running.url, "bob", "bob-password")
        expect(listed(other)).to_have_count(0)
        assert "Alice" not in other.locator("#chatbot").inner_text()
    finally:
        running.close()


def test_when_the_store_goes_down_the_chat_stays_on_the_page_and_reaches_the_store_as_soon_as_it_is_back(
    scripted, tmp_path, browser: Browser
):
    """Written when the store answers, with nothing more done on the page: here it is even closed
    first (before, it was written only at the page's next event, so closing it lost the chat)."""
    from support.postgres_server import PostgresServer, binaries

    if binaries() is None:
        pytest.skip("PostgreSQL not found: apt-get install postgresql")
    server = PostgresServer().start()
    running = start_app(scripted, tmp_path, AUTH_USERS="alice:alice-password", DATABASE_URL=server.url)
    try:
        scripted.default = Reply(chunks=text_stream("Stored."))
        page = sign_in(browser, running.url, "alice", "alice-password")
        ask(page, "Before the outage")
        wait_listed(page, "Before the outage")
        server.halt()
        scripted.default = Reply(chunks=text_stream("Still answered."))
        new_chat(page)
        ask(page, "During the outage")
        expect(page.locator("#history-notice")).to_contain_text("cannot be reached", timeout=15000)
        wait_listed(page, "During the outage")  # kept with the page
        time.sleep(0.5)
        # Never in the browser, which another person may share.
        assert stored(page) is None
        page.context.close()
        server.start()
        elsewhere = sign_in(browser, running.url, "alice", "alice-password")
        deadline = time.monotonic() + 30
        while "During the outage" not in elsewhere.locator("#conversation-list").inner_text():
            assert time.monotonic() < deadline, "what the page kept never reached the store"
            time.sleep(1)
            elsewhere.reload()
            elsewhere.wait_for_selector("#chat-input textarea")
        wait_listed(elsewhere, "Before the outage")
    finally:
        running.close()
        server.stop()


def test_a_temporary_chat_is_saved_nowhere_and_says_so(history_app, scripted, page: Page):
    """Marked while it lasts; the provider is asked to keep nothing (OpenAI: `store: false`);
    nothing of it reaches the list, the browser or a reload. A new chat after it is kept as usual."""
    open_page(page, history_app.url)
    ask(page, "A kept question")
    wait_listed(page, "A kept question")
    settled(page)
    kept = stored(page)
    page.locator("#temporary-chat").click()
    expect(page.locator("#temporary-note")).to_be_visible()
    expect(page.locator("#temporary-note")).to_contain_text("saved nowhere here")
    expect(page.get_by_test_id("bot")).to_have_count(0, timeout=10000)
    ask(page, "A secret question")
    chats = [r for r in scripted.requests if r["path"] == "/v1/chat/completions"]
    assert chats[-1]["body"]["store"] is False and "store" not in chats[-2]["body"]
    time.sleep(1.5)  # (time for a save, were there one)
    expect(listed(page)).to_have_count(1)
    assert stored(page) == kept and "secret" not in (stored(page) or "")
    # Another conversation ends it: no mark, and what is asked there is kept.
    page.locator("#new-chat").click()
    expect(page.locator("#temporary-note")).to_be_hidden()
    expect(page.get_by_test_id("bot")).to_have_count(0, timeout=10000)
    ask(page, "Kept again")
    wait_listed(page, "Kept again")
    assert "store" not in scripted.requests[-1]["body"]
    page.reload()
    page.wait_for_selector("#chat-input textarea")
    expect(page.locator("#chatbot")).to_contain_text("Kept again", timeout=10000)
    expect(page.locator("#conversation-list")).not_to_contain_text("A secret question")
    expect(page.locator("#temporary-note")).to_be_hidden()
