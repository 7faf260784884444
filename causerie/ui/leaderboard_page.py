"""The Leaderboard tab: the models ranked by Compare's votes (rating.py), filtered by preset,
and the same table as a CSV file."""

from __future__ import annotations

import csv
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr

from ..answering.prompts import Preset
from ..compare.rating import Standing, preset_kind
from ..compare.votes import BallotBox
from ..history.store.errors import StoreError
from ..i18n.wording import number, words
from .labels import Labels
from .listeners import QUICK
from .visitors import page_language

COLUMNS = ("rank", "model", "rating", "ci_low", "ci_high", "votes", "wins", "ties", "losses")
HEADERS = {
    "en": ("#", "Model", "Rating", "95 % interval", "Votes", "Wins", "Ties", "Losses"),
    "fr": ("#", "Modèle", "Score", "Intervalle à 95 %", "Votes", "Victoires", "Égalités", "Défaites"),
}
WIDTHS = ["44px", "220px", "72px", "140px", "72px", "96px", "90px", "90px"]


@dataclass(frozen=True)
class LeaderboardPage:
    preset: Any
    table: Any
    summary: Any
    download: Any


def preset_kinds(presets: list[Preset]) -> list[tuple[str, str]]:
    """(label, kind) for the filter: each kind once, named in every language it is written in."""
    names: dict[str, list[str]] = {}
    for preset in presets:
        found = names.setdefault(preset_kind(preset.id), [])
        if preset.name not in found:
            found.append(preset.name)
    return [(" / ".join(found), kind) for kind, found in names.items()]


def build_leaderboard(say: Labels, presets: list[Preset]) -> LeaderboardPage:
    gr.Markdown(say("leaderboard_about"))
    with gr.Row():
        preset = gr.Dropdown(
            [(say("leaderboard_all"), ""), *preset_kinds(presets)],
            value="",
            label=say("leaderboard_preset"),
            elem_id="leaderboard-preset",
            scale=3,
        )
        download = gr.DownloadButton(say("leaderboard_csv"), value=None, elem_id="leaderboard-csv", scale=1, size="sm")
    summary = gr.Markdown("", elem_id="leaderboard-summary")
    table = gr.Dataframe(
        headers=list(HEADERS["en"]), value=None, interactive=False, elem_id="leaderboard", wrap=True, column_widths=WIDTHS
    )
    return LeaderboardPage(preset, table, summary, download)


def rows(standings: list[Standing]) -> list[dict[str, Any]]:
    """The leaderboard as records (the CSV's rows, and the /leaderboard API's)."""
    return [
        {
            "rank": rank,
            "model": s.model,
            "rating": round(s.rating, 1),
            "ci_low": round(s.low, 1),
            "ci_high": round(s.high, 1),
            "votes": s.votes,
            "wins": s.wins,
            "ties": s.ties,
            "losses": s.losses,
        }
        for rank, s in enumerate(standings, 1)
    ]


KEEP_CSV_S = 600


def _cell(value: Any) -> Any:
    """A text cell that a spreadsheet would run as a formula (a model named "=cmd…") is quoted."""
    return "'" + value if isinstance(value, str) and value[:1] in ("=", "+", "-", "@") else value


def write_csv(records: list[dict[str, Any]], folder: Path, kind: str) -> Path:
    """A file of its own for each call (Gradio copies it for the download): another visitor's
    call never rewrites one being downloaded. Files older than ten minutes go."""
    now = time.time()
    for old in folder.glob("leaderboard-*.csv"):
        if now - old.stat().st_mtime > KEEP_CSV_S:
            old.unlink(missing_ok=True)
    descriptor, name = tempfile.mkstemp(prefix=f"leaderboard-{kind or 'all'}-", suffix=".csv", dir=folder)
    with open(descriptor, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows({key: _cell(value) for key, value in record.items()} for record in records)
    return Path(name)


class LeaderboardHandlers:
    def __init__(self, ballots: BallotBox, page: LeaderboardPage) -> None:
        self.ballots, self.page = ballots, page
        self._folder = Path(tempfile.mkdtemp(prefix="causerie-leaderboard-"))

    def outputs(self) -> list:
        return [self.page.table, self.page.summary, self.page.download]

    async def show(self, kind: str | None, request: gr.Request) -> tuple:
        language = page_language(request)
        heads = list(HEADERS.get(language, HEADERS["en"]))
        try:
            board = await self.ballots.board(kind or None)
        except StoreError:
            return (
                gr.update(value=None, headers=heads),
                words("page", "leaderboard.unavailable", None, language),
                gr.update(value=None),
            )
        standings, votes = board.standings, board.votes
        if not standings:
            return gr.update(value=None, headers=heads), words("page", "leaderboard.empty", None, language), gr.update(value=None)
        records = rows(standings)
        table = [
            [
                r["rank"],
                r["model"],
                number(round(r["rating"]), language),
                f"{number(round(r['ci_low']), language)} – {number(round(r['ci_high']), language)}",
                r["votes"],
                r["wins"],
                r["ties"],
                r["losses"],
            ]
            for r in records
        ]
        summary = words(
            "page",
            "leaderboard.count",
            {"votes": number(votes, language), "model_count": len(standings), "why": "one" if votes == 1 else None},
            language,
        )
        if board.apart:
            summary += words("page", "leaderboard.apart", {"count": board.apart}, language)
        path = write_csv(records, self._folder, kind or "")
        return gr.update(value=table, headers=heads), summary, gr.update(value=str(path))


SCROLLS_BY_KEYBOARD_JS = (
    "() => requestAnimationFrame(() => document.querySelector('#leaderboard th')?.setAttribute('tabindex', '0'))"
)
"""On a phone the table scrolls sideways in its box (its heads keep whole words). Its first head
takes the keyboard's focus (a grid's cells may; the box itself may not, inside the grid), so that
the arrow keys scroll the table from there."""


def wire_leaderboard(handlers: LeaderboardHandlers, tab: Any) -> None:
    page = handlers.page
    # Queued, one at a time: a leaderboard not computed in the last seconds costs a few hundred fits.
    queued = {"api_visibility": "private", "concurrency_limit": 1, "concurrency_id": "leaderboard"}
    tab.select(handlers.show, page.preset, handlers.outputs(), **queued).then(None, js=SCROLLS_BY_KEYBOARD_JS, **QUICK)
    page.preset.input(handlers.show, page.preset, handlers.outputs(), **queued)
