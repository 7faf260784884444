"""System-prompt presets: prompts/*.md, YAML front matter then the prompt itself.

Front matter: name (required), description, language (en/fr), an example question (offered in
the empty chat), and optional default settings (temperature, top_p, max_tokens). The preset id is the file name. A file that cannot be read is
skipped with a warning that names it, so one broken file never takes the others down.

A prompt may hold blanks, `{{target language}}`: the page asks for them before the first message
(`blanks`, `filled`), and does not send the preset's prompt with one of its blanks left.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import yaml

log = logging.getLogger(__name__)

PROMPTS_DIR = Path(__file__).resolve().parents[2] / "prompts"
_SETTING_TYPES = {"temperature": float, "top_p": float, "max_tokens": int}


@dataclass(frozen=True)
class Preset:
    id: str
    name: str
    prompt: str
    description: str = ""
    language: str = "en"
    settings: dict[str, float | int] = field(default_factory=dict)
    example: str = ""
    """A question this preset is good for, offered in the empty chat."""

    @property
    def label(self) -> str:
        return f"{self.name} ({self.language.upper()})"


class PresetError(ValueError):
    pass


_BLANK = re.compile(r"\{\{\s*([^{}\n]{1,40}?)\s*\}\}")
MAX_BLANKS = 4
"""The most blanks a prompt's form asks for (more are left in the prompt, and named)."""


def blanks(prompt: str | None) -> list[str]:
    """The prompt's blanks' names, each once, in order."""
    if not prompt or "{{" not in prompt:
        return []
    return list(dict.fromkeys(found.group(1) for found in _BLANK.finditer(prompt)))


def filled(prompt: str, values: dict[str, str]) -> str:
    """The prompt with its blanks filled where `values` names them (empty values leave a blank)."""
    return _BLANK.sub(lambda found: (values.get(found.group(1)) or "").strip() or found.group(), prompt)


_SOFT_BREAK = re.compile(r"(?<=\S)\n(?=[^\n\s\-*#>|0-9])")


def _unwrap(text: str) -> str:
    """Join lines wrapped for the file's sake, as Markdown does; keep paragraphs and lists."""
    return _SOFT_BREAK.sub(" ", text)


def parse_preset(preset_id: str, text: str) -> Preset:
    if not text.startswith("---"):
        raise PresetError("it does not start with YAML front matter (a line with ---)")
    try:
        _, front, body = text.split("---", 2)
    except ValueError:
        raise PresetError("its front matter is not closed by a second --- line") from None
    try:
        meta = yaml.safe_load(front) or {}
    except yaml.YAMLError as exc:
        raise PresetError(f"its front matter is not valid YAML ({exc.__class__.__name__})") from None
    if not isinstance(meta, dict):
        raise PresetError("its front matter is not a mapping of keys to values")
    name = meta.get("name")
    if not isinstance(name, str) or not name.strip():
        raise PresetError("its front matter has no 'name'")
    prompt = _unwrap(body.strip())
    if not prompt:
        raise PresetError("it has no prompt text after the front matter")
    settings: dict[str, float | int] = {}
    for key, kind in _SETTING_TYPES.items():
        if meta.get(key) is not None:
            try:
                settings[key] = kind(meta[key])
            except (TypeError, ValueError):
                raise PresetError(f"its {key} is not a number") from None
    language = str(meta.get("language") or "en").lower()
    example = meta.get("example")
    return Preset(
        preset_id,
        name.strip(),
        prompt,
        str(meta.get("description") or "").strip(),
        language,
        settings,
        example.strip() if isinstance(example, str) else "",
    )


def default_preset(presets: Mapping[str, Preset], preset_id: str) -> Preset | None:
    """The preset that answers when none is chosen (DEFAULT_PROMPT), else the first one: the page's,
    the API's and MCP's alike."""
    return presets.get(preset_id) or next(iter(presets.values()), None)


def load_presets(directory: Path = PROMPTS_DIR) -> dict[str, Preset]:
    presets: dict[str, Preset] = {}
    for path in sorted(directory.glob("*.md")):
        try:
            presets[path.stem] = parse_preset(path.stem, path.read_text(encoding="utf-8"))
        except (PresetError, OSError, UnicodeDecodeError) as exc:
            log.warning("Skipped the prompt preset %s: %s.", path.name, exc)
    return presets
