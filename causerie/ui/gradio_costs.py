"""Less of Gradio's work per new session and per streamed update, each measured (bench/NOTES.md)
and each checked to give what Gradio's own code gives (tests/test_ui_parts.py). Gradio is pinned
below 7 (requirements.txt); these replace parts of its internals, so an upgrade is checked here.
"""

from __future__ import annotations

import datetime
import functools

import gradio as gr

from .render import holds_files

SCHEMA_METHODS = ("api_info", "api_info_as_input", "api_info_as_output")


def reuse_api_schemas(demo: gr.Blocks) -> None:
    """A component's config includes its API schema, which several components (UploadButton,
    Chatbot…) make anew with pydantic every time, though it never changes for a given component
    (19 ms of CPU per page open at first). Computed once per component, then reused."""
    for block in demo.blocks.values():
        for name in SCHEMA_METHODS:
            method = getattr(block, name, None)
            if callable(method) and name not in vars(block):
                setattr(block, name, functools.cache(method))


class _ConfigOnly:
    """What SessionState.__init__ reads of the Blocks, with no blocks to copy configs of."""

    __slots__ = ("blocks", "default_config")

    def __init__(self, default_config) -> None:
        self.default_config, self.blocks = default_config, {}


def no_config_copies() -> None:
    """Gradio's SessionState keeps, for each session, a config of every block of the page, made
    when the session starts and remade (or given the new value) whenever an event reads or sets a
    block (`config_values`). Its one reader is deep links (gr.DeepLinkButton), which this app does
    not offer. Measured with this page (151 blocks): 7 ms of CPU and about 200 KB of memory per
    new session, then a config per input and per update of every answer, and each session's chat
    held in it until Gradio drops the session (up to 10,000 sessions later). Here a session keeps
    only what it must: its State values and the components its events replaced. A deep link, if
    one were asked for, would get the blocks as built (with any props an event replaced), not the
    values the session's inputs and outputs held: the app offers none."""
    from gradio import state_holder
    from gradio.components import State

    session = state_holder.SessionState
    if getattr(session, "_no_config_copies", False):
        return
    original_init = session.__init__

    def __init__(self, blocks) -> None:
        original_init(self, _ConfigOnly(blocks.default_config))
        self._page_blocks = blocks.blocks

    def __setitem__(self, key: int, value) -> None:
        block = self.blocks_config.blocks.get(key)
        if isinstance(block, State):
            self._state_ttl[key] = (block.time_to_live, datetime.datetime.now())
            self.state_data[key] = value
        else:
            self.blocks_config.blocks[key] = value

    def components(self):
        for key, block in self.blocks_config.blocks.items():
            if key in self._page_blocks and (config := self.blocks_config.config_for_block(key, [], block)):
                yield config

    session.__init__ = __init__
    session.__setitem__ = __setitem__
    session._update_config = lambda self, key: None
    session._update_value_in_config = lambda self, key, value: None
    session.components = property(components)
    session._no_config_copies = True


def diff_from_first_change() -> None:
    """Gradio sends each streamed update as a diff from the last one (gradio.utils.diff), which
    walks the whole value, one Python call per message of the chat: its cost grew with the chat's
    length, per update. An update's chat begins with the very message objects of the last one
    (the earlier turns), so the walk starts where they stop being the same objects: the same
    edits (tests/test_ui_parts.py compares them), without the walk over the history."""
    from gradio import utils

    if getattr(utils.diff, "_from_first_change", False):
        return
    whole = utils.diff

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

    diff._from_first_change = True
    utils.diff = diff


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

    if getattr(client_utils.traverse, "_no_walk_without_files", False):
        return
    walk, async_walk = client_utils.traverse, client_utils.async_traverse
    file_checks = (client_utils.is_file_obj_with_meta, client_utils.is_file_obj_with_url)

    def holds_no_file(value, is_root) -> bool:
        if is_root not in file_checks or not isinstance(value, list):
            return False
        if getattr(value, "holds_no_file", False):
            return True
        if len(value) < 16:
            return False
        return not holds_files(value)

    def traverse(json_obj, func, is_root):
        return json_obj if holds_no_file(json_obj, is_root) else walk(json_obj, func, is_root)

    async def async_traverse(json_obj, func, is_root):
        return json_obj if holds_no_file(json_obj, is_root) else await async_walk(json_obj, func, is_root)

    traverse._no_walk_without_files = True
    client_utils.traverse, client_utils.async_traverse = traverse, async_traverse
