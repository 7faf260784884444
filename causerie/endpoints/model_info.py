"""What is known per model: prices and accepted reasoning efforts, from models.yaml and discovery.

Capabilities are data here, never guessed from model names. Prices are USD per million tokens.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import yaml

from ..events import Usage

log = logging.getLogger(__name__)

MODELS_FILE = Path(__file__).resolve().parents[2] / "models.yaml"

# xAI's /language-models gives prices in hundredths of a cent per million tokens.
XAI_PRICE_UNITS_PER_USD = 10_000
# xAI's usage.cost_in_usd_ticks: ten-billionths of a dollar (checked on a recorded grok-3-mini
# stream: 1,918,250 ticks for its tokens at list price is $0.000192).
XAI_TICKS_PER_USD = 10_000_000_000


@dataclass(frozen=True)
class ModelInfo:
    input: float | None = None
    cached_input: float | None = None
    output: float | None = None
    reasoning_effort: tuple[str, ...] = ()
    vision: bool | None = None
    tools: tuple[str, ...] | None = None
    """The provider's server-side tools this model takes, when known (None: all its provider's)."""
    context: int | None = None
    """How many tokens the model reads at most (prompt and answer), when models.yaml says."""
    pictures: bool = False
    """A model that makes pictures (its provider's /images API) rather than text."""
    per_image: float | None = None
    """USD per picture made, when the provider reports no cost of its own."""
    per_minute: float | None = None
    """USD per minute of audio: heard (speech to text) or spoken (text to speech)."""
    per_million_chars: float | None = None
    """USD per million characters read aloud (text to speech)."""

    def audio_cost(self, seconds: float | None, characters: int = 0) -> float | None:
        """The list price of a transcription or a reading: by characters where the table prices
        them, else by the audio's length; None when neither is known."""
        if self.per_million_chars is not None and characters:
            return characters * self.per_million_chars / 1_000_000
        if self.per_minute is not None and seconds is not None:
            return seconds / 60 * self.per_minute
        return None

    @property
    def has_price(self) -> bool:
        return self.input is not None and self.output is not None

    def priced(self, usage: Usage) -> Usage:
        """The usage with its cost: what the provider says it charged wins; else tokens times the
        listed price when one is known; else no cost. The one place a cost is decided."""
        if usage.cost_usd is not None:
            return usage if usage.cost_source else replace(usage, cost_source="provider")
        cost = self.cost_usd(usage)
        return usage if cost is None else replace(usage, cost_usd=cost, cost_source="price_table")

    def cost_usd(self, usage: Usage) -> float | None:
        if not self.has_price or usage.prompt_tokens is None or usage.completion_tokens is None:
            return None
        cached = usage.cached_tokens or 0
        fresh = max(0, usage.prompt_tokens - cached)
        cached_price = self.cached_input if self.cached_input is not None else self.input
        return (fresh * self.input + cached * cached_price + usage.completion_tokens * self.output) / 1_000_000


def _record(raw: Any, where: str) -> ModelInfo | None:
    if not isinstance(raw, dict):
        log.warning("models.yaml: %s is not a mapping; skipped.", where)
        return None
    try:
        efforts = raw.get("reasoning_effort") or ()
        return ModelInfo(
            input=None if raw.get("input") is None else float(raw["input"]),
            cached_input=None if raw.get("cached_input") is None else float(raw["cached_input"]),
            output=None if raw.get("output") is None else float(raw["output"]),
            reasoning_effort=tuple(str(e) for e in efforts),
            vision=raw.get("vision"),
            tools=None if raw.get("tools") is None else tuple(str(t) for t in raw["tools"]),
            context=None if raw.get("context") is None else int(raw["context"]),
            pictures=raw.get("pictures") is True,
            per_image=None if raw.get("per_image") is None else float(raw["per_image"]),
            per_minute=None if raw.get("per_minute") is None else float(raw["per_minute"]),
            per_million_chars=None if raw.get("per_million_chars") is None else float(raw["per_million_chars"]),
        )
    except (TypeError, ValueError):
        log.warning("models.yaml: %s has a price that is not a number; skipped.", where)
        return None


class ModelInfoTable:
    """Model records by (provider id, model id). Shared, not per user."""

    def __init__(self, records: dict[tuple[str, str], ModelInfo] | None = None) -> None:
        self._records = dict(records or {})

    @classmethod
    def load(cls, path: Path = MODELS_FILE) -> ModelInfoTable:
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except FileNotFoundError:
            return cls()
        except (OSError, yaml.YAMLError) as exc:
            log.warning("Could not read %s (%s); no prices or model capabilities are known.", path.name, type(exc).__name__)
            return cls()
        records: dict[tuple[str, str], ModelInfo] = {}
        for provider_id, models in data.items() if isinstance(data, dict) else ():
            for model_id, raw in (models or {}).items() if isinstance(models, dict) else ():
                if (info := _record(raw, f"{provider_id}/{model_id}")) is not None:
                    records[(str(provider_id), str(model_id))] = info
        return cls(records)

    def get(self, provider_id: str, model: str) -> ModelInfo:
        return self._records.get((provider_id, model), ModelInfo())

    def picture_models(self, provider_id: str) -> list[str]:
        """The provider's picture models that models.yaml lists (its /models lists text models only,
        or does not tell them apart)."""
        return [model for (provider, model), info in self._records.items() if provider == provider_id and info.pictures]

    def merge_xai_language_models(self, payload: Any) -> None:
        """Fill in prices (and vision) from xAI's GET /v1/language-models; the file's efforts stay."""
        models = payload.get("models", payload.get("data", [])) if isinstance(payload, dict) else payload
        for item in models if isinstance(models, list) else ():
            if not isinstance(item, dict) or not isinstance(item.get("id"), str):
                continue
            prices = {}
            for field, key in (
                ("input", "prompt_text_token_price"),
                ("cached_input", "cached_prompt_text_token_price"),
                ("output", "completion_text_token_price"),
            ):
                if isinstance(item.get(key), (int, float)):
                    prices[field] = item[key] / XAI_PRICE_UNITS_PER_USD
            if isinstance(item.get("input_modalities"), list):
                prices["vision"] = "image" in item["input_modalities"]
            for model_id in [item["id"], *[a for a in item.get("aliases") or () if isinstance(a, str)]]:
                current = self.get("xai", model_id)
                self._records[("xai", model_id)] = replace(current, **prices)
