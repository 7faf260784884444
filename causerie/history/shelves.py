"""Where one person's conversations are kept for one request: their browser, or the server store.

A BrowserShelf (browser_shelf.py) opens the entries the browser sent, works on them in memory
and hands back the entries to write. A ServerShelf works on the store under the signed-in
person's name and leaves the browser alone. A PageShelf keeps a signed-in person's conversations
with their page while the store is down. All answer the same calls, so the page's handlers need
not care which.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING

from ..config.history_settings import HistoryLimits
from .browser_shelf import BrowserShelf
from .conversations import Conversation, is_temporary
from .library import HistoryNotice, Library, LibraryReads, Summary
from .sealing import Sealer

if TYPE_CHECKING:  # SQLAlchemy is imported only when a store is configured
    from ..config.history_settings import HistorySettings
    from .store.conversation_store import ConversationStore

log = logging.getLogger(__name__)
SAVE_RETRY_DELAYS = (1.0, 2.0, 4.0, 8.0, 10.0)
"""Seconds before each new try to write what a page kept while the store was down."""


class PageShelf(LibraryReads):
    """A signed-in person's conversations while the store is down: kept with the page (never in
    the browser, which another person may share), and saved to the store once it is back."""

    def __init__(self, unsaved: dict[str, Conversation], limits: HistoryLimits) -> None:
        self._unsaved, self.limits = unsaved, limits
        self.library = Library(unsaved.values())
        self.notices: list[HistoryNotice] = [HistoryNotice("store_unreachable", {})]

    async def put(self, conversation: Conversation) -> list[HistoryNotice]:
        if is_temporary(conversation.id):  # a temporary chat is kept nowhere
            return []
        notices = self.library.put(conversation, self.limits)
        self._unsaved[conversation.id] = conversation
        return notices

    async def delete(self, conversation_id: str) -> None:
        self.library.delete(conversation_id)
        self._unsaved.pop(conversation_id, None)

    def writes(self) -> dict | None:
        return None


class ServerShelf:
    def __init__(self, store: ConversationStore, owner: str) -> None:
        self._store, self.owner = store, owner
        self.notices: list[HistoryNotice] = []

    async def summaries(self, query: str = "") -> list[Summary]:
        return await self._store.summaries(self.owner, query)

    async def get(self, conversation_id: str) -> Conversation | None:
        return await self._store.get(self.owner, conversation_id)

    async def all(self) -> list[Conversation]:
        return await self._store.all(self.owner)

    async def put(self, conversation: Conversation) -> list[HistoryNotice]:
        if is_temporary(conversation.id):  # a temporary chat is kept nowhere
            return []
        return await self._store.put(self.owner, conversation)

    async def delete(self, conversation_id: str) -> None:
        await self._store.delete(self.owner, conversation_id)

    def writes(self) -> dict | None:
        return None


Shelf = BrowserShelf | ServerShelf | PageShelf


class Keeper:
    """Hands each request the shelf it should use: the server store for a signed-in person when
    there is one, else the browser's own value."""

    def __init__(self, sealer: Sealer, limits: HistoryLimits, store: ConversationStore | None = None) -> None:
        self.sealer, self.limits, self.store = sealer, limits, store
        self._saving: dict[int, asyncio.Task] = {}
        """Pages' conversations waiting for the store to come back (save_when_back), by page."""

    def browser(self, entries: Mapping[str, str], legacy: object = None, sent: Library | None = None) -> BrowserShelf:
        return BrowserShelf(entries, legacy, self.sealer, self.limits, sent)

    def page(self, unsaved: dict[str, Conversation]) -> PageShelf:
        return PageShelf(unsaved, self.limits)

    async def signed_in(self, owner: str, unsaved: dict[str, Conversation]) -> ServerShelf | PageShelf:
        """A signed-in person's shelf (needs a store): the store, once what their page kept while
        it was down (`unsaved`, emptied as it goes) is in it; the page's while it is still down."""
        from .store.errors import StoreError

        try:
            await self._write(owner, unsaved)
        except StoreError:
            return self.page(unsaved)
        return ServerShelf(self.store, owner)

    async def _write(self, owner: str, unsaved: dict[str, Conversation]) -> None:
        assert self.store is not None
        for conversation in list(unsaved.values()):
            await self.store.put(owner, conversation)
            unsaved.pop(conversation.id, None)

    def save_when_back(self, owner: str, unsaved: dict[str, Conversation], lock: asyncio.Lock) -> None:
        """Write what a page kept while the store was down (`unsaved`) as soon as the store
        answers again, without waiting for the page's next event, or for the page at all (it
        may be closed by then): tried again after SAVE_RETRY_DELAYS, then every last one of them,
        until written. One try at a time per page (its `lock`), whoever makes it."""
        key = id(unsaved)  # (the task keeps `unsaved` alive, so the id is not reused meanwhile)
        if not unsaved or key in self._saving:
            return
        task = asyncio.get_running_loop().create_task(self._retry(owner, unsaved, lock))
        self._saving[key] = task
        task.add_done_callback(lambda _: self._saving.pop(key, None))

    async def _retry(self, owner: str, unsaved: dict[str, Conversation], lock: asyncio.Lock) -> None:
        from .store.errors import StoreError

        for delay in itertools.chain(SAVE_RETRY_DELAYS, itertools.repeat(SAVE_RETRY_DELAYS[-1])):
            await asyncio.sleep(delay)
            async with lock:
                if not unsaved:
                    return  # the page's own next event wrote them
                try:
                    await self._write(owner, unsaved)
                except StoreError:
                    continue
            log.info("conversations a page kept while the store was down are written to it now")
            return


def open_keeper(
    sealer: Sealer, limits: HistoryLimits, database_url: str | None, *, timeout: float = 15.0
) -> tuple[Keeper, str | None]:
    """The keeper for this run, and why the server store is off when one was configured but
    could not be used (the app then carries on with browsers' storage)."""
    if not database_url:
        return Keeper(sealer, limits), None
    from ..config.store_urls import shown_url
    from .store.conversation_store import ConversationStore
    from .store.migrate import upgrade_now

    try:
        upgrade_now(database_url, timeout)
    except Exception as exc:  # any failure to reach or migrate the store: say so, carry on
        why = f"{type(exc).__name__}: {exc}".replace(database_url, shown_url(database_url))[:300]
        log.warning(
            "the conversation store %s cannot be used (%s); conversations are kept in browsers", shown_url(database_url), why
        )
        return Keeper(sealer, limits), why
    log.info("conversations of signed-in people are kept in %s", shown_url(database_url))
    return Keeper(sealer, limits, ConversationStore(database_url, limits)), None


def keeper_for(history: HistorySettings, *, on_space: bool) -> tuple[Keeper, list[HistoryNotice]]:
    """The keeper this run's settings ask for, and what the page should say about it at once."""
    from ..config.history_settings import MAKE_SECRET

    keeper, store_off = open_keeper(Sealer(history.secret, history.old_secrets), history.limits, history.database_url)
    notices = []
    if history.warn_secret:
        where = "the Space's secrets" if on_space else ".env"
        log.warning(
            "HISTORY_SECRET is not set: chats saved in browsers become unreadable at the next restart; set it in %s", where
        )
        if on_space:
            notices.append(HistoryNotice("secret_for_this_run", {"make": MAKE_SECRET}))
    if store_off:
        notices.append(HistoryNotice("store_off", {}))  # why is in the log: hosts and paths are not for visitors
    return keeper, notices
