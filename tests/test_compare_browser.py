"""Compare mode in a real Chromium: two models answer side by side, blind; a vote reveals them and
moves the leaderboard; follow-ups continue each side's conversation; on a phone the answers stack."""

from __future__ import annotations

import csv
import re
import time

import pytest
from playwright.sync_api import Page, expect

from support.apps import RunningApp
from support.scripted_server import Reply, text_stream

pytestmark = pytest.mark.browser

ANSWERS = {"model-a": "Alpha answers first.", "model-b": "Beta takes its time."}


@pytest.fixture
def compare_app(scripted, tmp_path):
    running = RunningApp({"OPENAI_BASE_URL": scripted.base_url, "CAUSERIE_DATA_DIR": str(tmp_path)})
    yield running
    running.close()


def queue_answers(scripted, rounds: int = 1, first_delay: float = 0.0) -> None:
    """model-a answers fast, model-b slowly (after `first_delay` of silence), word by word."""
    for _ in range(rounds):
        for model, delay in (("model-a", 0.02), ("model-b", 0.3)):
            scripted.queue_for(
                model,
                Reply(
                    chunks=text_stream(*re.findall(r"\S+\s*", ANSWERS[model])),
                    delay=delay,
                    first_delay=first_delay if model == "model-b" else 0.0,
                ),
            )


def open_compare(page: Page, url: str, tab: str = "Compare") -> None:
    page.goto(url)
    page.wait_for_selector("#chat-input textarea")
    page.get_by_role("tab", name=tab).click()
    # The first two boxes get a model each once the tab opens (the offline model may be one): the
    # test picks its own.
    # The boxes list models as the chat's picker does: "OpenAI · model-a" for "openai:model-a".
    expect(page.locator("#compare-model-0 input")).to_have_value(re.compile("^OpenAI · model-"), timeout=10000)
    for index, label in enumerate(("OpenAI · model-a", "OpenAI · model-b")):
        box = page.locator(f"#compare-model-{index} input")
        box.click()
        page.locator(f"#compare-model-{index}").get_by_role("option", name=label, exact=True).click()
        expect(box).to_have_value(label)


def ask(page: Page, question: str) -> None:
    box = page.locator("#compare-input textarea")
    box.fill(question)
    box.press("Enter")


def side_text(page: Page, index: int) -> str:
    return page.locator(f"#compare-chat-{index}").inner_text()


def test_blind_vote_reveals_the_models_and_moves_the_leaderboard(compare_app, scripted, page: Page):
    queue_answers(scripted, rounds=2, first_delay=1.6)
    open_compare(page, compare_app.url)
    ask(page, "Which is faster?")
    # A silent model is waited for without its provider's name ("Waiting for OpenAI…" in the chat).
    sides = page.locator("#compare-side-0, #compare-side-1")
    expect(sides.filter(has_text="Waiting for the answer")).to_have_count(1, timeout=10000)
    assert "OpenAI" not in page.locator("#compare-tab").inner_text()
    for index in (0, 1):
        expect(page.locator(f"#compare-chat-{index} [data-testid='bot']").first).to_contain_text(
            re.compile("Alpha answers first|Beta takes its time"), timeout=15000
        )
    expect(page.locator("#vote-0")).to_be_visible(timeout=15000)
    expect(page.locator("#vote-bad")).to_have_text("Both are bad")
    expect(page.locator("#vote-2")).to_be_hidden()
    # Blind: the sides are A and B, and nothing on the page names the models yet.
    for index, letter in enumerate("AB"):
        expect(page.locator(f"#compare-chat-{index}")).to_contain_text("to first token")
        expect(page.locator(f"#compare-chat-{index} [data-testid='block-label']")).to_have_text(letter)
        assert "model-a" not in side_text(page, index) and "model-b" not in side_text(page, index)

    winner_index = 0 if "Alpha" in side_text(page, 0) else 1
    page.locator(f"#vote-{winner_index}").click()
    expect(page.locator("#compare-note")).to_contain_text("Vote kept", timeout=10000)
    expect(page.locator("#compare-note")).to_contain_text(f"{'AB'[winner_index]} was openai:model-a")
    expect(page.locator("#vote-0")).to_be_hidden()  # one vote per question
    expect(page.locator("#compare-chat-0 [data-testid='block-label']")).to_contain_text("openai:model-")

    # A follow-up goes on with each side's own conversation; no vote now that the names show.
    ask(page, "And now?")
    expect(page.locator("#compare-note")).to_contain_text("The names show", timeout=15000)
    expect(page.locator("#vote-0")).to_be_hidden()
    asked = [r["body"] for r in scripted.requests if r["path"] == "/v1/chat/completions"]
    assert len(asked) == 4
    for body in asked[2:]:
        said = [m["content"] for m in body["messages"] if m["role"] == "assistant"]
        assert said == [ANSWERS[body["model"]]]  # its own answer, not the other side's

    page.get_by_role("tab", name="Leaderboard").click()
    expect(page.locator("#leaderboard-summary")).to_contain_text("1 vote · 2 models", timeout=15000)
    # One win, plus the prior's one tie: 1.5 to 0.5, three to one, 400 × log10(3) = 191 points apart.
    expect(page.locator("#leaderboard")).to_contain_text(
        re.compile(r"1\s+openai:model-a\s+1,095.*2\s+openai:model-b\s+905", re.S)
    )

    # The same table as CSV.
    with page.expect_download() as download:
        page.locator("#leaderboard-csv").click()
    with open(download.value.path(), newline="", encoding="utf-8") as handle:
        records = list(csv.DictReader(handle))
    assert [r["model"] for r in records] == ["openai:model-a", "openai:model-b"]
    assert records[0]["wins"] == "1" and records[1]["losses"] == "1"


def test_answers_stack_on_a_phone(compare_app, scripted, browser):
    queue_answers(scripted)
    page = browser.new_page(viewport={"width": 390, "height": 844})
    try:
        open_compare(page, compare_app.url)
        ask(page, "Hello?")
        expect(page.locator("#vote-0")).to_be_visible(timeout=15000)
        first, second = (page.locator(f"#compare-side-{i}").bounding_box() for i in (0, 1))
        assert second["y"] >= first["y"] + first["height"] - 1  # one under the other
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    finally:
        page.close()


def test_stop_stops_every_side_in_french_too(compare_app, scripted, browser):
    for model in ("model-a", "model-b"):
        scripted.queue_for(model, Reply(chunks=text_stream(*[f"mot{n} " for n in range(60)]), delay=0.2))
    context = browser.new_context(locale="fr-FR")
    page = context.new_page()
    try:
        open_compare(page, compare_app.url, tab="Comparer")
        expect(page.locator("#compare-input textarea")).to_have_attribute("placeholder", re.compile("Posez votre question"))
        ask(page, "Bonjour ?")
        for index in (0, 1):
            expect(page.locator(f"#compare-chat-{index} [data-testid='bot']").first).to_contain_text("mot2", timeout=15000)
        page.locator("#compare-stop").click()
        chats = lambda: [r for r in scripted.requests if r["path"] == "/v1/chat/completions"]  # noqa: E731
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and any(r["outcome"] == "open" for r in chats()):
            time.sleep(0.05)
        assert [r["outcome"] for r in chats()] == ["disconnected", "disconnected"]
        expect(page.locator("#vote-0")).to_be_hidden()  # a stopped question is not voted on
        page.get_by_role("tab", name="Classement").click()
        expect(page.locator("#leaderboard-summary")).to_contain_text("Aucun vote pour l'instant", timeout=10000)
    finally:
        context.close()


def test_with_a_single_model_compare_says_so_where_the_person_looks(page: Page):
    """No key: the offline model alone (or nothing, without llama.cpp). The note above the
    answers says Compare needs two, and where a key goes."""
    offline = RunningApp({})
    try:
        page.goto(offline.url)
        page.wait_for_selector("#chat-input textarea")
        page.get_by_role("tab", name="Compare").click()
        note = page.locator("#compare-models-note")
        expect(note).to_contain_text(re.compile(r"Compare needs two|No model is available here"), timeout=10000)
        expect(note).to_contain_text("Settings › Your API key")
        expect(note).to_be_in_viewport()
    finally:
        offline.close()


def test_a_comparison_goes_on_in_a_chat_each_side_a_version(compare_app, scripted, page: Page):
    queue_answers(scripted)
    open_compare(page, compare_app.url)
    page.locator("#compare-blind input").uncheck()
    ask(page, "Who are you?")
    expect(page.locator("#compare-chat-1")).to_contain_text("Beta takes its time.", timeout=15000)
    page.locator("#compare-to-chat").click()
    chat = page.locator("#chatbot")
    expect(page.get_by_role("tab", name="Chat")).to_have_attribute("aria-selected", "true", timeout=10000)
    expect(chat).to_contain_text("Who are you?", timeout=10000)
    shown = chat.inner_text()
    first, other = ("Alpha answers first.", "Beta takes its time.")
    if other in shown:
        first, other = other, first
    expect(chat).to_contain_text(first)
    expect(chat).to_contain_text("1/2")
    chat.locator('a[href^="#causerie-version-next-"]').click()
    expect(chat).to_contain_text(other, timeout=10000)
    expect(chat).to_contain_text("2/2")
    expect(chat).to_contain_text("openai:model-")  # (the model that wrote it, as the names show)
