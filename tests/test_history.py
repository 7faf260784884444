"""Saved conversations as plain Python: their file formats, the caps, sealing, the page's form,
and the server store on SQLite and on a real PostgreSQL (one person never reaches another's)."""

from __future__ import annotations

import json

import pytest

from causerie.answering.answer import Answer
from causerie.config.history_settings import HistoryLimits, load_history_settings
from causerie.config.settings import SettingsError
from causerie.config.store_urls import async_url
from causerie.events import Failure, Finish, ReasoningDelta, Start, TextDelta, Usage
from causerie.history.browser_shelf import BrowserShelf
from causerie.history.conversations import Conversation, UnreadableFile, bundle_json, read_import, to_markdown
from causerie.history.library import Library, size_of
from causerie.history.sealing import Sealer, Unreadable
from causerie.history.shelves import keeper_for, open_keeper
from causerie.ui.browser_state import read_held
from causerie.ui.render import message, page_messages, render
from causerie.ui.turns import saved_messages

from support.apps import run_async
from support.browser_storage import BrowserStorage

SETTINGS = {
    "provider": "xai",
    "model": "grok-4",
    "preset": "general-en",
    "system_prompt": "Be brief.",
    "temperature": "0.3",
    "top_p": "",
    "max_tokens": "500",
    "reasoning_effort": "high",
}


def conversation(cid: str = "c1", question: str = "Why is the sky blue?", at: float = 1000.0) -> Conversation:
    return Conversation(
        id=cid,
        settings=dict(SETTINGS),
        created_at=at,
        updated_at=at,
        messages=(
            {"role": "user", "content": question},
            {
                "role": "assistant",
                "content": "Rayleigh scattering.",
                "thinking": "Short light scatters more.",
                "thinking_seconds": 1.5,
                "footer": "xAI · grok-4 · 0.40 s to first token",
            },
            {"role": "user", "content": "Et en français ?"},
            {"role": "assistant", "content": "La diffusion Rayleigh.", "notice": "⚠️ Stopped at the limit."},
        ),
    )


# -- files ----------------------------------------------------------------------------------------


def test_json_export_then_import_gives_back_the_same_conversation():
    original = conversation()
    (back,) = read_import(original.to_json())
    assert back == original
    assert back.messages[1]["thinking"] == "Short light scatters more." and back.settings == SETTINGS


def test_renamed_title_survives_and_bundle_of_all_round_trips():
    renamed = Conversation(**{**conversation().__dict__, "title": "Sky colour"})
    other = conversation("c2", "Write a letter to my landlord", at=2000.0)
    back = read_import(bundle_json([renamed, other]))
    assert back == [renamed, other]
    assert back[0].shown_title == "Sky colour" and back[1].shown_title == "Write a letter to my landlord"


def test_plain_openai_messages_import_with_system_prompt_and_text_parts():
    plain = [
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": [{"type": "text", "text": "Hello"}, {"type": "image_url", "image_url": {"url": "x"}}]},
        {"role": "assistant", "content": "Hi.", "reasoning_content": "They greet me."},
        {"role": "tool", "content": "ignored", "tool_call_id": "1"},
        {"role": "user", "content": "Bye"},
    ]
    (imported,) = read_import(json.dumps(plain))
    assert imported.settings == {"system_prompt": "You are terse."}
    assert imported.messages == (
        {"role": "user", "content": "Hello"},
        {"role": "assistant", "content": "Hi.", "thinking": "They greet me."},
        {"role": "user", "content": "Bye"},
    )
    assert imported.shown_title == "Hello" and len(imported.id) == 32


@pytest.mark.parametrize(
    "data, why, said",
    [
        ("not json", "not_json", "not JSON"),
        ("[]", "empty", "holds no message"),
        ('{"hello": 1}', "not_ours", "expected a Causerie export, or a list of {role, content} messages"),
        ('[{"role": "wizard", "content": "x"}]', "bad_message", "message 1 needs a role"),
        ('[{"role": "user", "content": "ok"}, {"role": "user", "content": 5}]', "bad_message", "message 2 needs a role"),
        ('{"format": "causerie.conversations", "conversations": []}', "empty", "holds no message"),
        ("[" * 100_000 + "]" * 100_000, "not_json", "not JSON"),
    ],
)
def test_unreadable_imports_say_what_was_expected(data, why, said):
    from causerie.i18n.wording import words

    with pytest.raises(UnreadableFile) as caught:
        read_import(data)
    assert caught.value.why == why
    assert said in words("history", "import_failed", {"why": why, **caught.value.params})


def test_an_imported_id_that_could_reach_elsewhere_is_replaced():
    data = conversation().to_dict() | {"id": "../../etc/passwd"}
    (imported,) = read_import(json.dumps(data))
    assert imported.id != data["id"] and imported.id.isalnum()


def test_only_an_owners_stamped_upload_reached_without_links_is_kept(tmp_path):
    """A file is kept when its stamp is its owner's and its path an upload's, absolute and
    normalised, with no link on the way; anything else keeps its name only."""
    from causerie.history.file_stamps import FileStamps

    uploads, outside = tmp_path / "gradio", tmp_path / "app"
    (uploads / "abc").mkdir(parents=True)
    outside.mkdir()
    (outside / "app.py").write_text("source")
    note = uploads / "abc" / "note.txt"
    note.write_text("mine")
    (uploads / "link.txt").symlink_to(outside / "app.py")
    (uploads / "inner.txt").symlink_to(note)
    (uploads / "linked").symlink_to(uploads / "abc", target_is_directory=True)
    stamps = FileStamps("a-long-enough-secret-for-tests", uploads)
    (mine,) = stamps.stamped("browser:a", [{"path": str(note), "orig_name": "note.txt", "stamp": "forged"}])
    assert mine["stamp"] != "forged" and stamps.kept("browser:a", mine)
    assert not stamps.kept("browser:b", mine)
    assert not FileStamps("another-secret-of-enough-length", uploads).kept("browser:a", mine)
    for raw in (
        str(outside / "app.py"),
        str(uploads / "abc" / ".." / "abc" / "note.txt"),
        "abc/note.txt",
        str(uploads / "link.txt"),
        str(uploads / "inner.txt"),
        str(uploads / "linked" / "note.txt"),
        str(uploads / "abc"),
        str(uploads),
        "https://example.com/note.txt",
        "file://" + str(note),
        7,
        None,
    ):
        assert stamps.place(raw) is None, raw
        (made,) = stamps.stamped("browser:a", [{"path": raw, "orig_name": "x.txt"}])
        assert made == {"orig_name": "x.txt"}
        assert not stamps.kept("browser:a", {**mine, "path": raw})
    note.unlink()
    assert not stamps.kept("browser:a", mine)
    assert stamps.vetted("browser:a", [mine, {"path": "/etc/passwd"}]) == [{"orig_name": "note.txt"}, {"orig_name": "passwd"}]


def test_a_file_shown_no_longer_available_is_named_in_the_question():
    shown = page_messages([{"role": "user", "content": "Read", "files": [{"orig_name": "a.pdf"}]}], "fr")
    assert shown[0]["content"] == [
        {"text": "Read\n\n📎 a.pdf\u00a0: n'est plus disponible (joignez-le de nouveau pour vous en servir)", "type": "text"}
    ]


def test_markdown_export_reads_as_a_document():
    text = to_markdown(conversation())
    assert text.startswith("# Why is the sky blue?\n")
    assert (
        "*provider: xai · model: grok-4 · preset: general-en · temperature: 0.3 · max tokens: 500 · reasoning effort: high*"
        in text
    )
    assert "> Be brief." in text and "## You" in text and "## grok-4" in text
    assert "<details><summary>Thinking</summary>" in text and "La diffusion Rayleigh." in text


# -- the page's chat and the saved form -----------------------------------------------------------


def _answer(*events) -> Answer:
    answer = Answer()
    for event in events:
        answer.apply(event)
    return answer


def test_page_chat_to_saved_messages_and_back_is_lossless():
    thought_answer = _answer(
        Start("xai", "xAI", "grok-4"),
        ReasoningDelta("Hmm."),
        TextDelta("Blue."),
        Usage(prompt_tokens=5, completion_tokens=2),
        Finish("stop"),
    )
    failed = _answer(Start("xai", "xAI", "grok-4"), TextDelta("Half"), Failure("network", {}))
    page = [message("user", "Q1"), *render(thought_answer), message("user", "Q2"), *render(failed)]
    saved = saved_messages(page)
    assert [m["role"] for m in saved] == ["user", "assistant", "user", "assistant"]
    assert saved[1]["thinking"] == "Hmm." and saved[1]["content"] == "Blue." and "grok-4" in saved[1]["footer"]
    assert saved[3]["content"] == "Half" and saved[3]["notice"].startswith("⚠️")
    assert saved_messages(page_messages(saved)) == saved


def test_two_answers_in_a_row_stay_two_and_waiting_lines_are_not_kept():
    page = [
        message("user", "Q"),
        message("assistant", "A1"),
        message("assistant", "A2"),
        message("assistant", "⏳ Waiting…", {"id": "causerie-status"}),
    ]
    assert saved_messages(page) == [
        {"role": "user", "content": "Q"},
        {"role": "assistant", "content": "A1"},
        {"role": "assistant", "content": "A2"},
    ]


# -- caps -----------------------------------------------------------------------------------------


def test_over_the_count_the_oldest_goes_and_the_person_is_told_which():
    library, limits = Library(), HistoryLimits(max_conversations=3, max_bytes=10_000_000)
    for number in range(3):
        library.put(conversation(f"c{number}", f"Question {number}", at=1000 + number), limits)
    notices = library.put(conversation("c3", "Question 3", at=2000), limits)
    assert [c.id for c in library.all()] == ["c3", "c2", "c1"]
    assert notices[0].kind == "history_dropped" and "Question 0" in notices[0].params["titles"]


def test_nearly_full_is_said_before_anything_goes():
    library, limits = Library(), HistoryLimits(max_conversations=10, max_bytes=10_000_000)
    kinds = [[n.kind for n in library.put(conversation(f"c{i}", at=1000 + i), limits)] for i in range(10)]
    assert kinds[:8] == [[]] * 8 and kinds[8] == ["history_nearly_full"] and len(library) == 10


def test_a_conversation_too_large_alone_is_refused_and_nothing_else_goes():
    small = conversation("small")
    library, limits = Library([small]), HistoryLimits(max_bytes=size_of(small) + 100)
    big = conversation("big", "x" * 5000)
    notices = library.put(big, limits)
    assert [n.kind for n in notices] == ["history_too_large"] and library.get("small") and not library.get("big")


def test_pinned_conversations_are_listed_first_and_dropped_last():
    from dataclasses import replace

    library, limits = Library(), HistoryLimits(max_conversations=3, max_bytes=10_000_000)
    library.put(replace(conversation("old-pinned", "Letter to the bank", at=1000), pinned=True), limits)
    for number in range(2):
        library.put(conversation(f"c{number}", f"Question {number}", at=2000 + number), limits)
    assert [s.id for s in library.summaries()] == ["old-pinned", "c1", "c0"]
    assert [s.pinned for s in library.summaries()] == [True, False, False]
    # Over the cap, the oldest unpinned one goes, not the older pinned one.
    notices = library.put(conversation("c2", "Question 2", at=3000), limits)
    assert [c.id for c in library.all()] == ["old-pinned", "c2", "c1"]
    assert "Question 0" in notices[0].params["titles"]
    # Kept through the browser's copy and a JSON export; an import takes only a real true.
    assert Library.from_json(library.to_json()).get("old-pinned").pinned is True
    assert read_import(library.get("old-pinned").to_json())[0].pinned is True
    assert read_import(json.dumps({**library.get("c2").to_dict(), "pinned": "yes"}))[0].pinned is False


def test_two_tabs_copies_merge_and_a_deletion_is_not_undone():
    limits = HistoryLimits()
    tab_a, tab_b = Library([conversation("shared", at=1000), conversation("gone", at=1000)]), Library()
    tab_b.merge(tab_a)
    tab_a.put(conversation("only-a", at=2000), limits)
    tab_b.put(conversation("shared", "Edited in B", at=3000), limits)
    tab_b.delete("gone", at=2500)
    tab_a.merge(Library.from_json(tab_b.to_json()))
    assert {c.id for c in tab_a.all()} == {"shared", "only-a"}
    assert tab_a.get("shared").messages[0]["content"] == "Edited in B"
    # A copy made before the deletion does not bring it back.
    tab_a.merge(Library([conversation("gone", at=1000)]))
    assert tab_a.get("gone") is None


def test_search_looks_through_titles_and_text_case_insensitively():
    library = Library([conversation("c1", "Letter to the Préfecture"), conversation("c2", "Python script")])
    assert [s.id for s in library.summaries("préfecture")] == ["c1"]
    assert [s.id for s in library.summaries("RAYLEIGH script")] == ["c2"]
    assert library.summaries("nothing-like-this") == []


# -- sealing --------------------------------------------------------------------------------------


def saved(sealer: Sealer, *conversations: Conversation, storage: BrowserStorage | None = None) -> BrowserStorage:
    """A browser's storage once a page has saved these conversations in it."""
    storage = storage or BrowserStorage()
    shelf = opened(storage, sealer)
    for kept in conversations:
        run_async(shelf.put(kept))
    storage.write(json.dumps(shelf.writes()))
    return storage


def opened(
    storage: BrowserStorage, sealer: Sealer, limits: HistoryLimits = HistoryLimits(), legacy: object = None
) -> BrowserShelf:
    held = read_held(storage.held())
    return BrowserShelf(held.entries, legacy or held.legacy, sealer, limits)


def test_each_conversation_is_sealed_in_its_own_entry_that_opens_only_with_its_secret():
    sealer = Sealer("a-long-enough-secret-1")
    storage = saved(sealer, conversation("c1"), conversation("c2", at=2000.0))
    assert set(storage.entries) == {"c1", "c2"} and "Rayleigh" not in json.dumps(storage.entries)
    assert opened(storage, sealer).library.get("c1") == conversation()
    shelf = opened(storage, Sealer("another-secret-entirely"))
    assert len(shelf.library) == 0 and [n.kind for n in shelf.notices] == ["history_unreadable"]


def test_a_save_writes_only_what_changed_and_never_over_a_newer_entry():
    sealer = Sealer("a-long-enough-secret-1")
    storage = saved(sealer, conversation("a"), conversation("b"))
    shelf = opened(storage, sealer)
    assert shelf.writes() is None  # nothing changed: nothing written
    run_async(shelf.put(conversation("a", "Changed", at=3000.0)))
    writes = shelf.writes()
    assert set(writes["put"]) == {"a"}
    # Another tab wrote a newer "a" meanwhile: this older one does not replace it.
    newer = opened(storage, sealer)
    run_async(newer.put(conversation("a", "Newest", at=4000.0)))
    storage.write(json.dumps(newer.writes()))
    storage.write(json.dumps(writes))
    assert opened(storage, sealer).library.get("a").messages[0]["content"] == "Newest"


def test_a_deletion_is_an_entry_that_an_older_copy_does_not_undo():
    sealer = Sealer("a-long-enough-secret-1")
    storage = saved(sealer, conversation("gone"))
    stale = opened(storage, sealer)  # another tab read it before the deletion
    run_async(stale.put(conversation("gone", at=1500.0)))
    deleting = opened(storage, sealer)
    run_async(deleting.delete("gone"))
    storage.write(json.dumps(deleting.writes()))
    storage.write(json.dumps(stale.writes()))
    assert json.loads(storage.entries["gone"])["deleted"] is True
    assert opened(storage, sealer).library.get("gone") is None


def test_an_unreadable_entry_is_never_written_over_or_dropped_and_comes_back_with_its_secret():
    old, new = Sealer("the-secret-before-a-mistake"), Sealer("a-secret-set-by-mistake")
    storage = saved(old, conversation("old1"), conversation("old2", at=1500.0))
    before = dict(storage.entries)
    wrong = opened(storage, new)
    assert wrong.writes() is None  # opening the page writes nothing
    assert [n.kind for n in wrong.notices] == ["history_unreadable"]
    saved(new, conversation("new", at=5000.0), storage=storage)
    assert {k: storage.entries[k] for k in before} == before  # both kept, untouched
    # The owner puts the old secret back: everything is there.
    fixed = opened(storage, old)
    assert fixed.library.get("old1") == conversation("old1") and fixed.library.get("old2")


def test_what_is_kept_unopened_counts_against_the_caps_but_is_never_dropped():
    old, new = Sealer("the-secret-before-a-mistake"), Sealer("a-secret-set-by-mistake")
    storage = saved(old, conversation("unopened"))
    saved(new, conversation("readable", at=2000.0), storage=storage)
    shelf = opened(storage, new, HistoryLimits(max_conversations=2))
    notices = run_async(shelf.put(conversation("newest", at=3000.0)))
    assert [n.kind for n in notices] == ["history_dropped"] and "Why is the sky blue?" in notices[0].params["titles"]
    storage.write(json.dumps(shelf.writes()))
    assert set(storage.entries) == {"unopened", "readable", "newest"}
    assert opened(storage, new).library.get("readable") is None  # deleted: the one that could go
    assert opened(storage, old).library.get("unopened") == conversation("unopened")


def test_an_earlier_versions_single_value_opens_and_is_written_out_then_removed():
    sealer = Sealer("a-long-enough-secret-1")
    legacy = {"sealed": sealer.seal(Library([conversation("c1"), conversation("c2", at=2000.0)]).to_json())}
    shelf = opened(BrowserStorage(), sealer, legacy=legacy)
    assert {c.id for c in shelf.library.all()} == {"c1", "c2"}
    writes = shelf.writes()
    assert writes["retire"] and set(writes["put"]) == {"c1", "c2"}
    # One another secret cannot open is kept where it is, never removed.
    shelf = opened(BrowserStorage(), Sealer("another-secret-entirely"), legacy=legacy)
    assert shelf.writes() is None and [n.kind for n in shelf.notices] == ["history_unreadable"]
    run_async(shelf.put(conversation("c3", at=3000.0)))
    assert shelf.writes()["retire"] is False


S1, S2, S3 = "the-first-secret-of-all", "the-second-secret-after", "the-third-secret-now-set"


def sealed_with(storage: BrowserStorage, conversation_id: str) -> str:
    """Which of S1, S2, S3 opens an entry."""
    token = json.loads(storage.entries[conversation_id])["sealed"]
    for secret in (S1, S2, S3):
        try:
            Sealer(secret).open(token)
            return secret
        except Unreadable:
            continue
    return "none"


def test_rotating_the_secret_twice_keeps_everything_open_and_reseals_with_the_newest():
    storage = saved(Sealer(S1), conversation("one"))
    saved(Sealer(S2, [S1]), conversation("two", at=2000.0), storage=storage)
    assert sealed_with(storage, "one") == S2  # opened with S1 at that write, sealed again with S2
    # Something S1 sealed and no page has written since (another browser profile, a backup).
    storage.entries["cold"] = saved(Sealer(S1), conversation("cold", at=500.0)).entries["cold"]
    after = opened(storage, Sealer(S3, [S2, S1]))
    assert {c.id for c in after.library.all()} == {"one", "two", "cold"} and after.notices == []
    storage.write(json.dumps(after.writes()))
    assert {sealed_with(storage, c) for c in ("one", "two", "cold")} == {S3}
    assert opened(storage, Sealer(S3)).library.get("cold") == conversation("cold", at=500.0)


def test_a_value_whose_secret_is_left_out_of_the_list_is_kept_and_comes_back_when_it_is_listed():
    storage = saved(Sealer(S1), conversation("first"))
    saved(Sealer(S2, [S1]), conversation("second", at=2000.0), storage=storage)
    storage.entries["first"] = saved(Sealer(S1), conversation("first")).entries["first"]  # (not rewritten yet)
    before = storage.entries["first"]
    forgot = opened(storage, Sealer(S3, [S2]))  # S1 left out by mistake
    assert forgot.library.get("first") is None and [n.kind for n in forgot.notices] == ["history_unreadable"]
    run_async(forgot.put(conversation("third", at=3000.0)))
    storage.write(json.dumps(forgot.writes()))
    assert storage.entries["first"] == before  # kept as it was, not discarded
    back = opened(storage, Sealer(S3, [S2, S1]))
    assert {c.id for c in back.library.all()} == {"first", "second", "third"}
    storage.write(json.dumps(back.writes()))
    assert sealed_with(storage, "first") == S3


def test_an_earlier_versions_value_keeps_every_unreadable_part_and_opens_with_an_old_secret():
    # Earlier versions kept one unreadable value beside the new one; here both parts stay.
    legacy = {
        "sealed": Sealer(S2).seal(Library([conversation("b")]).to_json()),
        "unopened": Sealer(S1).seal(Library([conversation("a")]).to_json()),
    }
    shelf = opened(BrowserStorage(), Sealer(S3), legacy=legacy)
    run_async(shelf.put(conversation("c", at=3000.0)))
    assert shelf.writes()["retire"] is False  # neither part opens: the value stays where it is
    shelf = opened(BrowserStorage(), Sealer(S3, [S2, S1]), legacy=legacy)
    assert {c.id for c in shelf.library.all()} == {"a", "b"}
    assert shelf.writes()["retire"] is True


@pytest.mark.parametrize("value", [{"sealed": "garbage"}, {"sealed": 5}, "a string", [1, 2]])
def test_a_damaged_earlier_value_starts_fresh_and_says_so(value):
    shelf = BrowserShelf({}, value, Sealer("a-long-enough-secret-1"), HistoryLimits())
    assert len(shelf.library) == 0 and [n.kind for n in shelf.notices] == ["history_unreadable"]
    assert shelf.writes() is None


@pytest.mark.parametrize("entry", ["garbage", '{"at": 5, "sealed": "junk"}', '{"sealed": 5}', "[1]"])
def test_a_damaged_entry_is_said_and_left_alone(entry):
    shelf = BrowserShelf({"c1": entry}, None, Sealer("a-long-enough-secret-1"), HistoryLimits())
    assert len(shelf.library) == 0 and [n.kind for n in shelf.notices] == ["history_unreadable"]
    run_async(shelf.put(conversation("c2")))
    assert set(shelf.writes()["put"]) == {"c2"}


def test_a_tampered_value_is_refused():
    sealer = Sealer("a-long-enough-secret-1")
    token = sealer.seal(Library([conversation()]).to_json())
    with pytest.raises(Unreadable):
        sealer.open(token[:-8] + ("A" * 8 if not token.endswith("A" * 8) else "B" * 8))


def test_no_value_yet_is_an_empty_list_without_a_notice():
    shelf = opened(BrowserStorage(), Sealer("a-long-enough-secret-1"))
    assert len(shelf.library) == 0 and shelf.notices == [] and shelf.writes() is None


# -- settings -------------------------------------------------------------------------------------


def test_secret_is_made_once_and_kept_locally(tmp_path):
    env = {"CAUSERIE_DATA_DIR": str(tmp_path)}
    first = load_history_settings(env, on_space=False, oauth=False)
    second = load_history_settings(env, on_space=False, oauth=False)
    assert first.secret == second.secret and first.secret_kept == "file"
    assert (tmp_path / "history-secret").stat().st_mode & 0o077 == 0
    assert first.secret not in repr(first)


def test_earlier_secrets_are_read_in_order_and_never_shown(tmp_path):
    history = load_history_settings(
        {"CAUSERIE_DATA_DIR": str(tmp_path), "HISTORY_SECRET": S3, "HISTORY_OLD_SECRETS": f" {S2}, {S1},{S2}, "},
        on_space=False,
        oauth=False,
    )
    assert history.old_secrets == (S2, S1) and S1 not in repr(history)


def test_on_a_space_without_secret_the_owner_is_warned(tmp_path, caplog):
    history = load_history_settings({"CAUSERIE_DATA_DIR": str(tmp_path)}, on_space=True, oauth=False)
    assert history.warn_secret and not (tmp_path / "history-secret").exists()
    keeper, notices = keeper_for(history, on_space=True)
    assert [n.kind for n in notices] == ["secret_for_this_run"]
    assert "HISTORY_SECRET is not set" in caplog.text


@pytest.mark.parametrize(
    "env, named",
    [
        ({"HISTORY_SECRET": "short"}, "HISTORY_SECRET must be at least 16"),
        ({"HISTORY_OLD_SECRETS": "a-long-enough-old-secret, pw"}, "HISTORY_OLD_SECRETS entry 2 must be at least 16"),
        ({"AUTH_USERS": "alice"}, "AUTH_USERS entry 1"),
        ({"AUTH_USERS": "alice:pw,bob:"}, "AUTH_USERS entry 2"),
        ({"DATABASE_URL": "mysql://x/y"}, "'mysql' is not supported"),
        ({"DATABASE_URL": "sqlite://"}, "give SQLite a file"),
        ({"CAUSERIE_HISTORY_MAX_CONVERSATIONS": "0"}, "at least 1"),
    ],
)
def test_wrong_history_settings_name_the_variable(env, named, tmp_path):
    with pytest.raises(SettingsError, match=named) as caught:
        load_history_settings({"CAUSERIE_DATA_DIR": str(tmp_path), **env}, on_space=False, oauth=False)
    assert "pw" not in str(caught.value)


def test_signing_in_locally_defaults_to_a_sqlite_file(tmp_path):
    history = load_history_settings({"CAUSERIE_DATA_DIR": str(tmp_path), "AUTH_USERS": "alice:pw1"}, on_space=False, oauth=False)
    assert history.database_url == f"sqlite+aiosqlite:///{tmp_path / 'causerie.db'}"
    assert history.auth_users == {"alice": "pw1"}
    assert async_url("postgres://u:p@h/db") == "postgresql+asyncpg://u:p@h/db"


# -- the server store, on SQLite and PostgreSQL ---------------------------------------------------


def _keeper(url: str, limits: HistoryLimits = HistoryLimits()):
    keeper, why = open_keeper(Sealer("a-long-enough-secret-1"), limits, async_url(url))
    assert why is None and keeper.store is not None
    return keeper


def test_store_keeps_conversations_per_person_and_never_crosses(database_url):
    keeper = _keeper(database_url)

    async def scenario():
        store = keeper.store
        try:
            await store.put("user:alice", conversation("shared-id", "Alice's secret plan"))
            await store.put("user:bob", conversation("bob-1", "Bob's question", at=3000))
            # Bob saves a conversation with the id Alice uses: it is his own, hers is untouched.
            await store.put("user:bob", conversation("shared-id", "Bob overwrites?", at=4000))
            alice = await store.get("user:alice", "shared-id")
            assert alice.messages[0]["content"] == "Alice's secret plan"
            assert [s.id for s in await store.summaries("user:bob")] == ["shared-id", "bob-1"]
            assert await store.get("user:bob", "shared-id") != alice
            assert await store.summaries("user:bob", "secret plan") == []
            assert await store.get("user:mallory", "shared-id") is None
            await store.delete("user:bob", "shared-id")
            assert await store.get("user:alice", "shared-id") == alice
            assert [s.title for s in await store.summaries("user:alice", "SECRET")] == ["Alice's secret plan"]
            assert [c.id for c in await store.all("user:alice")] == ["shared-id"]
        finally:
            await store.close()

    run_async(scenario())


def test_store_round_trips_a_conversation_exactly_and_applies_the_caps(database_url):
    keeper = _keeper(database_url, HistoryLimits(max_conversations=2, max_bytes=10_000_000))

    async def scenario():
        store = keeper.store
        try:
            original = Conversation(**{**conversation("c1", "Première question, é à ü", at=1000).__dict__, "title": "Renamed"})
            await store.put("hf:alice", original)
            assert await store.get("hf:alice", "c1") == original
            await store.put("hf:alice", conversation("c2", at=2000))
            notices = await store.put("hf:alice", conversation("c3", at=3000))
            assert notices[0].kind == "history_dropped" and "Renamed" in notices[0].params["titles"]
            assert [s.id for s in await store.summaries("hf:alice")] == ["c3", "c2"]
            assert [s.id for s in await store.summaries("hf:alice", "PREMIÈRE")] == []
            assert [s.id for s in await store.summaries("hf:alice", "rayleigh")] == ["c3", "c2"]
        finally:
            await store.close()

    run_async(scenario())


def test_the_store_lists_pinned_conversations_first(database_url):
    from dataclasses import replace

    keeper = _keeper(database_url)

    async def scenario():
        store = keeper.store
        try:
            await store.put("user:alice", replace(conversation("pinned", "Kept on top", at=1000), pinned=True))
            await store.put("user:alice", conversation("recent", at=2000))
            assert [(s.id, s.pinned) for s in await store.summaries("user:alice")] == [("pinned", True), ("recent", False)]
            assert [c.id for c in await store.all("user:alice")] == ["pinned", "recent"]
            assert (await store.get("user:alice", "pinned")).pinned is True
        finally:
            await store.close()

    run_async(scenario())


def test_a_store_made_before_pins_keeps_its_conversations_unpinned(database_url):
    """Migration 0003 on a database holding conversations saved at 0002."""
    import sqlalchemy as sa
    from alembic import command
    from alembic.config import Config
    from sqlalchemy.ext.asyncio import create_async_engine

    from causerie.history.store.migrate import MIGRATIONS

    url = async_url(database_url)

    async def at_0002():
        engine = create_async_engine(url)
        try:
            async with engine.connect() as connection:

                def build(sync):
                    config = Config()
                    config.set_main_option("script_location", str(MIGRATIONS))
                    config.attributes["connection"] = sync
                    command.upgrade(config, "0002")
                    row = {"owner": "user:alice", "id": "old", "title": "", "shown_title": "Old chat", "created_at": 1.0}
                    row |= {"updated_at": 1.0, "size": 10, "settings": "{}", "messages": "[]", "body": "old chat"}
                    columns = ", ".join(row)
                    sync.execute(sa.text(f"INSERT INTO conversations ({columns}) VALUES (:{', :'.join(row)})"), row)

                await connection.run_sync(build)
                await connection.commit()
        finally:
            await engine.dispose()

    run_async(at_0002())
    keeper = _keeper(database_url)  # migrates to the newest

    async def read():
        try:
            return await keeper.store.summaries("user:alice")
        finally:
            await keeper.store.close()

    assert [(s.id, s.title, s.pinned) for s in run_async(read())] == [("old", "Old chat", False)]


def test_migrations_run_again_harmlessly(database_url):
    url = async_url(database_url)
    for _ in range(2):
        keeper, why = open_keeper(Sealer("a-long-enough-secret-1"), HistoryLimits(), url)
        assert why is None
        run_async(keeper.store.close())


def test_an_unreachable_store_does_not_stop_the_app(caplog):
    from causerie.config.history_settings import HistorySettings

    history = HistorySettings(
        secret="a-long-enough-secret-1",
        secret_kept="environment",
        database_url="postgresql+asyncpg://nobody:hunter2@127.0.0.1:9/none",
    )
    keeper, notices = keeper_for(history, on_space=False)
    assert keeper.store is None and [n.kind for n in notices] == ["store_off"]
    assert "postgresql+asyncpg://nobody:***@127.0.0.1:9/none" in caplog.text  # which store, for the owner
    assert "hunter2" not in caplog.text and notices[0].params == {}  # nothing of it for visitors


def test_the_migrations_build_exactly_the_schema_the_code_uses(database_url):
    """Alembic's autogenerate finds nothing to add: schema.py and the migrations agree."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlalchemy.ext.asyncio import create_async_engine

    from causerie.history.store.migrate import upgrade
    from causerie.history.store.schema import metadata

    url = async_url(database_url)

    async def differences():
        await upgrade(url)
        engine = create_async_engine(url)
        try:
            async with engine.connect() as connection:
                return await connection.run_sync(lambda sync: compare_metadata(MigrationContext.configure(sync), metadata))
        finally:
            await engine.dispose()

    assert run_async(differences()) == []


def test_the_owner_is_the_signed_in_name_by_how_they_signed_in():
    from types import SimpleNamespace

    from causerie.ui.visitors import owner_of

    def request(username=None, session=None):
        inner = SimpleNamespace(session=session) if session is not None else SimpleNamespace()
        return SimpleNamespace(username=username, request=inner)

    assert owner_of(request("alice")) == "user:alice"
    hf = {"oauth_info": {"userinfo": {"preferred_username": "alice"}}}
    assert owner_of(request(session=hf)) == "hf:alice"  # never the same store as the local "alice"
    assert owner_of(request(session={})) is None
    expired = {"oauth_info": {"userinfo": {"preferred_username": "alice"}, "expires_at": 1}}
    assert owner_of(request(session=expired)) is None
    assert owner_of(request()) is None and owner_of(None) is None


@pytest.mark.slow  # (waits on real time or starts processes: not in the fast loop)
def test_a_signed_in_shelf_is_the_page_while_the_store_is_down_and_flushes_when_back():
    from causerie.history.shelves import PageShelf, ServerShelf

    from support.postgres_server import PostgresServer, binaries

    if binaries() is None:
        pytest.skip("PostgreSQL not found: apt-get install postgresql")
    server = PostgresServer().start()
    try:
        keeper = _keeper(server.url)
        unsaved = {"kept": conversation("kept", "Written while the store was down")}

        async def down():
            shelf = await keeper.signed_in("user:alice", unsaved)
            await keeper.store.close()  # its pooled connections die with the server
            return shelf

        server.halt()
        assert isinstance(run_async(down()), PageShelf) and list(unsaved) == ["kept"]
        server.start()

        async def back():
            try:
                shelf = await keeper.signed_in("user:alice", unsaved)
                return shelf, await keeper.store.get("user:alice", "kept")
            finally:
                await keeper.store.close()

        shelf, stored = run_async(back())
        assert (
            isinstance(shelf, ServerShelf)
            and unsaved == {}
            and stored == conversation("kept", "Written while the store was down")
        )
    finally:
        server.stop()


def test_no_shelf_keeps_a_temporary_chat_and_no_import_makes_one():
    """A temporary chat is known by its id, not by the page's state (which a restart forgets)."""
    from causerie.history.conversations import new_temporary_id
    from causerie.history.shelves import Keeper

    temporary = conversation(new_temporary_id())
    storage = BrowserStorage()
    shelf = opened(storage, Sealer("a-long-enough-secret-1"))
    assert run_async(shelf.put(temporary)) == [] and shelf.writes() is None
    page = Keeper(Sealer("a-long-enough-secret-1"), HistoryLimits()).page({})
    assert run_async(page.put(temporary)) == [] and run_async(page.summaries()) == []
    (imported,) = read_import(json.dumps({**temporary.to_dict(), "id": "tmp-abc"}))
    assert not imported.id.startswith("tmp-")
