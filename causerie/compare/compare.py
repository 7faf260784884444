"""Compare mode: one question to several models at once, their answers streamed side by side.

Each side is an ordinary answer (ChatService.stream_answer: the same limits, wire, events and
log line as the chat); this module only runs them together and keeps each side's conversation.
Nothing here imports Gradio.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import random
import secrets
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import aclosing
from dataclasses import dataclass
from typing import Any

from ..answering.answer import Answer
from ..answering.limits import Visitor
from ..answering.options import ChatOptions
from ..answering.service import ChatService
from ..events import Event, Failure, Finish, Status

log = logging.getLogger(__name__)
LETTERS = "ABCD"
MIN_SIDES, MAX_SIDES = 2, len(LETTERS)


def model_ref(provider_id: str, model: str) -> str:
    return f"{provider_id}:{model}"


def split_ref(ref: Any, argument: str = "models") -> tuple[str, str] | Failure:
    """ "provider:model" as (provider id, model); the model may hold colons of its own
    ("openrouter:meta-llama/llama-3-8b-instruct:free")."""
    provider_id, colon, model = ref.partition(":") if isinstance(ref, str) else ("", "", "")
    # No spaces or line breaks inside: model ids have none, and votes keep one per line.
    if not colon or not provider_id.strip() or not model.strip() or any(c.isspace() for c in model.strip()):
        return Failure(
            "bad_argument", {"argument": argument, "expected": '"provider:model", as in "xai:grok-4.3"', "got": repr(ref)[:80]}
        )
    return provider_id.strip(), model.strip()


def side_options(
    base: ChatOptions,
    refs: Sequence[str],
    argument: str = "models",
    access: Callable[[str], tuple[str | None, str | None]] | None = None,
) -> list[ChatOptions | Failure]:
    """Each model's options: `base` with its provider and model, and the person's own key and base
    URL for that provider (`access`, given its id). A reference that is not "provider:model" is
    its Failure, naming `argument` (formatted with the side's index: "models[{}]")."""
    sides: list[ChatOptions | Failure] = []
    for index, ref in enumerate(refs):
        split = split_ref(ref, argument.format(index))
        if type(split) is Failure:
            sides.append(split)
            continue
        provider_id, model = split
        api_key, base_url = access(provider_id) if access else (None, None)
        sides.append(dataclasses.replace(base, provider_id=provider_id, model=model, api_key=api_key, base_url=base_url))
    return sides


async def offered_models(service: ChatService) -> tuple[list[str], list[str]]:
    """Every ready provider's models as "provider:model", and the ones to suggest first: each
    provider's own pick, then the rest in order."""
    ready = service.ready_providers()
    listed = await asyncio.gather(*(service.model_choices(p.id) for p in ready))
    refs, picks = [], []
    for provider, (models, pick) in zip(ready, listed, strict=True):
        refs += [model_ref(provider.id, m) for m in models]
        if pick:
            picks.append(model_ref(provider.id, pick))
    return refs, picks + [ref for ref in refs if ref not in picks]


async def side_by_side(
    service: ChatService,
    sides: Sequence[ChatOptions | Failure],
    turns: Sequence[Sequence[Mapping[str, Any]]],
    visitor: Visitor | None = None,
    interval_s: Callable[[], float] | None = None,
) -> AsyncIterator[tuple[Answer, ...]]:
    """Every side's answer at once, each to its own turns. Yields all the answers as they grow: at
    each side's first token and status, then at most every `interval_s()` seconds, and once all
    have ended. A side given as a Failure has that failure for its answer; one side failing leaves
    the others running. Closing the iterator (Stop) closes every side's stream."""
    interval_s = interval_s or service.update_interval_s
    answers = tuple(
        Answer(provider_label=o.provider_id or "", model=o.model or "") if type(o) is ChatOptions else Answer() for o in sides
    )
    queue: asyncio.Queue[tuple[int, Event | None]] = asyncio.Queue()

    async def pump(index: int, options: ChatOptions) -> None:
        try:
            async with aclosing(service.stream_answer(options, turns[index], visitor)) as events:
                async for event in events:
                    queue.put_nowait((index, event))
        except Exception:
            log.exception("Unexpected error while comparing")
            queue.put_nowait((index, Failure("internal")))
        finally:
            queue.put_nowait((index, None))

    tasks = []
    for index, options in enumerate(sides):
        if type(options) is ChatOptions:
            tasks.append(asyncio.create_task(pump(index, options)))
        else:
            answers[index].apply(options)
    running, next_update = len(tasks), 0.0
    try:
        while running:
            index, event = await queue.get()
            if event is None:
                running -= 1
                continue
            answer = answers[index]
            first = answer.first_token_at is None
            answer.apply(event)
            now = time.perf_counter()
            kind = type(event)
            # At once: a side's first token, a status, and a side's end (its last words would
            # otherwise wait for another side's next event).
            if (
                now >= next_update
                or kind is Status
                or kind is Finish
                or kind is Failure
                or (first and answer.first_token_at is not None)
            ):
                next_update = now + interval_s()
                yield answers
        yield answers
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def compare_once(
    service: ChatService,
    sides: Sequence[ChatOptions | Failure],
    turns: Sequence[Mapping[str, Any]],
    visitor: Visitor | None = None,
) -> tuple[Answer, ...]:
    """The same question (and earlier turns) to every side; their whole answers."""
    answers: tuple[Answer, ...] = ()
    async with aclosing(side_by_side(service, sides, [turns] * len(sides), visitor, lambda: 3600.0)) as updates:
        async for answers in updates:  # noqa: B007 (the last one holds the whole answers)
            pass
    return answers


@dataclass(frozen=True)
class Comparison:
    """One person's comparison, across questions: which models (in the order shown), each side's
    own conversation, and the vote on the last question. Replaced, never changed in place."""

    models: tuple[str, ...] = ()
    """"provider:model" of each side, in the order shown (A, B, ...)."""
    turns: tuple[tuple[Mapping[str, Any], ...], ...] = ()
    """Each side's conversation so far, as plain {role, content} turns."""
    blind: bool = True
    preset: str = ""
    """The kind of preset the last question was asked with (rating.preset_kind)."""
    question_id: str = ""
    """The last question's (made when it was asked): a vote is for it, once."""
    answered: bool = False
    """Every side answered the last question in full, from the provider's own address (a stopped,
    failed or self-served answer is not voted on)."""
    revealed: bool = False
    """The names show: from the start when not blind, else after the vote. Votes are taken only
    before (names sway them)."""

    @classmethod
    def start(cls, models: Sequence[str], *, blind: bool, shuffle: random.Random | None = None) -> Comparison:
        """A new comparison; blind ones show the models in a random order, so that A is not always
        the first one picked."""
        order = list(models)
        if blind:
            (shuffle or random.SystemRandom()).shuffle(order)
        return cls(tuple(order), tuple(() for _ in order), blind=blind, revealed=not blind)

    def asked(self, question: str, preset: str = "") -> Comparison:
        """A new question to every side (each side's earlier turns are sent with it)."""
        return dataclasses.replace(
            self,
            turns=tuple((*side, {"role": "user", "content": question}) for side in self.turns),
            question_id=secrets.token_hex(16),
            answered=False,
            preset=preset,
        )

    def with_answers(self, answers: Sequence[Answer], *, ended: bool) -> Comparison:
        """Each side's answer added to its conversation (a partial one too); a side that wrote
        nothing loses the question, so that its next request does not hold it unanswered.
        `ended`: every side answered in full from its provider's own address."""
        turns = tuple(
            (*side, {"role": "assistant", "content": answer.text}) if answer.text else side[:-1]
            for side, answer in zip(self.turns, answers, strict=True)
        )
        return dataclasses.replace(self, turns=turns, answered=ended)

    @property
    def may_vote(self) -> bool:
        return bool(self.question_id) and self.answered and not self.revealed

    def voted_for(self) -> Comparison:
        """The vote is in: the names show (and no other vote is taken on this comparison)."""
        return dataclasses.replace(self, revealed=True)


def compared(ref: str, answer: Answer) -> dict:
    """One model's entry in /compare's answer."""
    details = answer.details()
    return {
        "model": ref,
        "answer": details["answer"],
        "error": answer.failure.message if answer.failure else None,
        "timings": details["timings"],
        "usage": details["usage"],
        "cost_usd": details["cost_usd"],
        "finish_reason": details["finish_reason"],
    }
