"""A question sends the mark of the page's chat, not the chat (ChatHandlers.submit), and is answered
from the copy of the chat the server gave the page. In a real Chromium: the browser marks a chat as
the server does; asking, Retry, Undo, Edit and the bin keep that copy in step (each answer sees the
right earlier turns, and the page is never asked for its chat: conftest checks that in every
browser test, which also open conversations, start new ones, reload and follow running answers);
and when the server has let the page's session go (as for a page whose heartbeat it lost), the page
is asked for its chat, sends it, and the answer sees every earlier turn."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from causerie.ui.app import CHAT_MARK_JS
from causerie.ui.render import chat_mark, message

from support.apps import times_asked
from support.browsers import send, settled
from support.scripted_server import Reply, chat_requests, delta, sse, text_stream

pytestmark = pytest.mark.browser


def history(scripted) -> list[tuple[str, str]]:
    """The last chat request's messages after the system prompt, as (role, text)."""
    messages = chat_requests(scripted)[-1]["body"]["messages"]
    return [(m["role"], m["content"]) for m in messages if m["role"] != "system"]


def ended(page: Page, answer: str) -> None:
    expect(page.locator("#chatbot")).to_contain_text(answer, timeout=10000)
    expect(page.locator("#chat-input .stop-button")).to_have_count(0, timeout=10000)


def test_the_browser_marks_a_chat_as_the_server_does(page: Page):
    picture = {"path": "/tmp/x.png", "orig_name": "x.png", "mime_type": "image/png", "size": 3}
    chats = [
        [],
        [
            message("user", "Pourquoi le ciel est-il bleu ? 🌍"),
            message("assistant", "Réfléchi", {"title": "Thinking"}),
            message("assistant", "Diffusion de Rayleigh : λ⁻⁴ — 光の散乱"),
        ],
        [message("user", "", files=[picture]), message("user", "see", files=[picture, picture])],
        [{"role": "assistant", "content": "plain text"}, None, {"role": "user", "content": {"path": "x"}}],
    ]
    for chat in chats:
        assert page.evaluate(CHAT_MARK_JS, chat) == chat_mark(chat), chat


def test_asking_retry_undo_edit_and_the_bin_keep_the_servers_copy_in_step(app, scripted, page: Page, asked):
    page.goto(app.url)
    page.wait_for_selector("#chat-input textarea")
    # Accents, an emoji (two UTF-16 units, four UTF-8 bytes) and a thought shown above the answer.
    scripted.queue(
        Reply(chunks=sse(delta(reasoning_content="Je réfléchis…"), delta("Un café ☕, s'il vous plaît 😀"), delta(finish="stop")))
    )
    send(page, "Première question : où est le café ?")
    ended(page, "s'il vous plaît")
    scripted.queue(Reply(chunks=text_stream("Second answer")))
    send(page, "Second")
    ended(page, "Second answer")
    assert history(scripted) == [
        ("user", "Première question : où est le café ?"),
        ("assistant", "Un café ☕, s'il vous plaît 😀"),
        ("user", "Second"),
    ]

    scripted.queue(Reply(chunks=text_stream("Second, retried")), Reply(chunks=text_stream("Third answer")))
    page.get_by_role("button", name="Retry").last.click()
    ended(page, "Second, retried")
    send(page, "Third")
    ended(page, "Third answer")
    assert history(scripted)[2:] == [("user", "Second"), ("assistant", "Second, retried"), ("user", "Third")]

    page.get_by_role("button", name="Undo").last.click()
    expect(page.locator("#chatbot")).not_to_contain_text("Third answer", timeout=5000)
    page.locator("#chat-input textarea").fill("")
    scripted.queue(Reply(chunks=text_stream("After the undo")))
    send(page, "Instead of the third")
    ended(page, "After the undo")
    assert history(scripted)[2:] == [("user", "Second"), ("assistant", "Second, retried"), ("user", "Instead of the third")]

    scripted.queue(Reply(chunks=text_stream("Edited answer")), Reply(chunks=text_stream("After the edit")))
    page.get_by_test_id("user").last.hover()
    page.get_by_role("button", name="Edit").last.click()
    page.locator("#chatbot textarea").fill("Edited third")
    page.locator("#chatbot").get_by_role("button", name="Submit").click()
    ended(page, "Edited answer")
    send(page, "Fourth")
    ended(page, "After the edit")
    assert history(scripted)[4:] == [("user", "Edited third"), ("assistant", "Edited answer"), ("user", "Fourth")]

    page.get_by_role("button", name="Clear").click()
    expect(page.get_by_test_id("bot")).to_have_count(0, timeout=5000)
    settled(page)  # the bin then opens a new conversation (through the queue), which empties the chat again
    scripted.queue(Reply(chunks=text_stream("A new start")))
    send(page, "From nothing")
    ended(page, "A new start")
    assert history(scripted) == [("user", "From nothing")]
    assert times_asked(asked) == 0


def forget_every_session(app) -> None:
    """Drop each page's session state, as Gradio's eviction and release_closed_sessions do (a page
    whose heartbeat was lost looks closed): its next event starts afresh."""
    holder = app.demo.state_holder
    with holder.lock:
        holder.session_data.clear()


def test_a_page_whose_session_the_server_let_go_sends_its_chat_when_asked(app, scripted, page: Page, asked):
    page.goto(app.url)
    page.wait_for_selector("#chat-input textarea")
    scripted.queue(Reply(chunks=text_stream("Before")))
    send(page, "One")
    ended(page, "Before")
    forget_every_session(app)
    scripted.queue(Reply(chunks=text_stream("After the server forgot")), Reply(chunks=text_stream("And on")))
    send(page, "Two")
    ended(page, "After the server forgot")
    assert history(scripted) == [("user", "One"), ("assistant", "Before"), ("user", "Two")]
    assert times_asked(asked) == 1
    # The page shows Send again; from now on the server's copy is the page's chat again.
    send(page, "Three")
    ended(page, "And on")
    assert history(scripted)[-2:] == [("assistant", "After the server forgot"), ("user", "Three")]
    assert times_asked(asked) == 1
    expect(page.get_by_test_id("user")).to_have_count(3)
    # The conversation on screen is still the one saved with all three questions.
    settled(page)
    page.reload()
    expect(page.get_by_test_id("user")).to_have_count(3, timeout=10000)
