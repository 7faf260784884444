"""Voice: a recording into the question's words, and an answer read aloud, through the speech wire
(endpoints/speech.py) with the same rules as an answer: whose key, the limits, the price, one log
line each.

Which provider listens or reads: the chosen one when it can, else the first the server has ready
that can (a question to Mistral is still dictated with xAI's or OpenAI's key). A person's own key or
base URL goes only to the provider it was given for: never to the one that stands in.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from typing import Any

from ..config.settings import Settings
from ..endpoints.egress import check_url
from ..endpoints.model_info import ModelInfoTable
from ..endpoints.providers import Endpoint, Provider
from ..endpoints.speech import SHAPES, SPEECH_FORMATS, SpeechClient, SpeechRequest, SpokenAudio, TranscriptionRequest
from ..events import Failure, Finish, Usage
from ..files.audio import NotAudio, take_recording
from .access import as_seen, choose_endpoint, offered_providers
from .answer_log import AnswerRecord, AnswerRecords
from .budgets import DollarBudgets, Reservation
from .limits import CHARS_PER_TOKEN, RateLimiter, Visitor
from .options import ChatOptions, choice_refused
from .speakable import pieces, speakable

MAX_READ_CHARS = 60_000
"""The most text read aloud at once (an answer of about 15,000 words)."""


@dataclass(frozen=True)
class Heard:
    """A recording transcribed."""

    text: str
    seconds: float
    provider: str
    model: str
    cost_usd: float | None
    cost_source: str | None


@dataclass(frozen=True)
class SpokenPiece:
    """One piece of an answer read aloud (the pieces come in order)."""

    audio: SpokenAudio
    text: str
    cost_usd: float | None
    cost_source: str | None
    provider: str
    model: str
    voice: str


@dataclass(frozen=True)
class ReadAloud:
    text: str
    """Markdown, as an answer is written: made speakable before it is sent."""
    voice: str | None = None
    """One of the provider's voices; None: its first."""
    audio_format: str = "mp3"
    language: str = "en"
    """The words code and formulas are said in (English or French)."""
    spoken_as: str | None = None
    """The language the provider is told the text is in; None: it tells (xAI's "auto")."""
    model: str | None = None
    quick_start: bool = True
    """Pieces made for a player (a short first one, then about a minute each); False: as few
    requests as the provider takes (the API returns one file)."""


class VoiceAnswers:
    """Transcribes and reads aloud for the chat service (one per app; nothing per person)."""

    def __init__(
        self,
        settings: Settings,
        client: SpeechClient,
        allowance: RateLimiter,
        model_info: ModelInfoTable,
        budgets: DollarBudgets,
        records: AnswerRecords,
    ) -> None:
        self.settings, self.client, self.allowance = settings, client, allowance
        self.model_info, self.budgets, self.records = model_info, budgets, records

    def listeners(self) -> list[Provider]:
        """The providers ready on this server that transcribe (the page offers a microphone when
        there is one; a visitor's own key for one of them is used when it is the chosen provider)."""
        return self._ready(lambda p: p.transcription)

    def readers(self) -> list[Provider]:
        """The providers ready on this server that read aloud."""
        return self._ready(lambda p: p.speech)

    def _ready(self, can: Any) -> list[Provider]:
        return [p for p in offered_providers(self.settings) if can(p) and self.settings.is_ready(p)]

    def _who(self, chosen: Provider | None, options: ChatOptions, can: Any, why: str) -> tuple[Provider, ChatOptions] | Failure:
        """The provider that does it, and the options it is asked with (without the person's key and
        base URL when it is not the provider they were given for)."""
        if chosen is not None and can(chosen):
            return chosen, options
        if chosen is not None and options.asked_through == "api" and options.provider_id:  # (named: no stand-in)
            able = ", ".join(p.id for p in offered_providers(self.settings) if can(p))
            return Failure("speech", {"why": f"not_{why.removeprefix('no_')}", "provider": chosen.label, "able": able or "none"})
        ready = self._ready(can)
        if not ready or not options.owner_keys:
            return Failure("speech", {"why": why, "provider": chosen.label if chosen else ""})
        return ready[0], replace(options, provider_id=ready[0].id, api_key=None, base_url=None, model=None)

    async def _admitted(
        self, provider: Provider, options: ChatOptions, visitor: Visitor, *, tokens: int = 0
    ) -> Endpoint | Failure:
        """Who may ask, where it goes and with whose key: one question against the visitor's limits
        (and `tokens` of their hour, set aside, when the owner pays)."""
        public = self.settings.public
        if public.require_login and not visitor.user:
            return Failure("login_required")
        endpoint = choose_endpoint(self.settings, provider, options, visitor)
        if type(endpoint) is Failure:
            return endpoint
        if refused := await self.allowance.admit_everywhere(visitor, owner_pays=endpoint.owner_pays, reserve=tokens):
            return refused
        if endpoint.public_only and (refused := await check_url(endpoint.base_url, public.allowed_networks)):
            return refused
        return endpoint

    def _model(
        self, provider: Provider, chosen: Provider | None, asked: str | None, own: str | None, endpoint_pays: bool
    ) -> str | Failure:
        """The model named by an API caller, for the provider it named (an OpenAI-shaped one: xAI's
        take none); on the owner's key in public mode, only the models models.yaml prices for it."""
        if not asked or provider is not chosen:
            return own or ""
        if endpoint_pays and self.settings.public.public:
            info = self.model_info.get(provider.id, asked)
            if info.per_minute is None and info.per_million_chars is None and asked != own:
                return choice_refused("model", provider.label, [own or ""], asked)
        return asked

    async def transcribe(
        self,
        chosen: Provider | None,
        options: ChatOptions,
        path: Any,
        visitor: Visitor,
        *,
        name: str | None = None,
        language: str | None = None,
        model: str | None = None,
    ) -> Heard | Failure:
        """The words of the recording at `path` (a file in the upload folder, deleted once read).
        `model`: an OpenAI-shaped provider's transcription model (None: its own; xAI takes none)."""
        try:
            recording = await asyncio.to_thread(take_recording, path, self.settings.upload_dir, name)
        except NotAudio as exc:
            return Failure("audio", {"why": exc.why, **exc.params})
        limit = self.settings.public.max_audio_seconds
        if limit and recording.seconds > limit:
            return Failure(
                "audio", {"why": "too_long", "seconds": recording.seconds, "limit": limit, "setting": "MAX_AUDIO_SECONDS"}
            )
        who = self._who(chosen, options, lambda p: p.transcription, "no_transcription")
        if type(who) is Failure:
            return who
        provider, options = who
        record = AnswerRecord(provider.id, provider.transcription_model, visitor=self.records.visitor_hash(visitor))
        budget: Reservation | None = None
        cost: float | None = None
        try:
            endpoint = await self._admitted(provider, options, visitor)
            if type(endpoint) is Failure:
                record.ended(endpoint)
                return endpoint
            record.key_from, record.owner_pays = endpoint.key_from, endpoint.owner_pays
            if endpoint.owner_pays and self.settings.public.public and recording.name != "audio.wav":
                # (a compressed file's length is what its own header says: only a WAV's is its size)
                record.ended(refused := Failure("audio", {"why": "wav_only", "setting": "MAX_AUDIO_SECONDS"}))
                return refused
            asked = model if provider.transcription == "openai" else None
            model = self._model(provider, chosen, asked, provider.transcription_model, endpoint.owner_pays)
            if type(model) is Failure:
                record.ended(model)
                return model
            record.model = model
            info = self.model_info.get(provider.id, model)
            listed = info.audio_cost(recording.seconds)
            if endpoint.owner_pays:
                reserved = await self.budgets.reserve_listed(visitor, listed, provider, model)
                if type(reserved) is Failure:  # (nothing set aside: nothing to settle)
                    record.ended(reserved)
                    return reserved
                budget = reserved
            request = TranscriptionRequest(endpoint, model, recording, language)
            heard = await self.client.transcribe(request)
            if type(heard) is Failure:
                record.ended(heard)
                return as_seen(self.settings, endpoint, heard)
            # The provider's figure, when it gives one, within the header's (a provider that
            # reports tokens, as gpt-4o-mini-transcribe, gives none).
            cost = info.audio_cost(min(heard.seconds, recording.seconds) if recording.seconds else heard.seconds)
            record.usage = Usage(cost_usd=cost, cost_source="price_table" if cost is not None else None)
            record.ended(Finish("stop"))
            return Heard(heard.text, heard.seconds, provider.label, model, cost, record.usage.cost_source)
        finally:
            self.budgets.settle(budget, cost or 0.0)
            self.records.write(record)

    async def read_aloud(
        self, chosen: Provider | None, options: ChatOptions, ask: ReadAloud, visitor: Visitor
    ) -> AsyncIterator[SpokenPiece | Failure]:
        """The text, read aloud piece by piece (the next piece is made while one is played); a
        Failure ends it, the pieces before it stand."""
        text = speakable(ask.text, ask.language)
        if not text:
            yield Failure("speech", {"why": "nothing"})
            return
        if len(text) > MAX_READ_CHARS:
            yield Failure("speech", {"why": "too_long", "chars": len(text), "limit": MAX_READ_CHARS})
            return
        who = self._who(chosen, options, lambda p: p.speech, "no_speech")
        if type(who) is Failure:
            yield who
            return
        provider, options = who
        if ask.audio_format not in SPEECH_FORMATS:
            yield choice_refused("format", provider.label, SPEECH_FORMATS, ask.audio_format)
            return
        voice = ask.voice
        if voice and ":" in voice:  # (the page's "provider:voice": that provider's voice, else its own)
            owner, _, voice = voice.partition(":")
            voice = voice if owner == provider.id else None
        voice = voice or provider.voices[0]
        if voice not in provider.voices:
            yield choice_refused("voice", provider.label, provider.voices, voice)
            return
        public = self.settings.public
        record = AnswerRecord(provider.id, provider.speech_model, visitor=self.records.visitor_hash(visitor))
        budget: Reservation | None = None
        spent, read, tokens = 0.0, 0, 0
        owner_pays, ahead = False, None
        try:
            # What is read counts against the visitor's hour as a question of that length would
            # (about four characters a token), when the owner pays.
            tokens = len(text) // CHARS_PER_TOKEN + 1 if public.tokens_per_hour else 0
            endpoint = await self._admitted(provider, options, visitor, tokens=tokens)
            if type(endpoint) is Failure:
                tokens = 0
                record.ended(endpoint)
                yield endpoint
                return
            owner_pays = endpoint.owner_pays
            tokens = tokens if owner_pays else 0  # (the hour's tokens are the owner's money only)
            record.key_from, record.owner_pays = endpoint.key_from, endpoint.owner_pays
            if owner_pays and public.public and public.max_input_chars and len(text) > public.max_input_chars:
                record.ended(refused := Failure("too_long", {"chars": len(text), "limit": public.max_input_chars}))
                yield refused
                return
            asked = ask.model if provider.speech == "openai" else None
            model = self._model(provider, chosen, asked, provider.speech_model, endpoint.owner_pays)
            if type(model) is Failure:
                record.ended(model)
                yield model
                return
            record.model = model
            info = self.model_info.get(provider.id, model)
            # A minute of speech is about 900 characters: the list price, by characters or by minutes.
            listed = info.audio_cost(len(text) / 15, len(text))
            if endpoint.owner_pays:
                reserved = await self.budgets.reserve_listed(visitor, listed, provider, model)
                if type(reserved) is Failure:  # (nothing set aside: nothing to settle)
                    record.ended(reserved)
                    yield reserved
                    return
                budget = reserved
            most = SHAPES[provider.speech or ""].max_characters
            parts = pieces(text, size=min(most, 1_200)) if ask.quick_start else pieces(text, first=most, size=most)

            def asked(part: str) -> asyncio.Future:
                """One piece asked for (counted from then: the provider may bill it)."""
                nonlocal read
                read += len(part)
                return asyncio.ensure_future(
                    self.client.speak(SpeechRequest(endpoint, model, part, voice, ask.audio_format, ask.spoken_as))
                )

            ahead = asked(parts[0])
            for number, part in enumerate(parts):
                spoken = await ahead
                ahead = None
                if type(spoken) is Failure:
                    record.ended(spoken)
                    yield as_seen(self.settings, endpoint, spoken)
                    return
                if number + 1 < len(parts):  # the next piece is made while this one plays
                    ahead = asked(parts[number + 1])
                cost = info.audio_cost(spoken.seconds, spoken.characters)
                spent += cost or 0.0
                record.first_token = record.first_token or time.perf_counter()
                yield SpokenPiece(spoken, part, cost, "price_table" if cost is not None else None, provider.label, model, voice)
            record.ended(Finish("stop"))
        finally:
            if ahead is not None:  # (a piece being made when the reading stopped: asked for, so counted)
                ahead.cancel()
            if read:
                record.usage = Usage(cost_usd=spent if spent else None, cost_source="price_table" if spent else None)
            if tokens:
                self.allowance.settle(visitor, tokens, read // CHARS_PER_TOKEN + 1 if read else 0)
            self.budgets.settle(budget, spent)
            self.records.write(record)
