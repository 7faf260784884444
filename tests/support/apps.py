"""The app, launched for a test in this process (RunningApp), a ChatService on the scripted server,
and what a test needs to run coroutines beside Playwright and count what the app logs."""

from __future__ import annotations

import asyncio
import os
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
"""The project's folder (app.py, causerie/, bench/, tests/)."""


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


PAGE_ASKED = "the page is asked for it"
"""What ChatHandlers.submit logs when a question's mark is not that of the copy it keeps."""


def times_asked(caplog) -> int:
    """The times a page was asked for its chat during the test, as the app logs them."""
    return sum(PAGE_ASKED in record.getMessage() for record in caplog.get_records("call"))
