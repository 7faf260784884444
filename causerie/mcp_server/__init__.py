"""Causerie as an MCP server (MCP_SERVER=1): its tools for any MCP client, at /gradio_api/mcp/.

The `mcp` SDK is imported only when the server is on (`middleware`): the page's start-up does not
pay for it.
"""

from __future__ import annotations

from typing import Any

from starlette.middleware import Middleware

from ..answering.service import ChatService


def middleware(service: ChatService) -> list[Any]:
    """The ASGI middleware that serves the MCP tools, when MCP_SERVER=1; else none."""
    if not service.settings.mcp.on:
        return []
    from .route import LOOPBACK_NAMES, McpRoute
    from .tools import build_server

    settings = service.settings
    # On your own machine (the server's keys answer): requests addressed to it only. In public
    # mode anyone may call the tools anyway, under its rules.
    hosts = None if settings.public.public else LOOPBACK_NAMES | settings.mcp.allowed_hosts
    return [
        Middleware(
            McpRoute,
            server=build_server(service),
            users=settings.history.auth_users,
            hosts=hosts,
            proxy_hops=settings.public.proxy_hops,
        )
    ]
