"""An answer that calls tools: the model asks, a person approves, the MCP server runs the call, the
result goes back, and the model is asked again, until it answers (or MAX_TOOL_STEPS rounds).

It wraps a wire (`stream(ChatRequest) -> events`), and is itself one stream of events: the text,
thinking and usage of every round (usage added up), a `ToolStep` each time a call changes, and one
`Finish` at the very end. The calls of one round run at once, each as soon as it is approved.

What goes back to the model, in its own shape: the round's assistant message with its
`tool_calls`, then one `tool` message per call (its result; or that it was denied, failed or timed
out). Never the step ids, which only the page knows.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import aclosing
from dataclasses import dataclass, replace
from typing import Any

from ..config.tool_settings import ToolSettings
from ..endpoints.reading import ChatRequest
from ..events import Event, Failure, Finish, FunctionCall, Notice, TextDelta, ToolCalls, ToolStep, Usage
from ..tools.approvals import Approver
from ..tools.functions import Toolbox
from ..tools.mcp_client import McpClient, ToolResult
from .messages import NOT_IN_A_NAME, told

MOST_CALLS = 16
"""Calls one round may ask for; the ones after are answered as too many, and not run."""
ARGUMENT_CHARS = 20_000
"""A call's arguments, as shown and kept: at most this long."""


def added(total: Usage | None, more: Usage) -> Usage:
    """Two rounds' usage as one answer's: counts and costs added; estimated if either was."""

    def plus(a: Any, b: Any) -> Any:
        return b if a is None else a if b is None else a + b

    if total is None:
        return more
    return Usage(
        prompt_tokens=plus(total.prompt_tokens, more.prompt_tokens),
        completion_tokens=plus(total.completion_tokens, more.completion_tokens),
        reasoning_tokens=plus(total.reasoning_tokens, more.reasoning_tokens),
        cached_tokens=plus(total.cached_tokens, more.cached_tokens),
        estimated=total.estimated or more.estimated,
        cost_usd=None if total.cost_usd is None or more.cost_usd is None else total.cost_usd + more.cost_usd,
        cost_source=total.cost_source if total.cost_source == more.cost_source else None,
        tool_calls=plus(total.tool_calls, more.tool_calls),
    )


@dataclass(frozen=True)
class RoundHooks:
    """What the service does around the rounds: count one tool call against the visitor's limits
    (a refusal is the call's result), and admit one more round of the model (a refusal ends the
    answer)."""

    admit_call: Callable[[], Awaitable[Failure | None]]
    admit_round: Callable[[ChatRequest], Awaitable[Failure | None]]


class ToolRounds:
    def __init__(
        self,
        settings: ToolSettings,
        mcp: McpClient,
        toolbox: Toolbox,
        approver: Approver,
        hooks: RoundHooks,
    ) -> None:
        self.settings, self.mcp, self.toolbox, self.approver, self.hooks = settings, mcp, toolbox, approver, hooks

    async def stream(self, request: ChatRequest, wire: Callable[[ChatRequest], AsyncIterator[Event]]) -> AsyncIterator[Event]:
        calls_made = self.mcp.calls()
        messages = list(request.messages)
        usage: Usage | None = None
        try:
            for round_number in range(1, self.settings.max_steps + 2):
                last = round_number > self.settings.max_steps
                this = replace(request, messages=list(messages), tool_choice="none" if last else None)
                if round_number > 1 and (refused := await self.hooks.admit_round(this)):
                    yield refused
                    return
                asked: ToolCalls | None = None
                said: list[str] = []
                async with aclosing(wire(this)) as events:
                    async for event in events:
                        kind = type(event)
                        if kind is ToolCalls:
                            asked = event
                            continue
                        if kind is Usage:
                            usage = added(usage, event)
                            yield usage
                            continue
                        if kind is Finish and asked is not None:
                            break
                        if kind is TextDelta:
                            said.append(event.text)
                        yield event
                        if kind is Failure or kind is Finish:
                            return
                if asked is None:  # (a wire always ends with Finish or Failure; this is a backstop)
                    return
                if last:  # the model was told to answer and asked for more: it is said, and ends
                    yield Notice("tool_steps", {"limit": self.settings.max_steps})
                    yield Finish("tool_calls")
                    return
                steps: list[ToolStep] = []
                async with aclosing(self._run_round(asked.calls, round_number, calls_made)) as changes:
                    async for step in changes:  # (closed early, on Stop: no call goes on running or waiting)
                        if step.state in ("done", "failed", "denied"):
                            steps.append(step)
                        yield step
                steps.sort(key=lambda s: [c.call_id for c in asked.calls].index(s.call_id))
                messages.append(
                    {
                        "role": "assistant",
                        "content": "".join(said),
                        "tool_calls": [
                            {"id": c.call_id, "type": "function", "function": {"name": c.name, "arguments": c.arguments or "{}"}}
                            for c in asked.calls
                        ],
                    }
                )
                messages += [{"role": "tool", "tool_call_id": s.call_id, "content": told(s.state, s.result)} for s in steps]
                if said:
                    yield TextDelta("\n\n")  # (the next round's words start a paragraph of their own)
        finally:
            await calls_made.aclose()

    async def _run_round(self, calls: tuple[FunctionCall, ...], round_number: int, calls_made: Any) -> AsyncIterator[ToolStep]:
        """Every call of a round at once; each of their steps as it changes."""
        changes: asyncio.Queue[ToolStep | None] = asyncio.Queue()
        tasks = [
            asyncio.create_task(self._one(call, round_number, calls_made, changes.put_nowait, number >= MOST_CALLS))
            for number, call in enumerate(calls)
        ]
        try:
            left = len(tasks)
            for task in tasks:
                task.add_done_callback(lambda _: changes.put_nowait(None))
            while left:
                change = await changes.get()
                if change is None:
                    left -= 1
                    continue
                yield change
            for task in tasks:
                task.result()  # (an error of our own is raised, not lost)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)  # (a Stop: no call is left waiting)

    async def _one(
        self, call: FunctionCall, round_number: int, calls_made: Any, say: Callable[[ToolStep], None], too_many: bool = False
    ) -> None:
        tool = self.toolbox.by_function.get(call.name)
        step = ToolStep(
            id=secrets.token_urlsafe(12),
            server=tool.server if tool else "",
            tool=tool.name if tool else NOT_IN_A_NAME.sub("_", call.name)[:64],
            arguments=call.arguments[:ARGUMENT_CHARS],
            state="asked",
            call_id=call.call_id,
            function=call.name[:64],
            round=round_number,
        )
        if too_many:
            say(replace(step, state="failed", result=f"Too many calls at once: at most {MOST_CALLS} a round are run."))
            return
        if tool is None:
            say(replace(step, state="failed", result=f"There is no tool named {step.tool!r} here."))
            return
        try:
            arguments = json.loads(call.arguments or "{}")
        except ValueError:
            arguments = None
        if not isinstance(arguments, Mapping):
            say(replace(step, state="failed", result="The arguments are not a JSON object."))
            return
        decision = await self._decision(step, tool.key, say)
        if decision not in ("allow", "always"):
            say(replace(step, state="denied", result="" if decision == "deny" else decision))
            return
        if refused := await self.hooks.admit_call():
            say(replace(step, state="failed", result=refused.message))
            return
        say(step := replace(step, state="running"))
        started = time.perf_counter()
        result: ToolResult = await calls_made.call(self.toolbox.servers[tool.server], tool.name, arguments)
        say(
            replace(
                step,
                state="done" if result.ok else "failed",
                result=result.text,
                duration_s=round(time.perf_counter() - started, 3),
            )
        )

    async def _decision(self, step: ToolStep, key: str, say: Callable[[ToolStep], None]) -> str:
        """allow or always (approved: in advance, always in this conversation, or now), deny, or
        why it was not asked (no one can click: not approved in advance)."""
        approver, server = self.approver, self.toolbox.servers[step.server]
        if self.settings.pre_approved(server, step.tool) or {key, f"{step.server}:*"} & approver.approved:
            return "allow"
        if not approver.can_ask:
            return "not approved in advance (auto_approve)"
        assert approver.approvals is not None and approver.owner is not None
        if approver.approvals.always_allowed(approver.owner, approver.conversation, key):
            return "allow"
        say(replace(step, state="waiting"))
        decision = await approver.approvals.wait(step.id, approver.owner, approver.conversation, key)
        return "no answer in time" if decision == "unanswered" else decision
