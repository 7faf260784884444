"""The chat service: settings, presets, the wire client, model discovery and the local model.

One instance per app, shared by all sessions; it holds nothing about any one person. Provider,
model, key and base URL travel with each call, and one model's answer is one event iterator.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .answer import Answer, coalesced
from .client import ChatClient, ChatRequest, RetryPolicy
from .conversation import build_messages
from .discovery import ModelCatalog
from .events import Event, Failure, Start, Status, Usage
from .local_model import LocalModelError, LocalModelServer
from .model_info import ModelInfo, ModelInfoTable
from .options import ChatOptions
from .prompts import Preset, load_presets
from .providers import PROVIDERS_BY_ID, Endpoint, Provider, get_provider, pick_default_model
from .settings import Settings


@dataclass(frozen=True)
class Resolved:
    """A request's provider, endpoint and model, and what is known about that model."""

    endpoint: Endpoint
    model: str
    info: ModelInfo


class ChatService:
    def __init__(
        self,
        settings: Settings,
        presets: Mapping[str, Preset] | None = None,
        model_info: ModelInfoTable | None = None,
    ) -> None:
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
        )
        self.local = LocalModelServer(settings.local_model_path) if settings.local_model_path else None
        self.active_streams = 0
        """Answers streaming right now, across all sessions: sets how often the UI is updated."""

    def update_interval_s(self) -> float:
        """Seconds between UI updates of one answer: 40 ms alone, longer when many stream at once.

        Every update makes Gradio post-process and diff the whole chat in a worker thread; with 100
        answers streaming on two cores, 25 updates a second each would starve the event loop, and
        three a second still reads as a smooth stream.
        """
        return min(0.4, 0.04 + 0.003 * max(0, self.active_streams - 1))

    # -- providers and models -------------------------------------------------------------

    def _models_payload(self, endpoint: Endpoint, payload: Any) -> None:
        if endpoint.provider.prices_in_models_list:
            self.model_info.merge_xai_language_models(payload)

    def info(self, provider_id: str, model: str) -> ModelInfo:
        return self.model_info.get(provider_id, model)

    def ready_providers(self) -> list[Provider]:
        return self.settings.ready_providers()

    def default_provider(self) -> Provider | None:
        return self.settings.choose_default_provider()

    def provider_or_default(self, provider_id: str | None) -> Provider | None:
        """The named provider if it exists, else the default (for labels before the answer)."""
        return PROVIDERS_BY_ID.get(provider_id or "") or self.default_provider()

    async def endpoint(self, provider_id: str) -> Endpoint:
        """The server-configured endpoint; starts the local model when that is the provider."""
        provider = get_provider(provider_id)
        if provider.managed:
            if self.local is None:
                raise LocalModelError("The local model is not installed: run pip install -r requirements-local.txt, or set a provider's key.")
            base_url = await asyncio.to_thread(self.local.ensure_started)
            return self.settings.endpoint(provider_id, local_base_url=base_url)
        return self.settings.endpoint(provider_id)

    async def models(self, provider_id: str) -> list[str]:
        provider = get_provider(provider_id)
        if provider.managed:
            return [self.local.model_id] if self.local else []
        endpoint = self.settings.endpoint(provider_id)
        return await self.catalog.models(self.client.http(), endpoint)

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

    async def pick_model(self, provider_id: str) -> str:
        """The model to use when none was chosen: DEFAULT_MODEL, else the best listed one."""
        if configured := self._configured_model(provider_id):
            return configured
        return pick_default_model(get_provider(provider_id), await self.models(provider_id)) or ""

    # -- answering --------------------------------------------------------------------------

    def _ready_provider(self, provider_id: str | None) -> Provider | Failure:
        default = self.default_provider()
        provider_id = provider_id or (default.id if default else None)
        if provider_id is None:
            return Failure("not_ready", {"why": "nothing"})
        provider = PROVIDERS_BY_ID.get(provider_id)
        if provider is None:
            return Failure("not_ready", {"why": "unknown", "provider_id": provider_id, "known": ", ".join(PROVIDERS_BY_ID)})
        if not self.settings.is_ready(provider):
            return Failure("not_ready", {"why": "not_set_up", "provider": provider.label,
                                         "how": self.settings.what_to_set(provider)})
        return provider

    async def resolve(self, provider: Provider, options: ChatOptions) -> Resolved | Failure:
        """Once per answer: the endpoint, the model (the chosen one, or a pick) and its record."""
        try:
            endpoint = await self.endpoint(provider.id)
        except LocalModelError as exc:
            return Failure("local", {"detail": str(exc)})
        model = (options.model or "").strip() or await self.pick_model(provider.id)
        if not model:
            return Failure("no_model", {"provider": provider.label})
        info = self.info(provider.id, model)
        effort = options.params.reasoning_effort
        if effort and info.reasoning_effort and effort not in info.reasoning_effort:
            return Failure("invalid_value", {"why": "choice", "param": "reasoning_effort", "model": model,
                                             "allowed": ", ".join(info.reasoning_effort), "value": effort})
        return Resolved(endpoint, model, info)

    async def stream_answer(self, options: ChatOptions, turns: Iterable[Mapping[str, str]]) -> AsyncIterator[Event]:
        """One answer as events, to plain turns that end with the person's question. Every failure,
        including bad choices, is a Failure event."""
        provider = self._ready_provider(options.provider_id)
        if type(provider) is Failure:
            yield provider
            return
        if provider.managed and not (self.local and self.local.running()):
            yield Status("starting_local")
        resolved = await self.resolve(provider, options)
        if type(resolved) is Failure:
            yield resolved
            return
        messages = build_messages(options.system_prompt, turns)
        request = ChatRequest(resolved.endpoint, resolved.model, messages, options.params.to_body())
        yield Start(provider.id, provider.label, resolved.model)
        self.active_streams += 1
        try:
            async for event in self.client.stream(request):
                yield resolved.info.priced(event) if type(event) is Usage else event
        finally:
            self.active_streams -= 1

    def answers(self, options: ChatOptions, turns: Iterable[Mapping[str, str]]) -> AsyncIterator[Answer]:
        """The same answer as stream_answer, built up: yielded as it grows, coalesced for a UI."""
        chosen = self.provider_or_default(options.provider_id)
        answer = Answer(provider_label=chosen.label if chosen else "", model=options.model or "")
        return coalesced(answer, self.stream_answer(options, turns), self.update_interval_s)

    async def aclose(self) -> None:
        await self.client.aclose()
        if self.local:
            self.local.stop()
