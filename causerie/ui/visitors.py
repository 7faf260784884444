"""Who is asking, read from Gradio's request: their session, address and login (limits.Visitor)."""

from __future__ import annotations

from typing import Any

import gradio as gr

from ..limits import Visitor
from ..settings import Settings
from .view import hf_login, owner_of


def client_ip(request: gr.Request, proxy_hops: int) -> str | None:
    """The visitor's address: behind `proxy_hops` proxies (a Space has one), the entry that many
    places from the end of X-Forwarded-For, the part a proxy of ours wrote (a visitor can put
    anything at its start); else the connection's peer."""
    if proxy_hops:
        forwarded = [part.strip() for part in (request.headers.get("x-forwarded-for") or "").split(",") if part.strip()]
        if len(forwarded) >= proxy_hops:
            return forwarded[-proxy_hops]
    client: Any = getattr(request, "client", None)
    return getattr(client, "host", None)


def login_token(request: gr.Request) -> str | None:
    """The Hugging Face login token of a signed-in visitor."""
    token = hf_login(request).get("access_token")
    return token if isinstance(token, str) and token else None


def visitor_of(request: gr.Request | None, settings: Settings) -> Visitor:
    if request is None:
        return Visitor()
    return Visitor(session=request.session_hash, ip=client_ip(request, settings.public.proxy_hops),
                   user=owner_of(request), hf_token=login_token(request) if settings.oauth else None)
