"""A streamed update's diff starts where the chat stops being the same objects."""

from __future__ import annotations

import functools

from . import Patch


@functools.cache
def diff_from_first_change() -> None:
    """Gradio sends each streamed update as a diff from the last one (gradio.utils.diff), which
    walks the whole value, one Python call per message of the chat: its cost grew with the chat's
    length, per update. An update's chat begins with the very message objects of the last one
    (the earlier turns), so the walk starts where they stop being the same objects: the same
    edits (tests/test_ui_parts.py compares them), without the walk over the history."""
    from gradio import utils

    whole = utils.diff

    @functools.wraps(whole)
    def diff(old, new):
        if isinstance(old, list) and type(new) is type(old):  # (a chat may be a list subclass: render.FileFree)
            shared, start = min(len(old), len(new)), 0
            while start < shared and old[start] is new[start]:
                start += 1
            if start:
                edits = whole(old[start:], new[start:])
                for edit in edits:  # each edit's path starts with its index in the list
                    edit[1][0] += start
                return edits
        return whole(old, new)

    utils.diff = diff


PATCH = Patch(
    name="stream_diff",
    replaces=("gradio.utils:diff",),
    reads={
        "gradio.utils:diff": "06eace6b99ed23a3",
        "gradio.blocks:Blocks.handle_streaming_diffs": "6023f1a42fe834a4",
    },
    verified_on="gradio 6.31.0",
    buys="a walk over the whole history per update: its cost grew with the chat (bench/NOTES.md, long chats)",
    upstream="none yet",
    apply=lambda _app: diff_from_first_change(),
)
