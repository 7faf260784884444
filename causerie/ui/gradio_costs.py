"""Less of Gradio's work per new session and per streamed update, each measured (bench/NOTES.md)
and each checked to give what Gradio's own code gives (tests/test_ui_parts.py). Gradio is pinned
below 7 (requirements.txt); these replace parts of its internals, so an upgrade is checked here.
"""

from __future__ import annotations

import datetime
import functools
import inspect
import logging

import gradio as gr

from .gradio_sessions import release_finished_api_sessions, release_session
from .render import FileFree, holds_files

SCHEMA_METHODS = ("api_info", "api_info_as_input", "api_info_as_output")


def cut_costs(demo: gr.Blocks) -> None:
    """Every replacement below, for this page (build_demo calls it once the page is built). Each
    replaces Gradio's code once per process (functools.cache), however many pages are built, and
    keeps Gradio's function as `__wrapped__` (functools.wraps), which the tests compare it with."""
    reuse_api_schemas(demo)
    no_config_copies()
    release_closed_sessions()
    release_finished_api_sessions()  # (ui/gradio_sessions.py)
    skips_without_building()
    plain_chats_unchecked()
    queue_wakes_on_work()
    diff_from_first_change()
    no_walk_without_files()
    bodies_not_copied()
    marked_chats_not_copied()
    login_checked_in_place()
    generators_started_in_place()


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


@functools.cache
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


SKIPPED = {"__type__": "update"}


@functools.cache
def skips_without_building() -> None:
    """An output a handler leaves alone (`gr.skip()`, or left out of a dict return) is an update
    with no props; Gradio still builds a new component for it from the block's arguments (a
    pydantic schema, `inspect.signature`…), keeps it in the session, and sends the empty update.
    The page's opening step leaves four of its outputs alone for a new visitor: four components
    built per page opened and held per session. For handlers that skip post-processing (this
    app's), such an output is sent as the same empty update without building anything."""
    from gradio.blocks import Blocks, convert_component_dict_to_list

    original = Blocks.postprocess_data

    @functools.wraps(original)
    async def postprocess_data(self, block_fn, predictions, state):
        outputs = block_fn.outputs
        if block_fn.postprocess or block_fn.batch or len(outputs) < 2:
            return await original(self, block_fn, predictions, state)
        if type(predictions) is dict and predictions:  # ({} goes to Gradio, which refuses it)
            values = ([dict(SKIPPED) for _ in outputs] if predictions == SKIPPED
                      else convert_component_dict_to_list(list(outputs), predictions))
        else:
            values = predictions
        if not isinstance(values, (list, tuple)):
            return await original(self, block_fn, predictions, state)
        left = [i for i, (value, block) in enumerate(zip(values, outputs, strict=False))
                if type(value) is dict and value == SKIPPED and not block.stateful]
        if not left:
            return await original(self, block_fn, values, state)
        values = list(values)
        for i in left:
            values[i] = None  # passed on as it is (no post-processing), then replaced
        output = await original(self, block_fn, values, state)
        for i in left:
            output[i] = dict(SKIPPED)
        return output

    Blocks.postprocess_data = postprocess_data


_MESSAGE_KEYS = frozenset(("role", "content", "metadata", "options"))
_TEXT_PART_KEYS = frozenset(("type", "text"))


def plain_messages(value) -> FileFree | None:
    """A chat as Gradio's Chatbot data model would give it back after checking it, when every
    message is plain text (no file, no thought's metadata, no options); otherwise None, and
    Gradio's own model checks it (files are checked there: where they may be read from). Such a
    chat holds no file: it comes marked FileFree. A message that already has the model's four
    keys is given back as it is, not copied (equal to the model's copy of it)."""
    if type(value) is not list:
        return None
    out = FileFree()
    for message in value:
        if (type(message) is not dict or not message.keys() <= _MESSAGE_KEYS or type(message.get("role")) is not str
                or message.get("metadata") is not None or message.get("options") is not None
                or type(parts := message.get("content")) is not list):
            return None
        for part in parts:
            if type(part) is not dict or part.keys() != _TEXT_PART_KEYS or part["type"] != "text" or type(part["text"]) is not str:
                return None
        out.append(message if len(message) == len(_MESSAGE_KEYS) else
                   {"role": message["role"], "metadata": None, "content": parts, "options": None})
    return out


@functools.cache
def plain_chats_unchecked() -> None:
    """Gradio checks a chat sent by the page against the Chatbot's pydantic model and dumps it
    back, even for a handler that takes the plain value: 1.1 ms for a chat of 100 turns, paid
    before the answer starts (now only for Retry, Edit, and a page asked for its chat: a question
    sends a mark of the chat, ChatHandlers.submit). For handlers without
    pre-processing, a chat of plain text messages is checked here instead (`plain_messages`,
    which gives the same value back, tests/test_ui_parts.py); anything else goes to Gradio's."""
    from gradio.blocks import Blocks
    from gradio.components import Chatbot

    original = Blocks.preprocess_data

    @functools.wraps(original)
    async def preprocess_data(self, block_fn, inputs, state, explicit_call: bool = False):
        if block_fn.preprocess or type(inputs) is not list:
            return await original(self, block_fn, inputs, state, explicit_call)
        plain = {}
        for i, block in enumerate(block_fn.inputs[:len(inputs)]):
            if (isinstance(block, Chatbot) and i not in block_fn.component_prop_inputs
                    and (messages := plain_messages(inputs[i])) is not None):
                plain[i] = messages
        if not plain:
            return await original(self, block_fn, inputs, state, explicit_call)
        inputs = list(inputs)
        for i in plain:
            inputs[i] = None  # nothing for Gradio to check
        processed = await original(self, block_fn, inputs, state, explicit_call)
        for i, messages in plain.items():
            processed[i] = messages
        return processed

    Blocks.preprocess_data = preprocess_data


QUEUE_POLL_S = 0.05
GRADIO_START_PROCESSING_DIGEST = "d65be5a5cbed97d7"
"""Of the source of gradio.queueing.Queue.start_processing that queue_wakes_on_work rewrites."""


def _source_digest(function) -> str:
    """Of a function's (or code object's) source."""
    import hashlib

    try:
        return hashlib.sha256(inspect.getsource(function).encode()).hexdigest()[:16]
    except (OSError, TypeError):  # no source to read
        return ""


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
    if _source_digest(queue_class.start_processing) != GRADIO_START_PROCESSING_DIGEST:
        # Another Gradio: its loop may do more than the one rewritten below. Left as it is.
        logging.getLogger(__name__).warning("Gradio's queue loop has changed; it keeps its own polling")
        return
    push, process_events = queue_class.push, queue_class.process_events

    def wake(queue) -> None:
        if (work := getattr(queue, "_work", None)) is not None:
            work.set()

    async def push_and_wake(self, *args, **kwargs):
        try:
            return await push(self, *args, **kwargs)
        finally:
            wake(self)

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


CLOSED_SESSIONS_KEPT = 1000


@functools.cache
def release_closed_sessions(kept: int = CLOSED_SESSIONS_KEPT) -> None:
    """Gradio keeps every session's state (its copy of the page's block table, the components its
    events replaced, its State values) until 10,000 newer sessions have pushed it out, closed or
    not: on a busy Space, hours after the page closed, and its once-a-second sweep visits each.
    It knows when a page closes (its heartbeat stream ends: the session is marked closed).

    Here Gradio's eviction starts with closed sessions: beyond the `kept` most recently closed,
    a closed session is dropped whole (with its entries in Gradio's queue), oldest close first,
    provided it has not been used since its close was seen and has no event queued or running.
    A quiet Space keeps its closed sessions as Gradio does; a busy one holds about `kept` of
    them (1,000: about 25 MB), however many visitors come and go.

    The heartbeat does not come back after a dropped connection, so a page that lost it (a
    laptop asleep, a phone in a pocket) looks closed while idle. If it was dropped meanwhile,
    its next event starts a fresh session state, as after Gradio's own eviction: the chat on
    screen and everything saved stay (answers the store refused too: their retry holds them,
    Keeper.save_when_back); what only the session held (an open comparison's votes) does not. Runs in Gradio's own sweep, on the
    event loop; a failure to release one session is logged and leaves the others to go."""
    from collections import OrderedDict

    from gradio import state_holder

    holder = state_holder.StateHolder
    sweep = holder.delete_all_expired_state
    log = logging.getLogger(__name__)

    @functools.wraps(sweep)
    def delete_all_expired_state(self) -> None:
        closed = self.__dict__.setdefault("_closed", OrderedDict())  # session id -> its last use when seen closed
        used = self.time_last_used
        for session_id, state in list(self.session_data.items()):
            if state.is_closed and session_id not in closed:
                closed[session_id] = used.get(session_id)
        queue = getattr(getattr(self, "blocks", None), "_queue", None)
        for session_id, last_use in list(closed.items()):
            if len(closed) <= kept:
                break
            if session_id not in self.session_data or used.get(session_id) != last_use:
                del closed[session_id]  # gone already, or used since (seen closed again next time)
                continue
            if queue is not None and any(event_id in queue.event_ids_to_events
                                         for event_id in queue.pending_event_ids_session.get(session_id, ())):
                continue  # an event of this page is queued or running
            del closed[session_id]
            try:
                release_session(self, queue, session_id)
            except Exception:
                log.exception("A closed session could not be released")
        sweep(self)

    holder.delete_all_expired_state = delete_all_expired_state


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

    def traverse(json_obj, func, is_root):
        return json_obj if holds_no_file(json_obj, is_root) else walk(json_obj, func, is_root)

    async def async_traverse(json_obj, func, is_root):
        return json_obj if holds_no_file(json_obj, is_root) else await async_walk(json_obj, func, is_root)

    client_utils.traverse, client_utils.async_traverse = traverse, async_traverse


def _plain_dumps(*model_classes) -> bool:
    """Whether pydantic's model_dump of these classes is only their fields' values dumped: no
    computed field, no extra field kept (what the dumps below rely on to give the same dict)."""
    return all(not cls.model_computed_fields and cls.model_config.get("extra") != "allow" for cls in model_classes)


@functools.cache
def bodies_not_copied() -> None:
    """Gradio copies, with pydantic's model_dump, the body of every request it queues
    (`PredictBodyInternal(**body.model_dump(), ...)`), and with it any chat the page sends (with
    Retry and Edit, or when asked for it: ChatHandlers.submit): with 100 earlier turns, 600 new
    objects made and collected. Gradio makes a PredictBody only from a request's JSON (FastAPI's
    validation; a dump of one), so its values are JSON values, which a dump would copy into equal
    ones: such a body is now dumped with its values as they are (the data list copied, as pydantic
    copies it). A subclass's body, and any call with arguments, is pydantic's own dump."""
    from gradio.data_classes import PredictBody

    if not _plain_dumps(PredictBody):
        logging.getLogger(__name__).warning("Gradio's request body has changed; it keeps being copied")
        return
    fields, whole = tuple(PredictBody.model_fields), PredictBody.model_dump

    @functools.wraps(whole)
    def model_dump(self, **kwargs):
        if kwargs or type(self) is not PredictBody:
            return whole(self, **kwargs)
        dumped = {name: getattr(self, name) for name in fields}
        dumped["data"] = list(self.data)
        return dumped

    PredictBody.model_dump = model_dump


@functools.cache
def marked_chats_not_copied() -> None:
    """Gradio dumps every message of the data stream with pydantic before serialising it, and
    an answer's first update and its completion message carry the whole chat: two copies of it per
    answer. A streamed or completed message whose output holds a chat marked FileFree (plain JSON
    values only: render.FileFree) now keeps that chat as it is in its dump; the message's other
    values are dumped by pydantic, as before, and any call with arguments is pydantic's own."""
    from gradio.server_messages import ProcessCompletedMessage, ProcessGeneratingMessage

    if not _plain_dumps(ProcessGeneratingMessage, ProcessCompletedMessage):
        logging.getLogger(__name__).warning("Gradio's stream messages have changed; their chats keep being copied")
        return
    for message_class in (ProcessGeneratingMessage, ProcessCompletedMessage):
        message_class.model_dump = _message_dump(message_class)


def _message_dump(message_class):
    from typing import Any

    from pydantic import TypeAdapter

    fields, whole, anything = tuple(message_class.model_fields), message_class.model_dump, TypeAdapter(Any)

    def dumped_output(output: dict) -> dict:
        """As pydantic dumps the output (a dict of anything), the marked chats in its data kept."""
        return {key: [item if type(item) is FileFree else anything.dump_python(item) for item in value]
                if key == "data" else anything.dump_python(value) for key, value in output.items()}

    @functools.wraps(whole)
    def model_dump(self, **kwargs):
        data = None if kwargs else self.output.get("data")
        if type(data) is not list or not any(type(item) is FileFree for item in data):
            return whole(self, **kwargs)
        return {**{name: getattr(self, name) for name in fields}, "output": dumped_output(self.output)}

    return model_dump


GRADIO_LOGIN_CHECK_DIGEST = "8c092e2d379113a0"
"""Of the source of Gradio's login_check (gradio/routes.py, in App.create_app)."""


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
    if len(checks) != 1 or _source_digest(checks[0]) != GRADIO_LOGIN_CHECK_DIGEST:
        logging.getLogger(__name__).warning("Gradio's login check has changed; it keeps running in a thread")
        return
    check = checks[0]

    @functools.wraps(threadpool)
    async def run_in_threadpool(function, *args, **kwargs):
        if getattr(function, "__code__", None) is check:
            return function(*args, **kwargs)
        return await threadpool(function, *args, **kwargs)

    dependency_utils.run_in_threadpool = run_in_threadpool


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
