"""The owner's numbers for a period, from the answer records (history/store/usage_store.py): what
the owner's keys paid, by day, provider, model, tool and visitor; answers and errors by kind; time
to first token; the prompt cache's share; budget refusals. Plain Python over rows, no Gradio.

"Spent" counts what the owner pays for (`owner_pays`): answers with a visitor's own key are
counted as answers, not as the owner's money. A record's cost is the one its footer showed."""

from __future__ import annotations

import csv
import datetime
import io
import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any


def percentile(values: list[float], share: float) -> float | None:
    """The value below which `share` of them lie (nearest rank); None for none."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(share * len(ordered)) - 1))]


def _day(at: float) -> str:
    return datetime.datetime.fromtimestamp(at, datetime.UTC).date().isoformat()


@dataclass
class Report:
    answers: int = 0
    spent: float = 0.0
    """Dollars the owner's keys paid, as the answers' footers showed them."""
    unpriced: int = 0
    """Answers on the owner's keys with no cost known."""
    errors: Counter = field(default_factory=Counter)
    """Answers that ended in a failure, by kind ("limited.budget", "rate_limited"...)."""
    by_day: dict[str, list[float]] = field(default_factory=lambda: defaultdict(lambda: [0.0, 0]))
    by_provider: dict[str, list[float]] = field(default_factory=lambda: defaultdict(lambda: [0.0, 0]))
    by_model: dict[str, list[float]] = field(default_factory=lambda: defaultdict(lambda: [0.0, 0]))
    by_visitor: dict[str, list[float]] = field(default_factory=lambda: defaultdict(lambda: [0.0, 0]))
    tools: Counter = field(default_factory=Counter)
    ttft: list[float] = field(default_factory=list)
    prompt_tokens: int = 0
    cached_tokens: int = 0

    @property
    def budget_refusals(self) -> int:
        return sum(count for kind, count in self.errors.items() if kind.startswith("limited.budget"))

    @property
    def cache_share(self) -> float | None:
        return self.cached_tokens / self.prompt_tokens if self.prompt_tokens else None

    def ttft_p(self, share: float) -> float | None:
        return percentile(self.ttft, share)


def report(rows: Iterable[Mapping[str, Any]]) -> Report:
    made = Report()
    for row in rows:
        made.answers += 1
        status = row["status"]
        if status not in ("ok", "stopped"):  # (a Stop is the person's, not an error)
            made.errors[f"{status}.{row['why']}" if status == "limited" and row.get("why") else status] += 1
        elif row.get("ttft_s") is not None:
            made.ttft.append(row["ttft_s"])
        cost = row.get("cost_usd")
        if row.get("owner_pays"):
            if cost is None and status == "ok":
                made.unpriced += 1
            paid = cost or 0.0
            made.spent += paid
            for table, key in (
                (made.by_day, _day(row["at"])),
                (made.by_provider, row["provider"]),
                (made.by_model, f"{row['provider']}:{row['model']}"),
                (made.by_visitor, row["visitor"] or "?"),
            ):
                table[key][0] += paid
                table[key][1] += 1
        for part in (row.get("tools") or "").split():
            kind, _, count = part.partition(":")
            made.tools[kind] += int(count or 0)
        if row.get("pictures"):
            made.tools["pictures"] += row["pictures"]
        if row.get("prompt_tokens"):
            made.prompt_tokens += row["prompt_tokens"]
            made.cached_tokens += row.get("cached_tokens") or 0
    return made


def table(rows: Mapping[str, list[float]], limit: int = 50) -> list[list]:
    """A breakdown as rows for a table: name, dollars, answers, most spent first."""
    ordered = sorted(rows.items(), key=lambda item: (-item[1][0], item[0]))[:limit]
    return [[key, round(cost, 6), int(count)] for key, (cost, count) in ordered]


def as_csv(rows: Iterable[Mapping[str, Any]]) -> str:
    """The records, one line each (the time in UTC), for a spreadsheet."""
    out = io.StringIO()
    writer = None
    for row in rows:
        line = {"time_utc": datetime.datetime.fromtimestamp(row["at"], datetime.UTC).isoformat(timespec="seconds")}
        line.update({key: _cell(value) for key, value in row.items() if key != "at"})
        if writer is None:
            writer = csv.DictWriter(out, fieldnames=list(line))
            writer.writeheader()
        writer.writerow(line)
    return out.getvalue()


def _cell(value: Any) -> Any:
    """A value as a spreadsheet cell: text that a spreadsheet would run as a formula (a model id
    or provider a visitor's endpoint named "=HYPERLINK(…)") is quoted."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value
