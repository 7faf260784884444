"""The speech wire: a recording into text (speech to text) and text into audio (text to speech),
each provider in its own shape (provider-notes.md, "Pictures, speech, tools").

- xAI: `POST /stt`, multipart, no model, `language` then `file` (xAI wants the file last),
  answering `{text, language, duration}`; `POST /tts`, JSON `{text, voice_id, language,
  output_format: {codec}}`, answering the audio itself.
- OpenAI-compatible (OpenAI, Groq, self-hosted servers): `POST /audio/transcriptions`, multipart
  `model, file, language?, response_format: json`, answering `{text}` (and a `usage` or
  `duration` some of them add); `POST /audio/speech`, JSON `{model, input, voice,
  response_format}`, answering the audio itself.

Both shapes are data (`SHAPES`, named by `Provider.transcription` and `Provider.speech`). One
request, one answer: a `Transcript` or a `SpokenAudio`, or a `Failure` worded like the chat's.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
import orjson

from ..events import Failure
from ..files.audio import NotAudio, Recording, audio_seconds
from .errors import classify_http_error, provider_message, redact
from .providers import Endpoint
from .single_requests import post_once, redirected

SPEECH_FORMATS: dict[str, tuple[str, str]] = {"mp3": (".mp3", "audio/mpeg"), "wav": (".wav", "audio/wav")}
"""What reading aloud may produce (both shapes make both; browsers play both), by name."""
MAX_SPOKEN_BYTES = 50_000_000
"""A spoken answer's audio, at most (a 15,000-character piece in WAV is about 30 MB)."""


@dataclass(frozen=True)
class TranscriptionRequest:
    endpoint: Endpoint
    model: str
    recording: Recording
    language: str | None = None
    """ISO 639-1 ("en", "fr"); None lets the provider detect it."""


@dataclass(frozen=True)
class Transcript:
    text: str
    seconds: float
    """The audio's length: the provider's figure when it gives one, else the header's."""


@dataclass(frozen=True)
class SpeechRequest:
    endpoint: Endpoint
    model: str
    text: str
    voice: str
    audio_format: str = "mp3"
    language: str | None = None


@dataclass(frozen=True)
class SpokenAudio:
    audio: bytes
    suffix: str
    mime_type: str
    seconds: float | None
    characters: int


def _xai_transcription_form(request: TranscriptionRequest) -> aiohttp.FormData:
    form = aiohttp.FormData()
    if request.language:
        form.add_field("language", request.language)
    recording = request.recording
    form.add_field("file", recording.data, filename=recording.name, content_type=recording.mime_type)  # (last)
    return form


def _openai_transcription_form(request: TranscriptionRequest) -> aiohttp.FormData:
    form = aiohttp.FormData()
    form.add_field("model", request.model)
    recording = request.recording
    form.add_field("file", recording.data, filename=recording.name, content_type=recording.mime_type)
    form.add_field("response_format", "json")
    if request.language:
        form.add_field("language", request.language)
    return form


def _xai_speech_body(request: SpeechRequest) -> dict[str, Any]:
    return {
        "text": request.text,
        "voice_id": request.voice,
        "language": request.language or "auto",
        "output_format": {"codec": request.audio_format},
    }


def _openai_speech_body(request: SpeechRequest) -> dict[str, Any]:
    return {"model": request.model, "input": request.text, "voice": request.voice, "response_format": request.audio_format}


@dataclass(frozen=True)
class SpeechShape:
    transcription_path: str
    transcription_form: Callable[[TranscriptionRequest], aiohttp.FormData]
    speech_path: str
    speech_body: Callable[[SpeechRequest], dict[str, Any]]
    max_characters: int
    """The most text one request reads aloud (xAI: 15,000; OpenAI: 4,096)."""


SHAPES: dict[str, SpeechShape] = {
    "xai": SpeechShape("/stt", _xai_transcription_form, "/tts", _xai_speech_body, 15_000),
    "openai": SpeechShape("/audio/transcriptions", _openai_transcription_form, "/audio/speech", _openai_speech_body, 4_096),
}


def _seconds_said(answer: Mapping[str, Any]) -> float | None:
    """The audio's length as the provider reports it: xAI's and Groq's `duration`, OpenAI's
    `usage: {type: "duration", seconds}`."""
    usage = answer.get("usage")
    for value in (answer.get("duration"), usage.get("seconds") if isinstance(usage, Mapping) else None):
        if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
            return float(value)
    return None


class SpeechClient:
    """Transcribes and reads aloud with the chat wire's connection pools (client.ChatClient.http)."""

    def __init__(self, http: Callable[..., aiohttp.ClientSession], *, timeout_s: float) -> None:
        self._http, self.timeout_s = http, timeout_s

    async def transcribe(self, request: TranscriptionRequest) -> Transcript | Failure:
        endpoint = request.endpoint
        shape = SHAPES[endpoint.provider.transcription or ""]
        sent = {"model": request.model, "language": request.language}
        answered = await self._post(endpoint, shape.transcription_path, shape.transcription_form(request), sent, 1_000_000)
        if type(answered) is Failure:
            return answered
        try:
            answer = orjson.loads(answered[0])
        except orjson.JSONDecodeError:
            answer = None
        text = answer.get("text") if isinstance(answer, Mapping) else None
        if not isinstance(text, str):
            return Failure("speech", {"why": "no_text", "provider": endpoint.provider.label})
        seconds = _seconds_said(answer)
        return Transcript(text.strip(), request.recording.seconds if seconds is None else seconds)

    async def speak(self, request: SpeechRequest) -> SpokenAudio | Failure:
        endpoint = request.endpoint
        shape = SHAPES[endpoint.provider.speech or ""]
        body = shape.speech_body(request)
        answered = await self._post(endpoint, shape.speech_path, orjson.dumps(body), body, MAX_SPOKEN_BYTES)
        if type(answered) is Failure:
            return answered
        audio, content_type = answered
        suffix, mime_type = SPEECH_FORMATS[request.audio_format]
        if not audio or content_type.startswith(("application/json", "text/")):
            return Failure("speech", {"why": "no_audio", "provider": endpoint.provider.label})
        try:
            seconds: float | None = audio_seconds(audio, suffix)
        except NotAudio:
            seconds = None
        return SpokenAudio(audio, suffix, mime_type, seconds, len(request.text))

    async def _post(
        self, endpoint: Endpoint, path: str, sent: aiohttp.FormData | bytes, shown: dict[str, Any], limit: int
    ) -> tuple[bytes, str] | Failure:
        """The answer's body and content type, or why there is none."""
        answered = await post_once(
            self._http, endpoint, endpoint.base_url.rstrip("/") + path, sent, timeout_s=self.timeout_s, limit=limit
        )
        if type(answered) is Failure:
            return answered
        status = answered.status
        if 300 <= status < 400:
            return redirected(endpoint, status)
        if status >= 400:
            detail = redact(provider_message(answered.body or b""), endpoint.api_key)[:300]
            return classify_http_error(endpoint, shown.get("model") or "", status, detail, sent=shown).failure
        if answered.body is None:
            return Failure("speech", {"why": "too_large", "provider": endpoint.provider.label, "limit_mb": limit / 1e6})
        return answered.body, answered.content_type
