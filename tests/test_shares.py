"""Share links: the store (immutable ids, update, revoke, owners and tokens), what a snapshot keeps,
the shared page made under the answer rules (XSS payloads), and the running app's /s/<id>, /share
and /unshare over real HTTP; in Chromium, a conversation shared from the page, read in a fresh
anonymous browser, continued, and revoked."""

from __future__ import annotations

import base64
import re
import time

import httpx
import pytest
from playwright.sync_api import expect

from causerie.config.settings import SettingsError, load_settings
from causerie.config.store_urls import async_url
from causerie.history.shares import ShareChoices, has_answer, shared_page, snapshot_of, snapshot_pictures
from causerie.history.store.share_store import ShareStore

from support.apps import RunningApp, run_async
from support.browsers import open_accordion, send
from support.keys import SERVER_KEY
from support.scripted_server import Reply, text_stream

PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")
PAYLOADS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "![tracker](https://tracker.example/pixel.png)",
    "[click](javascript:alert(1))",
    "<iframe src=https://evil.example></iframe>",
    '<a href="https://evil.example" onclick="alert(1)">x</a>',
    "<style>body{display:none}</style>",
]


def conversation(*answers: str) -> list[dict]:
    messages = []
    for number, answer in enumerate(answers):
        messages += [
            {"role": "user", "content": f"Question {number}"},
            {"role": "assistant", "content": answer, "thinking": "secret thoughts", "footer": "xAI · grok"},
        ]
    return messages


# -- the store ----------------------------------------------------------------------------------


def test_a_share_is_read_updated_and_revoked_by_its_owner_or_token_only(database_url):
    store = ShareStore(async_url(database_url))

    async def go():
        try:
            share_id, token = await store.create("browser:a", "conv-1", {"title": "One", "messages": []})
            assert re.fullmatch(r"[A-Za-z0-9_-]{22}", share_id) and len(token) >= 32
            assert (await store.get(share_id)).snapshot["title"] == "One"
            assert await store.of("browser:a", "conv-1") == share_id and await store.of("browser:b", "conv-1") is None
            first = await store.stamp(share_id)
            assert not await store.update(share_id, {"title": "Theirs"}, owner="browser:b")  # another person
            assert not await store.update(share_id, {"title": "Theirs"}, token="not-the-token")
            assert not await store.revoke(share_id, owner="browser:b")
            assert await store.update(share_id, {"title": "Two", "messages": []}, owner="browser:a")
            assert (await store.get(share_id)).snapshot["title"] == "Two" and await store.stamp(share_id) >= first
            assert await store.count("browser:a") == 1
            assert await store.revoke(share_id, token=token)
            assert await store.get(share_id) is None and await store.stamp(share_id) is None
            assert not await store.revoke(share_id, owner="browser:a")  # (gone: nothing to revoke)
        finally:
            await store.close()

    run_async(go())


def test_sharing_is_off_where_only_signed_in_people_may_chat():
    assert not load_settings({"REQUIRE_LOGIN": "1", "AUTH_USERS": "ann:pw"}).share_links
    with pytest.raises(SettingsError, match="SHARE_LINKS=1 with REQUIRE_LOGIN=1"):
        load_settings({"REQUIRE_LOGIN": "1", "AUTH_USERS": "ann:pw", "SHARE_LINKS": "1"})
    assert not load_settings({"SHARE_LINKS": "0"}).share_links
    assert not load_settings({"AUTH_USERS": "ann:pw"}).share_links  # (a signed-in server: only if asked)
    assert load_settings({"AUTH_USERS": "ann:pw", "SHARE_LINKS": "1"}).share_links
    assert load_settings({"PUBLIC_MODE": "1"}).shares_per_person == 20


# -- what a snapshot keeps ----------------------------------------------------------------------


def test_a_snapshot_keeps_what_is_on_screen_and_only_what_the_person_chose():
    messages = conversation("Hello")
    messages[1]["files"] = [{"path": "/uploads/a/picture-1.png", "orig_name": "picture-1.png"}, {"path": "/etc/passwd"}]
    messages[1]["tools"] = [{"server": "calc", "tool": "add", "arguments": "{}", "result": "2", "state": "done"}]

    def read(file):
        return ("image/png", PNG) if file["path"].endswith(".png") else None

    plain = snapshot_of(messages, title="T", system_prompt="Be kind", read_picture=read)
    assert plain["title"] == "T" and plain["description"] == "Question 0" and "system_prompt" not in plain
    answer = plain["messages"][1]
    assert "thinking" not in answer and answer["footer"] == "xAI · grok" and "tools" not in answer
    assert answer["tool_lines"] == ["[Tool call calc:add({}) → 2]"]  # (what the page shows of a call: its line)
    assert answer["left_out"] == 1 and snapshot_pictures(plain) == [("image/png", PNG)]
    assert "/uploads" not in str(plain) and "passwd" not in str(plain)  # (no path of this server)
    chosen = snapshot_of(messages, title="", system_prompt="Be kind", choices=ShareChoices(thinking=True, system_prompt=True))
    assert chosen["system_prompt"] == "Be kind" and chosen["messages"][1]["thinking"] == "secret thoughts"
    assert chosen["title"] == "Question 0"


def test_a_chat_whose_answer_is_a_picture_alone_can_be_shared():
    """Found by a stranger's probe: the page said 'nothing to share yet' of a chat whose only
    answer was a picture (an /image answer has no words)."""
    question = {"role": "user", "content": "/image a red square"}
    picture = {"role": "assistant", "content": "", "files": [{"path": "/uploads/a/picture-1.png"}]}
    assert has_answer([question, picture]) and not has_answer([question, {"role": "assistant", "content": ""}])
    snapshot = snapshot_of([question, picture], title="T", read_picture=lambda _: ("image/png", PNG))
    assert snapshot_pictures(snapshot) == [("image/png", PNG)] and "<img" in shared_page("a" * 22, snapshot)


def test_the_shared_page_keeps_every_answer_rule():
    snapshot = snapshot_of(
        [{"role": "user", "content": "\n\n".join(PAYLOADS)}, {"role": "assistant", "content": "\n\n".join(PAYLOADS)}],
        title="<b>Title</b>",
    )
    page = shared_page("a" * 22, snapshot)
    body = page.split("<body>", 1)[1]
    assert (
        "<script" not in body
        and "<iframe" not in body
        and "<style" not in body
        and "onerror=" not in body.replace("onerror=alert", "")
    )
    assert "<img" not in body  # (no picture of the snapshot; a remote one is a link to click)
    assert 'href="javascript:' not in body and "onclick=" not in body.replace("onclick=&quot;", "")
    assert 'href="https://tracker.example/pixel.png"' in body  # the image, as a link
    assert "&lt;script&gt;" in body or "&lt;script>" in body
    assert "<title>&lt;b&gt;Title&lt;/b&gt;</title>" in page and "og:title" in page and "og:description" in page


# -- the running app ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def share_app(_scripted):
    running = RunningApp({"OPENAI_API_KEY": SERVER_KEY, "OPENAI_BASE_URL": _scripted.base_url, "DEFAULT_MODEL": "model-a"})
    yield running
    running.close()


def test_the_api_shares_and_unshares_and_the_page_follows_at_once(share_app):
    client = share_app.client()
    messages = [
        {"role": "user", "content": "What is 2+2?"},
        {"role": "assistant", "content": "**4**. $x^2$ <script>alert(1)</script>"},
    ]
    made = client.predict(messages, "Sums", None, api_name="/share")
    assert made["url"] == f"http://127.0.0.1:{share_app.port}/s/{made['id']}"
    page = httpx.get(made["url"])
    assert page.status_code == 200 and "<strong>4</strong>" in page.text and "<script>alert" not in page.text
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert page.headers["x-content-type-options"] == "nosniff"
    assert "<title>Sums</title>" in page.text and f"/?continue={made['id']}" in page.text
    with pytest.raises(Exception, match="not yours"):
        client.predict(made["id"], "wrong-token", api_name="/unshare")
    assert client.predict(made["id"], made["revoke_token"], api_name="/unshare") == {"revoked": True, "id": made["id"]}
    gone = httpx.get(made["url"])
    assert gone.status_code == 404 and "no longer shared" in gone.text
    assert httpx.get(f"http://127.0.0.1:{share_app.port}/s/not-an-id").status_code != 200


@pytest.mark.browser
def test_in_the_page_a_chat_is_shared_read_elsewhere_continued_and_revoked(share_app, scripted, browser):
    payloads = " <img src=x onerror=alert(1)> ![t](https://tracker.example/p.png) <script>alert(2)</script> $E = mc^2$"
    scripted.queue(Reply(chunks=text_stream("Paris is the capital of France.", payloads)))
    mine = browser.new_context(locale="en-US")
    page = mine.new_page()
    page.goto(share_app.url)
    page.wait_for_selector("#chat-input textarea")
    send(page, "What is the capital of France?")
    expect(page.locator("#chatbot")).to_contain_text("Paris is the capital", timeout=15000)
    open_accordion(page, page.locator("#share-options button").first)
    page.locator("#share-make").click()
    expect(page.locator("#share-said")).to_contain_text("/s/", timeout=10000)
    url = re.search(r"http://\S+/s/[A-Za-z0-9_-]+", page.locator("#share-said").inner_text()).group(0)

    stranger = browser.new_context(locale="en-US")  # a fresh, anonymous browser
    other = stranger.new_page()
    dialogs, asked = [], []

    def seen(dialog):
        dialogs.append(dialog.message)
        dialog.dismiss()

    other.on("dialog", seen)
    other.on("request", lambda request: asked.append(request.url))
    other.goto(url)
    expect(other.locator("main")).to_contain_text("Paris is the capital of France.")
    expect(other.locator("main math")).to_have_count(1)
    assert other.locator("main img").count() == 0 and other.locator("main script").count() == 0
    assert other.locator('main a[href="https://tracker.example/p.png"]').count() == 1  # (a link to click)
    assert dialogs == [] and not [u for u in asked if "tracker.example" in u]
    expect(other.locator("main")).to_contain_text("What is the capital of France?")
    other.remove_listener("dialog", seen)
    other.once("dialog", lambda dialog: dialog.accept())  # ("Copy this shared conversation into your own list?")
    other.get_by_text("Continue this chat").click()
    other.wait_for_selector("#chat-input textarea")
    expect(other.locator("#chatbot")).to_contain_text("Paris is the capital", timeout=15000)
    expect(other.locator("#conversation-list")).to_contain_text("What is the capital of France?")
    assert "continue=" not in other.url

    page.locator("#share-revoke").click()
    expect(page.locator("#share-said")).to_contain_text("no longer works", timeout=10000)
    assert httpx.get(url).status_code == 404
    other.goto(url)
    expect(other.locator("main")).to_contain_text("no longer shared")
    mine.close()
    stranger.close()


def test_formulas_are_mathml_money_is_money_and_markup_in_a_formula_is_refused():
    page = shared_page(
        "a" * 22,
        snapshot_of(
            [
                {"role": "user", "content": "Costs?"},
                {
                    "role": "assistant",
                    "content": "It costs $20 or $30. $E = mc^2$\n\n$$\\frac{a}{b}$$\n\n```\n$x$ in code\n```\n\n"
                    "$\\text{<img src=x onerror=alert(1)>}$ $\\href{javascript:alert(1)}{x}$",
                },
            ],
            title="t",
        ),
    )
    body = page.split("<body>", 1)[1]
    assert "It costs $20 or $30." in body
    assert body.count("<math") == 2 and "<msup><mi>c</mi><mn>2</mn></msup>" in body and "<mfrac>" in body
    assert "$x$ in code" in body  # (code shows as written)


def test_a_formula_in_inline_code_shows_as_written_and_backticks_cost_no_time():
    page = shared_page(
        "a" * 22,
        snapshot_of(
            [
                {"role": "user", "content": "Shell?"},
                {"role": "assistant", "content": "Run `echo $HOME$x$` or ``a `$y$` b``, then $z^2$. A lone ` and $w$."},
            ],
            title="t",
        ),
    )
    body = page.split("<body>", 1)[1]
    assert "<code>echo $HOME$x$</code>" in body and "<code>a `$y$` b</code>" in body
    assert body.count("<math") == 2  # $z^2$ and $w$, after a backtick that closes nothing
    started = time.perf_counter()
    shared_page("a" * 22, snapshot_of([{"role": "assistant", "content": "`$a$ " * 20_000 + "``"}], title="t"))
    assert time.perf_counter() - started < 5  # (a backtracking scan would take minutes)
    assert "<img" not in body and 'href="javascript' not in body


def test_a_share_link_is_made_of_an_http_address_whatever_the_headers_say():
    """Found by a stranger's probe: the link a share returns was built from X-Forwarded-Proto and
    -Host as sent (the client's, where the proxy does not set them): `javascript://…` could come back."""
    import gradio as gr
    from starlette.requests import Request

    from causerie.ui.share_page import page_root

    def root(hops: str, *headers: tuple[str, str]) -> str:
        scope = {
            "type": "http",
            "scheme": "http",
            "server": ("10.0.0.2", 7860),
            "path": "/",
            "headers": [(k.encode(), v.encode()) for k, v in headers],
        }
        settings = load_settings({"TRUSTED_PROXY_HOPS": hops} if hops else {})
        return page_root(gr.Request(request=Request(scope)), settings)

    assert root("", ("host", "chat.example.org")) == "http://chat.example.org"
    assert root("1", ("host", "a"), ("x-forwarded-proto", "https"), ("x-forwarded-host", "chat.example.org")) == (
        "https://chat.example.org"
    )
    assert root("1", ("host", "a"), ("x-forwarded-proto", "javascript"), ("x-forwarded-host", "evil.example")) == (
        "http://evil.example"
    )
    assert root("1", ("host", "a"), ("x-forwarded-host", "x/<script>")) == "http://a"
    assert root("", ("host", 'a b"onmouseover=1')) == "http://10.0.0.2:7860"
    assert root("1", ("host", "a"), ("x-forwarded-proto", "javascript"), ("x-forwarded-proto", "https")) == "https://a"
