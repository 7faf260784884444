"""What the page is given to show beside the person's own words is inert (causerie/inert.py): no
tag that fetches, covers or submits, no image, no diagram; code and formulas as written.
tests/test_inert_browser.py checks the same in Chromium, where Gradio renders it."""

from __future__ import annotations

import random
import re

import pytest

from causerie.answering.answer import Answer
from causerie.events import Citation, Failure, Finish, TextDelta
from causerie.inert import inert, inert_text
from causerie.ui.render import LATEX_DELIMITERS, page_messages, render

CARRIERS = {
    "image": "![pixel](http://evil.example:8000/md.png)",
    "img": '<img src="http://evil.example/img.png">',
    "srcset": '<img srcset="http://evil.example/s.png 1x">',
    "video": '<video poster="http://evil.example/p.png" autoplay src="http://evil.example/v.mp4"></video>',
    "audio": '<audio autoplay src="http://evil.example/a.mp3"></audio>',
    "style attribute": '<span style="background:url(http://evil.example/s.png)">x</span>',
    "style element": "<style>body{background:url(http://evil.example/b.png)}</style>",
    "overlay": '<div style="position:fixed;inset:0">Sign in again</div>',
    "form": '<form action="http://evil.example/f"><button>Send</button></form>',
    "refresh": '<meta http-equiv="refresh" content="0;url=http://evil.example/r">',
    "base": '<base href="http://evil.example/">',
    "svg": '<svg><image href="http://evil.example/svg.png"/></svg>',
    "comment": "<!-- hidden -->",
}
TAG = re.compile(r"<(?!/?(?:b|i|code|br|sub)>|https://)[A-Za-z/!?]")


def shown(text: str) -> str:
    """The text as a chat shows it (one assistant message)."""
    answer = Answer()
    answer.apply(TextDelta(text))
    return render(answer)[0]["content"][0]["text"]


@pytest.mark.parametrize("carrier", CARRIERS)
def test_every_carrier_in_an_answer_is_shown_as_text(carrier):
    for text in (CARRIERS[carrier], f"Before.\n\n{CARRIERS[carrier]}\n\nAfter.", f"- item {CARRIERS[carrier]}"):
        out = shown(text)
        assert not TAG.search(out) and "![" not in out, out


def test_an_image_becomes_a_link_to_it_naming_its_host():
    assert inert('See ![a chart](https://img.example:8443/c.png "t") and ![](http://x.example/y)') == (
        'See [🖼 img.example:8443: a chart](https://img.example:8443/c.png "t") and [🖼 x.example](http://x.example/y)'
    )
    assert inert("!![a](u)") == "&#33;[🖼 a](u)"  # the first mark stays text, without making an image
    assert inert("![ref][1]") == "[🖼 ref][1]"


def test_code_and_formulas_show_as_written():
    text = (
        '```html\n<form action="/x"><img src="a.png"></form>\n```\n\n'
        "1. In a list:\n   ```jsx\n   const A = () => <div>{x}</div>;\n   ```\n\n"
        "| a | b |\n|---|---|\n| x<br>y | $a<b$ |\n\n<sub>small</sub> and <https://ok.example/x>"
    )
    assert inert(text) == text
    # Inline code with a tag in it: a <code> element with the same characters, escaped.
    assert inert("Use `<div>` or `x`") == "Use <code>&#60;div&#62;</code> or `x`"


def test_a_diagram_shows_its_code():
    assert inert('```mermaid\ngraph TD; A["<img src=x>"]\n```') == '``` mermaid\ngraph TD; A["<img src=x>"]\n```'
    assert "```mermaid" not in inert("$$ ```mermaid\n<b>")  # (Gradio's diagrams may start mid-line)


@pytest.mark.parametrize(
    "text",
    [
        "- ```\n  x\n  ```\n  <img src=//evil>",  # a fence in a list item
        "- a\n  ```\n<img src=//evil>\n```\n<img src=//evil>",  # a line less indented than its fence
        '[x]: http://a "\n```\n"\n<img src=//evil>\n```',  # a link definition over lines
        "para\n```$\n<img src=//evil>\n```",  # a fence line Gradio's LaTeX may cut
        "$\n```\n$\n<img src=//evil>\n```",  # a fence inside a formula
        "```\n    ```\n<img src=//evil>\n```\n<img src=//evil>",  # a closing line only some accept
        "www.example.com\\<img src=//evil> www.example.com\\![a](//evil)",  # an autolink takes the backslash
        "a <\\!-- b",  # an escape that makes a comment
    ],
)
def test_where_the_markdown_could_read_two_ways_tags_are_escaped(text):
    out = inert(text)
    assert "<img" not in out and "<!" not in out and "![" not in out, out


def test_bare_inline_tags_stay_but_never_alone_on_a_line():
    assert inert("a <b>bold</b> word<br>next") == "a <b>bold</b> word<br>next"
    assert inert("<b>\n```\n<img src=//x>\n```").startswith("&lt;b>")  # alone it opens an HTML block
    assert inert('<b class="x">') == '&lt;b class="x">'


def test_inert_twice_is_inert_once():
    pieces = [
        "```",
        "````",
        "~~~",
        "  ```",
        "- ",
        "1. ",
        "> ",
        "\n",
        "\n\n",
        "`",
        "``",
        "$",
        "$$",
        "\\(",
        "\\)",
        "<img src=//x>",
        "<b>",
        "</b>",
        "<br>",
        "![a](//x/y.png)",
        "![",
        '[x]: //u "',
        "\\",
        "\\`",
        "<https://x.y/z>",
        "<!--",
        "text",
        " ",
        "\t",
        "|",
        "\r",
        "&lt;",
        "<code>",
        "```mermaid",
    ]
    rng = random.Random(7)
    for _ in range(3000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 30)))
        once = inert(text)
        assert inert(once) == once, text


def test_what_the_page_says_around_an_answer_is_inert_too():
    answer = Answer("OpenAI", "gpt<img src=//evil/m.png>")
    answer.apply(TextDelta("ok"))
    answer.citations = (Citation("https://a.example/p", "<img src=//evil/t.png>![x](//evil/c.png)"),)
    answer.apply(Finish("stop"))
    answer.failure = Failure("attachment.type", {"name": "<img src=//evil/f.png>.exe", "kind": "exe"})  # a file name
    for message in render(answer):
        text = message["content"][0]["text"]
        assert not TAG.search(text.removeprefix("<sub>").removesuffix("</sub>")) and "![" not in text, text
    saved = [
        {
            "role": "assistant",
            "content": "ok",
            "sources": "<img src=//evil>",
            "notice": "![n](//evil)",
            "footer": "<video poster=//evil>",
        }
    ]
    for message in page_messages(saved):
        text = message["content"][0]["text"]
        assert "<img" not in text and "![" not in text and "<video" not in text, text
    gone = page_messages([{"role": "user", "content": "<b>mine</b>", "files": [{"orig_name": "<img src=//evil>.png"}]}])
    text = gone[0]["content"][0]["text"]  # the question as written; the file it names, as text
    assert text.startswith("<b>mine</b>") and "&lt;img src=//evil>.png" in text and "<img" not in text


def test_a_note_naming_data_escapes_every_tag_and_image():
    assert inert_text("A was openai:<img src=//x> `<b>` ![a](b)") == "A was openai:&lt;img src=//x> `&lt;b>` [🖼 a](b)"


def test_every_chat_renders_with_the_delimiters_inert_reads_with(app):
    import gradio as gr

    chats = [block for block in app.demo.blocks.values() if isinstance(block, gr.Chatbot)]
    assert len(chats) >= 3 and all(chat.latex_delimiters == LATEX_DELIMITERS for chat in chats)


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("From $6 billion to $24 billion.", "From &#36;<wbr>6 billion to &#36;<wbr>24 billion."),
        ("It costs $5 and $x$ is math.", "It costs &#36;<wbr>5 and $x$ is math."),
        ("Math: $2^{10} = 1024$, money: $3.", "Math: $2^{10} = 1024$, money: &#36;<wbr>3."),
        ("`$5 and $6` and $7", "`$5 and $6` and &#36;<wbr>7"),  # (code shows as written)
        ("```\nprice = '$5' + '$6'\n```\n$8", "```\nprice = '$5' + '$6'\n```\n&#36;<wbr>8"),
        ("$$ 2 + $3 $$ and $4", "$$ 2 + $3 $$ and &#36;<wbr>4"),
        ("A $x$ alone, no money", "A $x$ alone, no money"),
    ],
)
def test_a_dollar_before_a_digit_is_money_not_a_formula(text, shown):
    assert inert(text) == shown
    assert inert(shown) == shown


def test_money_goes_back_to_the_model_and_into_saves_as_written():
    from causerie.ui.render import message
    from causerie.ui.turns import plain_turns, saved_messages

    chat = [message("user", "How much?"), message("assistant", "From $6 billion to $24 billion.")]
    assert "&#36;" in chat[1]["content"][0]["text"]  # (shown as money)
    assert plain_turns(chat)[1]["content"] == "From $6 billion to $24 billion."
    assert saved_messages(chat)[1]["content"] == "From $6 billion to $24 billion."
