"""Voice: recordings transcribed and answers read aloud, against a fake speech provider on loopback
as strict as xAI's and OpenAI's documentation (tests/support/speech_server.py): the exact requests,
the limits, the prices, whose key goes where, and the text made speakable."""

from __future__ import annotations

import secrets
from dataclasses import replace
from pathlib import Path

import pytest

from causerie.answering.limits import Visitor
from causerie.answering.options import ChatOptions
from causerie.answering.service import ChatService
from causerie.answering.speakable import FIRST_PIECE_CHARS, formula_words, pieces, speakable
from causerie.answering.voice import Heard, ReadAloud, SpokenPiece
from causerie.config.settings import load_settings
from causerie.events import Failure
from causerie.files.audio import NotAudio, SpokenAudioStore, audio_seconds, take_recording

from support.apps import run_async
from support.keys import SERVER_KEY, VISITOR_KEY
from support.speech_server import SpeechServer, speech_requests, tone_wav

ENV = {
    "xai": ("XAI_API_KEY", "XAI_BASE_URL"),
    "openai": ("OPENAI_API_KEY", "OPENAI_BASE_URL"),
    "groq": ("GROQ_API_KEY", "GROQ_BASE_URL"),
}
VISITOR = Visitor(session="s", ip="10.0.0.1")


def service_for(server: SpeechServer, tmp_path: Path, providers: tuple[str, ...] | None = None, **env: str) -> ChatService:
    keys: dict[str, str] = {}
    for provider in providers or (server.shape,):
        keys[ENV[provider][0]] = SERVER_KEY
        keys[ENV[provider][1]] = server.base_url
    settings = load_settings({**keys, **env})
    return ChatService(replace(settings, upload_dir=tmp_path))


def recording(tmp_path: Path, seconds: float = 1.5, name: str = "audio.wav", data: bytes | None = None) -> str:
    """A file as Gradio keeps one it took in: in a folder of its own, named by a hash."""
    path = tmp_path / secrets.token_hex(32) / name
    path.parent.mkdir()
    path.write_bytes(tone_wav(seconds) if data is None else data)
    return str(path)


def transcribe(service: ChatService, options: ChatOptions, path: str, visitor: Visitor = VISITOR, **kwargs) -> Heard | Failure:
    async def go():
        try:
            return await service.transcribe(options, path, visitor, **kwargs)
        finally:
            await service.aclose()

    return run_async(go())


def read(service: ChatService, options: ChatOptions, ask: ReadAloud, visitor: Visitor = VISITOR) -> list[SpokenPiece | Failure]:
    async def go():
        try:
            return [piece async for piece in service.read_aloud(options, ask, visitor)]
        finally:
            await service.aclose()

    return run_async(go())


# -- speech to text --


def test_xai_transcribes_in_its_exact_shape_and_the_recording_is_not_kept(speech, tmp_path):
    path = recording(tmp_path, 1.5)
    heard = transcribe(service_for(speech, tmp_path), ChatOptions("xai", "grok-4.3"), path, language="fr")
    assert heard.text == "Bonjour, quelle heure est-il ?" and heard.seconds == 1.5
    (sent,) = speech_requests(speech)
    assert sent["path"] == "/v1/stt" and sent["headers"]["authorization"] == f"Bearer {SERVER_KEY}"
    # No model (xAI's takes none), the language, and the file last, as xAI requires.
    assert sent["order"] == ["language", "file"] and sent["form"] == {"language": "fr"}
    assert sent["file"]["filename"] == "audio.wav" and sent["file"]["content_type"] == "audio/wav"
    assert sent["file"]["bytes"] == tone_wav(1.5)
    # Priced from the table ($0.10 an hour), and the recording is gone from the server.
    assert heard.cost_usd == pytest.approx(1.5 / 60 * 0.00167) and heard.cost_source == "price_table"
    assert heard.provider == "xAI (Grok)" and heard.model == "grok-stt"
    assert not Path(path).exists()


def test_openai_transcribes_in_its_shape(speech, tmp_path):
    speech.reset("openai")
    heard = transcribe(
        service_for(speech, tmp_path), ChatOptions("openai", "gpt-5-mini"), recording(tmp_path, 2.2), language="en"
    )
    (sent,) = speech_requests(speech)
    assert sent["path"] == "/v1/audio/transcriptions"
    assert sent["form"] == {"model": "gpt-4o-mini-transcribe", "response_format": "json", "language": "en"}
    assert sent["file"]["bytes"] == tone_wav(2.2)
    # gpt-4o-mini-transcribe reports tokens, no duration: priced by the recording's own length.
    assert heard.seconds == pytest.approx(2.2) and heard.cost_usd == pytest.approx(2.2 / 60 * 0.003)


def test_whisper_reports_the_seconds_it_bills(speech, tmp_path):
    speech.reset("openai")
    heard = transcribe(service_for(speech, tmp_path), ChatOptions("openai"), recording(tmp_path, 2.2), model="whisper-1")
    (sent,) = speech_requests(speech)
    assert sent["form"]["model"] == "whisper-1"
    assert heard.seconds == 3 and heard.cost_usd == pytest.approx(2.2 / 60 * 0.006)  # (billed within the header's)


def test_an_unknown_provider_is_refused_and_the_key_given_for_it_goes_nowhere(speech, tmp_path):
    """A misspelt provider with a key: refused, never the default provider with that key."""
    service = service_for(speech, tmp_path)
    path = recording(tmp_path)
    heard = transcribe(service, ChatOptions("opneai", api_key=VISITOR_KEY, asked_through="api"), path)
    assert type(heard) is Failure and "opneai" in heard.message
    assert speech_requests(speech) == [] and not Path(path).exists()
    (refused,) = read(service_for(speech, tmp_path), ChatOptions("opneai", api_key=VISITOR_KEY), ReadAloud("Hi."))
    assert type(refused) is Failure and speech_requests(speech) == []


def test_no_language_lets_the_provider_detect_it(speech, tmp_path):
    transcribe(service_for(speech, tmp_path), ChatOptions("xai"), recording(tmp_path))
    (sent,) = speech_requests(speech)
    assert sent["order"] == ["file"]


def test_a_chosen_provider_that_cannot_listen_hands_over_without_the_persons_key(speech, tmp_path):
    """Mistral chosen with the person's own key: xAI, ready on the server, transcribes with the
    server's key; the person's key never leaves for xAI."""
    service = service_for(speech, tmp_path)
    options = ChatOptions("mistral", "mistral-small-latest", api_key=VISITOR_KEY, base_url="https://example.invalid/v1")
    heard = transcribe(service, options, recording(tmp_path))
    assert heard.provider == "xAI (Grok)"
    (sent,) = speech_requests(speech)
    assert sent["headers"]["authorization"] == f"Bearer {SERVER_KEY}"
    assert VISITOR_KEY not in repr(sent)


def test_a_visitors_own_key_goes_to_the_provider_it_is_for(speech, tmp_path):
    service = ChatService(replace(load_settings({"XAI_BASE_URL": speech.base_url, "PUBLIC_MODE": "1"}), upload_dir=tmp_path))
    heard = transcribe(service, ChatOptions("xai", api_key=VISITOR_KEY), recording(tmp_path))
    assert type(heard) is Heard
    (sent,) = speech_requests(speech)
    assert sent["headers"]["authorization"] == f"Bearer {VISITOR_KEY}"


def test_nothing_ready_to_listen_says_what_to_set(speech, tmp_path):
    service = ChatService(replace(load_settings({"MISTRAL_API_KEY": SERVER_KEY}), upload_dir=tmp_path))
    path = recording(tmp_path)
    heard = transcribe(service, ChatOptions("mistral"), path)
    assert type(heard) is Failure and heard.kind == "speech"
    assert "XAI_API_KEY, OPENAI_API_KEY or GROQ_API_KEY" in heard.message
    assert not Path(path).exists()  # (not kept, even unheard)


def test_public_mode_caps_a_recordings_length_before_sending(speech, tmp_path):
    service = service_for(speech, tmp_path, PUBLIC_MODE="1", MAX_AUDIO_SECONDS="2")
    heard = transcribe(service, ChatOptions("xai"), recording(tmp_path, 2.5))
    assert type(heard) is Failure and heard.kind == "audio" and heard.params["why"] == "too_long"
    assert "MAX_AUDIO_SECONDS" in heard.message and "2 s at most" in heard.message
    assert speech_requests(speech) == []
    assert load_settings({"PUBLIC_MODE": "1"}).public.max_audio_seconds == 120
    assert load_settings({}).public.max_audio_seconds == 0


def test_each_transcription_counts_against_the_visitors_questions(speech, tmp_path):
    service = service_for(speech, tmp_path, PUBLIC_MODE="1", RATE_LIMIT_PER_MINUTE="1")

    async def twice():
        try:
            first = await service.transcribe(ChatOptions("xai"), recording(tmp_path), VISITOR)
            second = await service.transcribe(ChatOptions("xai"), recording(tmp_path, name="b.wav"), VISITOR)
            return first, second
        finally:
            await service.aclose()

    first, second = run_async(twice())
    assert type(first) is Heard
    assert type(second) is Failure and second.kind == "limited"
    assert len(speech_requests(speech)) == 1


@pytest.mark.parametrize("where", ["outside", "pictures", "spoken", "top"])
def test_only_a_file_gradio_took_in_is_read_and_deleted(speech, tmp_path, where):
    """The app's own files (pictures, spoken answers), and anything outside the upload folder, are
    never a recording: refused, and left where they are."""
    uploads = tmp_path / "uploads"
    folder = {"outside": tmp_path, "pictures": uploads / "pictures", "spoken": uploads / "spoken", "top": uploads}[where]
    folder.mkdir(parents=True, exist_ok=True)
    elsewhere = folder / "not-an-upload.wav"
    elsewhere.write_bytes(tone_wav(1.0))
    heard = transcribe(service_for(speech, uploads), ChatOptions("xai"), str(elsewhere))
    assert type(heard) is Failure and heard.params["why"] == "missing"
    assert elsewhere.exists() and speech_requests(speech) == []


@pytest.mark.parametrize(
    ("name", "data", "why", "deleted"),
    [
        ("notes.txt", b"hello", "kind", False),  # (no recording: perhaps someone's attachment, left alone)
        ("audio.wav", b"", "empty", True),
        ("audio.wav", b"RIFF0000WAVEjunk", "unreadable", True),
        ("audio.wav", b"RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x00\x00" + b"\x00" * 12, "unreadable", True),
        ("audio.mp3", b"\xff\xfb" + b"\x00" * 50, "unreadable", True),
    ],
)
def test_what_is_not_a_recording_is_refused_by_name(tmp_path, name, data, why, deleted):
    path = Path(recording(tmp_path, name=name, data=data))
    with pytest.raises(NotAudio) as refused:
        take_recording(str(path), tmp_path)
    assert refused.value.why == why and path.exists() is not deleted


def test_a_providers_refusal_is_worded_and_names_the_key(speech, tmp_path):
    speech.errors.append((401, {"code": "Unauthorized", "error": "Incorrect API key provided"}))
    heard = transcribe(service_for(speech, tmp_path), ChatOptions("xai"), recording(tmp_path))
    assert type(heard) is Failure and heard.kind == "auth" and "XAI_API_KEY" in heard.message
    assert SERVER_KEY not in heard.message


def test_audio_lengths_are_read_from_the_header():
    assert audio_seconds(tone_wav(0.75), ".wav") == pytest.approx(0.75)
    assert audio_seconds(tone_wav(0.75), ".mp3") == pytest.approx(0.75, abs=0.01)  # (sniffed: it is a WAV)
    with pytest.raises(NotAudio):
        audio_seconds(b"\x00" * 100, ".mp3")


# -- text to speech --


def test_xai_reads_aloud_in_its_exact_shape(speech, tmp_path):
    spoken = read(
        service_for(speech, tmp_path),
        ChatOptions("xai"),
        ReadAloud("**Hello** there.", voice="ara", language="en", spoken_as="en"),
    )
    (piece,) = spoken
    (sent,) = speech_requests(speech)
    assert sent["path"] == "/v1/tts" and sent["headers"]["authorization"] == f"Bearer {SERVER_KEY}"
    assert sent["body"] == {"text": "Hello there.", "voice_id": "ara", "language": "en", "output_format": {"codec": "mp3"}}
    assert piece.audio.audio == tone_wav(SpeechServer.SPOKEN_S) and piece.audio.mime_type == "audio/mpeg"
    assert piece.voice == "ara" and piece.audio.characters == len("Hello there.")
    assert piece.cost_usd == pytest.approx(len("Hello there.") * 4.20 / 1e6) and piece.cost_source == "price_table"


def test_openai_reads_aloud_in_its_shape(speech, tmp_path):
    speech.reset("openai")
    spoken = read(
        service_for(speech, tmp_path),
        ChatOptions("openai"),
        ReadAloud("Bonjour.", audio_format="wav", language="fr", spoken_as="fr"),
    )
    (sent,) = speech_requests(speech)
    assert sent["path"] == "/v1/audio/speech"
    assert sent["body"] == {"model": "gpt-4o-mini-tts", "input": "Bonjour.", "voice": "alloy", "response_format": "wav"}
    (piece,) = spoken
    # OpenAI's streamed WAV says 4 GB in its header: its length is the frames really there.
    assert piece.audio.seconds == pytest.approx(SpeechServer.SPOKEN_S)
    assert piece.cost_usd == pytest.approx(SpeechServer.SPOKEN_S / 60 * 0.015)


def test_a_text_of_no_given_language_lets_xai_tell(speech, tmp_path):
    read(service_for(speech, tmp_path), ChatOptions("xai"), ReadAloud("Guten Tag."))
    (sent,) = speech_requests(speech)
    assert sent["body"]["language"] == "auto"


def test_the_pages_voice_of_another_provider_leaves_the_readers_own(speech, tmp_path):
    """The page's choice is "provider:voice": OpenAI's voice, when xAI reads, is xAI's default."""
    read(service_for(speech, tmp_path), ChatOptions("xai"), ReadAloud("Hi.", voice="openai:nova"))
    read(service_for(speech, tmp_path), ChatOptions("xai"), ReadAloud("Hi.", voice="xai:rex"))
    assert [r["body"]["voice_id"] for r in speech_requests(speech)] == ["eve", "rex"]


def test_a_long_answer_is_read_in_pieces_the_first_short(speech, tmp_path):
    text = " ".join(f"Sentence number {n} of a long answer." for n in range(120))
    spoken = read(service_for(speech, tmp_path), ChatOptions("xai"), ReadAloud(text))
    sent = [r["body"]["text"] for r in speech_requests(speech)]
    assert len(sent) == len(spoken) >= 4
    assert len(sent[0]) <= FIRST_PIECE_CHARS and all(len(piece) <= 1_200 for piece in sent)
    assert " ".join(sent) == speakable(text) and [p.text for p in spoken] == sent


def test_a_voice_the_provider_lacks_is_refused_by_name(speech, tmp_path):
    (refused,) = read(service_for(speech, tmp_path), ChatOptions("xai"), ReadAloud("Hi.", voice="alloy"))
    assert type(refused) is Failure and "eve, ara, rex, sal, leo" in refused.message
    assert speech_requests(speech) == []


def test_a_failure_midway_keeps_the_pieces_before_it(speech, tmp_path):
    text = "First sentence here. " + "More words in the second part. " * 20
    service = service_for(speech, tmp_path)

    async def go():
        got = []
        try:
            async for piece in service.read_aloud(ChatOptions("xai"), ReadAloud(text), VISITOR):
                got.append(piece)
                speech.errors.extend([(500, {"error": "boom"})] * 8)  # (the pieces after the first fail)
        finally:
            await service.aclose()
        return got

    got = run_async(go())
    assert type(got[0]) is SpokenPiece and type(got[-1]) is Failure and got[-1].kind == "server"


def test_public_mode_reads_no_more_than_a_question_and_counts_it_in_the_hour(speech, tmp_path):
    service = service_for(speech, tmp_path, PUBLIC_MODE="1", MAX_INPUT_CHARS="100", TOKENS_PER_HOUR="1000")
    long = "A sentence to read. " * 10

    async def go():
        try:
            refused = [p async for p in service.read_aloud(ChatOptions("xai"), ReadAloud(long), VISITOR)]
            read_out = [p async for p in service.read_aloud(ChatOptions("xai"), ReadAloud("Short enough."), VISITOR)]
            return refused, read_out, service.allowance._tokens.total(VISITOR.names()[0], service.allowance.clock())
        finally:
            await service.aclose()

    (refused,), read_out, (counted, _) = run_async(go())
    assert refused.kind == "too_long" and "100" in refused.message
    assert type(read_out[0]) is SpokenPiece and counted == len("Short enough.") // 4 + 1


def test_public_mode_takes_only_wav_on_the_owners_key(speech, tmp_path):
    """A compressed file's length is what its own header says; a WAV's is its size."""
    service = service_for(speech, tmp_path, PUBLIC_MODE="1")
    path = recording(tmp_path, name="question.mp3", data=tone_wav(1.0))
    heard = transcribe(service, ChatOptions("xai"), path)
    assert type(heard) is Failure and heard.params["why"] == "wav_only" and speech_requests(speech) == []
    assert not Path(path).exists()


def test_a_refused_reading_leaves_nothing_counted(speech, tmp_path):
    service = service_for(speech, tmp_path, PUBLIC_MODE="1", RATE_LIMIT_PER_MINUTE="1")

    async def go():
        try:
            first = [p async for p in service.read_aloud(ChatOptions("xai"), ReadAloud("One."), VISITOR)]
            second = [p async for p in service.read_aloud(ChatOptions("xai"), ReadAloud("Two."), VISITOR)]
            return first, second
        finally:
            await service.aclose()

    first, (second,) = run_async(go())
    assert type(first[0]) is SpokenPiece and second.kind == "limited"


def test_the_dollar_budget_is_reserved_and_settled_at_the_price_of_what_was_heard(speech, tmp_path):
    service = service_for(speech, tmp_path, PUBLIC_MODE="1", MAX_TOKENS_CAP="1000", DOLLARS_PER_DAY_PER_VISITOR="1")

    async def go():
        try:
            heard = await service.transcribe(ChatOptions("xai"), recording(tmp_path, 6.0), VISITOR)
            await service.budgets.settled()
            return heard, await service.budgets.left(VISITOR)
        finally:
            await service.aclose()

    heard, (spent, limit, _) = run_async(go())
    assert heard.cost_usd == pytest.approx(6.0 / 60 * 0.00167) and spent == pytest.approx(heard.cost_usd) and limit == 1


def test_a_reading_over_the_budget_is_refused_and_recorded(speech, tmp_path):
    """Found by a stranger's probe: the refusal was then settled as if it were a reservation, which
    raised in the reading's clean-up (a traceback in the log each time) and lost its record."""
    service = service_for(speech, tmp_path, PUBLIC_MODE="1", MAX_TOKENS_CAP="1000", DOLLARS_PER_DAY="0.0001")
    records: list[dict] = []
    service.records.sink = records.append

    async def go():
        try:
            return [p async for p in service.read_aloud(ChatOptions("xai"), ReadAloud("Long. " * 2000), VISITOR)]
        finally:
            await service.aclose()

    (refused,) = run_async(go())
    assert type(refused) is Failure and refused.params["why"].startswith("budget") and speech_requests(speech) == []
    assert len(records) == 1 and records[0]["status"] == "limited"

    service = service_for(speech, tmp_path, PUBLIC_MODE="1", MAX_TOKENS_CAP="1000", DOLLARS_PER_DAY="0.00001")
    service.records.sink = records.append

    async def dictate():
        try:
            return await service.transcribe(ChatOptions("xai"), recording(tmp_path, 60.0), VISITOR)
        finally:
            await service.aclose()

    heard = run_async(dictate())  # (dictation had the same clean-up)
    assert type(heard) is Failure and heard.params["why"].startswith("budget") and speech_requests(speech) == []
    assert len(records) == 2 and records[1]["status"] == "limited"


def test_nothing_ready_to_read_says_what_to_set(tmp_path):
    service = ChatService(replace(load_settings({"GROQ_API_KEY": SERVER_KEY}), upload_dir=tmp_path))
    (refused,) = read(service, ChatOptions("groq"), ReadAloud("Hi."))
    assert refused.kind == "speech" and "XAI_API_KEY or OPENAI_API_KEY" in refused.message


def test_spoken_files_are_kept_an_hour(tmp_path):
    store = SpokenAudioStore(tmp_path, keep_s=3600)
    old = store.keep(b"old", ".mp3")
    new = store.keep(b"new", ".mp3")
    assert old.parent == tmp_path / "spoken" and old.read_bytes() == b"old"
    import os
    import time

    os.utime(old, (time.time() - 4000, time.time() - 4000))
    assert store.sweep() == 1 and not old.exists() and new.exists()


# -- speakable text --


def test_markdown_code_and_formulas_are_made_speakable_in_english_and_french():
    answer = (
        "# Energy\n\nThe **energy** is $E = mc^2$, see [the paper](https://example.org).\n\n"
        "```python\nprint('hi')\n```\n\n- one\n- two\n\n$$\\frac{a}{b} \\leq \\sqrt{x}$$\n"
    )
    said = speakable(answer, "en")
    assert said == (
        "Energy. The energy is E equals mc squared, see the paper. There is a code block here in python, shown on "
        "screen. one. two. a over b is at most the square root of x."
    )
    said_fr = speakable(answer, "fr")
    assert "E égale mc au carré" in said_fr and "Ici, un bloc de code en python, à lire à l'écran." in said_fr
    assert "a sur b inférieur ou égal à la racine carrée de x" in said_fr
    assert "print" not in said and "*" not in said and "$" not in said and "http" not in said


def test_formulas_in_words():
    assert formula_words(r"x_i^{n+1} + \alpha", "en") == "x sub i to the power n plus 1 plus alpha"
    assert formula_words(r"\frac{\frac{1}{2}}{3}", "en") == "1 over 2 over 3"
    assert formula_words(r"\int_0^1 f(x)\,dx", "fr").startswith("l'intégrale de indice 0")


def test_pieces_cut_at_sentences():
    assert pieces("One. Two. Three.") == ["One. Two. Three."]
    long = "A" * 3000
    cut = pieces(long)
    assert "".join(cut) == long and all(len(piece) <= 1_200 for piece in cut)
