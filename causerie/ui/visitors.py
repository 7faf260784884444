"""Who is asking, read from Gradio's request: who is signed in (owner_of), whose running answers
these are (run_owner), and their session, address and login for the limits (visitor_of)."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import time
from typing import Any

import gradio as gr

from ..answering.limits import Visitor, client_ip
from ..config.settings import Settings
from ..i18n.wording import language_of


def page_language(request: gr.Request | None) -> str:
    """The language to word things in for this page: the browser's (Accept-Language), as the
    page's own labels follow it (gr.I18n), else English."""
    return language_of(request.headers.get("accept-language") if request is not None else None)


def owner_of(request: gr.Request | None) -> str | None:
    """Who is signed in: a basic-auth name (AUTH_USERS) or a Hugging Face login, or None."""
    if request is None:
        return None
    if request.username:
        return f"user:{request.username}"
    name = (hf_login(request).get("userinfo") or {}).get("preferred_username")
    return f"hf:{name}" if name else None


def run_owner(request: gr.Request | None, browser_id: Any, secret: str) -> str:
    """Whose a running answer (and an attached file) is: the signed-in person, else this browser,
    by the id the server issued it (issue_browser_id), else, with neither, this page's session
    alone. An id the server did not sign is no browser's: the cap of answers per browser counts
    what the server issued, not what a client picks."""
    if owner := owner_of(request):
        return owner
    if is_issued(browser_id, secret):
        return f"browser:{browser_id}"
    return f"session:{request.session_hash if request else ''}"


def _browser_mac(token: str, secret: str) -> str:
    key = hmac.new(secret.encode(), b"causerie browser id", hashlib.sha256).digest()
    return hmac.new(key, token.encode(), hashlib.sha256).hexdigest()[:32]


def issue_browser_id(secret: str) -> str:
    """A new browser's id, given as its page first opens and kept in its localStorage."""
    token = secrets.token_hex(16)
    return f"{token}.{_browser_mac(token, secret)}"


def is_issued(value: Any, secret: str) -> bool:
    if not isinstance(value, str) or len(value) != 65 or value[32:33] != ".":
        return False
    return hmac.compare_digest(value[33:], _browser_mac(value[:32], secret))


def hf_login(request: gr.Request) -> dict:
    """The Hugging Face login in the request's session (Gradio's OAuth), or {}: an expired login
    is no login."""
    try:
        info = request.request.session.get("oauth_info") or {}
    except (AssertionError, AttributeError):  # no session middleware: Hugging Face login is off
        return {}
    expires_at = info.get("expires_at")
    if isinstance(expires_at, (int, float)) and expires_at < time.time():
        return {}
    return info


def distrust_proxy_headers() -> None:
    """Leave the visitor's address to TRUSTED_PROXY_HOPS (client_ip) alone. uvicorn, which Gradio
    runs, otherwise replaces the peer's address with X-Forwarded-For's last entry whenever the peer
    is loopback (its FORWARDED_ALLOW_IPS default): with TRUSTED_PROXY_HOPS=0, one client sending a
    new header with each call was never rate limited. Set before the server starts (uvicorn reads
    it into its Config then); nothing else in the app reads it."""
    os.environ["FORWARDED_ALLOW_IPS"] = ""  # trusts no peer: an empty literal matches no address


def login_token(request: gr.Request) -> str | None:
    """The Hugging Face login token of a signed-in visitor."""
    token = hf_login(request).get("access_token")
    return token if isinstance(token, str) and token else None


def visitor_of(request: gr.Request | None, settings: Settings) -> Visitor:
    if request is None:
        return Visitor()
    return Visitor(
        session=request.session_hash,
        ip=client_ip(request, settings.public.proxy_hops),
        user=owner_of(request),
        hf_token=login_token(request) if settings.oauth else None,
    )
