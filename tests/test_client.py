"""The wire client against the scripted server: recorded streams, quirks and every failure."""

from __future__ import annotations

import asyncio
import json
import socket
import struct
import threading
import time

import pytest

from causerie.endpoints import reading
from causerie.endpoints.client import ChatClient, ChatRequest, RetryPolicy
from causerie.endpoints.providers import Endpoint, get_provider
from causerie.endpoints.wire import SSEDecoder, joined
from causerie.events import Failure, Finish, ReasoningDelta, Status, TextDelta

from support.apps import run_async
from support.clients import KEY, answer_of, endpoint, make_client, run, settled
from support.scripted_server import Reply, delta, sse, text_stream

# -- recorded streams ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, provider, text, reasoning",
    [
        ("xai-grok-4-fast-simple", "xai", "Olá!", ""),
        ("xai-grok-code-fast-simple", "xai", None, "nonempty"),
        ("openai-gpt-4o-simple", "openai", None, ""),
        ("openai-o4-mini-simple", "openai", None, ""),
        ("groq-kimi-k2-simple", "groq", None, ""),
        ("huggingface-kimi-k2-simple", "huggingface", None, ""),
        ("llamacpp-gpt-oss-simple", "llamacpp", "Olá!", "nonempty"),
    ],
)
def test_recorded_streams_parse(scripted, name, provider, text, reasoning):
    scripted.queue(Reply.fixture(name))
    events = run(make_client(), endpoint(scripted, provider))
    answer = answer_of(events)
    assert answer.failure is None, answer.failure
    assert answer.finish_reason == "stop"
    assert answer.text.strip()
    if text:
        assert answer.text == text
    if reasoning:
        assert answer.reasoning.strip()
    else:
        assert answer.reasoning == ""
    assert isinstance(events[-1], Finish)
    assert answer.usage is not None and answer.usage.prompt_tokens


def test_xai_usage_counts_reasoning_inside_completion(scripted):
    scripted.queue(Reply.fixture("xai-grok-4-fast-simple"))
    usage = answer_of(run(make_client(), endpoint(scripted, "xai"))).usage
    # xAI: completion 2 + reasoning 129, total 296 = 165 + 131
    assert (usage.prompt_tokens, usage.completion_tokens, usage.reasoning_tokens, usage.cached_tokens) == (165, 131, 129, 164)
    assert not usage.estimated


def test_tool_call_without_text_keeps_thinking_usage_and_finish_reason(scripted):
    scripted.queue(Reply.fixture("xai-grok-3-mini-thinking"))
    events = run(make_client(), endpoint(scripted, "xai"))
    answer = answer_of(events)
    assert answer.failure is None and answer.text == ""
    assert answer.reasoning.strip() and answer.usage.reasoning_tokens == 313
    assert answer.finish_reason == "tool_calls" and answer.asked_for_tool
    assert events[-1] == Finish("tool_calls")


# -- request shape ---------------------------------------------------------------------------


def test_only_set_parameters_are_sent_and_key_goes_in_header(scripted):
    run(make_client(), endpoint(scripted), temperature=0.3, top_p=None, max_tokens=None)
    sent = scripted.requests[-1]
    assert sent["body"]["temperature"] == 0.3
    assert "top_p" not in sent["body"] and "max_tokens" not in sent["body"]
    assert sent["body"]["stream"] is True
    assert sent["body"]["stream_options"] == {"include_usage": True}
    assert sent["headers"]["authorization"] == f"Bearer {KEY}"


def test_provider_without_stream_usage_gets_no_stream_options(scripted):
    run(make_client(), endpoint(scripted, "mistral"))
    assert "stream_options" not in scripted.requests[-1]["body"]


def test_keyless_local_server_gets_no_authorization(scripted):
    run(make_client(), endpoint(scripted, "ollama", key=None))
    assert "authorization" not in scripted.requests[-1]["headers"]


# -- quirks from the provider notes ----------------------------------------------------------


def test_empty_choices_none_delta_and_none_content(scripted):
    scripted.queue(
        Reply(
            chunks=sse(
                {"choices": []},
                {"choices": [{"index": 0, "delta": None}]},
                delta(None, role="assistant"),
                {"choices": [{"index": 0, "delta": {"content": None}}]},
                delta("Yes"),
                delta(finish="stop"),
            )
        )
    )
    answer = answer_of(run(make_client(), endpoint(scripted)))
    assert answer.text == "Yes" and answer.finish_reason == "stop"


@pytest.mark.parametrize("field", ["reasoning_content", "reasoning"])
def test_reasoning_fields(scripted, field):
    scripted.queue(
        Reply(chunks=sse(delta(**{field: "Let me think."}), delta(**{field: " Done."}), delta("42"), delta(finish="stop")))
    )
    answer = answer_of(run(make_client(), endpoint(scripted)))
    assert (answer.reasoning, answer.text) == ("Let me think. Done.", "42")


def test_mistral_list_content_with_thinking_parts(scripted):
    scripted.queue(
        Reply(
            chunks=sse(
                delta([{"type": "thinking", "thinking": [{"type": "text", "text": "Hmm."}]}]),
                delta([{"type": "text", "text": "Bonjour"}]),
                delta(finish="stop"),
            )
        )
    )
    answer = answer_of(run(make_client(), endpoint(scripted, "mistral")))
    assert (answer.reasoning, answer.text) == ("Hmm.", "Bonjour")


def test_think_tags_split_across_chunks(scripted):
    scripted.queue(Reply(chunks=text_stream("<thi", "nk>Step one", ".</th", "ink>\n\nThe answer", " is 4.")))
    answer = answer_of(run(make_client(), endpoint(scripted, "llamacpp", key=None)))
    assert answer.reasoning == "Step one."
    assert answer.text == "The answer is 4."


def test_lone_closing_think_tag_moves_earlier_text_to_reasoning(scripted):
    scripted.queue(Reply(chunks=text_stream("I should greet", " them.</think>", "Hello!")))
    answer = answer_of(run(make_client(), endpoint(scripted, "llamacpp", key=None)))
    assert answer.reasoning == "I should greet them."
    assert answer.text == "Hello!"


def test_text_with_angle_brackets_is_untouched(scripted):
    scripted.queue(Reply(chunks=text_stream("if a <", " b and <b>bold</b> <thin", "king>")))
    answer = answer_of(run(make_client(), endpoint(scripted)))
    assert answer.text == "if a < b and <b>bold</b> <thinking>" and answer.reasoning == ""


def test_groq_usage_under_x_groq(scripted):
    chunk = delta(finish="stop")
    chunk["x_groq"] = {"usage": {"prompt_tokens": 11, "completion_tokens": 3}}
    scripted.queue(Reply(chunks=sse(delta("Hi"), chunk)))
    usage = answer_of(run(make_client(), endpoint(scripted, "groq"))).usage
    assert (usage.prompt_tokens, usage.completion_tokens, usage.estimated) == (11, 3, False)


def test_usage_on_last_content_chunk_deepseek_style(scripted):
    chunk = delta("!", finish="stop")
    chunk["usage"] = {"prompt_tokens": 5, "completion_tokens": 2}
    scripted.queue(Reply(chunks=sse(delta("Hi"), chunk)))
    answer = answer_of(run(make_client(), endpoint(scripted, "deepseek")))
    assert answer.text == "Hi!" and answer.usage.completion_tokens == 2


def test_missing_usage_is_estimated(scripted):
    scripted.queue(Reply(chunks=text_stream("Hello there, this is an answer.")))
    usage = answer_of(run(make_client(), endpoint(scripted))).usage
    assert usage.estimated and usage.completion_tokens > 0


def test_openrouter_comments_are_ignored(scripted):
    scripted.queue(Reply(chunks=[b": OPENROUTER PROCESSING\n\n", *text_stream("Fine")]))
    answer = answer_of(run(make_client(), endpoint(scripted, "openrouter")))
    assert answer.text == "Fine" and answer.failure is None


def test_whole_json_completion_when_server_ignores_stream(scripted):
    payload = {
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "Plain"}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 3, "completion_tokens": 1},
    }
    scripted.queue(Reply(status=200, body=json.dumps(payload).encode(), content_type="application/json"))
    answer = answer_of(run(make_client(), endpoint(scripted)))
    assert answer.text == "Plain" and answer.finish_reason == "stop"


# -- failures ---------------------------------------------------------------------------------


def test_401_names_the_variable_and_never_the_key(scripted):
    scripted.queue(
        Reply.error(
            401, {"error": {"message": f"Incorrect API key provided: {KEY[:6]}***{KEY[-4:]}", "type": "invalid_request_error"}}
        )
    )
    events = run(make_client(), endpoint(scripted, "openai"))
    failure = events[-1]
    assert failure.kind == "auth" and "OPENAI_API_KEY" in failure.message
    assert KEY[:6] not in failure.message and KEY[-4:] not in failure.message
    assert len(scripted.requests) == 1  # never retried


def test_xai_flat_400_bad_key_is_auth(scripted):
    scripted.queue(
        Reply.error(
            400,
            {
                "code": "Client specified an invalid argument",
                "error": f"Incorrect API key provided: {KEY}. You can obtain an API key from https://console.x.ai.",
            },
        )
    )
    failure = run(make_client(), endpoint(scripted, "xai"))[-1]
    assert failure.kind == "auth" and "XAI_API_KEY" in failure.message and KEY not in failure.message


def test_403_no_credits(scripted):
    scripted.queue(Reply.error(403, {"code": "forbidden", "error": "Your newly created team doesn't have any credits yet."}))
    failure = run(make_client(), endpoint(scripted, "xai"))[-1]
    assert failure.kind == "credits" and len(scripted.requests) == 1


def test_404_suggests_listed_models(scripted):
    client = make_client(known_models=lambda ep: ["model-a", "model-b"])
    scripted.queue(Reply.error(404, {"error": {"message": "The model `nope` does not exist"}}))
    failure = run(client, endpoint(scripted), model="nope")[-1]
    assert failure.kind == "not_found" and "'nope'" in failure.message and "model-a" in failure.message


@pytest.mark.slow  # (waits on real time or starts processes: not in the fast loop)
def test_429_retries_honouring_retry_after_then_succeeds(scripted):
    scripted.queue(
        Reply.error(429, {"error": {"message": "Rate limit reached"}}, headers={"retry-after": "1"}),
        Reply(chunks=text_stream("ok")),
    )
    started = time.monotonic()
    events = run(make_client(), endpoint(scripted))
    assert time.monotonic() - started >= 0.9
    assert any(isinstance(e, Status) and "429" in e.message for e in events)
    assert answer_of(events).text == "ok" and len(scripted.requests) == 2


def test_429_gives_up_after_bounded_retries(scripted):
    for _ in range(5):
        scripted.queue(Reply.error(429, {"error": {"message": "Rate limit reached"}}))
    failure = run(make_client(), endpoint(scripted))[-1]
    assert failure.kind == "rate_limited" and "rate limit" in failure.message.lower()
    assert len(scripted.requests) == 3  # one try and two retries


def test_429_for_exhausted_credits_is_not_retried(scripted):
    scripted.queue(Reply.error(429, {"code": "x", "error": "Your team has reached its monthly spending limit."}))
    failure = run(make_client(), endpoint(scripted, "xai"))[-1]
    assert failure.kind == "credits" and len(scripted.requests) == 1


def test_503_is_retried_then_reported(scripted):
    for _ in range(3):
        scripted.queue(Reply.error(503, {"error": {"message": "overloaded"}}))
    failure = run(make_client(), endpoint(scripted))[-1]
    assert failure.kind == "server" and "503" in failure.message and len(scripted.requests) == 3


def test_500_is_not_retried(scripted):
    scripted.queue(Reply.error(500, b"Internal Server Error"))
    failure = run(make_client(), endpoint(scripted))[-1]
    assert failure.kind == "server" and len(scripted.requests) == 1


def test_gemini_list_error_body(scripted):
    scripted.queue(
        Reply.error(400, [{"error": {"code": 400, "message": "Invalid JSON payload received.", "status": "INVALID_ARGUMENT"}}])
    )
    failure = run(make_client(), endpoint(scripted, "gemini"))[-1]
    assert failure.kind == "bad_request" and "Invalid JSON payload received." in failure.message


def test_unsupported_parameter_dropped_once_and_remembered(scripted):
    client = make_client()
    scripted.queue(Reply.error(400, {"code": "x", "error": "Model grok-4 does not support parameter reasoningEffort."}))
    answer = answer_of(run(client, endpoint(scripted, "xai"), model="grok-4", reasoning_effort="high", temperature=0.5))
    assert answer.text == "Hello there!"
    first, second = scripted.requests[-2]["body"], scripted.requests[-1]["body"]
    assert first["reasoning_effort"] == "high" and "reasoning_effort" not in second and second["temperature"] == 0.5
    run(client, endpoint(scripted, "xai"), model="grok-4", reasoning_effort="high")
    assert "reasoning_effort" not in scripted.requests[-1]["body"]  # remembered, no second 400
    assert len(scripted.requests) == 3


def test_mistral_422_extra_forbidden(scripted):
    detail = {
        "detail": [
            {"type": "extra_forbidden", "loc": ["body", "top_p_x"], "msg": "Extra inputs are not permitted"},
            {"type": "extra_forbidden", "loc": ["body", "top_p"], "msg": "Extra inputs are not permitted"},
        ]
    }
    scripted.queue(Reply.error(422, detail))
    answer = answer_of(run(make_client(), endpoint(scripted, "mistral"), top_p=0.9))
    assert answer.failure is None and "top_p" not in scripted.requests[-1]["body"]


def test_max_tokens_renamed_for_reasoning_models(scripted):
    scripted.queue(
        Reply.error(
            400,
            {
                "error": {
                    "message": "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.",
                    "param": "max_tokens",
                }
            },
        )
    )
    # (OpenAI itself is sent max_completion_tokens from the start: Provider.max_tokens_field.)
    answer = answer_of(run(make_client(), endpoint(scripted, "groq"), model="o4-mini", max_tokens=100))
    assert answer.failure is None
    assert scripted.requests[-1]["body"].get("max_completion_tokens") == 100 and "max_tokens" not in scripted.requests[-1]["body"]


def test_second_unsupported_parameter_is_not_looped(scripted):
    scripted.queue(
        Reply.error(400, {"error": {"message": "temperature is not supported"}}),
        Reply.error(400, {"error": {"message": "top_p is not supported"}}),
    )
    failure = run(make_client(), endpoint(scripted), temperature=1.0, top_p=0.5)[-1]
    assert failure.kind == "bad_request" and len(scripted.requests) == 2


def test_connection_refused_is_retried_then_reported():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    ep = Endpoint(get_provider("ollama"), f"http://127.0.0.1:{port}/v1", None)
    events = run(make_client(), ep)
    statuses = [e for e in events if isinstance(e, Status)]
    assert len(statuses) == 2
    assert events[-1].kind == "connect" and "connection refused" in events[-1].message and "OLLAMA_BASE_URL" in events[-1].message


@pytest.mark.slow  # (waits on real time or starts processes: not in the fast loop)
def test_connect_timeout_is_reported():
    # A listening socket whose accept queue is full never completes the handshake.
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    fillers = []
    try:
        for _ in range(4):
            f = socket.socket()
            f.setblocking(False)
            f.connect_ex(listener.getsockname())
            fillers.append(f)
        time.sleep(0.1)
        ep = Endpoint(get_provider("vllm"), f"http://127.0.0.1:{listener.getsockname()[1]}/v1", None)
        started = time.monotonic()
        events = run(make_client(connect_timeout=0.3, retry=RetryPolicy(max_retries=1, backoff_s=0.01)), ep)
        assert events[-1].kind == "connect" and "timed out" in events[-1].message
        assert time.monotonic() - started < 5
    finally:
        for f in fillers:
            f.close()
        listener.close()


def test_error_event_mid_stream_keeps_partial_answer(scripted):
    scripted.queue(
        Reply(
            chunks=sse(
                delta("Partial "), delta("answer"), {"error": {"message": "Upstream provider crashed", "code": 502}}, done=False
            )
        )
    )
    answer = answer_of(run(make_client(), endpoint(scripted, "openrouter")))
    assert answer.text == "Partial answer"
    assert answer.failure.kind == "stream_error" and "Upstream provider crashed" in answer.failure.message
    assert len(scripted.requests) == 1  # never retried after output


def test_invalid_json_in_stream(scripted):
    scripted.queue(Reply(chunks=sse(delta("Start"), "{not json", done=True)))
    answer = answer_of(run(make_client(), endpoint(scripted)))
    assert answer.text == "Start" and answer.failure.kind == "invalid_stream"


def test_not_a_stream_at_all(scripted):
    scripted.queue(Reply(status=200, body=b"<html>Welcome to nginx</html>", content_type="text/html"))
    failure = run(make_client(), endpoint(scripted))[-1]
    assert failure.kind == "not_compatible" and "base URL" in failure.message and "Welcome to nginx" in failure.message


def test_stream_without_finish_reason_is_cut_off(scripted):
    scripted.queue(Reply(chunks=sse(delta("Half an"), delta(" answer"), done=False)))
    answer = answer_of(run(make_client(), endpoint(scripted)))
    assert answer.text == "Half an answer" and answer.failure.kind == "cut_off" and "cut off" in answer.failure.message


def test_connection_dropped_mid_stream_keeps_partial(scripted):
    scripted.queue(Reply(chunks=sse(delta("Kept"), delta(" text"), delta(" lost"), delta(finish="stop")), break_after=2))
    answer = answer_of(run(make_client(), endpoint(scripted)))
    assert answer.text == "Kept text" and answer.failure.kind == "cut_off"


def test_empty_answer(scripted):
    scripted.queue(Reply(chunks=sse(delta(""), delta(finish="stop"))))
    failure = run(make_client(), endpoint(scripted))[-1]
    assert failure.kind == "empty" and "empty answer" in failure.message


@pytest.mark.slow  # (waits on real time or starts processes: not in the fast loop)
def test_read_timeout_is_long_but_bounded(scripted):
    scripted.queue(Reply(chunks=text_stream("late"), first_delay=2))
    failure = run(make_client(read_timeout=0.5), endpoint(scripted))[-1]
    assert failure.kind == "timeout" and "CAUSERIE_READ_TIMEOUT" in failure.message
    assert ChatClient().timeout.read >= 600 and ChatClient().timeout.connect <= 10


def test_closing_the_stream_closes_the_upstream_request(scripted):
    scripted.queue(Reply(chunks=sse(*[delta(f"w{i} ") for i in range(200)], delta(finish="stop")), delay=0.02))
    client = make_client()
    request = ChatRequest(endpoint(scripted), "model-a", [{"role": "user", "content": "long"}])

    async def go():
        stream = client.stream(request)
        got = []
        async for event in stream:
            got.append(event)
            if len(got) == 5:
                break
        await stream.aclose()
        await settled(scripted)
        await client.aclose()
        return got

    run_async(go())
    assert scripted.last_outcome() == "disconnected"


def test_local_gate_makes_requests_wait_their_turn(scripted):
    scripted.default = Reply(chunks=text_stream("a", "b", "c"), delay=0.05)
    client = make_client()
    ep = Endpoint(get_provider("local"), scripted.base_url, None)

    async def one():
        return [e async for e in client.stream(ChatRequest(ep, "m", [{"role": "user", "content": "x"}]))]

    async def go():
        try:
            return await asyncio.gather(one(), one(), one())
        finally:
            await client.aclose()

    results = run_async(go())
    waited = [r for r in results if isinstance(r[0], Status) and "Waiting" in r[0].message]
    assert len(waited) == 2
    assert all(answer_of(r).text == "abc" for r in results)


def test_sse_decoder_handles_any_cut_line_endings_comments_and_multiline_data():
    stream = (
        b': OPENROUTER PROCESSING\n\ndata: {"a":1}\r\n\r\nevent: x\ndata:no-space\n\n'
        b"data: first\ndata: second\n\nid: 7\n\ndata: [DONE]\r\rdata: tail"
    )
    expected = [b'{"a":1}', b"no-space", b"first\nsecond", b"[DONE]", b"tail"]
    for size in (1, 2, 3, 7, len(stream)):  # every way the network may cut it, CRLF included
        decoder = SSEDecoder()
        got = []
        for i in range(0, len(stream), size):
            got += decoder.feed(stream[i : i + size])
        assert got + decoder.close() == expected, size


def test_tls_to_a_plain_http_server_fails_at_once_with_its_own_message(scripted):
    ep = Endpoint(get_provider("vllm"), scripted.base_url.replace("http://", "https://"), None)
    started = time.monotonic()
    events = run(make_client(), ep)
    assert not [e for e in events if isinstance(e, Status)]  # not retried
    assert events[-1].kind == "connect" and "secure (TLS)" in events[-1].message and "https or http" in events[-1].message
    assert time.monotonic() - started < 3


def test_tls_trusts_the_system_store_and_certifi():
    import ssl

    import certifi

    from causerie.endpoints.client import tls_context

    context = tls_context()
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    certifi_roots = {c["serialNumber"] for c in ssl.create_default_context(cafile=certifi.where()).get_ca_certs()}
    assert certifi_roots <= {c["serialNumber"] for c in context.get_ca_certs()}


def test_a_server_that_hangs_up_before_answering_is_retried_then_reported():
    hung_up = []

    def serve(listener):
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            conn.recv(65536)  # the whole request, then no answer at all
            hung_up.append(1)
            conn.close()

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    threading.Thread(target=serve, args=(listener,), daemon=True).start()
    try:
        ep = Endpoint(get_provider("vllm"), f"http://127.0.0.1:{listener.getsockname()[1]}/v1", None)
        events = run(make_client(retry=RetryPolicy(max_retries=2, backoff_s=0.01)), ep)
    finally:
        listener.close()
    assert len([e for e in events if isinstance(e, Status)]) == 2 and len(hung_up) == 3
    assert events[-1].kind == "connect" and "closed the connection before answering" in events[-1].message


# -- proxies and ~/.netrc ---------------------------------------------------------------------


@pytest.fixture
def proxy_env(monkeypatch):
    from causerie.endpoints.proxies import proxy_for

    for name in ("HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    proxy_for.cache_clear()
    yield monkeypatch
    proxy_for.cache_clear()


def test_proxy_variables_are_read_once_and_loopback_is_never_proxied(proxy_env):
    from causerie.endpoints.proxies import proxy_for

    proxy_env.setenv("HTTPS_PROXY", "http://user:secret@proxy.example:3128")
    proxy_env.setenv("NO_PROXY", "internal.example")
    proxy, auth = proxy_for("https", "api.x.ai")
    assert proxy == "http://proxy.example:3128" and auth.login == "user" and auth.password == "secret"
    assert proxy_for("https", "internal.example") == (None, None)
    for host in ("127.0.0.1", "localhost", "::1"):
        assert proxy_for("https", host) == (None, None)
    assert proxy_for("http", "api.x.ai") == (None, None)  # only HTTPS_PROXY is set


def test_a_dead_proxy_in_the_environment_does_not_touch_a_loopback_provider(proxy_env, scripted):
    proxy_env.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # nothing listens there
    scripted.default = Reply(chunks=text_stream("Local", " answer."))
    events = run(make_client(), endpoint(scripted))
    assert isinstance(events[-1], Finish)


def test_a_netrc_default_entry_never_replaces_or_clashes_with_the_key(tmp_path, proxy_env, scripted):
    netrc = tmp_path / "netrc"
    netrc.write_text("default login someone password hunter2\n")
    netrc.chmod(0o600)
    proxy_env.setenv("NETRC", str(netrc))
    scripted.default = Reply(chunks=text_stream("Fine."))
    events = run(make_client(), endpoint(scripted))
    assert isinstance(events[-1], Finish)
    assert scripted.requests[-1]["headers"]["authorization"] == f"Bearer {KEY}"


# -- reading in gathered pieces (when other answers stream too) ---------------------------------


def test_joined_makes_one_piece_of_what_follows_each_other_and_nothing_else():
    events = [ReasoningDelta("a"), ReasoningDelta("b"), TextDelta("c"), TextDelta("d"), TextDelta("e"), Finish("stop")]
    assert joined(events) == [ReasoningDelta("ab"), TextDelta("cde"), Finish("stop")]
    moved = [TextDelta("a"), ReasoningDelta("b", retroactive=True), TextDelta("c"), TextDelta("d")]
    assert joined(moved) == [TextDelta("a"), ReasoningDelta("b", retroactive=True), TextDelta("cd")]
    assert joined([TextDelta("x")]) == [TextDelta("x")] and joined([]) == []


@pytest.mark.slow  # (waits on real time or starts processes: not in the fast loop)
def test_tokens_that_arrive_while_the_stream_gathers_are_read_as_one_piece(scripted):
    """With `gather_s` set, the first token comes at once, then each read takes what gathered:
    40 tokens 10 ms apart, gathered 80 ms at a time, come in a handful of events, none lost."""
    words = [f"w{i} " for i in range(40)]
    scripted.queue(Reply(chunks=text_stream(*words), delay=0.01))
    started = time.monotonic()
    events = run(make_client(gather_s=lambda: 0.08), endpoint(scripted))
    took = time.monotonic() - started
    pieces = [e.text for e in events if type(e) is TextDelta]
    assert "".join(pieces) == "".join(words) and type(events[-1]) is Finish
    assert pieces[0] == "w0 "  # the first token is not held back
    # One piece per gathering (about 400 ms / 80 ms), not one per token, nor two per gathering.
    assert 2 <= len(pieces) <= 2 + took / 0.08, (pieces, took)
    scripted.queue(Reply(chunks=text_stream(*words), delay=0.01))
    plain = run(make_client(), endpoint(scripted))
    # Alone, each token as it comes (a busy machine may read a few at once; never held to gather).
    assert len([e for e in plain if type(e) is TextDelta]) >= 20


def test_stop_while_the_stream_gathers_closes_upstream_at_once(scripted):
    scripted.queue(Reply(chunks=sse(*[delta(f"w{i} ") for i in range(200)], delta(finish="stop")), delay=0.01))
    client = make_client(gather_s=lambda: 5.0)  # the reader is held long after the first token
    request = ChatRequest(endpoint(scripted), "model-a", [{"role": "user", "content": "long"}])

    async def go():
        stream = client.stream(request)
        first = await anext(stream)
        while type(first) is not TextDelta:
            first = await anext(stream)
        reader = asyncio.ensure_future(anext(stream))  # now gathering for 5 s
        await asyncio.sleep(0.2)
        held = time.monotonic()
        reader.cancel()  # Stop: the cancellation goes through the reader, which closes the request
        with pytest.raises(asyncio.CancelledError):
            await reader
        await stream.aclose()
        outcome = await settled(scripted)
        await client.aclose()
        return first, time.monotonic() - held, outcome

    first, took, outcome = run_async(go())
    assert first == TextDelta("w0 ") and outcome == "disconnected" and took < 2


@pytest.mark.slow  # (waits on real time or starts processes: not in the fast loop)
def test_silence_is_still_timed_while_the_stream_gathers(scripted, monkeypatch):
    monkeypatch.setattr(reading, "TICK_S", 0.25)
    scripted.queue(
        Reply(chunks=[*sse(delta("Started"), delta(" and"), done=False), *text_stream(" never")], pauses={2: 4.0}, delay=0.01)
    )
    events = run(make_client(idle_timeout=1.0, gather_s=lambda: 0.1), endpoint(scripted))
    answer = answer_of(events)
    assert answer.text == "Started and" and type(answer.failure) is Failure and answer.failure.kind == "timeout"


def test_the_bytes_that_came_before_a_dropped_connection_are_still_read():
    """aiohttp raises a dropped connection's error before handing over the bytes received before
    it; reading.held_back takes them (test_connection_dropped_mid_stream_keeps_partial lost its
    partial answer when the tokens and the drop landed in the same moment)."""
    import aiohttp
    from aiohttp.base_protocol import BaseProtocol

    async def go():
        loop = asyncio.get_running_loop()
        content = aiohttp.StreamReader(BaseProtocol(loop), 2**16, loop=loop)
        content.feed_data(b'data: {"choices": [{"delta": {"content": "Kept"}}]}\n\n')
        content.set_exception(aiohttp.ClientPayloadError("dropped"))
        with pytest.raises(aiohttp.ClientPayloadError):
            content.read_nowait(-1)
        return reading.held_back(content), reading.held_back(content)

    first, again = run_async(go())
    assert first == b'data: {"choices": [{"delta": {"content": "Kept"}}]}\n\n' and again == b""


def test_a_connection_reset_before_the_answer_is_tried_again():
    """Found by CI: a kept-alive connection the server reset as the question went out failed the
    question at once (ClientOSError, not retried), where a closed one (ServerDisconnectedError)
    was tried again. A server that resets its first connection, then answers."""
    loop = asyncio.new_event_loop()
    seen = []

    async def handle(reader, writer):
        seen.append(1)
        head = await reader.readuntil(b"\r\n\r\n")
        length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length"))
        await reader.readexactly(length)
        if len(seen) == 1:  # (a reset: RST, not FIN)
            writer.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            writer.transport.abort()
            return
        body = b"".join(text_stream("Hi"))
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncontent-length: %d\r\n\r\n%s" % (len(body), body))
        await writer.drain()
        writer.close()

    thread = threading.Thread(target=loop.run_forever, daemon=True)  # (its own thread: this one may hold a loop)
    thread.start()
    server = asyncio.run_coroutine_threadsafe(asyncio.start_server(handle, "127.0.0.1", 0), loop).result(5)
    try:
        base_url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/v1"
        events = run(make_client(), Endpoint(get_provider("openai"), base_url, KEY))
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
    assert [e.kind for e in events if type(e) is Status] == ["reconnecting"] and len(seen) == 2
    assert answer_of(events).text == "Hi" and type(events[-1]) is Finish
