"""What the browser keeps of a person's conversations: reading it right now, and writing to it.

A conversation is kept in its own localStorage entry, `ENTRY_PREFIX + id`
(browser_shelf.py says why and what it holds). Before each change the page sends everything it
holds right now (READ_STORE_JS, in the browser: no round trip); the server answers with the
entries to write, and the page writes them (WRITE_JS) as one synchronous step that keeps an entry
the browser holds newer (another tab's save). Gradio's gr.BrowserState is not used for this: it
writes the whole value a handler returned, when that reaches the page (a Svelte effect on the
component's new value, gradio 6.31's BrowserState/Index), so a save read before another tab's
and arriving after it undoes it, whatever the server merged.

Earlier versions kept one BrowserState value under LEGACY_KEY; it is read (and removed once
written out as entries). This opens BrowserState's layer: CryptoJS `AES.encrypt(json,
sha256hex(secret))` with a passphrase, i.e. OpenSSL's "Salted__" format, a key and IV from
EVP_BytesToKey (MD5), AES-256-CBC. That layer's secret is public (Gradio sends it to the page);
what protects the conversations is the sealing inside (sealing.py).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import logging
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from ..history.sealing import BROWSER_STATE_SECRET
from .scripts import script

log = logging.getLogger(__name__)
LEGACY_KEY = "causerie-conversations"
ENTRY_PREFIX = "causerie-c:"
READ_STORE_JS = script("read_store", prefix=ENTRY_PREFIX, legacy=LEGACY_KEY)
WRITE_JS = script("write_store", prefix=ENTRY_PREFIX, legacy=LEGACY_KEY)


@dataclass(frozen=True)
class Held:
    """What a page sent of its browser's storage (READ_STORE_JS)."""

    entries: dict[str, str]
    legacy: Any
    """The earlier versions' value, BrowserState's layer opened; None when there is none."""
    damaged: bool
    """There is an earlier value, and not even BrowserState's layer opens it."""


def read_held(raw: str) -> Held:
    """What READ_STORE_JS sent. A bare string is an earlier value alone (a page loaded before an
    upgrade sends it so)."""
    try:
        sent = json.loads(raw) if raw else {}
    except (ValueError, RecursionError):
        sent = {"legacy": raw}
    if not isinstance(sent, dict):
        sent = {}
    entries = sent.get("entries") if isinstance(sent.get("entries"), dict) else {}
    legacy_raw = sent.get("legacy") if isinstance(sent.get("legacy"), str) else ""
    legacy = open_browser_layer(legacy_raw, BROWSER_STATE_SECRET)
    return Held(entries, legacy, bool(legacy_raw) and legacy is None)


def _evp_bytes_to_key(password: bytes, salt: bytes, size: int) -> bytes:
    derived, block = b"", b""
    while len(derived) < size:
        block = hashlib.md5(block + password + salt).digest()
        derived += block
    return derived[:size]


def open_browser_layer(raw: str, secret: str) -> Any | None:
    """The value BrowserState stored, or None when there is none or it cannot be opened."""
    if not raw or ":" not in raw:
        return None
    try:
        packed = base64.b64decode(raw.split(":", 1)[1], validate=True)
        if not packed.startswith(b"Salted__") or len(packed) < 32 or (len(packed) - 16) % 16:
            return None
        salt, body = packed[8:16], packed[16:]
        material = _evp_bytes_to_key(hashlib.sha256(secret.encode()).hexdigest().encode(), salt, 48)
        decryptor = Cipher(algorithms.AES(material[:32]), modes.CBC(material[32:])).decryptor()
        unpadder = padding.PKCS7(128).unpadder()
        text = unpadder.update(decryptor.update(body) + decryptor.finalize()) + unpadder.finalize()
        return json.loads(text)
    except (ValueError, binascii.Error, RecursionError):
        log.info("the browser's earlier stored value could not be opened; it is kept as it is")
        return None
