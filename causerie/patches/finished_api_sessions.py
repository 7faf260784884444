"""Sessions Gradio keeps for nothing: those of API callers, let go once their calls are done.

Gradio makes a session state for every session hash an event comes with, and keeps it until
10,000 newer sessions have pushed it out (gradio/state_holder.py), with an entry in its queue's
tables per session (a message queue, a set of event ids). A page's session is let go once its
page has closed (the closed_sessions patch, from its heartbeat's end). An API caller
opens no page: curl on /call/ sends no session hash, so each call is a session of its own;
gradio_client keeps one per client (with a heartbeat while the client lives). Measured through
/chat with a new caller every 1/40 s, from the first to the fourth thousand: memory +39 to +48 MB,
CPU per answer +14 to +25 %, p95 time to first token 0.10 to 0.17 s (`bench/run.py --scenarios
api-sessions` plays it).

Here, in Gradio's once-a-second sweep, a session whose state a new one would equal (no State
value, no component an event replaced), with no event queued, running or not yet delivered to
its caller, and unused for a second (an event that has just begun may not have read its State
values yet), is let go with its queue entries (`release_session`, as for closed pages). Its next
event, if one comes, starts an identical state. A page's session holds its State values from its
first event on and is never let go this way.
"""

from __future__ import annotations

import datetime
import functools
import logging

from . import Patch
from .closed_sessions import release_session

IDLE_S = 1.0
"""How long a session must have been unused before it is let go as empty."""


def holds_nothing(state, default_blocks: dict) -> bool:
    """Whether a session's state is what a new one would be: no State value, and every block
    the page's own (an event that sets a component's props replaces it in the session)."""
    if state.state_data:
        return False
    blocks = state.blocks_config.blocks
    return len(blocks) == len(default_blocks) and all(blocks.get(key) is block for key, block in default_blocks.items())


def release_finished(holder) -> None:
    """Let go every session of `holder` (Gradio's StateHolder) that holds nothing, has no event
    pending and has been unused for IDLE_S."""
    blocks = getattr(holder, "blocks", None)
    if blocks is None:
        return
    queue = getattr(blocks, "_queue", None)
    pending = queue.pending_event_ids_session if queue is not None else {}
    default_blocks = blocks.default_config.blocks
    idle_since = datetime.datetime.now() - datetime.timedelta(seconds=IDLE_S)
    for session_id, state in list(holder.session_data.items()):
        if state.state_data or pending.get(session_id):  # (the quick checks first: most sessions are pages')
            continue
        used = holder.time_last_used.get(session_id)
        if (used is None or used <= idle_since) and holds_nothing(state, default_blocks):
            release_session(holder, queue, session_id)


@functools.cache
def release_finished_api_sessions() -> None:
    """In Gradio's sweep, before it: `release_finished`. If that fails (another Gradio), it is
    logged and Gradio's own sweep still runs."""
    from gradio import state_holder

    holder = state_holder.StateHolder
    sweep = holder.delete_all_expired_state
    log = logging.getLogger(__name__)

    @functools.wraps(sweep)
    def delete_all_expired_state(self) -> None:
        try:
            release_finished(self)
        except Exception:
            log.exception("API callers' sessions could not be released")
        sweep(self)

    holder.delete_all_expired_state = delete_all_expired_state


PATCH = Patch(
    name="finished_api_sessions",
    replaces=("gradio.state_holder:StateHolder.delete_all_expired_state",),
    reads={
        "gradio.state_holder:StateHolder.delete_all_expired_state": "b370c1e4fe80b0ac",
        "gradio.state_holder:StateHolder.delete_state": "23716062853420ad",
        "gradio.queueing:Queue.__init__": "8f39a4352e7ca36a",
        "gradio.state_holder:SessionState.__init__": "1b2ea21dc42c45da",
    },
    verified_on="gradio 6.31.0",
    buys="an API caller's session is let go once its calls end: before, +39 to +48 MB and p95 TTFT 0.10 to 0.17 s by the 4,000th caller at 40 a second (bench --scenarios api-sessions)",
    upstream="none yet",
    apply=lambda _app: release_finished_api_sessions(),
)
