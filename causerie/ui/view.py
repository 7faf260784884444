"""The components of a page's conversation list (HistoryPanel), and what one page knows between its events (a gr.State, changed in place by its handlers): the
conversation on screen, the answers being written and by which conversation, and what this page
last gave the browser to write."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from ..history.conversations import Conversation, new_id, new_temporary_id
from ..history.library import Library
from .render import EMPTY_CHAT_MARK, chat_mark


@dataclass
class Pending:
    """An answer's chat, as the page shows it, and the settings it was asked with."""

    chat: list
    settings: dict


class RunShown(NamedTuple):
    """What a page shows around a running answer (AnswerRun.context): the chat before it, the
    settings it was asked with, and what follows it (its versions' line, history/versions.py)."""

    chat: list
    settings: dict
    after: tuple = ()


@dataclass
class ConversationView:
    shown: str = ""
    live: dict[str, tuple[int, Pending]] = field(default_factory=dict)
    """Answers being written, by conversation: (answer number, its chat so far)."""
    finished: dict[str, Pending] = field(default_factory=dict)
    """Answers ended or stopped and not yet saved."""
    ended: set[int] = field(default_factory=set)
    """Answers stopped: an update they make while closing is not kept."""
    deleted: set[str] = field(default_factory=set)
    """Conversations deleted on this page: an answer still running there is not saved."""
    sent: Library = field(default_factory=Library)
    """What this page last gave the browser to write (the conversations and deletions: the
    browser may not have written them yet when the page's next event reads it)."""
    unsaved: dict[str, Conversation] = field(default_factory=dict)
    """A signed-in person's conversations the store refused: written at the page's next event, or
    sooner, as soon as the store answers (Keeper.save_when_back)."""
    answers: int = 0
    unsaved_new: set[str] = field(default_factory=set)

    """Conversations begun on this page (New chat, or a first visit) and not saved yet."""
    warned_unreadable: bool = False
    language: str = "en"
    """The page's language (its browser's), for what the server words when it shows a conversation."""
    page_chat: list = field(default_factory=list)
    """The chat this page was last given (`shows`). A question comes with a mark of the page's chat,
    not the chat (290 KB after 100 turns, which every question would send and the server parse),
    and is answered from this copy when the marks agree."""
    given_chat: list = field(default_factory=list)
    """The chat this page was last given, kept through an edit too: the versions of a question asked
    again are read from it (the page's own copy of the chat does not keep a message's metadata)."""
    page_chat_in: str = ""
    """The conversation on screen when the page was given page_chat."""
    awaiting_chat: bool = False
    """A question's mark did not match page_chat (the server restarted, say): the page was asked
    to send its chat, and the answer to it has not started yet."""
    _lock: asyncio.Lock | None = None

    def conversation_for(self, noted: str | None) -> str:
        """Which conversation a question belongs to: the page's own note of the one on screen;
        with none yet (the page has not finished opening), the new one it opened on, or else a
        new one, never a saved conversation the page had not shown yet."""
        if noted:
            if not self.shown:  # the page shows it, but this state is new (its session was let go)
                self.shown = noted
            return noted
        if not self.shown:
            self.start_new()
        return self.shown if self.shown in self.unsaved_new else new_id()

    def start_new(self, *, again: bool = False, temporary: bool = False) -> str:
        """Show a new, not yet saved conversation: the one shown if it is that already, unless
        `again` (New chat); a temporary chat's id says it is one (conversations.is_temporary)."""
        if again or temporary or self.shown not in self.unsaved_new:
            self.shown = new_temporary_id() if temporary else new_id()
            self.unsaved_new.add(self.shown)
        return self.shown

    def show_running(self, conversation_id: str) -> None:
        """Show a conversation whose answer is running on its own (runs.py): until that answer's
        save, it may be in no list, so a question asked meanwhile belongs to it."""
        self.shown = conversation_id
        self.unsaved_new.add(conversation_id)

    def shows(self, value: Any) -> Any:
        """`value`, an output to the page's chat: kept as the page's chat unless it leaves the chat
        alone (an update without a value: gr.skip())."""
        if isinstance(value, list):
            self.page_chat, self.page_chat_in, self.given_chat = value, self.shown, value
        return value

    def with_metadata(self, chat: list) -> list:
        """The page's chat as this server last gave it, when it is the same chat by its messages'
        roles: the page's own copy keeps no message's metadata beyond its id (a question's versions
        ride in its line's: history/versions.py)."""
        given = self.given_chat
        if len(given) != len(chat):
            return chat
        role = lambda m: m.get("role") if isinstance(m, dict) else getattr(m, "role", None)  # noqa: E731
        return given if all(role(a) == role(b) for a, b in zip(given, chat, strict=True)) else chat

    def chat_changed(self) -> None:
        """The page changed its chat itself (an edit, before the answer to it starts): the copy is
        no longer its chat, until the next `shows`."""
        self.page_chat, self.page_chat_in = [], ""

    def chat_for_mark(self, mark: Any, noted: str | None) -> list | None:
        """The page's chat, known from its mark (render.chat_mark) and the conversation the page
        notes as on screen: an empty chat (as after the page's bin), or the copy this page was last
        given if it was given in that conversation; None otherwise (the page is asked for its
        chat)."""
        if mark == EMPTY_CHAT_MARK:
            return []
        if (noted or "") != self.page_chat_in or mark != chat_mark(self.page_chat):
            return None
        return self.page_chat

    def lock(self) -> asyncio.Lock:
        """One change of the kept conversations at a time on this page."""
        if self._lock is None:
            self._lock = asyncio.Lock()
        return self._lock

    def is_shown(self, conversation_id: str) -> bool:
        return self.shown == conversation_id

    def begin(self, conversation_id: str) -> int:
        self.answers += 1
        self.deleted.discard(conversation_id)
        return self.answers

    def update(self, number: int, conversation_id: str, chat: list, settings: dict) -> None:
        if number not in self.ended and conversation_id not in self.deleted:
            self.live[conversation_id] = (number, Pending(chat, settings))

    def finish(self, number: int, conversation_id: str, chat: list, settings: dict) -> None:
        if self.live.get(conversation_id, (None,))[0] == number:
            del self.live[conversation_id]
        if number not in self.ended and conversation_id not in self.deleted:
            self.finished[conversation_id] = Pending(chat, settings)

    def stop_all(self) -> list[str]:
        """Stop pressed: every answer being written is kept as far as it went. Returns their
        conversations."""
        stopped = list(self.live)
        for conversation_id, (number, pending) in self.live.items():
            self.ended.add(number)
            self.finished[conversation_id] = pending
        self.live.clear()
        self.awaiting_chat = False  # (the page's chat, if asked for, may never come: Stop ends the wait)
        return stopped

    def take_finished(self) -> dict[str, Pending]:
        pending, self.finished = self.finished, {}
        return pending

    def forget(self, conversation_id: str) -> None:
        self.deleted.add(conversation_id)
        self.live.pop(conversation_id, None)
        self.finished.pop(conversation_id, None)
        self.unsaved.pop(conversation_id, None)

    def live_chat(self, conversation_id: str) -> list | None:
        entry = self.live.get(conversation_id)
        return entry[1].chat if entry else None


LIVE_NOTED = 10
"""Conversations a browser notes as asked in (HistoryPanel.live), at most."""


def noted_conversations(raw: Any) -> list[str]:
    """The conversation ids a page sent as noted (HistoryPanel.live: JSON the browser keeps), most
    recent first; anything else in it is ignored."""
    try:
        noted = json.loads(raw or "[]")
    except (TypeError, ValueError):
        return []
    return [n for n in reversed(noted) if isinstance(n, str)][:LIVE_NOTED] if isinstance(noted, list) else []


@dataclass(frozen=True)
class HistoryPanel:
    writes: Any
    """A hidden box: the entries the browser should write (BrowserShelf.writes, as JSON), which
    the page writes at once when it changes (WRITE_JS)."""
    fresh: Any
    """A hidden box: what localStorage holds right now (READ_STORE_JS), another tab's saves included."""
    current: Any
    """A hidden box: the conversation on screen, as the page last heard; an answer belongs to the
    one on screen when its question was sent."""
    listing: Any
    search: Any
    title: Any
    notice: Any
    download: Any
    """A hidden box: an export's file, as JSON, for DOWNLOAD_JS."""
    importer: Any
    confirmed: Any
    """A hidden box: the conversation CONFIRM_DELETE_JS was told to delete, or "" when cancelled."""
    live: Any = None
    """A hidden box, read as the page opens: the conversations this browser last asked something in
    (localStorage, NOTE_LIVE_JS), whose answers may still be running here."""
    resume: Any = None
    """A hidden box set when the page shows an answer still running that it does not follow yet
    (as it opens, or opening that conversation): its change starts the step that follows it."""
    browser: Any = None
    """A hidden box: this browser's own secret (localStorage, made by the page): whose answers
    these are, for a visitor who is not signed in."""
