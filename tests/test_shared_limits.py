"""RATE_LIMIT_PER_MINUTE and TOKENS_PER_HOUR counted once for every process (shared_limits.py):
two limiters sharing one ledger stand for two processes; then two real processes on PostgreSQL."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from causerie.answering.budgets import MemoryLedger
from causerie.answering.limits import RateLimiter, Visitor
from causerie.answering.shared_limits import SharedLimits

from support.apps import run_async
from support.keys import SERVER_KEY
from support.scripted_server import Reply, text_stream

NOON = 1_796_644_800.0  # 2026-12-07 12:00 UTC


def processes(per_minute: int, tokens_per_hour: int, ledger) -> list[RateLimiter]:
    made = []
    for _ in range(2):
        limiter = RateLimiter(per_minute, tokens_per_hour)
        limiter.shared = SharedLimits(per_minute, tokens_per_hour, ledger, clock=lambda: NOON)
        made.append(limiter)
    return made


def test_questions_are_counted_once_for_every_process():
    a, b = processes(3, 0, MemoryLedger())
    visitor = Visitor(session="s", ip="198.51.100.1")

    async def go():
        results = [await limiter.admit_everywhere(visitor, owner_pays=True) for limiter in (a, b, a, b)]
        return results

    results = run_async(go())
    assert results[:3] == [None, None, None]
    refused = results[3]
    assert refused.params["why"] == "rate" and refused.params["seconds"] == 60 and "RATE_LIMIT_PER_MINUTE" in refused.message


def test_tokens_are_reserved_for_every_process_and_settled():
    ledger = MemoryLedger()
    a, b = processes(0, 1000, ledger)
    visitor = Visitor(session="s")

    async def go():
        first = await a.admit_everywhere(visitor, owner_pays=True, reserve=600)
        refused = await b.admit_everywhere(visitor, owner_pays=True, reserve=600)
        a.settle(visitor, 600, 100)  # it cost less: the rest comes back, for both
        await a.shared.settled()
        again = await b.admit_everywhere(visitor, owner_pays=True, reserve=600)
        visitors_own = await b.admit_everywhere(visitor, owner_pays=False, reserve=10_000)
        return first, refused, again, visitors_own

    first, refused, again, own = run_async(go())
    assert first is None and refused.params["why"] == "tokens" and again is None and own is None


def test_a_failing_ledger_leaves_each_process_counting_its_own(caplog):
    class Down(MemoryLedger):
        async def take(self, *args):
            raise OSError("down")

    a, _ = processes(2, 0, Down())
    visitor = Visitor(session="s")
    results = run_async(_three(a, visitor))
    assert results[:2] == [None, None] and results[2].params["why"] == "rate"
    assert "each process counts its own" in caplog.text


async def _three(limiter, visitor):
    return [await limiter.admit_everywhere(visitor, owner_pays=True) for _ in range(3)]


@pytest.mark.postgres
def test_two_processes_hold_one_rate_limit_through_postgresql(scripted, postgres, tmp_path):
    """One address asking 25 questions at once in each of two processes, with
    RATE_LIMIT_PER_MINUTE=5: five are answered in all, not five in each."""
    url = postgres.new_database(f"t_{tmp_path.name[-20:].replace('-', '_')}")
    hold = threading.Event()
    for _ in range(50):
        scripted.queue(Reply(chunks=text_stream("Hello"), hold=hold))
    worker = Path(__file__).parent / "support" / "budget_worker.py"
    env = {
        "OPENAI_API_KEY": SERVER_KEY,
        "OPENAI_BASE_URL": scripted.base_url,
        "RATE_LIMIT_PER_MINUTE": "5",
        "DATABASE_URL": url,
        "CAUSERIE_DATA_DIR": str(tmp_path),
    }
    if time.time() % 60 > 50:  # (the two processes' questions in one minute's window)
        time.sleep(61 - time.time() % 60)
    running = [
        subprocess.Popen([sys.executable, str(worker), json.dumps(env), str(n), "one-address"], stdout=subprocess.PIPE, text=True)
        for n in range(2)
    ]
    scripted.wait_until_all_held()  # (every admitted answer at the provider, and no more coming)
    hold.set()
    outcomes = [json.loads(p.communicate(timeout=60)[0]) for p in running]
    assert all(o["shared"] and not o["other"] for o in outcomes), outcomes
    assert sum(o["finished"] for o in outcomes) == 5 and sum(o["refused"] for o in outcomes) == 45, outcomes
