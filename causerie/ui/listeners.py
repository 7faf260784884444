"""The option sets of the page's listeners, defined once (what each means: PROTOCOL.md, part 4).

None of the page's listeners is part of the API (`api_visibility="private"`); the API is ui/api.py.
"""

from __future__ import annotations

QUICK = {"api_visibility": "private", "queue": False}
"""Outside the queue: JavaScript steps, showing Send or Stop, small reads of the page's state."""

QUICK_PLAIN = {**QUICK, "postprocess": False}
"""Outside the queue, returning values in the form the page takes (no post-processing)."""

QUEUED_PLAIN = {"api_visibility": "private", "concurrency_limit": None, "postprocess": False}
"""Through the queue with no limit of their own (the list's handlers and saves: one at a time per
page, by the page's own lock), returning values in the form the page takes."""


def streamed(concurrency_limit: int, *, preprocess: bool = False) -> dict:
    """An answer's stream: through the queue, at most `concurrency_limit` at once. Without pre-
    or post-processing, the handlers take the browser's plain values and yield the chat in the
    form the browser takes (render.message): each would cost a worker-thread hop, per input when
    an answer starts and per update while it streams."""
    return {"api_visibility": "private", "concurrency_limit": concurrency_limit, "preprocess": preprocess, "postprocess": False}
