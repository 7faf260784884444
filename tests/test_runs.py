"""Answers that run on their own (causerie/runs.py), as plain Python with real streams from the
scripted server."""

from __future__ import annotations

import asyncio

import pytest

from causerie.answering.options import ChatOptions
from causerie.answering.runs import AnswerRuns, RunsFull

from support.apps import run_async, with_service
from support.scripted_server import Reply, text_stream

TURNS = [{"role": "user", "content": "Tell me a long story"}]
WORDS = [f"w{n} " for n in range(30)]


def slow_story(scripted, delay=0.03):
    scripted.queue(Reply(chunks=text_stream(*WORDS), delay=delay))


@pytest.mark.slow  # (waits on real time or starts processes: not in the fast loop)
def test_a_follower_leaving_does_not_stop_the_answer_and_a_new_one_gets_it_all(scripted):
    slow_story(scripted)

    async def body(service):
        runs = AnswerRuns(grace_s=30)
        run = runs.start("c1", None, service.answers(ChatOptions("openai", "m"), TURNS))
        seen = []
        async for answer in run.follow():
            seen.append(answer.text)
            if len(answer.text) > 20:
                break  # the page went away
        assert not run.done
        await asyncio.sleep(0.2)
        again = runs.get("c1", None)
        texts = [answer.text async for answer in again.follow()]
        return seen, texts, run

    seen, texts, run = run_async(with_service(scripted, body))
    assert texts[-1] == "".join(WORDS) and texts[0].startswith(seen[-1])  # so far, then the rest
    assert run.done and not run.stopped and scripted.last_outcome() == "completed"


@pytest.mark.slow  # (waits on real time or starts processes: not in the fast loop)
def test_stop_closes_the_providers_stream_and_the_grace_time_ends_an_unwatched_answer(scripted):
    async def body(service):
        runs = AnswerRuns(grace_s=0.3)
        slow_story(scripted, delay=0.1)
        run = runs.start("c1", None, service.answers(ChatOptions("openai", "m"), TURNS))
        async for answer in run.follow():
            if answer.text:
                break  # nobody watches now
        await asyncio.sleep(0.8)
        graced = (run.done, run.stopped, scripted.last_outcome())
        slow_story(scripted, delay=0.1)
        second = runs.start("c2", "user:alice", service.answers(ChatOptions("openai", "m"), TURNS))
        await asyncio.sleep(0.3)
        runs.stop("c2", "user:mallory")  # someone else's stop does nothing
        await asyncio.sleep(0.1)
        not_theirs = (second.done, runs.get("c2", "user:mallory"), runs.get("c2", None))
        runs.stop("c2", "user:alice")
        await asyncio.sleep(0.1)
        return graced, not_theirs, second

    graced, not_theirs, second = run_async(with_service(scripted, body))
    assert graced[0] and graced[1] and graced[2] == "disconnected"
    assert not_theirs == (False, None, None)
    assert second.done and second.stopped and scripted.settled_outcome() == "disconnected"


def test_runs_are_bounded_and_released_once_saved(scripted):
    async def body(service):
        runs = AnswerRuns(grace_s=30, max_runs=2)
        first = runs.start("a", None, service.answers(ChatOptions("openai", "m"), TURNS))
        [a async for a in first.follow()]
        slow_story(scripted, delay=0.2)
        runs.start("b", None, service.answers(ChatOptions("openai", "m"), TURNS))
        slow_story(scripted, delay=0.2)
        runs.start("c", None, service.answers(ChatOptions("openai", "m"), TURNS))  # the finished "a" makes room
        kept = (runs.get("a", None), len(runs))
        slow_story(scripted, delay=0.2)
        with pytest.raises(RunsFull):
            runs.start("d", None, service.answers(ChatOptions("openai", "m"), TURNS))
        runs.discard("b", None)  # saved (or deleted): stopped if need be, and let go
        await asyncio.sleep(0.1)
        return kept, runs.get("b", None), len(runs), runs.get("c", None).done

    kept, released, left, c_done = run_async(with_service(scripted, body))
    assert kept == (None, 2) and released is None and left == 1 and not c_done
    assert scripted.requests and scripted.last_outcome() in ("open", "completed", "disconnected")


def test_one_owner_may_have_a_few_answers_running_and_owners_never_meet(scripted):
    async def body(service):
        runs = AnswerRuns(grace_s=30, per_owner=2)
        for n in range(2):
            slow_story(scripted, delay=0.2)
            runs.start(f"c{n}", "browser:alice", service.answers(ChatOptions("openai", "m"), TURNS))
        slow_story(scripted, delay=0.2)
        with pytest.raises(RunsFull) as full:
            runs.start("c2", "browser:alice", service.answers(ChatOptions("openai", "m"), TURNS))
        # The same conversation id under another owner is another run: it stops nothing of alice's.
        slow_story(scripted, delay=0.2)
        bobs = runs.start("c0", "browser:bob", service.answers(ChatOptions("openai", "m"), TURNS))
        await asyncio.sleep(0.1)
        alices = runs.get("c0", "browser:alice")
        state = (full.value.per_owner, alices.done, bobs.done, runs.get("c0", "browser:bob") is bobs)
        for who, key in (("browser:alice", "c0"), ("browser:alice", "c1"), ("browser:bob", "c0")):
            runs.discard(key, who)
        return state

    assert run_async(with_service(scripted, body)) == (True, False, False, True)
