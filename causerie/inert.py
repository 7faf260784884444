"""Markdown from data, made inert for the page: shown as written, with nothing in it that can act,
fetch or leave its box.

Answers, and what the page says around them (sources, notices naming files and models), are
Markdown the browser renders: Gradio's marked, then its sanitiser, which keeps images, media,
forms and style attributes. So they never reach it:

- an image (`![alt](url)`) becomes a link to it, "🖼 host: alt", that a click opens;
- an HTML tag is shown as text (`&lt;form>`), but for a few bare inline ones (`<b>`, `<br>`,
  `<sub>`…: no attributes, and never alone on a line, where one would open an HTML block);
- a ```mermaid block shows its code (Gradio puts a diagram's text in the page as HTML);
- a `$` before a digit is money, not the start of a formula ("$6 billion … $24 billion"), unless
  a `$` that can close one follows on its line (Pandoc's rule: not after a space, not before a
  digit, as in "$2^{10} = 1024$"). It is written `&#36;<wbr>`: Gradio finds formulas in the raw
  text (where that is no `$`) and again in the page's text, a text node at a time (where `<wbr>`
  ends the node).

Code shows as written: fenced blocks, and inline code with no `<` or `![` in it; inline code with
them becomes a `<code>` element with its characters escaped, which shows the same and stays text
whatever the renderer makes of the Markdown around it. Text is read as the renderer reads it:
first Gradio's LaTeX spans are set aside (it takes them out before Markdown and puts them back
escaped), then fenced blocks are found strictly: from the first doubt (a fence in a list or a
quote, a line less indented than its fence, a link definition that could run over lines) every
later `<` is escaped, code or not. A doubt costs how code looks, never what the page does. The
result is the same when made inert again (saved chats are shown through it).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from urllib.parse import urlsplit

LATEX_DELIMITERS = (("$$", "$$"), ("\\[", "\\]"), ("\\(", "\\)"), ("$", "$"))
"""The chat's LaTeX delimiters, in the order Gradio takes them out (ui/app.py passes the same)."""

INLINE_TAGS = frozenset("b i u s em strong sub sup small mark kbd del ins code br wbr abbr cite q var samp".split())
"""Tags kept when bare: none opens an HTML block (CommonMark's kinds 1 and 6)."""

IMAGE = "🖼"
CONTROL_SHOWN = "#causerie\u2011"
"""What `#causerie-` is shown as in data: the same to read (a non-breaking hyphen), and no control of
the page's (its approval and version links: ui/render.py) can be written by a model or a file."""

# A backslash escape is kept, but not one before `<` or `!`: an autolink (www.example.com\) can
# take the backslash, and leave the tag or the image behind it.
_TOKEN = re.compile(
    r"(?=[\\!<`])(?:(?P<escape>\\[\"#-/:;=>?@\[-`{-~])|(?P<image>(?:\\?!)+\[)|(?P<tag>\\?<)|(?P<code>`+))"
)  # (the look-ahead first: ten times faster)
_BARE_TAG = re.compile(r"</?([A-Za-z]+)\s*/?>")
_AUTOLINK = re.compile(r"<(?:https?|mailto):[^\s<>`\x00-\x1f]*>")
_IMAGE_AHEAD = re.compile(r"!\[([^\[\]\n]*)\]\(\s*<?([^\s()<>]*)")
_FENCE = re.compile(r"^( {0,3})(`{3,}|~{3,})(.*)$")
_FENCE_LIKE = re.compile(r"^[ \t>*+\-\d.)]*(?:`{3}|~{3})")
_DEFINITION = re.compile(r"^ {0,3}\[(?:[^\]\\]|\\.)*(?:\]:|$)")
_LINE_PREFIX = re.compile(r"^[ \t>*+\-\d.)]*$")
_TAG_START = re.compile(r"[A-Za-z/!?%\\]")
_HOST = re.compile(r"[^A-Za-z0-9.:-]")
_PLACEHOLDER = re.compile("\ue000(\\d+)\ue001")
_MONEY = re.compile(r"\$\d")
_MONEY_SHOWN = "&#36;<wbr>"  # (see the module's docstring)
_CODE_RUN = re.compile(r"(?<!\\)`+|<code>|</code>")
_ESCAPED = {ord(c): f"&#{ord(c)};" for c in "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"}


def inert(text: str, delimiters: Sequence[tuple[str, str]] = LATEX_DELIMITERS) -> str:
    """`text` as Markdown the page may render: see the module's docstring. `delimiters` are the
    rendering component's LaTeX delimiters, in its order."""
    if "#causerie-" in text:  # (the page's own controls: ui/js/chat_links.js acts on no link from data)
        text = text.replace("#causerie-", CONTROL_SHOWN)
    shown = _inert_once(text, delimiters)
    if "$" in shown and _MONEY.search(shown):
        # A `$` before a digit left as it was (in code, or a formula's) may be read as money once
        # the rest is inert (money is told from code more simply than inert reads code): read
        # again until nothing changes, so that the result is the same when made inert again.
        for _ in range(8):
            again = _inert_once(shown, delimiters)
            if again == shown:
                break
            shown = again
    return shown


def _inert_once(text: str, delimiters: Sequence[tuple[str, str]]) -> str:
    money = "$" in text and _MONEY.search(text)
    if "<" not in text and "![" not in text and "mermaid" not in text and not money:
        return text  # (most answers: nothing to do)
    # Lines as marked splits them; private-use characters are this function's placeholders.
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\ue000", "").replace("\ue001", "")
    text = text.replace("```mermaid", "``` mermaid")  # (anywhere: Gradio's diagrams may start mid-line)
    if money:
        text = _money(text)
    spans: list[str] = []

    def put_aside(found: re.Match) -> str:
        spans.append(_PLACEHOLDER.sub(lambda inner: spans[int(inner.group(1))], found.group()))
        return f"\ue000{len(spans) - 1}\ue001"

    for left, right in delimiters:  # as Gradio does, before Markdown: the spans become placeholders
        text = re.sub(re.escape(left) + r"[\s\S]+?" + re.escape(right), put_aside, text)
    lines, fence, doubt = [], None, False
    for line in text.split("\n"):
        if fence is not None:
            ending = _fence_ending(line, *fence)
            if ending is None:
                lines.append(line)  # code, as written
                continue
            fence, doubt = None, doubt or ending == "doubt"
            if ending == "closed":
                lines.append(line)
                continue
        opening = None if doubt else _FENCE.match(line)
        if opening and any(left in line for left, _ in delimiters):
            # Gradio's LaTeX extension cuts a paragraph where a delimiter starts: after a
            # paragraph, such a line may be text, not a fence.
            opening, doubt = None, True
        if opening and not (opening.group(2)[0] == "`" and "`" in opening.group(3)):
            indent, run, info = opening.groups()
            fence = (run, len(indent))
            lines.append(indent + run + _inline(info, line))
            continue
        shown = _inline(line, line)
        doubt = doubt or bool(_FENCE_LIKE.match(shown) or _DEFINITION.match(shown))
        lines.append(shown)
    shown = "\n".join(lines)
    return _PLACEHOLDER.sub(lambda found: spans[int(found.group(1))], shown) if spans else shown


def money_as_written(text: str) -> str:
    """An answer's money as the model wrote it: the page's `&#36;<wbr>` is for showing only, not
    for what is sent back to a model, kept or exported."""
    return text.replace(_MONEY_SHOWN, "$") if _MONEY_SHOWN in text else text


def inert_text(text: str) -> str:
    """A sentence the page shows in Markdown with data in it (a model id, a title): every tag and
    image made text, whatever the Markdown around them (no code is kept as written)."""
    text = re.sub(r"\\?<(?=[A-Za-z/!?%\\])", "&lt;", text)
    text = re.sub(r"(?:\\?!)+\[", lambda found: "&#33;" * (found.group().count("!") - 1) + f"[{IMAGE} ", text)
    return text.replace("```mermaid", "``` mermaid")


def _money(text: str) -> str:
    """`text` with each money `$` outside code written `&#36;<wbr>` (the module's docstring).
    Code is found more simply than inert() finds it (no doubts): a `$` misread in code shows its
    reference, and `$`s are paired after this, so never differently from Gradio."""
    lines, fence, code = text.split("\n"), None, None
    for i, line in enumerate(lines):
        if fence is not None:  # (as inert() reads fences, but for its doubts)
            if _fence_ending(line, *fence) is not None:
                fence = None
            continue
        opening = _FENCE.match(line)
        if opening and not (opening.group(2)[0] == "`" and "`" in opening.group(3)):
            fence, code = (opening.group(2), len(opening.group(1))), None
            continue
        if not line.strip():
            code = None  # (a paragraph ends: inline code cannot go on)
        # Code from a run of backticks to the same run, or from <code> (inert's own) to </code>,
        # over lines too.
        parts, runs, shown = _CODE_RUN.split(line), _CODE_RUN.findall(line), []
        for part, run in zip(parts, [*runs, ""], strict=True):
            shown.append(part if code or "$" not in part else _money_in(part))
            shown.append(run)
            if run == "</code>":
                code = None if code == "<code>" else code
            elif run:
                code = None if run == code else (code or run)
        lines[i] = "".join(shown)
    return "\n".join(lines)


def _money_in(text: str) -> str:
    """`$`s paired as Gradio pairs them, but for a `$` before a digit whose pair cannot close."""
    out, at, start = [], 0, text.find("$")
    while start != -1:
        if text.startswith("$$", start):  # a displayed formula: as it is
            end = text.find("$$", start + 2)
            start = text.find("$", end + 2) if end != -1 else -1
            continue
        pair = text.find("$", start + 1)
        if text[start + 1 : start + 2].isdigit() and (start == 0 or text[start - 1] != "\\") and not _closes(text, pair):
            out += [text[at:start], _MONEY_SHOWN]
            at = start + 1
            start = pair
            continue
        start = text.find("$", pair + 1) if pair != -1 else -1
    return "".join(out) + text[at:] if out else text


def _closes(text: str, at: int) -> bool:
    """Whether the `$` at `at` can close a formula: not after a space, not before a digit."""
    return at > 0 and not text[at - 1].isspace() and not text[at + 1 : at + 2].isdigit()


def _fence_ending(line: str, run: str, indent: int) -> str | None:
    """None while `line` is code in the fence opened by `run` (indented by `indent`); "closed" on
    its closing line, as marked reads one; "doubt" where readers could differ: a line less
    indented than the fence (its list item may have ended) or a closing line only some accept."""
    stripped = line.strip()
    if not stripped:
        return None
    if len(line) - len(line.lstrip(" ")) < indent:
        return "doubt"
    if not stripped.startswith(run) or stripped.strip("`~ \t"):
        return None
    return "closed" if re.fullmatch(f" {{0,3}}{re.escape(run)}[~`]* *", line) else "doubt"


def _inline(part: str, line: str) -> str:
    """One line's text outside fenced code (`part` of `line`), made inert."""
    out, at = [], 0
    while (token := _TOKEN.search(part, at)) is not None:
        start, end, found = token.start(), token.end(), token.group()
        out.append(part[at:start])
        at = end
        if token.lastgroup == "escape":
            out.append(found)
        elif token.lastgroup == "code":
            closing = _closing_run(len(found)).search(part, end)
            if closing is None:
                out.append(found)
                continue
            code, at = part[end : closing.start()], closing.end()
            if "<" not in code and "![" not in code:
                out.append(found + code + found)
                continue
            if out[-1] == "" and len(out) > 1 and out[-2] == "\\`":
                out[-2] = "&#96;"  # (an escaped backtick just before: alone now, it could close a code span)
            out.append(_code_element(code))
        elif token.lastgroup == "tag":
            kept = found == "<" and (_AUTOLINK.match(part, start) or _kept_tag(part, start, line))
            if kept:
                out.append(kept.group())
                at = kept.end()
            else:
                # (`%`: Gradio writes its LaTeX back over "%%%LATEX_BLOCK_n%%%", even one in the text;
                # `\\`: an escape can make `/`, `!` or `?` of what follows)
                out.append("&lt;" if _TAG_START.match(part, end) else found)
        else:  # an image: a link to it, its alt text read on like any other text
            image = _IMAGE_AHEAD.match(part, end - 2)
            host = _host(image.group(2)) if image else ""
            alt = bool(image and image.group(1).strip())
            bangs = "&#33;" * (found.count("!") - 1)  # ("!![": the first is text, and stays so)
            out.append(f"{bangs}[{IMAGE} " + (host + (": " if alt else "") if host else ""))
    out.append(part[at:])
    return "".join(out)


@functools.cache
def _closing_run(length: int) -> re.Pattern:
    return re.compile(f"(?<!`){'`' * length}(?!`)")


def _host(url: str) -> str:
    try:
        return _HOST.sub("", urlsplit(url).netloc)[:60]
    except ValueError:  # (a malformed address: the link shows none)
        return ""


def _kept_tag(part: str, start: int, line: str) -> re.Match | None:
    tag = _BARE_TAG.match(part, start)
    if tag is None or tag.group(1).lower() not in INLINE_TAGS:
        return None
    offset = len(line) - len(part)
    alone = _LINE_PREFIX.match(line[: offset + start]) and not line[offset + tag.end() :].strip()
    return None if alone else tag


def _code_element(code: str) -> str:
    """Inline code as a `<code>` element whose every punctuation mark is a character reference:
    it shows the same, and reads as text to anything."""
    if code.startswith(" ") and code.endswith(" ") and code.strip(" "):
        code = code[1:-1]
    return "<code>" + code.translate(_ESCAPED) + "</code>"
