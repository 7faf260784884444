"""The benchmark's scenarios beyond one fresh question per user (run by bench/run.py):

- long chat: 20 users at once, each with a fresh chat, then each with 100 earlier turns (200
  messages, about 290 KB) in it, in turn, five times: CPU per answer and TTFT of each. A long
  chat's page asks its 100th question with the 99 turns before it, as a page does when the server
  asks for its chat (a restart, a session let go), then asks the measured one as pages do: with
  the mark of its chat, which the server answers from its own copy (ChatHandlers.submit);
- many sessions, open loop: a new visitor every 1/40 s (each opens the page and asks one question),
  4,000 of them: RSS, TTFT and CPU per answer for each thousand; its API-caller variant asks /chat
  the way curl does (`/gradio_api/call/chat`, then its result), each call a session of its own with
  no page and no heartbeat;
- processes behind nginx (when nginx is installed): 200 users at once through the balancer to one
  process, then 200 to two.
"""

from __future__ import annotations

import asyncio
import collections
import functools
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import orjson
from procs import cpu_seconds, memory_mb

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # causerie, for the page's chat mark
from load import (
    QUESTION,
    USER_TIMEOUT_S,
    GradioPlan,
    RunResult,
    UserResult,
    _send,
    bounded,
    completed_output,
    count_tokens,
    gradio_user,
    join,
    note_stage,
    post_json,
    run_users,
)

TURN_WORDS = (
    "The sky looks blue because air scatters short wavelengths of sunlight more than long ones; "
    "the effect is named after Lord Rayleigh, who worked out its dependence on wavelength. "
) * 16


def long_history(turns: int) -> list[dict[str, Any]]:
    """A chat of `turns` earlier questions and answers, as the page holds it (about 2.8 KB a
    turn; no "tokN " in it, which the generator counts as streamed tokens)."""

    def part(text: str) -> list[dict[str, Any]]:
        return [{"type": "text", "text": text}]

    chat = []
    for n in range(turns):
        chat.append(
            {
                "role": "user",
                "content": part(f"Question {n}: why is the sky blue? " + TURN_WORDS[:300]),
                "metadata": None,
                "options": None,
            }
        )
        chat.append(
            {"role": "assistant", "content": part(f"Answer {n}. " + TURN_WORDS[:2400]), "metadata": None, "options": None}
        )
    return chat


async def asked_with_history(
    plan: GradioPlan, session: str, history: list[dict[str, Any]], held: dict[int, Any]
) -> list[dict[str, Any]]:
    """Ask, in this session, with `history` before the question, as the page asks when the server
    asks for its chat (plan.resend_fn): the page holding `held` (open_page: its conversation id and
    browser id among them), its chat that history and the question; once answered, the chat the
    page holds, which the server keeps as this page's."""
    shown = [*history, {"role": "user", "content": [{"type": "text", "text": QUESTION}], "metadata": None, "options": None}]
    data = plan.data(plan.resend_fn, {**held, plan.ids["chatbot"]: shown})
    note_stage("joining the queue with the chat's history (asked_with_history)")
    status, body = await join(plan, session, plan.resend_fn, data, None)
    if status != 200:
        raise RuntimeError(f"join HTTP {status}: {body[:100]!r}")
    note_stage("reading the data stream of the question asked with the history (asked_with_history)")
    return (await completed_output(plan.url, session))[0]


READING_S = 2.0
"""How long a long chat's visitor reads the answer to the turn before before asking again."""


def long_chat_user(
    http: httpx.AsyncClient, plan: GradioPlan, history: list[dict[str, Any]], sizes: list[int] | None = None
) -> Callable[[asyncio.Event], Awaitable[UserResult]]:
    """A visitor whose chat has `history` and one more turn in it when the go comes: the page
    opens, asks once with that history (the turn that makes it), and at the go asks again as the
    page does, with the mark of its chat (render.chat_mark). The chat's size goes into `sizes`, if
    given."""
    from causerie.ui.render import chat_mark

    async def prepare(session: str, held: dict[int, Any]) -> list[Any]:
        chat = await asked_with_history(plan, session, history, held)
        if sizes is not None:
            sizes.append(len(orjson.dumps(chat)))
        note_stage("reading the answer before asking again")
        await asyncio.sleep(READING_S)  # the person reads the answer before asking again
        held.update({plan.ids["chatbot"]: chat, plan.ids["chat-mark"]: chat_mark(chat)})  # (SHOW_QUESTION_JS's mark)
        return plan.data(plan.chat_fn, held)

    return lambda go: gradio_user(http, plan, go, prepare)


async def per_answer(pid: int, run: Callable[[Callable[[], None]], Any]) -> tuple[RunResult, float, float]:
    """Run `run(on_go)`; the app's CPU per user from the go to the end, and before the go (opening
    the page, and whatever a user does before asking)."""
    before, at_go = cpu_seconds(pid), []
    result = await run(lambda: at_go.append(cpu_seconds(pid)))
    users = max(1, len(result.results))
    return result, (cpu_seconds(pid) - at_go[0]) / users, (at_go[0] - before) / users  # (run_users calls on_go once)


async def long_chat(
    http: httpx.AsyncClient,
    plan: GradioPlan,
    pid: int,
    users: int = 20,
    turns: int = 100,
    rounds: int = 5,
    timeout_s: float = USER_TIMEOUT_S,
) -> dict:
    """Fresh and long chats in turn, `rounds` times each: for each, the median over the rounds of
    its CPU per answer from the question and, apart, of its TTFT p50 (the TTFT of the round with
    the median CPU varied more from run to run), and the errors of all rounds (with the first
    few said). A long chat has
    `turns` earlier turns when the question is asked: the last of them asked once the page is
    open, before the go."""
    sizes: list[int] = []
    history = long_history(turns - 1)
    visitors = {"fresh": functools.partial(gradio_user, http, plan), "long": long_chat_user(http, plan, history, sizes)}
    measured: dict[str, list[tuple[float, float | None, int, float]]] = {"fresh": [], "long": []}
    said: dict[str, list[str]] = {"fresh": [], "long": []}
    for _ in range(rounds):
        for name, visitor in visitors.items():
            run, cpu, before_cpu = await per_answer(
                pid, lambda on_go, name=name, visitor=visitor: run_users(name, users, visitor, on_go=on_go, timeout_s=timeout_s)
            )
            summary = run.summary()
            measured[name].append((cpu, summary["ttft_p50"], summary["error_count"], before_cpu))
            said[name] = (said[name] + summary["errors"])[:3]
            await asyncio.sleep(0.5)
    out = {}
    for name, samples in measured.items():
        cpu, ttft, errors, before_cpu = zip(*samples, strict=True)
        answered = [t for t in ttft if t is not None]  # (a round where nobody got a token has none)
        out[name] = {
            "cpu_ms_per_answer": statistics.median(cpu) * 1000,
            "ttft_p50": statistics.median(answered) if answered else None,
            "errors": sum(errors),
            "error_examples": said[name],
            "before_question_cpu_ms": statistics.median(before_cpu) * 1000,
            "cpu_ms_samples": [round(c * 1000, 1) for c in cpu],
            "ttft_samples": [None if t is None else round(t, 3) for t in ttft],
        }
    out["users"], out["turns"] = users, turns
    out["history_kb"] = statistics.median(sizes) / 1000 if sizes else None
    return out


async def chat_arguments(http: httpx.AsyncClient, url: str) -> int:
    """How many arguments /chat takes (a call through /call/ must give them all)."""
    return len((await http.get(url + "gradio_api/info")).json()["named_endpoints"]["/chat"]["parameters"])


async def api_caller(url: str, arguments: int, go: asyncio.Event) -> UserResult:
    """One question as curl asks it: POST /gradio_api/call/chat with no session hash (the call is a
    session of its own: no page, no heartbeat), then GET its result stream, each on a connection of
    its own. The stream's messages carry the answer so far."""
    await go.wait()
    result, seen = UserResult(), set()
    started = time.perf_counter()
    note_stage("calling /chat")
    status, body = await post_json(url, "gradio_api/call/chat", {"data": [QUESTION, *[None] * (arguments - 1)]})
    if status != 200:
        return UserResult(error=f"call HTTP {status}: {body[:100]!r}")
    note_stage("reading the call's result stream")
    reader, writer = await _send(
        url, f"GET /gradio_api/call/chat/{orjson.loads(body)['event_id']}", "Accept: text/event-stream\r\nConnection: close\r\n"
    )
    tail = b""
    try:
        while data := await reader.read(65536):
            window = tail + data
            before = len(seen)
            count_tokens(seen, window)
            if result.ttft_s is None and len(seen) > before:
                result.ttft_s = time.perf_counter() - started
            if b"event: complete" in window or b"event: error" in window:
                result.error = "the app reported a failure" if b"event: error" in window else None
                break
            tail = window[-24:]
    finally:
        writer.close()
    result.total_s, result.tokens = time.perf_counter() - started, len(seen)
    if not seen and result.error is None:
        result.error = "no token arrived"
    return result


async def open_loop(
    http: httpx.AsyncClient,
    plan: GradioPlan,
    pid: int,
    rate: float,
    visitors: int,
    every: int = 1000,
    visit: Callable[[asyncio.Event], Awaitable[UserResult]] | None = None,
    timeout_s: float = USER_TIMEOUT_S,
) -> list[dict]:
    """A new visitor every 1/rate s, whatever the app's pace (open loop); per `every` visitors, in
    order of arrival: TTFT p50/p95, CPU per answer, RSS once they are all answered. A visitor
    opens the page and asks (gradio_user), unless `visit` says otherwise; one not done after
    `timeout_s` is stopped and counted as an error that says where it stalled."""
    go = asyncio.Event()
    go.set()
    results: list[UserResult | None] = [None] * visitors
    started = time.perf_counter()
    marks: list[dict] = []

    async def visitor(number: int) -> None:
        try:
            results[number] = await bounded(
                visit(go) if visit is not None else gradio_user(http, plan, go),
                timeout_s,
                lambda stalled: UserResult(error=stalled),
            )
        except Exception as exc:  # noqa: BLE001 (a failed visitor is counted, not fatal)
            results[number] = UserResult(error=f"{type(exc).__name__}: {exc}"[:200])

    tasks: list[asyncio.Task] = []
    marks_done: list[asyncio.Task] = []
    cpu_mark = [cpu_seconds(pid)]

    async def mark(block: list[asyncio.Task], first: int) -> None:
        """Once a thousand visitors are answered (arrivals go on meanwhile)."""
        await asyncio.gather(*block)
        cpu_now = cpu_seconds(pid)
        summary = RunResult("open loop", every, [r for r in results[first : first + every] if r]).summary()
        marks.append(
            {
                "visitors": first + every,
                "rss_mb": memory_mb(pid),
                "ttft_p50": summary["ttft_p50"],
                "ttft_p95": summary["ttft_p95"],
                "errors": summary["error_count"],
                "cpu_ms_per_answer": (cpu_now - cpu_mark[0]) / every * 1000,
            }
        )
        cpu_mark[0] = cpu_now

    for number in range(visitors):
        delay = started + number / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(visitor(number)))
        if (number + 1) % every == 0:
            marks_done.append(asyncio.create_task(mark(tasks[number + 1 - every :], number + 1 - every)))
    await asyncio.gather(*tasks, *marks_done)
    return sorted(marks, key=lambda m: m["visitors"])


async def two_processes(paced_url: str, args, users: int = 200, timeout_s: float = USER_TIMEOUT_S) -> dict:
    """`users` at once through nginx to one process, then to two (deploy/nginx.conf; each
    visitor with its own cookies, as browsers): TTFT, completion, errors (the first few said) and
    each process's CPU. A visitor not done after `timeout_s` counts as an error."""
    from cluster import Cluster, at_once, browsers, nginx_binary, page_plan, visit

    if nginx_binary() is None:
        return {"skipped": "nginx is not installed (apt-get install nginx)"}
    env = {"OPENAI_BASE_URL": paced_url, "DEFAULT_PROVIDER": "openai", "DEFAULT_MODEL": "paced"}
    out = {"users": users}
    for processes in (1, 2):
        cluster = Cluster(env, processes)
        try:
            plan = await page_plan(cluster.url)
            async with browsers(users, timeout=120) as clients:
                for warm in clients[:2]:  # first requests import and initialise lazily
                    await visit(warm, plan)
                pids, cpu_before = cluster.pids(), []
                visits = await at_once(
                    plan,
                    clients,
                    at_go=lambda pids=pids, into=cpu_before: into.extend(map(cpu_seconds, pids)),
                    timeout_s=timeout_s,
                )
                cpu = [cpu_seconds(pid) - before for pid, before in zip(pids, cpu_before, strict=True)]
        finally:
            cluster.stop()
        run = RunResult(
            f"{processes} behind nginx",
            users,
            [UserResult(ttft_s=v.ttft_s, total_s=v.total_s, tokens=v.tokens, error=v.error) for v in visits],
        )
        summary = run.summary()
        out[str(processes)] = {
            "ttft_p50": summary["ttft_p50"],
            "ttft_p95": summary["ttft_p95"],
            "total_p50": summary["total_p50"],
            "errors": summary["error_count"],
            "error_examples": summary["errors"],
            "tokens": summary["tokens"],
            "expected_tokens": args.tokens * users,
            "cpu_s": [round(c, 2) for c in cpu],
            "answers_per_process": sorted(collections.Counter(v.backend for v in visits).values()),
        }
    return out
