"""The accessibility check: axe-core (from npm, `npm ci --prefix tests`) run in the page.

axe's source is evaluated in the page (Playwright's `evaluate`, through the DevTools protocol):
no script element is added, so the page's Content-Security-Policy is left as it is."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from playwright.sync_api import Page

AXE = Path(__file__).resolve().parent.parent / "node_modules" / "axe-core" / "axe.min.js"


@cache
def _axe_source() -> str:
    if not AXE.exists():
        raise RuntimeError(f"{AXE} is missing: run `npm ci --prefix tests` (the README's test command does).")
    return AXE.read_text(encoding="utf-8")


def serious_violations(page: Page, within: str | None = None) -> list[str]:
    """axe-core's serious and critical violations on the page (or in `within`, a selector), one
    line each: the rule, where, and what it found. Checked at rest: once Gradio's progress text
    and every fade (of boxes being updated) has ended."""
    page.wait_for_function(
        """() => !document.querySelector('.meta-text, .meta-text-center') && document.getAnimations()
          .every((a) => a.playState !== 'running' || a.effect?.getTiming().iterations === Infinity)""",
        timeout=10000,
    )
    if not page.evaluate("() => Boolean(window.axe)"):
        page.evaluate(_axe_source())
    results = page.evaluate(
        """async (within) => {
          const found = await window.axe.run(within ? document.querySelector(within) : document,
            {resultTypes: ['violations'], runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']}});
          return found.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
            .flatMap((v) => v.nodes.map((n) => `${v.id} (${v.impact}) at ${n.target.join(' ')}: ${n.failureSummary.replace(/\\s+/g, ' ').slice(0, 240)}`));
        }""",
        within,
    )
    return results
