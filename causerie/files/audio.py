"""Recordings to transcribe: taken only from the upload folder, only in the formats every speech
API reads, measured from their own header before anything is sent (the standard library's `wave`
for WAV, tinytag for the compressed formats), and deleted once read: a recording is not kept.
"""

from __future__ import annotations

import io
import re
import time
import uuid
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tinytag import TinyTag

AUDIO_TYPES: dict[str, str] = {
    ".wav": "audio/wav",
    ".mp3": "audio/mpeg",
    ".ogg": "audio/ogg",
    ".opus": "audio/ogg",
    ".flac": "audio/flac",
    ".m4a": "audio/mp4",
}
"""What a recording may be (the browser's microphone gives WAV), and the type it is sent as."""
MAX_AUDIO_BYTES = 25_000_000
"""OpenAI's and Groq's limit for one file (xAI takes more)."""


class NotAudio(ValueError):
    """A file that cannot be transcribed; `why` names the reason (wording: "audio.<why>")."""

    def __init__(self, why: str, **params: Any) -> None:
        super().__init__(why)
        self.why, self.params = why, params


@dataclass(frozen=True)
class Recording:
    data: bytes
    name: str
    mime_type: str
    seconds: float


UPLOAD_FOLDER = re.compile(r"[0-9a-f]{32,64}")
"""Gradio keeps each file it takes in in a folder of its own, named by a hash: only a file in such a
folder is a recording this module reads and deletes (never the app's own pictures or spoken
answers, nor anything else in the upload folder)."""


def audio_seconds(data: bytes, suffix: str) -> float:
    """How long the audio lasts, from its header (a WAV by the frames really there: OpenAI streams
    WAVs whose header says 4 GB); NotAudio when it cannot be read as `suffix`."""
    try:
        if suffix == ".wav":
            with wave.open(io.BytesIO(data)) as sound:
                rate, width = sound.getframerate(), sound.getsampwidth() * sound.getnchannels()
                frames = len(sound.readframes(sound.getnframes())) // width if width else 0
                return frames / rate if rate else 0.0
        duration = TinyTag.get(file_obj=io.BytesIO(data), tags=False).duration
    except Exception:  # (wave and tinytag raise many kinds on a broken file: each means unreadable)
        raise NotAudio("unreadable", suffix=suffix) from None
    if duration is None or duration != duration or duration < 0:
        raise NotAudio("unreadable", suffix=suffix)
    return float(duration)


def audio_type(name: str) -> str:
    suffix = Path(name).suffix.lower()
    if suffix not in AUDIO_TYPES:
        raise NotAudio("kind", name=name[:200], kinds=", ".join(sorted({s.lstrip(".") for s in AUDIO_TYPES})))
    return suffix


def _uploaded(raw_path: Any, upload_dir: Path) -> Path:
    """The file Gradio took in at `raw_path`, or NotAudio("missing")."""
    if not isinstance(raw_path, str) or not raw_path:
        raise NotAudio("missing")
    try:
        root, path = upload_dir.resolve(), Path(raw_path).resolve()
        if path.parent.parent != root or not UPLOAD_FOLDER.fullmatch(path.parent.name) or not path.is_file():
            raise NotAudio("missing")
    except (OSError, ValueError):
        raise NotAudio("missing") from None
    return path


def take_recording(raw_path: Any, upload_dir: Path, name: str | None = None) -> Recording:
    """The recording at `raw_path` (a file Gradio took in, else refused), read and then deleted,
    also when it cannot be transcribed. NotAudio says why not; a file that is no recording (by its
    name) is refused and left alone."""
    path = _uploaded(raw_path, upload_dir)
    shown = name or path.name
    suffix = audio_type(shown if Path(shown).suffix else path.name)
    try:
        if path.stat().st_size > MAX_AUDIO_BYTES:
            raise NotAudio("too_large", limit_mb=MAX_AUDIO_BYTES / 1e6)
        data = path.read_bytes()
        if not data:
            raise NotAudio("empty")
        seconds = audio_seconds(data, suffix)
        return Recording(data, "audio" + suffix, AUDIO_TYPES[suffix], seconds)
    finally:
        path.unlink(missing_ok=True)


def discard_recording(raw_path: Any, upload_dir: Path) -> None:
    """Deletes a recording refused before it was read (a bad argument beside it): not kept either."""
    try:
        path = _uploaded(raw_path, upload_dir)
        if path.suffix.lower() in AUDIO_TYPES:
            path.unlink(missing_ok=True)
    except (NotAudio, OSError):
        pass


SWEEP_EVERY_S = 60.0


class SpokenAudioStore:
    """Answers read aloud, as files in the upload folder (Gradio serves them to the page and to
    API callers at an unguessable address), each deleted after `keep_s`."""

    def __init__(self, upload_dir: Path, keep_s: float = 3600.0) -> None:
        self.root = upload_dir / "spoken"
        self.keep_s = keep_s
        self._swept_at = -SWEEP_EVERY_S

    def keep(self, data: bytes, suffix: str) -> Path:
        """Writes the audio (call it off the event loop); its path."""
        self.root.mkdir(parents=True, exist_ok=True)
        if time.monotonic() - self._swept_at > SWEEP_EVERY_S:
            self._swept_at = time.monotonic()
            self.sweep()
        path = self.root / f"{uuid.uuid4().hex}{suffix}"
        path.write_bytes(data)
        return path

    def sweep(self, now: float | None = None) -> int:
        """Deletes the files older than keep_s; how many."""
        cutoff = (time.time() if now is None else now) - self.keep_s
        gone = 0
        for path in self.root.glob("*"):
            try:
                if path.stat().st_mtime < cutoff:
                    path.unlink()
                    gone += 1
            except OSError:
                continue
        return gone


def joined_audio(parts: list[bytes], suffix: str) -> bytes:
    """Pieces of speech as one file: MP3 frames follow one another as they are; WAV pieces (all
    made alike by one provider and voice) become one WAV."""
    if suffix != ".wav" or len(parts) == 1:
        return b"".join(parts)
    out = io.BytesIO()
    with wave.open(out, "wb") as joined:
        for number, part in enumerate(parts):
            with wave.open(io.BytesIO(part)) as piece:
                if number == 0:
                    joined.setparams(piece.getparams()._replace(nframes=0))  # (written as counted)
                joined.writeframes(piece.readframes(piece.getnframes()))
    return out.getvalue()
