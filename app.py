"""Causerie: `python app.py` runs the chat; Spaces, hot reload and tests import `demo`."""

from __future__ import annotations

import gc
import logging
import signal
import sys

from causerie.answering.service import ChatService
from causerie.config.settings import SettingsError, load_settings
from causerie.history.budget_ledger import shared_ledger
from causerie.ui import Labels, build_demo, launch_options

logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
# Each request's address (httpx: an MCP server's, with whatever its query holds) and the MCP SDK's
# session notes are not this app's to log.
for name in ("httpx", "mcp"):
    logging.getLogger(name).setLevel(logging.WARNING)

try:
    settings = load_settings()
    service = ChatService(settings, ledger=shared_ledger(settings))
except SettingsError as exc:
    sys.exit(f"Causerie cannot start: {exc}")

logging.getLogger("causerie").info(service.settings.public.summary())
labels = Labels()
demo = build_demo(service, labels=labels)
gc.freeze()  # start-up objects (Gradio's, the app's) are never garbage: later collections skip them

if __name__ == "__main__":
    # SIGTERM (a Space stopping, `kill`) exits through atexit, which stops the local model server.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    demo.launch(**launch_options(service, labels))
