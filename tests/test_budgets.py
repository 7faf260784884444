"""Dollar budgets (DOLLARS_PER_DAY_PER_VISITOR, DOLLARS_PER_DAY) over the owner's keys: reserved at
an answer's start, settled on its cost, refused with words that name the budget, what was spent and
when it starts again; shared by processes through PostgreSQL. Against the scripted server over
real HTTP, with the budgets' clock under the test's control."""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import json
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import pytest

from causerie.answering.budgets import DollarBudgets, MemoryLedger, budget_day
from causerie.answering.limits import Visitor
from causerie.answering.options import ChatOptions
from causerie.answering.service import ChatService
from causerie.config.public_settings import PublicSettings
from causerie.config.settings import SettingsError, load_settings
from causerie.config.store_urls import async_url
from causerie.events import Failure, Finish
from causerie.history.store import budget_store
from causerie.history.store.budget_store import KEEP_DAYS, StoreLedger

from support.apps import run_async
from support.keys import SERVER_KEY, VISITOR_KEY
from support.scripted_server import Reply, text_stream

NOON = datetime.datetime(2026, 12, 7, 12, 0, tzinfo=datetime.UTC).timestamp()
MODEL = ChatOptions("openai", "gpt-4o-mini")  # $0.15 in, $0.60 out, per million tokens (models.yaml)
USAGE = {"prompt_tokens": 100, "completion_tokens": 900, "total_tokens": 1000}
COST = (100 * 0.15 + 900 * 0.60) / 1e6  # what each answer below costs


def service_for(scripted, **env: str) -> ChatService:
    env = {"OPENAI_API_KEY": SERVER_KEY, "OPENAI_BASE_URL": scripted.base_url, "MAX_TOKENS_CAP": "1000", **env}
    service = ChatService(load_settings(env))
    service.budgets.clock = lambda: NOON
    return service


def ask(service: ChatService, visitor: Visitor, options: ChatOptions = MODEL, question: str = "Hi") -> list:
    async def go():
        try:
            events = [e async for e in service.stream_answer(options, [{"role": "user", "content": question}], visitor)]
            await service.budgets.settled()
            return events
        finally:
            await service.aclose()

    return run_async(go())


def priced_reply() -> Reply:
    return Reply(chunks=text_stream("Hello", " there", usage=USAGE))


def test_a_visitor_budget_is_reserved_settled_and_refused_with_what_was_spent_and_when_it_resets(scripted):
    service = service_for(scripted, DOLLARS_PER_DAY_PER_VISITOR=str(COST * 2.5))
    scripted.default = priced_reply()
    visitor = Visitor(session="a", ip="203.0.113.1")
    assert type(ask(service, visitor)[-1]) is Finish
    assert type(ask(service, visitor)[-1]) is Finish
    refused = ask(service, visitor)[-1]
    # The third would fit what is left at its cost, not at its most (its cap at list price).
    assert refused.kind == "limited" and refused.params["why"] == "budget"
    assert "DOLLARS_PER_DAY_PER_VISITOR" in refused.message and f"${COST * 2:.4f}" in refused.message
    assert "00:00 UTC, in 12 h 0 min" in refused.message
    assert "DOLLARS_PER_DAY_PER_VISITOR" in refused.said_in("fr") and "00:00 UTC" in refused.said_in("fr")
    assert len([r for r in scripted.requests if r["path"] == "/v1/chat/completions"]) == 2
    left = run_async(service.budgets.left(visitor))
    assert left[0] == pytest.approx(COST * 2) and left[1] == pytest.approx(COST * 2.5)
    # Another visitor has their own; the same one after the day's turn has theirs again.
    assert type(ask(service, Visitor(session="b", ip="203.0.113.2"))[-1]) is Finish
    service.budgets.clock = lambda: NOON + 12 * 3600 + 1
    assert type(ask(service, visitor)[-1]) is Finish
    # A visitor's own key is theirs to spend.
    service.budgets.clock = lambda: NOON
    own = replace(MODEL, api_key=VISITOR_KEY)
    assert type(ask(service, visitor, own)[-1]) is Finish


def test_the_whole_apps_budget_and_a_question_larger_than_any_budget(scripted):
    service = service_for(scripted, DOLLARS_PER_DAY=str(COST * 1.5), BUDGET_RESET_HOUR="6")
    scripted.default = priced_reply()
    assert type(ask(service, Visitor(session="a"))[-1]) is Finish
    refused = ask(service, Visitor(session="b"))[-1]
    assert refused.params["why"] == "budget_app" and "DOLLARS_PER_DAY)" in refused.message
    assert "06:00 UTC, in 18 h 0 min" in refused.message
    tiny = service_for(scripted, DOLLARS_PER_DAY_PER_VISITOR="0.0001")
    (one,) = ask(tiny, Visitor(session="c"))
    assert one.params["why"] == "budget_one" and "Max tokens" in one.message


def test_answers_started_together_cannot_overrun_the_budget(scripted):
    """Twenty answers at once, held until all have started: only as many as their most cost fits
    are admitted, and what they cost stays within the budget."""
    service = service_for(scripted, DOLLARS_PER_DAY=str(COST * 4))
    hold = threading.Event()
    for _ in range(20):
        scripted.queue(Reply(chunks=text_stream("Hello", usage=USAGE), hold=hold))

    async def together():
        async def one(n):
            return [e async for e in service.stream_answer(MODEL, [{"role": "user", "content": "Hi"}], Visitor(session=f"s{n}"))]

        tasks = [asyncio.create_task(one(n)) for n in range(20)]
        while scripted.held < sum(1 for t in tasks if not t.done()) and not all(t.done() for t in tasks):
            await asyncio.sleep(0.02)
        hold.set()
        results = await asyncio.gather(*tasks)
        await service.budgets.settled()
        return results

    results = run_async(together())
    finished = [r for r in results if type(r[-1]) is Finish]
    refused = [r for r in results if type(r[-1]) is Failure]
    most = (2 * 0.15 + 1000 * 0.60) / 1e6  # "Hi" (two bytes: two tokens at most) and the cap
    assert len(finished) == int(COST * 4 // most) and len(refused) == 20 - len(finished)
    spent = run_async(service.budgets.local.spent(budget_day(NOON)[0], "app"))
    assert spent == pytest.approx(len(finished) * COST) and spent <= COST * 4


def test_a_model_without_a_price_cannot_be_held_by_a_budget(scripted):
    service = service_for(scripted, DOLLARS_PER_DAY="1")
    (refused,) = ask(service, Visitor(session="a"), ChatOptions("openai", "model-without-a-price"))
    assert refused.params["why"] == "budget_unpriced" and "models.yaml" in refused.message


def test_a_stopped_answer_is_settled_on_what_it_wrote(scripted):
    service = service_for(scripted, DOLLARS_PER_DAY="1")
    scripted.queue(Reply(chunks=text_stream("x" * 400, "more"), delay=2.0))

    async def stopped():
        events = service.stream_answer(MODEL, [{"role": "user", "content": "Hi"}], Visitor(session="a"))
        async for event in events:
            if type(event).__name__ == "TextDelta":
                break
        await events.aclose()
        await service.budgets.settled()

    run_async(stopped())
    spent = run_async(service.budgets.local.spent(budget_day(NOON)[0], "app"))
    assert 0 < spent < (1000 * 0.6) / 1e6  # its 100 tokens or so, not its reservation


def test_budget_days_begin_at_the_reset_hour():
    assert budget_day(NOON) == ("2026-12-07", datetime.datetime(2026, 12, 8, tzinfo=datetime.UTC).timestamp())
    early = datetime.datetime(2026, 12, 7, 5, 59, tzinfo=datetime.UTC).timestamp()
    assert budget_day(early, 6)[0] == "2026-12-06"
    assert budget_day(early + 60, 6)[0] == "2026-12-07"


def test_a_reservation_is_all_or_nothing():
    budgets = DollarBudgets(
        PublicSettings(dollars_per_day_per_visitor=1.0, dollars_per_day=1.5), MemoryLedger(), clock=lambda: NOON
    )
    a, b = Visitor(session="a", ip="1.1.1.1"), Visitor(session="b", ip="1.1.1.1")  # one address
    assert type(run_async(budgets.reserve(a, 0.8))).__name__ == "Reservation"
    refused = run_async(budgets.reserve(b, 0.3))  # b's session has room, the shared address not
    assert refused.params["why"] == "budget" and refused.params["spent"] == pytest.approx(0.8)
    assert run_async(budgets.local.spent(budget_day(NOON)[0], "session:b")) == 0  # nothing taken


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"DOLLARS_PER_DAY": "5"}, "MAX_TOKENS_CAP"),
        ({"BUDGET_RESET_HOUR": "24"}, "BUDGET_RESET_HOUR"),
        ({"DOLLARS_PER_DAY": "x"}, "DOLLARS_PER_DAY"),
    ],
)
def test_budget_settings_are_checked_at_start(env, named):
    with pytest.raises(SettingsError, match=named):
        load_settings(env)


@pytest.mark.postgres
def test_two_processes_share_one_budget_through_postgresql(scripted, postgres, tmp_path):
    """Two processes, 25 visitors each at once, against one app budget in PostgreSQL: no more
    answers start than the budget holds at their most cost, and what they cost stays within it."""
    url = postgres.new_database(f"t_{tmp_path.name[-20:].replace('-', '_')}")
    budget = COST * 6
    hold = threading.Event()
    for _ in range(50):
        scripted.queue(Reply(chunks=text_stream("Hello", usage=USAGE), hold=hold))
    worker = Path(__file__).parent / "support" / "budget_worker.py"
    env_json = json.dumps(
        {
            "OPENAI_API_KEY": SERVER_KEY,
            "OPENAI_BASE_URL": scripted.base_url,
            "MAX_TOKENS_CAP": "1000",
            "DOLLARS_PER_DAY": str(budget),
            "DATABASE_URL": url,
            "CAUSERIE_DATA_DIR": str(tmp_path),
        }
    )
    processes = [
        subprocess.Popen([sys.executable, str(worker), env_json, str(n)], stdout=subprocess.PIPE, text=True) for n in range(2)
    ]
    scripted.wait_until_all_held()  # (every admitted answer at the provider, and no more coming)
    hold.set()
    outcomes = [json.loads(p.communicate(timeout=60)[0]) for p in processes]
    assert all(o["shared"] and not o["other"] for o in outcomes), outcomes
    finished = sum(o["finished"] for o in outcomes)
    most = (2 * 0.15 + 1000 * 0.60) / 1e6
    assert sum(o["finished"] + o["refused"] for o in outcomes) == 50
    assert finished == int(budget // most), outcomes
    ledger = StoreLedger(async_url(url))

    async def spent():
        try:
            return await ledger.spent(outcomes[0]["day"], "app")
        finally:
            await ledger.close()

    assert run_async(spent()) == pytest.approx(finished * COST)


def test_pictures_are_held_by_the_budget_at_their_price(pictures, tmp_path):
    from causerie.answering.options import PictureOptions

    env = {"XAI_API_KEY": SERVER_KEY, "XAI_BASE_URL": pictures.base_url, "MAX_TOKENS_CAP": "1000"}
    service = ChatService(replace(load_settings({**env, "DOLLARS_PER_DAY_PER_VISITOR": "0.05"}), upload_dir=tmp_path))
    service.budgets.clock = lambda: NOON
    visitor = Visitor(session="p")
    two = ChatOptions("xai", "grok-4.3", pictures=PictureOptions(2))
    assert type(ask(service, visitor, two, "/image a red square")[-1]) is Finish  # $0.04, billed
    refused = ask(service, visitor, ChatOptions("xai", "grok-4.3"), "/image one more")[-1]
    assert refused.params["why"] == "budget" and "$0.04" in refused.message
    assert len([r for r in pictures.requests if r["path"].startswith("/v1/images/")]) == 1


def test_a_ledger_that_fails_refuses_the_owners_answers_until_it_answers(scripted, caplog):
    """Found in review: a failed shared ledger was replaced by a fresh one in each process (a
    fresh budget each). Now the owner's answers are refused, said so, and a visitor's own key
    still answers."""
    service = service_for(scripted, DOLLARS_PER_DAY="1")
    service.budgets.shared = StoreLedger("postgresql+asyncpg://causerie@127.0.0.1:9/nothing", timeout=1.0)
    scripted.default = priced_reply()
    refused = ask(service, Visitor(session="a"))[-1]
    assert refused.params["why"] == "budget_down" and "database" in refused.message and "minute" in refused.said_in("en")
    assert "answers on your keys wait for it" in caplog.text
    again = ask(service, Visitor(session="b"))[-1]  # (not asked again at once: refused quickly)
    assert again.params["why"] == "budget_down"
    assert type(ask(service, Visitor(session="c"), replace(MODEL, api_key=VISITOR_KEY))[-1]) is Finish


def test_a_stop_before_the_first_word_still_costs_the_prompt(scripted):
    """Found in review: an answer stopped before any word (or usage) was settled at $0, while the
    provider billed its prompt: a long prompt stopped at once cost the budget nothing."""
    service = service_for(scripted, DOLLARS_PER_DAY="1")
    scripted.queue(Reply(chunks=text_stream("late"), first_delay=3.0))

    async def stopped():
        task = asyncio.create_task(_drain(service, "x" * 40_000))
        await asyncio.sleep(0.5)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await service.budgets.settled()
        await service.aclose()

    run_async(stopped())
    spent = run_async(service.budgets.local.spent(budget_day(NOON)[0], "app"))
    assert spent == pytest.approx(10_000 * 0.15 / 1e6, rel=0.01)  # its 10,000 prompt tokens, at list price


async def _drain(service, question):
    async for _ in service.stream_answer(MODEL, [{"role": "user", "content": question}], Visitor(session="z")):
        pass


def test_a_prompt_is_reserved_at_a_token_a_byte():
    """Found in review: two characters a token is no bound for every text (CJK, crafted Unicode)."""
    from causerie.answering.budgets import most_prompt_tokens

    assert most_prompt_tokens([{"role": "user", "content": "日本語"}], None) == 9
    assert most_prompt_tokens([{"role": "user", "content": "x" * 500}], 128) == 128
    image = [{"type": "text", "text": "hi"}, {"type": "image_url", "image_url": {"url": "data:..."}}]
    assert most_prompt_tokens([{"role": "user", "content": image}], None) == 2 + 4000


@pytest.mark.browser
def test_a_visitor_sees_what_is_left_of_their_budget(scripted, page):
    from playwright.sync_api import expect

    from support.apps import RunningApp
    from support.browsers import open_settings, send

    scripted.default = priced_reply()
    running = RunningApp(
        {
            "OPENAI_API_KEY": SERVER_KEY,
            "OPENAI_BASE_URL": scripted.base_url,
            "MAX_TOKENS_CAP": "1000",
            "DOLLARS_PER_DAY_PER_VISITOR": "0.50",
            "DEFAULT_MODEL": "gpt-4o-mini",
        }
    )
    try:
        page.goto(running.url)
        page.wait_for_selector("#chat-input textarea")
        send(page, "Hi")
        expect(page.locator("#chatbot")).to_contain_text("Hello there", timeout=10000)
        open_settings(page)
        expect(page.locator("#session-totals")).to_contain_text(f"Today: ${COST:.4f} of your $0.50 spent on this server's keys")
    finally:
        running.close()


@pytest.mark.postgres
def test_old_budget_days_are_deleted_from_the_first_answer_on(postgres, monkeypatch):
    # The monotonic clock starts near 0 at boot: on a machine up for less than an hour, the first
    # clean-up used to wait an hour. Pinned young here, whatever this machine's uptime. (The ledger
    # is PostgreSQL's alone: budget_ledger.shared_ledger.)
    monkeypatch.setattr(budget_store, "time", SimpleNamespace(monotonic=lambda: 5.0, time=time.time))
    ledger = StoreLedger(async_url(postgres.new_database("t_budget_days")))
    today = datetime.datetime.now(datetime.UTC).date()
    old, now = (today - datetime.timedelta(days=KEEP_DAYS + 2)).isoformat(), today.isoformat()

    async def go():
        try:
            await ledger.add(old, ["app"], 1.0)
            assert await ledger.spent(old, "app") == 1.0
            assert await ledger.take(now, [("app", 10.0)], 0.5) is None
            return await ledger.spent(old, "app"), await ledger.spent(now, "app")
        finally:
            await ledger.close()

    assert run_async(go()) == (0.0, 0.5)
