"""The owner's cockpit: a page at /admin (a route of the app, not in its nav bar) for the people of
ADMIN_USERS, once signed in. It shows what the owner's keys paid for over a period (by day,
provider, model, tool and visitor), answers and errors by kind, time to first token, the prompt
cache's share and budget refusals, from the answer records (cockpit/report.py); and the records as
CSV. It exists only when ADMIN_USERS is set.

Every handler checks who asks, on every call (a direct call to its route included): anyone else
gets a refusal and no number.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from pathlib import Path
from typing import Any

import gradio as gr

from ..answering.service import ChatService
from ..cockpit.report import Report, as_csv, report, table
from ..history.store.errors import StoreError
from ..i18n.wording import words
from .labels import Labels
from .visitors import owner_of, page_language

PERIODS = ("1", "7", "30")


def is_admin(service: ChatService, request: gr.Request | None) -> bool:
    return (owner_of(request) or "") in service.settings.cockpit.admins


def _plot(rows: list[list], x: str, y: str) -> dict:
    """A bar chart's data as Gradio's plots take it (their PlotData), without pandas."""
    return {
        "columns": [x, y],
        "data": [[row[0], row[1]] for row in rows],
        "datatypes": {x: "nominal", y: "quantitative"},
        "mark": "bar",
    }


def _summary(made: Report, days: int, language: str, budget: tuple | None = None, reset_hour: int = 0) -> str:
    def say(kind: str, **params) -> str:
        return words("page", kind, params, language)

    lines = [
        say("cockpit.spent", spent=made.spent, days=days, answers=made.answers),
        *([say("cockpit.budget", spent=budget[0], limit=budget[1], reset=f"{reset_hour:02d}:00")] if budget else []),
        say("cockpit.errors", count=sum(made.errors.values()), refusals=made.budget_refusals),
    ]
    if (p50 := made.ttft_p(0.5)) is not None:
        lines.append(say("cockpit.ttft", p50=p50, p95=made.ttft_p(0.95)))
    if made.cache_share is not None:
        lines.append(say("cockpit.cache", share=100 * made.cache_share))
    if made.unpriced:
        lines.append(say("cockpit.unpriced", count=made.unpriced))
    return "\n\n".join(lines)


def _csv_file(folder: Path, span: int, text: str) -> Path:
    """The records as a CSV file under an unguessable name (the upload folder is served to whoever
    knows a path); those older than an hour are deleted."""
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*/*.csv"):
        if time.time() - old.stat().st_mtime > 3600:
            old.unlink(missing_ok=True)
            old.parent.rmdir()
    path = folder / secrets.token_hex(16) / f"causerie-usage-{span}d.csv"
    path.parent.mkdir()
    path.write_text(text, encoding="utf-8")
    return path


def build_cockpit(demo: gr.Blocks, service: ChatService, usage: Any, say: Labels) -> None:
    """The /admin page, when ADMIN_USERS is set (call outside the Blocks' context)."""
    if not service.settings.cockpit.admins:
        return
    folder = Path(service.settings.upload_dir) / "cockpit"
    with demo.route(say("cockpit"), "/admin", show_in_navbar=False) as page:
        gr.Markdown(f"## {say('cockpit')}")
        with gr.Row():
            period = gr.Radio(
                [(say("cockpit.today"), "1"), (say("cockpit.week"), "7"), (say("cockpit.month"), "30")],
                value="7",
                label=say("cockpit.period"),
                elem_id="cockpit-period",
            )
            refresh = gr.Button(say("cockpit.refresh"), size="sm", elem_id="cockpit-refresh")
        summary = gr.Markdown(elem_id="cockpit-summary")
        # Bars from zero (a single day's bar would otherwise have no height).
        by_day = gr.BarPlot(x="day", y="dollars", y_lim=[0, None], title=say("cockpit.by_day"), elem_id="cockpit-by-day")
        by_model = gr.BarPlot(x="model", y="dollars", y_lim=[0, None], title=say("cockpit.by_model"), elem_id="cockpit-by-model")
        # (A table's heads are plain text, not the page's labels: the handler words them.)
        with gr.Row():
            providers = gr.Dataframe(label=say("cockpit.by_provider"), elem_id="cockpit-providers")
            visitors = gr.Dataframe(label=say("cockpit.by_visitor"), elem_id="cockpit-visitors")
        with gr.Row():
            tools = gr.Dataframe(label=say("cockpit.tools"), elem_id="cockpit-tools")
            errors = gr.Dataframe(label=say("cockpit.errors_by_kind"), elem_id="cockpit-errors")
        download = gr.DownloadButton(say("cockpit.csv"), elem_id="cockpit-csv", visible=False)
        outputs = [summary, by_day, by_model, providers, visitors, tools, errors, download]
        events = {"api_visibility": "private", "concurrency_limit": 2, "concurrency_id": "cockpit"}
        show = _shower(service, usage, folder)
        # (Inside the route: these listeners are this page's.)
        page.load(show, period, outputs, **events)
        period.change(show, period, outputs, **events)
        refresh.click(show, period, outputs, **events)


def _shower(service: ChatService, usage: Any, folder: Path):
    async def show(days: Any, request: gr.Request) -> tuple:
        language = page_language(request)
        if not is_admin(service, request):  # (every call: the page, or its route called directly)
            return words("page", "cockpit.refused", None, language), None, None, [], [], [], [], gr.update(visible=False)
        span = int(days) if str(days) in PERIODS else 7
        since = time.time() - span * 86400
        try:
            rows = await usage.rows(since)
        except StoreError:
            return words("page", "cockpit.unavailable", None, language), None, None, [], [], [], [], gr.update(visible=False)
        # (Thousands of rows: counted and written off the event loop, where answers stream.)
        made = await asyncio.to_thread(report, rows)
        path = await asyncio.to_thread(lambda: _csv_file(folder, span, as_csv(rows)))
        budget = await service.budgets.spent_today()

        def heads(*kinds: str) -> list[str]:
            return [words("page", f"cockpit.head.{kind}", None, language) for kind in kinds]

        def frame(names: list[str], rows: list[list]) -> dict:
            return {"headers": names, "data": rows or [["—"] + [""] * (len(names) - 1)]}

        return (
            _summary(made, span, language, budget, service.budgets.reset_hour),
            _plot([[day, round(cost, 6)] for day, (cost, _) in sorted(made.by_day.items())], "day", "dollars"),
            _plot(table(made.by_model, 15), "model", "dollars"),
            frame(heads("provider", "dollars", "answers"), table(made.by_provider)),
            frame(heads("visitor", "dollars", "answers"), table(made.by_visitor, 20)),
            frame(heads("tool", "count"), [[kind, count] for kind, count in made.tools.most_common()]),
            frame(heads("kind", "count"), [[kind, count] for kind, count in made.errors.most_common()]),
            gr.update(value=str(path), visible=True),
        )

    return show
