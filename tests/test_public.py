"""Public-Space safety, in the core: whose key goes where, endpoints refused in public mode,
limits and the log line. Every request is real HTTP to scripted servers on loopback."""

from __future__ import annotations

import json
import logging
import socket
import time

import pytest

from causerie.answering.limits import RateLimiter, Visitor, client_ip
from causerie.answering.messages import within
from causerie.answering.options import ChatOptions, GenerationParams
from causerie.answering.service import ChatService
from causerie.config.settings import SettingsError, load_settings
from causerie.endpoints.providers import Endpoint, get_provider
from causerie.endpoints.reading import ChatRequest
from causerie.events import Failure, Finish, Notice

from support.apps import run_async
from support.keys import LOGIN_TOKEN, SERVER_KEY, VISITOR_KEY
from support.scripted_server import Reply, ScriptedServer, text_stream

QUESTION = [{"role": "user", "content": "Hello?"}]


@pytest.fixture(scope="module")
def elsewhere():
    """A visitor's own server, on another loopback address (allowed by ALLOWED_PRIVATE_NETWORKS
    where a test needs it to stand for a public one)."""
    server = ScriptedServer(host="127.0.0.2").start()
    yield server
    server.stop()


@pytest.fixture
def visitor_server(elsewhere):
    elsewhere.reset()
    return elsewhere


def service_for(env: dict) -> ChatService:
    return ChatService(load_settings(env))


def ask(service: ChatService, options: ChatOptions, turns=QUESTION, visitor: Visitor | None = None) -> list:
    async def go():
        try:
            return [e async for e in service.stream_answer(options, turns, visitor)]
        finally:
            await service.aclose()

    return run_async(go())


def failure_of(events: list) -> Failure | None:
    return next((e for e in events if type(e) is Failure), None)


def all_headers(*servers: ScriptedServer) -> str:
    return json.dumps([r["headers"] for s in servers for r in s.requests])


# -- whose key goes where -------------------------------------------------------------------


@pytest.mark.parametrize("public", [False, True])
def test_a_server_key_is_never_sent_to_a_visitors_base_url(scripted, visitor_server, public):
    service = service_for(
        {
            "OPENAI_API_KEY": SERVER_KEY,
            "OPENAI_BASE_URL": scripted.base_url,
            "PUBLIC_MODE": "1" if public else "0",
            "ALLOW_CUSTOM_ENDPOINTS": "1",
            "ALLOWED_PRIVATE_NETWORKS": "127.0.0.2/32",
        }
    )
    events = ask(service, ChatOptions("openai", "model-a", base_url=visitor_server.base_url))
    assert failure_of(events) is None
    chat = visitor_server.requests[-1]
    assert "authorization" not in chat["headers"]  # no key of the visitor's: none at all
    events = ask(service, ChatOptions("openai", "model-a", base_url=visitor_server.base_url, api_key=VISITOR_KEY))
    assert visitor_server.requests[-1]["headers"]["authorization"] == f"Bearer {VISITOR_KEY}"
    # Its model list, and a pick when no model is named, go out without the server's key too.
    assert run_async(service.models("openai", ChatOptions(base_url=visitor_server.base_url))) == ["model-a", "model-b"]
    ask(service, ChatOptions("openai", base_url=visitor_server.base_url))
    assert SERVER_KEY not in all_headers(visitor_server)
    assert not scripted.requests  # nothing went to the server's own endpoint either
    # The server's endpoint gets the server's key; a visitor's key replaces it there.
    ask(service, ChatOptions("openai", "model-a"))
    assert scripted.requests[-1]["headers"]["authorization"] == f"Bearer {SERVER_KEY}"
    ask(service, ChatOptions("openai", "model-a", api_key=VISITOR_KEY))
    assert scripted.requests[-1]["headers"]["authorization"] == f"Bearer {VISITOR_KEY}"


def test_in_public_mode_custom_endpoints_are_off_unless_allowed(scripted, visitor_server):
    service = service_for({"OPENAI_BASE_URL": scripted.base_url, "PUBLIC_MODE": "1"})
    failure = failure_of(ask(service, ChatOptions("openai", "m", base_url=visitor_server.base_url)))
    assert failure.kind == "endpoint_refused" and "ALLOW_CUSTOM_ENDPOINTS=1" in failure.message
    assert not visitor_server.requests and not scripted.requests
    # The provider's own address typed in the box is not a custom endpoint.
    assert failure_of(ask(service, ChatOptions("openai", "m", base_url=scripted.base_url + "/"))) is None


@pytest.mark.parametrize("public", [False, True])
@pytest.mark.slow  # (waits on real time or starts processes: not in the fast loop)
def test_search_goes_where_the_chat_goes(scripted, visitor_server, public):
    """As the README says: on one's own machine a base URL given in the page is used for search too
    (without the server's key); in public mode a visitor's base URL is refused for search by name,
    before anything is sent."""
    service = service_for(
        {
            "XAI_API_KEY": SERVER_KEY,
            "XAI_BASE_URL": scripted.base_url,
            "PUBLIC_MODE": "1" if public else "0",
            "ALLOW_CUSTOM_ENDPOINTS": "1",
            "ALLOWED_PRIVATE_NETWORKS": "127.0.0.2/32",
        }
    )
    visitor_server.queue(Reply.responses_fixture("xai-responses-text"))
    events = ask(
        service, ChatOptions("xai", "grok-4.3", base_url=visitor_server.base_url, api_key=VISITOR_KEY, tools=("web_search",))
    )
    assert not scripted.requests
    if public:
        failure = failure_of(events)
        assert failure.kind == "tool" and "public server" in failure.message and not visitor_server.requests
    else:
        assert failure_of(events) is None and visitor_server.requests[-1]["path"].endswith("/responses")
        assert visitor_server.requests[-1]["headers"]["authorization"] == f"Bearer {VISITOR_KEY}"


def test_a_provider_without_a_server_key_is_usable_with_the_visitors_key(scripted):
    service = service_for({"XAI_BASE_URL": scripted.base_url, "REQUIRE_USER_KEY": "1", "XAI_API_KEY": SERVER_KEY})
    assert service.settings.keys == {}  # REQUIRE_USER_KEY: the server's keys are not even loaded
    events = ask(service, ChatOptions("openrouter", "m"))
    assert failure_of(events).kind == "not_ready" and "needs an API key" in failure_of(events).message
    # xAI's base URL is the owner's (a keyless server): usable, and a visitor's key goes there.
    ask(service, ChatOptions("xai", "m", api_key=VISITOR_KEY))
    assert scripted.requests[-1]["headers"]["authorization"] == f"Bearer {VISITOR_KEY}"
    assert SERVER_KEY not in all_headers(scripted)


def test_hugging_face_router_is_billed_to_the_signed_in_visitor(scripted):
    signed_in = Visitor(session="s1", user="hf:alice", hf_token=LOGIN_TOKEN)
    # A login token goes to Hugging Face's own router; at another address only if the owner says so.
    unsaid = service_for({"HF_TOKEN": SERVER_KEY, "HF_BASE_URL": scripted.base_url})
    ask(unsaid, ChatOptions("huggingface", "m"), visitor=signed_in)
    assert scripted.requests[-1]["headers"]["authorization"] == f"Bearer {SERVER_KEY}"
    service = service_for({"HF_TOKEN": SERVER_KEY, "HF_BASE_URL": scripted.base_url, "HF_BILL_VISITORS": "1"})
    ask(service, ChatOptions("huggingface", "m"), visitor=signed_in)
    assert scripted.requests[-1]["headers"]["authorization"] == f"Bearer {LOGIN_TOKEN}"
    ask(service, ChatOptions("huggingface", "m"), visitor=Visitor(session="s2"))
    assert scripted.requests[-1]["headers"]["authorization"] == f"Bearer {SERVER_KEY}"
    off = service_for({"HF_TOKEN": SERVER_KEY, "HF_BASE_URL": scripted.base_url, "HF_BILL_VISITORS": "0"})
    ask(off, ChatOptions("huggingface", "m"), visitor=signed_in)
    assert scripted.requests[-1]["headers"]["authorization"] == f"Bearer {SERVER_KEY}"


def test_a_visitor_key_does_not_open_the_owners_local_servers(scripted):
    """A key is for the providers that take one: with it, a local server the owner did not set up
    (Ollama's default address, on this machine) is still not set up, and nothing is sent."""
    service = service_for({"OPENAI_BASE_URL": scripted.base_url, "PUBLIC_MODE": "1"})
    for provider in ("ollama", "llamacpp", "vllm", "lmstudio"):
        failure = failure_of(ask(service, ChatOptions(provider, "m", api_key=VISITOR_KEY)))
        assert failure.kind == "not_ready" and "not set up" in failure.message
        assert run_async(service.models(provider, ChatOptions(api_key=VISITOR_KEY))) == []


def test_a_rejected_visitor_key_is_neither_echoed_nor_logged(scripted, caplog):
    caplog.set_level(logging.DEBUG)
    scripted.queue(
        Reply.error(
            401,
            {
                "error": {
                    "message": f"Incorrect API key provided: {VISITOR_KEY}. You passed {VISITOR_KEY[:6]}***{VISITOR_KEY[-4:]}."
                }
            },
        )
    )
    service = service_for({"OPENAI_BASE_URL": scripted.base_url})
    failure = failure_of(ask(service, ChatOptions("openai", "m", api_key=VISITOR_KEY)))
    assert failure.kind == "auth" and "Your API key" in failure.message
    assert VISITOR_KEY not in failure.message and VISITOR_KEY[:6] not in failure.message
    assert VISITOR_KEY not in repr(ChatOptions(api_key=VISITOR_KEY)) and VISITOR_KEY not in repr(Visitor(hf_token=VISITOR_KEY))
    assert VISITOR_KEY not in caplog.text and VISITOR_KEY[:6] not in caplog.text


# -- endpoints refused in public mode -------------------------------------------------------


def _loopback_name() -> str:
    """A host name this machine resolves (through its resolver, /etc/hosts included) to a
    loopback or private address: its own name."""
    name = socket.gethostname()
    socket.getaddrinfo(name, None)  # resolvable, or the test cannot say anything
    return name


TARGETS = [
    "127.0.0.1",
    "[::1]",
    "10.1.2.3",
    "169.254.169.254",
    "localhost",
    "LOCALHOST.",
    "0.0.0.0",
    "[::ffff:127.0.0.1]",
    "2130706433",
    "172.16.0.1",
    "192.168.1.1",
    "[fd00:ec2::254]",
    "[fe80::1]",
    "100.64.0.1",
    "[64:ff9b::a9fe:a9fe]",
    "[2002:7f00:1::]",
    "[::1",
]


@pytest.mark.parametrize("host", TARGETS + ["own-name"])
def test_public_mode_refuses_endpoints_on_the_servers_network(scripted, host):
    host = _loopback_name() if host == "own-name" else host
    service = service_for({"OPENAI_BASE_URL": scripted.base_url, "PUBLIC_MODE": "1", "ALLOW_CUSTOM_ENDPOINTS": "1"})
    started = time.monotonic()
    events = ask(service, ChatOptions("openai", "m", base_url=f"http://{host}:{scripted.port}/v1/other"))
    took = time.monotonic() - started
    failure = failure_of(events)
    assert failure is not None and failure.kind == "endpoint_refused", events
    assert ("not a valid" if host == "[::1" else "was refused") in failure.message and took < 1.0
    assert not scripted.requests  # the loopback server behind those addresses heard nothing
    # The model list of such an endpoint is not fetched either.
    assert run_async(service.models("openai", ChatOptions(base_url=f"http://{host}:{scripted.port}/v1/other"))) == []
    assert not scripted.requests


def test_allowed_private_networks_never_include_a_metadata_service():
    from ipaddress import ip_address, ip_network

    from causerie.endpoints.egress import why_refused

    allowed = [ip_network("100.64.0.0/10"), ip_network("169.254.0.0/16")]
    assert why_refused(ip_address("100.64.1.2"), allowed) is None
    assert why_refused(ip_address("100.100.100.200"), allowed) == "metadata"
    assert why_refused(ip_address("169.254.169.254"), allowed) == "metadata"
    assert why_refused(ip_address("93.184.216.34")) is None


def test_every_connection_is_checked_not_only_the_first_lookup(scripted):
    """The connection pool of visitors' endpoints refuses a private address whatever the check
    before it said (a name re-pointed at 127.0.0.1 between the two)."""
    service = service_for({"OPENAI_BASE_URL": scripted.base_url, "PUBLIC_MODE": "1"})
    endpoint = Endpoint(get_provider("openai"), scripted.base_url, VISITOR_KEY, key_from="visitor", public_only=True)

    async def go():
        try:
            return [e async for e in service.client.stream(ChatRequest(endpoint, "m", QUESTION, {}))]
        finally:
            await service.aclose()

    failure = failure_of(run_async(go()))
    assert failure.kind == "endpoint_refused" and "loopback" in failure.message
    assert not scripted.requests


@pytest.mark.parametrize("trusted", [False, True])
def test_a_redirect_is_never_followed(scripted, visitor_server, trusted):
    """Not from a visitor's endpoint, nor from the owner's: a key goes to its own address only."""
    target = f"http://127.0.0.1:{scripted.port}/v1/chat/completions"  # stands for the metadata service
    if trusted:
        server, options = visitor_server, ChatOptions("openai", "m")
        env = {"OPENAI_BASE_URL": visitor_server.base_url, "OPENAI_API_KEY": SERVER_KEY, "PUBLIC_MODE": "1"}
    else:
        server, options = visitor_server, ChatOptions("openai", "m", base_url=visitor_server.base_url, api_key=VISITOR_KEY)
        env = {
            "OPENAI_BASE_URL": scripted.base_url,
            "PUBLIC_MODE": "1",
            "ALLOW_CUSTOM_ENDPOINTS": "1",
            "ALLOWED_PRIVATE_NETWORKS": "127.0.0.2/32",
        }
    server.queue(Reply(status=307, body=b"", headers={"location": target}))
    started = time.monotonic()
    failure = failure_of(ask(service_for(env), options))
    assert failure.kind == "redirected" and time.monotonic() - started < 1.0
    assert len(server.requests) == 1 and not scripted.requests
    # Where it pointed is said to whoever chose the address: the visitor for their own, the owner's
    # log for the owner's (public visitors read only that it redirected).
    assert (target not in failure.message and "redirect" in failure.message) if trusted else target in failure.message


# -- limits ---------------------------------------------------------------------------------


def test_a_long_message_is_refused_before_anything_is_sent(scripted):
    service = service_for({"OPENAI_BASE_URL": scripted.base_url, "OPENAI_API_KEY": SERVER_KEY, "PUBLIC_MODE": "1"})
    started = time.monotonic()
    failure = failure_of(ask(service, ChatOptions("openai", "m"), [{"role": "user", "content": "x" * 1_000_000}]))
    assert failure.kind == "too_long" and "1,000,000" in failure.message and "30,000" in failure.message
    assert time.monotonic() - started < 1.0 and not scripted.requests


def test_the_oldest_turns_are_left_out_and_the_person_told(scripted):
    service = service_for({"OPENAI_BASE_URL": scripted.base_url, "MAX_CONTEXT_CHARS": "1000"})
    turns = [{"role": role, "content": f"{n}:" + "y" * 198} for n in range(10) for role in ("user", "assistant")]
    events = ask(service, ChatOptions("openai", "m", system_prompt="Be brief."), [*turns, {"role": "user", "content": "last"}])
    sent = scripted.requests[-1]["body"]["messages"]
    assert sent[0] == {"role": "system", "content": "Be brief."} and sent[1]["role"] == "user"
    assert sent[-1]["content"] == "last" and sum(len(m["content"]) for m in sent) <= 1000
    assert sent[-2]["content"].startswith("9:")  # the most recent turns are the ones kept
    notice = next(e for e in events if type(e) is Notice)
    assert notice.kind == "trimmed" and f"{21 - len(sent) + 1}" in notice.message and "MAX_CONTEXT_CHARS" in notice.message
    assert within([{"role": "user", "content": "z" * 2000}], 1000) is None


@pytest.mark.parametrize("owner_key", [SERVER_KEY, None], ids=["owner_pays", "visitor_pays"])
def test_max_tokens_is_capped_when_the_owner_pays(scripted, owner_key):
    """With the server's key, or on the owner's own keyless server, the cap is always sent, in the
    field the provider takes (OpenAI: max_completion_tokens, which bounds reasoning too); a
    server that ignores it is stopped by a backstop a little past it."""
    env = {"OPENAI_BASE_URL": scripted.base_url, "MAX_TOKENS_CAP": "5", **({"OPENAI_API_KEY": owner_key} if owner_key else {})}
    service = service_for(env)
    scripted.queue(Reply(chunks=text_stream(*["word "] * 40), delay=0.01))
    events = ask(service, ChatOptions("openai", "m"))
    sent = scripted.requests[-1]["body"]
    assert sent["max_completion_tokens"] == 5 and "max_tokens" not in sent
    text = "".join(e.text for e in events if type(e).__name__ == "TextDelta")
    assert text == "word " * 6 and scripted.settled_outcome() == "disconnected"  # ignored: cut at 1.5 × 5 tokens' characters
    assert any(type(e) is Notice and e.kind == "capped" and "MAX_TOKENS_CAP" in e.message for e in events)
    assert events[-1] == Finish("length")
    failure = failure_of(ask(service, ChatOptions("openai", "m", params=GenerationParams(max_tokens=4000))))
    assert failure.kind == "invalid_value" and "at most 5" in failure.message and "MAX_TOKENS_CAP" in failure.message
    ask(service, ChatOptions("openai", "m", params=GenerationParams(max_tokens=3)))
    assert scripted.requests[-1]["body"]["max_completion_tokens"] == 3


def test_a_hidden_reasoning_answer_is_bounded_by_the_cap_sent(scripted):
    """A reasoning model that streams no thinking wrote 50,002 tokens against a cap of 50, since
    nothing was sent upstream: now the provider is told, in its own field, on both wires."""
    for provider, field in (("xai", "max_completion_tokens"), ("mistral", "max_tokens"), ("groq", "max_tokens")):
        env = {
            f"{provider.upper()}_API_KEY": SERVER_KEY,
            f"{provider.upper()}_BASE_URL": scripted.base_url,
            "MAX_TOKENS_CAP": "50",
        }
        ask(service_for(env), ChatOptions(provider, "m"))
        sent = scripted.requests[-1]["body"]
        assert sent[field] == 50 and len({"max_tokens", "max_completion_tokens"} & set(sent)) == 1, provider
    scripted.queue(Reply.responses_fixture("xai-responses-text"))
    env = {"XAI_API_KEY": SERVER_KEY, "XAI_BASE_URL": scripted.base_url, "MAX_TOKENS_CAP": "50"}
    ask(service_for(env), ChatOptions("xai", "grok-4.3", tools=("web_search",)))
    assert scripted.requests[-1]["body"]["max_output_tokens"] == 50


def test_a_model_that_takes_fewer_tokens_is_asked_for_its_most(scripted):
    """The cap goes on every answer the owner pays for, so a model whose most is below it must not
    fail: it said its own most, and is asked again with it, once."""
    service = service_for({"OPENAI_BASE_URL": scripted.base_url, "OPENAI_API_KEY": SERVER_KEY, "MAX_TOKENS_CAP": "8192"})
    scripted.queue(
        Reply.error(
            400,
            {"error": {"message": "max_completion_tokens must be less than or equal to 4096, the maximum value for this model"}},
        )
    )
    events = ask(service, ChatOptions("openai", "m"))
    assert failure_of(events) is None and events[-1] == Finish("stop")
    assert [r["body"]["max_completion_tokens"] for r in scripted.requests] == [8192, 4096]
    # A compatible server that does not know max_completion_tokens gets max_tokens, never nothing.
    scripted.reset()
    scripted.queue(Reply.error(400, {"error": {"message": "Unrecognized request argument supplied: max_completion_tokens"}}))
    assert failure_of(ask(service, ChatOptions("openai", "older"))) is None
    assert scripted.requests[-1]["body"]["max_tokens"] == 8192 and "max_completion_tokens" not in scripted.requests[-1]["body"]


def test_the_cap_cuts_inside_a_piece_that_holds_many_tokens(scripted):
    """A read that brought many tokens at once is one piece of text (reading.read_events): the
    answer is still cut where the cap falls, not after the whole piece."""
    service = service_for({"OPENAI_BASE_URL": scripted.base_url, "MAX_TOKENS_CAP": "5"})
    scripted.queue(Reply(chunks=text_stream(*["word "] * 40)))  # all at once
    events = ask(service, ChatOptions("openai", "m"))
    assert "".join(e.text for e in events if type(e).__name__ == "TextDelta") == "word " * 6
    assert events[-1] == Finish("length")


def test_a_visitors_own_key_is_not_capped(scripted):
    service = service_for({"OPENAI_BASE_URL": scripted.base_url, "MAX_TOKENS_CAP": "5"})
    scripted.queue(Reply(chunks=text_stream(*["word "] * 40)))
    events = ask(service, ChatOptions("openai", "m", api_key=VISITOR_KEY, params=GenerationParams(max_tokens=4000)))
    assert scripted.requests[-1]["body"]["max_completion_tokens"] == 4000  # their own key, their own money
    assert events[-1] == Finish("stop")


def test_rate_limit_trips_and_recovers():
    now = [1000.0]
    allowance = RateLimiter(per_minute=2, tokens_per_hour=0, clock=lambda: now[0])
    alice, alice_again = Visitor(session="a", ip="203.0.113.5"), Visitor(session="b", ip="203.0.113.5")
    bob = Visitor(session="c", ip="198.51.100.7")
    assert allowance.admit(alice, owner_pays=True) is None
    now[0] += 10
    assert allowance.admit(alice_again, owner_pays=True) is None  # another session, same address
    refused = allowance.admit(alice, owner_pays=True)
    assert refused.kind == "limited" and "2 questions in the last minute" in refused.message and "50 s" in refused.message
    assert allowance.admit(bob, owner_pays=True) is None  # someone else is not held back
    now[0] += 50.5
    assert allowance.admit(alice, owner_pays=True) is None  # the first question left the window
    # Signed in, a person is counted as themselves, not with everyone behind their address.
    carol = Visitor(session="d", ip="203.0.113.5", user="hf:carol")
    assert allowance.admit(carol, owner_pays=True) is None and allowance.admit(carol, owner_pays=True) is None
    # An IPv6 address counts by its /64.
    assert Visitor(ip="2001:db8:1:2::1").names() == Visitor(ip="2001:db8:1:2:ffff::9").names()


def test_tokens_are_reserved_when_an_answer_starts():
    allowance = RateLimiter(per_minute=0, tokens_per_hour=1000)
    me = Visitor(session="s")
    assert allowance.admit(me, owner_pays=True, reserve=600) is None
    assert allowance.admit(me, owner_pays=True, reserve=300) is None  # 900 of 1000 set aside
    assert allowance.admit(me, owner_pays=True, reserve=200).kind == "limited"  # would not fit
    allowance.settle(me, 300, 0)  # an answer that failed before it began cost nothing
    allowance.settle(me, 600, 150)
    assert allowance.admit(me, owner_pays=True, reserve=800) is None  # 150 + 800


def test_a_question_larger_than_the_budget_is_refused_before_it_is_sent(scripted):
    """A 37,500-token prompt passed a 1,000-token budget: what was left was checked, not what the
    answer would take. Now the prompt and the cap must fit, and a question that never could is
    told so (no "try again in…")."""
    service = service_for(
        {
            "OPENAI_BASE_URL": scripted.base_url,
            "OPENAI_API_KEY": SERVER_KEY,
            "TOKENS_PER_HOUR": "1000",
            "MAX_TOKENS_CAP": "100",
            "MAX_CONTEXT_CHARS": "0",
        }
    )
    failure = failure_of(
        ask(service, ChatOptions("openai", "m"), [{"role": "user", "content": "x" * 150_000}], visitor=Visitor(session="s"))
    )
    assert failure.kind == "limited" and "37,600 tokens" in failure.message and "TOKENS_PER_HOUR" in failure.message
    assert not scripted.requests
    me = Visitor(session="t")
    assert failure_of(ask(service, ChatOptions("openai", "m"), [{"role": "user", "content": "x" * 2400}], visitor=me)) is None
    failure = failure_of(ask(service, ChatOptions("openai", "m"), [{"role": "user", "content": "x" * 1600}], visitor=me))
    assert failure.kind == "limited" and "try again in" in failure.message.lower()  # 700 + 500 > 1000
    assert len(scripted.requests) == 1


def test_tokens_per_hour_count_what_the_server_pays_for(scripted):
    scripted.default = Reply(chunks=text_stream("Hi", usage={"prompt_tokens": 600, "completion_tokens": 500}))
    service = service_for({"OPENAI_BASE_URL": scripted.base_url, "OPENAI_API_KEY": SERVER_KEY, "TOKENS_PER_HOUR": "1000"})
    me = Visitor(session="s", ip="203.0.113.9")
    assert failure_of(ask(service, ChatOptions("openai", "m"), visitor=me)) is None
    failure = failure_of(ask(service, ChatOptions("openai", "m"), visitor=me))
    assert failure.kind == "limited" and "1,000 tokens an hour" in failure.message and "own API key" in failure.message
    assert failure_of(ask(service, ChatOptions("openai", "m", api_key=VISITOR_KEY), visitor=me)) is None
    assert len(scripted.requests) == 2


# -- settings and the log line ----------------------------------------------------------------


def test_public_mode_defaults_and_bad_values():
    space = load_settings({"SPACE_ID": "someone/causerie"}).public
    assert space.public and not space.allow_custom_endpoints and space.rate_per_minute and space.max_input_chars
    assert space.proxy_hops == 1
    assert "custom endpoints off" in space.summary() and "RATE_LIMIT_PER_MINUTE=10" in space.summary()
    local = load_settings({}).public
    assert not local.public and local.allow_custom_endpoints and not local.rate_per_minute and not local.max_input_chars
    # Listening beyond loopback (a container's 0.0.0.0) is public unless said otherwise.
    assert load_settings({"GRADIO_SERVER_NAME": "0.0.0.0"}).public.public
    assert not load_settings({"GRADIO_SERVER_NAME": "0.0.0.0", "PUBLIC_MODE": "0"}).public.public
    assert not load_settings({"GRADIO_SERVER_NAME": "127.0.0.1"}).public.public
    for env, named in [
        ({"REQUIRE_LOGIN": "1"}, "hf_oauth: true"),
        ({"RATE_LIMIT_PER_MINUTE": "-1"}, "RATE_LIMIT_PER_MINUTE"),
        ({"PUBLIC_MODE": "maybe"}, "PUBLIC_MODE"),
        ({"ALLOWED_PRIVATE_NETWORKS": "10.0.0.0/33"}, "ALLOWED_PRIVATE"),
    ]:
        with pytest.raises(SettingsError, match=named):
            load_settings(env)


@pytest.mark.parametrize("log_content", [False, True])
def test_one_log_line_per_answer_without_content_unless_asked(scripted, caplog, log_content):
    caplog.set_level(logging.INFO, logger="causerie.answers")
    env = {"OPENAI_BASE_URL": scripted.base_url, "LOG_CONTENT": "1" if log_content else "0"}
    ask(
        service_for(env),
        ChatOptions("openai", "model-a", api_key=VISITOR_KEY),
        visitor=Visitor(session="sess-1", ip="203.0.113.77"),
    )
    lines = [r.getMessage() for r in caplog.records if r.name == "causerie.answers"]
    assert len(lines) == 1
    line = json.loads(lines[0])
    assert {"id", "provider", "model", "status", "ttft_s", "total_s", "prompt_tokens", "completion_tokens"} <= set(line)
    assert line["status"] == "ok" and line["provider"] == "openai" and line["key"] == "visitor"
    for secret in (VISITOR_KEY, "203.0.113.77", "sess-1"):
        assert secret not in caplog.text
    assert ("Hello?" in lines[0] and "Hello there!" in lines[0]) is log_content


def test_in_public_mode_a_failure_at_the_owners_address_names_neither_it_nor_its_setting(scripted, caplog):
    """A visitor learns that the provider could not be reached, not the owner's internal address or
    which variable sets it; the owner's log has both."""
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # (nothing listens there: connection refused)
    env = {"OPENAI_BASE_URL": f"http://127.0.0.1:{port}/v1", "CAUSERIE_MAX_RETRIES": "0"}
    caplog.set_level(logging.WARNING, logger="causerie.answering.service")
    public = failure_of(ask(service_for({**env, "PUBLIC_MODE": "1"}), ChatOptions("openai", model="m")))
    assert public.kind == "connect" and "could not be reached from this server" in public.message
    assert f"127.0.0.1:{port}" not in public.message and "OPENAI_BASE_URL" not in public.message
    assert f"127.0.0.1:{port}" in caplog.text  # (for the owner)
    local = failure_of(ask(service_for(env), ChatOptions("openai", model="m")))
    assert f"127.0.0.1:{port}" in local.message and "OPENAI_BASE_URL" in local.message  # (on your own machine, all of it)
    scripted.queue(Reply.error(401, {"error": {"message": "Incorrect API key provided"}}))
    rejected = failure_of(
        ask(
            service_for({"PUBLIC_MODE": "1", "XAI_API_KEY": SERVER_KEY, "XAI_BASE_URL": scripted.base_url}),
            ChatOptions("xai", model="m"),
        )
    )
    assert rejected.kind == "auth" and "XAI_API_KEY" not in rejected.message


def test_the_visitors_address_is_read_over_every_x_forwarded_for_line():
    """Found by a stranger's probe: behind one trusted proxy that adds its own header line instead
    of extending the visitor's, only the first line (the visitor's own) was read, so a new value
    with each call reset the rate limit and the share count."""
    from starlette.requests import Request

    def asked(*lines: str) -> Request:
        headers = [(b"x-forwarded-for", line.encode()) for line in lines]
        return Request({"type": "http", "headers": headers, "client": ("127.0.0.1", 5000)})

    assert client_ip(asked("192.0.2.7", "203.0.113.5"), 1) == "203.0.113.5"
    assert client_ip(asked("192.0.2.7, 198.51.100.1", "203.0.113.5"), 2) == "198.51.100.1"
    assert client_ip(asked("192.0.2.7"), 0) == "127.0.0.1"  # (no proxy trusted: the peer)
