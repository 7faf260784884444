from __future__ import annotations

import asyncio
import logging
import os
import secrets
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import causerie.ui  # noqa: E402,F401  (first: Gradio is imported as the app imports it, without rewriting its stubs)
from causerie.config.settings import setting_names  # noqa: E402

from support.scripted_server import ScriptedServer  # noqa: E402

# Keys for tests, made afresh each run, so that no key-shaped string is ever committed. They carry
# the prefixes providers use, so that the redaction that recognises key shapes is exercised.
SERVER_KEY = "sk-" + secrets.token_hex(12)
VISITOR_KEY = "sk-" + secrets.token_hex(12)
LOGIN_TOKEN = "hf_" + secrets.token_hex(12)

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]

SETTING_VARS = [*setting_names(), "OAUTH_CLIENT_SECRET"]  # (read by Gradio's login, beside OAUTH_CLIENT_ID)
SCREENSHOTS = ROOT / "test-results"
"""Where a failing browser test leaves a screenshot of each page it had open (CI keeps the folder)."""


@pytest.fixture(autouse=True)
def no_real_keys(monkeypatch):
    """No test depends on a developer's key or reaches the internet."""
    for name in SETTING_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CAUSERIE_ENV_FILE", "")  # no developer .env is read
    monkeypatch.chdir(ROOT / "tests")


@pytest.fixture(scope="session")
def _scripted():
    server = ScriptedServer().start()
    yield server
    server.stop()


@pytest.fixture
def scripted(_scripted):
    _scripted.reset()
    return _scripted


async def with_service(scripted, body):
    """`await body(service)` with a ChatService answering from the scripted server, closed after."""
    from causerie.answering.service import ChatService
    from causerie.config.settings import load_settings

    service = ChatService(load_settings({"OPENAI_BASE_URL": scripted.base_url}))
    try:
        return await body(service)
    finally:
        await service.aclose()


def run_async(coroutine):
    """Run a coroutine to the end in a fresh loop on its own thread.

    Playwright's sync API keeps an event loop in the main thread once a browser test has run,
    so asyncio.run() there would fail.
    """
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": "/usr/bin/chromium", "args": CHROMIUM_ARGS}


DATA_DIR = tempfile.mkdtemp(prefix="causerie-tests-")

PATCHES = os.environ.get("CAUSERIE_PATCHES", "")
"""The patches the apps of this test run apply, as the run was started (tests/test_patches.py runs
the API and a browser test with `off`); read before any test clears the settings' variables."""


class RunningApp:
    def __init__(self, env: dict, *, port: int | None = None, **settings_overrides):
        from dataclasses import replace

        from causerie.answering.service import ChatService
        from causerie.config.settings import load_settings
        from causerie.ui import Labels, build_demo, launch_options

        from support.scripted_server import _free_port

        # Votes and the kept secret go to the test run's own folder, not the home folder.
        env = {"CAUSERIE_DATA_DIR": DATA_DIR, "CAUSERIE_PATCHES": PATCHES, **env}
        settings = replace(load_settings(env), **settings_overrides)
        self.service = ChatService(settings)
        labels = Labels()
        self.demo = build_demo(self.service, labels=labels)
        self.port = port or _free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        options = launch_options(self.service, labels)
        self.demo.launch(server_name="127.0.0.1", server_port=self.port, prevent_thread_lock=True, quiet=True, **options)

    def client(self):
        from gradio_client import Client

        return Client(self.url, verbose=False)

    def close(self):
        self.demo.close()
        if self.service.local:
            self.service.local.stop()


@pytest.fixture(scope="module")
def app(_scripted):
    """The app, launched, with the OpenAI slot pointed at the scripted server."""
    running = RunningApp({"OPENAI_BASE_URL": _scripted.base_url})
    yield running
    running.close()


@pytest.fixture(scope="module")
def api(app):
    """One gradio_client for the module's app (each new Client fetches the app's config)."""
    return app.client()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A browser test that fails leaves a screenshot of every page it had open, in test-results/."""
    outcome = yield
    report = outcome.get_result()
    if report.when != "call" or not report.failed or "browser" not in item.keywords:
        return
    browser = item.funcargs.get("browser")
    pages = [page for context in browser.contexts for page in context.pages] if browser is not None else []
    SCREENSHOTS.mkdir(exist_ok=True)
    for number, page in enumerate(pages):
        path = SCREENSHOTS / f"{item.name.replace('/', '_')}-{number}.png"
        try:
            page.screenshot(path=str(path), full_page=True, timeout=5000)
            report.sections.append(("screenshot", str(path.relative_to(ROOT))))
        except Exception as exc:  # a page already closed or crashed: the report says so, no more
            report.sections.append(("screenshot", f"not taken: {type(exc).__name__}"))


SLOW_KINDS = ("browser", "local_model", "postgres", "cluster", "bench", "fresh_install")
"""Markers of the tests the fast loop leaves out (`python -m pytest -m "not slow"`): each such
test is marked slow too."""


def pytest_collection_modifyitems(config, items):
    """Browser tests need Debian's Chromium; off CI a missing one skips them with the fix. A test
    of what a patch does is skipped in a run whose apps apply none (CAUSERIE_PATCHES=off)."""
    for item in items:
        if any(kind in item.keywords for kind in SLOW_KINDS):
            item.add_marker(pytest.mark.slow)
    if PATCHES.strip().lower() in ("off", "none"):
        for item in items:
            if "patched" in item.keywords:
                item.add_marker(pytest.mark.skip(reason="checks what a patch does: CAUSERIE_PATCHES=off"))
    if Path("/usr/bin/chromium").exists() or os.environ.get("CI"):
        return
    skip = pytest.mark.skip(reason="Chromium not found: apt-get install chromium (CI installs it)")
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def postgres():
    """A PostgreSQL cluster of the tests' own (Debian's postgresql package; .ci/run installs it).
    Off CI, a machine without it skips these tests with the fix."""
    from support.postgres_server import PostgresServer, binaries

    if binaries() is None:
        if os.environ.get("CI"):
            raise RuntimeError("PostgreSQL is not installed: apt-get install postgresql (.ci/run does)")
        pytest.skip("PostgreSQL not found: apt-get install postgresql (CI installs it)")
    server = PostgresServer().start()
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request, tmp_path):
    """An empty database of each kind the store supports, as a person would write its URL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'causerie.db'}"
    server = request.getfixturevalue("postgres")
    return server.new_database(f"t_{os.urandom(6).hex()}")


PAGE_ASKED = "the page is asked for it"
"""What ChatHandlers.submit logs when a question's mark is not that of the copy it keeps."""


@pytest.fixture
def asked(caplog):
    """What the app logs, for times_asked (a test that makes the server forget a page's chat)."""
    caplog.set_level(logging.INFO, logger="causerie.ui.chat")
    return caplog


def times_asked(caplog) -> int:
    """The times a page was asked for its chat during the test, as the app logs them."""
    return sum(PAGE_ASKED in record.getMessage() for record in caplog.get_records("call"))


@pytest.fixture(autouse=True)
def page_never_asked_for_its_chat(request):
    """In a real browser, a question's mark of the page's chat always matches the server's copy
    (every way the page's chat changes keeps it in step), unless the test counts the times itself
    (`asked`)."""
    if request.node.get_closest_marker("browser") is None or "asked" in request.fixturenames:
        yield
        return
    caplog = request.getfixturevalue("asked")
    yield
    assert times_asked(caplog) == 0, "a page was asked for its chat"


def chat_requests(scripted) -> list[dict]:
    """The chat requests the scripted provider has had, in order."""
    return [r for r in scripted.requests if r["path"] == "/v1/chat/completions"]


def stored(page) -> str | None:
    """What the browser keeps of its conversations (sealed entries, and an earlier version's
    single value), as READ_STORE_JS sends it; None when it keeps none."""
    import json

    from causerie.ui.browser_state import READ_STORE_JS

    held = page.evaluate(f"({READ_STORE_JS})()")
    parsed = json.loads(held)
    return held if parsed["entries"] or parsed["legacy"] else None


def settled(page, quiet_s: float = 1.0) -> None:
    """Wait until what the browser keeps is there and has stopped changing for `quiet_s` (the save
    after an answer, or after the bin, has reached it: it follows within a fraction of a second)."""
    import time

    deadline = time.monotonic() + 15
    last, since = stored(page), time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.1)
        now = stored(page)
        if now != last:
            last, since = now, time.monotonic()
        elif last and time.monotonic() - since >= quiet_s:
            return


def send(page, text: str) -> None:
    """Type a question and send it, once the previous answer has fully ended (until then Enter
    sends nothing)."""
    from playwright.sync_api import expect

    expect(page.locator("#chat-input .stop-button")).to_have_count(0, timeout=10000)
    box = page.locator("#chat-input textarea")
    box.fill(text)
    box.press("Enter")


def open_accordion(page, opener) -> None:
    """Click an accordion open, then let Gradio draw what it holds: one frame after an accordion
    first opens, Gradio writes its boxes' last server values back into them, over anything typed
    sooner."""
    opener.click()
    page.evaluate("() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))")
