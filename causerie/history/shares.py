"""A shared conversation: a read-only snapshot of the path on screen, and its page at /s/<id>.

What goes in is chosen here, not by the page: the questions and answers as shown, their sources,
tool steps and footers, the pictures (copied in, within a size cap), and only if the person says
so, the thinking and the system prompt. Never a key, a base URL, a setting, a file's path on this
server, or anything not on screen.

The page is made on the server, with no script: every text goes through the answer rules
(`inert.inert`: no tags, images as links to click) and then Markdown with HTML off, and the page's
Content-Security-Policy lets it load nothing but its own pictures and its own style.
"""

from __future__ import annotations

import base64
import bisect
import html
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from markdown_it import MarkdownIt

from ..answering.messages import checked_steps, step_line
from ..i18n.wording import DEFAULT_LANGUAGE, words
from ..inert import inert

MOST_SNAPSHOT_CHARS = 1_000_000
"""A share's text, in all: a longer conversation is refused (a share is read, not archived)."""
MOST_PICTURE_BYTES = 2_000_000
MOST_SNAPSHOT_PICTURE_BYTES = 8_000_000
PICTURE_TYPES = ("image/png", "image/jpeg", "image/webp", "image/gif")
DESCRIPTION_CHARS = 200


class SharesOnFirstUse:
    """The share store (history/store/share_store.py), made when first asked for: SQLAlchemy is not
    imported while the app starts. One for the page and the API."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._store: Any = None

    async def opened(self) -> Any:
        if self._store is None:
            from .store.share_store import ShareStore

            self._store = ShareStore(self.url)
        return self._store


@dataclass(frozen=True)
class ShareChoices:
    thinking: bool = False
    system_prompt: bool = False


def snapshot_of(
    messages: Iterable[Mapping[str, Any]],
    *,
    title: str,
    language: str = DEFAULT_LANGUAGE,
    system_prompt: str | None = None,
    choices: ShareChoices = ShareChoices(),
    read_picture: Callable[[Mapping[str, Any]], tuple[str, bytes] | None] = lambda _: None,
) -> dict[str, Any]:
    """The snapshot kept for a share, from a conversation's saved messages (history/conversations.py).
    `read_picture` gives a file's type and bytes when it is one this person may share, else None."""
    kept: list[dict[str, Any]] = []
    budget = MOST_SNAPSHOT_PICTURE_BYTES
    for message in messages:
        role = message.get("role")
        if role not in ("user", "assistant"):
            continue
        item: dict[str, Any] = {"role": role, "content": str(message.get("content") or "")}
        if role == "assistant":
            for name in ("sources", "notice", "footer"):
                if isinstance(message.get(name), str) and message[name]:
                    item[name] = message[name]
            if choices.thinking and isinstance(message.get("thinking"), str) and message["thinking"]:
                item["thinking"] = message["thinking"]
            if steps := checked_steps(message.get("tools")):  # (what the page shows of each: one line)
                item["tool_lines"] = [step_line(step)[:300] for step in steps]
        pictures, left_out = [], 0
        for file in message.get("files") or ():
            read = read_picture(file) if isinstance(file, Mapping) else None
            if read is None or read[0] not in PICTURE_TYPES or len(read[1]) > min(MOST_PICTURE_BYTES, budget):
                left_out += 1
                continue
            budget -= len(read[1])
            pictures.append({"mime": read[0], "data": base64.b64encode(read[1]).decode("ascii")})
        if pictures:
            item["pictures"] = pictures
        if left_out:
            item["left_out"] = left_out
        kept.append(item)
    first = next((m["content"] for m in kept if m["role"] == "user"), "")
    snapshot: dict[str, Any] = {
        "title": (title or first or "Causerie")[:200],
        "description": " ".join(first.split())[:DESCRIPTION_CHARS],
        "language": language if language in ("en", "fr") else DEFAULT_LANGUAGE,
        "messages": kept,
    }
    if choices.system_prompt and system_prompt and system_prompt.strip():
        snapshot["system_prompt"] = system_prompt.strip()
    return snapshot


def has_answer(messages: Iterable[Mapping[str, Any]]) -> bool:
    """Whether a conversation has anything to share: an answer, of words or of pictures alone (a
    picture answer has no words)."""
    return any(m.get("role") == "assistant" and (m.get("content") or m.get("files")) for m in messages)


def snapshot_chars(snapshot: Mapping[str, Any]) -> int:
    """A snapshot's text, in characters (its pictures apart)."""
    size = len(str(snapshot.get("title") or "")) + len(str(snapshot.get("system_prompt") or ""))
    for message in snapshot.get("messages") or ():
        size += sum(len(str(message.get(k) or "")) for k in ("content", "thinking", "sources", "notice", "footer"))
        size += sum(len(str(line)) for line in message.get("tool_lines") or ())
    return size


def snapshot_pictures(snapshot: Mapping[str, Any]) -> list[tuple[str, bytes]]:
    """The snapshot's pictures, in order (the page shows the n-th at /s/<id>/picture/<n>)."""
    found = []
    for message in snapshot.get("messages") or ():
        for picture in message.get("pictures") or ():
            if picture.get("mime") in PICTURE_TYPES and isinstance(picture.get("data"), str):
                found.append((picture["mime"], base64.b64decode(picture["data"])))
    return found


def _markdown() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable("table")

    def link_open(renderer, tokens, index, options, env):  # every link opens apart, and says nothing of this page
        tokens[index].attrSet("rel", "noopener noreferrer nofollow")
        tokens[index].attrSet("target", "_blank")
        return renderer.renderToken(tokens, index, options, env)

    md.add_render_rule("link_open", link_open)
    return md


MARKDOWN = _markdown()


OPENER = re.compile(r"\$\$|\\\[|\\\(|\$")
CLOSER = {"$$": "$$", "\\[": "\\]", "\\(": "\\)", "$": "$"}
MOST_FORMULA_CHARS = 2_000
"""The chat's LaTeX delimiters (inert.LATEX_DELIMITERS), found in one pass: each closer is looked
for once past where it was last found, so a text full of openers costs its length, not its square.
An inline `$…$` follows Pandoc's rule (no space inside its ends, no digit after it, one line), so
that "$20 and $30" stays money."""
FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})", re.M)
MATHML_TAGS = frozenset(
    "math semantics annotation mrow mi mn mo ms mtext mspace msub msup msubsup mfrac msqrt mroot mstyle mtable mtr "
    "mtd munder mover munderover mpadded mphantom menclose merror mmultiscripts mprescripts none".split()
)
MATHML_ATTRIBUTES = frozenset(
    "xmlns display mathvariant stretchy fence separator lspace rspace columnalign rowspacing columnspacing displaystyle "
    "scriptlevel width height depth accent accentunder minsize maxsize movablelimits notation linethickness symmetric "
    "form largeop columnlines rowlines frame encoding".split()
)
_TAG = re.compile(r"<(/?)([A-Za-z][\w:-]*)((?:\s+[A-Za-z][\w:-]*=\"[^\"<>]*\")*)\s*(/?)>")
_ATTRIBUTE = re.compile(r"([A-Za-z][\w:-]*)=")


def _mathml(latex: str, display: bool) -> str | None:
    """A formula as MathML (latex2mathml), when every tag and attribute of it is MathML's own
    (a `\\text{…}` can carry markup through, and `\\href` a link): else None, and it is shown as
    written."""
    from latex2mathml.converter import convert

    try:
        made = convert(latex, display="block" if display else "inline")
    except Exception:  # (a formula it cannot read: shown as written)
        return None
    at = 0
    for tag in _TAG.finditer(made):
        if "<" in made[at : tag.start()] or ">" in made[at : tag.start()]:
            return None
        if tag.group(2) not in MATHML_TAGS or any(a not in MATHML_ATTRIBUTES for a in _ATTRIBUTE.findall(tag.group(3))):
            return None
        at = tag.end()
    return None if "<" in made[at:] or ">" in made[at:] else made


def _formulas(text: str) -> tuple[str, list[str]]:
    """The text with each formula outside code (blocks and inline spans) set aside (a placeholder),
    and their MathML."""
    made: list[str] = []
    inside, out = False, []
    for piece in re.split(r"(^ {0,3}(?:`{3,}|~{3,}).*$)", text, flags=re.M):  # (the fence lines kept, apart)
        if FENCE.match(piece):
            inside = not inside
            out.append(piece)
        elif inside:
            out.append(piece)
        else:
            out += [part if code else _set_aside(part, made) for part, code in _code_spans(piece)]
    return "".join(out), made


def _code_spans(piece: str) -> list[tuple[str, bool]]:
    """The piece cut at its inline code spans: (text, is it code). CommonMark's rule: a run of
    backticks opens a span that the next run of the same length closes; with none, it is text.
    Linear in the runs (a bisect each), whatever the backticks (no backtracking regex)."""
    runs = [(found.start(), found.end()) for found in re.finditer(r"`+", piece)]
    if len(runs) < 2:
        return [(piece, False)]
    by_length: dict[int, list[int]] = {}
    for index, (start, end) in enumerate(runs):
        by_length.setdefault(end - start, []).append(index)
    parts, at, index = [], 0, 0
    while index < len(runs):
        start, end = runs[index]
        same = by_length[end - start]
        after = bisect.bisect_right(same, index)
        if after == len(same):  # (no closer: these backticks are text)
            index += 1
            continue
        closer = same[after]
        parts += [(piece[at:start], False), (piece[start : runs[closer][1]], True)]
        at, index = runs[closer][1], closer + 1
    parts.append((piece[at:], False))
    return parts


def _set_aside(piece: str, made: list[str]) -> str:
    found_at: dict[str, int] = {}

    def closer_at(closer: str, start: int) -> int:
        known = found_at.get(closer)
        if known is None or (known != -1 and known < start):
            known = found_at[closer] = piece.find(closer, start)
        return known

    out, at, scan = [], 0, 0
    while (opened := OPENER.search(piece, scan)) is not None:
        opener, start = opened.group(), opened.end()
        end = closer_at(CLOSER[opener], start)
        latex = piece[start:end] if end > start else ""
        good = 0 < len(latex) <= MOST_FORMULA_CHARS
        if opener == "$":
            before = piece[opened.start() - 1] if opened.start() else " "
            after = piece[end + 1 : end + 2]
            good = good and len(latex) <= 500 and "\n" not in latex and before not in "\\$" and not before.isalnum()
            good = good and not latex[0].isspace() and not latex[-1].isspace() and not after.isdigit()
        mathml = _mathml(latex, opener in ("$$", "\\[")) if good else None
        if mathml is None:
            scan = start
            continue
        made.append(mathml)
        out += [piece[at : opened.start()], f"\ue010{len(made) - 1}\ue011"]
        at = scan = end + len(CLOSER[opener])
    out.append(piece[at:])
    return "".join(out)


def _rendered(text: str) -> str:
    text, formulas = _formulas(text.replace("\ue010", "").replace("\ue011", ""))  # (the placeholders' own)
    # (inert() writes money's `$` so that Gradio's renderer sees no formula; here formulas are done.)
    rendered = MARKDOWN.render(inert(text).replace("&#36;<wbr>", "$"))
    return re.sub(
        "\ue010(\\d+)\ue011",
        lambda found: formulas[int(found.group(1))] if int(found.group(1)) < len(formulas) else "",
        rendered,
    )


STYLE = """
math[display="block"] { display: block; margin: 8px 0; }
body { font: 16px/1.55 system-ui, sans-serif; margin: 0; background: #fafafa; color: #1f2328; }
main { max-width: 820px; margin: 0 auto; padding: 24px 16px 64px; }
header h1 { font-size: 1.4em; margin: 0 0 4px; } header p { color: #666; margin: 0 0 24px; }
.message { margin: 14px 0; padding: 10px 14px; border-radius: 10px; overflow-wrap: anywhere; }
.user { background: #e8ecff; margin-left: 15%; } .assistant { background: #fff; border: 1px solid #e3e3e3; }
.note, .footer { color: #666; font-size: .85em; } pre { background: #f3f4f6; padding: 10px; overflow-x: auto; }
code { font-family: ui-monospace, monospace; } table { border-collapse: collapse; } td, th { border: 1px solid #ddd; padding: 4px 8px; }
img { max-width: 100%; border-radius: 8px; } details { margin: 6px 0; }
a.continue { display: inline-block; margin-top: 24px; padding: 8px 16px; border-radius: 8px; background: #4f46e5; color: #fff; text-decoration: none; }
@media (prefers-color-scheme: dark) {
  body { background: #111; color: #e6e6e6; } .user { background: #262a45; } .assistant { background: #1a1a1a; border-color: #333; }
  pre { background: #222; } header p, .note, .footer { color: #aaa; }
}
"""


def shared_page(share_id: str, snapshot: Mapping[str, Any]) -> str:
    """The shared conversation as one HTML page: its title and description for link previews, each
    message rendered as the chat renders answers, and *Continue this chat*."""
    language = snapshot.get("language") if snapshot.get("language") in ("en", "fr") else DEFAULT_LANGUAGE

    def say(kind: str, **params: Any) -> str:
        return html.escape(words("page", kind, params or None, language))

    title = html.escape(str(snapshot.get("title") or "Causerie"))
    description = html.escape(str(snapshot.get("description") or ""))
    parts = [f"<header><h1>{title}</h1><p>{say('share.read_only')}</p></header>"]
    if snapshot.get("system_prompt"):
        parts.append(
            f"<details><summary>{say('share.system_prompt')}</summary>{_rendered(str(snapshot['system_prompt']))}</details>"
        )
    picture = 0
    for message in snapshot.get("messages") or ():
        role = "user" if message.get("role") == "user" else "assistant"
        body = []
        if message.get("thinking"):
            body.append(f"<details><summary>{say('thinking')}</summary>{_rendered(str(message['thinking']))}</details>")
        for line in message.get("tool_lines") or ():
            body.append(f"<p class='note'>🔧 {html.escape(str(line)[:300])}</p>")
        body.append(_rendered(str(message.get("content") or "")))
        for _ in message.get("pictures") or ():
            body.append(f'<img src="/s/{share_id}/picture/{picture}" alt="">')
            picture += 1
        if message.get("left_out"):
            body.append(f"<p class='note'>{say('share.left_out', count=int(message['left_out']))}</p>")
        if message.get("sources"):
            body.append(f"<div class='note'>{_rendered(str(message['sources']))}</div>")
        if message.get("notice"):
            body.append(f"<div class='note'>{_rendered(str(message['notice']))}</div>")
        if message.get("footer"):
            body.append(f"<p class='footer'>{html.escape(str(message['footer']))}</p>")
        parts.append(f"<section class='message {role}'>{''.join(body)}</section>")
    parts.append(f"<a class='continue' href='/?continue={share_id}'>{say('share.continue')}</a>")
    return (
        f"<!doctype html><html lang='{language}'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{title}</title><meta name='description' content='{description}'>"
        f"<meta property='og:title' content='{title}'><meta property='og:description' content='{description}'>"
        "<meta property='og:type' content='article'><meta name='robots' content='noindex'>"
        f"<style>{STYLE}</style></head><body><main>{''.join(parts)}</main></body></html>"
    )


def gone_page(language: str = DEFAULT_LANGUAGE) -> str:
    said = html.escape(words("page", "share.gone", None, language))
    return f"<!doctype html><html><head><meta charset='utf-8'><title>{said}</title><style>{STYLE}</style></head><body><main><p>{said}</p></main></body></html>"
