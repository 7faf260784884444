"""The owner's cockpit: answer records kept (no text, no name, no address), their report, its total
equal to the sum of the costs the answers' footers showed, and the page at /admin for the people
of ADMIN_USERS only (refused to anyone else, on the page and by a direct call)."""

from __future__ import annotations

import csv
import io
import time
from dataclasses import replace
from types import SimpleNamespace

import gradio as gr
import pytest

from causerie.answering.answer import Answer
from causerie.answering.footer import footer_text
from causerie.answering.limits import Visitor
from causerie.answering.options import ChatOptions
from causerie.answering.service import ChatService
from causerie.cockpit.report import as_csv, percentile, report
from causerie.config.settings import SettingsError, load_settings
from causerie.config.store_urls import async_url
from causerie.history.store import usage_store
from causerie.history.store.usage_store import UsageStore
from causerie.ui.cockpit_page import _shower

from support.apps import run_async
from support.keys import SERVER_KEY, VISITOR_KEY
from support.scripted_server import Reply, text_stream

ADMIN_ENV = {"AUTH_USERS": "alice:alice-password-1,bob:bob-password-12", "ADMIN_USERS": "alice", "HISTORY_SECRET": "s" * 32}


def row(**fields) -> dict:
    base = {
        "at": 1_765_000_000.0,
        "provider": "xai",
        "model": "grok-4.3",
        "key": "server",
        "owner_pays": True,
        "visitor": "abc",
        "status": "ok",
        "why": None,
        "ttft_s": 0.5,
        "total_s": 2.0,
        "prompt_tokens": 100,
        "completion_tokens": 50,
        "cached_tokens": 40,
        "cost_usd": 0.01,
        "cost_source": "provider",
        "tools": "",
        "pictures": 0,
    }
    return {**base, **fields}


def test_the_report_counts_the_owners_money_by_day_provider_model_tool_and_visitor():
    rows = [
        row(),
        row(model="grok-4.5", cost_usd=0.03, tools="web:2 x:1", visitor="def", ttft_s=1.5),
        row(provider="openai", model="gpt-4o-mini", key="visitor", owner_pays=False, cost_usd=0.5),  # not the owner's
        row(status="limited", why="budget", cost_usd=None, ttft_s=None, prompt_tokens=None),
        row(status="rate_limited", cost_usd=None, ttft_s=None, at=1_765_000_000.0 + 86400),
        row(model="grok-imagine-image", cost_usd=0.04, pictures=2, prompt_tokens=None, ttft_s=3.0),
    ]
    made = report(rows)
    assert made.answers == 6 and made.spent == pytest.approx(0.08)
    assert made.by_model["xai:grok-4.5"] == [0.03, 1] and made.by_provider["xai"][0] == pytest.approx(0.08)
    assert dict(made.tools) == {"web": 2, "x": 1, "pictures": 2}
    assert made.errors == {"limited.budget": 1, "rate_limited": 1} and made.budget_refusals == 1
    assert made.ttft_p(0.5) == 0.5 and made.ttft_p(0.95) == 3.0 and percentile([], 0.5) is None  # (nearest rank)
    assert made.cache_share == pytest.approx(160 / 400)
    assert set(made.by_day) == {"2025-12-06", "2025-12-07"} and made.by_visitor["def"][0] == 0.03
    lines = list(csv.DictReader(io.StringIO(as_csv(rows))))
    assert len(lines) == 6 and lines[0]["time_utc"] == "2025-12-06T05:46:40+00:00" and "question" not in lines[0]


def test_records_are_written_in_batches_read_by_period_and_expire(database_url, monkeypatch):
    # On a machine up for less than an hour (CI's), the monotonic clock reads under an hour too: the
    # first clean-up was put off by an hour there. Pinned young here, whatever this machine's uptime.
    monkeypatch.setattr(usage_store, "time", SimpleNamespace(monotonic=lambda: 5.0, time=time.time))
    store = UsageStore(async_url(database_url), keep_days=2)

    async def go():
        try:
            now = time.time()
            for at in (now - 3 * 86400, now - 3600, now - 60):  # the first past USAGE_KEEP_DAYS
                store.add(row(at=at))
            assert store._waiting  # (nothing written yet: a batch, off the answer's path)
            kept = await store.rows(now - 7 * 86400)
            recent = await store.rows(now - 600)
            return kept, recent
        finally:
            await store.close()

    kept, recent = run_async(go())
    assert len(kept) == 2 and all(r["at"] > time.time() - 2 * 86400 for r in kept)
    assert len(recent) == 1 and recent[0]["model"] == "grok-4.3" and recent[0]["visitor"] == "abc"


def test_the_cockpits_total_is_the_sum_of_the_footers(scripted, tmp_path):
    """Answers of several prices (the provider's billed figure, tokens at list price, a visitor's
    own key, a refusal): what the cockpit says they cost is what their footers said."""
    service = ChatService(load_settings({"XAI_API_KEY": SERVER_KEY, "XAI_BASE_URL": scripted.base_url}))
    store = UsageStore(f"sqlite+aiosqlite:///{tmp_path / 'usage.db'}", keep_days=30)
    service.records.sink = store.add
    scripted.queue(
        Reply.fixture("xai-grok-3-mini-thinking"),  # billed in cost ticks
        Reply(chunks=text_stream("Hi", usage={"prompt_tokens": 1000, "completion_tokens": 2000})),  # list price
        Reply(chunks=text_stream("Own key", usage={"prompt_tokens": 10, "completion_tokens": 20})),
        Reply.fixture("xai-grok-3-mini-thinking"),
    )
    asks = [
        ChatOptions("xai", "grok-3-mini"),
        ChatOptions("xai", "grok-4.3"),
        ChatOptions("xai", "grok-4.3", api_key=VISITOR_KEY),
        ChatOptions("xai", "grok-3-mini"),
    ]

    async def go():
        try:
            footers = []
            for options in asks:
                answer = Answer()
                async for event in service.stream_answer(
                    options, [{"role": "user", "content": "Hello"}], Visitor(session="s", ip="203.0.113.5")
                ):
                    answer.apply(event)
                footers.append((answer, options.api_key is None))
            return footers, await store.rows(0)
        finally:
            await store.close()
            await service.aclose()

    footers, rows = run_async(go())
    owners = [answer.cost_usd for answer, owner_paid in footers if owner_paid]
    assert len(rows) == 4 and all(c is not None for c in owners)
    assert report(rows).spent == pytest.approx(sum(owners), rel=1e-12)
    shown = [float(footer_text(a).split("$")[1].split()[0]) for a, paid in footers if paid]
    assert report(rows).spent == pytest.approx(sum(shown), abs=0.0001 * len(shown))
    assert {r["visitor"] for r in rows} and all(len(r["visitor"]) == 12 for r in rows)
    assert "203.0.113.5" not in str(rows) and "Hello" not in str(rows)


def test_the_cockpit_refuses_anyone_but_its_admins_on_every_call(tmp_path):
    settings = replace(load_settings(ADMIN_ENV), upload_dir=tmp_path)
    service = ChatService(settings)
    store = UsageStore(f"sqlite+aiosqlite:///{tmp_path / 'usage.db'}", keep_days=30)
    show = _shower(service, store, tmp_path / "cockpit")

    async def ask(username):
        try:
            return await show("7", gr.Request(username=username, session_hash="x", headers={"accept-language": "en"}))
        finally:
            await store.close()

    for who in (None, "bob", "mallory"):
        refused = run_async(ask(who))
        assert "ADMIN_USERS" in refused[0] and refused[1:7] == (None, None, [], [], [], [])
    allowed = run_async(ask("alice"))
    assert "paid by your keys" in allowed[0]


def test_admin_users_need_a_way_to_sign_in():
    with pytest.raises(SettingsError, match="ADMIN_USERS"):
        load_settings({"ADMIN_USERS": "alice"})
    with pytest.raises(SettingsError, match="not a user name"):
        load_settings({**ADMIN_ENV, "ADMIN_USERS": "alice,<script>"})


@pytest.mark.browser
def test_the_admin_reads_the_cockpit_and_others_are_refused(scripted, browser, tmp_path):
    from playwright.sync_api import expect

    from support.apps import RunningApp

    scripted.default = Reply(chunks=text_stream("Hello", usage={"prompt_tokens": 1000, "completion_tokens": 2000}))
    env = {
        **ADMIN_ENV,
        "OPENAI_API_KEY": SERVER_KEY,
        "OPENAI_BASE_URL": scripted.base_url,
        "DEFAULT_MODEL": "gpt-4o-mini",
        "CAUSERIE_DATA_DIR": str(tmp_path),
    }
    running = RunningApp(env)
    try:

        def signed_in(name: str, password: str):
            page = browser.new_context().new_page()
            page.goto(running.url)
            page.get_by_label("username").fill(name)
            page.get_by_label("password").fill(password)
            page.get_by_role("button", name="Login").click()
            page.wait_for_selector("#chat-input textarea", timeout=15000)
            return page

        bob = signed_in("bob", "bob-password-12")
        expect(bob.locator("nav")).to_be_hidden()  # (the route's bar of pages: the chat keeps its height)
        bob.locator("#chat-input textarea").fill("Hi")
        bob.locator("#chat-input textarea").press("Enter")
        expect(bob.locator("#chatbot sub")).to_have_count(1, timeout=10000)
        cost = (1000 * 0.15 + 2000 * 0.60) / 1e6
        bob.goto(running.url + "admin")
        expect(bob.locator("#cockpit-summary")).to_contain_text("for the server's administrators (ADMIN_USERS)", timeout=10000)
        expect(bob.locator("#cockpit-csv")).to_be_hidden()
        bob.context.close()

        alice = signed_in("alice", "alice-password-1")
        alice.goto(running.url + "admin")
        summary = alice.locator("#cockpit-summary")
        expect(summary).to_contain_text(f"${cost:.4f} paid by your keys over the last 7 days. Answers: 1", timeout=15000)
        expect(alice.locator("#cockpit-providers")).to_contain_text("openai")
        expect(alice.locator("#cockpit-by-day canvas, #cockpit-by-day svg").first).to_be_visible(timeout=10000)
        if shots := __import__("os").environ.get("CAUSERIE_SHOTS"):
            alice.wait_for_timeout(1500)
            alice.screenshot(path=f"{shots}/cockpit.png", full_page=True)
        with alice.expect_download() as got:
            alice.locator("#cockpit-csv").click()
        lines = list(csv.DictReader(io.StringIO(open(got.value.path(), encoding="utf-8").read())))
        assert len(lines) == 1 and lines[0]["model"] == "gpt-4o-mini" and float(lines[0]["cost_usd"]) == pytest.approx(cost)
        alice.context.close()
    finally:
        running.close()


def test_review_findings_on_the_records_and_their_csv(tmp_path):
    """Found in review: a formula in a model id ran in the owner's spreadsheet; one record the
    database refused (a count past its integer column) blocked every later one; a Stop counted as
    an error."""
    text = as_csv([row(model='=HYPERLINK("http://x")', provider="@SUM(1)")])
    line = next(csv.DictReader(io.StringIO(text)))
    assert line["model"].startswith("'=") and line["provider"].startswith("'@")
    assert report([row(status="stopped", cost_usd=0.01)]).errors == {}

    store = UsageStore(f"sqlite+aiosqlite:///{tmp_path / 'usage.db'}", keep_days=30)

    async def go():
        try:
            now = time.time()  # (within USAGE_KEEP_DAYS)
            store.add(row(model="fine-1", at=now))
            store.add(row(model="poison", prompt_tokens=10**20, at=now))
            store.add(row(model="fine-2", at=now))
            await store.flush()
            store.add(row(model="fine-3", at=now))
            return [r["model"] for r in await store.rows(0)]
        finally:
            await store.close()

    assert run_async(go()) == ["fine-1", "fine-2", "fine-3"]


def test_admin_names_say_which_sign_in_when_both_are_on():
    both = {**ADMIN_ENV, "OAUTH_CLIENT_ID": "x"}
    with pytest.raises(SettingsError, match="user:alice or hf:alice"):
        load_settings(both)
    assert load_settings({**both, "ADMIN_USERS": "hf:alice"}).cockpit.admins == {"hf:alice"}
    assert load_settings(ADMIN_ENV).cockpit.admins == {"user:alice"}  # (only the sign-in that is on)
