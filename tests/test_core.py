"""Plain-Python tests of the core: settings, providers, conversation building, prompts, discovery."""

from __future__ import annotations

import logging
import secrets
from pathlib import Path

import aiohttp
import pytest

from causerie.answering.answer import Answer
from causerie.answering.messages import build_messages
from causerie.answering.prompts import load_presets
from causerie.config.settings import SettingsError, load_settings, read_environment
from causerie.endpoints.discovery import ModelCatalog, parse_model_list
from causerie.endpoints.errors import redact
from causerie.endpoints.providers import PROVIDERS, Endpoint, get_provider, pick_default_model
from causerie.events import Failure, Finish, ReasoningDelta, TextDelta, Usage
from causerie.ui.render import render
from causerie.ui.turns import content_text, plain_turns

from support.apps import run_async

# -- settings --------------------------------------------------------------------------------


def test_no_keys_means_no_ready_cloud_provider():
    settings = load_settings({})
    assert [p.id for p in settings.ready_providers() if not p.managed] == []


def test_xai_first_when_several_keys():
    settings = load_settings({"OPENAI_API_KEY": "k1", "XAI_API_KEY": "k2", "GROQ_API_KEY": "k3"})
    assert settings.choose_default_provider().id == "xai"


def test_openai_base_url_alone_makes_openai_ready_without_key():
    settings = load_settings({"OPENAI_BASE_URL": "http://127.0.0.1:9/v1/"})
    assert settings.choose_default_provider().id == "openai"
    endpoint = settings.endpoint("openai")
    assert endpoint.base_url == "http://127.0.0.1:9/v1" and endpoint.api_key is None
    assert "Authorization" not in endpoint.headers()


def test_local_server_ready_only_when_its_address_is_set():
    assert not load_settings({}).is_ready(get_provider("ollama"))
    assert load_settings({"OLLAMA_BASE_URL": "http://localhost:11434/v1"}).is_ready(get_provider("ollama"))


def test_default_provider_and_model_from_environment():
    settings = load_settings({"GROQ_API_KEY": "k", "XAI_API_KEY": "k", "DEFAULT_PROVIDER": "Groq", "DEFAULT_MODEL": "m1"})
    assert settings.choose_default_provider().id == "groq" and settings.default_model == "m1"


def test_unknown_default_provider_lists_known_ones():
    with pytest.raises(SettingsError, match="DEFAULT_PROVIDER.*known providers: xai, openai"):
        load_settings({"DEFAULT_PROVIDER": "nope"})


def test_default_provider_without_key_names_the_variable():
    with pytest.raises(SettingsError, match="set XAI_API_KEY in .env or the Space's secrets"):
        load_settings({"DEFAULT_PROVIDER": "xai"})


@pytest.mark.parametrize(
    "name, value, message",
    [
        ("CAUSERIE_READ_TIMEOUT", "soon", "CAUSERIE_READ_TIMEOUT must be a number"),
        ("CAUSERIE_MAX_RETRIES", "2.5", "CAUSERIE_MAX_RETRIES must be a whole number"),
        ("CAUSERIE_CONNECT_TIMEOUT", "0", "CAUSERIE_CONNECT_TIMEOUT must be at least"),
        ("OPENAI_BASE_URL", "localhost:8080", "OPENAI_BASE_URL must be an http:// or https:// URL"),
    ],
)
def test_bad_values_name_the_variable(name, value, message):
    with pytest.raises(SettingsError, match=message):
        load_settings({name: value})


def test_dotenv_never_overrides_real_environment(tmp_path, monkeypatch):
    env_file = tmp_path / ".env"
    env_file.write_text("XAI_API_KEY=from-dotenv\nGROQ_API_KEY=groq-from-dotenv\n")
    monkeypatch.setenv("XAI_API_KEY", "from-environment")
    values = read_environment(env_file)
    assert values["XAI_API_KEY"] == "from-environment" and values["GROQ_API_KEY"] == "groq-from-dotenv"


def test_settings_repr_hides_keys():
    settings = load_settings({"XAI_API_KEY": "very-secret-value"})
    assert "very-secret-value" not in repr(settings)
    assert "very-secret-value" not in repr(settings.endpoint("xai"))


def test_redact_removes_key_and_masked_keys():
    shaped = "xai-" + secrets.token_hex(8)  # made here: no key-shaped string is committed
    text = f"Incorrect API key provided: {shaped} and sk-ab***wxyz and the-key-itself"
    cleaned = redact(text, "the-key-itself")
    assert shaped[4:] not in cleaned and "wxyz" not in cleaned and "the-key-itself" not in cleaned


# -- providers -------------------------------------------------------------------------------


def test_provider_table_is_data_with_unique_ids_and_keys():
    ids = [p.id for p in PROVIDERS]
    assert len(ids) == len(set(ids))
    assert {
        "xai",
        "openai",
        "groq",
        "openrouter",
        "huggingface",
        "mistral",
        "deepseek",
        "together",
        "gemini",
        "ollama",
        "lmstudio",
        "vllm",
        "llamacpp",
        "local",
    } <= set(ids)
    assert get_provider("xai").key_env == "XAI_API_KEY" and get_provider("huggingface").key_env == "HF_TOKEN"


def test_pick_default_model_prefers_the_list_then_first():
    xai = get_provider("xai")
    assert pick_default_model(xai, ["grok-3-mini", "grok-4.6"]) == "grok-4.6"
    assert pick_default_model(xai, ["grok-4.3-latest", "zzz"]) == "grok-4.3-latest"
    assert pick_default_model(xai, ["something-else"]) == "something-else"
    assert pick_default_model(xai, []) is None


@pytest.mark.parametrize(
    "payload",
    [
        {"object": "list", "data": [{"id": "a"}, {"id": "b"}]},
        [{"id": "a", "type": "chat"}, {"id": "b"}],
        {"models": [{"name": "a"}, {"name": "b"}]},
    ],
)
def test_model_list_shapes(payload):
    assert parse_model_list(payload) == ["a", "b"]


def test_discovery_against_server_caches_and_accepts_bare_arrays(scripted):
    scripted.models = [{"id": "x-1"}, {"id": "x-2"}]
    catalog = ModelCatalog(timeout=2)
    endpoint = Endpoint(get_provider("together"), scripted.base_url, "k")

    async def go():
        async with aiohttp.ClientSession() as http:
            first = await catalog.models(http, endpoint)
            second = await catalog.models(http, endpoint)
            return first, second

    assert run_async(go()) == (["x-1", "x-2"], ["x-1", "x-2"])
    assert len([r for r in scripted.requests if r["path"] == "/v1/models"]) == 1
    assert catalog.cached(endpoint) == ["x-1", "x-2"]


def test_discovery_of_a_dead_server_returns_empty_quickly():
    catalog = ModelCatalog(timeout=0.5)
    endpoint = Endpoint(get_provider("ollama"), "http://127.0.0.1:9/v1", None)

    async def go():
        async with aiohttp.ClientSession() as http:
            return await catalog.models(http, endpoint)

    assert run_async(go()) == []


# -- conversation ----------------------------------------------------------------------------

GRADIO_HISTORY = [
    {"role": "user", "content": [{"type": "text", "text": "Hi"}], "metadata": None, "options": None},
    {
        "role": "assistant",
        "content": [{"type": "text", "text": "Let me think"}],
        "metadata": {"title": "Thinking", "status": "done"},
        "options": [],
    },
    {"role": "assistant", "content": [{"type": "text", "text": "Hello!"}], "metadata": None, "options": []},
    {"role": "assistant", "content": "<sub>xAI · grok</sub>", "metadata": {"id": "causerie-footer"}},
    {"role": "user", "content": "Second question"},
    {"role": "assistant", "content": "⚠️ failed", "metadata": {"id": "causerie-notice"}},
]


def test_messages_are_role_and_content_only_with_system_prompt_first():
    messages = build_messages("Be brief.", [*plain_turns(GRADIO_HISTORY), {"role": "user", "content": "Third"}])
    assert messages == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello!"},
        {"role": "user", "content": "Second question\n\nThird"},
    ]
    assert all(set(m) == {"role", "content"} and isinstance(m["content"], str) for m in messages)


def test_system_prompt_is_on_every_turn_and_history_is_not_edited():
    history = [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}]
    before = [dict(m) for m in history]
    for turn in range(3):
        assert build_messages("S", [*history, {"role": "user", "content": f"q{turn}"}])[0] == {"role": "system", "content": "S"}
    assert history == before


def test_no_system_prompt_when_empty_and_api_history_plain():
    assert build_messages(
        "  ", [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}, {"role": "user", "content": "c"}]
    ) == [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}, {"role": "user", "content": "c"}]


def test_reasoning_rendered_in_ui_never_goes_back_upstream():
    answer = Answer("xAI", "grok")
    for event in (ReasoningDelta("secret thoughts"), TextDelta("The answer"), Usage(3, 4), Finish("stop")):
        answer.apply(event)
    shown = render(answer)
    history = [{"role": "user", "content": "q"}, *shown]
    sent = build_messages(None, [*plain_turns(history), {"role": "user", "content": "next"}])
    assert "secret thoughts" not in str(sent) and "xAI" not in str(sent)
    assert sent[1] == {"role": "assistant", "content": "The answer"}


def test_system_messages_in_history_are_dropped():
    assert plain_turns([{"role": "system", "content": "x"}, {"role": "user", "content": "y"}]) == [
        {"role": "user", "content": "y"}
    ]


# -- prompts ---------------------------------------------------------------------------------


def test_shipped_presets_cover_both_languages():
    presets = load_presets()
    for stem in ("general", "letters", "writer", "science", "code", "truth"):
        assert f"{stem}-en" in presets and f"{stem}-fr" in presets, stem
        assert presets[f"{stem}-fr"].language == "fr"
    assert "LaTeX" in presets["science-en"].prompt
    assert presets["code-en"].settings == {"temperature": 0.2}


def test_broken_preset_is_skipped_with_a_warning_naming_it(tmp_path, caplog):
    (tmp_path / "good.md").write_text("---\nname: Good\nlanguage: en\nmax_tokens: 100\n---\nBe good.\n")
    (tmp_path / "no-front.md").write_text("Just text\n")
    (tmp_path / "bad-yaml.md").write_text("---\nname: [unclosed\n---\nText\n")
    (tmp_path / "no-name.md").write_text("---\nlanguage: en\n---\nText\n")
    (tmp_path / "bad-number.md").write_text("---\nname: X\ntemperature: hot\n---\nText\n")
    with caplog.at_level(logging.WARNING):
        presets = load_presets(tmp_path)
    assert list(presets) == ["good"] and presets["good"].settings == {"max_tokens": 100}
    for name in ("no-front.md", "bad-yaml.md", "no-name.md", "bad-number.md"):
        assert name in caplog.text


def test_adding_a_file_adds_a_preset(tmp_path):
    (tmp_path / "pirate.md").write_text("---\nname: Pirate\ndescription: Arr\n---\nTalk like a pirate.\n")
    assert load_presets(tmp_path)["pirate"].prompt == "Talk like a pirate."


# -- rendering -------------------------------------------------------------------------------


def test_failure_keeps_partial_answer_and_adds_notice():
    answer = Answer("OpenAI", "m")
    answer.apply(TextDelta("Half"))
    answer.apply(Failure("cut_off", {"provider": "OpenAI", "why": "no_finish"}))
    shown = render(answer)
    texts = [content_text(m["content"]) for m in shown]
    assert texts[0] == "Half"
    assert "cut off" in texts[1] and shown[1]["metadata"]["id"] == "causerie-notice"
    assert "OpenAI · m" in texts[-1]


def test_wrapped_prompt_lines_are_joined_but_lists_kept(tmp_path):
    (tmp_path / "p.md").write_text("---\nname: P\n---\nFirst line\ncontinues here.\n\nSteps:\n- one\n- two\n1. three\n")
    assert load_presets(tmp_path)["p"].prompt == "First line continues here.\n\nSteps:\n- one\n- two\n1. three"


def test_open_browser_only_on_a_machine_with_a_screen():
    assert load_settings({"DISPLAY": ":0"}).open_browser in (True,)
    assert not load_settings({"DISPLAY": ":0", "SPACE_ID": "me/causerie"}).open_browser
    assert not load_settings({"DISPLAY": ":0", "CAUSERIE_OPEN_BROWSER": "false"}).open_browser
    with pytest.raises(SettingsError, match="CAUSERIE_OPEN_BROWSER"):
        load_settings({"CAUSERIE_OPEN_BROWSER": "sometimes"})


def test_env_file_can_be_named_or_turned_off(tmp_path, monkeypatch):
    other = tmp_path / "other.env"
    other.write_text("GROQ_API_KEY=from-other-file\n")
    monkeypatch.setenv("CAUSERIE_ENV_FILE", str(other))
    assert read_environment()["GROQ_API_KEY"] == "from-other-file"
    monkeypatch.setenv("CAUSERIE_ENV_FILE", "")
    assert "GROQ_API_KEY" not in read_environment()


def test_every_variable_the_settings_read_is_in_their_list():
    """The tests clear setting_names() before each test: a variable read but missing from it would
    let a developer's own setting change what a test sees."""
    import re

    from causerie.config.settings import MACHINE_NAMES, setting_names

    package = Path(__file__).resolve().parents[1] / "causerie"
    read = {
        name
        for path in package.rglob("*.py")  # (not one the app sets: environ["X"] = ...)
        for name, set_here in re.findall(r'(?:env|environ)(?:\.get\(|\[|, )"([A-Z][A-Z0-9_]+)"(\] = )?', path.read_text())
        if not set_here
    }
    assert read, "the pattern finds the variables read"
    assert read - MACHINE_NAMES <= set(setting_names())


class _StartedModel:
    """The bundled model's server, already running: here, the scripted server in its place."""

    def __init__(self, base_url: str) -> None:
        self.base_url, self.model_id = base_url, "SmolLM2-135M-Instruct-Q8_0"

    def ensure_started(self) -> str:
        return self.base_url

    def running(self) -> bool:
        return True

    def stop(self) -> None:
        pass


def test_the_offline_model_gets_a_default_answer_length_unless_one_is_set(scripted):
    """SmolLM2-135M can ramble on for pages: with no length set, an answer asks for 512 tokens."""
    from causerie.answering.options import ChatOptions, GenerationParams
    from causerie.answering.service import ChatService

    service = ChatService(load_settings({}))
    service.local = _StartedModel(scripted.base_url)

    async def ask(params: GenerationParams) -> dict:
        [e async for e in service.stream_answer(ChatOptions("local", params=params), [{"role": "user", "content": "Hi"}])]
        return scripted.requests[-1]["body"]

    async def go():
        try:
            return await ask(GenerationParams()), await ask(GenerationParams(max_tokens=2000))
        finally:
            await service.aclose()

    unset, chosen = run_async(go())
    assert unset["max_tokens"] == 512
    assert chosen["max_tokens"] == 2000  # (what the person sets wins)
    assert get_provider("openai").default_max_tokens is None  # (a hosted model is left to its own)


def test_a_prompts_blanks_are_named_once_and_filled_where_given():
    from causerie.answering.prompts import blanks, filled

    prompt = "Translate into {{target language}} for {{ reader }}; {{target language}} only. {not one}"
    assert blanks(prompt) == ["target language", "reader"]
    assert filled(prompt, {"target language": "German", "reader": " "}) == (
        "Translate into German for {{ reader }}; German only. {not one}"
    )
    assert blanks("No blanks") == [] and blanks(None) == []
