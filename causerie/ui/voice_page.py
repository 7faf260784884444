"""Voice in the page: a microphone under the question box (what it hears lands in the box, to
review and send, or is sent at once), a 🔊 button beside each answer's Copy button that reads it
aloud (js/read_aloud.js plays the pieces one after another as they are made), and the voice
settings in the drawer. The work is answering/voice.py's; this is the wiring.

Nothing is offered that cannot work: no microphone without a provider that transcribes, no 🔊
without one that reads.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, replace
from typing import Any

import gradio as gr

from ..answering.answer import SessionTotals
from ..answering.options import InvalidOptions
from ..answering.service import ChatService
from ..answering.speakable import said_language
from ..answering.voice import ReadAloud
from ..events import Failure
from ..files.audio import discard_recording
from ..i18n.wording import words
from .labels import TEXTS, Labels
from .listeners import QUICK
from .panel import PageSettings
from .scripts import script
from .turns import content_text, is_ui_only
from .visitors import page_language, visitor_of

VOICE_CSS = """
/* The microphone sits in the question box, left of Send, as a round button (its name stays
   "Record" / "Stop" for screen readers): the box keeps its width on a phone too. */
#composer { position: relative; flex-wrap: nowrap !important; }
#dictation { position: absolute !important; right: 3.4rem; top: 50%; transform: translateY(-50%); z-index: 50;
  width: auto !important; min-width: 0 !important; flex: none !important; min-height: 0 !important;
  background: transparent !important; border: none !important; box-shadow: none !important; padding: 0 !important; }
#dictation .audio-container, #dictation .component-wrapper { min-height: 0 !important; padding: 0 !important;
  background: transparent !important; border: none !important; box-shadow: none !important; }
#dictation .mic-select, #dictation .top-panel, #dictation [data-testid="block-label"] { display: none !important; }
#dictation .controls, #dictation .wrapper { margin: 0 !important; padding: 0 !important; }
#dictation button { font-size: 0 !important; gap: 0 !important; margin: 0 !important; padding: 0 4px !important; }
#composer:has(#dictation) #chat-input textarea { padding-right: 2.6rem !important; }
#composer:has(#dictation) #chat-input textarea:placeholder-shown { white-space: nowrap; overflow: hidden;
  text-overflow: ellipsis; }
#voice-note { font-size: 0.85em; opacity: 0.85; min-height: 0; }
#read-aloud-go, #read-aloud-stop { display: none !important; }
#chatbot .causerie-read-aloud .causerie-icon { width: 14px; height: 14px; display: flex; }
"""


@dataclass(frozen=True)
class VoiceParts:
    note: Any
    mic: Any = None
    voice: Any = None
    read_every: Any = None
    send_at_once: Any = None
    which: Any = None
    """Which answer to read: (its number among the page's answers, the reading's number), as JSON."""
    go: Any = None
    stop: Any = None
    pieces: Any = None
    dictated: Any = None
    """What the last recording said ("" when it said nothing or failed): sent at once if asked."""


def build_microphone(service: ChatService, say: Labels) -> Any:
    """Beside the question box: the microphone, where a provider transcribes (else None)."""
    if not service.voice.listeners():
        return None
    return gr.Audio(
        sources=["microphone"],
        type="filepath",
        format="wav",
        waveform_options=gr.WaveformOptions(sample_rate=16_000, show_recording_waveform=False),
        label=say("dictate"),
        show_label=False,
        container=False,
        buttons=[],
        editable=False,
        elem_id="dictation",
        scale=0,
        min_width=0,
    )


def build_voice_controls(service: ChatService, mic: Any) -> VoiceParts:
    """Under the question box: the voice's notes, and the hidden parts dictation and reading aloud
    need (where a provider does them)."""
    note = gr.Markdown("", elem_id="voice-note")
    dictated = gr.Textbox("", visible=False) if mic is not None else None
    which = go = stop = pieces = None
    if service.voice.readers():
        which = gr.Textbox("", visible=False)
        go = gr.Button("read", elem_id="read-aloud-go")
        stop = gr.Button("stop", elem_id="read-aloud-stop")
        pieces = gr.Textbox("", visible=False, elem_id="spoken-pieces")
    return VoiceParts(note, mic, which=which, go=go, stop=stop, pieces=pieces, dictated=dictated)


def build_voice_settings(service: ChatService, say: Labels, parts: VoiceParts) -> VoiceParts:
    """In the drawer: the voice that reads, reading every answer as it ends, sending what was
    dictated at once."""
    readers, listeners = service.voice.readers(), service.voice.listeners()
    if not readers and not listeners:
        return parts
    voice = read_every = send_at_once = None
    with gr.Accordion(say("voice"), open=False, elem_id="voice-options"):
        if readers:
            choices = [(say("voice.default"), "")] + [
                (f"{name} · {provider.label}", f"{provider.id}:{name}") for provider in readers for name in provider.voices
            ]
            voice = gr.Dropdown(choices, value="", label=say("voice_choice"), elem_id="voice-choice")
            read_every = gr.Checkbox(False, label=say("read_every"), elem_id="read-every")
        if listeners:
            send_at_once = gr.Checkbox(False, label=say("send_dictation"), elem_id="send-dictation")
    return replace(parts, voice=voice, read_every=read_every, send_at_once=send_at_once)


def wire_voice(
    service: ChatService,
    parts: VoiceParts,
    page: PageSettings,
    chatbot: gr.Chatbot,
    textbox: gr.MultimodalTextbox,
    totals: gr.State,
    totals_box: gr.Markdown,
    ended: list,
) -> None:
    settings = service.settings
    queued = {"api_visibility": "private", "concurrency_limit": settings.concurrency_limit}
    asked = [*page.components(), *page.access()]

    def options_or_failure(values: dict):
        try:
            return page.options(values)
        except InvalidOptions as exc:
            return exc.failure

    if parts.mic is not None:

        async def dictate(values: dict, request: gr.Request):
            """The recording's words, added to what the box holds (its files kept)."""
            path, box, total = values[parts.mic], values[textbox] or {}, values[totals]
            language = page_language(request)
            if not path:
                return gr.skip(), gr.skip(), gr.skip(), gr.skip(), ""
            options = options_or_failure(values)
            if type(options) is Failure:
                await asyncio.to_thread(discard_recording, path, settings.upload_dir)
                heard = options
            else:
                heard = await service.transcribe(options, path, visitor_of(request, settings), language=language)
            if type(heard) is Failure:
                return gr.skip(), None, heard.said_in(language), gr.skip(), ""
            text = " ".join(part for part in (str(box.get("text") or "").rstrip(), heard.text) if part)
            note = words(
                "page",
                "heard",
                {"seconds": heard.seconds, "provider": heard.provider, "cost": _cost(heard.cost_usd, language)},
                language,
            )
            box = {"text": text, "files": box.get("files") or []}
            return box, None, note, total.plus_voice(heard.cost_usd), heard.text

        heard = parts.mic.stop_recording(
            dictate, {parts.mic, textbox, totals, *asked}, [textbox, parts.mic, parts.note, totals, parts.dictated], **queued
        ).then(_totals_text, totals, totals_box, **QUICK)
        if parts.send_at_once is not None:
            heard.then(None, [parts.send_at_once, parts.dictated], None, js=script("send_dictation"), **QUICK)

    if parts.go is not None:
        inputs = [parts.which, chatbot, totals, *((parts.voice,) if parts.voice is not None else ()), *asked]

        async def read(request: gr.Request, *given: Any):
            """The answer's pieces as they are made: their addresses, for the page's player."""
            values = dict(zip(inputs, given, strict=True))
            language = page_language(request)
            try:
                which, reading = (int(n) for n in json.loads(values[parts.which] or "[]"))
            except (TypeError, ValueError):
                which, reading = -1, 0
            answers = answer_texts(values[chatbot])
            total: SessionTotals = values[totals]
            if not 0 <= which < len(answers) or not answers[which].strip():
                yield gr.skip(), words("failure", "speech", {"why": "nothing"}, language), gr.skip()
                return
            options = options_or_failure(values)
            if type(options) is Failure:
                yield gr.skip(), options.said_in(language), gr.skip()
                return
            voice = (values.get(parts.voice) or None) if parts.voice is not None else None
            text = answers[which]
            # Code and formulas are said in the answer's language; the provider tells what it hears.
            ask = ReadAloud(text, voice=voice, language=said_language(text))
            urls: list[str] = []
            cost: float | None = None
            async for piece in service.read_aloud(options, ask, visitor_of(request, settings)):
                if type(piece) is Failure:
                    yield gr.skip(), piece.said_in(language), gr.skip()
                    break
                path = await asyncio.to_thread(service.spoken.keep, piece.audio.audio, piece.audio.suffix)
                urls.append("gradio_api/file=" + str(path))
                if piece.cost_usd is not None:
                    cost = (cost or 0.0) + piece.cost_usd
                note = words(
                    "page", "read", {"provider": piece.provider, "voice": piece.voice, "cost": _cost(cost, language)}, language
                )
                yield json.dumps({"reading": reading, "urls": urls}), note, gr.skip()
            if urls:
                yield gr.skip(), gr.skip(), total.plus_voice(cost)

        # The answer to read, and the reading's number, go in as `which` (read_aloud.js sets them).
        reading = parts.go.click(
            read,
            inputs,
            [parts.pieces, parts.note, totals],
            js="(which, ...rest) => [JSON.stringify(window.causerieReadAloud?.asked ?? []), ...rest]",
            trigger_mode="always_last",
            **queued,
        )
        reading.then(_totals_text, totals, totals_box, **QUICK).then(
            None, None, None, js="() => window.causerieReadAloud?.finished()", **QUICK
        )
        # Stop (a second tap, or another answer's 🔊): the reading ends, and so does what it costs.
        parts.stop.click(None, None, None, cancels=[reading], **QUICK)
        parts.pieces.change(None, parts.pieces, None, js="(given) => window.causerieReadAloud?.add(given)", **QUICK)
        if parts.read_every is not None:
            for stream in ended:
                stream.then(None, parts.read_every, None, js="(on) => { if (on) window.causerieReadAloud?.readLast(); }", **QUICK)


def answer_texts(chat: Any) -> list[str]:
    """The page's answers as its 🔊 buttons count them: one per run of the model's messages (as
    Gradio groups them, each with one row of buttons), its words only (no thinking, footer,
    notice or status)."""
    answers: list[str] = []
    previous = None
    for message in chat or ():
        role = message.get("role") if isinstance(message, dict) else getattr(message, "role", None)
        if role == "assistant":
            if previous != "assistant":
                answers.append("")
            if not is_ui_only(message):
                content = message.get("content") if isinstance(message, dict) else getattr(message, "content", None)
                answers[-1] = "\n\n".join(part for part in (answers[-1], content_text(content)) if part)
        previous = role
    return answers


def _cost(cost: float | None, language: str) -> str:
    """What a transcription or a reading cost, as its note says it (a few seconds of speech cost
    less than a hundredth of a cent)."""
    if cost is None:
        return ""
    return words("page", "voice_cost", {"cost": f"${cost:.4f}" if cost >= 0.0001 else "< $0.0001"}, language)


def _totals_text(total: SessionTotals, request: gr.Request) -> str:
    return total.summary(page_language(request))


def read_aloud_js() -> str:
    """The page's reading-aloud script, with its words in both languages."""

    def both(key: str) -> dict[str, str]:
        english, french = TEXTS[key]
        return {"en": english, "fr": french}

    return script("read_aloud", labels=both("read_aloud"), stopLabels=both("stop_reading"), micDenied=both("mic_denied"))
