"""What the patches know of a chat without looking inside: the mark of a chat that holds no file."""

from __future__ import annotations

import orjson


class FileFree(list):
    """A chat known to hold no attached file, and only plain JSON values (dicts, lists, strings,
    numbers, None): the chat an update sends to the page (render.message's dicts), or the one the
    page sent once checked (plain_chats.plain_messages). Gradio need not walk it looking for files
    (the file_walk patch), which it would on every streamed update, nor copy it to
    serialise it (the stream_messages patch). Its messages may be the very objects of
    the page's request: like every chat here, it is never edited in place."""


FILE_MARK = b"gradio.FileData"
"""What every file object Gradio looks for carries (its meta's _type)."""


def holds_files(messages: list[dict]) -> bool:
    """Whether Gradio would find a file anywhere in these messages (one C-level serialisation;
    anything that is not plain JSON counts as holding one). A chat marked FileFree holds none."""
    if isinstance(messages, FileFree):
        return False
    try:
        return FILE_MARK in orjson.dumps(messages)
    except TypeError:
        return True
