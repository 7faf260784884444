"""The conversation list's handlers and the page's view, as plain Python: the races a browser
makes likely (saves close together, an answer ending in a conversation no longer shown, a delete
or a Stop while an answer is being written), without a browser."""

from __future__ import annotations

import asyncio

from causerie import reading
from causerie.conversations import Conversation
from causerie.library import Limits
from causerie.options import ChatOptions
from causerie.runs import AnswerRuns
from causerie.sealing import Sealer
from causerie.service import ChatService
from causerie.settings import Settings
from causerie.shelves import BrowserShelf, Keeper
from causerie.ui.conversations import ConversationHandlers
from causerie.ui.panel import PageSettings
from causerie.ui.render import message, render
from causerie.ui.view import ConversationView, HistoryPanel

from conftest import run_async, with_service
from scripted_server import Reply, text_stream

SEALER = Sealer("a-long-enough-secret-for-tests")
NAMES = ("provider", "model", "reasoning_effort", "preset", "system_prompt", "temperature", "top_p", "max_tokens")


def handlers(service: ChatService | None = None) -> ConversationHandlers:
    """Handlers over plain strings as components: the dicts Gradio passes are keyed by them."""
    settings = PageSettings(**{name: name for name in NAMES})
    panel = HistoryPanel(**{name: name for name in HistoryPanel.__dataclass_fields__})
    return ConversationHandlers(service or ChatService(Settings()), Keeper(SEALER, Limits()), settings, "chatbot", "view",
                                panel, [], AnswerRuns(grace_s=60))


def values(view: ConversationView, store=None, **extra) -> dict:
    return {"view": view, "store": store, "fresh": "", "search": "", "chatbot": [], "title": "", "current": "", "listing": None,
            **{name: "" for name in NAMES}, **extra}


def chat(question: str, answer: str) -> list:
    return [message("user", question), message("assistant", answer)]


def opened(sealed) -> BrowserShelf:
    return BrowserShelf([sealed], SEALER, Limits())


def test_two_saves_made_from_the_same_stale_browser_value_keep_both():
    h, view = handlers(), ConversationView(shown="x")
    view.finish(view.begin("x"), "x", chat("In X", "Answer X"), {})
    run_async(h.save_finished(values(view, store=None), None))
    view.finish(view.begin("y"), "y", chat("In Y", "Answer Y"), {})
    # The browser has not yet stored the first save's value: the second event carries the old one.
    updates = run_async(h.save_finished(values(view, store=None), None))
    kept = opened(updates["store"]).library
    assert {c.id for c in kept.all()} == {"x", "y"}


def test_an_answer_is_saved_in_its_own_conversation_when_another_is_shown():
    h, view = handlers(), ConversationView(shown="a")
    number = view.begin("a")
    view.shown = "b"  # the person opened another conversation meanwhile
    view.finish(number, "a", chat("Asked in A", "Answered in A"), {"model": "m"})
    updates = run_async(h.save_finished(values(view), None))
    kept = opened(updates["store"]).library
    assert kept.get("a").messages[0]["content"] == "Asked in A" and kept.get("b") is None
    assert updates["listing"]["value"] is None  # B is not saved yet: nothing in the list is selected


def test_a_conversation_deleted_during_its_answer_does_not_come_back():
    view = ConversationView(shown="a")
    number = view.begin("a")
    view.update(number, "a", chat("Q", "partial"), {})
    view.forget("a")
    view.update(number, "a", chat("Q", "more"), {})
    view.finish(number, "a", chat("Q", "all"), {})
    assert view.live == {} and view.take_finished() == {}


def test_an_update_an_answer_makes_while_being_stopped_is_not_kept():
    view = ConversationView(shown="a")
    number = view.begin("a")
    view.update(number, "a", chat("Q", "partial"), {})
    view.stop_all()
    view.update(number, "a", chat("Q", "partial and late"), {})  # the stream closing
    view.finish(number, "a", chat("Q", "partial and late"), {})
    finished = view.take_finished()
    assert finished["a"].chat[-1]["content"][0]["text"] == "partial" and view.live == {}
    # A new answer in the same conversation is kept as usual.
    again = view.begin("a")
    view.finish(again, "a", chat("Q2", "A2"), {})
    assert "a" in view.take_finished()


def test_a_stop_shows_and_keeps_every_token_that_came_and_no_waiting_line(scripted, monkeypatch):
    """The page was last shown the first token; the tokens after it were held back (they wait for
    the update interval), and the model has paused since. Stop keeps them, and shows the page the
    answer as kept, without a "paused" line."""
    monkeypatch.setattr(reading, "TICK_S", 0.1)
    monkeypatch.setattr(reading, "PAUSE_SHOWN_S", 0.2)
    scripted.queue(Reply(chunks=text_stream("First", " second", " third", " never sent"), delay=0.02, pauses={3: 30.0}))
    question = [message("user", "Q")]

    async def body(service):
        service.update_interval_s = lambda: 60.0  # after the first token, every update is held back
        h, view = handlers(service), ConversationView(shown="a")
        number = view.begin("a")
        answers = service.answers(ChatOptions("openai", "m"), [{"role": "user", "content": "Q"}])
        run = h.runs.start("a", "session:", answers, context=(question, {}))
        async for answer in run.follow():  # as the page follows it (ChatHandlers._follow)
            view.update(number, "a", question + render(answer), {})
            break  # the first token: the page shows it
        await asyncio.sleep(0.6)  # the next tokens come, held back, and the model pauses
        return await h.stop_and_show(values(view), None), view.page_chat

    updates, page_chat = run_async(with_service(scripted, body))
    assert [m["content"][0]["text"] for m in updates["chatbot"]] == ["Q", "First second third"]
    assert page_chat == updates["chatbot"]  # the server's copy of the page's chat is what it shows
    kept = opened(updates["store"]).library.get("a").messages
    assert [m["content"] for m in kept] == ["Q", "First second third"]
    assert scripted.settled_outcome() == "disconnected"


def test_opening_a_conversation_mid_answer_shows_the_answer_so_far():
    h, view = handlers(), ConversationView(shown="b")
    number = view.begin("a")
    view.update(number, "a", chat("Q", "so far"), {})
    updates = run_async(h.open(view, Conversation(id="a", messages=({"role": "user", "content": "Q"},))))
    assert updates["chatbot"][-1]["content"][0]["text"] == "so far" and view.shown == "a"


def test_a_question_sent_before_the_page_has_opened_never_replaces_a_saved_conversation():
    h, first = handlers(), ConversationView()
    run_async(h.on_load(values(first), None))
    first.finish(first.begin(first.shown), first.shown, chat("Old question", "Old answer"), {})
    store = run_async(h.save_finished(values(first, current=first.shown), None))["store"]
    # A new page opens on that conversation; the person asks before the page has shown it.
    page = ConversationView()
    run_async(h.on_load(values(page, store=store), None))
    asked_in = page.conversation_for("")
    assert asked_in != page.shown
    page.finish(page.begin(asked_in), asked_in, chat("Quick question", "Quick answer"), {})
    kept = opened(run_async(h.save_finished(values(page, store=store), None))["store"]).library
    assert kept.get(page.shown).messages[0]["content"] == "Old question"
    assert kept.get(asked_in).messages[0]["content"] == "Quick question"


def test_an_answer_ending_does_not_overwrite_a_title_being_typed():
    h, view = handlers(), ConversationView(shown="a")
    view.finish(view.begin("a"), "a", chat("Question", "Answer"), {})
    assert "title" not in run_async(h.save_finished(values(view, title="My rena"), None))
    view.finish(view.begin("a"), "a", chat("Question", "Answer"), {})
    assert run_async(h.save_finished(values(view, title=""), None))["title"] == "Question"


def test_an_import_that_would_push_out_kept_conversations_is_refused_first(tmp_path):
    import json

    from causerie.library import Library

    h, view = handlers(), ConversationView(shown="x")
    h.keeper.limits = Limits(max_conversations=3)
    store = {"sealed": SEALER.seal(Library([Conversation(id=f"k{i}", updated_at=i + 1.0, created_at=1.0,
                                                         messages=({"role": "user", "content": f"Kept {i}"},))
                                            for i in range(2)]).to_json())}
    upload = tmp_path / "two.json"
    upload.write_text(json.dumps({"format": "causerie.conversations", "conversations": [
        {"messages": [{"role": "user", "content": "New 1"}]}, {"messages": [{"role": "user", "content": "New 2"}]}]}))
    from causerie.ui.transfer import Transfers

    updates = run_async(Transfers(h).on_import(values(view, store=store, importer=str(upload)), None))
    assert "Nothing imported" in updates["notice"] and "2 are kept already" in updates["notice"]
    assert "store" not in updates  # nothing changed, nothing dropped


def test_an_unreadable_value_is_said_once_a_page():
    h, view = handlers(), ConversationView(shown="a")
    damaged = {"sealed": "not-a-token"}
    first = run_async(h.on_rename(values(view, store=damaged), None))
    again = run_async(h.on_rename(values(view, store=damaged), None))
    assert "could not be read" in first["notice"] and again["notice"] == ""


def test_the_page_chat_kept_is_the_last_one_given_and_a_question_finds_it_by_its_mark():
    """ConversationView.shows keeps what the page's chat was last given, and in which conversation
    (a skip leaves it); chat_for_mark finds it from the mark of the page's chat and the
    conversation the page notes, an empty chat from the empty mark, and nothing otherwise (the
    page is then asked for its chat): another mark, another conversation noted (the page has not
    yet shown the one it was given), or a copy forgotten at an edit, or on Stop, a wait for the
    page's chat ended."""
    from causerie.ui.render import chat_mark

    h, view = handlers(), ConversationView(shown="a")
    given = chat("Q", "A")
    assert view.shows(given) is given and view.shows({"__type__": "update"}) == {"__type__": "update"}
    assert view.chat_for_mark(chat_mark(chat("Q", "A")), "a") is given
    assert view.chat_for_mark(chat_mark([]), "b") == []
    assert view.chat_for_mark(chat_mark(chat("Q", "Another")), "a") is None and view.chat_for_mark("", "a") is None
    assert view.chat_for_mark(chat_mark(given), "b") is None  # the same lengths, but another conversation's
    view.chat_changed()  # an edit: the page changed its chat itself
    assert view.chat_for_mark(chat_mark(given), "a") is None
    view.awaiting_chat = True
    view.stop_all()
    assert not view.awaiting_chat
    # Opening a conversation gives the page its chat.
    store = None
    for question in ("first", "second"):
        view.finish(view.begin(view.shown), view.shown, chat(question, "answer"), {})
        store = run_async(h.save_finished(values(view, store=store), None))["store"]
        view.start_new(again=True)
    page = ConversationView()
    updates = run_async(h.on_load(values(page, store=store), None))
    assert page.page_chat is updates["chatbot"] and page.page_chat[0]["content"][0]["text"] == "second"
    assert page.chat_for_mark(chat_mark(updates["chatbot"]), updates["current"]) is updates["chatbot"]


def test_a_chats_mark_counts_messages_questions_parts_and_utf8_bytes():
    from causerie.ui.render import chat_mark

    picture = {"path": "/tmp/x.png", "orig_name": "x.png", "mime_type": "image/png", "size": 3}
    assert chat_mark([]) == "0.0.0.0"
    assert chat_mark([message("user", "café ☕ 😀", files=[picture]), message("assistant", "ok", {"title": "Thinking"})]) == "2.1.3.16"
    assert chat_mark([{"role": "assistant", "content": "plain"}, None, {"role": "user", "content": {"path": "x"}}]) == "3.1.2.5"
    assert chat_mark([message("user", "\ud800")]) == "1.1.1.3"  # a lone surrogate: as the browser's TextEncoder counts it
