"""Tools through the running app: /chat_details and /chat with gradio_client over real HTTP, and in
a real Chromium, a call approved and one denied, a reload during a wait, the steps kept with the
conversation. The provider is the scripted server; the tools are a real MCP server (the `mcp`
SDK's own) in a process of its own."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import Page, expect

from support.apps import RunningApp
from support.browsers import open_accordion, open_settings, send
from support.keys import SERVER_KEY
from support.scripted_server import Reply, chat_requests, text_stream, tool_call_stream, tool_results


@pytest.fixture(scope="module")
def tools_app(_scripted, _tools_server):
    running = RunningApp(
        {
            "OPENAI_API_KEY": SERVER_KEY,
            "OPENAI_BASE_URL": _scripted.base_url,
            "MCP_SERVERS": f"calc={_tools_server.url}",
            "DEFAULT_MODEL": "model-a",
        }
    )
    yield running
    running.close()


@pytest.fixture
def calls(tools_server):
    return tools_server


def answering_from_result():
    return Reply(respond=lambda body: text_stream("The tool said: " + " | ".join(tool_results(body))))


def test_chat_details_runs_the_calls_approved_in_advance_and_returns_them(tools_app, scripted, calls):
    scripted.queue(
        Reply(chunks=tool_call_stream(("calc__add", {"a": 2, "b": 3}), ("calc__echo", {"text": "hi"}))), answering_from_result()
    )
    client = tools_app.client()
    details = client.predict("What is 2 + 3?", *([None] * 15), "all", ["calc:add"], api_name="/chat_details")
    assert details["answer"] == "The tool said: 5 | Error: " or details["answer"].startswith("The tool said: 5 | ")
    add, echo = details["tool_calls"]
    assert add == {
        "server": "calc",
        "tool": "add",
        "arguments": {"a": 2, "b": 3},
        "result": "5",
        "state": "done",
        "approved": True,
        "duration_s": add["duration_s"],
    }
    assert echo["state"] == "denied" and echo["approved"] is False and "auto_approve" in echo["result"]
    assert [c["tool"] for c in calls.calls()] == ["add"]
    assert [t["function"]["name"] for t in chat_requests(scripted)[0]["body"]["tools"]][:2] == ["calc__add", "calc__echo"]


def test_chat_streams_each_call_as_a_line_and_no_tools_unless_asked(tools_app, scripted, calls):
    scripted.queue(Reply(chunks=tool_call_stream(("calc__add", {"a": 1, "b": 1}))), answering_from_result())
    client = tools_app.client()
    said = client.predict("1+1?", *([None] * 15), ["calc:add"], ["calc:add"], api_name="/chat")
    assert said.splitlines()[0] == '[Tool call calc:add({"a": 1, "b": 1}) → 2]' and said.endswith("The tool said: 2")
    scripted.reset()
    client.predict("Hello", api_name="/chat")
    assert "tools" not in chat_requests(scripted)[0]["body"]


def test_a_tool_name_not_server_colon_tool_is_refused_by_name(tools_app, scripted):
    client = tools_app.client()
    with pytest.raises(Exception, match="mcp_tools"):
        client.predict("x", *([None] * 15), ["add"], None, api_name="/chat_details")
    assert chat_requests(scripted) == []


# -- in Chromium ----------------------------------------------------------------------------------


@pytest.fixture
def page(tools_app, scripted, calls, browser):
    context = browser.new_context(locale="en-US")
    page = context.new_page()
    page.goto(tools_app.url)
    page.wait_for_selector("#chat-input textarea")
    yield page
    context.close()


def step(page: Page, number: int = 0):
    return page.locator("#chatbot .message-wrap .message").filter(has_text="calc · ").nth(number)


@pytest.mark.browser
def test_in_the_page_a_call_is_approved_and_another_denied_and_both_are_kept(page: Page, tools_app, scripted, calls):
    open_settings(page)
    open_accordion(page, page.locator("#tool-options button").first)
    expect(page.locator("#mcp-note")).to_contain_text("calc: 5 tool(s)")
    expect(page.locator("#mcp-tools input[type=checkbox]:checked")).to_have_count(5)
    scripted.queue(Reply(chunks=tool_call_stream(("calc__add", {"a": 2, "b": 3}))), answering_from_result())
    send(page, "What is 2 + 3?")
    allow = page.locator('#chatbot a[href^="#causerie-tool-allow-"]')
    expect(allow).to_have_count(1, timeout=15000)
    expect(page.locator("#chatbot")).to_contain_text("waiting for your approval")
    assert calls.calls() == []  # (nothing runs before the click)
    allow.click()
    expect(page.locator("#chatbot")).to_contain_text("The tool said: 5", timeout=15000)
    expect(page.locator('#chatbot a[href^="#causerie-tool-"]')).to_have_count(0)
    assert [c["tool"] for c in calls.calls()] == ["add"]
    assert page.url == tools_app.url or "#causerie" not in page.url  # (the link did not navigate)

    scripted.queue(
        Reply(chunks=tool_call_stream(("calc__echo", {"text": "<img src=x onerror=alert(1)>"}))), answering_from_result()
    )
    send(page, "Echo something")
    deny = page.locator('#chatbot a[href^="#causerie-tool-deny-"]')
    expect(deny).to_have_count(1, timeout=15000)
    deny.click()
    expect(page.locator("#chatbot")).to_contain_text("did not allow", timeout=15000)
    assert [c["tool"] for c in calls.calls()] == ["add"]
    assert page.locator("#chatbot img[src=x]").count() == 0  # (arguments are shown as text)
    # Sent back next turn in the provider's shape: the calls, and their results.
    scripted.queue(Reply(chunks=text_stream("Fine.")))
    send(page, "Thanks")
    expect(page.locator("#chatbot")).to_contain_text("Fine.", timeout=15000)
    last = chat_requests(scripted)[-1]["body"]["messages"]
    assert [m["role"] for m in last].count("tool") == 2
    assert json.loads(last[2]["tool_calls"][0]["function"]["arguments"]) == {"a": 2, "b": 3}


@pytest.mark.browser
def test_a_call_waiting_survives_a_reload_and_is_approved_after_it(page: Page, tools_app, scripted, calls):
    scripted.queue(Reply(chunks=tool_call_stream(("calc__add", {"a": 4, "b": 4}))), answering_from_result())
    send(page, "What is 4 + 4?")
    expect(page.locator('#chatbot a[href^="#causerie-tool-allow-"]')).to_have_count(1, timeout=15000)
    page.reload()
    allow = page.locator('#chatbot a[href^="#causerie-tool-allow-"]')
    expect(allow).to_have_count(1, timeout=20000)
    allow.click()
    expect(page.locator("#chatbot")).to_contain_text("The tool said: 8", timeout=15000)
    assert [c["tool"] for c in calls.calls()] == ["add"]
