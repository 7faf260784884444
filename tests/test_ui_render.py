"""The chat's streamed events skip Gradio's post-processing, so what they yield must already be
exactly what the Chatbot would send to the browser."""

from __future__ import annotations

import gradio as gr

from causerie.answer import Answer
from causerie.events import Failure, Finish, ReasoningDelta, Status, TextDelta, Usage
from causerie.ui.render import message, render


def gradio_form(messages: list[dict]) -> list[dict]:
    return gr.Chatbot().postprocess(messages).model_dump()


def test_rendered_answers_are_in_the_form_the_chatbot_sends():
    thinking = Answer("xAI", "grok")
    for event in (ReasoningDelta("Let me see."), TextDelta("The answer is **42**.")):
        thinking.apply(event)
    waiting = Answer("Local (offline)", "smollm2")
    waiting.apply(Status("Waiting for Local (offline): 2 ahead of you."))
    failed = Answer("OpenAI", "gpt")
    for event in (TextDelta("Half"), Failure("cut_off", "The answer was cut off.")):
        failed.apply(event)
    done = Answer("Groq", "llama")
    for event in (TextDelta("Bonjour, voici $x^2$ et du `code`."), Usage(5, 7), Finish("stop")):
        done.apply(event)
    for answer in (thinking, waiting, failed, done):
        shown = [message("user", "A question?"), *render(answer)]
        assert shown == gradio_form(shown), answer
