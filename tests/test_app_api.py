"""The running app driven over HTTP with gradio_client, as a program would use /chat."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from causerie.answering.prompts import load_presets

from support.apps import RunningApp
from support.scripted_server import Reply, text_stream


def test_chat_streams_accumulated_text_and_returns_the_answer(app, api, scripted):
    scripted.default = Reply(chunks=text_stream("One", " two", " three."), delay=0.1)
    job = api.submit("Count", api_name="/chat")
    partials = list(job)
    assert job.result() == "One two three."
    assert partials[0] == "One" and partials[-1] == "One two three."
    assert all(b.startswith(a) for a, b in zip(partials, partials[1:], strict=False))


def test_chat_passes_history_system_prompt_model_and_parameters(app, api, scripted):
    history = [{"role": "user", "content": "Earlier"}, {"role": "assistant", "content": "Reply"}]
    result = api.predict("Now", history, "Be terse.", "openai", "model-b", 0.4, 50, api_name="/chat")
    assert result == "Hello there!"
    body = scripted.requests[-1]["body"]
    assert body["model"] == "model-b" and body["temperature"] == 0.4 and body["max_completion_tokens"] == 50
    assert body["messages"] == [{"role": "system", "content": "Be terse."}, *history, {"role": "user", "content": "Now"}]


def test_chat_defaults_to_the_default_preset_and_discovered_model(app, api, scripted):
    api.predict("Hi", api_name="/chat")
    body = scripted.requests[-1]["body"]
    assert body["messages"][0] == {"role": "system", "content": load_presets()["general-en"].prompt}
    assert body["model"] == "model-a"  # first listed by GET /models
    assert "temperature" not in body and "top_p" not in body and "max_tokens" not in body


def test_chat_failure_raises_the_same_clear_message(app, api, scripted):
    scripted.queue(Reply.error(401, {"error": {"message": "Invalid key"}}))
    with pytest.raises(Exception, match="OPENAI_API_KEY"):
        api.predict("Hi", api_name="/chat")


def test_unknown_provider_is_a_clear_error(app, api):
    with pytest.raises(Exception, match="Unknown provider 'nope'"):
        api.predict("Hi", None, None, "nope", api_name="/chat")


def test_provider_not_set_up_names_the_variable(app, api):
    with pytest.raises(Exception, match="set XAI_API_KEY"):
        api.predict("Hi", None, None, "xai", api_name="/chat")


@pytest.mark.slow  # (waits on real time or starts processes: not in the fast loop)
def test_twenty_users_at_once_are_served_together(app, api, scripted):
    # Each answer takes about a second upstream; served one after another they would take 20 s.
    scripted.default = Reply(chunks=text_stream(*[f"t{i} " for i in range(10)]), delay=0.1)
    client = api
    started = time.monotonic()
    with ThreadPoolExecutor(20) as pool:
        results = list(pool.map(lambda i: client.predict(f"q{i}", api_name="/chat"), range(20)))
    elapsed = time.monotonic() - started
    assert all(r.startswith("t0 ") and r.strip().endswith("t9") for r in results)
    assert elapsed < 6, f"20 concurrent answers took {elapsed:.1f} s: they were not served at once"


@pytest.mark.slow  # (waits on real time or starts processes: not in the fast loop)
def test_queue_full_says_busy(_scripted):
    running = RunningApp({"OPENAI_BASE_URL": _scripted.base_url}, concurrency_limit=1, queue_max_size=1)
    try:
        _scripted.default = Reply(chunks=text_stream(*["x"] * 30), delay=0.1)
        client = running.client()
        jobs = [client.submit(f"q{i}", api_name="/chat") for i in range(2)]
        # One answer runs, one waits (the queue's only place): the next join is refused as busy.
        # Joins are tried until one is refused, since the two jobs above join in their own time.
        fn_index = next(d["id"] for d in running.demo.config["dependencies"] if d.get("api_name") == "chat")
        refused = None
        for attempt in range(10):
            response = httpx.post(
                running.url + "gradio_api/queue/join",
                json={
                    "data": ["q3", None, None, None, None, None, None, None],
                    "fn_index": fn_index,
                    "session_hash": f"busytest{attempt}",
                    "event_data": None,
                    "trigger_id": None,
                },
            )
            if response.status_code != 200:
                refused = response
                break
            time.sleep(0.2)
        assert refused is not None, "the queue never said it was full"
        assert refused.status_code == 503 and "queue is full" in refused.text.lower()
        for job in jobs:
            job.cancel()
    finally:
        running.close()
        _scripted.reset()


@pytest.mark.patched
def test_a_cancelled_event_ends_with_a_completion_the_page_can_apply(app, scripted):
    """Stop cancels the page's stream through Gradio's /cancel, whose completion message had no
    `data`: the page's client applied that `undefined` to the chat and failed, a bare red "Error"
    over it unless the cancel's own status came later (patches/cancel_completion.py). It now carries an empty
    list: no output changes."""
    scripted.default = Reply(chunks=text_stream(*[f"t{i} " for i in range(100)]), delay=0.05)
    fn_index = next(d["id"] for d in app.demo.config["dependencies"] if d.get("api_name") == "chat")
    joined = httpx.post(
        app.url + "gradio_api/queue/join",
        json={
            "data": ["Go on", *[None] * 17],
            "fn_index": fn_index,
            "session_hash": "canceltest",
            "event_data": None,
            "trigger_id": None,
        },
    ).json()
    completed = None
    with httpx.stream("GET", app.url + "gradio_api/queue/data", params={"session_hash": "canceltest"}, timeout=20) as stream:
        for line in stream.iter_lines():
            message = json.loads(line.removeprefix("data: ")) if line.startswith("data: ") else {}
            if message.get("msg") == "process_generating":
                httpx.post(
                    app.url + "gradio_api/cancel",
                    json={"session_hash": "canceltest", "fn_index": fn_index, "event_id": joined["event_id"]},
                )
            elif message.get("msg") == "process_completed":
                completed = message
                break
    assert completed is not None and completed["success"] and completed["output"] == {"data": []}
    assert scripted.settled_outcome() == "disconnected"


@pytest.mark.patched
@pytest.mark.slow  # (waits on real time or starts processes: not in the fast loop)
def test_api_callers_sessions_are_let_go_once_their_calls_are_done(scripted):
    """Gradio keeps a session state (and queue entries) for every session hash, up to 10,000; an
    API caller opens no page whose close would let it go. Once its calls are done, it goes
    (patches/finished_api_sessions.py): through gradio_client (one session per client) and curl-style
    /call/ pairs (one per call)."""
    running = RunningApp({"OPENAI_BASE_URL": scripted.base_url})
    try:
        holder, queue = running.demo.state_holder, running.demo._queue

        def held() -> tuple[int, int, int]:
            return len(holder.session_data), len(queue.pending_messages_per_session), len(queue.pending_event_ids_session)

        baseline = held()
        for number in range(3):
            assert running.client().predict(f"Question {number}", api_name="/chat") == "Hello there!"
        with httpx.Client(timeout=30) as http:
            for number in range(10):
                event = http.post(running.url + "gradio_api/call/chat", json={"data": [f"Call {number}", *[None] * 17]}).json()
                reply = http.get(running.url + f"gradio_api/call/chat/{event['event_id']}").text
                assert "event: complete" in reply and "Hello there!" in reply
        assert held()[0] > baseline[0]  # (each was let go a second after its last use at the soonest)
        deadline = time.monotonic() + 10
        while held() != baseline and time.monotonic() < deadline:
            time.sleep(0.2)
        assert held() == baseline
    finally:
        running.close()
