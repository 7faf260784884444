"""The settings panel's components as one object: its values become ChatOptions for an answer,
and strings for a saved conversation."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import gradio as gr

from ..conversations import SETTING_NAMES
from ..options import ChatOptions, generation_params
from ..service import ChatService


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

    def components(self) -> set:
        """What a conversation keeps (and restores)."""
        return {getattr(self, name) for name in SETTING_NAMES}

    def access(self) -> set:
        """The person's own key and base URL: inputs of an answer, nothing else."""
        return {box for box in (self.api_key, self.key_for, self.base_url) if box is not None}

    def options(self, values: Mapping[Any, Any]) -> ChatOptions:
        """The panel's values as options; a value out of range raises InvalidOptions. An empty
        box means the model's own default."""
        provider_id = values[self.provider] or None
        key = (values.get(self.api_key) or "").strip() or None
        return ChatOptions(
            provider_id=provider_id,
            model=(values[self.model] or "").strip() or None,
            system_prompt=values[self.system_prompt],
            params=generation_params(temperature=values[self.temperature], top_p=values[self.top_p],
                                     max_tokens=values[self.max_tokens],
                                     reasoning_effort=values[self.reasoning_effort]),
            # The key and base URL were given for the provider in `key_for`: they go to no other.
            api_key=key if key and values.get(self.key_for) == provider_id else None,
            base_url=(values.get(self.base_url) or "").strip() or None if values.get(self.key_for) == provider_id else None,
        )

    def stored(self, values: Mapping[Any, Any]) -> dict[str, str]:
        """The panel's values as a conversation keeps them: strings, empty for unset."""
        return {name: "" if (value := values.get(getattr(self, name))) is None else str(value).strip()
                if name != "system_prompt" else str(value) for name in SETTING_NAMES}


def effort_update(service: ChatService, provider_id: str | None, model: str | None, value: str = "") -> dict:
    """The reasoning-effort choices for a model; `value` is kept when the model lists it."""
    levels = service.info(provider_id or "", (model or "").strip()).reasoning_effort if provider_id else ()
    return gr.update(choices=[("model default", "")] + [(level, level) for level in levels],
                     value=value if value in levels else "", visible=bool(levels))
