"""Voice in a real Chromium, its microphone a WAV file (Chromium's fake capture device): a question
dictated into the box and sent, an answer read aloud and heard to its end in the page's player,
every answer read as it ends, the French page, a denied microphone said, and no microphone where
no provider transcribes. The chat is Mistral's (the scripted server, which neither transcribes nor
reads), so xAI's speech (the fake speech server) stands in, as on a server with both keys."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from support.apps import RunningApp
from support.browsers import CHROMIUM_ARGS, open_accordion, open_settings
from support.keys import SERVER_KEY
from support.scripted_server import Reply, text_stream
from support.speech_server import speech_requests, tone_wav

pytestmark = pytest.mark.browser

MIC_ARGS = ["--use-fake-device-for-media-stream", "--autoplay-policy=no-user-gesture-required"]


@pytest.fixture(scope="module")
def voice_app(_speech, _scripted):
    running = RunningApp(
        {
            "MISTRAL_API_KEY": SERVER_KEY,
            "MISTRAL_BASE_URL": _scripted.base_url,
            "XAI_API_KEY": SERVER_KEY,
            "XAI_BASE_URL": _speech.base_url,
            "DEFAULT_PROVIDER": "mistral",
        }
    )
    yield running
    running.close()


@pytest.fixture(scope="module")
def microphone(tmp_path_factory):
    path = tmp_path_factory.mktemp("microphone") / "question.wav"
    path.write_bytes(tone_wav(3.0, rate=48_000))
    return path


@pytest.fixture(scope="module")
def mic_browser(browser_type, microphone):
    """Chromium whose microphone plays `microphone`, the permission given as a person would."""
    browser = browser_type.launch(
        executable_path="/usr/bin/chromium",
        args=[*CHROMIUM_ARGS, *MIC_ARGS, "--use-fake-ui-for-media-stream", f"--use-file-for-fake-audio-capture={microphone}"],
    )
    yield browser
    browser.close()


@pytest.fixture
def mic_page(mic_browser, voice_app, speech, scripted):
    context = mic_browser.new_context(locale="en-US")
    page = context.new_page()
    page.goto(voice_app.url)
    page.wait_for_selector("#chat-input textarea")
    yield page
    context.close()


def dictate(page: Page, seconds: float = 1.2) -> None:
    page.locator("#dictation .record-button").click()
    page.wait_for_timeout(int(seconds * 1000))
    page.locator("#dictation .stop-button").click()


def player(page: Page) -> dict:
    return page.evaluate(
        "() => { const p = window.causerieReadAloud.player; return {src: p.src, ended: p.ended, time: p.currentTime, "
        "error: p.error && p.error.code, heard: window.causerieReadAloud.seen.size}; }"
    )


def heard_to_the_end(page: Page) -> dict:
    page.wait_for_function(
        "() => { const s = window.causerieReadAloud; return s && s.seen.size > 0 && s.player.ended && !s.queue.length; }",
        timeout=15_000,
    )
    return player(page)


def test_a_dictated_question_lands_in_the_box_and_an_answer_is_heard(mic_page, speech, scripted):
    page = mic_page
    dictate(page)
    box = page.locator("#chat-input textarea")
    expect(box).to_have_value("Bonjour, quelle heure est-il ?", timeout=10_000)
    expect(page.locator("#voice-note")).to_contain_text("heard by xAI (Grok)")
    (heard,) = speech_requests(speech)
    assert heard["path"] == "/v1/stt" and heard["form"] == {"language": "en"}
    assert heard["file"]["filename"] == "audio.wav" and len(heard["file"]["bytes"]) > 10_000
    # Reviewed, then sent as typed.
    box.press("Enter")
    expect(page.locator("#chatbot .message-row.bot-row")).to_contain_text("Hello there!", timeout=10_000)
    assert scripted.requests[-1]["body"]["messages"][-1]["content"] == "Bonjour, quelle heure est-il ?"
    read = page.locator("#chatbot .causerie-read-aloud")
    expect(read).to_have_count(1)
    expect(read).to_have_attribute("aria-label", "Read aloud")
    read.click()
    played = heard_to_the_end(page)
    assert "gradio_api/file=" in played["src"] and played["error"] is None and played["time"] > 0.3
    spoken = speech_requests(speech)[-1]
    assert spoken["path"] == "/v1/tts" and spoken["body"]["text"] == "Hello there!" and spoken["body"]["language"] == "auto"
    expect(page.locator("#voice-note")).to_contain_text("Read by xAI (Grok) (eve)")
    open_settings(page)
    expect(page.locator("#session-totals")).to_contain_text("voice: 2")


def test_send_at_once_and_read_every_answer(mic_page, speech, scripted):
    page = mic_page
    open_settings(page)
    open_accordion(page, page.locator("#voice-options button").first)
    page.locator("#send-dictation input").check()
    page.locator("#read-every input").check()
    page.locator("#settings .toggle-button").first.click()
    dictate(page)
    # Sent without a keypress, answered, then read aloud as it ended.
    expect(page.locator("#chatbot .message-row.user-row")).to_contain_text("Bonjour, quelle heure est-il ?", timeout=10_000)
    expect(page.locator("#chatbot .message-row.bot-row")).to_contain_text("Hello there!", timeout=10_000)
    heard_to_the_end(page)
    assert [r["path"] for r in speech_requests(speech)] == ["/v1/stt", "/v1/tts"]


def ask(page: Page, text: str, rows: int) -> None:
    page.locator("#chat-input textarea").fill(text)
    page.locator("#chat-input textarea").press("Enter")
    expect(page.locator("#chatbot .message-buttons-left")).to_have_count(rows, timeout=10_000)
    expect(page.locator("#chat-input .stop-button")).to_have_count(0, timeout=10_000)


def test_each_speaker_reads_its_own_answer_and_a_second_tap_stops_it(mic_page, speech, scripted):
    """Three answers, the second a failure (a notice, no words): each 🔊 reads its own answer, and
    tapping the one reading again stops it, on the server too (no more pieces are asked for)."""
    page = mic_page
    scripted.replies.extend(
        [
            Reply(chunks=text_stream("The first answer.")),
            Reply(status=500, body=b'{"error": {"message": "boom"}}', content_type="application/json"),
            Reply(chunks=text_stream("The third answer. " + "It goes on for a while, sentence after sentence. " * 30)),
        ]
    )
    for rows, question in enumerate(("One?", "Two?", "Three?"), start=1):
        ask(page, question, rows)
    speakers = page.locator("#chatbot .causerie-read-aloud")
    expect(speakers).to_have_count(3)
    speakers.nth(1).click()
    expect(page.locator("#voice-note")).to_contain_text("nothing to read", timeout=10_000)
    assert speech_requests(speech) == []
    speakers.nth(0).click()
    heard_to_the_end(page)
    assert [r["body"]["text"] for r in speech_requests(speech)] == ["The first answer."]
    # A long answer is asked for piece by piece; a second tap stops the reading there.
    speech.delay_s = 0.6
    speakers.nth(2).click()
    expect(speakers.nth(2)).to_have_attribute("aria-label", "Stop reading", timeout=5_000)
    page.wait_for_function("() => window.causerieReadAloud.seen.size >= 2", timeout=10_000)
    speakers.nth(2).click()
    expect(speakers.nth(2)).to_have_attribute("aria-label", "Read aloud")
    asked = len(speech_requests(speech))
    page.wait_for_timeout(2_500)
    pieces = [r["body"]["text"] for r in speech_requests(speech)[1:]]
    assert pieces[0].startswith("The third answer.") and len(speech_requests(speech)) <= asked + 1
    assert " ".join(pieces) != speakable_text_of_third(), "the whole answer was read after Stop"


def speakable_text_of_third() -> str:
    from causerie.answering.speakable import speakable

    return speakable("The third answer. " + "It goes on for a while, sentence after sentence. " * 30)


def test_the_french_page_dictates_and_says_it_in_french(mic_browser, voice_app, speech):
    context = mic_browser.new_context(locale="fr-FR")
    page = context.new_page()
    page.goto(voice_app.url)
    page.wait_for_selector("#chat-input textarea")
    dictate(page)
    expect(page.locator("#voice-note")).to_contain_text("entendues par xAI (Grok)", timeout=10_000)
    assert speech_requests(speech)[0]["form"] == {"language": "fr"}
    context.close()


def test_a_denied_microphone_is_said(browser_type, voice_app, microphone):
    browser = browser_type.launch(executable_path="/usr/bin/chromium", args=[*CHROMIUM_ARGS, *MIC_ARGS])
    try:
        context = browser.new_context(locale="en-US")
        page = context.new_page()
        page.goto(voice_app.url)
        page.wait_for_selector("#chat-input textarea")
        page.locator("#dictation .record-button").click()
        expect(page.locator("#voice-note")).to_contain_text("The microphone is not allowed", timeout=10_000)
        expect(page.locator("#chat-input textarea")).to_be_editable()
    finally:
        browser.close()


def test_no_microphone_or_reading_without_a_speech_provider(page: Page, _scripted):
    running = RunningApp({"MISTRAL_API_KEY": SERVER_KEY, "MISTRAL_BASE_URL": _scripted.base_url})
    try:
        page.goto(running.url)
        page.wait_for_selector("#chat-input textarea")
        page.locator("#chat-input textarea").fill("Hi")
        page.locator("#chat-input textarea").press("Enter")
        expect(page.locator("#chatbot .message-row.bot-row")).to_contain_text("Hello there!", timeout=10_000)
        expect(page.locator("#dictation")).to_have_count(0)
        expect(page.locator("#chatbot .causerie-read-aloud")).to_have_count(0)
    finally:
        running.close()
