"""Two tabs of one browser saving at the same instant lose nothing, and what earlier versions kept
(one value for every conversation) still opens, and is written out as one entry each."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import threading
import time

import pytest
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from playwright.sync_api import Page, expect

from causerie.config.history_settings import HistoryLimits
from causerie.history.browser_shelf import BrowserShelf
from causerie.history.conversations import Conversation
from causerie.history.library import Library
from causerie.history.sealing import BROWSER_STATE_SECRET, Sealer
from causerie.ui.browser_state import ENTRY_PREFIX, LEGACY_KEY, _evp_bytes_to_key, read_held

from support.browsers import send, settled, stored
from support.history_pages import SECRET, listed, open_page, wait_listed
from support.scripted_server import Reply, text_stream

pytestmark = pytest.mark.browser
ROUNDS = 12


def kept(page: Page) -> Library:
    """What the browser keeps, opened as the server opens it."""
    held = read_held(stored(page) or "")
    return BrowserShelf(held.entries, held.legacy, Sealer(SECRET), HistoryLimits()).library


def questions(library: Library) -> set[str]:
    return {m["content"] for c in library.all() for m in c.messages if m["role"] == "user"}


def test_two_tabs_whose_answers_end_together_lose_no_turn(history_app, scripted, page: Page):
    """Each round, both tabs' answers are held at their last chunk and let go together, so both
    saves read the browser before either has written: measured before entries per conversation,
    6 and 7 turns of 20 were lost (one tab's newest turn, written over)."""
    tabs = [open_page(page, history_app.url), open_page(page.context.new_page(), history_app.url)]
    lost: list[str] = []
    for n in range(ROUNDS):
        gate = threading.Event()
        scripted.default = Reply(chunks=text_stream(f"Answer {n}."), hold=gate)
        for name, tab in zip("AB", tabs, strict=True):
            send(tab, f"{name}{n} question")
        deadline = time.monotonic() + 10
        while scripted.held < 2 and time.monotonic() < deadline:
            time.sleep(0.005)
        assert scripted.held == 2
        gate.set()
        for tab in tabs:
            expect(tab.locator("#chatbot sub")).to_have_count(n + 1, timeout=10000)
        want = {f"A{n} question", f"B{n} question"}
        deadline = time.monotonic() + 3
        while not want <= questions(kept(tabs[0])) and time.monotonic() < deadline:
            time.sleep(0.05)
        settled(tabs[0], quiet_s=0.3)
        lost += sorted(want - questions(kept(tabs[0])))
    assert lost == [], f"{len(lost)} of {2 * ROUNDS} turns lost"
    for tab in tabs:
        tab.close()
    fresh = open_page(page.context.new_page(), history_app.url)
    expect(listed(fresh)).to_have_count(2, timeout=10000)
    for name in "AB":
        fresh.locator("#conversation-list").get_by_text(f"{name}0 question").click()
        for n in range(ROUNDS):
            expect(fresh.locator("#chatbot")).to_contain_text(f"{name}{n} question", timeout=5000)


def browser_layer(value: object) -> str:
    """A value as gr.BrowserState stores it (CryptoJS's passphrase format), for earlier versions'."""
    salt = os.urandom(8)
    material = _evp_bytes_to_key(hashlib.sha256(BROWSER_STATE_SECRET.encode()).hexdigest().encode(), salt, 48)
    padder = padding.PKCS7(128).padder()
    body = padder.update(json.dumps(value).encode()) + padder.finalize()
    encryptor = Cipher(algorithms.AES(material[:32]), modes.CBC(material[32:])).encryptor()
    sealed = b"Salted__" + salt + encryptor.update(body) + encryptor.finalize()
    return base64.b64encode(os.urandom(16)).decode() + ":" + base64.b64encode(sealed).decode()


def test_what_an_earlier_version_kept_opens_and_becomes_one_entry_each(history_app, scripted, page: Page):
    old = [
        Conversation(
            id=f"old{i}",
            messages=({"role": "user", "content": f"Old question {i}"}, {"role": "assistant", "content": f"Old answer {i}"}),
            created_at=1000.0 + i,
            updated_at=1000.0 + i,
        )
        for i in range(2)
    ]
    value = browser_layer({"sealed": Sealer(SECRET).seal(Library(old).to_json())})
    page.goto(history_app.url)
    page.evaluate("([key, value]) => localStorage.setItem(key, value)", [LEGACY_KEY, value])
    open_page(page, history_app.url)
    wait_listed(page, "Old question 0")
    wait_listed(page, "Old question 1")
    settled(page, quiet_s=0.3)
    held = json.loads(stored(page))
    assert held["legacy"] == "" and set(held["entries"]) == {"old0", "old1"}
    assert "Old question" not in stored(page)  # still sealed
    scripted.default = Reply(chunks=text_stream("New answer."))
    page.locator("#conversation-list").get_by_text("Old question 0").click()
    expect(page.locator("#chatbot")).to_contain_text("Old answer 0", timeout=5000)
    send(page, "A new question")
    expect(page.locator("#chatbot")).to_contain_text("New answer.", timeout=10000)
    settled(page, quiet_s=0.3)
    page.reload()
    page.wait_for_selector("#chat-input textarea")
    expect(listed(page)).to_have_count(2, timeout=10000)
    expect(page.locator("#chatbot")).to_contain_text("A new question", timeout=5000)
    assert page.evaluate(f"Object.keys(localStorage).filter(k => k.startsWith('{ENTRY_PREFIX}')).length") == 2
