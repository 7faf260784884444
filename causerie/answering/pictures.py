"""Pictures in the chat: which questions ask for one, and answering them through the picture wire
(endpoints/pictures.py) with the same rules as an answer in words: whose key, the limits, the
price, one log line.

A question makes pictures when it starts with `/image` (a new picture; with an attached photo,
that photo changed) or `/edit` (the last picture of the conversation changed, or the attached
photo), or when the chosen model is a picture model (models.yaml `pictures: true`): then a question
right after a picture changes it, as "make it night" would, and `/image` starts afresh.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Mapping
from contextlib import aclosing
from dataclasses import dataclass
from typing import Any

from ..config.settings import Settings
from ..endpoints.egress import check_url
from ..endpoints.model_info import ModelInfo, ModelInfoTable
from ..endpoints.pictures import PictureClient, PictureRequest
from ..endpoints.providers import Provider
from ..events import Event, Failure, Finish, Picture, Start, TextDelta, Usage
from ..files.attachments import ReadingLanes
from .access import as_seen, choose_endpoint
from .answer_log import AnswerRecord, AnswerRecords
from .budgets import DollarBudgets, Reservation
from .limits import RateLimiter, Visitor
from .options import ChatOptions, choice_refused

COMMANDS = (("/image", False), ("/edit", True))
REFERENCE_KINDS = ("image/png", "image/jpeg")
"""What an edit sends as the picture to change (every picture API takes these two)."""


@dataclass(frozen=True)
class PictureAsk:
    prompt: str
    edit: bool
    """Change a picture (the attached one, else the conversation's last) rather than make one."""
    model: str | None = None
    """The model named by an API caller, used as it is; None: the chat's model when it makes
    pictures, else the provider's picture model."""


def picture_ask(question: str, *, picture_model: bool, after_picture: bool) -> PictureAsk | None:
    """What a question asks for, when it asks for pictures; None for an answer in words."""
    text = question.strip()
    for command, edit in COMMANDS:
        if text == command or (text.startswith(command) and text[len(command)].isspace()):
            return PictureAsk(text[len(command) :].strip(), edit)
    if picture_model:
        return PictureAsk(text, after_picture)
    return None


def _attached_image(turn: Mapping[str, Any]) -> Mapping[str, Any] | None:
    return next((ref for ref in turn.get("files") or () if _is_image(ref)), None)


def _is_image(ref: Mapping[str, Any]) -> bool:
    name = str(ref.get("name") or ref.get("path") or "").lower()
    return name.endswith((".png", ".jpg", ".jpeg", ".webp"))


class PictureAnswers:
    """Answers picture questions for the chat service (one per app; nothing per person)."""

    def __init__(
        self,
        settings: Settings,
        client: PictureClient,
        allowance: RateLimiter,
        model_info: ModelInfoTable,
        readers: ReadingLanes,
        budgets: DollarBudgets,
        records: AnswerRecords,
    ) -> None:
        self.records = records
        self.settings, self.client, self.allowance = settings, client, allowance
        self.model_info, self.readers, self.budgets = model_info, readers, budgets

    def asked(self, provider: Provider, options: ChatOptions, turns: list[Mapping[str, Any]]) -> PictureAsk | None:
        """What the question asks for when it asks for pictures. An MCP client asks in words only
        (its tools return text): "/image" is then just words to the model."""
        if not turns or turns[-1].get("role") != "user" or options.asked_through == "mcp":
            return None
        model_makes_pictures = self.model_info.get(provider.id, options.model or "").pictures
        after_picture = len(turns) > 1 and bool(turns[-2].get("pictures"))
        return picture_ask(str(turns[-1]["content"]), picture_model=model_makes_pictures, after_picture=after_picture)

    async def stream(
        self, provider: Provider, options: ChatOptions, turns: list[Mapping[str, Any]], visitor: Visitor, ask: PictureAsk
    ) -> AsyncIterator[Event]:
        """The pictures as events; every refusal a Failure. One log line, however it ends."""
        record = AnswerRecord(provider.id, options.model, visitor=self.records.visitor_hash(visitor))
        if self.settings.public.log_content:
            record.question, record.answer = ask.prompt, []
        reserved = charged = 0
        owner_pays, budget, info = False, None, None
        try:
            prepared = await self._prepare(provider, options, turns, visitor, ask)
            if type(prepared) is Failure:
                record.ended(prepared)
                yield prepared
                return
            request, info, budget = prepared
            # Reserved in _prepare with no wait since: settled in `finally`, however it ends. Once
            # the request is out, the pictures count unless the provider refused it or was not
            # reached (a Stop after sending does not give them back: the provider bills them).
            owner_pays, reserved = request.endpoint.owner_pays, request.count
            charged = reserved
            record.model, record.key_from, record.owner_pays = (
                request.model,
                request.endpoint.key_from,
                request.endpoint.owner_pays,
            )
            yield Start(provider.id, provider.label, request.model)
            said: list[str] = []
            async with aclosing(self.client.stream(request)) as events:
                async for event in events:
                    kind = type(event)
                    if kind is Picture:
                        record.pictures += 1
                        record.first_token = record.first_token or time.perf_counter()
                        yield event
                        if not event.revised_prompt or event.revised_prompt in said:
                            continue
                        # What was drawn, in words: the answer's text, and context for later turns.
                        said.append(event.revised_prompt)
                        event = TextDelta(("\n\n" if len(said) > 1 else "") + event.revised_prompt)
                        if record.answer is not None:
                            record.answer.append(event.text)
                    elif kind is Usage:
                        event = record.usage = info.priced(event)
                    elif kind is Failure or kind is Finish:
                        record.ended(event)
                        charged = record.pictures if kind is Finish else reserved if event.params.get("made") else 0
                        if kind is Failure:
                            event = as_seen(self.settings, request.endpoint, event)
                    yield event
        finally:
            if owner_pays:
                self.allowance.settle_pictures(visitor, reserved, charged)
                cost = record.usage.cost_usd if record.usage is not None else None
                self.budgets.settle(budget, cost if cost is not None else (info.per_image or 0.0) * charged)
            self.records.write(record)

    async def _prepare(
        self, provider: Provider, options: ChatOptions, turns: list[Mapping[str, Any]], visitor: Visitor, ask: PictureAsk
    ) -> tuple[PictureRequest, ModelInfo, Reservation | None] | Failure:
        """Who may ask, where it goes and with whose key, the model, the limits, and the picture
        to change: cheap refusals first, as for an answer in words. The pictures are reserved
        last, with nothing awaited after (a Stop meanwhile leaves nothing reserved)."""
        public = self.settings.public
        if public.require_login and not visitor.user:
            return Failure("login_required")
        if public.max_input_chars and len(ask.prompt) > public.max_input_chars:
            return Failure("too_long", {"chars": len(ask.prompt), "limit": public.max_input_chars})
        if not provider.pictures:
            return Failure("picture", {"why": "unsupported", "provider": provider.label})
        if not ask.prompt:
            return Failure("picture", {"why": "no_prompt"})
        endpoint = choose_endpoint(self.settings, provider, options, visitor)
        if type(endpoint) is Failure:
            return endpoint
        model = (
            ask.model
            or (options.model if self.model_info.get(provider.id, options.model or "").pictures else provider.picture_model)
            or ""
        )
        offered = [provider.picture_model, *self.model_info.picture_models(provider.id)]
        if public.public and endpoint.owner_pays and model not in offered:  # (an API caller's model, on the owner's key)
            return choice_refused("model", provider.label, dict.fromkeys(m for m in offered if m), model)
        if refused := await self.allowance.admit_everywhere(visitor, owner_pays=endpoint.owner_pays):
            return refused
        if endpoint.public_only and (refused := await check_url(endpoint.base_url, public.allowed_networks)):
            return refused
        reference = None
        if ask.edit or turns[-1].get("files"):
            reference = await self._reference(provider, turns, visitor)
            if type(reference) is Failure:
                return reference
        count = options.pictures.count
        info = self.model_info.get(provider.id, model)
        budget = None
        if endpoint.owner_pays and self.budgets.on:  # the pictures' price, at list price
            budget = await self.budgets.reserve_listed(
                visitor, info.per_image * count if info.per_image else None, provider, model
            )
            if type(budget) is Failure:
                return budget
        if refused := self.allowance.admit_pictures(visitor, count, owner_pays=endpoint.owner_pays):
            self.budgets.settle(budget, 0.0)
            return refused
        request = PictureRequest(endpoint, model, ask.prompt, count, options.pictures.aspect_ratio, reference, info.per_image)
        return request, info, budget

    async def _reference(self, provider: Provider, turns: list[Mapping[str, Any]], visitor: Visitor) -> str | Failure:
        """The picture to change, as a data URI: the question's attached image, else the last
        picture of the conversation; read like an attachment (upload folder only, JPEG or PNG)."""
        attached = turns[-1].get("files") or ()
        ref = _attached_image(turns[-1])
        if ref is None and attached:  # a file that is no picture cannot be changed
            name = str(attached[0].get("name") or "file")[:200]
            return Failure("picture", {"why": "reference", "name": name, "provider": provider.label, "limit_mb": 20})
        if ref is None:
            ref = next((turn["pictures"][-1] for turn in reversed(turns[:-1]) if turn.get("pictures")), None)
        if ref is None:
            return Failure("picture", {"why": "no_reference"})
        lane = (visitor.names() or ("",))[-1]
        (read,) = await self.readers.read(lane, [(True, ref)], 0)
        if type(read) is Failure:
            return read
        if not read.image_url.startswith(tuple(f"data:{kind};" for kind in REFERENCE_KINDS)):
            return Failure("picture", {"why": "reference", "name": read.name, "provider": provider.label, "limit_mb": 20})
        return read.image_url
