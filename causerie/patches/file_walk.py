"""Outputs known to hold no file are not walked twice looking for files."""

from __future__ import annotations

import functools

from . import Patch
from .chat_marks import FileFree, holds_files


@functools.cache
def no_walk_without_files() -> None:
    """Before sending any output, Gradio walks the whole value twice looking for files (to move
    them to its cache, and to give them the app's root URL), one Python call per node, and copies
    it as it goes: with a long chat, most of the app's CPU per update (measured: 80 % with 100
    earlier turns). The chat handlers mark a chat that holds no file (render.FileFree, known from
    its questions once per answer); it is passed on as it is (the same objects, which also lets the
    streamed diff skip the unchanged history). An unmarked list as long as a chat (the chat an
    answer is asked with, walked once to check its files are uploads) is walked only if a file's
    mark ("gradio.FileData", which every file object Gradio looks for has) is in it: one C-level
    serialisation tells. Anything else is walked as before."""
    from gradio_client import utils as client_utils

    walk, async_walk = client_utils.traverse, client_utils.async_traverse
    file_checks = (client_utils.is_file_obj_with_meta, client_utils.is_file_obj_with_url)

    def holds_no_file(value, is_root) -> bool:
        if is_root not in file_checks or not isinstance(value, list):
            return False
        return isinstance(value, FileFree) or (len(value) >= 16 and not holds_files(value))

    @functools.wraps(walk)
    def traverse(json_obj, func, is_root):
        return json_obj if holds_no_file(json_obj, is_root) else walk(json_obj, func, is_root)

    @functools.wraps(async_walk)
    async def async_traverse(json_obj, func, is_root):
        return json_obj if holds_no_file(json_obj, is_root) else await async_walk(json_obj, func, is_root)

    client_utils.traverse, client_utils.async_traverse = traverse, async_traverse


PATCH = Patch(
    name="file_walk",
    replaces=("gradio_client.utils:traverse", "gradio_client.utils:async_traverse"),
    reads={
        "gradio_client.utils:traverse": "f28947e0bba40832",
        "gradio_client.utils:async_traverse": "2c3974d6b09af4e2",
        "gradio_client.utils:is_file_obj_with_meta": "9020a636fb9b8bb3",
        "gradio_client.utils:is_file_obj_with_url": "acc32f2d56cf4f63",
        "gradio.processing_utils:async_move_files_to_cache": "135eed5a9a73e53a",
        "gradio.processing_utils:add_root_url": "515f2ca0c75a416c",
    },
    verified_on="gradio 6.31.0",
    buys="80 % of the app's CPU per update with 100 earlier turns (bench/NOTES.md)",
    upstream="none yet",
    apply=lambda _app: no_walk_without_files(),
    reach="every Gradio app in the process, and gradio_client's Client (only lists marked or free of files are not walked)",
)
