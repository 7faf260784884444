"""Every sentence exists in English and French, with the same parameters; the browser's language
picks the table."""

from __future__ import annotations

import string

import pytest

from causerie.answering.answer import Answer, SessionTotals
from causerie.events import Failure, Finish, Start, TextDelta, Usage
from causerie.i18n.wording import LANGUAGES, language_of, words
from causerie.ui.labels import TEXTS, Labels
from causerie.ui.render import footer_text, render


def plain(text: str) -> str:
    """French text with its non-breaking spaces as plain ones."""
    return text.replace("\u00a0", " ").replace("\u202f", " ")


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


@pytest.mark.parametrize("section", sorted(LANGUAGES["en"]))
def test_french_has_every_sentence_with_the_same_parameters(section):
    english, french = LANGUAGES["en"][section], LANGUAGES["fr"][section]
    assert set(english) == set(french)
    for kind, template in english.items():
        assert _fields(template) == _fields(french[kind]), kind


def test_every_label_has_both_languages_and_differs_where_it_should():
    for key, (en, fr) in TEXTS.items():
        assert en.strip() and fr.strip(), key
    translated = sum(en != fr for en, fr in TEXTS.values())
    assert translated >= len(TEXTS) - 3  # "Conversations", "Top p" read the same
    labels = Labels()
    labels.add("built.note", "Hello", "Bonjour")
    table = labels.i18n().translations_dict
    assert table["fr"]["built.note"] == "Bonjour" and table["en"]["provider"] == "Provider"
    with pytest.raises(KeyError):
        labels("no-such-label")


@pytest.mark.parametrize(
    "header, language",
    [
        ("fr-FR,fr;q=0.9,en-US;q=0.8,en;q=0.7", "fr"),
        ("fr-CA", "fr"),
        ("en-GB,fr;q=0.5", "en"),
        ("de-DE,fr;q=0.8", "en"),
        ("de-DE", "en"),
        ("", "en"),
        (None, "en"),
        ("*", "en"),
        ("FR", "fr"),
    ],
)
def test_the_browsers_first_language_if_causerie_speaks_it(header, language):
    """As the page's labels choose (navigator.language is the first of these)."""
    assert language_of(header) == language


def test_a_provider_failure_in_french_names_what_to_do_and_keeps_the_partial_answer():
    answer = Answer()
    for event in (
        Start("xai", "xAI (Grok)", "grok-4.3"),
        TextDelta("Bonjour"),
        Failure("auth", {"provider": "xAI (Grok)", "status": 401, "key_env": "XAI_API_KEY", "key_from": "server"}),
    ):
        answer.apply(event)
    shown = plain("\n".join(part["text"] for message in render(answer, "fr") for part in message["content"]))
    assert "xAI (Grok) a refusé la clé d'API (HTTP 401) : mettez une clé valide dans XAI_API_KEY" in shown
    assert "(la réponse partielle ci-dessus est conservée)" in shown
    assert "Bonjour" in shown
    english = Failure("auth", {"provider": "xAI (Grok)", "status": 401, "key_from": "visitor"}).message
    assert (
        english
        == 'xAI (Grok) rejected the API key (HTTP 401): check the key given under "Your API key" (or the api_key argument).'
    )


def test_french_numbers_footer_and_totals():
    assert words("failure", "too_long", {"chars": 1234567, "limit": 30000}, "fr").startswith(
        "Le message fait 1\u202f234\u202f567 caractères\u202f; ce serveur en accepte au plus 30\u202f000"
    )
    assert "1,234,567" in words("failure", "too_long", {"chars": 1234567, "limit": 30000})
    refused = words(
        "failure", "endpoint_refused", {"why": "address", "base_url": "http://x", "host": "x", "reason": "loopback"}, "fr"
    )
    assert "x est une adresse de bouclage (loopback)" in plain(refused)
    answer = Answer()
    for event in (
        Start("xai", "xAI (Grok)", "grok-4.3"),
        TextDelta("Salut"),
        Usage(prompt_tokens=1200, completion_tokens=30, cost_usd=0.01, cost_source="provider"),
        Finish("stop"),
    ):
        answer.apply(event)
    assert "1\u202f200 en entrée · 30 en sortie" in footer_text(answer, "fr")
    assert "s avant le premier token" in footer_text(answer, "fr")
    assert "$0.0100 facturés" in footer_text(answer, "fr")
    assert "1,200 in · 30 out" in footer_text(answer) and "$0.0100 billed" in footer_text(answer)
    totals = SessionTotals().plus(answer)
    assert totals.summary() == "1 answer · 1,200 tokens in · 30 out · $0.0100"
    assert totals.summary("fr") == "1 réponse · 1\u202f200 tokens en entrée · 30 en sortie · $0.0100"
    assert SessionTotals().summary("fr") == "Aucune réponse pour l'instant dans cette session."


SAMPLES = {
    "status": 404,
    "seconds": 12.5,
    "attempt": 1,
    "max_retries": 3,
    "minimum": 0,
    "maximum": 2,
    "value": 9,
    "chars": 31234,
    "limit": 30000,
    "count": 2,
    "size_mb": 12.34,
    "limit_mb": 10,
    "width": 9000,
    "height": 9000,
    "limit_mp": 50,
    "minutes": 5,
    "needed": 37600,
    "ahead": 1,
    "position": 3,
    "kept": 2,
    "size": 1.5,
    "mb": 2,
    "max": 200,
    "rate": 42,
    "input": 1.25,
    "output": 2.5,
    "tokens": 256000,
    "spent": 0.25,
    "hours": 3,
    "days": 7,
    "answers": 12,
    "refusals": 1,
    "p50": 0.4,
    "p95": 1.2,
    "share": 42,
}


CODES = {"reason": "loopback", "problem": "not_text", "how": None, "key_hint": None}


@pytest.mark.parametrize("language", sorted(LANGUAGES))
@pytest.mark.parametrize("whole", [True, False])
def test_every_sentence_fills_in_with_whole_and_decimal_numbers(language, whole):
    """No template comes out unfilled, whether a number arrives as an int or a float."""
    for section, table in LANGUAGES[language].items():
        for kind, template in table.items():
            params = {
                name: CODES.get(name) or ((SAMPLES[name] if whole else float(SAMPLES[name])) if name in SAMPLES else "x")
                for name in _fields(template)
            }
            base, _, why = kind.partition(".")
            text = words(section, base, {**params, **({"why": why} if why else {})}, language)
            assert "{" not in text.replace("{role, content}", ""), (section, kind, text)


def test_french_decimals_and_spaces():
    assert (
        plain(
            words("status", "retrying", {"provider": "xAI", "status": 503, "seconds": 2.0, "attempt": 1, "max_retries": 3}, "fr")
        )
        == "xAI a répondu HTTP 503 ; nouvel essai dans 2 s (1/3)."
    )
    assert words("failure", "attachment", {"why": "size", "name": "a.pdf", "size_mb": 12.34, "limit_mb": 10}, "fr").startswith(
        "a.pdf n'a pas été joint\u00a0: il fait 12,3 Mo"
    )
