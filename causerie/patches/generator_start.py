"""An async-generator handler is made where it is called, not in a worker thread."""

from __future__ import annotations

import functools
import inspect

from . import Patch


class _ToThread:
    """anyio.to_thread as gradio.blocks sees it (generators_started_in_place)."""

    def __init__(self, to_thread) -> None:
        self._to_thread = to_thread

    async def run_sync(self, function, *args, **kwargs):
        if inspect.isasyncgenfunction(function):  # the call makes the generator; none of its code runs
            return function(*args)  # (kwargs: gradio.blocks passes only its thread `limiter`)
        return await self._to_thread.run_sync(function, *args, **kwargs)

    def __getattr__(self, name):
        return getattr(self._to_thread, name)


class _Anyio:
    """anyio as gradio.blocks sees it: the same, but for to_thread (_ToThread)."""

    def __init__(self, anyio) -> None:
        self._anyio, self.to_thread = anyio, _ToThread(anyio.to_thread)

    def __getattr__(self, name):
        return getattr(self._anyio, name)


@functools.cache
def generators_started_in_place() -> None:
    """Gradio calls an event's function in a worker thread unless it is a coroutine function;
    an async generator function (every streamed answer's handler) is not one, so the call that
    only makes the generator went to a thread, and waited there for the GIL, which a busy event
    loop hands over every `sys.getswitchinterval()` (5 ms): at a burst of questions, each waited
    that long before its answer began. gradio.blocks now sees an anyio whose to_thread.run_sync
    makes such a generator where it is called (none of the generator's code runs until it is
    iterated, on the loop, as before); every other function still goes to a thread."""
    from gradio import blocks

    blocks.anyio = _Anyio(blocks.anyio)


PATCH = Patch(
    name="generator_start",
    replaces=("gradio.blocks:anyio",),
    reads={
        "gradio.blocks:Blocks.call_function": "f919f92d12581559",
        "anyio.to_thread:run_sync": "d57aa490575c1b2e",
    },
    verified_on="gradio 6.31.0",
    buys="a wait for a thread and the GIL before every streamed answer began, at a burst of questions (bench/NOTES.md)",
    upstream="none yet",
    apply=lambda _app: generators_started_in_place(),
)
