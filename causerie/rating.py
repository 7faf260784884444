"""Ranking models from compare votes: a Bradley–Terry rating with bootstrap confidence intervals.

Each vote compares the models of one question. Its outcome becomes pairwise games: the best one
beat each of the others; a tie, or "all bad", is a tie between every pair (as LMSYS's arena counts
"both bad"). A tie counts half a win to each side. The ratings are the maximum-likelihood strengths
(Hunter's MM algorithm), on the Elo scale: 400 × log10 of the strength, the models' mean at 1000,
so a 400-point lead means ten wins for one loss. `prior` adds that many tied games between every
pair of models that met, so that a model that never lost has a finite rating.

The intervals come from resampling the votes (with replacement) and rating each sample again.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

OUTCOMES_ALL = ("tie", "bad")
"""Outcomes that are a tie between every pair; any other outcome is the index of the best model."""
BASE, SCALE = 1000.0, 400.0


@dataclass(frozen=True)
class Tally:
    """`count` votes on the same models (in the order they were shown) with the same outcome:
    "tie", "bad" or the shown position of the best one ("0" for A, "1" for B...)."""

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
    wins: int
    ties: int
    losses: int


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


def strengths(wins: np.ndarray, prior: float = 1.0, *, tolerance: float = 1e-10, max_rounds: int = 10_000) -> np.ndarray:
    """Bradley–Terry strengths (geometric mean 1) from `wins[i, j]`, i's wins over j (ties as
    halves), by minorization–maximization. Models in separate groups that never met keep their own
    scales; a model with no games stays at 1."""
    met = (wins + wins.T) > 0
    wins = wins + met * (prior / 2.0)
    played = wins + wins.T
    total_wins = wins.sum(axis=1)
    p = np.ones(len(wins))
    active = total_wins > 0
    for _ in range(max_rounds):
        sums = p[:, None] + p[None, :]
        denominator = (played / sums).sum(axis=1)
        updated = np.where(active & (denominator > 0), total_wins / np.where(denominator > 0, denominator, 1.0), p)
        updated = np.where(updated > 0, updated, 1e-12)  # a model that never won or tied (prior 0)
        updated /= np.exp(np.log(updated).mean())
        if np.max(np.abs(updated - p) / p) < tolerance:
            return updated
        p = updated
    return p


def ratings(wins: np.ndarray, prior: float = 1.0) -> np.ndarray:
    """On the Elo scale, mean BASE."""
    scores = SCALE * np.log10(strengths(wins, prior))
    return BASE + scores - scores.mean()


def leaderboard(tallies: Iterable[Tally], *, prior: float = 1.0, rounds: int = 200, seed: int = 0) -> list[Standing]:
    """The models ranked best first, with 95 % intervals from `rounds` bootstrap samples (the same
    votes give the same intervals: the sampling is seeded)."""
    tallies = [t for t in tallies if t.count > 0 and len(t.models) >= 2]
    if not tallies:
        return []
    names = sorted({model for tally in tallies for model in tally.models})
    index = {name: i for i, name in enumerate(names)}
    counts = np.array([t.count for t in tallies], dtype=float)
    pairs = _Games(tallies, index)
    rated = ratings(pairs.wins(counts), prior)
    total = int(counts.sum())
    rng = np.random.default_rng(seed)
    samples = np.array([ratings(pairs.wins(rng.multinomial(total, counts / total).astype(float)), prior)
                        for _ in range(rounds)]) if rounds else rated[None, :]
    low, high = np.percentile(samples, [2.5, 97.5], axis=0)
    record = {name: [0, 0, 0, 0] for name in names}  # votes, wins, ties, losses
    for tally in tallies:
        for model in tally.models:
            record[model][0] += tally.count
        for first, second, score in games(tally):
            if score == 0.5:
                record[first][2] += tally.count
                record[second][2] += tally.count
            else:
                record[first][1] += tally.count
                record[second][3] += tally.count
    standings = [Standing(name, float(rated[i]), float(low[i]), float(high[i]), *record[name]) for name, i in index.items()]
    return sorted(standings, key=lambda s: (-s.rating, s.model))
