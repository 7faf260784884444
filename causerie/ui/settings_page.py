"""The settings sidebar: provider, model, reasoning effort, search, preset, system prompt,
parameters, the visitor's own key, and the session's totals; and the presets' wiring (a preset
fills the prompt and parameters; an example question picks its preset)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import gradio as gr

from ..answering.access import offered_providers
from ..answering.prompts import MAX_BLANKS, Preset, blanks, default_preset, filled
from ..answering.service import ChatService
from ..config.settings import Settings
from ..endpoints.pictures import ASPECT_RATIOS, MAX_PICTURES
from ..endpoints.providers import PROVIDERS
from ..i18n.wording import words
from .labels import Labels
from .listeners import QUICK
from .panel import PageSettings, model_facts, picked, search_update
from .scripts import script
from .visitors import page_language


class PresetMenu:
    """The presets as the page offers them: the default first, then by language."""

    def __init__(self, presets: dict[str, Preset], default_id: str) -> None:
        self.presets = presets
        self.default = default_preset(presets, default_id)
        default = self.default.id if self.default else ""
        self.order = sorted(presets.values(), key=lambda p: (p.id != default, p.language, p.id))

    def values(self, preset_id: str) -> tuple:
        """What choosing a preset puts in the system prompt and the three parameters."""
        preset = self.presets.get(preset_id)
        if preset is None:
            return gr.skip(), gr.skip(), gr.skip(), gr.skip()
        s = preset.settings
        shown = [s.get(name) for name in ("temperature", "top_p", "max_tokens")]
        return preset.prompt, *("" if value is None else f"{value:g}" for value in shown)

    def choices(self, language: str, pinned: list[str] | tuple[str, ...] = ()) -> list[tuple[str, str]]:
        """The menu's entries: the person's pinned presets first (in the order pinned, marked),
        then those in the page's language, then the rest."""
        rank = {preset_id: i for i, preset_id in enumerate(pinned)}
        ordered = sorted(self.order, key=lambda p: (rank.get(p.id, len(rank)), p.language != language))
        return [(f"📌 {p.label}" if p.id in rank else p.label, p.id) for p in ordered]

    def in_language(self, language: str) -> Preset | None:
        """The default preset, as written in `language` (general-en and general-fr)."""
        return same_preset_in(self.presets, self.default, language) if self.default else None


@dataclass(frozen=True)
class ModelBar:
    """The chat's header: what answers (the picker; reasoning effort) and how (search). The
    provider and model boxes the picker sets are in the settings (build_settings renders them)."""

    picker: Any
    provider: Any
    model: Any
    reasoning_effort: Any
    search: Any
    facts: Any
    """The chosen model's price and context, when known (panel.model_facts)."""
    initial_model: str
    x_options_shown: bool = False
    """Whether the default provider offers X search (its options box, in the settings, shows)."""


def build_model_bar(service: ChatService, say: Labels) -> ModelBar:
    """The model bar's components (inside a gr.Row above the chat)."""
    settings = service.settings
    ready = service.ready_providers()
    default = service.default_provider()
    initial_model = service.initial_model(default.id) if default else ""
    shown = picked(default.id if default else None, initial_model)
    picker = gr.Dropdown(
        choices=shown["choices"],
        value=shown["value"],
        label=say("model_picker"),
        show_label=False,
        container=False,
        allow_custom_value=True,
        filterable=True,
        min_width=220,
        scale=3,
        elem_id="model-picker",
    )
    # The provider and model boxes: shown in the settings (any provider, with the person's own
    # key; any model id typed). Set here, since the picker and the bar's other boxes follow them.
    provider_box = gr.Dropdown(
        choices=[
            (
                p.label
                if p in ready
                else say.add(f"provider.{p.id}", *(f"{p.label} {suffix}" for suffix in say.pair("your_key_suffix"))),
                p.id,
            )
            for p in offered_providers(settings)
        ],
        value=default.id if default else None,
        label=say("provider"),
        elem_id="provider",
        render=False,
    )
    model_box = gr.Dropdown(
        choices=[initial_model] if initial_model else [],
        value=initial_model or None,
        label=say("model"),
        info=say("model_info"),
        allow_custom_value=True,
        filterable=True,
        elem_id="model",
        render=False,
    )
    levels = service.info(default.id, initial_model).reasoning_effort if default else ()
    effort_box = gr.Dropdown(
        choices=[(say("model_default"), "")] + [(lv, lv) for lv in levels],
        value="",
        label=say("reasoning_effort"),
        show_label=False,
        container=False,
        visible=bool(levels),
        min_width=120,
        scale=1,
        elem_id="reasoning-effort",
    )
    search_shown, options_shown = search_update(default.id if default else None)
    search_box = gr.Dropdown(
        choices=search_shown["choices"],
        value="",
        label=say("search_label"),
        show_label=False,
        container=False,
        visible=search_shown["visible"],
        min_width=200,  # (its longest choice whole: "Chercher sur le web et X")
        scale=1,
        elem_id="search",
    )
    shown = [model_facts(service, default.id if default else None, initial_model, language) for language in ("en", "fr")]
    facts = gr.Markdown(say.add("model_facts.opening", *shown) if any(shown) else "", elem_id="model-facts", min_height=0)
    return ModelBar(picker, provider_box, model_box, effort_box, search_box, facts, initial_model, options_shown["visible"])


@dataclass(frozen=True)
class PresetPins:
    """The person's pinned presets: a button that pins the chosen one (or unpins it), and a hidden
    box with their ids, as JSON, from this browser's storage (pin_preset.js)."""

    button: Any
    pinned: Any


PINNED_PRESETS_KEY = "causerie-pinned-presets"
PIN_PRESET_JS = script("pin_preset", key=PINNED_PRESETS_KEY)


def build_settings(
    service: ChatService, say: Labels, menu: PresetMenu, bar: ModelBar
) -> tuple[PageSettings, gr.Markdown, PresetPins]:
    """The settings drawer's components (inside a gr.Sidebar): with the model bar's, the page's
    settings; the session's totals box; and the preset's pin."""
    settings = service.settings
    ready = service.ready_providers()
    default = service.default_provider()
    with gr.Row():
        bar.provider.render()
        bar.model.render()
    # The key for that provider next to it: what a visitor with nothing set up looks for first.
    with gr.Accordion(say("your_key"), open=not ready or settings.public.require_user_key, elem_id="your-key"):
        # The note is the box's `info`, not a Markdown of its own: every component costs
        # each new visitor's page a little (bench/NOTES.md).
        key_box = gr.Textbox(
            "",
            type="password",
            label=say("key_box"),
            placeholder=say("key_placeholder"),
            info=_key_note(settings, say),
            elem_id="user-key",
            max_lines=1,
        )
        base_url_box = gr.Textbox(
            "",
            label=say("base_url"),
            placeholder=say("base_url_placeholder"),
            elem_id="base-url",
            max_lines=1,
            visible=settings.public.allow_custom_endpoints,
            info=say("base_url_info"),
        )
        key_for = gr.Textbox(default.id if default else "", visible=False)
    # X search's options in one box, in X's own search syntax: each block costs every new
    # page a little (bench/NOTES.md).
    x_options_box = gr.Textbox(
        "",
        label=say("x_options"),
        placeholder=say("x_options_placeholder"),
        elem_id="x-search",
        max_lines=1,
        visible=bar.x_options_shown,
    )
    with gr.Row(equal_height=True):
        preset_box = gr.Dropdown(
            choices=[(p.label, p.id) for p in menu.order],
            value=menu.default.id if menu.default else None,
            label=say("preset"),
            elem_id="preset",
            scale=4,
        )
        pin_preset = gr.Button(say("pin"), size="sm", elem_id="pin-preset", scale=1, min_width=0)
    pinned_presets = gr.Textbox("[]", visible=False)  # (as pin_preset.js says "none": no change, no request)
    system_box = gr.Textbox(
        value=menu.default.prompt if menu.default else "",
        label=say("system_prompt"),
        lines=4,
        max_lines=12,
        elem_id="system-prompt",
    )
    with gr.Accordion(say("parameters"), open=False):
        # Text boxes, not gr.Number: a Number box has no empty value (it sends 0 once the
        # panel is opened), and empty must mean the model's own default.
        temperature_box = gr.Textbox("", label=say("temperature"), placeholder=say("model_default"), elem_id="temperature")
        top_p_box = gr.Textbox("", label=say("top_p"), placeholder=say("model_default"), elem_id="top-p")
        max_tokens_box = gr.Textbox("", label=say("max_tokens"), placeholder=say("model_default"), elem_id="max-tokens")
    with gr.Accordion(say("pictures"), open=False, elem_id="picture-options"):
        picture_ratio = gr.Dropdown(
            [(say("picture_ratio.auto"), "")] + [(ratio, ratio) for ratio in ASPECT_RATIOS],
            value="",
            label=say("picture_ratio"),
            info=say("pictures_info"),
            elem_id="picture-ratio",
        )
        picture_count = gr.Dropdown(
            [str(n) for n in range(1, MAX_PICTURES + 1)], value="1", label=say("picture_count"), elem_id="picture-count"
        )
    totals_box = gr.Markdown(say("no_answers_yet"), elem_id="session-totals")
    if not settings.public.public:
        with gr.Accordion(say("other_providers"), open=not ready):
            gr.Markdown(say.add("providers_table", *(_not_ready_table(service, say, language) for language in ("en", "fr"))))
    page = PageSettings(
        provider=bar.provider,
        model=bar.model,
        reasoning_effort=bar.reasoning_effort,
        preset=preset_box,
        system_prompt=system_box,
        temperature=temperature_box,
        top_p=top_p_box,
        max_tokens=max_tokens_box,
        api_key=key_box,
        key_for=key_for,
        base_url=base_url_box,
        search=bar.search,
        x_options=x_options_box,
        picture_ratio=picture_ratio,
        picture_count=picture_count,
    )
    return page, totals_box, PresetPins(pin_preset, pinned_presets)


def examples_of(presets: list[Preset]) -> list[Preset]:
    """The presets whose example questions the empty chat offers: English ones, then French ones
    (the page shows those of its language: examples_css)."""
    return sorted((p for p in presets if p.example), key=lambda p: p.language != "en")


def example_questions(presets: list[Preset]) -> list[dict]:
    return [{"text": p.example} for p in examples_of(presets)]


def examples_css(presets: list[Preset]) -> str:
    """Gradio does not translate example questions; every language's are in the page, and the
    page's language (Gradio sets <html lang>) shows its own."""
    english = sum(p.language == "en" for p in examples_of(presets))
    return (
        f'html[lang^="fr"] #chatbot .examples .example:nth-child(-n+{english}) {{ display: none; }}\n'
        f'html:not([lang^="fr"]) #chatbot .examples .example:nth-child(n+{english + 1}) {{ display: none; }}\n'
    )


def same_preset_in(presets: dict[str, Preset], preset: Preset, language: str) -> Preset | None:
    """The preset written for the same use in another language (general-en and general-fr)."""
    stem = preset.id.rsplit("-", 1)[0]
    return next((p for p in presets.values() if p.language == language and p.id.rsplit("-", 1)[0] == stem), None)


def _not_ready_table(service: ChatService, say: Labels, language: str) -> str:
    english = language == "en"
    get_key = say.pair("get_a_key")[0 if english else 1]
    rows = [
        f"| {p.label} | {service.settings.what_to_set(p, language)}{f' ([{get_key}]({p.docs_url}))' if p.docs_url else ''} |"
        for p in PROVIDERS
        if not service.settings.is_ready(p)
    ]
    if not rows:
        return say.pair("every_provider_ready")[0 if english else 1]
    intro = "" if service.ready_providers() else f"**{words('failure', 'not_ready', {'why': 'nothing'}, language)}**\n\n"
    heads = [say.pair(key)[0 if english else 1] for key in ("table_provider", "table_to_use")]
    return intro + f"| {heads[0]} | {heads[1]} |\n|---|---|\n" + "\n".join(rows)


def _key_note(settings: Settings, say: Labels) -> Any:
    lead = (
        "key_note.own_only"
        if settings.public.require_user_key
        else "key_note.public"
        if settings.public.public
        else "key_note.local"
    )
    return say.add(
        "key_note", *(f"{first} {then}" for first, then in zip(say.pair(lead), say.pair("key_note.kept"), strict=True))
    )


def wire_presets(menu: PresetMenu, page: PageSettings, chatbot: gr.Chatbot, textbox: gr.MultimodalTextbox) -> None:
    """A preset chosen fills the system prompt and parameters; an example question goes into the
    box and chooses its preset. `.input`, not `.change`: opening a conversation sets the preset
    too, and must not overwrite the prompt it restores."""
    fields = [page.system_prompt, page.temperature, page.top_p, page.max_tokens]
    page.preset.input(menu.values, page.preset, fields, **QUICK)
    offered = examples_of(menu.order)

    def on_example(event: gr.SelectData):
        """An example question goes into the box (to send as it is, or change first), and its
        preset is chosen, so that the answer comes in the style it was written for."""
        if not isinstance(event.index, int) or not 0 <= event.index < len(offered):
            return (gr.skip(),) * 6
        preset = offered[event.index]
        return {"text": preset.example, "files": []}, preset.id, *menu.values(preset.id)

    chatbot.example_select(on_example, None, [textbox, page.preset, *fields], **QUICK)


def wire_preset_pins(menu: PresetMenu, page: PageSettings, pins: PresetPins, opened: Any) -> None:
    """The pin button keeps the chosen preset pinned in this browser (or unpins it); the menu lists
    the pinned ones first, from when the page has opened (`opened`: its last opening step, so
    that the opening's own menu in the page's language comes before)."""

    def reorder(kept: str, request: gr.Request):
        try:
            pinned = json.loads(kept or "[]")
        except ValueError:
            return gr.skip()
        ids = [p for p in pinned if isinstance(p, str) and p in menu.presets] if isinstance(pinned, list) else []
        return gr.update(choices=menu.choices(page_language(request), ids))

    pins.button.click(None, page.preset, pins.pinned, js=PIN_PRESET_JS, **QUICK)
    # Read from storage once the page has opened; `.change` runs only for a browser with pins.
    opened.then(None, None, pins.pinned, js=PIN_PRESET_JS, **QUICK)
    pins.pinned.change(reorder, pins.pinned, page.preset, **QUICK)


@dataclass(frozen=True)
class PresetBlanks:
    """Above the chat: a form for the blanks of the prompt (`{{target language}}`), shown while
    the prompt has any; filling it fills the prompt."""

    form: Any
    boxes: tuple[Any, ...]
    use: Any


def build_blanks(say: Labels) -> PresetBlanks:
    with gr.Column(visible=False, elem_id="preset-blanks") as form:
        gr.Markdown(say("blanks_intro"))
        with gr.Row(equal_height=True):
            boxes = tuple(gr.Textbox("", visible=False, max_lines=1, elem_id=f"blank-{i}") for i in range(MAX_BLANKS))
            use = gr.Button(say("blanks_use"), size="sm", variant="primary", scale=0, elem_id="fill-blanks")
    return PresetBlanks(form, boxes, use)


def wire_blanks(blanks_form: PresetBlanks, page: PageSettings) -> None:
    """The form follows the prompt (a preset chosen, an example, a conversation opened, typing);
    Enter in a box or the button puts what was typed in the prompt's blanks."""

    def follow(prompt: str) -> list:
        names = blanks(prompt)[:MAX_BLANKS]
        shown = [gr.update(visible=i < len(names), label=names[i] if i < len(names) else "", value="") for i in range(MAX_BLANKS)]
        return [gr.update(visible=bool(names)), *shown]

    def fill(prompt: str, *typed: str) -> str:
        names = blanks(prompt)[:MAX_BLANKS]
        return filled(prompt, dict(zip(names, typed, strict=False)))

    page.system_prompt.change(
        follow, page.system_prompt, [blanks_form.form, *blanks_form.boxes], trigger_mode="always_last", **QUICK
    )
    for trigger in (blanks_form.use.click, *(box.submit for box in blanks_form.boxes)):
        trigger(fill, [page.system_prompt, *blanks_form.boxes], page.system_prompt, **QUICK)
