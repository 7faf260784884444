"""Two Causerie processes behind nginx (deploy/nginx.conf), sharing one PostgreSQL: 100 people at
once are all answered, spread over both; one process killed mid-answer: its people's answers end
with an error at once, the others finish untouched, and its people go on, on the other process,
once they reload. Votes recorded anywhere show in both processes' leaderboards."""

from __future__ import annotations

import asyncio
import functools
import os

import httpx
import pytest

from causerie.compare.rating import Vote
from causerie.compare.votes import BallotBox
from causerie.config.store_urls import async_url

from support.apps import run_async
from support.bench import Cluster, at_once, browsers, nginx_binary, page_plan, running

pytestmark = pytest.mark.cluster


PEOPLE = 100


@pytest.fixture
def cluster(postgres, tmp_path):
    if nginx_binary() is None:
        if os.environ.get("CI"):
            raise RuntimeError("nginx is not installed: apt-get install nginx (.ci/run does)")
        pytest.skip("nginx not found: apt-get install nginx (CI installs it)")
    database = postgres.new_database(f"t_{os.urandom(6).hex()}")
    # Answers of 3 s (60 tokens at 20 a second): long enough to kill a process in the middle.
    with running(tokens=60, rate=20, ttft=0.1) as paced_url:
        running_cluster = Cluster(
            {
                "OPENAI_BASE_URL": paced_url,
                "DEFAULT_PROVIDER": "openai",
                "DEFAULT_MODEL": "paced",
                "DATABASE_URL": database,
                "HISTORY_SECRET": "s" * 32,
                "CAUSERIE_DATA_DIR": str(tmp_path),
                "GRADIO_TEMP_DIR": str(tmp_path / "uploads"),
            }
        )
        try:
            yield running_cluster, database
        finally:
            running_cluster.stop()


async def _people(cluster: Cluster, clients: list[httpx.AsyncClient], kill_when_all_answering: bool = False) -> list:
    """People, each with its own cookies (`clients`), open the page, then ask at once. With
    `kill_when_all_answering`, the first process is killed once every answer has begun."""
    plan = await page_plan(cluster.url)
    kill = functools.partial(cluster.kill, 0) if kill_when_all_answering else None
    return await asyncio.wait_for(at_once(plan, clients, when_answering=kill), 60)


def test_a_hundred_people_are_all_answered_across_both_processes(cluster):
    running_cluster, _ = cluster

    async def go():
        async with browsers(PEOPLE) as clients:
            return await _people(running_cluster, clients)

    visits = run_async(go())
    assert [v.error for v in visits if v.error] == []
    assert all(v.completed and v.tokens == 60 for v in visits)
    served = {v.backend for v in visits}
    assert served == {f"127.0.0.1:{port}" for port in running_cluster.backends}  # both took some


def test_a_killed_process_fails_its_people_clearly_and_leaves_the_others_untouched(cluster):
    running_cluster, _ = cluster
    killed = f"127.0.0.1:{running_cluster.backends[0]}"

    async def go():
        async with browsers(PEOPLE) as clients:
            visits = await _people(running_cluster, clients, kill_when_all_answering=True)
            # The same people (the same cookies) open the page again and ask again.
            theirs = [client for client, v in zip(clients, visits, strict=True) if v.backend == killed]
            return visits, await _people(running_cluster, theirs)

    visits, again = run_async(go())
    theirs = [v for v in visits if v.backend == killed]
    others = [v for v in visits if v.backend != killed]
    assert theirs and others
    assert all(v.completed and v.tokens == 60 and v.error is None for v in others)
    # Cut off mid-answer, told so (the stream ends without the answer), not left waiting.
    assert all(not v.completed and v.error and 0 < v.tokens < 60 for v in theirs), [
        (v.completed, v.error, v.tokens) for v in theirs
    ][:5]
    # Reloading, they are answered by the process still running.
    assert all(v.completed and v.tokens == 60 and v.backend != killed for v in again)


def test_votes_are_shared_by_the_processes_through_postgresql(cluster):
    running_cluster, database = cluster

    async def record():
        box = BallotBox(async_url(database))
        try:
            await box.record(Vote("q1", ("openai:paced", "xai:grok-4.3"), "1", preset="science"))
        finally:
            await box.close()

    run_async(record())
    from gradio_client import Client

    for port in running_cluster.backends:
        board = Client(f"http://127.0.0.1:{port}/", verbose=False).predict(api_name="/leaderboard")
        assert [row["model"] for row in board] == ["xai:grok-4.3", "openai:paced"]
