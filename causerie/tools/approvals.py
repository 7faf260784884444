"""Tool calls waiting for a person's approval, and the tools they always allow in a conversation.

A step waits under its own id (unguessable: the page approves by it, and the model never sees it),
for its owner only: a run's owner (answering/runs.py), so a page that reloads, or another tab of the
same browser, can still answer it. "Always" is kept for that owner and conversation, in this
process, for the conversation's next answers too.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from dataclasses import dataclass, field

DECISIONS = ("allow", "deny", "always")
WAIT_S = 300.0
"""How long a call waits for a decision before it is taken as denied (the run itself may stop
sooner, when no page follows it: ANSWER_GRACE_SECONDS)."""
MOST_WAITING = 16
"""Calls waiting for one owner at once; more are taken as denied, not held."""


@dataclass
class _Waiting:
    owner: str
    conversation: str
    key: str
    decided: asyncio.Future


class Approvals:
    def __init__(self, wait_s: float = WAIT_S, most_conversations: int = 5_000) -> None:
        self.wait_s = wait_s
        self._waiting: dict[str, _Waiting] = {}
        self._always: OrderedDict[tuple[str, str], set[str]] = OrderedDict()
        self._most = most_conversations

    def always_allowed(self, owner: str, conversation: str, key: str) -> bool:
        return key in self._always.get((owner, conversation), ())

    async def wait(self, step_id: str, owner: str, conversation: str, key: str) -> str:
        """The decision on one call ("allow", "deny", "always"), or "unanswered" after wait_s."""
        if sum(1 for w in self._waiting.values() if w.owner == owner) >= MOST_WAITING:
            return "too many calls waiting for you"
        waiting = _Waiting(owner, conversation, key, asyncio.get_running_loop().create_future())
        self._waiting[step_id] = waiting
        try:
            return await asyncio.wait_for(waiting.decided, self.wait_s)
        except TimeoutError:
            return "unanswered"
        finally:
            self._waiting.pop(step_id, None)

    def decide(self, owner: str | None, step_id: str, decision: str) -> bool:
        """Whether the decision was taken: a step waiting, of this owner, and a known decision."""
        waiting = self._waiting.get(step_id)
        if waiting is None or owner is None or waiting.owner != owner or decision not in DECISIONS:
            return False
        if decision == "always":
            kept = self._always.setdefault((owner, waiting.conversation), set())
            kept.add(waiting.key)
            self._always.move_to_end((owner, waiting.conversation))
            while len(self._always) > self._most:
                self._always.popitem(last=False)
        if not waiting.decided.done():
            waiting.decided.set_result(decision)
        return True

    def waiting_of(self, owner: str) -> list[str]:
        """The steps waiting for this owner (for tests and the page after a reload)."""
        return [step for step, waiting in self._waiting.items() if waiting.owner == owner]


@dataclass(frozen=True)
class Approver:
    """Who approves one answer's calls. `owner`: the page's run owner, who may click; None: no one
    can (the API), so a call not approved in advance is denied. `approved`: "server:tool" approved in
    advance by the caller (the API's auto_approve)."""

    approvals: Approvals | None = None
    owner: str | None = None
    conversation: str = ""
    approved: frozenset[str] = field(default_factory=frozenset)

    @property
    def can_ask(self) -> bool:
        return self.approvals is not None and self.owner is not None
