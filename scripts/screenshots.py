"""Take the README's screenshots of the app, in English and in French: `python scripts/screenshots.py`.

The app runs against the tests' scripted OpenAI-compatible server (a canned answer per language,
streamed as a provider streams it), in Debian's Chromium (`apt-get install chromium`), with the
browser's language set to each in turn. Writes docs/screenshot-en.png and docs/screenshot-fr.png
(a laptop, 1280 px wide), docs/screenshot-en-phone.png (390 px) and docs/screenshot-en-tablet.png
(820 px, upright), and docs/screenshot-compare.png: a blind comparison of two models, after the
vote.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from playwright.sync_api import expect, sync_playwright  # noqa: E402

from support.apps import RunningApp  # noqa: E402
from support.browsers import CHROMIUM_ARGS  # noqa: E402
from support.scripted_server import Reply, ScriptedServer, text_stream  # noqa: E402

ANSWERS = {
    "en": [
        "Rayleigh scattering makes the sky blue: air molecules scatter short wavelengths far more than long ones.",
        "\n\nThe scattered intensity goes as\n\n$$I \\propto \\frac{1}{\\lambda^4},$$\n\n",
        "so blue light ($\\lambda \\approx 450$ nm) is scattered about ",
        "$(700/450)^4 \\approx 5.8$ times more than red light ($\\lambda \\approx 700$ nm).",
    ],
    "fr": [
        "La diffusion de Rayleigh rend le ciel bleu : les molécules de l'air diffusent bien plus les courtes "
        "longueurs d'onde que les longues.",
        "\n\nL'intensité diffusée varie comme\n\n$$I \\propto \\frac{1}{\\lambda^4},$$\n\n",
        "donc la lumière bleue ($\\lambda \\approx 450$ nm) est diffusée environ ",
        "$(700/450)^4 \\approx 5{,}8$ fois plus que la rouge ($\\lambda \\approx 700$ nm).",
    ],
}
LOCALES = {"en": "en-US", "fr": "fr-FR"}
COMPARED = {
    "grok-4.3": "Dear Mr Martin,\n\nThe heating in my flat has not worked for two weeks. Could you have it repaired "
    "this week? I am at home every morning.\n\nKind regards,\nAnna",
    "gpt-5": "Dear Mr Martin,\n\nI am writing about the heating, which broke down on 3 November. As the nights are "
    "getting colder, I would be grateful if a repair could be arranged soon.\n\nYours sincerely,\nAnna",
}


def shoot_compare(browser, app: RunningApp, scripted: ScriptedServer, out: Path) -> Path:
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.goto(app.url)
    page.wait_for_selector("#chat-input textarea")
    page.get_by_role("tab", name="Compare").click()
    for index, model in enumerate(COMPARED):
        page.locator(f"#compare-model-{index} input").click()
        page.locator(f"#compare-model-{index}").get_by_role("option", name=f"OpenAI · {model}", exact=True).click()
        words = [word + " " for word in COMPARED[model].split(" ")]
        scripted.queue_for(
            model, Reply(chunks=text_stream(*words, usage={"prompt_tokens": 61, "completion_tokens": len(words)}), delay=0.01)
        )
    question = page.locator("#compare-input textarea")
    question.fill("Write a short letter to my landlord asking to fix the heating.")
    question.press("Enter")
    expect(page.locator("#vote-0")).to_be_visible(timeout=15000)
    page.locator("#vote-0").click()
    expect(page.locator("#compare-note")).to_contain_text("Vote kept", timeout=10000)
    target = out / "screenshot-compare.png"
    page.screenshot(path=str(target))
    page.close()
    return target


def shoot(out: Path) -> list[Path]:
    scripted = ScriptedServer().start()
    scripted.models = {"object": "list", "data": [{"id": "grok-4.3"}, {"id": "gpt-5"}]}
    app = RunningApp(
        {
            "OPENAI_BASE_URL": scripted.base_url,
            "OPENAI_API_KEY": "screenshot-key",
            "CAUSERIE_DATA_DIR": tempfile.mkdtemp(prefix="causerie-screenshots-"),
        }
    )
    written = []
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            for language, locale in LOCALES.items():
                sizes = [((1280, 800), "")] + ([((390, 844), "-phone"), ((820, 1180), "-tablet")] if language == "en" else [])
                for size, suffix in sizes:
                    context = browser.new_context(
                        locale=locale, viewport={"width": size[0], "height": size[1]}, device_scale_factor=1 if not suffix else 2
                    )
                    page = context.new_page()
                    page.goto(app.url)
                    page.wait_for_selector("#chat-input textarea")
                    example = page.locator("#chatbot .examples .example:visible", has_text="Rayleigh")
                    expect(example).to_be_visible(timeout=10000)
                    example.click()
                    scripted.queue(
                        Reply(
                            chunks=text_stream(*ANSWERS[language], usage={"prompt_tokens": 412, "completion_tokens": 96}),
                            delay=0.05,
                        )
                    )
                    page.locator("#chat-input textarea").press("Enter")
                    expect(page.locator("#chatbot")).to_contain_text("5", timeout=15000)
                    expect(page.locator("#chat-input .stop-button")).to_have_count(0, timeout=15000)
                    page.wait_for_timeout(500)  # the formula's rendering
                    target = out / f"screenshot-{language}{suffix}.png"
                    page.screenshot(path=str(target))
                    written.append(target)
                    context.close()
            written.append(shoot_compare(browser, app, scripted, out))
            browser.close()
    finally:
        app.close()
        scripted.stop()
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs", help="where to write them (default docs/)")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for path in shoot(args.out):
        print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)


if __name__ == "__main__":
    main()
