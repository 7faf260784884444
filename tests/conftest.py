from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

import pytest

# tests/ on the path, for `support`; the project's folder, for `causerie`.
sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parents[1])]

import causerie.ui  # noqa: E402,F401  (first: Gradio is imported as the app imports it, without rewriting its stubs)
from causerie.config.settings import setting_names  # noqa: E402

from support.apps import PATCHES, ROOT, RunningApp, times_asked  # noqa: E402
from support.browsers import CHROMIUM_ARGS  # noqa: E402
from support.history_pages import start_app  # noqa: E402
from support.scripted_server import ScriptedServer  # noqa: E402

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


@pytest.fixture(scope="session")
def _pictures():
    from support.picture_server import PictureServer

    server = PictureServer().start()
    yield server
    server.stop()


@pytest.fixture
def pictures(_pictures):
    """The fake picture provider (support/picture_server.py), in xAI's shape, as new."""
    _pictures.reset("xai")
    return _pictures


@pytest.fixture(scope="session")
def _speech():
    from support.speech_server import SpeechServer

    server = SpeechServer().start()
    yield server
    server.stop()


@pytest.fixture
def speech(_speech):
    """The fake speech provider (support/speech_server.py), in xAI's shape, as new."""
    _speech.reset("xai")
    return _speech


@pytest.fixture(scope="session")
def _tools_server(tmp_path_factory):
    from support.mcp_tools_server import McpToolsServer

    server = McpToolsServer(tmp_path_factory.mktemp("mcp") / "calls.jsonl").start()
    yield server
    server.kill()


@pytest.fixture
def tools_server(_tools_server):
    """A real MCP server (support/mcp_tools_server.py), its record of calls emptied."""
    _tools_server.clear()
    return _tools_server


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": "/usr/bin/chromium", "args": CHROMIUM_ARGS}


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


@pytest.fixture
def history_app(scripted, tmp_path):
    running = start_app(scripted, tmp_path)
    yield running
    running.close()


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


@pytest.fixture
def asked(caplog):
    """What the app logs, for times_asked (a test that makes the server forget a page's chat)."""
    caplog.set_level(logging.INFO, logger="causerie.ui.chat")
    return caplog


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
