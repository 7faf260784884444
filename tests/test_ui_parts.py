"""The Gradio layer's own parts, without a browser: the form of streamed chat messages, and how
Gradio is imported."""

from __future__ import annotations

import subprocess
import sys

import gradio as gr
import orjson
import pytest

from causerie.answering.answer import Answer
from causerie.events import Failure, Finish, ReasoningDelta, Status, TextDelta, Usage
from causerie.ui.render import message, render, shown_chat

from support.apps import ROOT, run_async


@pytest.fixture
def thread_calls(monkeypatch) -> list[tuple]:
    """Every call sent to a worker thread (anyio.to_thread.run_sync) from now on: (function, its
    keyword arguments); the calls still run."""
    import anyio.to_thread

    calls, to_thread = [], anyio.to_thread.run_sync

    async def recorded(function, *args, **kwargs):
        calls.append((function, kwargs))
        return await to_thread(function, *args, **kwargs)

    monkeypatch.setattr(anyio.to_thread, "run_sync", recorded)
    return calls


def gradio_form(messages: list[dict]) -> list[dict]:
    return gr.Chatbot().postprocess(messages).model_dump()


def test_rendered_answers_are_in_the_form_the_chatbot_sends():
    thinking = Answer("xAI", "grok")
    for event in (ReasoningDelta("Let me see."), TextDelta("The answer is **42**.")):
        thinking.apply(event)
    waiting = Answer("Local (offline)", "smollm2")
    waiting.apply(Status("queued", {"provider": "Local (offline)", "ahead": 2}))
    failed = Answer("OpenAI", "gpt")
    for event in (TextDelta("Half"), Failure("cut_off", {"provider": "OpenAI", "why": "no_finish"})):
        failed.apply(event)
    done = Answer("Groq", "llama")
    for event in (TextDelta("Bonjour, voici $x^2$ et du `code`."), Usage(5, 7), Finish("stop")):
        done.apply(event)
    for answer in (thinking, waiting, failed, done):
        shown = [message("user", "A question?"), *render(answer)]
        assert shown == gradio_form(shown), answer


@pytest.mark.slow  # (waits on real time or starts processes: not in the fast loop)
def test_the_app_imports_gradio_without_rewriting_its_type_stubs():
    # In a fresh interpreter, as `python app.py` starts: the one Gradio function that rewrites
    # .pyi files on import is replaced; every component is still there.
    code = (
        "import causerie.ui, gradio as gr, gradio.component_meta as meta, gradio.blocks_events as be; "
        "print(meta.create_or_modify_pyi.__code__.co_name, be.create_or_modify_pyi.__code__.co_name, gr.Chatbot.__name__)"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.stdout.split() == ["_leave_stubs_alone", "_leave_stubs_alone", "Chatbot"], done.stderr[-2000:]


def test_sessions_keep_no_copies_of_the_pages_configs():
    """no_config_copies: a session keeps its State values and the components its events
    replaced, and no config of the page's blocks (Gradio's are for deep links, which the app
    does not offer); a deep link would get the blocks as built, with replaced props."""
    from gradio.state_holder import SessionState

    from causerie.answering.service import ChatService
    from causerie.config.settings import load_settings
    from causerie.ui import Labels, build_demo

    demo = build_demo(ChatService(load_settings({"OPENAI_BASE_URL": "http://127.0.0.1:9/v1"})), labels=Labels())
    textbox = next(b for b in demo.blocks.values() if getattr(b, "elem_id", None) == "system-prompt")
    state_block = next(b for b in demo.blocks.values() if isinstance(b, gr.State))
    session = SessionState(demo)
    session._update_value_in_config(textbox._id, "the whole chat, say")  # as Gradio does per input and output
    session[textbox._id] = gr.Textbox("changed", elem_id="system-prompt", render=False)  # an update
    session._update_config(textbox._id)
    session[state_block._id] = "a value"
    assert session.config_values == {}
    assert session[state_block._id] == "a value" and state_block._id in session._state_ttl  # still expires
    assert session[textbox._id].value == "changed"
    configs = list(session.components)
    assert len(configs) == len(demo.blocks)
    assert any(c.get("props", {}).get("value") == "changed" for c in configs)


def test_streamed_diffs_from_the_first_change_are_gradios_own():
    import random

    from gradio import utils

    from causerie.patches.stream_diff import diff_from_first_change

    diff_from_first_change()
    fast, whole = utils.diff, utils.diff.__wrapped__
    rng = random.Random(7)
    history = [message("user" if n % 2 == 0 else "assistant", f"turn {n}") for n in range(30)]
    for number in range(300):
        old = history[: rng.randint(0, 30)] + [message("assistant", "partial " * rng.randint(0, 3))]
        cut = rng.randint(0, len(old))
        new = old[:cut] + [
            message("assistant", "partial " * rng.randint(0, 5) + "more", rng.choice([None, {"id": "x"}]))
            for _ in range(rng.randint(0, 3))
        ]
        if number % 2:  # as the chat handlers send them
            old, new = shown_chat(old, False), shown_chat(new, False)
        assert fast(old, new) == whole(old, new), (cut, len(old), len(new))
    assert fast("a", "ab") == whole("a", "ab") and fast({"a": 1}, {"a": 2}) == whole({"a": 1}, {"a": 2})


def test_values_without_files_are_passed_on_and_files_are_still_given_their_url():
    from gradio import processing_utils

    from causerie.patches.file_walk import no_walk_without_files

    no_walk_without_files()
    plain = [message("user" if n % 2 == 0 else "assistant", f"turn {n}") for n in range(40)]
    chat = shown_chat(plain, has_files=False)
    assert processing_utils.add_root_url(chat, "http://host", None) is chat  # nothing to do: not copied
    assert processing_utils.add_root_url(plain, "http://host", None) is plain  # unmarked: no file's mark in it
    with_file = [
        *plain,
        message("user", "see", files=[{"path": "/tmp/x.png", "orig_name": "x.png", "mime_type": "image/png", "size": 3}]),
    ]
    walked = processing_utils.add_root_url(with_file, "http://host", None)
    assert walked[-1]["content"][-1]["file"]["url"] == "http://host/gradio_api/file=/tmp/x.png"
    assert orjson.loads(orjson.dumps(chat)) == plain  # sent as the plain list it is


@pytest.mark.slow  # (waits on real time or starts processes: not in the fast loop)
def test_outputs_left_alone_are_sent_as_gradio_sends_them_without_building_components():
    """skips_without_building: a handler without post-processing that leaves outputs alone (left
    out of a dict, or gr.skip()) sends what Gradio's own code sends, and its session keeps the
    page's blocks instead of one new component per output left alone; what Gradio refuses, it
    still refuses."""
    from gradio.blocks import Blocks
    from gradio.state_holder import SessionState

    from causerie.patches.session_configs import no_config_copies
    from causerie.patches.skipped_outputs import skips_without_building

    no_config_copies()
    skips_without_building()
    fast = Blocks.postprocess_data
    whole = fast.__wrapped__
    with gr.Blocks() as demo:
        box, pick, chat, state = gr.Textbox("a"), gr.Dropdown(["x", "y"], value="x"), gr.Chatbot(), gr.State(1)
        box.submit(lambda: None, None, [box, pick, chat, state], postprocess=False)
    block_fn = list(demo.fns.values())[-1]
    chats = [message("user", "hi")]
    cases = [  # what the handler returns, and which of box, pick, chat it leaves alone
        ({pick: gr.update(choices=["x", "z"])}, {box, chat}),
        ({chat: chats, state: 2}, {box, pick}),
        ((gr.skip(), "b", gr.skip(), gr.skip()), {box, chat}),
        (gr.skip(), {box, pick, chat}),
    ]
    for predictions, left_alone in cases:
        sessions = SessionState(demo), SessionState(demo)
        got = run_async(fast(demo, block_fn, predictions, sessions[0]))
        expected = run_async(whole(demo, block_fn, predictions, sessions[1]))
        assert got == expected, predictions
        for block in left_alone:
            assert sessions[0][block._id] is block and sessions[1][block._id] is not block  # Gradio rebuilds it
        assert sessions[0].get(state._id) == sessions[1].get(state._id)
    with pytest.raises(ValueError):  # as Gradio: an empty dict is not enough values
        run_async(fast(demo, block_fn, {}, SessionState(demo)))


def test_plain_chats_reach_the_handler_as_gradio_gives_them():
    """plain_chats_unchecked: the handler gets, for every input, what Gradio's own code gives it
    (a State's value, the chat, a chat with a file still checked by Gradio)."""
    from gradio.blocks import Blocks
    from gradio.state_holder import SessionState

    from causerie.patches.plain_chats import plain_chats_unchecked
    from causerie.patches.session_configs import no_config_copies

    no_config_copies()
    plain_chats_unchecked()
    fast = Blocks.preprocess_data
    whole = fast.__wrapped__
    with gr.Blocks() as demo:
        state, chat, box = gr.State("kept"), gr.Chatbot(), gr.Textbox()
        box.submit(lambda *values: None, [state, chat, box], None, preprocess=False)
    block_fn = list(demo.fns.values())[-1]
    plain = [message("user", "hi"), message("assistant", "hello")]
    for chat_value in (
        plain,
        [],
        None,
        [{"role": "user", "content": [{"type": "text", "text": "x"}], "metadata": {"title": "t"}}],
    ):
        inputs = [None, chat_value, "text"]
        got = run_async(fast(demo, block_fn, list(inputs), SessionState(demo)))
        expected = run_async(whole(demo, block_fn, list(inputs), SessionState(demo)))
        assert got == expected, chat_value


def test_beyond_the_most_recent_closed_sessions_the_oldest_unused_ones_are_released():
    """release_closed_sessions: past CLOSED_SESSIONS_KEPT closed sessions, the oldest closes go
    first, with their queue entries; a session used since its close was seen, one with an event
    queued or running, and one still open are kept."""
    import datetime

    from gradio.state_holder import StateHolder

    from causerie.patches.closed_sessions import CLOSED_SESSIONS_KEPT, release_closed_sessions

    release_closed_sessions()
    with gr.Blocks() as demo:
        gr.State(1)
    demo.queue()
    queue = demo._queue
    holder = StateHolder()
    holder.set_blocks(demo)
    for name in ("gone", "used", "busy", "open"):
        holder[name].is_closed = name != "open"
        queue.pending_event_ids_session[name] = set()
    queue.pending_event_ids_session["busy"] = {"running"}
    queue.event_ids_to_events["running"] = object()
    holder.delete_all_expired_state()  # their closes are seen
    holder.time_last_used["used"] = datetime.datetime.now() + datetime.timedelta(seconds=1)  # then used again
    for number in range(CLOSED_SESSIONS_KEPT):
        holder[f"later-{number}"].is_closed = True
    holder.delete_all_expired_state()
    kept = set(holder.session_data)
    assert "gone" not in kept and "gone" not in holder.time_last_used and "gone" not in queue.pending_event_ids_session
    assert {"used", "busy", "open", "later-1", f"later-{CLOSED_SESSIONS_KEPT - 1}"} <= kept
    assert "later-0" not in kept  # the next oldest close, in place of the busy one
    assert len(kept) == CLOSED_SESSIONS_KEPT + 2  # the kept closes (the busy one among them), the open and the used one


def test_plain_chats_are_given_back_as_gradios_chatbot_model_gives_them():
    """plain_messages gives what Gradio's check gives for plain text chats, and leaves every
    other chat (thoughts, files, options, odd shapes) to Gradio's model."""
    import random

    from causerie.patches.chat_marks import FileFree
    from causerie.patches.plain_chats import plain_messages

    model = gr.Chatbot().data_model

    def gradios(chat):
        return model.model_validate(chat, context={"validate_meta": True}).model_dump()

    rng = random.Random(3)
    plain = [message("user" if n % 2 == 0 else "assistant", f"turn {n}") for n in range(20)]
    for _ in range(100):
        chat = [dict(m) for m in plain[: rng.randint(0, 20)]]
        for m in chat:
            if rng.random() < 0.2:
                del m["metadata"]  # the page may leave it out
        assert plain_messages(chat) == gradios(chat)
        assert type(plain_messages(chat)) is FileFree  # plain text only: no file in it
        assert all(given is sent for given, sent in zip(plain_messages(chat), chat, strict=True) if len(sent) == 4)
    others = [
        [{"role": "assistant", "content": [{"type": "text", "text": "x"}], "metadata": {"title": "Thinking"}}],
        [{"role": "user", "content": [{"type": "text", "text": "x", "extra": 1}]}],
        [{"role": "user", "content": [{"text": "x"}]}],
        [{"role": "user", "content": "x"}],
        [{"role": "user", "content": [{"type": "file", "file": {"path": "/etc/passwd", "meta": {"_type": "gradio.FileData"}}}]}],
        [{"role": "user", "content": [{"type": "text", "text": "x"}], "options": [{"value": "a"}]}],
        [{"role": 1, "content": []}],
        "not a list",
        [["a", "b"]],
    ]
    for chat in others:
        assert plain_messages(chat) is None, chat


@pytest.mark.slow  # (waits on real time or starts processes: not in the fast loop)
def test_the_queue_waits_for_work_instead_of_polling_and_still_runs_every_job(monkeypatch):
    """queue_wakes_on_work: with nothing to do, the queue's loop looks a few times a second, not a
    thousand; jobs pushed then (three, one at a time) all run, in turn."""
    import time

    from gradio import queueing
    from gradio_client import Client

    from causerie.patches.queue_loop import QUEUE_POLL_S, queue_wakes_on_work

    queue_wakes_on_work()
    looks = []
    length = queueing.Queue.__len__

    def counted(self):
        looks.append(1)
        return length(self)

    with gr.Blocks() as demo:
        box = gr.Textbox()
        box.submit(lambda text: time.sleep(0.2) or text.upper(), box, box, api_name="shout", concurrency_limit=1)
    demo.queue()
    demo.launch(prevent_thread_lock=True, server_name="127.0.0.1", quiet=True)
    try:
        with monkeypatch.context() as patched:  # (only this: the autouse fixtures' patches stay)
            patched.setattr(queueing.Queue, "__len__", counted)
            time.sleep(1.0)
            idle_looks = len(looks)
        client = Client(demo.local_url, verbose=False)
        jobs = [client.submit(word, api_name="/shout") for word in ("a", "b", "c")]
        assert [job.result(timeout=10) for job in jobs] == ["A", "B", "C"]
    finally:
        demo.close()
    assert idle_looks <= 3 / QUEUE_POLL_S, idle_looks  # Gradio's own loop: about 1,000 in that second


def test_bodies_and_messages_with_chats_dump_as_pydantic_dumps_them_without_copying_the_chat():
    """bodies_not_copied, marked_chats_not_copied: a request body read from JSON, and a
    data-stream message holding a chat marked FileFree, dump to what pydantic's own model_dump
    gives (equal, and the same JSON as Gradio serialises it), with the chat itself not copied;
    anything else is pydantic's dump, and a model whose dump does more than dump its fields is
    left to pydantic."""
    import pydantic
    from gradio.data_classes import PredictBody, PredictBodyInternal
    from gradio.server_messages import ProcessCompletedMessage, ProcessGeneratingMessage, ProcessStartsMessage

    from causerie.patches.request_bodies import _plain_dumps, bodies_not_copied
    from causerie.patches.stream_messages import marked_chats_not_copied

    bodies_not_copied()
    marked_chats_not_copied()
    chat = [message("user" if n % 2 == 0 else "assistant", f"turn {n}") for n in range(40)]
    sent = {
        "data": [chat, "text", 3, None, {"files": [], "text": "q"}],
        "fn_index": 2,
        "session_hash": "s",
        "event_data": {"index": [1, 0], "value": "v"},
        "trigger_id": 4,
    }
    body = PredictBody.model_validate_json(orjson.dumps(sent))
    dumped, pydantics = body.model_dump(), PredictBody.model_dump.__wrapped__(body)
    assert dumped == pydantics and orjson.dumps(dumped) == orjson.dumps(pydantics)
    assert dumped["data"] is not body.data and dumped["data"][0] is body.data[0]  # the list copied, not the chat
    internal = PredictBodyInternal(**dumped)
    assert internal.model_dump() == PredictBody.model_dump.__wrapped__(internal)  # (not a body read from JSON)
    assert body.model_dump(exclude={"data"}) == PredictBody.model_dump.__wrapped__(body, exclude={"data"})

    marked = shown_chat(chat, has_files=False)
    outputs = [
        {
            "data": [marked, {"__type__": "update"}],
            "is_generating": True,
            "duration": 0.25,
            "average_duration": None,
            "render_config": None,
            "changed_state_ids": [3],
        },
        {"data": [marked, {"total": (1, 2.5)}], "is_generating": False, "iterator": None},
        {"data": [chat, 1]},  # not marked: pydantic's own dump
    ]
    for message_class in (ProcessGeneratingMessage, ProcessCompletedMessage):
        for output in outputs:
            sent_message = message_class(output=output, success=True, event_id="e")
            dumped, pydantics = sent_message.model_dump(), message_class.model_dump.__wrapped__(sent_message)
            assert dumped == pydantics, output
            assert orjson.dumps(dumped, default=str) == orjson.dumps(pydantics, default=str)  # as the data stream sends it
            assert (dumped["output"]["data"][0] is marked) == (output["data"][0] is marked)
    assert ProcessStartsMessage(eta=1.0).model_dump() == {"msg": "process_starts", "event_id": None, "eta": 1.0}

    class Computed(pydantic.BaseModel):
        data: list

        @pydantic.computed_field
        def size(self) -> int:
            return len(self.data)

    class Extra(pydantic.BaseModel, extra="allow"):
        data: list

    assert _plain_dumps(PredictBody, ProcessGeneratingMessage) and not _plain_dumps(Computed) and not _plain_dumps(Extra)


def test_a_question_is_added_to_the_chat_once_and_the_plain_chat_mark_kept_only_without_files():
    """chat.with_question: the chat as the handler answers it; it holds no file (render.FileFree,
    which Gradio then neither walks nor copies) only when the page's chat was checked plain and no
    file comes with the question."""
    from causerie.patches.chat_marks import FileFree, holds_files
    from causerie.patches.plain_chats import plain_messages
    from causerie.ui.chat import with_question

    earlier = [message("user", "hi"), message("assistant", "hello")]
    shown = plain_messages([*earlier, message("user", "why?")])  # the browser shows the question already
    asked = with_question(shown, "why?", [])
    assert type(asked) is FileFree and asked == shown and asked is not shown
    picture = {"path": "/tmp/x.png", "orig_name": "x.png", "mime_type": "image/png", "size": 3}
    with_file = with_question(plain_messages(earlier), "see", [picture])
    assert type(with_file) is list and holds_files(with_file) and with_file[-1]["content"][-1]["type"] == "file"
    unchecked = with_question(list(earlier), "why?", [])
    assert type(unchecked) is list and unchecked[-1] == message("user", "why?") and len(unchecked) == 3


def test_gradios_login_check_runs_on_the_event_loop_and_still_refuses_without_a_login(thread_calls):
    """login_checked_in_place: the check Gradio puts before its routes runs without a worker
    thread, and does what it did: lets anyone through on an app without login, refuses a request
    without a user on one with login; any other plain dependency still goes to a thread."""
    from fastapi import HTTPException
    from fastapi.dependencies import utils as dependency_utils
    from gradio.routes import App

    from causerie.patches.login_check import login_checked_in_place

    login_checked_in_place()
    with gr.Blocks() as demo:
        gr.Textbox()
    app = App.create_app(demo)
    config = next(r for r in app.routes if getattr(r, "path", None) == "/config")
    check = next(d.call for d in config.dependant.dependencies if d.call.__name__ == "login_check")
    assert run_async(dependency_utils.run_in_threadpool(check, user=None)) is None and thread_calls == []
    app.auth, demo.auth_message = [("ada", "secret")], None  # (as launch(auth=...) sets them)
    with pytest.raises(HTTPException) as refused:
        run_async(dependency_utils.run_in_threadpool(check, user=None))
    assert refused.value.status_code == 401
    assert run_async(dependency_utils.run_in_threadpool(check, user="ada")) is None and thread_calls == []
    assert run_async(dependency_utils.run_in_threadpool(len, "abc")) == 3 and len(thread_calls) == 1
    # Through FastAPI, as a page's request meets it: refused without a login, with no thread for the check.
    from fastapi.testclient import TestClient

    thread_calls.clear()
    with TestClient(app) as client:
        assert client.get("/gradio_api/queue/data", params={"session_hash": "x"}).status_code == 401
    assert not [function for function, _ in thread_calls if getattr(function, "func", function).__name__ == "login_check"]


def test_a_streamed_handler_starts_without_a_worker_thread_and_others_still_get_one(thread_calls):
    """generators_started_in_place: Gradio's call of an async generator handler (which only
    makes the generator) happens in place, and gives what it gave; a plain function still runs
    in a worker thread, with Gradio's limiter."""

    from causerie.patches.generator_start import generators_started_in_place

    generators_started_in_place()

    async def stream(text):
        for word in text.split():
            yield word

    def shout(text):
        return text.upper()

    with gr.Blocks() as demo:
        box, out = gr.Textbox(), gr.Textbox()
        box.submit(stream, box, out)
        box.change(shout, box, out)
    streamed, plain = list(demo.fns.values())[-2:]

    async def both_words():
        first = await demo.call_function(streamed, ["a b"])
        assert thread_calls == []
        second = await demo.call_function(streamed, ["a b"], iterator=first["iterator"])
        return first, second

    first, second = run_async(both_words())
    assert (first["prediction"], second["prediction"]) == ("a", "b") and first["is_generating"]
    assert run_async(demo.call_function(plain, ["a"]))["prediction"] == "A"
    assert [kwargs.get("limiter") for _, kwargs in thread_calls] == [demo.limiter]


def test_the_model_picker_groups_models_by_provider_in_the_providers_order():
    from causerie.ui.panel import model_menu, picked

    refs = ["openai:gpt-4o-mini", "xai:grok-4", "openrouter:meta-llama/llama-3-8b:free", "xai:grok-3-mini", "xai:grok-4"]
    assert model_menu(refs) == [
        ("xAI (Grok) · grok-4", "xai:grok-4"),
        ("xAI (Grok) · grok-3-mini", "xai:grok-3-mini"),
        ("OpenAI · gpt-4o-mini", "openai:gpt-4o-mini"),
        ("OpenRouter · meta-llama/llama-3-8b:free", "openrouter:meta-llama/llama-3-8b:free"),
    ]
    assert picked("xai", " grok-4 ")["value"] == "xai:grok-4" and picked("xai", "")["value"] is None


def test_pinned_presets_come_first_marked_then_the_pages_language():
    from causerie.answering.prompts import Preset
    from causerie.ui.settings_page import PresetMenu

    presets = {
        p.id: p
        for p in (
            Preset("general-en", "General", "Be helpful.", language="en"),
            Preset("general-fr", "Général", "Sois utile.", language="fr"),
            Preset("code-en", "Code", "Write code.", language="en"),
            Preset("letters-fr", "Lettres", "Écris des lettres.", language="fr"),
        )
    }
    menu = PresetMenu(presets, "general-en")
    assert [i for _, i in menu.choices("fr")] == ["general-fr", "letters-fr", "general-en", "code-en"]
    assert menu.choices("en", ["letters-fr", "code-en"])[:3] == [
        ("📌 Lettres (FR)", "letters-fr"),
        ("📌 Code (EN)", "code-en"),
        ("General (EN)", "general-en"),
    ]
