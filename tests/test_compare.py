"""Compare mode as plain Python and through the API: the rating maths against hand-worked
examples, the votes' store on SQLite and PostgreSQL, answers side by side from the scripted server
(two speeds and one failing), Stop, and /compare."""

from __future__ import annotations

import asyncio
import math
import random
import time
from contextlib import aclosing

import pytest

from causerie.answering.answer import Answer
from causerie.answering.options import ChatOptions
from causerie.compare.compare import Comparison, compare_once, side_by_side, split_ref
from causerie.compare.rating import Tally, Vote, games, leaderboard, preset_kind
from causerie.compare.votes import BallotBox
from causerie.config.store_urls import async_url
from causerie.events import Failure, TextDelta

from support.apps import run_async, with_service
from support.scripted_server import Reply, text_stream

TURNS = [{"role": "user", "content": "Which is faster?"}]


def by_model(board) -> dict:
    return {s.model: s for s in board.standings}


# -- the rating -----------------------------------------------------------------------------


def test_bradley_terry_matches_a_hand_worked_example():
    """Strengths 4 : 2 : 1 and games in exactly those ratios (A–B 2:1, B–C 2:1, A–C 4:1) satisfy
    the likelihood equations (A: 6 wins = 3·4/6 + 5·4/5; B: 3 = 3·2/6 + 3·2/3; C: 2 = 5·1/5 + 3·1/3),
    so the ratings are 400·log10 of 4, 2 and 1, centred on 1000: 1120.41, 1000, 879.59."""
    tallies = [
        Tally(("A", "B"), "0", 2),
        Tally(("A", "B"), "1", 1),
        Tally(("B", "C"), "0", 2),
        Tally(("C", "B"), "0", 1),
        Tally(("A", "C"), "0", 4),
        Tally(("C", "A"), "0", 1),
    ]
    ranked = leaderboard(tallies, prior=0, rounds=0).standings
    assert [s.model for s in ranked] == ["A", "B", "C"]
    assert [round(s.rating, 2) for s in ranked] == [1120.41, 1000.0, 879.59]
    a = ranked[0]
    assert (a.votes, a.wins, a.ties, a.losses) == (8, 6, 0, 2)


def test_the_prior_keeps_an_unbeaten_model_finite():
    """A beat B three times; with the prior's one tie (half a win each) that is 3.5 to 0.5:
    strengths 7 : 1, 400·log10(7) = 338.04 points apart."""
    ranked = by_model(leaderboard([Tally(("A", "B"), "0", 3)], prior=1, rounds=0))
    assert math.isclose(ranked["A"].rating - ranked["B"].rating, 400 * math.log10(7), abs_tol=1e-6)
    assert math.isclose(ranked["A"].rating + ranked["B"].rating, 2000, abs_tol=1e-6)


def test_ties_and_all_bad_are_half_a_win_each_and_a_best_of_three_beats_both_others():
    even = by_model(leaderboard([Tally(("A", "B"), "tie", 2), Tally(("B", "A"), "bad", 1)], rounds=0))
    assert math.isclose(even["A"].rating, 1000, abs_tol=1e-6) and even["A"].ties == 3
    three = by_model(leaderboard([Tally(("A", "B", "C"), "1", 2), Tally(("A", "B", "C"), "tie", 1)], rounds=0))
    # Counted per vote: B won two, each of A and C lost two; all three tied one.
    assert [(three[m].votes, three[m].wins, three[m].ties, three[m].losses) for m in "ABC"] == [
        (3, 0, 1, 2),
        (3, 2, 1, 0),
        (3, 0, 1, 2),
    ]
    assert sorted(games(Tally(("A", "B", "C"), "1", 1))) == [("B", "A", 1.0), ("B", "C", 1.0)]
    assert sorted(games(Tally(("A", "B", "C"), "tie", 1))) == [("A", "B", 0.5), ("A", "C", 0.5), ("B", "C", 0.5)]


def test_bootstrap_intervals_hold_the_rating_repeat_and_narrow_with_more_votes():
    few = [Tally(("A", "B"), "0", 6), Tally(("A", "B"), "1", 4), Tally(("B", "C"), "0", 6), Tally(("B", "C"), "1", 4)]
    many = [Tally(t.models, t.outcome, t.count * 20) for t in few]
    first, again = leaderboard(few), leaderboard(few)
    assert first == again  # seeded: the same votes show the same table
    for standing in first.standings:
        assert standing.low <= standing.rating <= standing.high
    width = {s.model: s.high - s.low for s in first.standings}
    assert all(s.high - s.low < width[s.model] / 2 for s in leaderboard(many).standings)


def test_a_model_missing_from_a_resample_does_not_pull_the_others_and_unlinked_models_are_apart():
    """C lost once to A; A and B are even over 200 votes. In resamples without C's one vote, C is
    not rated (not a rating of 1000 pulling the mean), so A and B keep their place on the scale."""
    board = leaderboard(
        [Tally(("A", "B"), "0", 100), Tally(("A", "B"), "1", 100), Tally(("C", "A"), "1", 1), Tally(("X", "Y"), "0", 5)]
    )
    ranked = by_model(board)
    assert set(ranked) == {"A", "B", "C"} and board.apart == 2 and board.votes == 201
    assert ranked["C"].low <= ranked["C"].rating <= ranked["C"].high < ranked["A"].rating
    assert abs(ranked["A"].rating - ranked["B"].rating) < 1e-6


def test_a_chain_of_models_is_rated_quickly():
    """Twenty models each beating the next: Newton's method needs a few steps (MM took thousands)."""
    chain = [Tally((f"m{i}", f"m{i + 1}"), "0", 3) for i in range(20)]
    started = time.process_time()
    board = leaderboard(chain)
    assert [s.model for s in board.standings] == [f"m{i}" for i in range(21)]
    assert time.process_time() - started < 5  # (about 0.1 s; the MM iteration took 28 s)


def test_a_model_reference_is_provider_colon_model_without_spaces():
    assert split_ref("openrouter:meta-llama/llama-3-8b-instruct:free") == ("openrouter", "meta-llama/llama-3-8b-instruct:free")
    for wrong in ("nocolon", ":m", "p:", "openai:a\nb", "openai:two words", 5):
        assert type(split_ref(wrong)) is Failure


def test_a_vote_names_an_outcome_its_models_have():
    with pytest.raises(ValueError):
        Vote("q", ("a:x", "b:y"), "2")
    with pytest.raises(ValueError):
        Vote("q", ("a:x",), "tie")
    assert preset_kind("letters-fr") == "letters" and preset_kind(None) == ""


# -- the votes' store -------------------------------------------------------------------------


def test_votes_are_kept_once_per_question_and_counted_by_preset(database_url):
    async def body():
        box = BallotBox(async_url(database_url))
        try:
            kept = [
                await box.record(Vote("q1", ("xai:grok", "openai:gpt"), "0", preset="letters")),
                await box.record(Vote("q1", ("xai:grok", "openai:gpt"), "1", preset="letters")),
                await box.record(Vote("q2", ("xai:grok", "openai:gpt"), "0", preset="code")),
                await box.record(Vote("q3", ("openai:gpt", "xai:grok"), "tie", preset="code")),
            ]
            return kept, await box.tallies(), await box.tallies("letters"), await box.board("code")
        finally:
            await box.close()

    kept, everything, letters, code = run_async(body())
    assert kept == [True, False, True, True]  # the second vote on q1 changed nothing
    assert sorted(everything, key=lambda t: (t.models, t.outcome)) == [
        Tally(("openai:gpt", "xai:grok"), "tie", 1),
        Tally(("xai:grok", "openai:gpt"), "0", 2),
    ]
    assert letters == [Tally(("xai:grok", "openai:gpt"), "0", 1)]
    assert (
        code.votes == 2 and code.standings[0].model == "xai:grok" and (code.standings[0].wins, code.standings[0].ties) == (1, 1)
    )


# -- side by side ------------------------------------------------------------------------------


def sides(*models: str) -> list[ChatOptions]:
    return [ChatOptions("openai", model) for model in models]


def queue_race(scripted) -> None:
    scripted.queue_for("fast", Reply(chunks=text_stream(*[f"f{n} " for n in range(5)]), delay=0.1))
    scripted.queue_for("slow", Reply(chunks=text_stream(*[f"s{n} " for n in range(5)]), delay=0.25))
    scripted.queue_for("broken", Reply.error(500, {"error": {"message": "upstream exploded"}}))


@pytest.mark.slow  # (waits on real time or starts processes: not in the fast loop)
def test_answers_run_at_once_and_one_failing_leaves_the_others(scripted):
    queue_race(scripted)

    async def body(service):
        seen = []
        async for answers in side_by_side(service, sides("fast", "slow", "broken"), [TURNS] * 3, interval_s=lambda: 0.05):
            seen.append(tuple((a.text, a.finished_at is not None) for a in answers))
        return seen, answers

    seen, answers = run_async(with_service(scripted, body))
    fast, slow, broken = answers
    assert fast.text == "f0 f1 f2 f3 f4 " and slow.text == "s0 s1 s2 s3 s4 " and not fast.failure and not slow.failure
    assert broken.failure is not None and broken.failure.kind == "server" and broken.text == ""
    # Together, not one after the other: the slow one had begun before the fast one ended.
    assert slow.first_token_at < fast.finished_at < slow.finished_at
    # Shown while the slow one was still writing: the fast one whole, its last words included.
    assert ("f0 f1 f2 f3 f4 ", True) in [fast_seen for fast_seen, (_, slow_done), _ in seen if not slow_done]
    assert [r["body"]["model"] for r in scripted.requests if r["path"] == "/v1/chat/completions"].count("fast") == 1


def test_stop_closes_every_sides_stream(scripted):
    for model in ("m1", "m2"):
        scripted.queue_for(model, Reply(chunks=text_stream(*[f"w{n} " for n in range(40)]), delay=0.1))

    async def body(service):
        async with aclosing(side_by_side(service, sides("m1", "m2"), [TURNS] * 2, interval_s=lambda: 0.01)) as updates:
            async for answers in updates:
                if all(a.text for a in answers):
                    break  # Stop: the page's generator is closed, and so this one
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and any(r["outcome"] == "open" for r in scripted.requests):
            await asyncio.sleep(0.02)
        return [r["outcome"] for r in scripted.requests if r["path"] == "/v1/chat/completions"]

    assert run_async(with_service(scripted, body)) == ["disconnected", "disconnected"]


def test_a_side_given_as_a_failure_keeps_it_and_the_others_answer(scripted):
    async def body(service):
        return await compare_once(service, [split_ref("no colon"), ChatOptions("nosuch", "m"), *sides("ok")], TURNS)

    bad, unknown, ok = run_async(with_service(scripted, body))
    assert bad.failure.kind == "bad_argument" and "provider:model" in bad.failure.message
    assert unknown.failure.kind == "not_ready" and "nosuch" in unknown.failure.message
    assert ok.text == "Hello there!"


def test_each_side_keeps_its_own_conversation_and_a_vote_is_once_per_whole_answer():
    comparison = Comparison.start(["a:1", "b:2", "c:3"], blind=True, shuffle=random.Random(3))
    assert sorted(comparison.models) == ["a:1", "b:2", "c:3"] and not comparison.revealed
    orders = {Comparison.start(["a:1", "b:2"], blind=True).models for _ in range(40)}
    assert len(orders) == 2  # A is not always the first one picked

    def answer(text: str, failed: bool = False) -> Answer:
        made = Answer()
        if text:
            made.apply(TextDelta(text))
        if failed:
            made.apply(Failure("server"))
        return made

    first = comparison.asked("Q1", "code")
    assert first.preset == "code"
    answered = first.with_answers([answer("x1"), answer("y1"), answer("", failed=True)], ended=False)
    assert answered.turns[0] == ({"role": "user", "content": "Q1"}, {"role": "assistant", "content": "x1"})
    assert answered.turns[2] == ()  # nothing written: the question is not left unanswered in its history
    assert not answered.may_vote
    whole = first.with_answers([answer("x1"), answer("y1"), answer("z1")], ended=True)
    assert whole.may_vote and not whole.voted_for().may_vote and whole.voted_for().revealed
    second = whole.voted_for().asked("Q2")
    assert second.question_id != whole.question_id and len(second.turns[1]) == 3
    # Once the names show, no more votes in this comparison (they would not be blind).
    assert not second.with_answers([answer("x2"), answer("y2"), answer("z2")], ended=True).may_vote
    shown = Comparison.start(["a:1", "b:2"], blind=False).asked("Q")
    assert shown.models == ("a:1", "b:2") and not shown.with_answers([answer("x"), answer("y")], ended=True).may_vote


# -- /compare ------------------------------------------------------------------------------------


@pytest.mark.slow  # (waits on real time or starts processes: not in the fast loop)
def test_compare_api_answers_every_model_in_about_the_time_of_the_slowest(api, scripted):
    queue_race(scripted)
    started = time.perf_counter()
    result = api.predict("Which is faster?", ["openai:fast", "openai:slow", "openai:broken", "nosuch:x"], api_name="/compare")
    took = time.perf_counter() - started
    assert [entry["model"] for entry in result] == ["openai:fast", "openai:slow", "openai:broken", "nosuch:x"]
    fast, slow, broken, unknown = result
    assert fast["answer"] == "f0 f1 f2 f3 f4 " and fast["error"] is None and fast["timings"]["ttft_s"] is not None
    assert slow["answer"] == "s0 s1 s2 s3 s4 " and slow["timings"]["total_s"] > fast["timings"]["total_s"]
    assert "upstream exploded" in broken["error"] and broken["answer"] == ""
    assert "Unknown provider 'nosuch'" in unknown["error"]
    assert set(fast) == {"model", "answer", "error", "timings", "usage", "cost_usd", "finish_reason"}
    assert took < fast["timings"]["total_s"] + slow["timings"]["total_s"]  # at once, not one after the other


def test_compare_api_refuses_a_wrong_models_argument_by_name(api):
    from gradio_client.exceptions import AppError

    for wrong in ([], "openai:a", ["a:1"] * 5, [1, 2]):
        with pytest.raises(AppError, match="'models' must be a list of 1 to 4"):
            api.predict("Hi", wrong, api_name="/compare")
