"""The chat service: settings, presets, the wire client, model discovery and the local model.

One instance per app, shared by all sessions; it holds nothing about any one person. Provider,
model, key and base URL travel with each call, and one model's answer is one event iterator.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable, Mapping
from typing import Any

from dataclasses import replace

from .answer import Answer, coalesced
from .client import ChatClient, ChatRequest, RetryPolicy
from .conversation import build_messages
from .discovery import ModelCatalog
from .events import Event, Failure, Start, Status, Usage
from .local_model import LocalModelError, LocalModelServer
from .model_info import ModelInfo, ModelInfoTable
from .prompts import Preset, load_presets
from .providers import PROVIDERS_BY_ID, Endpoint, Provider, get_provider, pick_default_model
from .settings import NOTHING_READY, Settings


def chat_params(temperature: Any = None, top_p: Any = None, max_tokens: Any = None,
                reasoning_effort: Any = None) -> dict[str, Any]:
    """The optional parameters a person set, typed; an empty box means the model's own default."""
    params: dict[str, Any] = {}
    if temperature not in (None, ""):
        params["temperature"] = float(temperature)
    if top_p not in (None, ""):
        params["top_p"] = float(top_p)
    if max_tokens not in (None, "", 0):
        params["max_tokens"] = int(max_tokens)
    if reasoning_effort:
        params["reasoning_effort"] = str(reasoning_effort)
    return params


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

    async def stream_answer(
        self,
        *,
        provider_id: str | None,
        model: str | None,
        system_prompt: str | None,
        history: Iterable[Any] | None,
        message: str,
        params: Mapping[str, Any] | None = None,
    ) -> AsyncIterator[Event]:
        """One answer as events. Every failure, including bad choices, is a Failure event."""
        default = self.default_provider()
        provider_id = provider_id or (default.id if default else None)
        if provider_id is None:
            yield Failure("not_ready", NOTHING_READY)
            return
        try:
            provider = get_provider(provider_id)
        except KeyError as exc:
            yield Failure("not_ready", str(exc.args[0]))
            return
        if not self.settings.is_ready(provider):
            yield Failure("not_ready", f"{provider.label} is not set up: {self.settings.what_to_set(provider)}.")
            return
        if provider.managed and not (self.local and self.local.running()):
            yield Status("Starting the local model…")
        try:
            endpoint = await self.endpoint(provider.id)
        except LocalModelError as exc:
            yield Failure("local", str(exc))
            return
        model = (model or "").strip() or await self.pick_model(provider.id)
        if not model:
            yield Failure("no_model", f"{provider.label} lists no models right now. Type a model id in the Model box.")
            return
        request = ChatRequest(endpoint, model, build_messages(system_prompt, history, message), dict(params or {}))
        yield Start(provider.id, provider.label, model)
        info = self.info(provider.id, model)
        self.active_streams += 1
        try:
            async for event in self.client.stream(request):
                if type(event) is Usage and event.cost_usd is None and info.priced:
                    event = replace(event, cost_usd=info.cost_usd(event))
                yield event
        finally:
            self.active_streams -= 1

    def answers(self, *, provider_id: str | None, model: str | None, system_prompt: str | None,
                history: Iterable[Any] | None, message: str, params: Mapping[str, Any]) -> AsyncIterator[Answer]:
        """The same answer as stream_answer, built up: yielded as it grows, coalesced for a UI."""
        chosen = self.provider_or_default(provider_id)
        answer = Answer(provider_label=chosen.label if chosen else "", model=model or "")
        events = self.stream_answer(provider_id=provider_id, model=model, system_prompt=system_prompt,
                                    history=history, message=message, params=params)
        return coalesced(answer, events, self.update_interval_s)

    async def aclose(self) -> None:
        await self.client.aclose()
        if self.local:
            self.local.stop()
