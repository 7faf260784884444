"""Closed pages' sessions released first, beyond the most recent CLOSED_SESSIONS_KEPT."""

from __future__ import annotations

import functools
import logging

from . import Patch


def release_session(holder, queue, session_id: str) -> None:
    """Forget a session as Gradio's eviction would, and its entries in Gradio's queue: its
    State values' delete callbacks run (as Gradio runs them); its next event starts afresh."""
    holder.delete_state(session_id)
    with holder.lock:
        holder.session_data.pop(session_id, None)
        holder.time_last_used.pop(session_id, None)
    if queue is not None:
        queue.pending_messages_per_session.pop(session_id, None)
        queue.pending_event_ids_session.pop(session_id, None)


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
            if queue is not None and any(
                event_id in queue.event_ids_to_events for event_id in queue.pending_event_ids_session.get(session_id, ())
            ):
                continue  # an event of this page is queued or running
            del closed[session_id]
            try:
                release_session(self, queue, session_id)
            except Exception:
                log.exception("A closed session could not be released")
        sweep(self)

    holder.delete_all_expired_state = delete_all_expired_state


PATCH = Patch(
    name="closed_sessions",
    replaces=("gradio.state_holder:StateHolder.delete_all_expired_state",),
    reads={
        "gradio.state_holder:StateHolder.delete_all_expired_state": "b370c1e4fe80b0ac",
        "gradio.state_holder:StateHolder.delete_state": "23716062853420ad",
        "gradio.queueing:Queue.__init__": "8f39a4352e7ca36a",
        "gradio.routes:App.create_app/heartbeat": "e0119884df4e179e",
    },
    verified_on="gradio 6.31.0",
    buys="a busy Space holds about 1,000 closed sessions (about 25 MB) instead of up to 10,000 (bench/NOTES.md)",
    upstream="none yet",
    apply=lambda _app: release_closed_sessions(),
)
