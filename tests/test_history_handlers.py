"""The conversation list's handlers and the page's view, as plain Python: the races a browser
makes likely (saves close together, an answer ending in a conversation no longer shown, a delete
or a Stop while an answer is being written), without a browser."""

from __future__ import annotations

import asyncio
import json
import secrets

import gradio as gr
import pytest

from causerie.answering.answer import SessionTotals
from causerie.answering.options import ChatOptions
from causerie.answering.runs import AnswerRuns
from causerie.answering.service import ChatService
from causerie.config.history_settings import HistoryLimits
from causerie.config.settings import Settings
from causerie.endpoints import reading
from causerie.history.conversations import Conversation
from causerie.history.sealing import Sealer
from causerie.history.shelves import BrowserShelf, Keeper
from causerie.ui.browser_state import read_held
from causerie.ui.chat import ChatHandlers
from causerie.ui.conversation_list import ConversationHandlers
from causerie.ui.panel import PageSettings
from causerie.ui.render import message, render
from causerie.ui.view import ConversationView, HistoryPanel, RunShown
from causerie.ui.visitors import issue_browser_id

from support.apps import run_async, with_service
from support.browser_storage import BrowserStorage
from support.scripted_server import Reply, text_stream

SEALER = Sealer("a-long-enough-secret-for-tests")
NAMES = ("provider", "model", "reasoning_effort", "preset", "system_prompt", "temperature", "top_p", "max_tokens")


def handlers(service: ChatService | None = None, **settings_values) -> ConversationHandlers:
    """Handlers over plain strings as components: the dicts Gradio passes are keyed by them."""
    settings = PageSettings(**{name: name for name in NAMES})
    panel = HistoryPanel(**{name: name for name in HistoryPanel.__dataclass_fields__})
    return ConversationHandlers(
        service or ChatService(Settings(**settings_values)),
        Keeper(SEALER, HistoryLimits()),
        settings,
        "chatbot",
        "view",
        panel,
        [],
        AnswerRuns(grace_s=60),
    )


def values(view: ConversationView, storage: BrowserStorage | None = None, **extra) -> dict:
    """What a page sends: `storage` is its browser's, as it holds it now."""
    return {
        "view": view,
        "fresh": storage.held() if storage else "",
        "search": "",
        "chatbot": [],
        "title": "",
        "current": "",
        "listing": None,
        **{name: "" for name in NAMES},
        **extra,
    }


def chat(question: str, answer: str) -> list:
    return [message("user", question), message("assistant", answer)]


def opened(storage: BrowserStorage) -> BrowserShelf:
    held = read_held(storage.held())
    return BrowserShelf(held.entries, held.legacy, SEALER, HistoryLimits())


def written(updates: dict, storage: BrowserStorage | None = None) -> BrowserStorage:
    """`storage` (a new one if None) once the page has written what `updates` say."""
    storage = storage or BrowserStorage()
    storage.write(updates.get("writes"))
    return storage


def test_two_saves_made_from_the_same_stale_browser_value_keep_both():
    h, view = handlers(), ConversationView(shown="x")
    view.finish(view.begin("x"), "x", chat("In X", "Answer X"), {})
    first = run_async(h.save_finished(values(view), None))
    view.finish(view.begin("y"), "y", chat("In Y", "Answer Y"), {})
    # The browser has not yet written the first save: the second event reads it without it.
    second = run_async(h.save_finished(values(view), None))
    assert {c.id for c in opened(written(second)).library.all()} == {"x", "y"}
    # Whatever order the browser then writes them in, both are kept.
    assert {c.id for c in opened(written(first, written(second))).library.all()} == {"x", "y"}


def test_an_answer_is_saved_in_its_own_conversation_when_another_is_shown():
    h, view = handlers(), ConversationView(shown="a")
    number = view.begin("a")
    view.shown = "b"  # the person opened another conversation meanwhile
    view.finish(number, "a", chat("Asked in A", "Answered in A"), {"model": "m"})
    updates = run_async(h.save_finished(values(view), None))
    kept = opened(written(updates)).library
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


@pytest.mark.slow  # (waits on real time or starts processes: not in the fast loop)
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
        run = h.runs.start("a", "session:", answers, context=RunShown(question, {}))
        async for answer in run.follow():  # as the page follows it (ChatHandlers._follow)
            view.update(number, "a", question + render(answer), {})
            break  # the first token: the page shows it
        await asyncio.sleep(0.6)  # the next tokens come, held back, and the model pauses
        return await h.stop_and_show(values(view), None), view.page_chat

    updates, page_chat = run_async(with_service(scripted, body))
    assert [m["content"][0]["text"] for m in updates["chatbot"]] == ["Q", "First second third"]
    assert page_chat == updates["chatbot"]  # the server's copy of the page's chat is what it shows
    kept = opened(written(updates)).library.get("a").messages
    assert [m["content"] for m in kept] == ["Q", "First second third"]
    assert scripted.settled_outcome() == "disconnected"


def test_the_update_after_the_person_opened_another_conversation_gives_the_page_that_chat_again(scripted):
    """Gradio sends each event's messages when they are ready: the answer's last shown update may
    reach the page after the switch's, and the answer's updates are skipped from then. The
    first one after the switch gives the page the chat the switch gave it (the answer's own was
    there for good in a browser test under load), and nothing after it changes the page."""
    scripted.queue(Reply(chunks=text_stream(*[f"w{i} " for i in range(6)]), delay=0.05))
    question, other = [message("user", "Slow one")], chat("Quick one", "First answer.")

    async def body(service):
        service.update_interval_s = lambda: 0.0
        panel = HistoryPanel(**{name: name for name in HistoryPanel.__dataclass_fields__})
        h = ChatHandlers(
            service,
            PageSettings(**{name: name for name in NAMES}),
            "chatbot",
            "pending",
            "mark",
            "totals",
            "view",
            panel,
            AnswerRuns(grace_s=60),
        )
        view = ConversationView(shown="a")
        number = view.begin("a")
        answers = service.answers(ChatOptions("openai", "m"), [{"role": "user", "content": "Slow one"}])
        run = h.runs.start("a", "session:", answers, context=RunShown(question, {}))
        outputs = []
        async for update, _ in h._follow(run, question, number, {"view": view, "totals": SessionTotals()}, "en"):
            outputs.append(update)
            if len(outputs) == 2:  # the person opens "b": the switch gives the page its chat
                view.shown = "b"
                view.shows(other)
        return outputs, view.page_chat

    outputs, page_chat = run_async(with_service(scripted, body))
    assert all(isinstance(update, list) for update in outputs[:2]) and "w0" in str(outputs[1])
    assert outputs[2] == other and page_chat == other
    assert len(outputs) > 3 and all(update == gr.skip() for update in outputs[3:])


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
    storage = written(run_async(h.save_finished(values(first, current=first.shown), None)))
    # A new page opens on that conversation; the person asks before the page has shown it.
    page = ConversationView()
    run_async(h.on_load(values(page, storage), None))
    asked_in = page.conversation_for("")
    assert asked_in != page.shown
    page.finish(page.begin(asked_in), asked_in, chat("Quick question", "Quick answer"), {})
    kept = opened(written(run_async(h.save_finished(values(page, storage), None)), storage)).library
    assert kept.get(page.shown).messages[0]["content"] == "Old question"
    assert kept.get(asked_in).messages[0]["content"] == "Quick question"


def test_an_answer_ending_does_not_overwrite_a_title_being_typed():
    h, view = handlers(), ConversationView(shown="a")
    view.finish(view.begin("a"), "a", chat("Question", "Answer"), {})
    assert "title" not in run_async(h.save_finished(values(view, title="My rena"), None))
    view.finish(view.begin("a"), "a", chat("Question", "Answer"), {})
    assert run_async(h.save_finished(values(view, title=""), None))["title"] == "Question"


def test_an_import_that_would_push_out_kept_conversations_is_refused_first(tmp_path):
    h, view = handlers(), ConversationView(shown="x")
    h.keeper.limits = HistoryLimits(max_conversations=3)
    storage = BrowserStorage()
    for i in range(2):
        kept = Conversation(id=f"k{i}", updated_at=i + 1.0, created_at=1.0, messages=({"role": "user", "content": f"Kept {i}"},))
        storage.entries[kept.id] = json.dumps({"at": kept.updated_at, "sealed": SEALER.seal(json.dumps(kept.to_dict()))})
    upload = tmp_path / "two.json"
    upload.write_text(
        json.dumps(
            {
                "format": "causerie.conversations",
                "conversations": [
                    {"messages": [{"role": "user", "content": "New 1"}]},
                    {"messages": [{"role": "user", "content": "New 2"}]},
                ],
            }
        )
    )
    from causerie.ui.transfer import Transfers

    updates = run_async(Transfers(h).on_import(values(view, storage, importer=str(upload)), None))
    assert "Nothing imported" in updates["notice"] and "2 are kept already" in updates["notice"]
    assert "writes" not in updates  # nothing changed, nothing dropped


def test_an_unreadable_value_is_said_once_a_page():
    h, view = handlers(), ConversationView(shown="a")
    damaged = BrowserStorage()
    damaged.entries["a"] = '{"at": 1, "sealed": "not-a-token"}'
    first = run_async(h.on_rename(values(view, damaged), None))
    again = run_async(h.on_rename(values(view, damaged), None))
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
    storage = BrowserStorage()
    for question in ("first", "second"):
        view.finish(view.begin(view.shown), view.shown, chat(question, "answer"), {})
        written(run_async(h.save_finished(values(view, storage), None)), storage)
        view.start_new(again=True)
    page = ConversationView()
    updates = run_async(h.on_load(values(page, storage), None))
    assert page.page_chat is updates["chatbot"] and page.page_chat[0]["content"][0]["text"] == "second"
    assert page.chat_for_mark(chat_mark(updates["chatbot"]), updates["current"]) is updates["chatbot"]


def test_a_chats_mark_counts_messages_questions_parts_and_utf8_bytes():
    from causerie.ui.render import chat_mark

    picture = {"path": "/tmp/x.png", "orig_name": "x.png", "mime_type": "image/png", "size": 3}
    assert chat_mark([]) == "0.0.0.0"
    assert (
        chat_mark([message("user", "café ☕ 😀", files=[picture]), message("assistant", "ok", {"title": "Thinking"})])
        == "2.1.3.16"
    )
    assert chat_mark([{"role": "assistant", "content": "plain"}, None, {"role": "user", "content": {"path": "x"}}]) == "3.1.2.5"
    assert chat_mark([message("user", "\ud800")]) == "1.1.1.3"  # a lone surrogate: as the browser's TextEncoder counts it


# -- files from data ------------------------------------------------------------------------------


def test_a_conversations_files_show_to_the_browser_that_attached_them_and_to_no_other(tmp_path):
    """Saved, a question's upload is stamped for its browser: that browser's page shows it and its
    export keeps it; the same saved value opened by another browser (a copied profile), or that
    export imported there, shows it as no longer available and keeps no path."""
    from causerie.ui.transfer import Transfers

    uploads = tmp_path / "gradio"
    (uploads / "abc").mkdir(parents=True)
    note = uploads / "abc" / "note.txt"
    note.write_text("mine")
    h = handlers(upload_dir=uploads)
    mine, theirs = (issue_browser_id(h.service.settings.history.secret) for _ in range(2))
    view = ConversationView(shown="x")
    asked = [
        message("user", "Read it", files=[{"path": str(note), "orig_name": "note.txt", "mime_type": "text/plain"}]),
        message("assistant", "Read."),
    ]
    view.finish(view.begin("x"), "x", asked, {})
    storage = written(run_async(h.save_finished(values(view, browser=mine), None)))
    (saved,) = opened(storage).library.get("x").messages[0]["files"]
    assert saved["path"] == str(note) and len(saved["stamp"]) == 64

    def shown_to(browser: str) -> list:
        return run_async(h.on_load(values(ConversationView(), storage, browser=browser), None))["chatbot"]

    assert shown_to(mine)[0]["content"][1]["file"]["path"] == str(note)
    elsewhere = shown_to(theirs)[0]["content"]
    assert elsewhere == [{"text": "Read it\n\n📎 note.txt: no longer available (attach it again to use it)", "type": "text"}]

    def exported(browser: str) -> str:
        return json.loads(run_async(Transfers(h).export_all(values(ConversationView(), storage, browser=browser), None)))["text"]

    assert str(note) in exported(mine) and str(note) not in exported(theirs)
    upload = tmp_path / "export.json"
    upload.write_text(exported(mine))
    for browser, kept in ((mine, True), (theirs, False)):
        updates = run_async(Transfers(h).on_import(values(ConversationView(), browser=browser, importer=str(upload)), None))
        assert (str(note) in json.dumps(updates["chatbot"])) is kept
        assert (str(note) in opened(written(updates)).library.to_json()) is kept


def page_event(app, name: str, given: dict, session: str) -> dict:
    """Run the page's queued step whose handler is called `name` as the page runs it (Gradio's
    queue, over HTTP), with `given` values by component and the rest as the page starts them;
    its outputs by component, as the page receives them."""
    import httpx

    step = next(fn for fn in app.demo.fns.values() if getattr(fn.fn, "__name__", "") == name)
    data = [given[c] if c in given else None if type(c).__name__ in ("State", "BrowserState") else c.value for c in step.inputs]
    httpx.post(
        app.url + "gradio_api/queue/join",
        json={"data": data, "fn_index": step._id, "session_hash": session, "event_data": None, "trigger_id": None},
    ).raise_for_status()
    with httpx.stream("GET", app.url + f"gradio_api/queue/data?session_hash={session}", timeout=30) as stream:
        for line in stream.iter_lines():
            message = json.loads(line[5:]) if line.startswith("data:") else {}
            if message.get("msg") == "process_completed":
                assert message["success"], message.get("output")
                return dict(zip(step.outputs, message["output"]["data"], strict=True))
    raise AssertionError("the step never completed")


def upload(app, name: str, data: bytes) -> str:
    """A file sent as a page sends it (Gradio's upload route); where Gradio keeps it."""
    import httpx

    response = httpx.post(app.url + "gradio_api/upload", files=[("files", (name, data))])
    response.raise_for_status()
    return response.json()[0]


@pytest.mark.slow  # (waits on real time or starts processes: not in the fast loop)
def test_an_import_never_makes_the_page_serve_or_fetch_a_file_of_its_choosing(scripted, tmp_path, monkeypatch):
    """A crafted conversation points its question's files at the app's source, the SQLite store
    and the secret beside it, another visitor's upload, and a URL. The page is handed none of
    them: each is said to be no longer available, no copy is made for Gradio to serve (the
    address it would have given is refused), and nothing is fetched."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    from pathlib import Path

    import httpx
    from gradio.processing_utils import hash_file
    from gradio.utils import get_upload_folder

    from support.apps import ROOT, RunningApp

    fetched: list[str] = []

    class Recorder(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's name)
            fetched.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.end_headers()
            self.wfile.write(b"\x89PNG")

        def log_message(self, *args):
            pass

    elsewhere = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    threading.Thread(target=elsewhere.serve_forever, daemon=True).start()
    monkeypatch.chdir(ROOT)  # the app's folder is its working folder, as on a Space
    app = RunningApp(
        {
            "OPENAI_BASE_URL": scripted.base_url,
            "CAUSERIE_DATA_DIR": str(tmp_path),
            "DATABASE_URL": f"sqlite:///{tmp_path / 'causerie.db'}",
        }
    )
    try:
        theirs = upload(app, "diary.txt", f"Another visitor's diary {secrets.token_hex(8)}".encode())
        targets = {
            "app.py": ROOT / "app.py",
            "causerie.db": tmp_path / "causerie.db",
            "history-secret": tmp_path / "history-secret",
            "diary.txt": Path(theirs),
        }
        assert all(path.is_file() for path in targets.values())
        # Where Gradio would copy each to serve it (its cache is its upload folder).
        copies = {
            name: Path(get_upload_folder()) / hash_file(path) / path.name for name, path in targets.items() if name != "diary.txt"
        }
        for copy in copies.values():
            copy.unlink(missing_ok=True)
        url = f"http://127.0.0.1:{elsewhere.server_address[1]}/leak.png"
        history = next(fn.fn.__self__.history for fn in app.demo.fns.values() if getattr(fn.fn, "__name__", "") == "on_import")
        browser = issue_browser_id(app.service.settings.history.secret)

        def imported(files: list[dict]) -> tuple[list, str]:
            """The page's chat once the crafted conversation is imported, and what its browser keeps."""
            crafted = {
                "messages": [
                    {"role": "user", "content": "Look at these", "files": files},
                    {"role": "assistant", "content": "Done."},
                ]
            }
            sent = upload(app, "crafted.json", json.dumps(crafted).encode())
            given = {
                history.panel.importer: {"path": sent, "orig_name": "crafted.json", "meta": {"_type": "gradio.FileData"}},
                history.panel.browser: browser,
            }
            outputs = page_event(app, "on_import", given, secrets.token_hex(6))
            chat = outputs[history.chatbot]
            assert chat[0]["content"][0]["text"].startswith("Look at these")
            assert not [part for message in chat for part in message["content"] if part.get("type") != "text"]
            sealer = Sealer(app.service.settings.history.secret)
            entries = json.loads(outputs[history.panel.writes] or '{"put": {}}')["put"].values()
            return chat, "".join(sealer.open(entry["sealed"]) for entry in entries if "sealed" in entry)

        chat, kept = imported([{"path": str(path), "orig_name": name, "stamp": "0" * 64} for name, path in targets.items()])
        shown = json.dumps(chat, ensure_ascii=False)
        for name, path in targets.items():
            assert str(path) not in shown and str(path) not in kept
            assert f"📎 {name}: no longer available" in shown
        assert "0" * 64 not in shown
        for copy in copies.values():
            assert not copy.exists()
            assert httpx.get(app.url + f"gradio_api/file={copy}").status_code == 403
        chat, kept = imported([{"path": url, "orig_name": "leak.png", "mime_type": "image/png"}])
        shown = json.dumps(chat, ensure_ascii=False)
        assert url not in shown and url not in kept and "📎 leak.png: no longer available" in shown
        assert fetched == []
    finally:
        app.close()
        elsewhere.shutdown()


def test_two_pages_saving_from_the_same_read_keep_both_in_either_order():
    """Two tabs' answers end together: both read the browser before either writes."""
    h = handlers()
    for first_written in (0, 1):
        storage, pages, chats = BrowserStorage(), [ConversationView(shown="a"), ConversationView(shown="b")], [[], []]
        for n in range(3):
            held = storage.held()
            updates = []
            for page, conversation_id, kept in zip(pages, "ab", chats, strict=True):
                kept += chat(f"{conversation_id}{n}", "answer")
                page.finish(page.begin(conversation_id), conversation_id, list(kept), {})
                updates.append(run_async(h.save_finished({**values(page), "fresh": held}, None)))
            for each in (updates[first_written], updates[1 - first_written]):
                written(each, storage)
        kept = opened(storage).library
        assert [m["content"] for m in kept.get("a").messages[::2]] == ["a0", "a1", "a2"]
        assert [m["content"] for m in kept.get("b").messages[::2]] == ["b0", "b1", "b2"]


def test_what_a_page_kept_while_the_store_was_down_is_written_when_it_answers_without_the_page(monkeypatch):
    import asyncio

    from causerie.history import shelves
    from causerie.history.store.errors import StoreError

    monkeypatch.setattr(shelves, "SAVE_RETRY_DELAYS", (0.01, 0.02))

    class FlakyStore:
        def __init__(self) -> None:
            self.down, self.kept, self.tries = True, {}, 0

        async def put(self, owner: str, conversation: Conversation) -> list:
            self.tries += 1
            if self.down:
                raise StoreError("down")
            self.kept[owner, conversation.id] = conversation
            return []

    async def outage() -> tuple:
        store = FlakyStore()
        keeper, unsaved, lock = Keeper(SEALER, HistoryLimits(), store), {"c": Conversation(id="c")}, asyncio.Lock()
        keeper.save_when_back("user:alice", unsaved, lock)
        keeper.save_when_back("user:alice", unsaved, lock)
        assert len(keeper._saving) == 1  # one try at a time per page
        await asyncio.sleep(0.1)
        tried_while_down = store.tries
        store.down = False  # the store answers again; the page does nothing
        for _ in range(100):
            if not unsaved:
                break
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.01)
        return store, unsaved, keeper, tried_while_down

    store, unsaved, keeper, tried_while_down = run_async(outage())
    assert tried_while_down >= 2 and unsaved == {} and store.kept["user:alice", "c"] == Conversation(id="c")
    assert keeper._saving == {}


def test_the_answers_per_browser_are_counted_by_an_id_the_server_issued():
    """The cap of four answers per browser was keyed on a secret the page made: a client with a new
    one for each call was never capped. Only an id the server issued (and signed) is a browser's;
    any other value is counted as its session alone."""
    from causerie.ui.visitors import is_issued, run_owner

    secret = "s" * 32
    issued = issue_browser_id(secret)
    assert is_issued(issued, secret) and run_owner(None, issued, secret) == f"browser:{issued}"
    forged = issued[:33] + ("0" if issued[33] != "0" else "1") + issued[34:]
    for chosen in ("a" * 48, forged, issued[:32], issue_browser_id("another server's secret"), None, 7):
        assert not is_issued(chosen, secret) and run_owner(None, chosen, secret) == "session:"
