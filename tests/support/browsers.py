"""Driving the app's page in Chromium: the browser's arguments, what the page keeps of its
conversations, and sending a question the way a person does."""

from __future__ import annotations

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def stored(page) -> str | None:
    """What the browser keeps of its conversations (sealed entries, and an earlier version's
    single value), as READ_STORE_JS sends it; None when it keeps none."""
    import json

    from causerie.ui.browser_state import READ_STORE_JS

    held = page.evaluate(f"({READ_STORE_JS})()")
    parsed = json.loads(held)
    return held if parsed["entries"] or parsed["legacy"] else None


def settled(page, quiet_s: float = 1.0) -> None:
    """Wait until what the browser keeps is there and has stopped changing for `quiet_s` (the save
    after an answer, or after the bin, has reached it: it follows within a fraction of a second)."""
    import time

    deadline = time.monotonic() + 15
    last, since = stored(page), time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.1)
        now = stored(page)
        if now != last:
            last, since = now, time.monotonic()
        elif last and time.monotonic() - since >= quiet_s:
            return


def send(page, text: str) -> None:
    """Type a question and send it, once the previous answer has fully ended (until then Enter
    sends nothing)."""
    from playwright.sync_api import expect

    expect(page.locator("#chat-input .stop-button")).to_have_count(0, timeout=10000)
    box = page.locator("#chat-input textarea")
    box.fill(text)
    box.press("Enter")


def open_accordion(page, opener) -> None:
    """Click an accordion open, then let Gradio draw what it holds: one frame after an accordion
    first opens, Gradio writes its boxes' last server values back into them, over anything typed
    sooner."""
    opener.click()
    page.evaluate("() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))")


def open_settings(page) -> None:
    """Open the settings drawer (closed when the page opens) with its button, as a person does."""
    from playwright.sync_api import expect

    if not page.locator("#settings.open").count():
        page.locator("#open-settings").click()
    expect(page.locator("#settings.open")).to_have_count(1)
    page.evaluate("() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))")
