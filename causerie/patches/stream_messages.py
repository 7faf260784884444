"""Stream messages keep a chat marked free of files as it is, not copied by pydantic's dump."""

from __future__ import annotations

import functools
import logging

from . import Patch
from .chat_marks import FileFree
from .request_bodies import _plain_dumps


@functools.cache
def marked_chats_not_copied() -> None:
    """Gradio dumps every message of the data stream with pydantic before serialising it, and
    an answer's first update and its completion message carry the whole chat: two copies of it per
    answer. A streamed or completed message whose output holds a chat marked FileFree (plain JSON
    values only: render.FileFree) now keeps that chat as it is in its dump; the message's other
    values are dumped by pydantic, as before, and any call with arguments is pydantic's own."""
    from gradio.server_messages import ProcessCompletedMessage, ProcessGeneratingMessage

    if not _plain_dumps(ProcessGeneratingMessage, ProcessCompletedMessage):
        logging.getLogger(__name__).warning("Gradio's stream messages have changed; their chats keep being copied")
        return
    for message_class in (ProcessGeneratingMessage, ProcessCompletedMessage):
        message_class.model_dump = _message_dump(message_class)


def _message_dump(message_class):
    from typing import Any

    from pydantic import TypeAdapter

    fields, whole, anything = tuple(message_class.model_fields), message_class.model_dump, TypeAdapter(Any)

    def dumped_output(output: dict) -> dict:
        """As pydantic dumps the output (a dict of anything), the marked chats in its data kept."""
        return {
            key: [item if type(item) is FileFree else anything.dump_python(item) for item in value]
            if key == "data"
            else anything.dump_python(value)
            for key, value in output.items()
        }

    @functools.wraps(whole)
    def model_dump(self, **kwargs):
        data = None if kwargs else self.output.get("data")
        if type(data) is not list or not any(type(item) is FileFree for item in data):
            return whole(self, **kwargs)
        return {**{name: getattr(self, name) for name in fields}, "output": dumped_output(self.output)}

    return model_dump


PATCH = Patch(
    name="stream_messages",
    replaces=(
        "gradio.server_messages:ProcessGeneratingMessage.model_dump",
        "gradio.server_messages:ProcessCompletedMessage.model_dump",
    ),
    reads={
        "gradio.server_messages:ProcessGeneratingMessage": "e531edddfd0e843e",
        "gradio.server_messages:ProcessCompletedMessage": "150ac51497412393",
        "gradio.server_messages:BaseMessage": "675f3ed439654672",
    },
    verified_on="gradio 6.31.0",
    buys="two copies of the whole chat per answer (bench/NOTES.md)",
    upstream="none yet",
    apply=lambda _app: marked_chats_not_copied(),
)
