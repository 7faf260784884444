"""Thinking, tokens, time and cost: model records, prices, /chat_details, effort, the thought UI."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from causerie.answering.options import ChatOptions
from causerie.answering.service import ChatService
from causerie.config.settings import load_settings
from causerie.endpoints.model_info import ModelInfo, ModelInfoTable
from causerie.events import Usage

from support.apps import RunningApp, run_async
from support.browsers import open_settings
from support.scripted_server import Reply, delta, sse, text_stream


def test_shipped_models_file_loads_prices_and_efforts():
    table = ModelInfoTable.load()
    assert table.get("xai", "grok-3-mini").reasoning_effort == ("low", "high")
    assert table.get("xai", "grok-4").reasoning_effort == ()
    assert table.get("xai", "grok-4.3").reasoning_effort == ("none", "low", "medium", "high")
    assert table.get("xai", "grok-4.7").reasoning_effort[-1] == "xhigh" and table.get("xai", "grok-4.7").has_price
    for retired in ("grok-4-0709", "grok-4-fast-reasoning", "grok-4-fast-non-reasoning", "grok-code-fast-1", "grok-3"):
        assert table.get("xai", retired) == ModelInfo(), retired
    assert table.get("openai", "gpt-4o-mini").has_price
    assert table.get("nobody", "nothing") == ModelInfo()


def test_broken_models_file_is_reported_not_fatal(tmp_path, caplog):
    path = tmp_path / "models.yaml"
    path.write_text("xai:\n  good: {input: 1, output: 2}\n  bad: {input: cheap, output: 2}\n  worse: 3\n")
    table = ModelInfoTable.load(path)
    assert table.get("xai", "good").has_price and not table.get("xai", "bad").has_price
    assert "xai/bad" in caplog.text and "xai/worse" in caplog.text
    path.write_text("xai: [unclosed")
    assert not ModelInfoTable.load(path).get("xai", "good").has_price


def test_cost_counts_cached_and_output_tokens():
    info = ModelInfo(input=2.0, cached_input=0.5, output=10.0)
    usage = Usage(prompt_tokens=1_000_000, completion_tokens=100_000, cached_tokens=400_000)
    assert info.cost_usd(usage) == pytest.approx(0.6 * 2 + 0.4 * 0.5 + 0.1 * 10)
    assert ModelInfo().cost_usd(usage) is None


def test_xai_language_models_fill_prices_and_aliases():
    table = ModelInfoTable.load()
    table.merge_xai_language_models(
        {
            "models": [
                {
                    "id": "grok-9",
                    "aliases": ["grok-9-latest"],
                    "input_modalities": ["text", "image"],
                    "prompt_text_token_price": 20000,
                    "cached_prompt_text_token_price": 5000,
                    "completion_text_token_price": 100000,
                }
            ]
        }
    )
    info = table.get("xai", "grok-9-latest")
    assert (info.input, info.cached_input, info.output, info.vision) == (2.0, 0.5, 10.0, True)
    table.merge_xai_language_models(
        {"models": [{"id": "grok-3-mini", "prompt_text_token_price": 3000, "completion_text_token_price": 5000}]}
    )
    assert table.get("xai", "grok-3-mini").reasoning_effort == ("low", "high")  # the file's efforts stay


def _events(service, **kw):
    async def go():
        try:
            return [e async for e in service.stream_answer(ChatOptions(**kw), [{"role": "user", "content": "q"}])]
        finally:
            await service.aclose()

    return run_async(go())


def test_xai_reported_cost_is_used(scripted):
    scripted.queue(Reply.fixture("xai-grok-3-mini-thinking"))
    service = ChatService(load_settings({"XAI_API_KEY": "test-not-secret", "XAI_BASE_URL": scripted.base_url}))
    usage = [e for e in _events(service, provider_id="xai", model="grok-3-mini") if isinstance(e, Usage)][-1]
    assert usage.cost_usd == pytest.approx(0.000191825)
    assert usage.reasoning_tokens == 313 and usage.completion_tokens == 340


def test_xai_discovery_uses_language_models_for_prices(scripted):
    scripted.language_models = {
        "models": [
            {"id": "grok-x", "prompt_text_token_price": 10000, "completion_text_token_price": 20000, "input_modalities": ["text"]}
        ]
    }
    service = ChatService(load_settings({"XAI_API_KEY": "test-not-secret", "XAI_BASE_URL": scripted.base_url}))
    assert run_async(service.models("xai")) == ["grok-x"]
    assert service.info("xai", "grok-x").output == 2.0
    scripted.queue(Reply(chunks=text_stream("Hi", usage={"prompt_tokens": 1000, "completion_tokens": 500})))
    usage = [e for e in _events(service, provider_id="xai", model="grok-x") if isinstance(e, Usage)][-1]
    assert usage.cost_usd == pytest.approx((1000 * 1.0 + 500 * 2.0) / 1e6)


def test_chat_details_returns_every_field(app, api, scripted):
    scripted.queue(
        Reply(
            chunks=sse(
                delta(reasoning_content="Think"),
                delta(reasoning_content="ing."),
                delta("The "),
                delta("answer."),
                delta(finish="stop"),
                {
                    "choices": [],
                    "usage": {
                        "prompt_tokens": 100,
                        "completion_tokens": 40,
                        "completion_tokens_details": {"reasoning_tokens": 30},
                    },
                },
            ),
            delay=0.05,  # (tokens_per_s needs 0.1 s from first token to end: 0.3 s leaves a busy machine room)
        )
    )
    result = api.predict("Q", None, None, "openai", "gpt-4o-mini", api_name="/chat_details")
    assert result["answer"] == "The answer." and result["reasoning"] == "Thinking."
    assert result["usage"] == {
        "prompt_tokens": 100,
        "completion_tokens": 40,
        "reasoning_tokens": 30,
        "cached_tokens": None,
        "tool_calls": None,
        "tools": {},
        "estimated": False,
    }
    assert result["finish_reason"] == "stop" and result["model"] == "gpt-4o-mini" and result["provider"] == "OpenAI"
    assert result["cost_usd"] == pytest.approx((100 * 0.15 + 40 * 0.60) / 1e6)
    timings = result["timings"]
    assert 0 <= timings["ttft_s"] <= timings["total_s"] and timings["tokens_per_s"] > 0


def test_chat_details_estimates_when_provider_sends_no_usage(app, api, scripted):
    scripted.queue(Reply(chunks=text_stream("An answer without usage.")))
    result = api.predict("Q", api_name="/chat_details")
    assert result["usage"]["estimated"] is True and result["usage"]["completion_tokens"] > 0
    assert result["cost_usd"] is None  # model-a has no price


def test_chat_still_returns_only_text_and_passes_effort(app, api, scripted):
    scripted.queue(Reply(chunks=sse(delta(reasoning_content="hidden"), delta("Visible"), delta(finish="stop"))))
    result = api.predict("Q", None, None, "openai", "o4-mini", None, None, "high", api_name="/chat")
    assert result == "Visible"
    assert scripted.requests[-1]["body"]["reasoning_effort"] == "high"


@pytest.mark.browser
def test_thought_streams_then_collapses_above_answer_with_footer(app, scripted, page: Page):
    scripted.default = Reply(
        chunks=sse(
            *[delta(reasoning_content=f"step {i}. ") for i in range(40)],
            *[delta(f"word{i} ") for i in range(10)],
            delta(finish="stop"),
            {
                "choices": [],
                "usage": {"prompt_tokens": 12, "completion_tokens": 60, "completion_tokens_details": {"reasoning_tokens": 40}},
            },
        ),
        delay=0.05,
    )
    page.goto(app.url)
    box = page.locator("#chat-input textarea")
    box.fill("Think first")
    box.press("Enter")
    thought = page.locator(".thought-group").first
    expect(thought).to_contain_text("Thinking", timeout=5000)
    expect(thought).to_contain_text("step 3")  # open while thinking
    assert "word0" not in page.locator("#chatbot").inner_text()
    expect(page.locator("#chatbot")).to_contain_text("word9", timeout=10000)
    expect(page.locator("#chatbot")).to_contain_text("60 out (40 thinking)")
    expect(page.locator("#chatbot")).to_contain_text("to first token")
    # Collapsed once the answer started: its text is no longer shown, and a duration is.
    expect(thought).not_to_contain_text("step 39")
    expect(thought).to_contain_text(__import__("re").compile(r"\d+(\.\d+)?s"))
    # The thought sits above the answer.
    shown = page.locator("#chatbot").inner_text()
    assert shown.index("Thinking") < shown.index("word0") < shown.index("to first token")
    expect(page.locator("#session-totals")).to_contain_text("1 answer")


@pytest.mark.browser
def test_effort_is_offered_only_for_flagged_models(app, scripted, page: Page):
    page.goto(app.url)
    effort = page.locator("#reasoning-effort")
    expect(page.locator("#model input")).to_have_value("model-a", timeout=10000)
    expect(effort).to_be_hidden()
    open_settings(page)  # (a model id typed by hand goes in the settings' model box)
    model_input = page.locator("#model input")
    model_input.fill("o4-mini")
    model_input.press("Enter")
    expect(effort).to_be_visible(timeout=5000)


@pytest.mark.browser
def test_a_model_typed_while_the_list_loads_is_kept(scripted, page: Page):
    scripted.models_delay = 2.0  # a slow provider: the page's model list takes two seconds
    running = RunningApp({"OPENAI_BASE_URL": scripted.base_url})
    try:
        page.goto(running.url)
        open_settings(page)
        model_input = page.locator("#model input")
        model_input.fill("model-b")
        model_input.press("Enter")
        page.wait_for_timeout(3000)  # the list has arrived by now
        assert len([r for r in scripted.requests if r["path"] == "/v1/models"]) >= 1
        expect(model_input).to_have_value("model-b")
    finally:
        running.close()
