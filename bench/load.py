"""The load generator: N users at once, each asking one question and streaming the answer.

Everything runs in one asyncio loop, so the generator itself costs little CPU (gradio_client's
thread-per-job polling would distort timings at this scale). A Gradio app is driven the way its page
drives it: its heartbeat stream, its load steps, the submit chain's quick steps over
/gradio_api/run/predict, then the chat function through the queue's join and its data stream
(Server-Sent Events). The /config read, the load steps and the quick steps go over httpx; the
heartbeat, the join and the data stream over bare asyncio streams, one connection each (`_send`:
at 100 users, httpx and an SSE decoder made the generator the busiest process on the machine). The
limit is read with httpx and httpx-sse, the openai SDK with its own client (httpx too).
"""

from __future__ import annotations

import asyncio
import functools
import re
import time
import uuid
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx
import orjson
from httpx_sse import aconnect_sse

TOKEN = re.compile(rb"tok(\d+) ")
KEEPALIVE_S = 2.0
"""How long an idle connection of the generator's httpx clients is kept for another request:
well under the apps' own 5 s (uvicorn's `timeout_keep_alive`, as Gradio starts it). At httpx's
default, also 5 s, a request sent on a connection idle for just under 5 s met the server closing
it, and failed with httpx.ReadError (as when a page opened 5 s after the previous run's)."""
LIMITS = httpx.Limits(max_connections=None, max_keepalive_connections=None, keepalive_expiry=KEEPALIVE_S)
"""The limits of the generator's httpx clients to the apps: as many connections as users."""
QUESTION = "Hello, please answer."
PAGE_VALUES = {"provider": "openai", "model": "paced", "chat-message": {"text": QUESTION, "files": []}}
"""What Causerie's page holds, by elem_id, when a visitor asks the paced model (gradio_plan)."""


@dataclass
class UserResult:
    ttft_s: float | None = None
    total_s: float | None = None
    tokens: int = 0
    error: str | None = None
    page_open_s: float | None = None


@dataclass
class RunResult:
    target: str
    users: int
    results: list[UserResult] = field(default_factory=list)
    wall_s: float = 0.0

    def _pct(self, values: list[float], q: float) -> float | None:
        if not values:
            return None
        values = sorted(values)
        return values[min(len(values) - 1, max(0, round(q * (len(values) - 1))))]

    def summary(self) -> dict[str, Any]:
        ttft = [r.ttft_s for r in self.results if r.ttft_s is not None]
        total = [r.total_s for r in self.results if r.total_s is not None]
        return {
            "target": self.target,
            "users": self.users,
            "requests": len(self.results),
            "ttft_p50": self._pct(ttft, 0.5),
            "ttft_p95": self._pct(ttft, 0.95),
            "total_p50": self._pct(total, 0.5),
            "total_p95": self._pct(total, 0.95),
            "tokens": sum(r.tokens for r in self.results),
            "page_open_p50": self._pct([r.page_open_s for r in self.results if r.page_open_s is not None], 0.5),
            "errors": [r.error for r in self.results if r.error][:3],
            "error_count": sum(1 for r in self.results if r.error),
        }


def count_tokens(seen: set[int], raw: bytes) -> None:
    seen.update(int(m) for m in TOKEN.findall(raw))


# -- the limit: a plain HTTP client reading the provider's stream ---------------------------------


async def direct_user(http: httpx.AsyncClient, base_url: str, go: asyncio.Event) -> UserResult:
    await go.wait()
    result, seen = UserResult(), set()
    started = time.perf_counter()
    body = {"model": "paced", "messages": [{"role": "user", "content": QUESTION}], "stream": True}
    async with aconnect_sse(http, "POST", base_url + "/chat/completions", json=body) as source:
        async for sse in source.aiter_sse():
            if sse.data == "[DONE]":
                break
            before = len(seen)
            count_tokens(seen, sse.data.encode())
            if result.ttft_s is None and len(seen) > before:
                result.ttft_s = time.perf_counter() - started
    result.total_s = time.perf_counter() - started
    result.tokens = len(seen)
    return result


# -- the openai SDK -------------------------------------------------------------------------------


def sdk_user_factory(base_url: str) -> Callable[[], Awaitable[UserResult]]:
    from openai import AsyncOpenAI

    client = AsyncOpenAI(
        base_url=base_url,
        api_key="placeholder",
        max_retries=0,
        http_client=httpx.AsyncClient(limits=httpx.Limits(max_connections=None), timeout=60),
    )

    async def user(go: asyncio.Event) -> UserResult:
        await go.wait()
        result, tokens = UserResult(), 0
        started = time.perf_counter()
        stream = await client.chat.completions.create(
            model="paced", messages=[{"role": "user", "content": QUESTION}], stream=True
        )
        async for chunk in stream:
            if chunk.choices and chunk.choices[0].delta.content:
                tokens += 1
                if result.ttft_s is None:
                    result.ttft_s = time.perf_counter() - started
        result.total_s = time.perf_counter() - started
        result.tokens = tokens
        return result

    return user


# -- a Gradio chat app, as its page drives it -------------------------------------------------------


@dataclass
class GradioPlan:
    """What the page sends: its load events when opened; for one submit, the server-side quick
    steps of the submit chain, then the streamed chat function. Each step is sent what the page's
    components hold then (`data`): what they held before the page opened (`held`), over which go
    what the load steps gave them (`open_page`), and then what the person chose (`chosen`)."""

    url: str
    load_fns: list[int]
    """The load steps that run on the server, in order."""
    quick_fns: list[int]
    """The submit chain's quick steps that run on the server, in order."""
    chat_fn: int
    trigger_id: int | None
    heartbeat: bool = False
    """Whether the page keeps a heartbeat stream open (Gradio's `connect_heartbeat`): while it is
    open the session is the page's; when it closes, Gradio marks the session closed."""
    resend_fn: int | None = None
    """Causerie's step that asks with the page's whole chat (run when the server asks for it,
    ChatHandlers.submit_with_chat)."""
    inputs: dict[int, list[int]] = field(default_factory=dict)
    """Each step's inputs (component ids), in order."""
    outputs: dict[int, list[int]] = field(default_factory=dict)
    """Each load step's outputs (component ids), in order."""
    held: dict[int, Any] = field(default_factory=dict)
    """What each component the page sends holds before the page has been given anything."""
    chosen: dict[int, Any] = field(default_factory=dict)
    """What the person has put in the page when they ask (the question, the model): over what the
    load steps gave."""
    ids: dict[str, int] = field(default_factory=dict)
    """Component ids by elem_id."""

    def data(self, fn_index: int, held: dict[int, Any]) -> list[Any]:
        """What the page sends to step `fn_index` when its components hold `held`."""
        return [held.get(cid) for cid in self.inputs[fn_index]]


async def gradio_plan(http: httpx.AsyncClient, url: str, values: dict[str, Any]) -> GradioPlan:
    """Read /config: the page's load events, and the chat textbox's submit chain up to the queued
    chat function. Steps that run in the browser only (JavaScript, no backend function) are not
    sent: what they would put in components is not put there (Causerie's opening step reads the
    browser's storage and id that way: a component holding none reads as a new browser's).
    `values` gives, by elem_id, what the page's components hold when the user submits."""
    config = (await http.get(url + "config")).json()
    components = {c["id"]: c for c in config["components"]}
    ids = {c["props"]["elem_id"]: cid for cid, c in components.items() if c["props"].get("elem_id")}

    deps = config["dependencies"]
    start = next(
        d
        for d in deps
        if any(
            t[1] == "submit" and components.get(t[0], {}).get("type") in ("textbox", "multimodaltextbox") for t in d["targets"]
        )
        and (d.get("backend_fn") or d.get("js"))
    )
    chain, current = [start], start
    while not current.get("queue", True) or current is start:
        current = next(d for d in deps if d.get("trigger_after") == current["id"])
        chain.append(current)
    chat = chain[-1]
    question_box = start["targets"][0][0]

    def before(cid: int) -> Any:
        """What a component holds before the page is given anything, or the person types."""
        kind = components[cid]["type"]
        if kind == "chatbot":
            return []
        return components[cid]["props"].get("value") if kind not in ("state", "browserstate") else None

    chosen = {cid: values[elem] for elem, cid in ids.items() if elem in values}
    kind = components[question_box]["type"]
    chosen.setdefault(question_box, {"text": QUESTION, "files": []} if kind == "multimodaltextbox" else QUESTION)

    # The page's load events and the steps chained after them (`.then`), in order.
    loads = [d for d in deps if any(t[1] == "load" for t in d["targets"])]
    for dep in loads:
        loads += [d for d in deps if d.get("trigger_after") == dep["id"] and d not in loads]
    loads = [d for d in loads if d.get("backend_fn") and not d.get("queue", True)]
    quick = [d for d in chain[:-1] if d.get("backend_fn")]
    resend = next(
        (
            d
            for d in deps
            if any(t[1] == "change" and components[t[0]]["props"].get("elem_id") == "chat-resend" for t in d["targets"])
        ),
        None,
    )
    sent = [*loads, *quick, chat, *([resend] if resend else [])]
    return GradioPlan(
        url,
        [d["id"] for d in loads],
        [d["id"] for d in quick],
        chat["id"],
        question_box,
        bool(config.get("connect_heartbeat")),
        resend and resend["id"],
        {d["id"]: list(d["inputs"]) for d in sent},
        {d["id"]: list(d["outputs"]) for d in loads},
        {cid: before(cid) for dep in sent for cid in dep["inputs"]},
        chosen,
        ids,
    )


def given_value(output: Any) -> tuple[bool, Any]:
    """A step's output for one component: whether it gives the component a value, and which (an
    update may carry one, or only other properties: gr.skip() carries none)."""
    if isinstance(output, dict) and output.get("__type__") == "update":
        return "value" in output, output.get("value")
    return True, output


async def open_page(plan: GradioPlan, predict: Callable[[int, list[Any]], Awaitable[list[Any]]]) -> dict[int, Any]:
    """Run the page's load steps as the page does (`predict` sends one and gives its outputs), each
    sent what the page holds by then; what the page holds once open, by component id (the ids and
    values the server gave it as it opened: Causerie's conversation id and signed browser id, which
    the page sends back with every later event), then what the person chose."""
    held = dict(plan.held)
    for fn_index in plan.load_fns:
        for cid, output in zip(plan.outputs[fn_index], await predict(fn_index, plan.data(fn_index, held)), strict=False):
            gives, value = given_value(output)
            if gives:
                held[cid] = value
    held.update(plan.chosen)
    return held


async def _predict(http: httpx.AsyncClient, plan: GradioPlan, session: str, fn_index: int, data: list) -> list[Any]:
    """One quick step; its outputs."""
    response = await http.post(
        plan.url + "gradio_api/run/predict",
        json={"data": data, "fn_index": fn_index, "session_hash": session, "event_data": None, "trigger_id": plan.trigger_id},
    )
    response.raise_for_status()
    return response.json().get("data") or []


async def gradio_user(
    http: httpx.AsyncClient,
    plan: GradioPlan,
    go: asyncio.Event,
    prepare: Callable[[str, dict[int, Any]], Awaitable[list[Any]]] | None = None,
) -> UserResult:
    """Open the page (its heartbeat and load events), wait for everyone, then ask and stream the
    answer, and leave (the heartbeat closes, as when a tab is closed). `prepare`, given the
    session and what the page holds once open (open_page), runs once the page is open, before the
    wait: what it returns is the chat function's data. An answer with no token in it counts as an
    error."""
    result, seen = UserResult(), set()
    session = uuid.uuid4().hex[:11]
    opened = time.perf_counter()
    note_stage("opening the heartbeat")
    heartbeat = await open_heartbeat(plan.url, session) if plan.heartbeat else None
    try:
        note_stage("running the page's load steps")
        held = await open_page(plan, functools.partial(_predict, http, plan, session))
        result.page_open_s = time.perf_counter() - opened
        if prepare is not None:
            note_stage("preparing")
            chat_data = await prepare(session, held)
        else:
            chat_data = plan.data(plan.chat_fn, held)
        note_stage("waiting for the go")
        await go.wait()
        started = time.perf_counter()
        note_stage("running the submit's quick steps")
        for fn_index in plan.quick_fns:
            await _predict(http, plan, session, fn_index, plan.data(fn_index, held))
        note_stage("joining the queue with the question")
        status, body = await join(plan, session, plan.chat_fn, chat_data, plan.trigger_id)
        if status != 200:
            result.error = f"join HTTP {status}: {body[:100]!r}"
            return result
        note_stage("reading the answer's data stream")
        await read_data_stream(plan.url, session, seen, result, started)
        result.total_s = time.perf_counter() - started
        result.tokens = len(seen)
        if not seen and result.error is None:
            result.error = "no token arrived"
        return result
    finally:
        if heartbeat is not None:
            heartbeat.close()


async def open_heartbeat(url: str, session: str) -> asyncio.StreamWriter:
    """The page's heartbeat stream (GET /gradio_api/heartbeat/<session>), opened as the browser
    opens it; closing the returned writer is the page going away."""
    _, writer = await _send(url, f"GET /gradio_api/heartbeat/{session}", "Accept: text/event-stream\r\n")
    return writer


async def _send(
    url: str, request_line: str, headers: str, body: bytes = b""
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """One HTTP/1.1 request on its own connection, with bare asyncio streams (cheaper than httpx
    at a burst of 100; the app sees the same request the page sends). `headers` end in CRLF."""
    host_port = url.split("//", 1)[1].split("/", 1)[0]
    host, port = host_port.split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(f"{request_line} HTTP/1.1\r\nHost: {host_port}\r\n{headers}\r\n".encode() + body)
    return reader, writer


async def post_json(url: str, path: str, payload: dict) -> tuple[int, bytes]:
    """One POST of a JSON body; its status and body."""
    body = orjson.dumps(payload)
    reader, writer = await _send(
        url, f"POST /{path}", f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\nConnection: close\r\n", body
    )
    try:
        response = await reader.read()
    finally:
        writer.close()
    head, _, rest = response.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), rest


async def join(plan: GradioPlan, session: str, fn_index: int, data: list[Any], trigger_id: int | None) -> tuple[int, bytes]:
    """Queue one call of a function for this session (Gradio's join); its status and body."""
    return await post_json(
        plan.url,
        "gradio_api/queue/join",
        {"data": data, "fn_index": fn_index, "session_hash": session, "event_data": None, "trigger_id": trigger_id},
    )


async def _data_stream(url: str, session: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """The session's queue data stream (Server-Sent Events), opened."""
    return await _send(
        url, f"GET /gradio_api/queue/data?session_hash={session}", "Accept: text/event-stream\r\nConnection: close\r\n"
    )


async def read_data_stream(url: str, session: str, seen: set[int], result: UserResult, started: float) -> None:
    """Read the session's queue data stream with bare asyncio streams, only looking for token
    markers and the end message: at 100 users, httpx plus an SSE decoder plus JSON for every
    message made the generator the busiest process on the machine, and distorted what it timed.
    Markers are never cut by HTTP chunk framing (a message is one chunk); a short tail is kept
    across reads in case a read ends inside one."""
    reader, writer = await _data_stream(url, session)
    tail = b""
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            window = tail + data
            before = len(seen)
            count_tokens(seen, window)
            if result.ttft_s is None and len(seen) > before:
                result.ttft_s = time.perf_counter() - started
            if b'"process_completed"' in window or b'"close_stream"' in window:
                if b'"success":false' in window:
                    result.error = "the app reported a failure"
                break
            tail = window[-24:]
    finally:
        writer.close()


async def completed_output(url: str, session: str) -> list[Any]:
    """Read the session's data stream to the end of its event; the outputs its last message
    carries (whole values, not diffs)."""
    reader, writer = await _data_stream(url, session)
    buffer = b""
    try:
        while b'"process_completed"' not in buffer:
            data = await reader.read(65536)
            if not data:
                raise RuntimeError("the data stream ended before its event did")
            buffer += data
        while b"\n\n" not in buffer[buffer.index(b'"process_completed"') :]:  # the rest of that message
            data = await reader.read(65536)
            if not data:
                break
            buffer += data
    finally:
        writer.close()
    line = next(line for line in buffer.split(b"\n") if b'"process_completed"' in line)
    message = orjson.loads(line.split(b"data:", 1)[1])
    if not message.get("success"):
        raise RuntimeError("the app reported a failure")
    return message["output"]["data"]


USER_TIMEOUT_S = 120.0
"""How long a user of run_users may take to be ready for the go, and then to have its answer:
beyond it, the user is stopped and counted as an error that says where it was (note_stage). No
step of a user takes more than a few seconds at the bench's sizes; a benchmark must not hang."""

_stages: weakref.WeakKeyDictionary[asyncio.Task, str] = weakref.WeakKeyDictionary()


def note_stage(what: str) -> None:
    """Say what the running user is doing now: named in its error if it stalls there."""
    if (task := asyncio.current_task()) is not None:
        _stages[task] = what


def stage_of(task: asyncio.Task) -> str:
    return _stages.get(task, "starting")


T = TypeVar("T")


async def bounded(work: Awaitable[T], timeout_s: float, stalled: Callable[[str], T]) -> T:
    """What `work` gives; if it has not ended after `timeout_s`, it is stopped, and `stalled` is
    given a message that says where it was (note_stage)."""
    task = asyncio.ensure_future(work)
    done, _ = await asyncio.wait({task}, timeout=timeout_s)
    if not done:
        where = stage_of(task)
        task.cancel()
        await asyncio.wait({task})
        return stalled(f"stalled for {timeout_s:g} s while {where}")
    return task.result()


class Go(asyncio.Event):
    """The go every user of a run waits for, knowing who waits for it."""

    def __init__(self) -> None:
        super().__init__()
        self.waiting: set[asyncio.Task] = set()

    async def wait(self) -> bool:
        task = asyncio.current_task()
        self.waiting.add(task)
        try:
            return await super().wait()
        finally:
            self.waiting.discard(task)


async def run_users(
    target: str,
    users: int,
    user: Callable[[asyncio.Event], Awaitable[UserResult]],
    repeat: int = 1,
    on_go: Callable[[], None] | None = None,
    timeout_s: float = USER_TIMEOUT_S,
) -> RunResult:
    """`users` at once; `repeat` rounds one after another (for stable single-user numbers).

    Each user gets an event: it may prepare (open its page), then awaits it. Once every user still
    running waits for it (one that failed while preparing is counted as an error, not waited
    for), the event is set and the clock of every user starts from there (`on_go` is called just
    before: bench/burst_profile.py starts its profiler there). A user not waiting `timeout_s`
    after it started, or not done `timeout_s` after the go, is stopped and counted as an error
    that says where it stalled (note_stage).
    """
    run = RunResult(target, users)
    started = time.perf_counter()
    for _ in range(repeat):
        go = Go()
        tasks = [asyncio.ensure_future(user(go)) for _ in range(users)]
        stalled: dict[asyncio.Task, str] = {}
        deadline = time.monotonic() + timeout_s
        await asyncio.sleep(0.05)
        while not all(task.done() or task in go.waiting for task in tasks):
            if time.monotonic() > deadline:
                for task in tasks:
                    if not task.done() and task not in go.waiting:
                        stalled[task] = f"before the go, while {stage_of(task)}"
                        task.cancel()
                break
            await asyncio.sleep(0.05)
        if on_go is not None:
            on_go()
        go.set()
        _, late = await asyncio.wait(tasks, timeout=timeout_s)
        for task in late:
            stalled[task] = f"after the go, while {stage_of(task)}"
            task.cancel()
        await asyncio.wait(tasks)
        for task in tasks:
            if task in stalled:
                run.results.append(UserResult(error=f"stalled for {timeout_s:g} s {stalled[task]}"))
            elif task.cancelled():
                run.results.append(UserResult(error="cancelled"))
            elif (exc := task.exception()) is not None:
                run.results.append(UserResult(error=f"{type(exc).__name__} while {stage_of(task)}: {exc}"[:200]))
            else:
                run.results.append(task.result())
    run.wall_s = time.perf_counter() - started
    return run
