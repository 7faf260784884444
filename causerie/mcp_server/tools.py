"""Causerie's tools for MCP clients: `ask`, `search` and `compare`, and nothing else of the app.

Each call is a question as the API asks it (answering/options.py checks every argument, the limits
count the caller as they count a visitor), answered through the same service as the page. The
caller's own key comes in the `X-Provider-Key` header and goes to the provider they named only; on
a public server the server's keys answer MCP callers only if the owner set MCP_OWNER_PAYS=1.
While a model thinks, searches or writes, the client gets progress notifications; a call the client
cancels (or whose connection drops) closes the provider's stream at once.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import aclosing
from typing import Any

import mcp.types as types
from mcp.server.lowlevel import Server
from starlette.requests import Request

from ..answering.answer import Answer
from ..answering.footer import footer_text
from ..answering.limits import Visitor, client_ip
from ..answering.options import InvalidOptions, api_options, question
from ..answering.prompts import default_preset
from ..answering.service import ChatService
from ..compare.compare import compare_once, compared, side_options, split_ref
from ..endpoints.providers import PROVIDERS
from ..events import Failure
from ..i18n.wording import language_of, words
from .route import SIGNED_IN, unless_disconnected
from .schemas import SEARCHES, checked, tool_list

KEY_HEADER_NAME = "X-Provider-Key"
KEY_HEADER = KEY_HEADER_NAME.lower()
"""The caller's own provider key (for the provider named in the call, or the default one)."""
PROGRESS_EVERY_S = 1.0
VERSION = "1"
log = logging.getLogger(__name__)


class Caller:
    """Who calls, read from the HTTP request of the call: their language, their own key, and who
    they are for the limits (a signed-in name, else their MCP session and address)."""

    def __init__(self, service: ChatService, request: Request | None) -> None:
        headers = request.headers if request is not None else {}
        self.language = language_of(headers.get("accept-language"))
        self.key = (headers.get(KEY_HEADER) or "").strip() or None
        settings = service.settings
        user = request.scope.get(SIGNED_IN) if request is not None else None
        self.visitor = Visitor(
            session=f"mcp:{headers.get('mcp-session-id')}" if headers.get("mcp-session-id") else None,
            ip=client_ip(request, settings.public.proxy_hops) if request is not None else None,
            user=f"user:{user}" if user else None,
        )
        # The server's keys answer an MCP caller on your own machine; on a public server, only if
        # the owner says so.
        self.owner_keys = not settings.public.public or settings.mcp.owner_pays


class ToolError(Exception):
    """A refusal worded for the caller (an MCP tool error, not a protocol error)."""


def _failure(failure: Failure, language: str, partial: str = "") -> ToolError:
    text = failure.said_in(language)
    if partial:  # a failing provider keeps what it wrote
        text += f"\n\n{words('page', 'mcp.partial', None, language)}\n\n{partial}"
    return ToolError(text)


class Progress:
    """Progress notifications for one call, if the client asked for them (a progress token): at
    each status (a retry, a search), when the model starts thinking, at the first token of the
    answer, then at most every PROGRESS_EVERY_S."""

    def __init__(self, server: Server, language: str) -> None:
        context = server.request_context
        self.session, self.request_id = context.session, context.request_id
        self.token = context.meta.progressToken if context.meta else None
        self.language, self.step, self.said, self.at = language, 0, "", -PROGRESS_EVERY_S

    async def say(self, message: str, *, now: bool = True) -> None:
        if self.token is None or message == self.said or (not now and time.monotonic() - self.at < PROGRESS_EVERY_S):
            return
        self.step += 1
        self.said, self.at = message, time.monotonic()
        await self.session.send_progress_notification(
            self.token, self.step, None, message, related_request_id=str(self.request_id)
        )

    async def follow(self, answers: AsyncIterator[Answer]) -> Answer | None:
        """The last answer of a stream of growing ones, saying how it goes."""
        answer, wrote = None, False
        async with aclosing(answers) as growing:
            async for answer in growing:
                who = f"{answer.provider_label} · {answer.model}" if answer.model else answer.provider_label
                if answer.status is not None:
                    await self.say(answer.status.said_in(self.language))
                elif answer.text:
                    params = {"model": who, "chars": len(answer.text)}
                    await self.say(words("page", "mcp.writing", params, self.language), now=not wrote)
                    wrote = True
                elif answer.reasoning:
                    await self.say(words("page", "mcp.thinking", {"model": who}, self.language))
        return answer


class CauserieTools:
    """The tools' handlers, on one ChatService."""

    def __init__(self, service: ChatService, server: Server, listed: list[types.Tool]) -> None:
        self.service, self.server = service, server
        default = default_preset(service.presets, service.settings.default_prompt)
        self.default_prompt = default.prompt if default else None
        self.schemas = {tool.name: tool.inputSchema for tool in listed}

    async def call(self, name: str, arguments: Mapping[str, Any]) -> types.CallToolResult:
        request = self.server.request_context.request
        caller = Caller(self.service, request if isinstance(request, Request) else None)
        handler = {"ask": self.ask, "search": self.search, "compare": self.compare}.get(name)
        if handler is None:
            return _error(f"Unknown tool {name!r}: this server has ask, search and compare.")
        try:
            checked(self.schemas[name], arguments)
            finished, result = await unless_disconnected(request, lambda: handler(dict(arguments), caller))
        except ToolError as refusal:
            return _error(str(refusal))
        except InvalidOptions as exc:
            failure = exc.failure
            if failure.params.get("argument") == "api_key" and "api_key" not in arguments:  # (given as a header)
                failure = Failure(failure.kind, {**failure.params, "argument": KEY_HEADER_NAME}, failure.status)
            return _error(failure.said_in(caller.language))
        except Exception:  # a bug of ours: logged with its trace; the caller is told, without it
            log.exception("MCP tool %s failed", name)
            return _error(words("failure", "internal", None, caller.language))
        return result if finished and result is not None else _error("The call ended with its connection.")

    def _options(self, arguments: dict[str, Any], caller: Caller, *, own_key: bool = True, **search: Any):
        """The call's options, checked as the API checks them; `own_key`: whether the caller's key
        goes with them (not to compare's several providers)."""
        return api_options(
            system_prompt=arguments.get("system_prompt"),
            default_system_prompt=self.default_prompt,
            provider=arguments.get("provider"),
            model=arguments.get("model"),
            temperature=None,
            top_p=None,
            max_tokens=arguments.get("max_tokens"),
            reasoning_effort=None,
            api_key=caller.key if own_key else None,
            asked_through="mcp",
            owner_keys=caller.owner_keys,
            **search,
        )

    async def _answer(self, options, text: Any, caller: Caller, argument: str) -> Answer:
        turns = [{"role": "user", "content": question(text, argument)}]
        progress = Progress(self.server, caller.language)
        chosen = self.service.provider_or_default(options.provider_id)
        who = " · ".join(filter(None, (chosen.label if chosen else "", options.model or "")))
        await progress.say(words("page", "mcp.asking", {"model": who or "?"}, caller.language))
        answer = await progress.follow(self.service.answers(options, turns, caller.visitor))
        if answer is None:
            raise ToolError("No answer.")
        if answer.failure is not None:
            raise _failure(answer.failure, caller.language, answer.text)
        return answer

    async def ask(self, arguments: dict[str, Any], caller: Caller) -> types.CallToolResult:
        answer = await self._answer(self._options(arguments, caller), arguments.get("message"), caller, "message")
        return _answered(answer, caller.language)

    async def search(self, arguments: dict[str, Any], caller: Caller) -> types.CallToolResult:
        sources = arguments.get("sources") or "web"
        tools = SEARCHES[sources]  # (checked: one of the schema's choices)
        if not arguments.get("provider"):
            arguments["provider"] = self._searching_provider(tools, caller, sources)
        options = self._options(
            arguments,
            caller,
            tools=list(tools),
            x_handles=",".join(arguments.get("x_handles") or ()),
            excluded_x_handles=",".join(arguments.get("excluded_x_handles") or ()),
            from_date=arguments.get("from_date"),
            to_date=arguments.get("to_date"),
        )
        return _answered(await self._answer(options, arguments.get("query"), caller, "query"), caller.language)

    def _searching_provider(self, tools: tuple[str, ...], caller: Caller, sources: str) -> str:
        """The provider a search goes to when none is named: the default one if it searches so;
        else, for a caller whose search the server pays, the first ready one that does. A caller's
        own key goes to the provider they name, or the default one, never to another."""
        default = self.service.default_provider()
        candidates = [default] if caller.key else [default, *self.service.settings.ready_providers()]
        for provider in candidates:
            if provider is not None and all(tool in provider.responses_tools for tool in tools):
                return provider.id
        what = words("page", f"mcp.sources.{sources}", None, caller.language)
        able = ", ".join(p.id for p in PROVIDERS if all(tool in p.responses_tools for tool in tools))
        raise _failure(
            Failure("no_search_provider", {"what": what, "why": "own_key" if caller.key else None, "able": able}), caller.language
        )

    async def compare(self, arguments: dict[str, Any], caller: Caller) -> types.CallToolResult:
        if not caller.owner_keys:
            raise _failure(Failure("mcp_compare_keys"), caller.language)
        refs = arguments["models"]  # (checked: a list of MIN_SIDES to MAX_SIDES strings)
        turns = [{"role": "user", "content": question(arguments.get("question"), "question")}]
        base = self._options({"system_prompt": arguments.get("system_prompt")}, caller, own_key=False)
        for ref in refs:
            if isinstance(split := split_ref(ref, "models"), Failure):
                raise InvalidOptions(split)
        progress = Progress(self.server, caller.language)
        await progress.say(words("page", "mcp.asking", {"model": ", ".join(refs)}, caller.language))
        answers = await compare_once(self.service, side_options(base, refs, argument="models[{}]"), turns, caller.visitor)
        entries = [compared(ref, answer) for ref, answer in zip(refs, answers, strict=True)]
        text = "\n\n".join(
            f"## {entry['model']}\n\n{entry['answer'] or ''}"
            + (f"\n\n⚠️ {answer.failure.said_in(caller.language)}" if answer.failure else "")
            + f"\n\n— {footer_text(answer, caller.language)}"
            for entry, answer in zip(entries, answers, strict=True)
        )
        return types.CallToolResult(
            content=[types.TextContent(type="text", text=text)],
            structuredContent={"answers": entries},
            isError=all(answer.failure is not None for answer in answers),
        )


def _answered(answer: Answer, language: str) -> types.CallToolResult:
    details = answer.details()
    text = answer.text
    if answer.citations:
        text += "\n\n" + "\n".join(f"[{rank}] {c.title or c.url} — {c.url}" for rank, c in enumerate(answer.citations, 1))
    text += f"\n\n— {footer_text(answer, language)}"
    kept = ("answer", "provider", "model", "usage", "cost_usd", "cost_source", "finish_reason", "notices", "citations")
    return types.CallToolResult(
        content=[types.TextContent(type="text", text=text)],
        structuredContent={name: details[name] for name in kept},
    )


def _error(text: str) -> types.CallToolResult:
    return types.CallToolResult(content=[types.TextContent(type="text", text=text)], isError=True)


def build_server(service: ChatService) -> Server:
    """The MCP server: its tool list and their handler."""
    server: Server = Server(
        "causerie", version=VERSION, instructions="Ask models, search the web and X with sources, compare models."
    )
    listed = tool_list(service)
    tools = CauserieTools(service, server, listed)

    @server.list_tools()
    async def list_tools() -> list[types.Tool]:
        return listed

    # (Our own check words each refusal by the argument's name: `checked`.)
    @server.call_tool(validate_input=False)
    async def call_tool(name: str, arguments: dict[str, Any]) -> types.CallToolResult:
        return await tools.call(name, arguments)

    return server
