"""A chat of plain text messages from the page is checked here, not by the Chatbot's pydantic model."""

from __future__ import annotations

import functools

from . import Patch
from .chat_marks import FileFree

_MESSAGE_KEYS = frozenset(("role", "content", "metadata", "options"))
_TEXT_PART_KEYS = frozenset(("type", "text"))


def plain_messages(value) -> FileFree | None:
    """A chat as Gradio's Chatbot data model would give it back after checking it, when every
    message is plain text (no file, no thought's metadata, no options); otherwise None, and
    Gradio's own model checks it (files are checked there: where they may be read from). Such a
    chat holds no file: it comes marked FileFree. A message that already has the model's four
    keys is given back as it is, not copied (equal to the model's copy of it)."""
    if type(value) is not list:
        return None
    out = FileFree()
    for message in value:
        if (
            type(message) is not dict
            or not message.keys() <= _MESSAGE_KEYS
            or type(message.get("role")) is not str
            or message.get("metadata") is not None
            or message.get("options") is not None
            or type(parts := message.get("content")) is not list
        ):
            return None
        for part in parts:
            if (
                type(part) is not dict
                or part.keys() != _TEXT_PART_KEYS
                or part["type"] != "text"
                or type(part["text"]) is not str
            ):
                return None
        out.append(
            message
            if len(message) == len(_MESSAGE_KEYS)
            else {"role": message["role"], "metadata": None, "content": parts, "options": None}
        )
    return out


@functools.cache
def plain_chats_unchecked() -> None:
    """Gradio checks a chat sent by the page against the Chatbot's pydantic model and dumps it
    back, even for a handler that takes the plain value: 1.1 ms for a chat of 100 turns, paid
    before the answer starts (now only for Retry, Edit, and a page asked for its chat: a question
    sends a mark of the chat, ChatHandlers.submit). For handlers without
    pre-processing, a chat of plain text messages is checked here instead (`plain_messages`,
    which gives the same value back, tests/test_ui_parts.py); anything else goes to Gradio's."""
    from gradio.blocks import Blocks
    from gradio.components import Chatbot

    original = Blocks.preprocess_data

    @functools.wraps(original)
    async def preprocess_data(self, block_fn, inputs, state, explicit_call: bool = False):
        if block_fn.preprocess or type(inputs) is not list:
            return await original(self, block_fn, inputs, state, explicit_call)
        plain = {}
        for i, block in enumerate(block_fn.inputs[: len(inputs)]):
            if (
                isinstance(block, Chatbot)
                and i not in block_fn.component_prop_inputs
                and (messages := plain_messages(inputs[i])) is not None
            ):
                plain[i] = messages
        if not plain:
            return await original(self, block_fn, inputs, state, explicit_call)
        inputs = list(inputs)
        for i in plain:
            inputs[i] = None  # nothing for Gradio to check
        processed = await original(self, block_fn, inputs, state, explicit_call)
        for i, messages in plain.items():
            processed[i] = messages
        return processed

    Blocks.preprocess_data = preprocess_data


PATCH = Patch(
    name="plain_chats",
    replaces=("gradio.blocks:Blocks.preprocess_data",),
    reads={
        "gradio.blocks:Blocks.preprocess_data": "6848b88bd303f76f",
        "gradio.components.chatbot:Message": "6e24e887f0ed0732",
        "gradio.components.chatbot:TextMessage": "55bc826bdecdc33e",
        "gradio.components.chatbot:ChatbotDataMessages": "d9c9fc38e43b1ddd",
    },
    verified_on="gradio 6.31.0",
    buys="1.1 ms per chat of 100 turns, before the answer starts (Retry, Edit, a page asked for its chat)",
    upstream="none yet",
    apply=lambda _app: plain_chats_unchecked(),
)
