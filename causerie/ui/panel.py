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

    def components(self) -> set:
        return {getattr(self, name) for name in SETTING_NAMES}

    def options(self, values: Mapping[Any, Any]) -> ChatOptions:
        """The panel's values as options; a value out of range raises InvalidOptions. An empty
        box means the model's own default."""
        return ChatOptions(
            provider_id=values[self.provider] or None,
            model=(values[self.model] or "").strip() or None,
            system_prompt=values[self.system_prompt],
            params=generation_params(temperature=values[self.temperature], top_p=values[self.top_p],
                                     max_tokens=values[self.max_tokens],
                                     reasoning_effort=values[self.reasoning_effort]),
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
