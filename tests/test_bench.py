"""The benchmark's own parts still work: the paced server's stream and the load generator."""

from __future__ import annotations

import subprocess
import sys

import httpx
import pytest

from support.apps import ROOT, run_async
from support.bench import direct_user, run_users, running


def test_paced_server_streams_every_token_at_its_pace():
    with running(tokens=20, rate=100, ttft=0.05) as base_url:

        async def go():
            async with httpx.AsyncClient() as http:
                return await run_users("limit", 3, lambda ready: direct_user(http, base_url, ready))

        summary = run_async(go()).summary()
    assert summary["tokens"] == 60 and summary["error_count"] == 0
    assert 0.05 <= summary["ttft_p50"] < summary["total_p50"]
    assert summary["total_p50"] >= 0.05 + 19 / 100


@pytest.mark.bench
def test_wire_comparison_reads_every_stream_with_every_reader():
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "wire.py"), "--users", "3", "--rounds", "1", "--tokens", "5"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    rows = [line for line in done.stdout.splitlines() if line.startswith("| ") and "reader" not in line]
    assert [row.split("|")[1].strip().split(" ")[0] for row in rows] == ["Causerie's", "Causerie's", "httpx", "openai"]


@pytest.mark.bench
def test_burst_profile_profiles_the_app_and_reports_by_package():
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "burst_profile.py"), "--users", "3", "--window", "0.5", "--top", "5"],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "3 users: TTFT p50" in done.stdout and "tokens 600, errors 0" in done.stdout
    assert "Own time by package" in done.stdout and "%" in done.stdout
