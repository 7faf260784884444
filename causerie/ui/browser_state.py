"""Reading what gr.BrowserState wrote to localStorage, as the browser holds it right now.

BrowserState reads localStorage once, when the page opens; a second tab's saves since then are
invisible to it, and writing its stale value back would undo them. Before each save the page
therefore sends the raw stored string too (READ_STORE_JS), and this opens BrowserState's layer:
CryptoJS `AES.encrypt(json, sha256hex(secret))` with a passphrase, i.e. OpenSSL's "Salted__"
format, a key and IV from EVP_BytesToKey (MD5), AES-256-CBC. That layer's secret is public (Gradio
sends it to the page); what protects the conversations is the sealing inside (sealing.py).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import logging
from typing import Any

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

log = logging.getLogger(__name__)
READ_STORE_JS = "() => localStorage.getItem('{key}') || ''"


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
        log.info("the browser's stored value could not be opened; using the page's copy")
        return None
