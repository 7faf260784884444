"""Conversations kept in a browser are sealed on the server: compressed, then encrypted and
authenticated with a key derived from HISTORY_SECRET (Fernet: AES-CBC and HMAC-SHA256).

Gradio's BrowserState encrypts too, but in the browser, with a secret it sends to every page: it
keeps the value from being read as plain text, not from whoever loads the page. Sealing here means
a copy of the browser's storage (a backup, a synced or stolen profile) cannot be read offline, and
a tampered value is refused. It does not stop someone who has the copy *and* can reach this
server from having the server open it (it opens any value sent to it, as it must for the page):
on a shared computer, people should use a private window or sign in.
"""

from __future__ import annotations

import base64
import hashlib
import zlib

from cryptography.fernet import Fernet, InvalidToken

BROWSER_STATE_SECRET = "causerie-browser-state"
"""BrowserState's own secret, which Gradio sends to every page: a constant, so that its layer
opens across restarts and secret changes, and only the sealing below decides what is readable."""
MAX_OPENED_BYTES = 64_000_000
"""A sealed value that inflates beyond this is refused (a zip bomb in localStorage)."""


class Unreadable(ValueError):
    """A sealed value that this secret cannot open: another secret, tampering, or corruption."""


def _key(secret: str, purpose: str) -> bytes:
    return base64.urlsafe_b64encode(hashlib.sha256(f"causerie:{purpose}:{secret}".encode()).digest())


class Sealer:
    def __init__(self, secret: str) -> None:
        self._fernet = Fernet(_key(secret, "history"))

    def __repr__(self) -> str:
        return "Sealer(<secret>)"

    def seal(self, text: str) -> str:
        return self._fernet.encrypt(zlib.compress(text.encode(), 6)).decode()

    def open(self, token: str) -> str:
        try:
            packed = self._fernet.decrypt(token.encode() if isinstance(token, str) else token)
            inflater = zlib.decompressobj()
            text = inflater.decompress(packed, MAX_OPENED_BYTES)
            if inflater.unconsumed_tail:
                raise Unreadable("too large once opened")
            return text.decode()
        except (InvalidToken, zlib.error, UnicodeDecodeError, TypeError, AttributeError):
            raise Unreadable("another secret or a damaged value") from None
