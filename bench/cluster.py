"""Several Causerie processes behind nginx, on loopback, configured by deploy/nginx.conf (its
ports swapped for free ones): for tests/test_scale_out.py and bench/run.py's two-process scenario.

Also a visitor that behaves as a browser behind the balancer does: one cookie jar, the page's load
steps (what they give the page, its conversation and browser ids, sent back as the page sends them:
load.open_page), then one question through the queue (join, then its data stream).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import re
import shutil
import signal
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from procs import App, free_port

from load import LIMITS, PAGE_VALUES, USER_TIMEOUT_S, GradioPlan, bounded, gradio_plan, note_stage, open_page

ROOT = Path(__file__).resolve().parents[1]
NGINX_CONF = ROOT / "deploy" / "nginx.conf"
TOKEN = re.compile(r"tok(\d+) ")


def nginx_binary() -> str | None:
    return shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)


class Cluster:
    """`processes` Causerie processes (python app.py, `env` added to each) and nginx in front,
    as deploy/nginx.conf has it. `url` is the balancer's; `backends` are the processes' ports."""

    def __init__(self, env: dict[str, str], processes: int = 2) -> None:
        binary = nginx_binary()
        if binary is None:
            raise RuntimeError("nginx is not installed: apt-get install nginx")
        self.folder = Path(tempfile.mkdtemp(prefix="causerie-cluster-"))
        self.backends = [free_port() for _ in range(processes)]
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.apps: list[App] = []
        self.nginx: App | None = None
        try:
            for port in self.backends:  # started together, then waited for
                self.apps.append(App(f"Causerie on port {port}", [sys.executable, "app.py"], env, port=port, wait=False))
            for app in self.apps:
                app.wait_ready()
            conf = self.folder / "nginx.conf"
            conf.write_text(self.config())
            self.nginx = App(
                "nginx",
                [
                    binary,
                    "-p",
                    str(self.folder),
                    "-c",
                    str(conf),
                    "-g",
                    f"daemon off; pid {self.folder / 'nginx.pid'}; error_log {self.folder / 'error.log'} warn;",
                ],
                {},
                port=self.port,
            )
        except BaseException:
            self.stop()
            raise

    def config(self) -> str:
        """deploy/nginx.conf on this cluster's ports, its temporary files in this cluster's folder,
        and each response saying which process served it (for the tests)."""
        text = NGINX_CONF.read_text()
        servers = "".join(f"        server 127.0.0.1:{port} max_fails=3 fail_timeout=10s;\n" for port in self.backends)
        text = re.sub(r"(        server 127\.0\.0\.1:\d+ [^\n]*\n)+", servers, text)
        text = text.replace("listen 8080;", f"listen 127.0.0.1:{self.port};")
        temp = "".join(
            f"    {name}_temp_path {self.folder / name};\n" for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        text = text.replace("http {\n", "http {\n" + temp, 1)
        return text.replace(
            "            add_header Set-Cookie",
            "            add_header X-Backend $upstream_addr always;\n            add_header Set-Cookie",
            1,
        )

    def kill(self, index: int) -> None:
        """The process dies at once, as a crashed or killed one does."""
        self.apps[index].process.send_signal(signal.SIGKILL)
        self.apps[index].process.wait(10)

    def pids(self) -> list[int]:
        return [app.process.pid for app in self.apps]

    def stop(self) -> None:
        for app in [*self.apps, *([self.nginx] if self.nginx else [])]:
            app.stop()
        shutil.rmtree(self.folder, ignore_errors=True)


@dataclass
class Visit:
    backend: str = ""
    """host:port of the process that served the question (nginx's X-Backend)."""
    tokens: int = 0
    ttft_s: float | None = None
    total_s: float | None = None
    completed: bool = False
    error: str | None = None
    messages: list[str] = field(default_factory=list)


async def visit(
    http: httpx.AsyncClient,
    plan: GradioPlan,
    ready: Callable[[], None] | None = None,
    go: asyncio.Event | None = None,
    first_token: Callable[[], None] | None = None,
) -> Visit:
    """One browser-like visitor through the balancer, with its own cookies (`http`): open the page
    (GET / and its load steps), then ask (the submit's quick steps, the queue's join, then its data
    stream to the end). `ready` (called whatever happens) and `go` hold the question until
    everyone's page is open; `first_token` is called when the answer's first token comes."""
    result = Visit()
    readied = False
    session = uuid.uuid4().hex[:11]
    base = plan.url
    seen: set[int] = set()

    async def predict(fn_index: int, data: list) -> list:
        response = await http.post(
            base + "gradio_api/run/predict",
            json={"data": data, "fn_index": fn_index, "session_hash": session, "event_data": None, "trigger_id": plan.trigger_id},
        )
        response.raise_for_status()
        return response.json().get("data") or []

    try:
        note_stage("opening the page")
        (await http.get(base)).raise_for_status()
        held = await open_page(plan, predict)
        readied = True
        if ready is not None:
            ready()
        if go is not None:
            await go.wait()
        clock = time.perf_counter()
        note_stage("asking")
        for fn_index in plan.quick_fns:
            await predict(fn_index, plan.data(fn_index, held))
        joined = await http.post(
            base + "gradio_api/queue/join",
            json={
                "data": plan.data(plan.chat_fn, held),
                "fn_index": plan.chat_fn,
                "session_hash": session,
                "event_data": None,
                "trigger_id": plan.trigger_id,
            },
        )
        joined.raise_for_status()
        result.backend = joined.headers.get("x-backend", "")
        note_stage("reading the answer's data stream")
        async with http.stream("GET", base + "gradio_api/queue/data", params={"session_hash": session}) as stream:
            async for line in stream.aiter_lines():
                if not line.startswith("data:"):
                    continue
                before = len(seen)
                seen.update(int(n) for n in TOKEN.findall(line))
                if result.ttft_s is None and len(seen) > before:
                    result.ttft_s = time.perf_counter() - clock
                    if first_token is not None:
                        first_token()
                if '"process_completed"' in line:
                    result.completed = '"success":true' in line.replace(" ", "")
                    if not result.completed:
                        result.messages.append(line[:300])
                    break
        result.total_s = time.perf_counter() - clock
        if not result.completed:
            result.error = "the stream ended before the answer"
    except (httpx.HTTPError, OSError) as exc:
        result.error = f"{type(exc).__name__}: {exc}"[:200]
    finally:
        if not readied and ready is not None:  # the others do not wait for a page that never opened
            ready()
    result.tokens = len(seen)
    return result


async def page_plan(url: str) -> GradioPlan:
    """What a visitor's page sends, asking the paced model (the env the cluster is given)."""
    async with httpx.AsyncClient(timeout=30) as probe:
        return await gradio_plan(probe, url, PAGE_VALUES)


@contextlib.asynccontextmanager
async def browsers(count: int, timeout: float = 30) -> AsyncIterator[list[httpx.AsyncClient]]:
    """`count` visitors' HTTP clients, each with its own cookies, closed at the end of the `with`."""
    clients = [httpx.AsyncClient(limits=LIMITS, timeout=httpx.Timeout(timeout, connect=10)) for _ in range(count)]
    try:
        yield clients
    finally:
        await asyncio.gather(*(client.aclose() for client in clients))


async def at_once(
    plan: GradioPlan,
    clients: list[httpx.AsyncClient],
    at_go: Callable[[], None] | None = None,
    when_answering: Callable[[], None] | None = None,
    timeout_s: float = USER_TIMEOUT_S,
) -> list[Visit]:
    """Every client opens the page; once all have, `at_go()` is called and they all ask at once.
    `when_answering()` is called once every answer has begun (or 20 s after the go). A visit not
    done after `timeout_s` is stopped, its error saying where it stalled."""
    opened, answering, go = [], [], asyncio.Event()
    tasks = [
        asyncio.create_task(
            bounded(
                visit(
                    client,
                    plan,
                    ready=functools.partial(opened.append, 1),
                    go=go,
                    first_token=functools.partial(answering.append, 1),
                ),
                timeout_s,
                lambda stalled: Visit(error=stalled),
            )
        )
        for client in clients
    ]
    while len(opened) < len(clients) and not all(task.done() for task in tasks):
        await asyncio.sleep(0.05)
    if at_go is not None:
        at_go()
    go.set()
    if when_answering is not None:
        deadline = time.monotonic() + 20
        while len(answering) < len(clients) and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        when_answering()
    return await asyncio.gather(*tasks)
