"""Gradio's queue loop, waiting for work instead of polling every millisecond.

Part of this module is adapted from Gradio (https://github.com/gradio-app/gradio), gradio/queueing.py (Queue.start_processing, lines 504-549), version 6.31.0,
Copyright Gradio authors, licensed under the Apache License 2.0 (http://www.apache.org/licenses/LICENSE-2.0);
the changes are described above.
"""

from __future__ import annotations

import functools

from . import Patch

QUEUE_POLL_S = 0.05


@functools.cache
def queue_wakes_on_work() -> None:
    """Gradio's queue looks for work to start every millisecond (`sleep_when_free`), whether or
    not anything came: 24 ms of CPU a second with the app idle, and under load a millisecond
    poll beside every answer (about a fifth of a fresh answer's CPU at 20 users). Here its loop
    waits instead until a question joins the queue or a running job ends (the only two changes
    that can make one startable), and looks anyway every QUEUE_POLL_S. What it does once woken is
    Gradio's loop as it is (gradio/queueing.py, Queue.start_processing)."""
    import asyncio
    import time

    from gradio import queueing

    queue_class = queueing.Queue
    push, process_events = queue_class.push, queue_class.process_events

    def wake(queue) -> None:
        if (work := getattr(queue, "_work", None)) is not None:
            work.set()

    @functools.wraps(push)
    async def push_and_wake(self, *args, **kwargs):
        try:
            return await push(self, *args, **kwargs)
        finally:
            wake(self)

    @functools.wraps(process_events)
    async def process_events_and_wake(self, *args, **kwargs):
        try:
            return await process_events(self, *args, **kwargs)
        finally:
            wake(self)

    async def until_work(self) -> None:
        """Until woken, or QUEUE_POLL_S. (Not asyncio.wait_for, which on Python 3.11 wraps the
        wait in a task of its own: one more turn of the busy event loop before a question that
        joined is started.)"""
        if not self._work.is_set():
            timer = asyncio.get_running_loop().call_later(QUEUE_POLL_S, self._work.set)
            try:
                await self._work.wait()
            finally:
                timer.cancel()
        self._work.clear()

    @functools.wraps(queue_class.start_processing)
    async def start_processing(self) -> None:
        self._work = asyncio.Event()
        try:
            while not self.stopped:
                if len(self) == 0 or None not in self.active_jobs:
                    await until_work(self)
                    continue
                async with self.delete_lock:  # (Gradio's loop from here on)
                    event_batch = self.get_events()
                if not event_batch:
                    await until_work(self)
                    continue
                events, batch, concurrency_id = event_batch
                self.active_jobs[self.active_jobs.index(None)] = events
                event_queue = self.event_queue_per_concurrency_id[concurrency_id]
                event_queue.current_concurrency += 1
                start_time = time.time()
                fn = events[0].fn
                event_queue.start_times_per_fn[fn].add(start_time)
                for event in events:
                    if (analytics := self.event_analytics.get(event._id)) is not None:
                        analytics["status"] = "processing"
                task = queueing.run_coro_in_background(self.process_events, events, batch, start_time, fn)
                queueing.set_task_name(task, events[0].session_hash, fn._id, events[0]._id, batch)
                self._asyncio_tasks.add(task)
                task.add_done_callback(self._asyncio_tasks.discard)
                if self.live_updates:
                    self.broadcast_estimations(concurrency_id)
        finally:
            self.stopped = True
            self._cancel_asyncio_tasks()

    queue_class.push, queue_class.process_events = push_and_wake, process_events_and_wake
    queue_class.start_processing = start_processing


PATCH = Patch(
    name="queue_loop",
    replaces=("gradio.queueing:Queue.start_processing", "gradio.queueing:Queue.push", "gradio.queueing:Queue.process_events"),
    reads={
        "gradio.queueing:Queue.start_processing": "d65be5a5cbed97d7",
        "gradio.queueing:Queue.push": "c7b4091f41b8f075",
        "gradio.queueing:Queue.process_events": "29a5c87974638f38",
        "gradio.queueing:Queue.get_events": "c35ce0aae0346e05",
        "gradio.queueing:Queue.__init__": "8f39a4352e7ca36a",
        "gradio.utils:run_coro_in_background": "ba363c0a83c41d5d",
        "gradio.utils:set_task_name": "12319f863ae473e9",
    },
    verified_on="gradio 6.31.0",
    buys="24 ms of CPU a second with the app idle, and about a fifth of a fresh answer's CPU at 20 users (bench/NOTES.md)",
    upstream="none yet",
    apply=lambda _app: queue_wakes_on_work(),
)
