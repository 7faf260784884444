"""What every response tells the browser it may do: the Content-Security-Policy and its companions.

The policy is the backstop behind render's inert answers (inert.py): whatever an answer, a title
or a model id manages to put on the page, the browser fetches nothing from elsewhere for it, and no
form posts anywhere. Gradio's page needs inline scripts and styles, and evaluates the events' `js`
steps as functions, so scripts keep 'unsafe-inline' and 'unsafe-eval'; what an answer could run
is removed before it is shown (Gradio's sanitiser), not left to the policy.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from .setting_values import SettingsError

FRAME_ANCESTORS_EXAMPLE = "'self' https://example.com https://*.example.org"
_SOURCE = re.compile(r"^(?:\*|'self'|https?:|(?:https?://)?(?:\*\.)?[a-z0-9-]+(?:\.[a-z0-9-]+)*(?::(?:\d{1,5}|\*))?)$")


def frame_ancestors(env: Mapping[str, str]) -> str:
    """FRAME_ANCESTORS: the sites that may show the app in a frame. `*` (any: a Space is shown in
    Hugging Face's own page, and may be embedded in others) unless set; `'none'` forbids it."""
    raw = " ".join(env.get("FRAME_ANCESTORS", "").split())
    if not raw:
        return "*"
    sources = raw.split(" ")
    if sources == ["'none'"] or all(_SOURCE.match(source.lower()) for source in sources):
        return raw
    raise SettingsError(
        f"FRAME_ANCESTORS must be * or 'none', or sources separated by spaces such as {FRAME_ANCESTORS_EXAMPLE}, got {raw!r}."
    )


def content_security_policy(ancestors: str = "*") -> str:
    directives = {
        "default-src": "'self'",
        # Gradio's page: an inline config script, `head` scripts, and `js=` steps made into functions.
        "script-src": "'self' 'unsafe-inline' 'unsafe-eval'",
        # Gradio sets style attributes and writes <style> elements (theme, css=, components).
        "style-src": "'self' 'unsafe-inline'",
        # Images and media only from the app itself (uploads, the favicon), or made in the page.
        "img-src": "'self' data: blob:",
        "media-src": "'self' data: blob:",
        "font-src": "'self' data:",
        "connect-src": "'self'",
        "worker-src": "'self' blob:",
        "frame-src": "'self'",
        "object-src": "'none'",
        "base-uri": "'self'",
        "form-action": "'none'",
        "frame-ancestors": ancestors,
    }
    return "; ".join(f"{name} {value}" for name, value in directives.items())


def security_headers(ancestors: str = "*") -> list[tuple[bytes, bytes]]:
    """The headers every response carries (unless it set its own of the same name)."""
    return [
        (b"content-security-policy", content_security_policy(ancestors).encode()),
        (b"x-content-type-options", b"nosniff"),
        # A link in an answer opens another site: it learns nothing of this page's address.
        (b"referrer-policy", b"no-referrer"),
    ]


class SecurityHeaders:
    """ASGI middleware adding `headers` to every HTTP response. Pure ASGI (no BaseHTTPMiddleware),
    so that streamed responses (the queue's server-sent events) pass through untouched."""

    def __init__(self, app, headers: list[tuple[bytes, bytes]]) -> None:
        self.app, self.headers = app, headers

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", ())}
                message["headers"] = [*message.get("headers", ()), *(h for h in self.headers if h[0] not in present)]
            await send(message)

        await self.app(scope, receive, send_with_headers)
