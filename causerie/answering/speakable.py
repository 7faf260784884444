"""An answer made ready to be read aloud: Markdown, code and formulas turned into words a voice
can say, in English or French, and cut into pieces so that playback starts quickly.

Markdown goes through markdown-it (the parser Gradio's own chat uses): emphasis, headings, lists,
links and tables keep their words; a code block is named, not read; inline code keeps its text.
Formulas (`$…$`, `$$…$$`, `\\(…\\)`, `\\[…\\]`) are read with a small table of LaTeX's common
commands ("x squared", "a over b", "la racine carrée de x").
"""

from __future__ import annotations

import re
from functools import cache

from markdown_it import MarkdownIt

FIRST_PIECE_CHARS = 240
"""The first piece is short: it is read while the next ones are made."""
PIECE_CHARS = 1_200

MATH = re.compile(r"\$\$(.+?)\$\$|\\\[(.+?)\\\]|\\\((.+?)\\\)|(?<![\\$\w])\$(?!\s)([^$\n]+?)(?<!\s)\$(?![\w$])", re.S)
SENTENCE_END = re.compile(r"(?<=[.!?…:;])\s+")

WORDS = {
    "en": {
        "code": "There is a code block here{language}, shown on screen.",
        "code_in": " in {language}",
        "frac": "{0} over {1}",
        "sqrt": "the square root of {0}",
        "squared": " squared",
        "cubed": " cubed",
        "power": " to the power {0}",
        "sub": " sub {0}",
        "link": "a link",
    },
    "fr": {
        "code": "Ici, un bloc de code{language}, à lire à l'écran.",
        "code_in": " en {language}",
        "frac": "{0} sur {1}",
        "sqrt": "la racine carrée de {0}",
        "squared": " au carré",
        "cubed": " au cube",
        "power": " puissance {0}",
        "sub": " indice {0}",
        "link": "un lien",
    },
}
SYMBOLS = {
    "en": {
        r"\times": " times ",
        r"\cdot": " times ",
        r"\pm": " plus or minus ",
        r"\leq": " is at most ",
        r"\le": " is at most ",
        r"\geq": " is at least ",
        r"\ge": " is at least ",
        r"\neq": " is not equal to ",
        r"\approx": " is about ",
        r"\infty": " infinity ",
        r"\sum": " the sum of ",
        r"\int": " the integral of ",
        r"\lim": " the limit ",
        r"\to": " tends to ",
        r"\rightarrow": " gives ",
        r"\Rightarrow": " implies ",
        r"\in": " in ",
        r"\partial": " partial ",
        r"\nabla": " nabla ",
        r"\degree": " degrees ",
        "=": " equals ",
        "+": " plus ",
        "<": " is less than ",
        ">": " is greater than ",
        "/": " over ",
    },
    "fr": {
        r"\times": " fois ",
        r"\cdot": " fois ",
        r"\pm": " plus ou moins ",
        r"\leq": " inférieur ou égal à ",
        r"\le": " inférieur ou égal à ",
        r"\geq": " supérieur ou égal à ",
        r"\ge": " supérieur ou égal à ",
        r"\neq": " différent de ",
        r"\approx": " environ égal à ",
        r"\infty": " l'infini ",
        r"\sum": " la somme de ",
        r"\int": " l'intégrale de ",
        r"\lim": " la limite ",
        r"\to": " tend vers ",
        r"\rightarrow": " donne ",
        r"\Rightarrow": " implique ",
        r"\in": " appartient à ",
        r"\partial": " d rond ",
        r"\nabla": " nabla ",
        r"\degree": " degrés ",
        "=": " égale ",
        "+": " plus ",
        "<": " inférieur à ",
        ">": " supérieur à ",
        "/": " sur ",
    },
}
GREEK = (
    "alpha beta gamma delta epsilon varepsilon zeta eta theta vartheta iota kappa lambda mu nu xi pi rho sigma "
    "tau upsilon phi varphi chi psi omega Gamma Delta Theta Lambda Xi Pi Sigma Phi Psi Omega"
).split()
GROUP = r"\{((?:[^{}]|\{[^{}]*\})*)\}"
"""A braced argument, with one level of braces inside."""


def speakable(markdown: str, language: str = "en") -> str:
    """The text a voice reads for `markdown`: its words, with code named and formulas in words."""
    language = language if language in WORDS else "en"
    text = MATH.sub(lambda m: " " + formula_words(next(g for g in m.groups() if g is not None), language) + " ", markdown)
    said: list[str] = []
    for token in _parser().parse(text):
        if token.type in ("fence", "code_block"):
            name = (token.info or "").split()[0] if token.info else ""
            said.append(WORDS[language]["code"].format(language=WORDS[language]["code_in"].format(language=name) if name else ""))
        elif token.type == "inline" and token.children is not None:
            said.append(_inline_words(token.children, language))
        elif token.type in ("paragraph_close", "heading_close", "list_item_close", "tr_close") and said:
            said[-1] = _ended(said[-1].rstrip().rstrip(","))
        elif token.type in ("th_close", "td_close") and said:
            said[-1] += ","
    spoken = re.sub(r"\s+", " ", " ".join(part for part in said if part)).strip()
    return re.sub(r" ([,.;:!?])", r"\1", spoken)


@cache
def _parser() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])


def _inline_words(children: list, language: str) -> str:
    out: list[str] = []
    in_link = False
    link_words: list[str] = []
    for child in children:
        if child.type == "link_open":
            in_link, link_words = True, []
        elif child.type == "link_close":
            words = " ".join(link_words).strip()
            out.append(WORDS[language]["link"] if not words or words.startswith(("http://", "https://")) else words)
            in_link = False
        elif child.type in ("text", "code_inline"):
            (link_words if in_link else out).append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            out.append(" ")
        elif child.type == "image":
            out.append(child.content)
    return re.sub(r"https?://\S+", WORDS[language]["link"], "".join(out))


def _ended(text: str) -> str:
    text = text.rstrip()
    return text if not text or text[-1] in ".!?…:;," else text + "."


def formula_words(latex: str, language: str = "en") -> str:
    """A LaTeX formula in words (the common commands; the rest keeps its letters)."""
    words = WORDS[language]
    text = latex
    text = re.sub(r"\\(?:left|right|big|Big|bigg|Bigg)\b|\\[,;:! ]", " ", text)
    text = re.sub(r"\\(?:mathrm|mathbf|mathit|text|textbf|operatorname|mathbb|vec|hat|bar)\s*" + GROUP, r" \1 ", text)
    for _ in range(3):  # nested fractions and roots, from the inside out
        text = re.sub(r"\\[dt]?frac\s*" + GROUP + r"\s*" + GROUP, lambda m: words["frac"].format(m[1], m[2]), text)
        text = re.sub(r"\\sqrt\s*" + GROUP, lambda m: words["sqrt"].format(m[1]), text)
    text = re.sub(r"\^\s*(?:\{\s*2\s*\}|2)", words["squared"], text)
    text = re.sub(r"\^\s*(?:\{\s*3\s*\}|3)", words["cubed"], text)
    text = re.sub(r"\^\s*(?:" + GROUP + r"|(\S))", lambda m: words["power"].format(m[1] or m[2]), text)
    text = re.sub(r"_\s*(?:" + GROUP + r"|(\w))", lambda m: words["sub"].format(m[1] or m[2]), text)
    for command, said in sorted(SYMBOLS[language].items(), key=lambda item: -len(item[0])):
        if command.startswith("\\"):
            text = re.sub(re.escape(command) + r"(?![A-Za-z])", said, text)
        else:
            text = text.replace(command, said)
    text = re.sub(r"\\(" + "|".join(GREEK) + r")(?![A-Za-z])", r" \1 ", text)
    text = re.sub(r"\\[A-Za-z]+", " ", text)  # what the table does not know is left out
    return re.sub(r"\s+", " ", text.replace("{", " ").replace("}", " ")).strip()


def pieces(text: str, first: int = FIRST_PIECE_CHARS, size: int = PIECE_CHARS) -> list[str]:
    """The text cut at sentence ends: a short first piece, then pieces of at most `size`
    characters (a sentence longer than that is cut at a comma or a space)."""
    sentences: list[str] = []
    for sentence in SENTENCE_END.split(text.strip()):
        while len(sentence) > size:
            cut = max(sentence.rfind(", ", 0, size), sentence.rfind(" ", 0, size))
            cut = cut if cut > size // 2 else size
            sentences.append(sentence[:cut].strip())
            sentence = sentence[cut:].strip()
        if sentence:
            sentences.append(sentence)
    out: list[str] = []
    for sentence in sentences:
        limit = first if len(out) == 1 else size  # (adding to the first piece, or to a later one)
        if out and len(out[-1]) + 1 + len(sentence) <= limit:
            out[-1] += " " + sentence
        else:
            out.append(sentence)
    return out


def said_language(text: str) -> str:
    """French or English, as the words of `text` look (the words code and formulas are said in)."""
    words_in = text.lower().split()
    french = sum(word.strip(".,;:!?«»\"'") in FRENCH_WORDS for word in words_in)
    return "fr" if words_in and french / len(words_in) > 0.08 else "en"


FRENCH_WORDS = frozenset(
    "le la les un une des du de et est sont pas que qui pour dans sur avec il elle nous vous ils je tu ce cette "
    "mais ou au aux en ne se sa son ses leur plus très bien".split()
)
