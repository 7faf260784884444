"""Voice through the running app's API (/transcribe and /speak), with gradio_client over real HTTP,
against the fake speech provider; and the same as curl sends it (the API's own HTTP)."""

from __future__ import annotations

import io
import wave
from pathlib import Path

import httpx
import pytest
from gradio_client import handle_file

from support.apps import RunningApp
from support.keys import SERVER_KEY, VISITOR_KEY
from support.speech_server import SpeechServer, speech_requests, tone_wav


@pytest.fixture(scope="module")
def voice_app(_speech):
    running = RunningApp({"XAI_API_KEY": SERVER_KEY, "XAI_BASE_URL": _speech.base_url})
    yield running
    running.close()


@pytest.fixture
def client(voice_app, speech):
    return voice_app.client()


def wav_file(tmp_path: Path, seconds: float = 1.2, name: str = "question.wav") -> str:
    path = tmp_path / name
    path.write_bytes(tone_wav(seconds))
    return str(path)


def test_transcribe_returns_the_text_and_keeps_no_recording(client, speech, voice_app, tmp_path):
    text = client.predict(handle_file(wav_file(tmp_path)), None, None, "fr", None, api_name="/transcribe")
    assert text == "Bonjour, quelle heure est-il ?"
    (sent,) = speech_requests(speech)
    assert sent["path"] == "/v1/stt" and sent["form"] == {"language": "fr"} and sent["file"]["bytes"] == tone_wav(1.2)
    upload_dir = voice_app.service.settings.upload_dir
    assert not [p for p in upload_dir.rglob("question.wav")]  # (Gradio's copy, deleted once heard)


def test_transcribe_uses_the_callers_own_key(client, speech, tmp_path):
    client.predict(handle_file(wav_file(tmp_path)), "xai", None, None, VISITOR_KEY, api_name="/transcribe")
    (sent,) = speech_requests(speech)
    assert sent["headers"]["authorization"] == f"Bearer {VISITOR_KEY}" and sent["order"] == ["file"]


def test_speak_returns_one_audio_file_made_speakable(client, speech):
    made = client.predict("The **answer** is $x^2$.", None, None, "rex", "wav", None, api_name="/speak")
    (sent,) = speech_requests(speech)
    assert sent["body"] == {
        "text": "The answer is x squared.",
        "voice_id": "rex",
        "language": "auto",
        "output_format": {"codec": "wav"},
    }
    assert Path(made).read_bytes() == tone_wav(SpeechServer.SPOKEN_S)


def test_speak_joins_the_pieces_of_a_long_text_into_one_file(client, speech):
    """xAI reads 15,000 characters at once: a longer text takes two requests, and one WAV comes back."""
    text = "A sentence that is read aloud here. " * 500
    made = client.predict(text, None, None, None, "wav", None, api_name="/speak")
    sent = speech_requests(speech)
    assert len(sent) == 2 and all(len(r["body"]["text"]) <= 15_000 for r in sent)
    with wave.open(io.BytesIO(Path(made).read_bytes())) as joined:
        assert joined.getnframes() / joined.getframerate() == pytest.approx(2 * SpeechServer.SPOKEN_S)


@pytest.mark.parametrize(
    ("arguments", "named"),
    [
        (("Hi.", "xai", None, "nova", None, None), "eve, ara, rex, sal, leo"),
        (("Hi.", "xai", None, None, "ogg", None), "format"),
        (("", "xai", None, None, None, None), "text"),
        (("Hi.", "groq", None, None, None, None), "Groq does not read aloud here; name one that does: xai, openai"),
    ],
)
def test_speak_refuses_bad_arguments_by_name(client, speech, arguments, named):
    with pytest.raises(Exception, match=named):
        client.predict(*arguments, api_name="/speak")
    assert speech_requests(speech) == []


def test_transcribe_refuses_what_is_not_a_recording(client, speech, voice_app, tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("hello")
    with pytest.raises(Exception, match="wav"):
        client.predict(handle_file(str(notes)), None, None, None, None, api_name="/transcribe")
    with pytest.raises(Exception, match="language"):
        client.predict(handle_file(wav_file(tmp_path, name="klingon.wav")), None, None, "klingon", None, api_name="/transcribe")
    assert speech_requests(speech) == []
    # (a recording refused beside a bad argument is not kept either)
    assert not list(voice_app.service.settings.upload_dir.rglob("klingon.wav"))


def test_public_mode_caps_recordings_by_their_length(_speech, speech, tmp_path):
    running = RunningApp(
        {"XAI_API_KEY": SERVER_KEY, "XAI_BASE_URL": _speech.base_url, "PUBLIC_MODE": "1", "MAX_AUDIO_SECONDS": "1"}
    )
    try:
        with pytest.raises(Exception, match="MAX_AUDIO_SECONDS"):
            running.client().predict(handle_file(wav_file(tmp_path, 1.5)), None, None, None, None, api_name="/transcribe")
        assert speech_requests(speech) == []
    finally:
        running.close()


def test_speak_as_curl_asks_it(voice_app, speech):
    """The API's own HTTP, with only `text` given: the other arguments are completed as null."""
    response = httpx.post(voice_app.url + "gradio_api/call/speak", json={"data": ["Hello."]}, timeout=10)
    event_id = response.json()["event_id"]
    with httpx.stream("GET", voice_app.url + f"gradio_api/call/speak/{event_id}", timeout=10) as stream:
        body = "".join(stream.iter_text())
    assert "event: complete" in body and "speech.mp3" in body
    assert speech_requests(speech)[0]["body"]["output_format"] == {"codec": "mp3"}
