"""When an answer's updates reach whoever shows it (answer.coalesced), with real streams from the
scripted server."""

from __future__ import annotations

import pytest

from causerie.answering.options import ChatOptions
from causerie.endpoints import reading

from support.apps import run_async, with_service
from support.scripted_server import Reply, text_stream

TURNS = [{"role": "user", "content": "Think it over"}]


@pytest.mark.slow  # (waits on real time or starts processes: not in the fast loop)
def test_the_tokens_before_a_pause_are_shown_before_the_pause_is(scripted, monkeypatch):
    """The first token goes out at once; the next ones are held for the update interval. When the
    model then goes quiet, they go out when that interval is up, not with the "paused" notice
    that the next event brings seconds later."""
    monkeypatch.setattr(reading, "TICK_S", 0.25)  # the same logic, four times faster
    monkeypatch.setattr(reading, "PAUSE_SHOWN_S", 1.0)
    scripted.queue(Reply(chunks=text_stream("First", " second", " third", " after the pause"), delay=0.02, pauses={3: 2.5}))

    async def body(service):
        return [(answer.text, answer.status) async for answer in service.answers(ChatOptions("openai", "m"), TURNS)]

    updates = run_async(with_service(scripted, body))
    paused = [number for number, (_, status) in enumerate(updates) if status is not None]
    assert paused and all(updates[n][1].params["why"] == "paused" for n in paused)
    before_pause = [number for number, (text, _) in enumerate(updates) if text == "First second third"]
    assert before_pause[0] < paused[0], updates  # shown while the model is quiet, before the notice
    assert updates[-1] == ("First second third after the pause", None)
