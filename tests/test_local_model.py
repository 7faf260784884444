"""The offline default, end to end: llama.cpp's server with the bundled SmolLM2 model."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from causerie.answering.options import ChatOptions, GenerationParams
from causerie.answering.service import ChatService
from causerie.config.settings import SettingsError, load_settings
from causerie.endpoints import local_model
from causerie.events import Failure, Finish, TextDelta

from support.apps import ROOT, RunningApp, run_async
from support.scripted_server import _free_port

pytestmark = [
    pytest.mark.local_model,
    pytest.mark.skipif(
        not (local_model.runtime_available() and local_model.bundled_model_path()), reason="pip install -r requirements-local.txt"
    ),
]


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(c) for c in (task / "children").read_text().split()]
    return found


@pytest.fixture(scope="module")
def offline_app():
    running = RunningApp({})  # no key anywhere
    yield running
    running.close()


def test_no_key_means_the_local_model_is_the_default():
    settings = load_settings({})
    assert settings.choose_default_provider().id == "local"
    assert load_settings({"XAI_API_KEY": "k"}).choose_default_provider().id == "xai"


def test_chat_api_answers_from_the_local_model(offline_app):
    job = offline_app.client().submit("What is the capital of France?", api_name="/chat")
    partials = list(job)
    answer = job.result()
    assert answer.strip() and len(partials) >= 2
    assert offline_app.service.local.running()


def test_browser_chat_answers_offline(offline_app, page: Page):
    page.goto(offline_app.url)
    expect(page.locator("#provider input")).to_have_value("Local (offline)", timeout=10000)
    box = page.locator("#chat-input textarea")
    box.fill("Say hello.")
    box.press("Enter")
    expect(page.locator("#chatbot")).to_contain_text("Local (offline) · SmolLM2", timeout=60000)
    assert page.get_by_test_id("bot").first.inner_text().strip()


def test_one_server_shared_and_restarted_if_it_died(offline_app):
    local = offline_app.service.local
    offline_app.client().predict("Hi", api_name="/chat")
    first = local.pid
    offline_app.client().predict("Hi again", api_name="/chat")
    assert local.pid == first
    os.kill(first, signal.SIGKILL)
    deadline = time.monotonic() + 5
    while local.running() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert offline_app.client().predict("Still there?", api_name="/chat").strip()
    assert local.pid != first and local.running()


def test_concurrent_users_wait_their_turn():
    service = ChatService(load_settings({}))

    async def one(i):
        return [
            e
            async for e in service.stream_answer(
                ChatOptions("local", params=GenerationParams(max_tokens=16)), [{"role": "user", "content": f"Count to {i}"}]
            )
        ]

    async def go():
        try:
            return await asyncio.gather(*(one(i) for i in range(3)))
        finally:
            await service.aclose()

    results = run_async(go())
    assert all(isinstance(r[-1], Finish) for r in results), [r[-1] for r in results]
    assert all(any(isinstance(e, TextDelta) for e in r) for r in results)
    assert sum(any(getattr(e, "kind", "") == "queued" for e in r) for r in results) == 2


def test_missing_model_path_is_a_clear_error(tmp_path):
    with pytest.raises(SettingsError, match="LOCAL_MODEL_PATH points to .*not a file"):
        load_settings({"LOCAL_MODEL_PATH": str(tmp_path / "missing.gguf")})


def test_non_gguf_model_path_is_a_clear_error(tmp_path):
    bogus = tmp_path / "model.gguf"
    bogus.write_bytes(b"not a model at all")
    with pytest.raises(SettingsError, match="not a GGUF model file"):
        load_settings({"LOCAL_MODEL_PATH": str(bogus)})


def test_corrupt_gguf_fails_at_first_use_with_a_clear_message(tmp_path):
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(b"GGUF" + b"\x00" * 64)
    service = ChatService(load_settings({"LOCAL_MODEL_PATH": str(broken)}))

    async def go():
        try:
            return [e async for e in service.stream_answer(ChatOptions("local"), [{"role": "user", "content": "Hi"}])]
        finally:
            await service.aclose()

    events = run_async(go())
    assert isinstance(events[-1], Failure) and events[-1].kind == "local"
    assert "exited while starting" in events[-1].message


def test_without_runtime_or_key_the_app_says_what_to_do():
    settings = replace(load_settings({}), local_model_path=None, local_model_available=False)
    service = ChatService(settings)

    async def go():
        return [e async for e in service.stream_answer(ChatOptions(), [{"role": "user", "content": "Hi"}])]

    failure = run_async(go())[-1]
    assert "XAI_API_KEY" in failure.message and "requirements-local.txt" in failure.message


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_no_child_process_is_left_after_the_app_exits(stop_signal):
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.endswith(("_API_KEY", "_TOKEN", "_BASE_URL"))}
    env.update(
        GRADIO_SERVER_NAME="127.0.0.1",
        GRADIO_SERVER_PORT=str(port),
        GRADIO_ANALYTICS_ENABLED="False",
        CAUSERIE_OPEN_BROWSER="false",
        CAUSERIE_ENV_FILE="",
        PYTHONUNBUFFERED="1",  # (its output whole, and every thread's stack on SIGABRT, for a failure)
        PYTHONFAULTHANDLER="1",
    )  # no developer .env: offline for sure
    log = tempfile.TemporaryFile()  # (what the app said, for a failure's message)
    # As from a terminal, where Ctrl+C is sent: a run started in the background without job control
    # (CI started from a script, say) inherits SIGINT ignored, and Python then never raises
    # KeyboardInterrupt (seen in CI: the main thread still in Gradio's block_thread 20 s later).
    app = subprocess.Popen(
        [sys.executable, "app.py"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        url = f"http://127.0.0.1:{port}/"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(url, timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        from gradio_client import Client

        assert Client(url, verbose=False).predict("Hi", api_name="/chat").strip()
        children = _children(app.pid)
        assert children, "the local model server should be a child of the app"
        app.send_signal(stop_signal)
        try:
            app.wait(timeout=20)
        except subprocess.TimeoutExpired:
            app.send_signal(signal.SIGABRT)  # (faulthandler writes where each thread is)
            app.wait(timeout=10)
            log.seek(0)
            pytest.fail(f"the app did not exit within 20 s of {stop_signal!r}; it said:\n{log.read().decode()[-6000:]}")
        deadline = time.monotonic() + 10
        while any(_alive(c) for c in children) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not any(_alive(c) for c in children)
    finally:
        if app.poll() is None:
            app.kill()
