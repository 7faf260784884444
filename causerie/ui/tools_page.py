"""The page's tools: in the drawer, the MCP servers' tools on or off and a visitor's own server;
in the chat, each call's Allow / Deny / Always (ui/js/chat_links.js clicks a hidden button).

Shown where tools can be had: the owner lists servers (MCP_SERVERS), or the server lets people
bring their own endpoints (ALLOW_CUSTOM_ENDPOINTS). The lists are fetched after the page opens,
never in its way (tools/mcp_client.py caches them).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import gradio as gr

from ..answering.options import ChatOptions, InvalidOptions, base_url_value
from ..answering.service import ChatService
from ..events import Failure
from ..i18n.wording import words
from .labels import Labels
from .listeners import QUICK
from .panel import PageSettings
from .visitors import page_language, run_owner, visitor_of

TOOLS_CSS = """
#tool-decide { display: none !important; }
#chatbot a[href^="#causerie-tool-"] { display: inline-block; padding: 2px 10px; margin: 2px 0; border-radius: 6px;
  border: 1px solid var(--border-color-primary); text-decoration: none; }
#chatbot a[href^="#causerie-tool-allow-"] { border-color: var(--color-accent); }
"""


@dataclass(frozen=True)
class ToolParts:
    decide: Any
    """The hidden button the page's approval links click."""
    asked: Any
    """A hidden box: "<decision>:<step id>", set by the page's script."""
    choices: Any = None
    server: Any = None
    note: Any = None


def offers_tools(service: ChatService) -> bool:
    settings = service.settings
    return bool(settings.tools.servers or settings.tools.xai_remote) or settings.public.allow_custom_endpoints


def build_tool_controls(service: ChatService) -> ToolParts | None:
    """Beside the chat: what the approval links click."""
    if not offers_tools(service):
        return None
    return ToolParts(decide=gr.Button("decide", elem_id="tool-decide"), asked=gr.Textbox("", visible=False))


def build_tool_settings(service: ChatService, say: Labels, parts: ToolParts | None) -> ToolParts | None:
    """In the drawer: which tools the model may ask for, and a server of the person's own."""
    if parts is None:
        return None
    with gr.Accordion(say("tools"), open=False, elem_id="tool-options"):
        choices = gr.CheckboxGroup([], value=[], label=say("tools_on"), elem_id="mcp-tools")
        server = None
        if service.settings.public.allow_custom_endpoints:
            server = gr.Textbox("", label=say("tools_server"), placeholder="https://…/mcp", elem_id="mcp-server", max_lines=1)
        note = gr.Markdown("", elem_id="mcp-note")
    return replace(parts, choices=choices, server=server, note=note)


def with_tools(page: PageSettings, parts: ToolParts | None) -> PageSettings:
    """The settings with the tool boxes, read for each answer (PageSettings.options)."""
    if parts is None:
        return page
    return replace(page, mcp_tools=parts.choices, mcp_server=parts.server)


def wire_tools(demo: gr.Blocks, service: ChatService, parts: ToolParts | None, browser: Any) -> None:
    if parts is None:
        return
    secret = service.settings.history.secret

    async def approve(asked: str, browser_id: Any, request: gr.Request) -> None:  # (on the event loop, as the wait)
        decision, _, step = str(asked or "").partition(":")
        service.tools.approvals.decide(run_owner(request, browser_id, secret), step, decision)

    parts.decide.click(
        approve,
        [parts.asked, browser],
        None,
        js="(asked, browser) => [window.causerieChatLinks?.asked ?? '', browser]",
        **QUICK,
    )

    async def listed(url: str | None, chosen: list[str] | None, request: gr.Request, *, all_on: bool):
        """The tools to choose from; those of servers new to the list are on."""
        language = page_language(request)
        try:
            own = base_url_value(url) if url else None
        except InvalidOptions as exc:
            return gr.update(), exc.failure.said_in(language)
        options = ChatOptions(mcp_server_url=own)
        found = await service.tools.tools_of(options, visitor_of(request, service.settings))
        choices, lines, new = [], [], []
        for server, tools in found:
            if type(tools) is Failure:
                lines.append(words("page", "tools.unlisted", {"server": server.label, "why": tools.said_in(language)}, language))
                continue
            lines.append(words("page", "tools.listed", {"server": server.label, "count": len(tools)}, language))
            for tool in tools:
                choices.append((f"{server.label} · {tool.name}", tool.key))
                if all_on or not server.owners:
                    new.append(tool.key)
        if any(p.remote_mcp for p in service.ready_providers()):  # (called by the provider itself: xAI)
            for server in service.settings.tools.xai_remote:
                # (Off until chosen: xAI calls them with no approval.)
                choices.append((words("page", "tools.remote", {"server": server.label}, language), f"{server.label}:*"))
        keys = {key for _, key in choices}
        value = sorted({key for key in (chosen or ()) if key in keys} | set(new))
        return gr.update(choices=choices, value=value), " · ".join(lines)

    if service.settings.tools.servers or service.settings.tools.xai_remote:

        async def on_open(request: gr.Request):
            return await listed(None, None, request, all_on=True)

        demo.load(on_open, None, [parts.choices, parts.note], api_visibility="private", concurrency_limit=None)
    if parts.server is not None:

        async def on_server(url: str, chosen: list[str], request: gr.Request):
            return await listed(url, chosen, request, all_on=False)

        for event in (parts.server.submit, parts.server.blur):
            event(
                on_server,
                [parts.server, parts.choices],
                [parts.choices, parts.note],
                api_visibility="private",
                concurrency_limit=None,
            )
