"""Bad input and odd streams, as a new user or a hostile caller would send them (issue: hardening).

Each test here failed on the code before the fix it checks."""

from __future__ import annotations

import email.utils
import json
import time

import pytest

from causerie.answering.answer import Answer
from causerie.answering.options import ChatOptions, GenerationParams, InvalidOptions, generation_params, plain_history, question
from causerie.answering.service import ChatService
from causerie.config.settings import load_settings
from causerie.endpoints import reading
from causerie.endpoints.client import ChatClient, ChatRequest, RetryPolicy
from causerie.endpoints.errors import retry_after_seconds
from causerie.endpoints.model_info import ModelInfo, ModelInfoTable
from causerie.events import Failure, Finish, Status, TextDelta, Usage
from causerie.ui.render import footer_text, render
from causerie.ui.turns import content_text

from support.apps import run_async
from support.clients import KEY, answer_of, endpoint, make_client, run, settled
from support.scripted_server import Reply, chat_requests, delta, sse, text_stream

OPENAI_TOO_HOT = {
    "error": {
        "message": "Invalid 'temperature': decimal above maximum value. Expected a value <= 1, but got 1.5 instead.",
        "type": "invalid_request_error",
        "param": "temperature",
    }
}


# -- 1. an invalid value is the sender's error, never remembered for everyone ------------------


def test_an_invalid_value_is_an_error_naming_the_parameter_and_changes_nothing_for_others(scripted):
    client = make_client()
    scripted.queue(Reply.error(400, OPENAI_TOO_HOT))
    failure = run(client, endpoint(scripted), temperature=1.5)[-1]
    assert failure.kind == "invalid_value" and failure.params["param"] == "temperature"
    assert "temperature" in failure.message and "Expected a value <= 1" in failure.message
    assert len(scripted.requests) == 1  # not retried without it
    answer = answer_of(run(client, endpoint(scripted), temperature=0.5))
    assert answer.failure is None and scripted.requests[-1]["body"]["temperature"] == 0.5


def test_an_unsupported_parameter_is_remembered_per_endpoint_and_model(scripted):
    client = make_client()
    scripted.queue(Reply.error(400, {"error": {"message": "Unsupported parameter: 'top_p' is not supported with this model."}}))
    run(client, endpoint(scripted), model="m1", top_p=0.5)
    run(client, endpoint(scripted), model="m1", top_p=0.5)
    run(client, endpoint(scripted), model="m2", top_p=0.5)
    bodies = [r["body"] for r in scripted.requests]
    assert [("top_p" in b, b["model"]) for b in bodies] == [(True, "m1"), (False, "m1"), (False, "m1"), (True, "m2")]


@pytest.mark.parametrize(
    "given, name, words",
    [
        ({"temperature": 9}, "temperature", "from 0 to 2"),
        ({"temperature": -0.1}, "temperature", "from 0 to 2"),
        ({"top_p": 1.5}, "top_p", "from 0 to 1"),
        ({"max_tokens": 0}, "max_tokens", "from 1 to 10,000,000"),
    ],
)
def test_ranges_are_checked_before_sending(given, name, words):
    with pytest.raises(InvalidOptions) as caught:
        generation_params(**given)
    assert caught.value.failure.kind == "invalid_value"
    assert name in caught.value.failure.message and words in caught.value.failure.message


def test_a_reasoning_effort_the_model_does_not_list_is_refused_before_sending(scripted):
    table = ModelInfoTable({("openai", "thinker"): ModelInfo(reasoning_effort=("low", "high"))})
    service = ChatService(load_settings({"OPENAI_BASE_URL": scripted.base_url}), model_info=table)

    async def go():
        try:
            options = ChatOptions("openai", "thinker", params=GenerationParams(reasoning_effort="extreme"))
            return [e async for e in service.stream_answer(options, [{"role": "user", "content": "q"}])]
        finally:
            await service.aclose()

    failure = run_async(go())[-1]
    assert failure.kind == "invalid_value" and "reasoning_effort" in failure.message and "low, high" in failure.message
    assert scripted.requests == []


# -- 2. the API's arguments are checked at the edge --------------------------------------------


@pytest.mark.parametrize(
    "arguments, named",
    [
        ({"temperature": "abc"}, "temperature"),
        ({"max_tokens": "many"}, "max_tokens"),
        ({"max_tokens": 2.5}, "max_tokens"),
        ({"history": 5}, "history"),
        ({"history": [{"role": "robot", "content": "x"}]}, "history[0].role"),
        ({"history": [{"role": "user", "content": 7}]}, "history[0].content"),
        ({"system_prompt": {"a": 1}}, "system_prompt"),
        ({"top_p": 3}, "top_p"),
        ({"provider": 12}, "provider"),
        ({"message": "   "}, "message"),
        ({"max_tokens": 10**30}, "max_tokens must be a whole number from 1 to 10,000,000"),
        ({"model": "m" * 100_000}, "'model' must be an id of at most 256"),
        ({"provider": "p" * 100_000}, "'provider' must be an id of at most 64"),
        ({"base_url": "http://[::1"}, "'base_url' must be an http:// or https:// address"),
        ({"base_url": "http://example.com:99999/v1"}, "'base_url' must be"),
        ({"api_key": "sk-abc\nX-Other: 1"}, "'api_key' must be a key as the provider gave it"),
    ],
)
def test_bad_api_arguments_are_refused_by_name_without_calling_the_provider(app, api, scripted, arguments, named):
    call = {"message": "Hi", **arguments}
    with pytest.raises(Exception) as caught:
        api.predict(**call, api_name="/chat_details")
    text = str(caught.value)
    assert named in text and "upstream Gradio app" not in text and "Something went wrong" not in text
    assert len(text) < 400 and "X-Other" not in text  # nothing echoed whole, no key
    assert [r for r in scripted.requests if r["path"] == "/v1/chat/completions"] == []


def raw_call(app, name: str, data: list) -> str:
    """One call through Gradio's plain HTTP pair (POST /call/<name>, then GET its events), with the
    JSON written by hand: a lone surrogate is sent as JSON escapes it ("\\ud83d"), which
    gradio_client cannot send."""
    import httpx

    posted = httpx.post(
        f"{app.url}gradio_api/call/{name}",
        content=json.dumps({"data": data}),
        headers={"content-type": "application/json"},
        timeout=30,
    )
    return httpx.get(f"{app.url}gradio_api/call/{name}/{posted.json()['event_id']}", timeout=30).text


def error_of(events: str) -> str | None:
    data = [line[6:] for line in events.splitlines() if line.startswith("data: ")]
    return json.loads(data[-1]).get("error") if "event: error" in events else None


@pytest.mark.parametrize(
    "name, data, named",
    [
        (
            "chat",
            ["Bonjour \ud83d", *[None] * 15],
            "'message' holds a broken character (an unpaired UTF-16 surrogate, at character 9)",
        ),
        ("chat", ["Hi", [{"role": "user", "content": "x\udc00"}], *[None] * 14], "'history[0].content' holds a broken character"),
        ("chat", ["Hi", None, "Be \udfff", *[None] * 13], "'system_prompt' holds a broken character"),
        ("leaderboard", ["\ud800x"], "'preset' holds a broken character"),
        ("chat", ["Hi", None, None, "xai", *[None] * 12], "pass yours as the api_key argument"),
        # Values left out are null: the first one needed is named (Gradio's refusal said {"error": null}).
        ("chat", [], "'message' must be a string"),
        ("chat_details", ["Hi", None, None, "xai"], "pass yours as the api_key argument"),
        ("compare", ["Hi"], "'models' must be a list of 1 to 4"),
    ],
)
def test_text_that_cannot_be_encoded_is_refused_by_name(app, scripted, name, data, named):
    """A lone surrogate reached the provider request and failed there, or was blamed on the
    database (the leaderboard); an API call to a provider with no key spoke of the page's settings."""
    assert named in (error_of(raw_call(app, name, data)) or "")
    assert not chat_requests(scripted)


def test_the_api_takes_top_p_like_the_page(app, api, scripted):
    api.predict("Hi", top_p=0.25, api_name="/chat")
    assert scripted.requests[-1]["body"]["top_p"] == 0.25


def test_api_history_may_use_openai_text_parts():
    assert plain_history(
        [
            {"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]},
            {"role": "system", "content": "dropped"},
        ]
    ) == [{"role": "user", "content": "a\nb"}]
    assert question(" ok ") == " ok "


# -- 3. a stall is shown while it lasts and bounded once the answer has started ----------------


@pytest.mark.slow  # (waits on real time or starts processes: not in the fast loop)
def test_silence_before_the_first_token_shows_the_time_waited(scripted, monkeypatch):
    monkeypatch.setattr(reading, "TICK_S", 0.3)
    scripted.queue(Reply(chunks=text_stream("Late", " answer"), first_delay=1.4))
    events = run(make_client(), endpoint(scripted))
    waits = [e for e in events if isinstance(e, Status)]
    # Ticks at 0.3, 0.6, 0.9 and 1.2 s; a fifth at 1.5 s when the first token is read a little late.
    assert len(waits) in (4, 5) and [w.params["seconds"] for w in waits] == sorted(w.params["seconds"] for w in waits)
    assert waits[-1].params["seconds"] == 1 and waits[-1].message == "Waiting for OpenAI to answer… 1 s"
    assert all(w.kind == "waiting" for w in waits)
    assert answer_of(events).text == "Late answer"


@pytest.mark.slow  # (waits on real time or starts processes: not in the fast loop)
def test_a_pause_longer_than_the_idle_limit_ends_the_answer_and_keeps_it(scripted, monkeypatch):
    monkeypatch.setattr(reading, "TICK_S", 0.25)  # the same logic, four times faster
    monkeypatch.setattr(reading, "PAUSE_SHOWN_S", 0.75)
    scripted.queue(Reply(chunks=[*sse(delta("Started"), done=False), *text_stream(" never")], delay=4))
    started = time.monotonic()
    events = run(make_client(idle_timeout=1.5), endpoint(scripted))
    answer = answer_of(events)
    assert time.monotonic() - started < 3.5
    assert answer.text == "Started" and answer.failure.kind == "timeout"
    assert "CAUSERIE_IDLE_TIMEOUT" in answer.failure.message and "1.5 s" in answer.failure.message
    pauses = [e for e in events if isinstance(e, Status)]
    assert pauses and all(p.params["why"] == "paused" for p in pauses)


@pytest.mark.slow  # (waits on real time or starts processes: not in the fast loop)
def test_stop_while_waiting_for_the_first_token_closes_upstream(scripted):
    scripted.queue(Reply(chunks=text_stream("late"), first_delay=5))
    client = make_client()

    async def go():
        stream = client.stream(ChatRequest(endpoint(scripted), "model-a", [{"role": "user", "content": "q"}]))
        first = await anext(stream)  # the first "waiting" status, after a second
        await stream.aclose()
        await settled(scripted)
        await client.aclose()
        return first

    assert run_async(go()).kind == "waiting"
    assert scripted.last_outcome() == "disconnected"


# -- 4. an answer that ends in a tool call keeps what came ------------------------------------


def test_chat_details_keeps_a_tool_call_answer(app, api, scripted):
    scripted.queue(Reply.fixture("xai-grok-3-mini-thinking"))
    result = api.predict("Weather?", api_name="/chat_details")
    assert result["finish_reason"] == "tool_calls" and result["answer"] == ""
    assert result["reasoning"].strip() and result["usage"]["reasoning_tokens"] == 313


def test_a_tool_call_shows_a_notice_not_an_error():
    answer = Answer("xAI", "grok")
    for event in (Usage(3, 4), Finish("tool_calls")):
        answer.apply(event)
    shown = [content_text(m["content"]) for m in render(answer)]
    assert any(text.startswith("ℹ️") and "tool" in text for text in shown)
    assert not any(text.startswith("⚠️") for text in shown)


# -- 5. a 200 that is not an OpenAI-compatible answer ----------------------------------------


@pytest.mark.parametrize(
    "body, content_type",
    [
        (b"<!DOCTYPE html><html><body>Sign in to continue</body></html>", "text/event-stream"),
        (b"<!DOCTYPE html><html><body>Sign in to continue</body></html>", "text/html"),
        (b'{"status": "ok", "service": "Sign in to continue"}', "application/json"),
    ],
)
def test_a_page_that_is_not_an_openai_answer_says_so_and_shows_its_start(scripted, body, content_type):
    scripted.queue(Reply(chunks=[body], content_type=content_type))
    failure = run(make_client(), endpoint(scripted))[-1]
    assert failure.kind == "not_compatible"
    assert "OpenAI-compatible" in failure.message and "Sign in to continue" in failure.message
    assert "base URL" in failure.message and "OPENAI_BASE_URL" in failure.message


def test_the_first_bytes_shown_never_hold_the_key(scripted):
    scripted.queue(Reply(chunks=[f"<html>Your header: Bearer {KEY}</html>".encode()], content_type="text/html"))
    failure = run(make_client(), endpoint(scripted))[-1]
    assert failure.kind == "not_compatible" and KEY not in failure.message and KEY[:12] not in failure.message


# -- 7. what the provider says it charged wins over the price table ---------------------------


def test_openrouter_reported_cost_is_preferred_and_labelled(scripted):
    usage = {"prompt_tokens": 10, "completion_tokens": 5, "cost": 0.00042}
    scripted.queue(Reply(chunks=text_stream("Hi", usage=usage)))
    table = ModelInfoTable({("openrouter", "some/model"): ModelInfo(input=100.0, output=100.0)})
    service = ChatService(
        load_settings({"OPENROUTER_API_KEY": "test-not-secret", "OPENROUTER_BASE_URL": scripted.base_url}), model_info=table
    )

    async def go():
        try:
            return [
                e
                async for e in service.stream_answer(ChatOptions("openrouter", "some/model"), [{"role": "user", "content": "q"}])
            ]
        finally:
            await service.aclose()

    events = run_async(go())
    priced = [e for e in events if isinstance(e, Usage)][-1]
    assert priced.cost_usd == pytest.approx(0.00042) and priced.cost_source == "provider"
    answer = answer_of(events)
    assert "$0.0004 billed" in footer_text(answer)


def test_the_price_table_is_used_and_said_when_the_provider_reports_no_cost():
    priced = ModelInfo(input=1.0, output=2.0).priced(Usage(1000, 500))
    assert priced.cost_usd == pytest.approx(0.002) and priced.cost_source == "price_table"
    answer = Answer("OpenAI", "m")
    for event in (TextDelta("x"), priced, Finish("stop")):
        answer.apply(event)
    assert "$0.0020 at list price" in footer_text(answer)


# -- 8. retries spread out, and Retry-After may be a date --------------------------------------


def test_backoff_is_jittered_so_many_people_do_not_retry_together():
    client = ChatClient(retry=RetryPolicy(backoff_s=0.5))
    waits = [client._backoff(0, None) for _ in range(100)]
    assert len({round(w, 3) for w in waits}) > 50 and 0.25 <= min(waits) and max(waits) <= 0.75
    asked = [client._backoff(0, "2") for _ in range(100)]
    assert len({round(w, 3) for w in asked}) > 50 and all(2 <= w <= 2.5 for w in asked)


def test_retry_after_as_an_http_date():
    now = time.time()
    when = email.utils.formatdate(now + 20, usegmt=True)
    assert retry_after_seconds(when, now=now) == pytest.approx(20, abs=1)
    assert retry_after_seconds(email.utils.formatdate(now - 60, usegmt=True), now=now) == 0
    assert retry_after_seconds("soon") is None and retry_after_seconds("7") == 7


def test_a_429_with_a_date_is_waited_for_then_succeeds(scripted):
    soon = email.utils.formatdate(time.time() + 1, usegmt=True)
    scripted.queue(Reply.error(429, {"error": {"message": "slow down"}}, headers={"retry-after": soon}))
    events = run(make_client(), endpoint(scripted))
    assert answer_of(events).text == "Hello there!"
    assert [e.kind for e in events if isinstance(e, Status)] == ["retrying"]


# -- wording lives in one place ----------------------------------------------------------------


def test_failures_are_worded_from_their_kind_and_parameters():
    failure = Failure(
        "connect", {"provider": "Ollama", "base_url": "http://x/v1", "why": "refused", "base_url_env": "OLLAMA_BASE_URL"}
    )
    assert failure.message.startswith("Could not connect to Ollama at http://x/v1 (connection refused)")
    assert "OLLAMA_BASE_URL" in failure.message


# -- found in review ----------------------------------------------------------------------------


def test_an_unsupported_value_is_about_the_value_and_not_remembered(scripted):
    client = make_client()
    scripted.queue(
        Reply.error(
            400,
            {
                "error": {
                    "message": "Unsupported value: 'reasoning_effort' does not support 'minimal' "
                    "with this model. Supported values are: 'low', 'medium', and 'high'.",
                    "param": "reasoning_effort",
                    "code": "unsupported_value",
                }
            },
        )
    )
    failure = run(client, endpoint(scripted), model="o-thing", reasoning_effort="minimal")[-1]
    assert failure.kind == "invalid_value" and failure.params["param"] == "reasoning_effort"
    run(client, endpoint(scripted), model="o-thing", reasoning_effort="high")
    assert scripted.requests[-1]["body"]["reasoning_effort"] == "high"


def test_numbers_typed_as_text():
    assert generation_params(temperature="0,7", top_p=" 0.5 ", max_tokens="200") == GenerationParams(0.7, 0.5, 200)
    for wrong in ("1,000", "2.5", "lots"):
        with pytest.raises(InvalidOptions, match="max_tokens"):
            generation_params(max_tokens=wrong)
    with pytest.raises(InvalidOptions, match="temperature"):
        generation_params(temperature=10**400)


def test_a_keyless_server_rejecting_a_key_gets_a_hint_not_none(scripted):
    scripted.queue(Reply.error(401, {"error": {"message": "no"}}))
    failure = run(make_client(), endpoint(scripted, "ollama", key=None))[-1]
    assert failure.kind == "auth" and "None" not in failure.message and "API key settings" in failure.message


@pytest.mark.slow  # (waits on real time or starts processes: not in the fast loop)
def test_the_first_token_limit_holds_even_when_the_idle_limit_is_longer(scripted):
    scripted.queue(Reply(chunks=text_stream("late"), first_delay=3))
    failure = run(make_client(read_timeout=1.2, idle_timeout=100), endpoint(scripted))[-1]
    assert failure.kind == "timeout" and "CAUSERIE_READ_TIMEOUT" in failure.message


def test_a_second_unsupported_parameter_is_reported_with_the_status_the_provider_sent(scripted):
    extra = {"detail": [{"type": "extra_forbidden", "loc": ["body", "top_p"], "msg": "Extra inputs are not permitted"}]}
    again = {"detail": [{"type": "extra_forbidden", "loc": ["body", "temperature"], "msg": "Extra inputs are not permitted"}]}
    scripted.queue(Reply.error(422, extra), Reply.error(422, again))
    failure = run(make_client(), endpoint(scripted, "mistral"), top_p=0.5, temperature=0.5)[-1]
    assert failure.kind == "bad_request" and failure.status == 422 and "HTTP 422" in failure.message
