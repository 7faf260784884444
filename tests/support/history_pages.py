"""The app's page with the conversation history on, for the browser tests of history, tabs, the
public app and resuming: an app with a history secret, the page once loaded, a question asked and
answered, and the conversation list."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from support.apps import RunningApp
from support.browsers import send

SECRET = "a-test-history-secret-of-some-length"


def start_app(scripted, tmp_path, port: int | None = None, **env: str) -> RunningApp:
    return RunningApp(
        {"OPENAI_BASE_URL": scripted.base_url, "HISTORY_SECRET": SECRET, "CAUSERIE_DATA_DIR": str(tmp_path), **env}, port=port
    )


def open_page(page: Page, url: str) -> Page:
    """Open the page, once its load step is done (the scripted server's model list is in)."""
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto(url)
    page.wait_for_selector("#chat-input textarea")
    expect(page.locator("#model input")).to_have_value("model-a", timeout=10000)
    return page


def ask(page: Page, text: str, *, wait: bool = True) -> None:
    """Ask, and unless told not to, wait for the answer's footer."""
    footers = page.locator("#chatbot sub")
    before = footers.count()
    send(page, text)
    if wait:
        expect(footers).to_have_count(before + 1, timeout=10000)


def listed(page: Page):
    return page.locator("#conversation-list label")


def wait_listed(page: Page, title: str) -> None:
    expect(page.locator("#conversation-list")).to_contain_text(title, timeout=10000)
