"""Answers, titles, model ids and what the person wrote, shown in a real Chromium: nothing in them
fetches from elsewhere without a click, covers the page or submits a form, in the chat, in Compare
and on the leaderboard. Every carrier points at a server of the test's own, which counts what
reaches it: it must stay silent."""

from __future__ import annotations

import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import Page, expect

from support.apps import RunningApp
from support.browsers import open_accordion, send
from support.scripted_server import Reply, text_stream

pytestmark = pytest.mark.browser


class Listener:
    """A server on loopback that answers anything with an empty 200 and notes every path asked."""

    def __init__(self) -> None:
        heard = self.heard = []

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's name)
                heard.append(self.path)
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_POST = do_GET  # noqa: N815

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture(scope="module")
def listener():
    listening = Listener()
    yield listening
    listening.server.shutdown()


def carriers(base: str) -> str:
    """One answer with every way an answer could fetch, cover or submit, each in its own block."""
    return "\n\n".join(
        [
            f"Look: ![pixel]({base}/markdown-image.png)",
            f'<img src="{base}/img.png"> <img srcset="{base}/srcset.png 1x">',
            f'<video poster="{base}/poster.png" autoplay src="{base}/video.mp4"></video>',
            f'<audio autoplay src="{base}/audio.mp3"></audio>',
            f'<span style="background-image:url({base}/style-attribute.png)">styled</span>',
            f"<style>body {{ background: url({base}/style-element.png) }}</style>",
            '<div style="position:fixed;inset:0;z-index:9999;background:#fff">Sign in again</div>',
            f'<form action="{base}/form"><button>Send it</button></form>',
            f'<meta http-equiv="refresh" content="0;url={base}/refresh">',
            f'<base href="{base}/base/">',
            f'<table background="{base}/table.png"><tr><td>cell</td></tr></table>',
            f'<svg><image href="{base}/svg.png"/></svg>',
            "The end.",
        ]
    )


@pytest.fixture(scope="module")
def inert_app(_scripted, listener, tmp_path_factory):
    """The app, its provider listing a model whose id is HTML."""
    _scripted.models = {"object": "list", "data": [{"id": evil_model(listener)}, {"id": "model-a"}]}
    running = RunningApp({"OPENAI_BASE_URL": _scripted.base_url, "CAUSERIE_DATA_DIR": str(tmp_path_factory.mktemp("votes"))})
    yield running
    running.close()


@pytest.fixture
def ready(inert_app, scripted, listener):
    scripted.models = {"object": "list", "data": [{"id": evil_model(listener)}, {"id": "model-a"}]}
    scripted.default = Reply(chunks=text_stream(*re.findall(r"[\s\S]{1,37}", carriers(listener.base))), delay=0.01)
    listener.heard.clear()
    return inert_app


def evil_model(listener: Listener) -> str:
    """(No spaces: model ids have none. `/` parts a tag's attributes as well.)"""
    return f"m<img/src={listener.base}/model-id.png>"


FORBIDDEN = "img, picture, video, audio, source, form, input, button, style, meta, base, svg, iframe, [style], [background], [srcset], [poster]"

OUTSIDE_ITS_BOX = """(messages) => messages.flatMap((box) => {
  const outer = box.getBoundingClientRect();
  return [...box.querySelectorAll('*')].filter((node) => {
    const r = node.getBoundingClientRect();
    return r.width && r.height && (r.left < outer.left - 1 || r.top < outer.top - 1
      || r.right > outer.right + 1 || r.bottom > outer.bottom + 1);
  }).map((node) => node.outerHTML.slice(0, 80));
})"""


def assert_inert(page: Page, messages, listener: Listener) -> None:
    """Nothing that fetches, covers or submits in these messages, everything inside its box, and
    not one request at the listener."""
    assert messages.count() > 0
    for index in range(messages.count()):
        expect(messages.nth(index).locator(FORBIDDEN)).to_have_count(0)
    assert messages.evaluate_all(OUTSIDE_ITS_BOX) == []
    time.sleep(1)  # (time for any fetch to arrive)
    assert listener.heard == []


def test_an_answer_a_model_id_and_a_title_fetch_nothing_and_stay_in_their_box(ready, listener, page: Page):
    response = page.goto(ready.url)
    assert "img-src 'self' data: blob:" in response.headers["content-security-policy"]
    page.wait_for_selector("#chat-input textarea")
    expect(page.locator("#model input")).to_have_value(evil_model(listener), timeout=10000)
    # The picker shows the id as text, in the box and in its list.
    picker = page.locator("#model-picker input")
    expect(picker).to_have_value(f"OpenAI · {evil_model(listener)}")
    picker.click()
    expect(page.get_by_role("option", name=f"OpenAI · {evil_model(listener)}", exact=True)).to_be_visible(timeout=10000)
    picker.press("Escape")
    send(page, "Show me everything")
    chat = page.locator("#chatbot")
    expect(chat).to_contain_text("to first token", timeout=15000)  # the footer: the answer has ended
    # The carriers show as what they are, text; the image is a link that a click opens elsewhere.
    for shown in ("<form action=", "<video poster=", "<style>body", "Sign in again", "<base href=", "The end."):
        expect(chat).to_contain_text(shown)
    image = chat.get_by_role("link", name=f"🖼 127.0.0.1:{listener.base.rsplit(':', 1)[1]}: pixel")
    expect(image).to_have_attribute("href", f"{listener.base}/markdown-image.png")
    expect(image).to_have_attribute("target", "_blank")
    expect(chat).to_contain_text(evil_model(listener))  # the model id in the footer, as text

    open_accordion(page, page.locator("#conversation-tools").get_by_text("This conversation"))
    title = page.locator("#conversation-title input, #conversation-title textarea").first
    title.fill(f'<img src="{listener.base}/title.png">Renamed')
    title.press("Enter")
    expect(page.locator("#conversation-list")).to_contain_text("Renamed", timeout=10000)
    expect(page.locator("#conversation-list")).to_contain_text("<img src=")

    assert_inert(page, page.locator("#chatbot [data-testid='bot']"), listener)
    expect(page.locator("#conversation-list img")).to_have_count(0)
    assert page.url == ready.url and page.evaluate("document.baseURI") == ready.url


def test_compare_sides_a_question_and_the_leaderboard_submit_nothing_and_cover_nothing(ready, listener, page: Page):
    page.goto(ready.url)
    page.wait_for_selector("#chat-input textarea")
    page.get_by_role("tab", name="Compare").click()
    expect(page.locator("#compare-model-0 input")).to_have_value(re.compile("^OpenAI · "), timeout=10000)
    for index, label in enumerate(("OpenAI · model-a", f"OpenAI · {evil_model(listener)}")):
        box = page.locator(f"#compare-model-{index} input")
        box.click()
        page.locator(f"#compare-model-{index}").get_by_role("option", name=label, exact=True).click()
        expect(box).to_have_value(label)
    # The person's own question is shown as written: a form in it, and a box laid over the page.
    question = (
        f'<form action="{listener.base}/compare-form"><button>Send it</button></form>'
        '<div id="cover" style="position:fixed;inset:0;z-index:9999">Sign in again</div> Which?'
    )
    box = page.locator("#compare-input textarea")
    box.fill(question)
    box.press("Enter")
    expect(page.locator("#vote-0")).to_be_visible(timeout=20000)
    for side in (0, 1):
        expect(page.locator(f"#compare-chat-{side}")).to_contain_text("The end.")

    asked = page.locator("#compare-chat-0 [data-testid='user']")
    # (Clicked from script: the box laid over the question covers the button, as it would a person's.)
    asked.get_by_role("button", name="Send it").evaluate("(button) => button.click()")
    cover, own_box = asked.locator("#cover").bounding_box(), asked.bounding_box()
    assert cover["width"] <= own_box["width"] + 1 and cover["height"] <= own_box["height"] + 1
    assert page.url == ready.url
    assert_inert(page, page.locator("#compare-chat-0 [data-testid='bot'], #compare-chat-1 [data-testid='bot']"), listener)

    page.locator("#vote-1").click()
    expect(page.locator("#compare-note")).to_contain_text("Vote kept", timeout=10000)
    expect(page.locator("#compare-note")).to_contain_text(evil_model(listener))
    page.get_by_role("tab", name="Leaderboard").click()
    expect(page.locator("#leaderboard")).to_contain_text(evil_model(listener), timeout=15000)
    for where in ("#compare-note", "#leaderboard", "#compare-tab [data-testid='block-label']"):
        expect(page.locator(f"{where} img")).to_have_count(0)
    time.sleep(1)
    assert listener.heard == [] and page.url == ready.url
