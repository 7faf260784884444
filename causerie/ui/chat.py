"""The chat's event handlers: submit, retry, edit and undo. Each turn is built afresh.

Gradio's ChatInterface is not used: it writes a State and re-renders extra outputs on every
streamed update, which costs a worker-thread hop and a config rebuild per update. Here a streamed
update carries the chat alone; session totals change once, at the end of an answer.

Handlers take their inputs as one dict keyed by component (Gradio's `inputs={...}` form), so no
list of inputs has to match the order of a handler's arguments. The settings panel's values
become one ChatOptions (`PageSettings.options`), checked like the API's arguments.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import aclosing
from dataclasses import replace
from typing import Any

import gradio as gr

from ..answering.answer import Answer, SessionTotals
from ..answering.options import InvalidOptions, sendable
from ..answering.prompts import blanks
from ..answering.runs import AnswerRun, AnswerRuns, RunsFull
from ..answering.service import ChatService
from ..events import Failure
from ..history.conversations import is_temporary
from ..history.versions import asked_again
from ..patches.chat_marks import FileFree, holds_files
from .panel import PageSettings
from .render import answered_chat, is_version_line, render, version_message
from .render import message as chat_message
from .turns import content_files, content_text, plain_turns, saved_messages
from .view import ConversationView, HistoryPanel, RunShown
from .visitors import page_language, run_owner, visitor_of

log = logging.getLogger(__name__)


def _turn_start(history: list[dict], index: Any) -> int | None:
    """Index of the user message an event points at (Gradio may give a (row, part) tuple), or
    None when it points at nothing usable: a handler then leaves the chat as it is."""
    try:
        start = index[0] if isinstance(index, (list, tuple)) else int(index)
    except (TypeError, ValueError, IndexError):
        return None
    if not 0 <= start < len(history) or history[start].get("role") != "user":
        return None
    return start


def with_question(sent: list, text: str, files: list) -> list:
    """The chat the page sent, ending with the question. The browser already shows the question
    (SHOW_QUESTION_JS), so the chat usually ends with it; a client that sent the chat without it
    gets it added. Still marked FileFree if the page's chat was (checked on its way in: plain
    text only) and no file comes with the question."""
    last = sent[-1] if sent else None
    if (
        last is None
        or last.get("role") != "user"
        or content_text(last.get("content")) != text
        or len(content_files(last.get("content"))) != len(files)
    ):
        return asked(sent, text, files)
    return FileFree(sent) if isinstance(sent, FileFree) and not files else list(sent)


def asked(chat: list, text: str, files: list) -> list:
    """`chat` and then the question; marked FileFree if `chat` was and no file comes with it."""
    shown = [*chat, chat_message("user", text, files=files)]
    return FileFree(shown) if isinstance(chat, FileFree) and not files else shown


def _question(pending: Any) -> tuple[str, list]:
    """The text and files of the question the page moved into its hidden box (SHOW_QUESTION_JS)."""
    if isinstance(pending, str):  # (a client that sends the question alone)
        pending = {"text": pending}
    pending = pending or {}
    return str(pending.get("text") or ""), pending.get("files") or []


def _showable(text: str) -> tuple[str, Failure | None]:
    """The question as the chat can hold it, and why it cannot be sent, if it cannot. A lone UTF-16
    surrogate (a broken character from a paste) cannot be encoded: kept in the chat, it made every
    update and every later page load of that browser fail. It is shown as U+FFFD, and refused by
    name."""
    try:
        sendable("message", text)
    except InvalidOptions as exc:
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace"), exc.failure
    return text, None


class ChatHandlers:
    def __init__(
        self,
        service: ChatService,
        settings: PageSettings,
        chatbot: Any,
        pending: Any,
        mark: Any,
        totals: Any,
        view: Any,
        panel: HistoryPanel,
        runs: AnswerRuns,
    ) -> None:
        self.service = service
        self.settings = settings
        self.chatbot, self.pending, self.mark, self.totals, self.view = chatbot, pending, mark, totals, view
        self.panel, self.current, self.runs = panel, panel.current, runs

    def _owner(self, values: Mapping[Any, Any], request: gr.Request | None) -> str:
        return run_owner(request, values.get(self.panel.browser), self.service.settings.history.secret)

    def inputs(self, *extra: Any, with_chat: bool = True) -> set:
        """A handler's inputs: the page's settings and notes, and its chat unless `with_chat` is
        False (a question comes with its chat's mark instead: submit)."""
        return {
            *((self.chatbot,) if with_chat else ()),
            self.totals,
            self.view,
            self.current,
            self.panel.browser,
            self.panel.resume,
            *self.settings.components(),
            *self.settings.access(),
            *self.settings.search_fields(),
            *extra,
        }

    async def _answer(
        self,
        shown: list,
        values: Mapping[Any, Any],
        request: gr.Request | None,
        refusal: Failure | None = None,
        after: Sequence[dict] = (),
    ) -> AsyncIterator[tuple]:
        """Answer the question that `shown` ends with; yields the chat as the answer grows.

        The answer belongs to the conversation on screen when it started. If the person opens
        another meanwhile, the answer goes on without being shown (its updates are skipped) and is
        kept in the view, for the save that follows and for showing it again if they come back.
        """
        view: ConversationView = values[self.view]
        # The conversation on screen when the question was sent (the page's own note of it), not
        # the one on screen now: the answer may have waited in the queue while the person moved.
        conversation_id = view.conversation_for(values.get(self.current))
        kept_settings = self.settings.stored(values)
        number = view.begin(conversation_id)
        language = page_language(request)

        def refused(failure: Failure) -> tuple:
            """The question, and why it gets no answer, as the chat's last update."""
            answer = Answer()
            answer.apply(failure)
            chat = shown + list(after) + render(answer, language)
            view.finish(number, conversation_id, chat, kept_settings)
            return view.shows(chat), gr.skip()

        if refusal is not None:
            yield refused(refusal)
            return
        temporary = is_temporary(conversation_id)
        try:
            options = replace(
                self.settings.options(values),
                conversation_id=conversation_id,
                store_nothing=temporary,
                approve_by=self._owner(values, request),  # (a tool call waits for this page's owner)
            )
        except InvalidOptions as exc:
            yield refused(exc.failure)
            return
        # The chosen preset's blanks, left (settings_page.wire_blanks); other braces are the person's.
        preset = self.service.presets.get(values.get(self.settings.preset) or "")
        if preset and (missing := [b for b in blanks(options.system_prompt) if b in blanks(preset.prompt)]):
            yield refused(Failure("blanks", {"names": ", ".join(missing)}))
            return
        visitor = visitor_of(request, self.service.settings)
        answers = self.service.answers(options, plain_turns(shown), visitor)
        try:
            run = self.runs.start(
                conversation_id, self._owner(values, request), answers, context=RunShown(shown, kept_settings, tuple(after))
            )
        except RunsFull as full:
            await answers.aclose()
            yield refused(Failure("busy", {"why": "yours" if full.per_owner else "all", "count": full.limit}))
            return
        async with aclosing(self._follow(run, shown, number, values, language)) as updates:
            async for update in updates:
                yield update

    async def _follow(
        self, run: AnswerRun, shown: list, number: int, values: Mapping[Any, Any], language: str
    ) -> AsyncIterator[tuple]:
        """Show an answer that runs on its own (runs.py) as it grows. If this page goes away, the
        answer goes on; if it ends here, this page saves it (the chain after the stream), and the
        save lets the run go."""
        view: ConversationView = values[self.view]
        conversation_id, kept_settings, after = run.conversation_id, run.context.settings, run.context.after
        view.update(number, conversation_id, shown, kept_settings)  # followed from now: Stop stops it
        answer = None
        # Looked for once per answer, as Gradio would find them (anywhere in the chat).
        has_files = holds_files(shown)
        showing = view.is_shown(conversation_id)

        def output(chat: list) -> Any:
            """The chat update: this answer while it is on screen. The first update after the person
            opened another conversation gives the page that one's chat again: the update before
            may have reached the page after the switch's (Gradio sends each event's messages when
            they are ready), and would stay there, the answer's updates being skipped from then."""
            nonlocal showing
            if view.is_shown(conversation_id):
                showing = True
                return view.shows(chat)
            if showing and view.page_chat_in == view.shown:
                showing = False
                return view.page_chat
            return gr.skip()

        async with aclosing(run.follow()) as answers:
            async for answer in answers:
                if answer.finished_at is None and not run.done:
                    chat = answered_chat(shown, answer, language, has_files, after)
                    view.update(number, conversation_id, chat, kept_settings)
                    yield output(chat), gr.skip()
        chat = answered_chat(shown, answer, language, has_files, after) if answer is not None else shown + list(after)
        view.finish(number, conversation_id, chat, kept_settings)
        totals: SessionTotals = values[self.totals]
        yield output(chat), totals.plus(answer) if answer else gr.skip()

    async def stop_now(self, values: dict, request: gr.Request) -> None:
        """Stop (or the bin) pressed: the answers this page shows stop now, as the page cancels its
        streams, not once the save that follows has come through the queue (stop_answers waits
        for them there): what is kept and shown is what had arrived by the press."""
        owner = self._owner(values, request)
        for conversation_id in list(values[self.view].live):
            self.runs.stop(conversation_id, owner)

    async def resume(self, values: dict, request: gr.Request) -> AsyncIterator[tuple]:
        """The page came back (a reload, a second tab, opening the conversation) to an answer still
        being written, or written while no page watched: show it so far, then as it goes on."""
        view: ConversationView = values[self.view]
        conversation_id = (values.get(self.panel.resume) or "").split(" ")[0]
        run = self.runs.get(conversation_id, self._owner(values, request))
        if run is None or conversation_id in view.live:
            yield gr.skip(), gr.skip()
            return
        number = view.begin(conversation_id)
        async with aclosing(self._follow(run, run.context.chat, number, values, page_language(request))) as updates:
            async for update in updates:
                yield update

    async def submit(self, values: dict, request: gr.Request) -> AsyncIterator[tuple]:
        """A question, with the mark of the page's chat (render.chat_mark) in place of the chat: it
        is answered from the copy of the chat this page was given. When the page's chat is not
        that copy (the server restarted, the page's requests moved to another process), the page
        is asked for its chat: a new value in the resend box, whose change sends the question
        again with it (submit_with_chat). Yields the chat, the session's totals, the resend box."""
        text, files = _question(values[self.pending])
        if not text.strip() and not files:
            yield gr.skip(), gr.skip(), gr.skip()
            return
        view: ConversationView = values[self.view]
        sent = view.chat_for_mark(values[self.mark], values.get(self.current))
        if sent is None:
            log.info("A page's chat is not the one this process gave it: the page is asked for it")
            view.awaiting_chat = True
            yield gr.skip(), gr.skip(), uuid.uuid4().hex
            return
        text, refusal = _showable(text)
        async for chat, totals in self._answer(asked(sent, text, files), values, request, refusal):
            yield chat, totals, gr.skip()

    async def submit_with_chat(self, values: dict, request: gr.Request) -> AsyncIterator[tuple]:
        """A question with the page's whole chat, which ends with it (SHOW_QUESTION_JS): what the
        page sends when submit asks for it."""
        values[self.view].awaiting_chat = False
        text, files = _question(values[self.pending])
        sent = values[self.chatbot] or []
        if not text.strip() and not files:
            yield gr.skip(), gr.skip()
            return
        text, refusal = _showable(text)
        async for update in self._answer(with_question(sent, text, files), values, request, refusal):
            yield update

    async def _again(
        self, values: Mapping[Any, Any], index: Any, edited: str | None, request: gr.Request | None
    ) -> AsyncIterator[tuple]:
        """Answer again from the user message at `index` (as it is, or with its text edited)."""
        view: ConversationView = values[self.view]
        chat = list(values[self.chatbot] or [])
        start = _turn_start(chat, index)
        if start is None:
            yield view.shows(chat), gr.skip()
            return
        if edited is not None and not edited.strip():
            yield view.shows(chat), gr.skip()  # an edit that empties the question changes nothing
            return
        edited, refusal = _showable(edited) if edited is not None else (None, None)
        # An edit changes the words; the files attached to the question stay.
        question = chat[start] if edited is None else chat_message("user", edited, files=content_files(chat[start]["content"]))
        shown = [*chat[:start], question]
        # What was there is kept as a version (history/versions.py), with the ones before it.
        language = page_language(request)
        source = view.with_metadata(chat)  # (the page's chat is the same, but for the versions in its metadata)
        number = sum(1 for message in source[:start] if is_version_line(message))
        after = [version_message(asked_again(saved_messages(source[start:])), number, language)]
        yield view.shows(shown), gr.skip()  # the old answer goes at once, before the provider answers
        async for update in self._answer(shown, values, request, refusal, after):
            yield update

    async def retry(self, values: dict, event: gr.RetryData, request: gr.Request) -> AsyncIterator[tuple]:
        async for update in self._again(values, event.index, None, request):
            yield update

    async def edit(self, values: dict, event: gr.EditData, request: gr.Request) -> AsyncIterator[tuple]:
        async for update in self._again(values, event.index, content_text(event.value), request):
            yield update

    @staticmethod
    def undo(history: list, view: ConversationView, event: gr.UndoData) -> tuple[list, dict]:
        """The question goes back into the box, with its attached files."""
        start = _turn_start(history, event.index)
        if start is None:
            return view.shows(history), gr.skip()
        content = history[start]["content"]
        kept = view.with_metadata(history)[:start]  # (with the versions of the questions before it)
        return view.shows(list(kept)), {"text": content_text(content), "files": content_files(content)}


async def stop_answers(view: ConversationView, runs: AnswerRuns, owner: str | None, language: str) -> dict[str, list]:
    """Stop every answer the page was showing, wait until each has stopped (its stream closed), and
    keep each as far as it went: every token that arrived (the page's last update may have been
    held back, or still say that the model paused), no waiting line. Returns their chats.

    The view is changed only once every answer has stopped, with no wait after: a save running
    meanwhile (the one after the stream) cannot take an answer whose chat is not yet the final one."""
    running = {conversation_id: run for conversation_id in view.live if (run := runs.get(conversation_id, owner)) is not None}
    for run in running.values():
        run.stop()
    for run in running.values():
        await run.end()
    view.stop_all()
    stopped = {}
    for conversation_id, run in running.items():
        if run.answer is None:  # nothing came: the page shows the question, as kept
            continue
        before = run.context.chat
        stopped[conversation_id] = answered_chat(before, run.answer, language, holds_files(before), run.context.after)
        if (pending := view.finished.get(conversation_id)) is not None:
            pending.chat = stopped[conversation_id]
    return stopped
