"""The MCP tools of answers: which servers a person may use, the tools each lists, the ones offered
to one answer, and the limits a round of tool calls is held to.

The service holds one; the rounds themselves are tool_rounds.py, and talking to the servers is
tools/mcp_client.py. Nothing here knows about Gradio.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import orjson

from ..config.settings import Settings
from ..config.tool_settings import VISITOR_LABEL, ToolServer, remote_tool
from ..endpoints.model_info import ModelInfo
from ..endpoints.providers import Endpoint, Provider
from ..endpoints.reading import ChatRequest
from ..events import Failure, Notice, Usage
from ..tools.approvals import Approvals, Approver
from ..tools.functions import Tool, Toolbox
from ..tools.mcp_client import McpClient
from .answer_log import AnswerRecords
from .budgets import DollarBudgets, Reservation, most_prompt_tokens
from .limits import CHARS_PER_TOKEN, RateLimiter, Visitor
from .messages import message_chars
from .options import ChatOptions
from .tool_rounds import RoundHooks, ToolRounds


def functions_chars(request: ChatRequest) -> int:
    """The size of the functions a request offers (their schemas go to the model with it)."""
    return sum(len(orjson.dumps(dict(f))) for f in request.functions)


@dataclass
class RoundsHeld:
    """What an answer's later rounds of tool calls set aside: settled with the answer."""

    tokens: int = 0
    budgets: list[Reservation] = field(default_factory=list)


class ToolUse:
    """The owner's MCP servers and a visitor's own, their tool lists (cached by McpClient), the
    calls waiting for a person (Approvals), and the limits every round of calls counts against."""

    def __init__(
        self,
        settings: Settings,
        allowance: RateLimiter,
        budgets: DollarBudgets,
        records: AnswerRecords,
    ) -> None:
        self.settings = settings
        self.allowance = allowance
        self.budgets = budgets
        self.records = records
        self.mcp = McpClient(settings.tools, public=settings.public.public, allowed_networks=settings.public.allowed_networks)
        self.approvals = Approvals()
        """Tool calls waiting for a person's click (tools/approvals.py)."""

    def servers(self, options: ChatOptions) -> list[ToolServer]:
        """The owner's MCP servers, and the person's own where the server allows their endpoints."""
        servers = list(self.settings.tools.servers)
        if options.mcp_server_url and self.settings.public.allow_custom_endpoints:
            servers.append(ToolServer(VISITOR_LABEL, options.mcp_server_url, owners=False))
        return servers

    async def tools_of(
        self, options: ChatOptions, visitor: Visitor | None = None
    ) -> list[tuple[ToolServer, list[Tool] | Failure]]:
        """Each server's tools (the settings list them), from the cache when listed lately. A
        visitor's server is listed for them alone, and counts as a request of theirs."""
        servers = self.servers(options)
        visitor = visitor or Visitor()
        who = self.records.visitor_hash(visitor) or ""

        async def listed(server: ToolServer) -> list[Tool] | Failure:
            if not server.owners and not self.mcp.cached(server, who) and not self.allowance.may_list(visitor):
                return Failure("limited", {"why": "lists"})
            return await self.mcp.tools(server, who)

        return list(zip(servers, await asyncio.gather(*map(listed, servers)), strict=True))

    async def toolbox(self, provider: Provider, options: ChatOptions, visitor: Visitor) -> tuple[Toolbox, tuple[Notice, ...]]:
        """The tools offered for this answer: those asked for, of servers that listed them."""
        wanted = set(options.mcp_tools)
        if not wanted:
            return Toolbox(), ()
        if not provider.functions:
            return Toolbox(), (Notice("tools_unsupported", {"provider": provider.label}),)
        tools: list[Tool] = []
        notices: list[Notice] = []
        servers = []
        for server, listed in await self.tools_of(options, visitor):
            if not ({"*", f"{server.label}:*"} & wanted or any(w.startswith(server.label + ":") for w in wanted)):
                continue
            if type(listed) is Failure:
                notices.append(Notice("tool_server", {"server": server.label, "detail": listed.message}))
                continue
            servers.append(server)
            tools += [t for t in listed if {"*", f"{server.label}:*", t.key} & wanted]
        return Toolbox.of(tools, servers), tuple(notices)

    def remote_tools(self, provider: Provider, options: ChatOptions, endpoint: Endpoint) -> tuple[dict[str, Any], ...]:
        """XAI_REMOTE_MCP servers chosen for this answer, for a provider that calls them itself, on the
        owner's own endpoint only (their tokens travel in the request)."""
        wanted = set(options.mcp_tools)
        if not wanted or not provider.remote_mcp or not endpoint.owner_pays or endpoint.public_only:
            return ()
        return tuple(remote_tool(s) for s in self.settings.tools.xai_remote if f"{s.label}:*" in wanted)  # (named, never "all")

    def rounds(
        self,
        request: ChatRequest,
        info: ModelInfo,
        toolbox: Toolbox,
        options: ChatOptions,
        visitor: Visitor,
        held: RoundsHeld,
    ) -> ToolRounds:
        """The tool rounds of one answer: each call counted against the visitor's questions, and each
        round after the first held to every limit a question is (its size, the questions and tokens
        of the visitor, the owner's dollar budgets), what it sets aside kept in `held`."""
        owner_pays = request.endpoint.owner_pays
        public = self.settings.public
        answer_tokens = request.params.get("max_tokens") or 0

        async def admit_call() -> Failure | None:
            return await self.allowance.admit_everywhere(visitor, owner_pays=owner_pays, reserve=0)

        async def admit_round(this: ChatRequest) -> Failure | None:
            chars = sum(map(message_chars, this.messages))
            if public.max_context_chars and chars > public.max_context_chars:
                return Failure("too_long", {"why": "context", "chars": chars, "limit": public.max_context_chars})
            tokens = (chars + functions_chars(this)) // CHARS_PER_TOKEN + answer_tokens
            if refused := await self.allowance.admit_everywhere(visitor, owner_pays=owner_pays, reserve=tokens):
                return refused
            held.tokens += tokens
            if not (owner_pays and self.budgets.on and not request.endpoint.provider.local):
                return None
            prompt = most_prompt_tokens(this.messages, info.context)
            most = info.cost_usd(Usage(prompt_tokens=prompt, completion_tokens=answer_tokens))
            budget = await self.budgets.reserve_listed(visitor, most, request.endpoint.provider, request.model)
            if type(budget) is Failure:
                return budget
            if budget is not None:
                held.budgets.append(budget)
            return None

        approver = Approver(
            self.approvals if options.approve_by else None,
            options.approve_by,
            options.conversation_id or "",
            options.auto_approve,
        )
        return ToolRounds(self.settings.tools, self.mcp, toolbox, approver, RoundHooks(admit_call, admit_round))

    def release(self, held: RoundsHeld) -> None:
        """Frees the dollars the later rounds set aside, once the answer's first reservation has
        been settled with the whole cost (their tokens are settled with the answer's own)."""
        for more in held.budgets:
            self.budgets.settle(more, 0.0)
