"""The chat in a real Chromium: streaming, Stop, Retry, Undo, Edit, Clear, rendering, failures."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import Page, expect

from support.browsers import open_accordion, open_settings, send, settled
from support.scripted_server import Reply, delta, sse, text_stream

pytestmark = pytest.mark.browser


@pytest.fixture
def chat(app, scripted, page: Page):
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(app.url)
    page.wait_for_selector("#chat-input textarea")
    page.dialogs = dialogs
    return page


def bot(page: Page):
    return page.get_by_test_id("bot")


def test_answer_streams_with_provider_and_model_footer(chat, scripted):
    scripted.default = Reply(chunks=text_stream(*[f"word{i} " for i in range(30)]), delay=0.05)
    send(chat, "Hello")
    expect(chat.get_by_test_id("user").first).to_contain_text("Hello")
    expect(bot(chat).first).to_contain_text("word0", timeout=5000)
    # While it streams, the answer is still incomplete.
    assert "word29" not in bot(chat).first.inner_text()
    expect(chat.locator("#chatbot")).to_contain_text("OpenAI · model-a", timeout=10000)
    expect(chat.locator("#chatbot")).to_contain_text("word29")
    sent = scripted.requests[-1]["body"]["messages"]
    assert sent[-1] == {"role": "user", "content": "Hello"} and sent[0]["role"] == "system"


def test_stop_closes_upstream_and_keeps_partial_answer(chat, scripted):
    scripted.default = Reply(chunks=sse(*[delta(f"tok{i} ") for i in range(300)], delta(finish="stop")), delay=0.03)
    send(chat, "Long answer please")
    expect(bot(chat).first).to_contain_text("tok3", timeout=5000)
    chat.locator("#chat-input .stop-button").click()
    assert scripted.settled_outcome() == "disconnected"
    settled(chat)  # the stopped answer is saved, and shown as saved (what arrived by the Stop)
    partial = bot(chat).first.inner_text()
    assert "tok3" in partial and "tok299" not in partial
    time.sleep(0.5)
    assert bot(chat).first.inner_text().strip() == partial.strip()  # nothing more arrives
    # The textbox works again at once.
    scripted.default = Reply(chunks=text_stream("Next answer"))
    send(chat, "Another")
    expect(chat.locator("#chatbot")).to_contain_text("Next answer", timeout=5000)


def test_failure_shows_actionable_message_and_chat_stays_usable(chat, scripted):
    scripted.queue(Reply.error(401, {"error": {"message": "Incorrect API key provided: sk-ab***wxyz"}}))
    send(chat, "Hi")
    expect(chat.locator("#chatbot")).to_contain_text("OPENAI_API_KEY", timeout=5000)
    assert "wxyz" not in chat.locator("#chatbot").inner_text()
    scripted.default = Reply(chunks=text_stream("Recovered"))
    send(chat, "Again")
    expect(chat.locator("#chatbot")).to_contain_text("Recovered", timeout=5000)


def test_partial_answer_kept_when_stream_breaks(chat, scripted):
    scripted.queue(Reply(chunks=sse(delta("Kept part"), {"error": {"message": "provider fell over"}}, done=False)))
    send(chat, "Hi")
    expect(chat.locator("#chatbot")).to_contain_text("provider fell over", timeout=5000)
    expect(chat.locator("#chatbot")).to_contain_text("Kept part")


def test_retry_undo_edit_and_clear(chat, scripted):
    scripted.queue(Reply(chunks=text_stream("First version")), Reply(chunks=text_stream("Second version")))
    send(chat, "Question")
    expect(chat.locator("#chatbot")).to_contain_text("First version", timeout=5000)
    chat.get_by_role("button", name="Retry").last.click()
    expect(chat.locator("#chatbot")).to_contain_text("Second version", timeout=5000)
    expect(chat.locator("#chatbot")).not_to_contain_text("First version")
    assert scripted.requests[-1]["body"]["messages"][-1] == {"role": "user", "content": "Question"}
    assert len([m for m in scripted.requests[-1]["body"]["messages"] if m["role"] == "user"]) == 1

    chat.get_by_role("button", name="Undo").last.click()
    expect(chat.locator("#chatbot")).not_to_contain_text("Second version", timeout=5000)
    expect(chat.locator("#chat-input textarea")).to_have_value("Question")

    scripted.queue(Reply(chunks=text_stream("Answer to original")), Reply(chunks=text_stream("Answer to edited")))
    send(chat, "Original")
    expect(chat.locator("#chatbot")).to_contain_text("Answer to original", timeout=5000)
    chat.get_by_test_id("user").last.hover()
    chat.get_by_role("button", name="Edit").last.click()
    editor = chat.locator("#chatbot textarea")
    editor.fill("Edited question")
    chat.locator("#chatbot").get_by_role("button", name="Submit").click()
    expect(chat.locator("#chatbot")).to_contain_text("Answer to edited", timeout=5000)
    assert scripted.requests[-1]["body"]["messages"][-1] == {"role": "user", "content": "Edited question"}

    chat.get_by_role("button", name="Clear").click()
    expect(chat.get_by_test_id("bot")).to_have_count(0, timeout=5000)


def test_markdown_code_latex_and_harmless_html(chat, scripted):
    answer = (
        "**Bold** text.\n\nInline $a^2$, and \\(b_1\\), display:\n\n$$E = mc^2$$\n\n\\[\\int_0^1 x\\,dx\\]\n\n"
        "```python\nprint('hi')\n```\n\n<script>alert('xss')</script><img src=x onerror=\"alert('img')\">"
        "<a href=\"javascript:alert('link')\">link</a>"
    )
    scripted.queue(Reply(chunks=text_stream(answer)))
    send(chat, "Show formatting")
    message = bot(chat).first
    expect(message.locator("strong")).to_have_text("Bold", timeout=5000)
    expect(message.locator(".katex")).to_have_count(4)
    expect(message.locator("pre code")).to_contain_text("print('hi')")
    expect(message.locator("button[aria-label*='opy'], .copy_code_button, button[title*='opy']").first).to_be_attached()
    assert message.locator("script").count() == 0
    assert message.locator("[onerror]").count() == 0
    chat.wait_for_timeout(500)
    assert chat.dialogs == []


def test_active_html_in_an_answer_cannot_submit_or_navigate(chat, scripted):
    answer = (
        'Here:\n\n<form action="/" method="get"><input name="q" value="x">'
        '<button type="submit">Press me</button></form>\n\n<a href="/?away=1">Go away</a> or [go there](/?away=2)'
    )
    scripted.queue(Reply(chunks=text_stream(answer)))
    # The person's own words are shown as written: a form in the question is a form.
    send(chat, 'Show me a form <form action="/" method="get"><button type="submit">Press mine</button></form>')
    message = bot(chat).first
    expect(message).to_contain_text('<button type="submit">Press me</button>', timeout=5000)  # an answer's is text
    expect(message.get_by_role("button")).to_have_count(0)
    chat.evaluate("window.__still_here = 42")
    url = chat.url
    chat.get_by_test_id("user").first.get_by_role("button", name="Press mine").click()
    chat.wait_for_timeout(700)
    assert chat.evaluate("window.__still_here") == 42 and chat.url == url
    expect(message.get_by_role("link", name="Go away")).to_have_count(0)
    with chat.context.expect_page(timeout=5000) as opened:
        message.get_by_role("link", name="go there").click()
    opened.value.close()
    chat.wait_for_timeout(300)
    assert chat.evaluate("window.__still_here") == 42 and chat.url == url
    expect(chat.locator("#chatbot")).to_contain_text("Show me a form")


def test_silence_shows_the_time_waited_then_the_answer(chat, scripted):
    scripted.queue(Reply(chunks=text_stream("Worth", " the wait."), first_delay=2.5))
    send(chat, "Think hard")
    expect(chat.locator("#chatbot")).to_contain_text("Waiting for OpenAI to answer… 1 s", timeout=5000)
    expect(bot(chat).first).to_contain_text("Worth the wait.", timeout=8000)
    expect(chat.locator("#chatbot")).not_to_contain_text("Waiting for OpenAI")


def test_parameters_left_empty_send_nothing_and_a_value_out_of_range_is_refused(chat, scripted):
    open_settings(chat)
    open_accordion(chat, chat.get_by_text("Parameters"))
    box = chat.locator("#temperature textarea")
    expect(box).to_be_visible()
    send(chat, "Defaults?")
    expect(bot(chat).first).to_contain_text("Hello there!", timeout=5000)
    body = scripted.requests[-1]["body"]
    assert not {"temperature", "top_p", "max_tokens"} & set(body), body  # an opened panel sent 0s before
    box.fill("9")
    send(chat, "Too hot?")
    expect(chat.locator("#chatbot")).to_contain_text("temperature must be a number from 0 to 2; got 9", timeout=5000)
    assert len([r for r in scripted.requests if r["path"] == "/v1/chat/completions"]) == 1
    box.fill("0,3")
    send(chat, "Now?")
    expect(bot(chat).last).to_contain_text("OpenAI", timeout=5000)
    assert scripted.requests[-1]["body"]["temperature"] == 0.3


def test_a_broken_character_is_refused_by_name_and_the_browser_stays_usable(chat, scripted):
    """A lone UTF-16 surrogate pasted into the box hung the answer with a bare "Error", and every
    later page of that browser showed "Error" on every control (each load resumed the failed run)."""
    box = chat.locator("#chat-input textarea")
    box.evaluate(
        "(el, text) => { el.value = text; el.dispatchEvent(new Event('input', {bubbles: true})); }", "Bonjour \ud83d le monde"
    )
    box.press("Enter")
    expect(chat.locator("#chatbot")).to_contain_text("broken character", timeout=5000)
    expect(chat.locator("#chatbot")).to_contain_text("at character 9")
    expect(chat.get_by_test_id("user").last).to_contain_text("Bonjour \ufffd le monde")
    assert not [r for r in scripted.requests if r["path"] == "/v1/chat/completions"]
    chat.reload()
    chat.wait_for_selector("#chat-input textarea")
    send(chat, "Still there?")
    expect(chat.locator("#chatbot")).to_contain_text("Hello there!", timeout=15000)
    expect(chat.locator(".error, [data-testid='toast-body']")).to_have_count(0)
