"""Causerie as an MCP server, through the `mcp` SDK's own client over HTTP on loopback: exactly
the chosen tools, answers from the scripted provider and a recorded search with its sources,
progress while a model writes, worded refusals (a missing key, a limit, a bad argument, no
sign-in), and a cancelled call that closes the provider's stream."""

from __future__ import annotations

import asyncio
import base64
import time
from contextlib import asynccontextmanager

import httpx
import pytest
from mcp import ClientSession, types
from mcp.client.streamable_http import streamable_http_client

from support.apps import RunningApp, run_async
from support.keys import SERVER_KEY, VISITOR_KEY
from support.scripted_server import Reply, chat_requests, delta, sse, text_stream


@asynccontextmanager
async def connected(app: RunningApp, headers: dict | None = None):
    client = httpx.AsyncClient(headers=headers or {}, timeout=httpx.Timeout(30, read=300), follow_redirects=True)
    async with client, streamable_http_client(app.url + "gradio_api/mcp/", http_client=client) as (read, write, _):
        async with ClientSession(read, write) as session:
            await session.initialize()
            yield session


def call(app: RunningApp, name: str, arguments: dict, headers: dict | None = None) -> tuple[types.CallToolResult, list]:
    said: list = []

    async def progress(done, total, message):
        said.append(message)

    async def scenario():
        async with connected(app, headers) as session:
            return await session.call_tool(name, arguments, progress_callback=progress)

    return run_async(scenario()), said


def text_of(result: types.CallToolResult) -> str:
    return "\n".join(part.text for part in result.content if part.type == "text")


@pytest.fixture(scope="module")
def mcp_app(_scripted):
    running = RunningApp(
        {"MCP_SERVER": "1", "OPENAI_BASE_URL": _scripted.base_url, "XAI_API_KEY": SERVER_KEY, "XAI_BASE_URL": _scripted.base_url}
    )
    yield running
    running.close()


def test_the_tools_are_exactly_ask_search_and_compare_and_no_page_event_is_callable(mcp_app):
    async def scenario():
        async with connected(mcp_app) as session:
            listed = (await session.list_tools()).tools
            refused = await session.call_tool("chat", {"message": "hi"})
            return listed, refused

    listed, refused = run_async(scenario())
    assert [tool.name for tool in listed] == ["ask", "search", "compare"]
    schemas = {tool.name: tool.inputSchema for tool in listed}
    assert schemas["ask"]["required"] == ["message"] and set(schemas["ask"]["properties"]) == {
        "message",
        "system_prompt",
        "provider",
        "model",
        "max_tokens",
    }
    assert schemas["search"]["properties"]["sources"]["enum"] == ["web", "x", "both"]
    assert schemas["compare"]["properties"]["models"]["minItems"] == 2
    assert all(tool.description and tool.annotations.readOnlyHint for tool in listed)
    assert "xai" in listed[0].description  # the providers ready here, for the model to choose from
    # The page's own events (and Gradio's API endpoints) are not tools.
    assert refused.isError and "ask, search and compare" in text_of(refused)


def test_ask_answers_from_the_provider_with_its_footer_and_progress(mcp_app, scripted):
    usage = {"object": "chat.completion.chunk", "choices": [], "usage": {"prompt_tokens": 12, "completion_tokens": 4}}
    thought = [delta(reasoning_content="Light scatters. "), delta(reasoning_content="Blue most.")]
    scripted.default = Reply(
        chunks=sse(*thought, delta("Rayleigh "), delta("scattering."), delta(finish="stop"), usage), delay=0.6
    )
    result, said = call(mcp_app, "ask", {"message": "Why is the sky blue?", "provider": "openai", "model": "model-a"})
    assert not result.isError, text_of(result)
    assert text_of(result).startswith("Rayleigh scattering.\n\n— OpenAI · model-a")
    assert result.structuredContent["model"] == "model-a" and result.structuredContent["usage"]["prompt_tokens"] == 12
    asked = chat_requests(scripted)[-1]
    assert asked["body"]["messages"][-1] == {"role": "user", "content": "Why is the sky blue?"}
    assert said[:2] == ["Asking OpenAI · model-a…", "OpenAI · model-a is thinking…"], said
    assert any("characters so far" in line for line in said), said


def test_search_answers_with_its_sources(mcp_app, scripted):
    scripted.queue(Reply.responses_fixture("xai-responses-web-search"))
    result, _ = call(mcp_app, "search", {"query": "What did xAI release this week?"})
    assert not result.isError, text_of(result)
    sent = [r for r in scripted.requests if r["path"] == "/v1/responses"][-1]
    assert [tool["type"] for tool in sent["body"]["tools"]] == ["web_search"]
    assert sent["headers"]["authorization"] == f"Bearer {SERVER_KEY}"  # (on your own machine: the server's key)
    citations = result.structuredContent["citations"]
    assert citations and citations[0]["url"].startswith("https://")
    assert f"[1] {citations[0]['title'] or citations[0]['url']} — {citations[0]['url']}" in text_of(result)


def test_bad_arguments_and_a_failing_provider_are_worded_errors(mcp_app, scripted):
    result, _ = call(mcp_app, "ask", {"message": "   "})
    assert result.isError and "'message' must be a question with some text in it" in text_of(result)
    result, _ = call(mcp_app, "compare", {"question": "Hi", "models": ["openai:model-a"]})
    assert result.isError and text_of(result) == "The argument 'models' must be a list of 2 to 4 strings; got ['openai:model-a']."
    result, _ = call(mcp_app, "compare", {"question": "Hi", "models": ["openai:model-a", "model-b"]})
    assert result.isError and "'models' must be \"provider:model\"" in text_of(result)
    result, _ = call(mcp_app, "ask", {"message": "Hi", "temperature": 2})
    assert result.isError and "'temperature' must be one of message, system_prompt" in text_of(result)
    result, _ = call(mcp_app, "ask", {"message": "Hi", "max_tokens": "many"})
    assert result.isError and "'max_tokens' must be an integer; got 'many'" in text_of(result)
    scripted.default = Reply(chunks=text_stream("Half an answer", finish="stop"), break_after=2)
    result, _ = call(mcp_app, "ask", {"message": "Tell me all", "provider": "openai"})
    assert result.isError and "Half an answer" in text_of(result)  # the partial answer is kept
    assert "broke in the middle of the answer" in text_of(result)


def test_compare_gives_each_models_answer(mcp_app, scripted):
    scripted.queue_for("model-a", Reply(chunks=text_stream("A says hi.")))
    scripted.queue_for("model-b", Reply(chunks=text_stream("B says hello.")))
    result, _ = call(mcp_app, "compare", {"question": "Greet me", "models": ["openai:model-a", "openai:model-b"]})
    assert not result.isError, text_of(result)
    answers = result.structuredContent["answers"]
    assert [(a["model"], a["answer"]) for a in answers] == [("openai:model-a", "A says hi."), ("openai:model-b", "B says hello.")]
    assert "## openai:model-b\n\nB says hello." in text_of(result)


def test_a_cancelled_call_closes_the_providers_stream(mcp_app, scripted):
    scripted.default = Reply(chunks=text_stream(*[f"word{i} " for i in range(200)]), delay=0.05)

    async def scenario():
        async with connected(mcp_app) as session:
            request_id = session._request_id  # (the id the next request gets: the SDK counts them)
            task = asyncio.create_task(session.call_tool("ask", {"message": "Write a long essay", "provider": "openai"}))
            deadline = time.monotonic() + 10
            while not chat_requests(scripted) and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.5)
            cancel = types.CancelledNotification(params=types.CancelledNotificationParams(requestId=request_id, reason="stop"))
            await session.send_notification(types.ClientNotification(cancel))
            try:
                await asyncio.wait_for(task, 5)
            except Exception as exc:  # the SDK ends a cancelled call with an error of its own
                return exc
            return None

    scripted.requests.clear()
    ended = run_async(scenario())
    assert ended is not None
    deadline = time.monotonic() + 5
    while chat_requests(scripted)[-1]["outcome"] == "open" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert chat_requests(scripted)[-1]["outcome"] == "disconnected"


def test_on_a_public_server_callers_bring_their_own_key_unless_the_owner_pays(scripted):
    env = {
        "MCP_SERVER": "1",
        "PUBLIC_MODE": "1",
        "XAI_API_KEY": SERVER_KEY,
        "XAI_BASE_URL": scripted.base_url,
        "LLAMACPP_BASE_URL": scripted.base_url,
        "DEFAULT_PROVIDER": "llamacpp",
    }
    public = RunningApp(env)
    try:
        scripted.default = Reply(chunks=text_stream("Hello."))
        result, _ = call(public, "ask", {"message": "Hi", "provider": "xai"})
        assert result.isError and "send yours in the X-Provider-Key header" in text_of(result)
        assert chat_requests(scripted) == []  # refused before anything was sent
        result, _ = call(public, "ask", {"message": "Hi", "provider": "xai"}, {"X-Provider-Key": VISITOR_KEY})
        assert not result.isError, text_of(result)
        assert chat_requests(scripted)[-1]["headers"]["authorization"] == f"Bearer {VISITOR_KEY}"
        result, _ = call(public, "compare", {"question": "Hi", "models": ["xai:a", "xai:b"]})
        assert result.isError and "MCP_OWNER_PAYS=1" in text_of(result)
        # What the owner runs without a key (a llama.cpp server, the offline model) is theirs too.
        result, _ = call(public, "ask", {"message": "Hi", "provider": "llamacpp"}, {"X-Provider-Key": VISITOR_KEY})
        assert result.isError and "llama.cpp server runs on this server's own account or machine" in text_of(result)
        # A caller's key goes to the provider they name, or the default one: never to another.
        result, _ = call(public, "search", {"query": "News?"}, {"X-Provider-Key": VISITOR_KEY})
        assert result.isError and "Name the provider your X-Provider-Key is for" in text_of(result), text_of(result)
        result, _ = call(public, "ask", {"message": "Hi", "provider": "xai"}, {"X-Provider-Key": "bad key-value"})
        assert result.isError and "'X-Provider-Key'" in text_of(result) and "bad key" not in text_of(result)
        assert len(chat_requests(scripted)) == 1  # (none of these reached a provider)
    finally:
        public.close()

    paying = RunningApp({**env, "MCP_OWNER_PAYS": "1", "RATE_LIMIT_PER_MINUTE": "1"})
    try:
        result, _ = call(paying, "ask", {"message": "Hi", "provider": "xai"})
        assert not result.isError, text_of(result)
        assert chat_requests(scripted)[-1]["headers"]["authorization"] == f"Bearer {SERVER_KEY}"
        result, _ = call(paying, "ask", {"message": "Hi again", "provider": "xai"}, {"Accept-Language": "fr-FR"})
        assert result.isError and "RATE_LIMIT_PER_MINUTE" in text_of(result), text_of(result)  # the page's limits, worded
        assert len(chat_requests(scripted)) == 2
    finally:
        paying.close()


def test_with_auth_users_a_caller_signs_in_and_is_counted_as_themselves(scripted):
    app = RunningApp({"MCP_SERVER": "1", "OPENAI_BASE_URL": scripted.base_url, "AUTH_USERS": "alice:pw-of-alice"})
    try:
        refused = httpx.post(app.url + "gradio_api/mcp/", json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
        assert refused.status_code == 401 and "AUTH_USERS" in refused.text
        wrong = {"Authorization": "Basic " + base64.b64encode(b"alice:nope").decode()}
        assert httpx.post(app.url + "gradio_api/mcp/", json={}, headers=wrong).status_code == 401
        scripted.default = Reply(chunks=text_stream("Signed in."))
        right = {"Authorization": "Basic " + base64.b64encode(b"alice:pw-of-alice").decode()}
        result, _ = call(app, "ask", {"message": "Hi"}, right)
        assert not result.isError and text_of(result).startswith("Signed in."), text_of(result)
    finally:
        app.close()


def test_without_mcp_server_there_is_no_mcp_address(app):
    assert httpx.post(app.url + "gradio_api/mcp/", json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"}).status_code == 404


def initialize(app: RunningApp, **headers: str) -> httpx.Response:
    """A bare `initialize` request, as a client opens a session."""
    body = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "probe", "version": "1"}},
    }
    accept = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
    return httpx.post(app.url + "gradio_api/mcp/", json=body, headers={**accept, **headers})


def test_on_your_own_machine_a_web_page_cannot_reach_the_tools_by_another_name(mcp_app):
    """DNS rebinding: a page whose name points at 127.0.0.1 sends its own name as Host (and Origin)."""
    assert initialize(mcp_app).status_code == 200
    rebound = initialize(mcp_app, Host="evil.example:7860", Origin="http://evil.example:7860")
    assert rebound.status_code == 403 and "MCP_ALLOWED_HOSTS" in rebound.text
    assert initialize(mcp_app, Origin="http://evil.example").status_code == 403
    assert initialize(mcp_app, Host="localhost", Origin="http://localhost:6274").status_code == 200  # (a local inspector)


def test_one_address_cannot_open_sessions_for_everyone():
    from causerie.mcp_server.route import NEW_SESSIONS_PER_MINUTE, SessionOpenings

    clock = [0.0]
    openings = SessionOpenings(3, clock=lambda: clock[0])
    assert [openings.admit("10.0.0.1") for _ in range(4)] == [True, True, True, False]
    assert openings.admit("10.0.0.2")  # (each address its own)
    clock[0] = 60.0
    assert openings.admit("10.0.0.1")
    # Through a public app behind one proxy: a flood of bare `initialize` from one address is
    # refused past the limit, and another address still gets in.
    public = RunningApp({"MCP_SERVER": "1", "PUBLIC_MODE": "1", "TRUSTED_PROXY_HOPS": "1", "XAI_API_KEY": SERVER_KEY})
    try:
        flood = [initialize(public, **{"X-Forwarded-For": "203.0.113.9"}) for _ in range(NEW_SESSIONS_PER_MINUTE + 1)]
        assert [r.status_code for r in flood] == [200] * NEW_SESSIONS_PER_MINUTE + [429]
        assert "at most 30 a minute" in flood[-1].text and flood[-1].headers["retry-after"] == "60"
        assert initialize(public, **{"X-Forwarded-For": "198.51.100.7"}).status_code == 200
    finally:
        public.close()


def test_a_key_put_in_an_argument_is_refused_by_that_name_and_not_shown(mcp_app):
    result, _ = call(mcp_app, "ask", {"message": "Hi", "api_key": VISITOR_KEY})
    assert result.isError and "The argument 'api_key' must be one of message" in text_of(result)
    assert VISITOR_KEY not in text_of(result) and "got a str" in text_of(result)
