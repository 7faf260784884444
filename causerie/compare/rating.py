"""Compare mode's votes, and the models ranked from them: a Bradley–Terry rating with bootstrap
confidence intervals.

Each vote compares the models of one question. Its outcome becomes pairwise games: the best one
beat each of the others; a tie, or "all bad", is a tie between every pair (as LMSYS's arena counts
"both bad"). A tie counts half a win to each side. The ratings are the maximum-likelihood
strengths, on the Elo scale: 400 × log10 of the strength, the models' mean at 1000, so a 400-point
lead means ten wins for one loss. `prior` adds that many tied games between every pair of models
that met, so that a model that never lost has a finite rating. The fit is Newton's method on the
log-strengths (a few steps, however the models are linked; the textbook MM iteration needed
thousands for a chain of models).

The intervals come from resampling the votes (with replacement) and rating each sample again.
Only models linked by games (directly or through others) can be ranked against each other: the
table holds the largest such group.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

OUTCOMES_ALL = ("tie", "bad")
"""Outcomes that are a tie between every pair; any other outcome is the index of the best model."""
BASE, SCALE = 1000.0, 400.0
LOG_TO_ELO = SCALE / np.log(10.0)


@dataclass(frozen=True)
class Vote:
    question_id: str
    models: tuple[str, ...]
    """"provider:model" of each side, in the order shown (A, B, ...)."""
    outcome: str
    """"tie", "bad", or the shown position of the best side ("0" for A)."""
    preset: str = ""
    """The preset's kind (preset_kind)."""
    created_at: float = field(default_factory=time.time)

    def __post_init__(self) -> None:
        if len(self.models) < 2:
            raise ValueError("a vote compares at least two models")
        if self.outcome not in OUTCOMES_ALL and not (self.outcome.isdigit() and int(self.outcome) < len(self.models)):
            raise ValueError(f"no such outcome: {self.outcome!r}")


def preset_kind(preset_id: str | None) -> str:
    """What a preset is for, whatever its language: "letters" for letters-en and letters-fr."""
    return (preset_id or "").rsplit("-", 1)[0]


@dataclass(frozen=True)
class Tally:
    """`count` votes on the same models (in the order they were shown) with the same outcome."""

    models: tuple[str, ...]
    outcome: str
    count: int


@dataclass(frozen=True)
class Standing:
    model: str
    rating: float
    low: float
    """The confidence interval's ends (95 %), from the bootstrap."""
    high: float
    votes: int
    """Votes on questions this model answered; each is a win (it was best), a loss (another was)
    or a tie (a tie, or all bad)."""
    wins: int
    ties: int
    losses: int


@dataclass(frozen=True)
class Board:
    standings: list[Standing]
    votes: int
    """Votes counted (those among the ranked models)."""
    apart: int = 0
    """Models left out: never compared, even through others, with the ranked ones."""


def games(tally: Tally) -> list[tuple[str, str, float]]:
    """A vote's pairwise games as (first, second, score of first): 1 a win, 0.5 a tie."""
    models = tally.models
    if tally.outcome in OUTCOMES_ALL:
        return [(models[i], models[j], 0.5) for i in range(len(models)) for j in range(i + 1, len(models))]
    best = int(tally.outcome)
    return [(models[best], other, 1.0) for i, other in enumerate(models) if i != best]


class _Games:
    """The votes' pairwise games as flat arrays, so that a resampled count of each tally gives the
    wins matrix in one step (the bootstrap does it hundreds of times)."""

    def __init__(self, tallies: Sequence[Tally], index: dict[str, int]) -> None:
        self.size = len(index)
        tally_of, cell, score = [], [], []
        for number, tally in enumerate(tallies):
            for first, second, first_score in games(tally):
                i, j = index[first], index[second]
                tally_of += [number, number]
                cell += [i * self.size + j, j * self.size + i]
                score += [first_score, 1.0 - first_score]
        self.tally_of, self.cell, self.score = np.array(tally_of, dtype=int), np.array(cell, dtype=int), np.array(score)

    def wins(self, counts: np.ndarray) -> np.ndarray:
        """wins[i, j]: i's wins over j, ties as halves, with each tally counted `counts` times."""
        flat = np.bincount(self.cell, weights=counts[self.tally_of] * self.score, minlength=self.size * self.size)
        return flat.reshape(self.size, self.size)


def log_strengths(
    wins: np.ndarray, prior: float = 1.0, start: np.ndarray | None = None, *, tolerance: float = 1e-9, max_steps: int = 100
) -> np.ndarray:
    """Bradley–Terry log-strengths from `wins[i, j]` (i's wins over j, ties as halves), mean 0 over
    the models that played; NaN for a model with no games. Newton's method with step halving."""
    met = (wins + wins.T) > 0
    wins = wins + met * (prior / 2.0)
    played = wins + wins.T
    active = played.sum(axis=1) > 0
    theta = np.zeros(len(wins)) if start is None else np.where(np.isfinite(start), start, 0.0)

    def likelihood(t: np.ndarray) -> float:
        return float((wins * -np.logaddexp(0.0, t[None, :] - t[:, None])).sum())

    current = likelihood(theta)
    for _ in range(max_steps):
        p = 1.0 / (1.0 + np.exp(theta[None, :] - theta[:, None]))  # p[i, j]: i beats j
        gradient = (wins - played * p).sum(axis=1)
        weight = played * p * (1.0 - p)
        hessian = np.diag(weight.sum(axis=1)) - weight  # of the negative log-likelihood: a graph Laplacian
        # Its null space is each group's common shift: the least-squares step leaves it alone.
        step = np.linalg.lstsq(hessian, gradient, rcond=None)[0]
        size = 1.0
        while size > 1e-6:
            tried = theta + size * step
            if (value := likelihood(tried)) >= current - 1e-12:
                break
            size /= 2
        theta, current = tried, value
        if np.max(np.abs(size * step)) < tolerance:
            break
    theta = theta - theta[active].mean() if active.any() else theta
    return np.where(active, theta, np.nan)


def _groups(wins: np.ndarray) -> list[list[int]]:
    """The models linked by games, each group as indices, largest first."""
    linked = (wins + wins.T) > 0
    unseen, found = set(range(len(wins))), []
    while unseen:
        group, todo = [], [unseen.pop()]
        while todo:
            node = todo.pop()
            group.append(node)
            for other in np.flatnonzero(linked[node]):
                if int(other) in unseen:
                    unseen.remove(int(other))
                    todo.append(int(other))
        found.append(sorted(group))
    return sorted(found, key=lambda g: (-len(g), g))


def _records(tallies: Sequence[Tally]) -> dict[str, list[int]]:
    """Per model: votes, wins, ties, losses, counted per vote."""
    record: dict[str, list[int]] = {}
    for tally in tallies:
        for position, model in enumerate(tally.models):
            counts = record.setdefault(model, [0, 0, 0, 0])
            counts[0] += tally.count
            slot = 2 if tally.outcome in OUTCOMES_ALL else 1 if int(tally.outcome) == position else 3
            counts[slot] += tally.count
    return record


def leaderboard(tallies: Iterable[Tally], *, prior: float = 1.0, rounds: int = 200, seed: int = 0) -> Board:
    """The largest group of linked models, best first, with 95 % intervals from `rounds`
    bootstrap samples (the same votes give the same intervals: the sampling is seeded)."""
    tallies = [t for t in tallies if t.count > 0 and len(t.models) >= 2]
    if not tallies:
        return Board([], 0)
    names = sorted({model for tally in tallies for model in tally.models})
    index = {name: i for i, name in enumerate(names)}
    counts = np.array([t.count for t in tallies], dtype=float)
    group = _groups(_Games(tallies, index).wins(counts))[0]
    kept_names = {names[i] for i in group}
    apart = len(names) - len(group)
    tallies = [t for t in tallies if t.models[0] in kept_names]  # a tally's models are all in one group
    names = sorted(kept_names)
    index = {name: i for i, name in enumerate(names)}
    counts = np.array([t.count for t in tallies], dtype=float)
    pairs = _Games(tallies, index)
    fitted = log_strengths(pairs.wins(counts), prior)
    rated = BASE + LOG_TO_ELO * fitted
    total = int(counts.sum())
    rng = np.random.default_rng(seed)
    samples = np.full((max(rounds, 1), len(names)), np.nan)
    samples[0] = rated
    for row in range(rounds):
        sample = log_strengths(pairs.wins(rng.multinomial(total, counts / total).astype(float)), prior, start=fitted)
        present = np.isfinite(sample)
        # On the full fit's scale: the models present here keep the mean they have there.
        samples[row] = BASE + LOG_TO_ELO * (sample - np.nanmean(sample) + fitted[present].mean())
    low, high = np.nanpercentile(samples, [2.5, 97.5], axis=0)
    record = _records(tallies)
    standings = [Standing(name, float(rated[i]), float(low[i]), float(high[i]), *record[name]) for name, i in index.items()]
    return Board(sorted(standings, key=lambda s: (-s.rating, s.model)), total, apart)
