"""Keys for tests, made afresh each run, so that no key-shaped string is ever committed. They carry
the prefixes providers use, so that the redaction that recognises key shapes is exercised."""

from __future__ import annotations

import secrets

SERVER_KEY = "sk-" + secrets.token_hex(12)
VISITOR_KEY = "sk-" + secrets.token_hex(12)
LOGIN_TOKEN = "hf_" + secrets.token_hex(12)
