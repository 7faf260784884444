"""The Responses path (server-side search tools), against xAI's recorded streams replayed by the
scripted server over real HTTP: exact text, thinking, sources and usage; the request's shape;
failures and Stop mid-search; which tools are offered where."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from causerie.answering.answer import Answer
from causerie.answering.limits import Visitor
from causerie.answering.options import ChatOptions, InvalidOptions, SearchOptions, checked_tools, search_options
from causerie.answering.service import ChatService
from causerie.config.settings import load_settings
from causerie.events import Failure, Finish, Status, TextDelta
from causerie.ui.render import footer_text, render

from support.apps import run_async
from support.clients import settled
from support.keys import SERVER_KEY
from support.scripted_server import Reply

RECORDINGS = Path(__file__).parent / "fixtures" / "responses"


def recorded(name: str) -> list[dict]:
    """The recording's events, read straight from the file (what the test expects)."""
    events = []
    for block in (RECORDINGS / f"{name}.sse").read_text(encoding="utf-8").split("\n\n"):
        data = "".join(line[6:] for line in block.splitlines() if line.startswith("data: "))
        if data:
            events.append(json.loads(data))
    return events


def sse_events(*events: dict) -> list[bytes]:
    """Responses API events, framed as xAI frames them."""
    return [f"event: {e['type']}\ndata: {json.dumps(e)}\n\n".encode() for e in events]


def service_for(scripted) -> ChatService:
    return ChatService(load_settings({"XAI_API_KEY": SERVER_KEY, "XAI_BASE_URL": scripted.base_url}))


def ask(service: ChatService, options: ChatOptions, question: str = "What is xAI?") -> list:
    async def go():
        try:
            return [
                e async for e in service.stream_answer(options, [{"role": "user", "content": question}], Visitor(session="s"))
            ]
        finally:
            await service.aclose()

    return run_async(go())


def answer_of(events) -> Answer:
    answer = Answer()
    for event in events:
        answer.apply(event)
    return answer


SEARCH = ChatOptions("xai", "grok-4.3", tools=("web_search",), conversation_id="conv-123")


@pytest.mark.parametrize("name", ["xai-responses-text", "xai-responses-reasoning", "xai-responses-web-search"])
def test_a_replayed_recording_gives_its_exact_text_thinking_sources_and_usage(scripted, name):
    scripted.queue(Reply.responses_fixture(name))
    events = ask(service_for(scripted), SEARCH)
    source = recorded(name)
    answer = answer_of(events)
    assert answer.failure is None and answer.finish_reason == "stop"
    assert answer.text == "".join(e["delta"] for e in source if e["type"] == "response.output_text.delta")
    assert answer.reasoning == "".join(e["delta"] for e in source if e["type"] == "response.reasoning_summary_text.delta")
    urls = [e["annotation"]["url"] for e in source if e["type"] == "response.output_text.annotation.added"]
    assert [c.url for c in answer.citations] == list(dict.fromkeys(urls))
    usage = source[-1]["response"]["usage"]
    assert answer.usage.prompt_tokens == usage["input_tokens"] and answer.usage.completion_tokens == usage["output_tokens"]
    assert answer.usage.cached_tokens == usage["input_tokens_details"]["cached_tokens"]
    assert answer.usage.reasoning_tokens == usage["output_tokens_details"]["reasoning_tokens"]
    assert scripted.requests[-1]["path"] == "/v1/responses"


def test_a_web_search_says_what_it_searches_then_lists_its_sources(scripted):
    scripted.queue(Reply.responses_fixture("xai-responses-web-search"))
    events = ask(service_for(scripted), SEARCH)
    searching = [e for e in events if type(e) is Status and e.kind == "searching"]
    assert searching and searching[0].message == 'Searching the web for "what is xAI"…'
    assert events.index(searching[0]) < next(i for i, e in enumerate(events) if type(e).__name__ == "TextDelta")
    answer = answer_of(events)
    shown = "\n".join(part["text"] for message in render(answer) for part in message["content"])
    assert "**Sources**\n\n1. [en.wikipedia.org/wiki/XAI_%28company%29](https://en.wikipedia.org/wiki/XAI_%28company%29)" in shown
    assert f"{len(answer.citations)} sources" in footer_text(answer)
    assert "1,875 (1,578 cached) in" in footer_text(answer) and "1 web search" in footer_text(answer)
    assert answer.details()["citations"][0] == {"url": "https://en.wikipedia.org/wiki/XAI_%28company%29", "title": ""}


def test_each_tool_is_said_by_its_kind_and_query_and_nothing_is_dropped_silently(scripted):
    """xAI's X search streams as a custom tool call, its query in `input`: it was announced as
    "Searching the web…" with no query; an image the answer made was dropped without a word and
    counted as "1 search". Now each tool is said by kind and query, counted by kind, and output
    this chat cannot show is named."""
    x_call = {
        "type": "custom_tool_call",
        "id": "ctc_1",
        "call_id": "",
        "name": "x_keyword_search",
        "input": json.dumps({"query": "grok  release", "limit": 10}),
        "status": "completed",
    }
    image = {"type": "image_generation_call", "id": "ig_1", "status": "completed", "result": "iVBORw0KGgo="}
    completed = recorded("xai-responses-text")[-1]
    completed["response"]["output"] = [x_call, image, completed["response"]["output"][-1]]
    completed["response"]["usage"]["num_server_side_tools_used"] = 2
    scripted.queue(
        Reply(
            chunks=sse_events(
                {"type": "response.output_item.added", "output_index": 0, "item": x_call},
                {"type": "response.output_item.done", "output_index": 0, "item": x_call},
                {"type": "response.output_item.added", "output_index": 1, "item": {**image, "status": "in_progress"}},
                {"type": "response.output_item.done", "output_index": 1, "item": image},
                {"type": "response.output_text.delta", "output_index": 2, "content_index": 0, "item_id": "m", "delta": "Here."},
                completed,
            ),
            content_type="text/event-stream",
        )
    )
    events = ask(service_for(scripted), ChatOptions("xai", "grok-4.3", tools=("x_search",)))
    searching = [e for e in events if type(e) is Status and e.kind == "searching"]
    assert searching[0].message == 'Searching X for "grok release"…'
    assert [e.message for e in searching[2:]] == ["Making an image…"]
    answer = answer_of(events)
    assert answer.failure is None and answer.text == "Here."
    assert [n.kind for n in answer.notices] == ["unshown"] and "made an image" in answer.notices[0].message
    footer = footer_text(answer)
    assert "1 X search · 1 image made" in footer and "search ·" not in footer.replace("X search ·", "")
    assert answer.details()["usage"]["tools"] == {"x": 1, "image": 1}
    shown = "\n".join(part["text"] for message in render(answer) for part in message["content"])
    assert "not one Causerie could read" in shown


def test_a_whitespace_answer_that_ends_in_a_tool_call_gets_its_notice():
    answer = Answer()
    for event in (TextDelta("\n\n "), Finish("tool_calls")):
        answer.apply(event)
    assert answer.asked_for_tool
    shown = "\n".join(part["text"] for message in render(answer) for part in message["content"])
    assert "asked to call a tool" in shown


def test_the_request_sends_the_conversation_tools_and_cache_key_and_nothing_kept(scripted):
    scripted.queue(Reply.responses_fixture("xai-responses-text"))
    options = ChatOptions(
        "xai",
        "grok-4.3",
        system_prompt="Be brief.",
        tools=("web_search", "x_search"),
        search=search_options("@elonmusk, xai", "", "2026-01-01", "2026-02-01"),
        conversation_id="conv-123",
    )
    ask(service_for(scripted), options)
    body = scripted.requests[-1]["body"]
    assert body["input"] == [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "What is xAI?"}]
    assert body["tools"] == [
        {"type": "web_search"},
        {"type": "x_search", "allowed_x_handles": ["elonmusk", "xai"], "from_date": "2026-01-01", "to_date": "2026-02-01"},
    ]
    assert body["store"] is False and body["stream"] is True and body["prompt_cache_key"] == "conv-123"
    assert scripted.requests[-1]["headers"]["authorization"] == f"Bearer {SERVER_KEY}"


def test_plain_chat_stays_on_chat_completions_with_the_conversation_header(scripted):
    ask(service_for(scripted), ChatOptions("xai", "grok-4.3", conversation_id="conv-9"))
    assert scripted.requests[-1]["path"] == "/v1/chat/completions"
    assert scripted.requests[-1]["headers"]["x-grok-conv-id"] == "conv-9"


def test_a_stream_broken_mid_search_keeps_what_came_and_says_so(scripted):
    scripted.queue(Reply.responses_fixture("xai-responses-web-search", break_after=4))
    answer = answer_of(ask(service_for(scripted), SEARCH))
    assert answer.failure is not None and answer.failure.kind == "cut_off"
    assert "broke in the middle of the answer" in answer.failure.message


def test_a_provider_error_is_worded_and_the_key_never_echoed(scripted):
    scripted.queue(Reply.error(401, {"code": "unauthorized", "error": f"Incorrect API key {SERVER_KEY}"}))
    failure = next(e for e in ask(service_for(scripted), SEARCH) if type(e) is Failure)
    assert failure.kind == "auth" and "XAI_API_KEY" in failure.message
    assert SERVER_KEY not in failure.message


def test_stop_during_a_search_closes_the_providers_stream(scripted):
    scripted.queue(Reply.responses_fixture("xai-responses-web-search", delay=0.2))
    service = service_for(scripted)

    async def go():
        stream = service.stream_answer(SEARCH, [{"role": "user", "content": "What is xAI?"}], Visitor(session="s"))
        try:
            async for event in stream:
                if type(event) is Status and event.kind == "searching":
                    break  # Stop, while the model searches
        finally:
            await stream.aclose()
        outcome = await settled(scripted)  # before the service's pool is closed, which would end it anyway
        await service.aclose()
        return outcome

    assert run_async(go()) == "disconnected"


def test_tools_are_checked_by_name_and_where_they_are_offered(scripted):
    with pytest.raises(InvalidOptions, match="There is no tool 'web'; the tools are web_search, x_search, code_execution"):
        checked_tools(["web"])
    assert checked_tools(["x_search", "x_search"]) == ("x_search",)
    with pytest.raises(InvalidOptions, match="from_date"):
        search_options(from_date="2026-03-01", to_date="2026-01-01")
    with pytest.raises(InvalidOptions, match="x_handles"):
        search_options(x_handles="not a handle!")
    with pytest.raises(InvalidOptions, match="excluded_x_handles.*one list or the other"):
        search_options(x_handles="xai", excluded_x_handles="spam")
    with pytest.raises(InvalidOptions, match="at most 10"):
        search_options(x_handles=" ".join(f"h{n}" for n in range(11)))
    assert search_options(x_handles="@a_b c") == SearchOptions(x_handles=("a_b", "c"))
    service = ChatService(load_settings({"OPENAI_API_KEY": SERVER_KEY, "OPENAI_BASE_URL": scripted.base_url}))
    failure = next(e for e in ask(service, ChatOptions("openai", "gpt-x", tools=("x_search",))) if type(e) is Failure)
    assert failure.message == (
        "OpenAI does not offer x_search with gpt-x (it offers: web_search). Turn Search off, "
        "or pick a provider or model that has it."
    )
    assert scripted.requests == []


def test_a_completed_usage_with_ticks_is_the_billed_cost(scripted):
    events = recorded("xai-responses-text")
    events[-1]["response"]["usage"]["cost_in_usd_ticks"] = 12_345_000
    scripted.queue(Reply(chunks=sse_events(*events)))
    answer = answer_of(ask(service_for(scripted), SEARCH))
    assert answer.cost_usd == pytest.approx(0.0012345) and answer.usage.cost_source == "provider"


def test_encrypted_reasoning_goes_back_before_its_answer_on_the_next_turn(scripted):
    events = recorded("xai-responses-reasoning")
    completed = events[-1]["response"]
    reasoning_item = next(item for item in completed["output"] if item["type"] == "reasoning")
    reasoning_item["encrypted_content"] = "opaque-blob-for-the-provider"
    scripted.queue(Reply(chunks=sse_events(*events)), Reply.responses_fixture("xai-responses-text"))
    service = service_for(scripted)
    options = ChatOptions("xai", "grok-4.3", tools=("web_search",), conversation_id="conv-r")

    async def go():
        first = [e async for e in service.stream_answer(options, [{"role": "user", "content": "Sonoran food?"}], Visitor())]
        text = answer_of(first).text
        turns = [
            {"role": "user", "content": "Sonoran food?"},
            {"role": "assistant", "content": text},
            {"role": "user", "content": "And the drinks?"},
        ]
        [e async for e in service.stream_answer(options, turns, Visitor())]
        await service.aclose()

    run_async(go())
    first_body, second_body = (r["body"] for r in scripted.requests[-2:])
    assert first_body["include"] == ["reasoning.encrypted_content"] and first_body["store"] is False
    kinds = [item.get("type") or item["role"] for item in second_body["input"]]
    assert kinds == ["user", "reasoning", "assistant", "user"]
    assert second_body["input"][1]["encrypted_content"] == "opaque-blob-for-the-provider"
    assert second_body["input"][1]["id"] == reasoning_item["id"]


def test_the_api_takes_tools_and_returns_citations(api, scripted):
    scripted.queue(Reply.responses_fixture("xai-responses-web-search"))
    result = api.predict("What is xAI?", provider="openai", model="gpt-x", tools=["web_search"], api_name="/chat_details")
    assert result["citations"][0] == {"url": "https://en.wikipedia.org/wiki/XAI_%28company%29", "title": ""}
    assert result["usage"]["tool_calls"] == 1 and result["answer"].startswith("xAI is an American")
    assert scripted.requests[-1]["body"]["tools"] == [{"type": "web_search"}]
    for tools, said in ((["web"], "There is no tool 'web'"), (["x_search"], "OpenAI does not offer x_search")):
        with pytest.raises(Exception, match=said):
            api.predict("Hi", provider="openai", model="gpt-x", tools=tools, api_name="/chat")


CREATED = {
    "type": "response.created",
    "sequence_number": 0,
    "response": {
        "id": "r",
        "object": "response",
        "created_at": 0,
        "model": "m",
        "output": [],
        "status": "in_progress",
        "tools": [],
        "parallel_tool_calls": True,
        "tool_choice": "auto",
    },
}
DELTA = {
    "type": "response.output_text.delta",
    "sequence_number": 1,
    "item_id": "m",
    "output_index": 0,
    "content_index": 0,
    "logprobs": [],
    "delta": "Partial ",
}


@pytest.mark.parametrize(
    "failing, said",
    [
        ({"type": "error", "sequence_number": 2, "code": "server_error", "message": f"boom with {SERVER_KEY}"}, "boom with"),
        (
            {
                "type": "response.failed",
                "sequence_number": 2,
                "response": {
                    **CREATED["response"],
                    "status": "failed",
                    "error": {"code": "x", "message": f"failed, key {SERVER_KEY}"},
                },
            },
            "failed, key",
        ),
    ],
)
def test_an_error_in_the_stream_is_the_providers_words_without_the_key(scripted, failing, said):
    scripted.queue(Reply(chunks=sse_events(CREATED, DELTA, failing)))
    answer = answer_of(ask(service_for(scripted), SEARCH))
    assert answer.text == "Partial " and answer.failure.kind == "stream_error"
    assert said in answer.failure.message and SERVER_KEY not in answer.failure.message


def test_a_flat_error_a_broken_event_and_a_redirect_are_worded(scripted):
    flat = f'data: {{"code": "bad", "error": "flat error {SERVER_KEY}"}}\n\n'.encode()
    scripted.queue(
        Reply(chunks=[*sse_events(CREATED), flat]),
        Reply(chunks=[*sse_events(CREATED), b"data: {not json\n\n"]),
        Reply(status=307, body=b"", headers={"location": "http://169.254.169.254/latest"}),
    )
    service = service_for(scripted)
    kinds = [next(e for e in ask(service, SEARCH) if type(e) is Failure) for _ in range(3)]
    assert [f.kind for f in kinds] == ["stream_error", "invalid_stream", "redirected"]
    assert SERVER_KEY not in kinds[0].message and "169.254.169.254" in kinds[2].message


def test_only_the_chat_wires_headers_go_out(scripted, monkeypatch):
    monkeypatch.setenv("OPENAI_ORG_ID", "org-secret")
    monkeypatch.setenv("OPENAI_PROJECT_ID", "proj-secret")
    scripted.queue(Reply.responses_fixture("xai-responses-text"))
    ask(service_for(scripted), SEARCH)
    headers = scripted.requests[-1]["headers"]
    assert "openai-organization" not in headers and "openai-project" not in headers
    assert not [name for name in headers if name.startswith("x-stainless")]
    assert headers["authorization"] == f"Bearer {SERVER_KEY}"


def test_a_pause_past_the_idle_limit_ends_a_begun_answer(scripted):
    from dataclasses import replace

    scripted.queue(Reply(chunks=sse_events(CREATED, DELTA, {**DELTA, "delta": "more"}), pauses={2: 3.0}))
    service = ChatService(
        replace(load_settings({"XAI_API_KEY": SERVER_KEY, "XAI_BASE_URL": scripted.base_url}), idle_timeout=0.5)
    )
    answer = answer_of(ask(service, SEARCH))
    assert answer.text == "Partial " and answer.failure.kind == "timeout"
    assert "CAUSERIE_IDLE_TIMEOUT" in answer.failure.message


def test_the_pages_search_choice_becomes_tools_and_x_options_are_read_for_x_only():
    from causerie.ui.panel import PageSettings

    names = (
        "provider",
        "model",
        "reasoning_effort",
        "preset",
        "system_prompt",
        "temperature",
        "top_p",
        "max_tokens",
        "search",
        "x_options",
    )
    page = PageSettings(**{name: name for name in names})
    values = {name: "" for name in names} | {"provider": "xai", "search": "web", "x_options": "not valid!!"}
    assert page.options(values).tools == ("web_search",)  # a bad X option never stops a web search
    values |= {"search": "both", "x_options": "@xai, nasa since:2026-01-01"}
    options = page.options(values)
    assert options.tools == ("web_search", "x_search")
    assert options.search == SearchOptions(x_handles=("xai", "nasa"), from_date="2026-01-01")
    values |= {"search": "x", "x_options": "-@spambot -other until:2026-03-01"}
    assert page.options(values).search == SearchOptions(excluded_x_handles=("spambot", "other"), to_date="2026-03-01")
    with pytest.raises(InvalidOptions, match="a date as YYYY-MM-DD"):
        page.options(values | {"x_options": "since:yesterday"})
