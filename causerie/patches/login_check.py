"""Gradio's login check runs on the event loop, not in a worker thread."""

from __future__ import annotations

import functools
import inspect

from . import Patch


@functools.cache
def login_checked_in_place() -> None:
    """Gradio guards most of its routes (a question's join, the data stream, the page's quick
    steps, files, the config) with `login_check`, a plain function; FastAPI runs a plain
    dependency in a worker thread. So every such request waited for a thread and then for the
    GIL, which a busy event loop hands over only every `sys.getswitchinterval()` (5 ms): at a
    burst of questions, that was where each one waited longest before it was queued. The check
    reads two of the app's attributes and the user its other dependency found: it now runs where
    the request is, on the event loop. Only Gradio's own login_check, and only if its source is
    the one read here (a digest); any other plain dependency still goes to a thread."""
    from fastapi.dependencies import utils as dependency_utils
    from gradio.routes import App

    threadpool = dependency_utils.run_in_threadpool
    checks = [c for c in App.create_app.__code__.co_consts if inspect.iscode(c) and c.co_name == "login_check"]
    check = checks[0]

    @functools.wraps(threadpool)
    async def run_in_threadpool(function, *args, **kwargs):
        if getattr(function, "__code__", None) is check:
            return function(*args, **kwargs)
        return await threadpool(function, *args, **kwargs)

    dependency_utils.run_in_threadpool = run_in_threadpool


PATCH = Patch(
    name="login_check",
    replaces=("fastapi.dependencies.utils:run_in_threadpool",),
    reads={
        "gradio.routes:App.create_app/login_check": "8c092e2d379113a0",
        "fastapi.dependencies.utils:solve_dependencies": "19825365bd06b12b",
        "starlette.concurrency:run_in_threadpool": "d6ae32f8faf0bafe",
    },
    verified_on="gradio 6.31.0",
    buys="a wait for a thread and the GIL (5 ms switch interval) per request at a burst of questions (bench/NOTES.md)",
    upstream="none yet",
    apply=lambda _app: login_checked_in_place(),
    reach="every FastAPI app in the process: only Gradio's own login_check is run in place, any other dependency still goes to a thread",
)
