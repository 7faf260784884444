"""A fake speech provider on loopback, in xAI's shape or OpenAI's, strict as their documentation
(provider-notes.md; vercel/ai's xAI and OpenAI clients and their fixtures).

- xAI (`shape="xai"`): `POST /v1/stt`, multipart, no `model`; optional fields `language`,
  `format`, `audio_format`, `sample_rate`, `multichannel`, `channels`, `diarize`, `filler_words`,
  `keyterm`, and `file` LAST (xAI refuses it elsewhere); answers `{text, language: "", duration}`
  (duration in seconds, rounded to 2 places). `POST /v1/tts`, JSON `{text, voice_id, language,
  output_format: {codec, sample_rate?, bit_rate?}, speed?}`, `text` at most 15,000 characters,
  `language` required; answers the audio itself (`audio/mpeg` or `audio/wav`); errors as
  `{"error": "..."}`.
- OpenAI (`shape="openai"`): `POST /v1/audio/transcriptions`, multipart with `model` and `file`
  required, `language`, `prompt`, `response_format` (json, text, verbose_json), `temperature`;
  answers `{text, usage}`: `{type: "duration", seconds}` (whisper-1), `{type: "tokens", ...}` (the
  gpt-4o models, no duration). `POST /v1/audio/speech`, JSON `{model,
  input, voice, response_format?, speed?, instructions?}`, `input` at most 4,096 characters;
  answers the audio itself (a WAV as OpenAI streams it: its header's sizes 0xFFFFFFFF).

The audio it reads back is a real WAV (the standard library's `wave`): a tone of `SPOKEN_S` seconds.
Every request is recorded (path, headers, form fields and their order, or the JSON body).
"""

from __future__ import annotations

import io
import math
import struct
import wave
from collections import deque
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .scripted_server import LoopbackServer

XAI_STT_FIELDS = {
    "language",
    "format",
    "audio_format",
    "sample_rate",
    "multichannel",
    "channels",
    "diarize",
    "filler_words",
    "keyterm",
    "file",
    "url",
}
XAI_TTS_FIELDS = {
    "text",
    "voice_id",
    "language",
    "output_format",
    "speed",
    "optimize_streaming_latency",
    "text_normalization",
    "with_timestamps",
}
XAI_VOICES = {"eve", "ara", "rex", "sal", "leo"}
XAI_CODECS = {"mp3", "wav", "pcm", "mulaw", "alaw"}
OPENAI_STT_FIELDS = {
    "model",
    "file",
    "language",
    "prompt",
    "response_format",
    "temperature",
    "timestamp_granularities[]",
    "include[]",
}
OPENAI_TTS_FIELDS = {"model", "input", "voice", "response_format", "speed", "instructions"}
OPENAI_VOICES = {"alloy", "ash", "ballad", "coral", "echo", "fable", "nova", "onyx", "sage", "shimmer", "verse", "marin", "cedar"}
OPENAI_FORMATS = {"mp3", "opus", "aac", "flac", "wav", "pcm"}


def tone_wav(seconds: float = 1.0, rate: int = 16_000, frequency: float = 440.0) -> bytes:
    """A mono 16-bit WAV of a sine tone."""
    frames = int(seconds * rate)
    samples = b"".join(struct.pack("<h", int(8000 * math.sin(2 * math.pi * frequency * i / rate))) for i in range(frames))
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(samples)
    return buffer.getvalue()


class SpeechServer(LoopbackServer):
    SPOKEN_S = 0.5

    def __init__(self, shape: str = "xai", host: str = "127.0.0.1") -> None:
        self.shape = shape
        self.requests: list[dict[str, Any]] = []
        self.errors: deque[tuple[int, Any]] = deque()
        """Replies to give instead, in order: (status, JSON payload)."""
        self.transcript = "Bonjour, quelle heure est-il ?"
        self.delay_s = 0.0
        self.serve(
            [
                Route("/v1/stt", self._xai_stt, methods=["POST"]),
                Route("/v1/tts", self._xai_tts, methods=["POST"]),
                Route("/v1/audio/transcriptions", self._openai_stt, methods=["POST"]),
                Route("/v1/audio/speech", self._openai_tts, methods=["POST"]),
                Route("/v1/models", self._models, methods=["GET"]),
                Route("/v1/language-models", self._models, methods=["GET"]),
            ],
            host,
        )

    def reset(self, shape: str | None = None) -> None:
        self.shape = shape or self.shape
        self.requests.clear()
        self.errors.clear()
        self.transcript = "Bonjour, quelle heure est-il ?"
        self.delay_s = 0.0

    async def _models(self, request: Request) -> Response:
        return JSONResponse({"object": "list", "data": [{"id": "grok-4.3"}], "models": [{"id": "grok-4.3"}]})

    async def _form(self, request: Request) -> dict[str, Any]:
        form = await request.form()
        record: dict[str, Any] = {"path": request.url.path, "headers": dict(request.headers), "order": [], "form": {}}
        for name, value in form.multi_items():
            record["order"].append(name)
            if hasattr(value, "read"):
                record["file"] = {"bytes": await value.read(), "filename": value.filename, "content_type": value.content_type}
            else:
                record["form"][name] = value
        self.requests.append(record)
        return record

    async def _xai_stt(self, request: Request) -> Response:
        if self.shape != "xai":
            return JSONResponse({"error": "Not found"}, status_code=404)
        if not request.headers.get("content-type", "").startswith("multipart/form-data"):
            self.requests.append({"path": request.url.path, "headers": dict(request.headers)})
            return JSONResponse({"error": "The request must be multipart/form-data."}, status_code=400)
        record = await self._form(request)
        if unknown := sorted(set(record["order"]) - XAI_STT_FIELDS):
            return JSONResponse({"error": f"Unknown field: {unknown[0]}"}, status_code=400)
        if "file" not in record or record["order"][-1] != "file":
            return JSONResponse({"error": "The file parameter must always be the last parameter."}, status_code=400)
        return await self._heard(record)

    async def _openai_stt(self, request: Request) -> Response:
        if self.shape != "openai":
            return JSONResponse({"error": {"message": "Not found"}}, status_code=404)
        record = await self._form(request)
        if unknown := sorted(set(record["order"]) - OPENAI_STT_FIELDS):
            return _openai_refusal(f"Unrecognized request argument supplied: {unknown[0]}")
        if "file" not in record or not record["form"].get("model"):
            return _openai_refusal("you must provide a model parameter and a file")
        if record["form"].get("response_format", "json") not in ("json", "text", "verbose_json"):
            return _openai_refusal("response_format must be json, text or verbose_json")
        return await self._heard(record)

    async def _heard(self, record: dict[str, Any]) -> Response:
        if self.errors:
            status, payload = self.errors.popleft()
            return JSONResponse(payload, status_code=status)
        if self.delay_s:
            import asyncio

            await asyncio.sleep(self.delay_s)
        data = record["file"]["bytes"]
        try:
            with wave.open(io.BytesIO(data)) as sound:
                seconds = sound.getnframes() / sound.getframerate()
        except (wave.Error, EOFError):
            seconds = 1.0  # (a compressed format: this fake does not decode it)
        if self.shape == "xai":
            return JSONResponse({"text": self.transcript, "language": "", "duration": round(seconds, 2)})
        if record["form"].get("model", "").startswith("gpt-4o"):  # (these bill tokens, and say no duration)
            usage = {
                "type": "tokens",
                "input_tokens": 30,
                "input_token_details": {"text_tokens": 0, "audio_tokens": 30},
                "output_tokens": 9,
                "total_tokens": 39,
            }
            return JSONResponse({"text": self.transcript, "usage": usage})
        return JSONResponse({"text": self.transcript, "usage": {"type": "duration", "seconds": math.ceil(seconds)}})

    async def _xai_tts(self, request: Request) -> Response:
        if self.shape != "xai":
            return JSONResponse({"error": "Not found"}, status_code=404)
        body = await self._json(request)
        if not isinstance(body, dict):
            return JSONResponse({"error": "The body must be a JSON object."}, status_code=400)
        if unknown := sorted(set(body) - XAI_TTS_FIELDS):
            return JSONResponse({"error": f"Unknown field: {unknown[0]}"}, status_code=400)
        text = body.get("text")
        if not isinstance(text, str) or not text or len(text) > 15_000:
            return JSONResponse({"error": "text is required, at most 15000 characters"}, status_code=400)
        if not isinstance(body.get("language"), str) or not body["language"]:
            return JSONResponse({"error": "language is required"}, status_code=400)
        if str(body.get("voice_id", "eve")).lower() not in XAI_VOICES:
            return JSONResponse({"error": "voice not found"}, status_code=400)
        codec = (body.get("output_format") or {}).get("codec", "mp3")
        if codec not in XAI_CODECS:
            return JSONResponse({"error": "unsupported codec"}, status_code=400)
        return await self._spoken(codec)

    async def _openai_tts(self, request: Request) -> Response:
        if self.shape != "openai":
            return JSONResponse({"error": {"message": "Not found"}}, status_code=404)
        body = await self._json(request)
        if not isinstance(body, dict):
            return _openai_refusal("The body must be a JSON object.")
        if unknown := sorted(set(body) - OPENAI_TTS_FIELDS):
            return _openai_refusal(f"Unrecognized request argument supplied: {unknown[0]}")
        if not body.get("model") or not isinstance(body.get("input"), str) or not body["input"] or len(body["input"]) > 4_096:
            return _openai_refusal("model and input (at most 4096 characters) are required")
        if body.get("voice") not in OPENAI_VOICES:
            return _openai_refusal("Invalid voice")
        codec = body.get("response_format", "mp3")
        if codec not in OPENAI_FORMATS:
            return _openai_refusal("Invalid response_format")
        return await self._spoken(codec)

    async def _json(self, request: Request) -> Any:
        try:
            body = await request.json()
        except ValueError:
            body = None
        self.requests.append({"path": request.url.path, "headers": dict(request.headers), "body": body})
        return body

    async def _spoken(self, codec: str) -> Response:
        if self.errors:
            status, payload = self.errors.popleft()
            return JSONResponse(payload, status_code=status)
        if self.delay_s:
            import asyncio

            await asyncio.sleep(self.delay_s)
        # A real WAV either way: the fake makes no MP3 (Chromium plays a WAV sent as audio/mpeg too).
        audio = tone_wav(self.SPOKEN_S)
        if self.shape == "openai" and codec == "wav":  # OpenAI streams its WAV: the header's sizes say 4 GB
            audio = audio[:4] + b"\xff\xff\xff\xff" + audio[8:40] + b"\xff\xff\xff\xff" + audio[44:]
        return Response(audio, media_type="audio/wav" if codec == "wav" else "audio/mpeg")


def _openai_refusal(message: str) -> Response:
    return JSONResponse({"error": {"message": message, "type": "invalid_request_error"}}, status_code=400)


def speech_requests(server: SpeechServer) -> list[dict]:
    return [r for r in server.requests if r["path"] != "/v1/models"]
