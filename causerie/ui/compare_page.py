"""The Compare tab: one question to two to four models, side by side, and a vote on the answers.

The models are picked here as "provider:model"; the prompt, parameters and the person's own key
are the settings panel's (a key goes only to the provider it was typed for). Reasoning effort and
search are the chat's own settings and are not sent to the compared models. Each side keeps its
own conversation (compare.Comparison, in a State), so follow-up questions continue it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Mapping
from contextlib import aclosing
from dataclasses import dataclass
from typing import Any

import gradio as gr

from ..answering.answer import Answer
from ..answering.options import ChatOptions, InvalidOptions
from ..answering.prompts import Preset
from ..answering.service import ChatService
from ..compare.compare import LETTERS, MAX_SIDES, MIN_SIDES, Comparison, offered_models, side_by_side, side_options
from ..compare.rating import OUTCOMES_ALL, Vote, preset_kind
from ..compare.votes import BallotBox
from ..events import Failure, Status
from ..history.store.errors import StoreError
from ..i18n.wording import words
from ..inert import inert_text
from ..patches.chat_marks import holds_files
from .labels import Labels, text
from .leaderboard_page import LeaderboardHandlers, LeaderboardPage, build_leaderboard, wire_leaderboard
from .listeners import streamed
from .panel import PageSettings, model_menu, own_access
from .render import LATEX_DELIMITERS, answered_chat, message
from .scripts import script
from .visitors import page_language, visitor_of

# The conversations' sidebar belongs to the chat: folded when Compare opens, to make the sides room.
FOLD_CONVERSATIONS_JS = script("fold_conversations")

VOTES = (*(str(i) for i in range(MAX_SIDES)), *OUTCOMES_ALL)
"""The vote buttons' outcomes, in order: one per side, then tie and "all bad"."""


@dataclass(frozen=True)
class ComparePage:
    models: tuple[Any, ...]
    blind: Any
    chats: tuple[Any, ...]
    columns: tuple[Any, ...]
    question: Any
    pending: Any
    """The question being answered: moved out of the box by the browser, which empties the box."""
    vote_buttons: tuple[Any, ...]
    note: Any
    stop: Any
    new: Any
    state: Any
    models_note: Any = None
    """Under the model boxes: that fewer than two models are available, and what to do."""
    to_chat: Any = None
    """Takes the comparison into a chat, each side's answers a version (ui/versions_page.py)."""


def build_compare(say: Labels) -> ComparePage:
    """The tab's components (call inside its gr.Tab)."""
    gr.Markdown(say("compare_intro"))
    with gr.Row():
        models = tuple(
            gr.Dropdown(
                [],
                value=None,
                label=say(f"compare_model_{i}"),
                allow_custom_value=True,
                filterable=True,
                elem_id=f"compare-model-{i}",
                min_width=200,
            )
            for i in range(MAX_SIDES)
        )
    models_note = gr.Markdown("", elem_id="compare-models-note")
    blind = gr.Checkbox(True, label=say("compare_blind"), elem_id="compare-blind")
    chats, columns = [], []
    with gr.Row(equal_height=True):
        for i in range(MAX_SIDES):
            # Side by side on a wide screen; on a phone (narrower than two min widths) they stack.
            with gr.Column(min_width=240, visible=i < MIN_SIDES, elem_id=f"compare-side-{i}") as column:
                chats.append(
                    gr.Chatbot(
                        label=LETTERS[i],
                        elem_id=f"compare-chat-{i}",
                        height="55vh",
                        buttons=["copy"],
                        sanitize_html=True,
                        feedback_options=None,
                        latex_delimiters=LATEX_DELIMITERS,
                    )
                )
            columns.append(column)
    question = gr.Textbox(
        placeholder=say("compare_input"), show_label=False, submit_btn=True, elem_id="compare-input", max_lines=8
    )
    pending = gr.Textbox(visible=False)
    with gr.Row():
        buttons = tuple(
            gr.Button(say(f"vote_{outcome}"), visible=False, elem_id=f"vote-{outcome}", size="sm") for outcome in VOTES
        )
    note = gr.Markdown("", elem_id="compare-note")
    with gr.Row():
        stop = gr.Button(say("compare_stop"), size="sm", elem_id="compare-stop")
        new = gr.Button(say("compare_new"), size="sm", elem_id="compare-new")
        to_chat = gr.Button(say("compare_to_chat"), size="sm", elem_id="compare-to-chat")
    return ComparePage(
        models,
        blind,
        tuple(chats),
        tuple(columns),
        question,
        pending,
        buttons,
        note,
        stop,
        new,
        gr.State(Comparison()),
        models_note,
        to_chat,
    )


def _say(language: str, kind: str, **params: Any) -> str:
    """A note under the sides: Markdown, and it may name models (a provider's list is data)."""
    return inert_text(words("page", kind, params, language))


def _blind(answer: Answer, letter: str) -> Answer:
    """The answer as a blind comparison shows it: named by its letter, with nothing that names or
    hints at its provider or model (waiting and failure messages name the provider; the cost and
    the token counts hint at the model)."""
    return dataclasses.replace(
        answer,
        provider_label=letter,
        model="",
        usage=None,
        status=Status("blind") if answer.status is not None else None,
        failure=Failure("blind", {"letter": letter}) if answer.failure is not None else None,
    )


def _chat_label(comparison: Comparison, index: int) -> str:
    return LETTERS[index] if not comparison.revealed else f"{LETTERS[index]} · {comparison.models[index]}"


class CompareHandlers:
    def __init__(self, service: ChatService, ballots: BallotBox, page: ComparePage, settings: PageSettings) -> None:
        self.service, self.ballots, self.page, self.settings = service, ballots, page, settings

    def inputs(self) -> set:
        page = self.page
        return {
            *page.models,
            page.blind,
            *page.chats,
            page.pending,
            page.state,
            *self.settings.components(),
            *self.settings.access(),
        }

    def outputs(self) -> set:
        page = self.page
        return {*page.chats, *page.columns, *page.vote_buttons, page.note, page.state, page.question}

    def _sides(self, comparison: Comparison, values: Mapping[Any, Any]) -> list[ChatOptions | Failure]:
        """Each side's options: the panel's prompt and parameters, its own provider and model."""
        try:
            base = self.settings.options(values)
        except InvalidOptions as exc:
            return [exc.failure] * len(comparison.models)
        base = dataclasses.replace(base, params=dataclasses.replace(base.params, reasoning_effort=None), tools=())
        settings = self.settings
        return side_options(
            base,
            comparison.models,
            access=lambda provider_id: own_access(
                provider_id, values.get(settings.api_key), values.get(settings.key_for), values.get(settings.base_url)
            ),
        )

    def _layout(self, comparison: Comparison) -> dict:
        """Which sides show, under which names."""
        count = len(comparison.models)
        updates = {column: gr.update(visible=i < count) for i, column in enumerate(self.page.columns)}
        updates.update({chat: gr.update(label=_chat_label(comparison, i)) for i, chat in enumerate(self.page.chats[:count])})
        return updates

    def _vote_buttons(self, comparison: Comparison) -> dict:
        count, shown = len(comparison.models), comparison.may_vote
        updates = {}
        for outcome, button in zip(VOTES, self.page.vote_buttons, strict=True):
            visible = shown and (not outcome.isdigit() or int(outcome) < count)
            updates[button] = (
                gr.update(visible=visible, value=text("vote_bad" if count == 2 else "vote_bad_all"))
                if outcome == "bad"
                else gr.update(visible=visible)
            )
        return updates

    async def ask(self, values: dict, request: gr.Request) -> AsyncIterator[dict]:
        page, language = self.page, page_language(request)
        question = (values[page.pending] or "").strip()
        if not question:
            yield gr.skip()  # (every output left as it is)
            return
        picked = list(dict.fromkeys(ref.strip() for box in page.models if (ref := values[box]) and ref.strip()))
        if len(picked) < MIN_SIDES:  # (the question goes back into the box)
            yield {page.note: _say(language, "compare.pick_two"), page.question: question}
            return
        comparison: Comparison = values[page.state]
        chats = [list(values[chat] or []) for chat in page.chats]
        if set(comparison.models) != set(picked) or comparison.blind != bool(values[page.blind]):
            comparison = Comparison.start(picked, blind=bool(values[page.blind]))
            chats = [[] for _ in page.chats]
        comparison = comparison.asked(question, preset_kind(values.get(self.settings.preset)))
        count = len(comparison.models)
        shown = [chats[i] + [message("user", question)] for i in range(count)]
        has_files = [holds_files(side) for side in shown]  # looked for once per question (render.shown_chat)
        sides = self._sides(comparison, values)
        visitor = visitor_of(request, self.service.settings)
        turns = comparison.turns
        first = {**self._layout(comparison), **self._vote_buttons(comparison), page.note: ""}
        answers: tuple[Answer, ...] = ()
        async with aclosing(side_by_side(self.service, sides, turns, visitor)) as updates:
            async for answers in updates:
                yield {
                    **first,
                    **self._chats(comparison, shown, has_files, answers, language),
                    page.state: comparison.with_answers(answers, ended=False),
                }
                first = {}
        failed = [LETTERS[i] for i, answer in enumerate(answers) if answer.failure is not None]
        # An answer from the visitor's own base URL could be anyone's under any name: no vote.
        own = any(type(side) is ChatOptions and side.base_url for side in sides)
        comparison = comparison.with_answers(answers, ended=not failed and not own)
        note = (
            _say(language, "compare.no_vote", letters=", ".join(failed))
            if failed
            else _say(language, "compare.no_vote", why="own_endpoint")
            if own
            else _say(language, "compare.shown")
            if comparison.revealed
            else _say(language, "compare.vote_now")
        )
        yield {
            **self._chats(comparison, shown, has_files, answers, language),
            **self._vote_buttons(comparison),
            page.note: note,
            page.state: comparison,
        }

    def _chats(
        self, comparison: Comparison, shown: list[list], has_files: list[bool], answers: tuple[Answer, ...], language: str
    ) -> dict:
        updates = {}
        for i, answer in enumerate(answers):
            if not comparison.revealed:
                answer = _blind(answer, LETTERS[i])
            updates[self.page.chats[i]] = answered_chat(shown[i], answer, language, has_files[i])
        return updates

    async def vote(self, outcome: str, values: dict, request: gr.Request) -> dict:
        page, language = self.page, page_language(request)
        comparison: Comparison = values[page.state]
        if not comparison.may_vote:
            return {page.note: _say(language, "compare.voted_already"), **self._vote_buttons(comparison)}
        vote = Vote(comparison.question_id, comparison.models, outcome, comparison.preset)
        try:
            kept = await self.ballots.record(vote)
        except StoreError:
            return {page.note: _say(language, "compare.vote_lost")}
        comparison = comparison.voted_for()
        names = "; ".join(_say(language, "compare.was", letter=LETTERS[i], model=ref) for i, ref in enumerate(comparison.models))
        note = _say(language, "compare.voted", names=names) if kept else _say(language, "compare.voted_already")
        return {page.note: note, page.state: comparison, **self._layout(comparison), **self._vote_buttons(comparison)}

    def new(self) -> dict:
        page = self.page
        return {
            **{chat: [] for chat in page.chats},
            **{button: gr.update(visible=False) for button in page.vote_buttons},
            page.note: "",
            page.state: Comparison(),
        }

    async def model_choices(self, values: dict, request: gr.Request) -> dict:
        """Every ready provider's models as "provider:model"; the first two boxes get a pick each
        when empty (two providers' suggested models, or one provider's first two). With fewer than
        two to offer, the note above the answers says so, and what to do."""
        refs, picks = await offered_models(self.service)
        updates = {}
        for i, box in enumerate(self.page.models):
            value = values[box] or (picks[i] if i < MIN_SIDES and i < len(picks) else None)
            updates[box] = gr.update(choices=model_menu(refs), value=value)
        if len(refs) < MIN_SIDES:
            kind = "compare.one_model" if refs else "compare.no_model"
            updates[self.page.models_note] = _say(page_language(request), kind, model=refs[0] if refs else "")
        else:
            updates[self.page.models_note] = ""
        return updates


@dataclass(frozen=True)
class Tabs:
    compare: ComparePage
    compare_tab: Any
    leaderboard: LeaderboardPage
    leaderboard_tab: Any


def build_tabs(say: Labels, presets: list[Preset]) -> Tabs:
    """The Compare and Leaderboard tabs (call inside gr.Tabs, after the chat's tab)."""
    with gr.Tab(say("tab_compare"), id="compare", elem_id="compare-tab") as compare_tab:
        compare = build_compare(say)
    with gr.Tab(say("tab_leaderboard"), id="leaderboard", elem_id="leaderboard-tab") as leaderboard_tab:
        leaderboard = build_leaderboard(say, presets)
    return Tabs(compare, compare_tab, leaderboard, leaderboard_tab)


def wire_tabs(service: ChatService, ballots: BallotBox, tabs: Tabs, settings: PageSettings, events: dict) -> None:
    _wire_compare(
        CompareHandlers(service, ballots, tabs.compare, settings), tabs.compare_tab, events, service.settings.concurrency_limit
    )
    wire_leaderboard(LeaderboardHandlers(ballots, tabs.leaderboard), tabs.leaderboard_tab)


def _wire_compare(handlers: CompareHandlers, tab: Any, events: dict, concurrency_limit: int) -> None:
    page = handlers.page
    asking = streamed(concurrency_limit, preprocess=True)
    asked = page.question.submit(None, page.question, [page.pending, page.question], js="(q) => [q, '']", **events).then(
        handlers.ask, handlers.inputs(), handlers.outputs(), **asking
    )
    page.stop.click(None, None, None, cancels=[asked], api_visibility="private")
    for outcome, button in zip(VOTES, page.vote_buttons, strict=True):

        async def vote(values: dict, request: gr.Request, outcome: str = outcome) -> dict:
            return await handlers.vote(outcome, values, request)

        button.click(vote, {page.state}, handlers.outputs(), **events)
    page.new.click(handlers.new, None, handlers.outputs(), cancels=[asked], **events)
    for chat in page.chats:  # a side's own Clear button: the sides go together, so all start again
        chat.clear(handlers.new, None, handlers.outputs(), cancels=[asked], **events)
    tab.select(handlers.model_choices, set(page.models), {*page.models, page.models_note}, **events)
    tab.select(None, None, None, js=FOLD_CONVERSATIONS_JS, **events)
