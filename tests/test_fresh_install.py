"""The runtime stands on its own: requirements.txt alone, in a new virtual environment (no test
package, which once hid a missing greenlet), starts the app signed-in on SQLite and uses the store,
the votes, the leaderboard, the Responses path and the MCP server (scripts/fresh_install_check.py does the using).

Slow (a few minutes: pip installs Gradio and the rest, from its cache when it has one), so marked
`fresh_install`: the fast loop leaves it out, the README's test command and CI run it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from support.scripted_server import Reply, text_stream

pytestmark = [pytest.mark.fresh_install, pytest.mark.timeout(900)]
ROOT = Path(__file__).resolve().parent.parent


def test_requirements_txt_alone_runs_the_app(tmp_path, scripted):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    installed = subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", "-r", str(ROOT / "requirements.txt")],
        capture_output=True,
        text=True,
        timeout=780,
    )
    assert installed.returncode == 0, installed.stderr[-3000:]
    scripted.queue(
        Reply(chunks=text_stream("Bonjour !")),
        Reply.responses_fixture("xai-responses-web-search"),
        Reply(chunks=text_stream("Bonjour par MCP !")),
    )
    checked = subprocess.run(
        [str(python), str(ROOT / "scripts" / "fresh_install_check.py"), scripted.base_url],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr[-3000:]
    assert checked.stdout.count("ok: ") == 7, checked.stdout
