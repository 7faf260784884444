"""The settings panel's components as one object: its values become ChatOptions for an answer,
and strings for a saved conversation."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import gradio as gr

from ..answering.options import (
    ChatOptions,
    SearchOptions,
    api_key_value,
    base_url_value,
    checked_id,
    generation_params,
    mcp_tool_list,
    optional_text,
    picture_options,
    search_options,
)
from ..answering.service import ChatService
from ..compare.compare import model_ref, offered_models, split_ref
from ..endpoints.providers import PROVIDERS, PROVIDERS_BY_ID
from ..history.conversations import SETTING_NAMES
from ..i18n.wording import words
from ..lru_cache import LRUCache
from .labels import text
from .scripts import script
from .visitors import page_language, visitor_of


@dataclass(frozen=True)
class PageSettings:
    """The settings panel's components."""

    provider: Any
    model: Any
    reasoning_effort: Any
    preset: Any
    system_prompt: Any
    temperature: Any
    top_p: Any
    max_tokens: Any
    api_key: Any = None
    """The person's own key (a password box); read for an answer, never kept with a conversation."""
    key_for: Any = None
    """A hidden box: the provider the key box's key was typed for (a key goes to that one only)."""
    base_url: Any = None
    """The person's own base URL, when the server allows one."""
    search: Any = None
    """Search: "" (off), "web", "x" or "both" (the provider's own search tools)."""
    x_options: Any = None
    """X search's options in X's own syntax: `@xai @nasa` (only these), `-@spam` (not these),
    `since:2026-01-01 until:2026-02-01`. Shown where X search is offered."""
    picture_ratio: Any = None
    picture_count: Any = None
    """A picture question's shape and number of pictures (answering/pictures.py)."""
    mcp_tools: Any = None
    """The MCP tools the model may ask for ("server:tool"; ui/tools_page.py)."""
    mcp_server: Any = None
    """The person's own MCP server, where the server allows their endpoints."""

    def search_fields(self) -> set:
        """The search, picture and tool options: inputs of an answer, not kept with a conversation."""
        return {
            box
            for box in (self.x_options, self.picture_ratio, self.picture_count, self.mcp_tools, self.mcp_server)
            if box is not None
        }

    def components(self) -> set:
        """What a conversation keeps (and restores)."""
        return {box for name in SETTING_NAMES if (box := getattr(self, name)) is not None}

    def access(self) -> set:
        """The person's own key and base URL: inputs of an answer, nothing else."""
        return {box for box in (self.api_key, self.key_for, self.base_url) if box is not None}

    def options(self, values: Mapping[Any, Any]) -> ChatOptions:
        """The panel's values as options; a value out of range raises InvalidOptions. An empty
        box means the model's own default."""
        provider_id = values[self.provider] or None
        api_key, base_url = own_access(provider_id, values.get(self.api_key), values.get(self.key_for), values.get(self.base_url))
        return ChatOptions(
            provider_id=provider_id,
            model=checked_id("model", values[self.model]),
            system_prompt=optional_text("system_prompt", values[self.system_prompt]),
            params=generation_params(
                temperature=values[self.temperature],
                top_p=values[self.top_p],
                max_tokens=values[self.max_tokens],
                reasoning_effort=values[self.reasoning_effort],
            ),
            api_key=api_key_value(api_key),
            base_url=base_url_value(base_url),
            tools=(tools := SEARCH_TOOLS.get(values.get(self.search) or "", ())),
            # Read only for X search: options left in the boxes never stop a plain question.
            search=self._x_search(values) if "x_search" in tools else SearchOptions(),
            pictures=picture_options(values.get(self.picture_count), values.get(self.picture_ratio), count_name="picture_count"),
            mcp_tools=mcp_tool_list("mcp_tools", values.get(self.mcp_tools), everything=False),
            mcp_server_url=base_url_value(values.get(self.mcp_server)) if self.mcp_server is not None else None,
        )

    def _x_search(self, values: Mapping[Any, Any]) -> SearchOptions:
        words = str(values.get(self.x_options) or "").replace(",", " ").split()
        since = [w.partition(":")[2] for w in words if w.lower().startswith("since:")]
        until = [w.partition(":")[2] for w in words if w.lower().startswith("until:")]
        accounts = [w for w in words if not w.lower().startswith(("since:", "until:"))]
        return search_options(
            " ".join(w for w in accounts if not w.startswith("-")),
            " ".join(w[1:] for w in accounts if w.startswith("-")),
            since[-1] if since else None,
            until[-1] if until else None,
        )

    def stored(self, values: Mapping[Any, Any]) -> dict[str, str]:
        """The panel's values as a conversation keeps them: strings, empty for unset."""
        return {
            name: ""
            if (value := values.get(getattr(self, name))) is None
            else str(value).strip()
            if name != "system_prompt"
            else str(value)
            for name in SETTING_NAMES
        }


SEARCH_TOOLS = {"web": ("web_search",), "x": ("x_search",), "both": ("web_search", "x_search")}


def search_update(provider_id: str | None, value: str = "") -> tuple[dict, dict]:
    """The Search choices for a provider's own tools (hidden where it has none; `value` kept when
    offered), and whether the X search options show."""
    provider = PROVIDERS_BY_ID.get(provider_id or "")
    tools = provider.responses_tools if provider else ()
    offered = [key for key, needs in SEARCH_TOOLS.items() if all(tool in tools for tool in needs)]
    choices = [(text("search.off"), "")] + [(text(f"search.{key}"), key) for key in offered]
    return (
        gr.update(choices=choices, value=value if value in offered else "", visible=bool(offered)),
        gr.update(visible="x" in offered),
    )


def model_facts(service: ChatService, provider_id: str | None, model: str | None, language: str) -> str:
    """What is known of a model beside the picker: its list price and its context, when known
    (models.yaml, and xAI's list for its prices)."""
    info = service.info(provider_id or "", (model or "").strip()) if provider_id else None
    if info is None:
        return ""
    parts = []
    if info.has_price:
        parts.append(words("page", "model_facts.price", {"input": info.input, "output": info.output}, language))
    if info.context:
        parts.append(words("page", "model_facts.context", {"tokens": info.context}, language))
    return " · ".join(parts)


def model_label(ref: str) -> str:
    """A "provider:model" ref as the picker shows it: "xAI (Grok) · grok-4"."""
    provider_id, _, model = ref.partition(":")
    provider = PROVIDERS_BY_ID.get(provider_id)
    return f"{provider.label if provider else provider_id} · {model}"


def model_menu(refs: Iterable[str]) -> list[tuple[str, str]]:
    """Models of several providers as one list, grouped by provider in the providers' order
    (models in each as listed): the chat's picker and Compare's boxes. Filtering by typing
    matches the provider's name as well as the model's."""
    rank = {p.id: i for i, p in enumerate(PROVIDERS)}
    unique = list(dict.fromkeys(refs))
    ordered = sorted(unique, key=lambda ref: rank.get(ref.partition(":")[0], len(rank)))
    return [(model_label(ref), ref) for ref in ordered]


def picked(provider_id: str | None, model: str | None) -> dict:
    """The picker showing the chosen provider and model (its full list comes when it is opened)."""
    ref = model_ref(provider_id, model.strip()) if provider_id and model and model.strip() else None
    return gr.update(choices=[(model_label(ref), ref)] if ref else [], value=ref)


def effort_update(service: ChatService, provider_id: str | None, model: str | None, value: str = "") -> dict:
    """The reasoning-effort choices for a model; `value` is kept when the model lists it."""
    levels = service.info(provider_id or "", (model or "").strip()).reasoning_effort if provider_id else ()
    return gr.update(
        choices=[(text("model_default"), "")] + [(level, level) for level in levels],
        value=value if value in levels else "",
        visible=bool(levels),
    )


def own_access(provider_id: str | None, api_key: Any, key_for: Any, base_url: Any) -> tuple[str | None, str | None]:
    """The person's own key and base URL, for the provider they were given for (`key_for`) only:
    given for another, they go nowhere."""
    if not provider_id or key_for != provider_id:
        return None, None
    return (api_key or "").strip() or None, (base_url or "").strip() or None


async def own_model_choices(
    service: ChatService, provider_id: str, api_key: Any, key_for: Any, base_url: Any, request: gr.Request
) -> tuple[list[str], str]:
    """A provider's models as this person may list them (with their own key or endpoint when it
    was given for that provider), and the one to suggest."""
    api_key, base_url = own_access(provider_id, api_key, key_for, base_url)
    options = ChatOptions(provider_id, api_key=api_key, base_url=base_url)
    return await service.model_choices(provider_id, options, visitor_of(request, service.settings))


KEY_FOR_PROVIDER_JS = script("key_for_provider")
REMEMBER_KEY_JS = script("remember_key")


def wire_access(service: ChatService, page: PageSettings, events: dict) -> None:
    """The provider box, and the person's own key and base URL: a key belongs to the provider it
    was typed for; switching provider shows that provider's key and lists its models with it."""

    async def on_provider_change(provider_id, api_key, key_for, base_url, request: gr.Request):
        if not provider_id:
            return gr.update(), gr.update()
        models, pick = await own_model_choices(service, provider_id, api_key, key_for, base_url, request)
        return gr.update(choices=models, value=pick), effort_update(service, provider_id, pick)

    if page.search is not None:
        # On `.input` (a conversation opened sets Search itself: _settings_updates). Not `.change`:
        # the page fires it whenever the server sends the provider's value, on every page opened.
        page.provider.input(search_update, [page.provider, page.search], [page.search, page.x_options], **events)

    async def on_access_change(provider_id, api_key, key_for, base_url, model, effort, request: gr.Request):
        """The models listed again for a key or base URL just given; the chosen one stays if listed."""
        if not provider_id:
            return gr.update(), gr.update()
        models, pick = await own_model_choices(service, provider_id, api_key, key_for, base_url, request)
        keep = model if model in models else pick
        return gr.update(choices=models, value=keep), effort_update(service, provider_id, keep, effort or "")

    access = [page.provider, page.api_key, page.key_for, page.base_url]
    kept_for = [page.api_key, page.base_url, page.key_for]
    listing = [page.model, page.reasoning_effort]
    # On `.change` too: opening a conversation may change the provider.
    page.provider.change(None, page.provider, kept_for, js=KEY_FOR_PROVIDER_JS, **events)
    page.provider.input(None, page.provider, kept_for, js=KEY_FOR_PROVIDER_JS, **events).then(
        on_provider_change, access, listing, **events
    )
    # `.change` catches a pasted key too (Gradio's `.input` misses it in a password box). The
    # models are listed again once the person leaves the box or presses Enter.
    for box in (page.api_key, page.base_url):
        box.change(None, [page.api_key, page.base_url, page.provider], page.key_for, js=REMEMBER_KEY_JS, **events)
        for trigger in (box.blur, box.submit):
            trigger(on_access_change, [*access, *listing], listing, trigger_mode="always_last", **events)


OWN_LISTS_BUDGET = 2_000_000
PICKED_JS = "(provider, model) => (provider && model && model.trim() ? provider + ':' + model.trim() : null)"


def wire_picker(service: ChatService, page: PageSettings, picker: Any, facts: Any, events: dict) -> None:
    """The model picker above the chat, one list of every ready provider's models (and the chosen
    provider's as listed with the person's own key), grouped by provider. Picking one sets the
    settings' provider and model boxes, which stay what an answer reads; whatever changes those
    (the settings, a conversation opened) shows in the picker, with the model's effort levels and
    facts."""

    # The models listed with a person's own key or endpoint, by page and key (a digest): asked of
    # their provider once, not at every opening of the picker (their lists count against the
    # listing limit, and the server's catalog keeps no one's own list).
    own_lists: LRUCache[list[str]] = LRUCache(OWN_LISTS_BUDGET, lambda refs: 64 + sum(len(ref) for ref in refs))

    async def listing(provider_id, model, api_key, key_for, base_url, request: gr.Request):
        refs, _ = await offered_models(service)
        own = own_access(provider_id, api_key, key_for, base_url)
        if provider_id and any(own):
            digest = hashlib.sha256("\0".join(part or "" for part in own).encode()).hexdigest()
            key = (request.session_hash, provider_id, digest)
            mine = own_lists.get(key)
            if mine is None:
                models, _ = await own_model_choices(service, provider_id, api_key, key_for, base_url, request)
                mine = [model_ref(provider_id, m) for m in models]
                own_lists.put(key, mine)
            refs = [ref for ref in refs if not ref.startswith(provider_id + ":")] + mine
        # Picture models (models.yaml), after each provider's listed ones: model lists hold text models.
        drawing = [p.id for p in service.ready_providers()] + ([provider_id] if provider_id and any(own) else [])
        refs += [model_ref(p, m) for p in dict.fromkeys(drawing) for m in service.picture_models(p)]
        current = model_ref(provider_id, model.strip()) if provider_id and model and model.strip() else None
        if current and current not in refs:
            refs.append(current)
        # (No value: a pick made while the list was asked for stays.)
        return gr.update(choices=model_menu(refs))

    async def on_pick(ref, provider_id, api_key, key_for, base_url, effort, search, request: gr.Request):
        split = split_ref(ref, "model")
        if not isinstance(split, tuple) or split[0] not in PROVIDERS_BY_ID:
            return (gr.skip(),) * 6
        new_provider, model = split
        language = page_language(request)
        if new_provider == provider_id:
            updates = (gr.skip(), gr.update(value=model), gr.skip(), gr.skip())
        else:
            models, _ = await own_model_choices(service, new_provider, api_key, key_for, base_url, request)
            shown = models if model in models else [model, *models]
            updates = (new_provider, gr.update(choices=shown, value=model), *search_update(new_provider, search or ""))
        return (
            *updates,
            effort_update(service, new_provider, model, effort or ""),
            model_facts(service, new_provider, model, language),
        )

    def on_model_change(provider_id, model, effort, request: gr.Request):
        return (
            effort_update(service, provider_id, model, effort or ""),
            model_facts(service, provider_id, model, page_language(request)),
            picked(provider_id, model),
        )

    access = [page.provider, page.model, page.api_key, page.key_for, page.base_url]
    picker.focus(listing, access, picker, trigger_mode="always_last", **events)
    # A provider changed with the same model id (or none) shows too, in the browser alone.
    page.provider.change(None, [page.provider, page.model], picker, js=PICKED_JS, **events)
    picker.input(
        on_pick,
        [picker, page.provider, page.api_key, page.key_for, page.base_url, page.reasoning_effort, page.search],
        [page.provider, page.model, page.search, page.x_options, page.reasoning_effort, facts],
        **events,
    )
    page.model.change(
        on_model_change, [page.provider, page.model, page.reasoning_effort], [page.reasoning_effort, facts, picker], **events
    )
