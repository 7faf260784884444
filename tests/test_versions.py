"""Conversations as trees: Retry and an edited question add a version instead of overwriting; the
page moves between them (‹ 2/3 ›), keeps them over a reload, sends upstream only the path shown,
and forks a new chat from an answer. The tree is kept whole in exports and imports."""

from __future__ import annotations

import json

import gradio as gr
import orjson
import pytest
from playwright.sync_api import Page, expect

from causerie.history.conversations import Conversation, UnreadableFile, read_import, to_markdown
from causerie.history.versions import (
    MOST_DEPTH,
    answer_ends,
    asked_again,
    dropped,
    path_only,
    shown_number,
    switched,
)
from causerie.ui.render import page_messages
from causerie.ui.turns import plain_turns, saved_messages

from support.browsers import send, settled
from support.scripted_server import Reply, chat_requests, text_stream


def turn(question: str, answer: str) -> list[dict]:
    return [{"role": "user", "content": question}, {"role": "assistant", "content": answer}]


# -- the tree, as plain data ------------------------------------------------------------------------


def test_asking_again_keeps_each_version_and_moving_swaps_the_tail_only():
    first = turn("Q1", "A1") + turn("Q2", "B1") + turn("Q3", "C1")
    # Retry Q2 twice: B1, then B2 are kept; B3 is shown.
    tail = first[2:]
    second = first[:2] + [{**tail[0], "versions": asked_again(tail)}, {"role": "assistant", "content": "B2"}]
    third = second[:2] + [{**second[2], "versions": asked_again(second[2:])}, {"role": "assistant", "content": "B3"}]
    assert shown_number(third[2]["versions"]) == (3, 3)
    back = switched(third, 2, -1)
    assert [m["content"] for m in back] == ["Q1", "A1", "Q2", "B2"] and shown_number(back[2]["versions"]) == (2, 3)
    oldest = switched(back, 2, -1)
    assert [m["content"] for m in oldest] == ["Q1", "A1", "Q2", "B1", "Q3", "C1"]  # (its later turns came back with it)
    assert switched(oldest, 2, -1) is None and shown_number(oldest[2]["versions"]) == (1, 3)
    assert [m["content"] for m in switched(switched(oldest, 2, 1), 2, 1)] == ["Q1", "A1", "Q2", "B3"]
    assert path_only(oldest) == first


def test_an_edit_deep_in_a_long_chat_keeps_what_came_after_it_as_a_version():
    chat = [m for n in range(30) for m in turn(f"Q{n}", f"A{n}")]
    edited = chat[:20] + [{"role": "user", "content": "Q10 edited", "versions": asked_again(chat[20:])}]
    edited.append({"role": "assistant", "content": "new"})
    back = switched(edited, 20, -1)
    assert back[20:] == [{**chat[20], "versions": {"before": [], "after": [path_only(edited[20:])]}}, *chat[21:]]


def test_the_page_shows_the_path_sends_only_it_upstream_and_saves_the_tree():
    path = turn("Q1", "A1") + turn("Q2", "B2")
    path[2]["versions"] = {"before": [turn("Q2", "B1") + turn("Q3", "C1")], "after": []}
    shown = page_messages(path)
    line = shown[3]  # (under its question, before the answer: the answer's footer stays its last message)
    assert line["metadata"]["id"] == "causerie-versions" and "2/2" in line["content"][0]["text"]
    assert "#causerie-version-prev-0" in line["content"][0]["text"] and "#causerie-version-next" not in line["content"][0]["text"]
    assert plain_turns(shown) == [{"role": m["role"], "content": m["content"]} for m in path_only(path)]
    assert saved_messages(shown) == path
    (again,) = read_import(Conversation(id="c").with_messages(path, {}).to_json())
    assert list(again.messages) == path  # (JSON export and import keep the tree)
    assert "B1" not in to_markdown(again)  # (Markdown: the path shown)


def test_a_fork_counts_answers_as_the_page_groups_them():
    # Two assistant messages in a row (an answer kept after a failure, then one imported after it)
    # are one answer on the page, with one row of buttons: the second ⑂ is the second question's.
    path = turn("Q1", "A1") + [{"role": "assistant", "content": "A1, more"}] + turn("Q2", "A2")
    ends = answer_ends(path)
    assert ends == [2, 4]
    shown = page_messages(path)
    runs = [
        n
        for n, m in enumerate(shown)
        if m["role"] == "assistant" and (n + 1 == len(shown) or shown[n + 1]["role"] != "assistant")
    ]
    assert len(runs) == len(ends)  # (one ⑂ a run, as Gradio draws them)
    assert path_only(path[: ends[1] + 1])[-1]["content"] == "A2"


def depth_of(messages: list[dict]) -> int:
    """How deep the versions within these messages go (0: none)."""
    return max(
        (
            1 + max((depth_of(tail) for side in ("before", "after") for tail in m["versions"].get(side) or ()), default=0)
            for m in messages
            if m.get("versions")
        ),
        default=0,
    )


def page_payload(messages: list[dict]) -> bytes:
    """The page's chat as Gradio sends it (its postprocess, orjson), inside a few more levels than
    its queue message wraps it in: what must not be too deep for orjson (255 levels)."""
    data = gr.Chatbot().postprocess(page_messages(messages)).model_dump()
    return orjson.dumps({"msg": "process_generating", "output": {"data": [[["replace", [0], data]]]}})


def test_versions_stay_shallow_enough_for_the_page_however_they_were_made():
    """Found by a stranger's probe: an import whose versions nested 190 deep passed (the limit was
    200) and broke the page's stream (orjson stops at 255 levels, and each level is five)."""
    deep = {"role": "user", "content": "Q"}
    for _ in range(190):
        deep = {"role": "user", "content": "Q", "versions": {"before": [[deep, {"role": "assistant", "content": "A"}]]}}
    with pytest.raises(orjson.JSONEncodeError):
        orjson.dumps(deep)  # (as it was)
    (imported,) = read_import(json.dumps({"messages": [deep, {"role": "assistant", "content": "A"}]}))
    assert depth_of(list(imported.messages)) == MOST_DEPTH
    page_payload(list(imported.messages))  # (the deepest kept still goes to the page)
    # Retries at ever earlier questions of a long chat: each adds a level, and the deepest go.
    chat = [m for n in range(40) for m in turn(f"Q{n}", f"A{n}")]
    for start in range(78, -1, -2):
        chat = [*chat[:start], {**chat[start], "versions": asked_again(chat[start:])}, {"role": "assistant", "content": "new"}]
    assert depth_of(chat) == MOST_DEPTH and chat[0]["versions"]["before"][0][0]["content"] == "Q0"
    page_payload(chat)


def test_a_forged_tree_in_an_import_is_checked_like_any_message():
    raw = turn("Q", "A")
    raw[0]["versions"] = {"before": [[{"role": "nobody", "content": 5}], "not a tail", [{"role": "user", "content": "Q0"}]]}
    with pytest.raises(UnreadableFile):  # (a message of no known role is refused, as at the top)
        read_import(json.dumps({"messages": raw}))
    raw[0]["versions"] = {"before": ["not a tail", [{"role": "user", "content": "Q0", "files": [{"path": "/etc/passwd"}]}]]}
    (kept,) = read_import(json.dumps({"messages": raw}))
    assert kept.messages[0]["versions"]["before"] == [[{"role": "user", "content": "Q0", "files": [{"path": "/etc/passwd"}]}]]


# -- in Chromium ------------------------------------------------------------------------------------


@pytest.mark.browser
def test_retry_twice_move_between_versions_reload_and_fork(app, scripted, page: Page):
    page.goto(app.url)
    page.wait_for_selector("#chat-input textarea")
    scripted.queue(*(Reply(chunks=text_stream(f"Version {n}")) for n in (1, 2, 3)))
    send(page, "Tell me a joke")
    chat = page.locator("#chatbot")
    expect(chat).to_contain_text("Version 1", timeout=10000)
    for n in (2, 3):
        page.get_by_role("button", name="Retry").last.click()
        expect(chat).to_contain_text(f"Version {n}", timeout=10000)
        expect(chat).to_contain_text(f"{n}/{n}")
    expect(chat).not_to_contain_text("Version 2")
    chat.locator('a[href^="#causerie-version-prev-"]').click()
    expect(chat).to_contain_text("Version 2", timeout=10000)
    expect(chat).to_contain_text("2/3")
    scripted.queue(Reply(chunks=text_stream("Follow-up answer")))
    send(page, "Another one")
    expect(chat).to_contain_text("Follow-up answer", timeout=10000)
    sent = chat_requests(scripted)[-1]["body"]["messages"]
    assert [m["content"] for m in sent if m["role"] != "system"] == ["Tell me a joke", "Version 2", "Another one"]
    scripted.queue(Reply(chunks=text_stream("Follow-up again")))
    page.get_by_role("button", name="Retry").last.click()  # (a later question asked again)
    expect(chat).to_contain_text("Follow-up again", timeout=10000)
    expect(chat).to_contain_text("2/3")  # the first question's versions are still there
    expect(chat).to_contain_text("2/2")
    settled(page)  # (saved)

    page.reload()
    page.wait_for_selector("#chat-input textarea")
    expect(chat).to_contain_text("Version 2", timeout=10000)
    expect(chat).to_contain_text("2/3")
    expect(chat).to_contain_text("2/2")
    chat.locator('a[href^="#causerie-version-next-"]').click()
    expect(chat).to_contain_text("Version 3", timeout=10000)
    expect(chat).not_to_contain_text("Follow-up answer")  # (that turn belongs to version 2)

    page.locator("#chatbot .causerie-fork").first.click()
    expect(page.locator("#history-notice")).to_contain_text("new conversation", timeout=10000)
    expect(chat).to_contain_text("Version 3")
    expect(chat).not_to_contain_text("3/3")  # (a fork is the path alone)
    expect(page.locator("#conversation-list")).to_contain_text("⑂")


def test_deleting_a_version_shows_the_one_before_it_and_the_last_leaves_no_versions():
    path = turn("Q", "A1")
    second = [{**path[0], "versions": asked_again(path)}, {"role": "assistant", "content": "A2"}]
    third = [{**second[0], "versions": asked_again(second)}, {"role": "assistant", "content": "A3"}]
    gone = dropped(third, 0)
    assert [m["content"] for m in gone] == ["Q", "A2"] and shown_number(gone[0]["versions"]) == (2, 2)
    only = dropped(gone, 0)
    assert [m["content"] for m in only] == ["Q", "A1"] and "versions" not in only[0]
    assert dropped(only, 0) is None


def test_a_link_written_by_a_model_is_never_one_of_the_pages_controls():
    from causerie.inert import inert
    from causerie.ui.render import message, version_message

    said = message("assistant", "[Read more](#causerie-version-drop-0) [ok](#causerie-tool-allow-abcdefgh12)")
    text = said["content"][0]["text"]
    assert "#causerie-" not in text and text.count("#causerie\u2011") == 2
    assert inert(text) == text  # (the same when made inert again)
    own = version_message({"before": [turn("Q", "A")], "after": []}, 0)["content"][0]["text"]
    assert "(#causerie-version-prev-0)" in own and "(#causerie-version-drop-0)" in own
