"""Conversations kept in a browser are sealed on the server: compressed, then encrypted and
authenticated with a key derived from HISTORY_SECRET (Fernet: AES-CBC and HMAC-SHA256).

The secret can change without losing anything: the previous ones, listed in HISTORY_OLD_SECRETS,
still open what they sealed (MultiFernet), and what they opened is sealed again with the current
one at its next write. A value no secret here opens is never thrown away (browser_shelf.py).

What a browser keeps around a sealed value (its conversation's id and date, in the clear; the
BrowserState layer of earlier versions, whose secret Gradio sends to every page) protects
nothing. Sealing here means a copy of the browser's storage (a backup, a synced or stolen
profile) cannot be read offline, and a tampered value is refused. It does not stop someone who
has the copy *and* can reach this server from having the server open it (it opens any value sent
to it, as it must for the page): on a shared computer, people should use a private window or
sign in.
"""

from __future__ import annotations

import base64
import hashlib
import zlib
from collections.abc import Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

BROWSER_STATE_SECRET = "causerie-browser-state"
"""The secret of the BrowserState layer earlier versions kept their value in (Gradio sends it to
every page): a constant, so that only the sealing below decides what is readable."""
MAX_OPENED_BYTES = 64_000_000
"""A sealed value that inflates beyond this is refused (a zip bomb in localStorage)."""


class Unreadable(ValueError):
    """A sealed value that this secret cannot open: another secret, tampering, or corruption."""


def _key(secret: str, purpose: str) -> bytes:
    return base64.urlsafe_b64encode(hashlib.sha256(f"causerie:{purpose}:{secret}".encode()).digest())


class Sealer:
    """Seals with the current secret; opens with it or any older one given."""

    def __init__(self, secret: str, old_secrets: Sequence[str] = ()) -> None:
        self._current = Fernet(_key(secret, "history"))
        olds = [Fernet(_key(old, "history")) for old in old_secrets if old != secret]
        self._old = MultiFernet(olds) if olds else None

    def __repr__(self) -> str:
        return "Sealer(<secret>)"

    def seal(self, text: str) -> str:
        return self._current.encrypt(zlib.compress(text.encode(), 6)).decode()

    def open(self, token: str) -> str:
        return self.open_noting_age(token)[0]

    def open_noting_age(self, token: str) -> tuple[str, bool]:
        """The text, and whether an older secret sealed it (then it should be sealed again)."""
        try:
            raw = token.encode() if isinstance(token, str) else token
            try:
                packed, old = self._current.decrypt(raw), False
            except InvalidToken:
                if self._old is None:
                    raise
                packed, old = self._old.decrypt(raw), True
            inflater = zlib.decompressobj()
            text = inflater.decompress(packed, MAX_OPENED_BYTES)
            if inflater.unconsumed_tail:
                raise Unreadable("too large once opened")
            return text.decode(), old
        except (InvalidToken, zlib.error, UnicodeDecodeError, TypeError, AttributeError):
            raise Unreadable("another secret or a damaged value") from None
