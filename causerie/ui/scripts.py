"""The page's JavaScript, from ui/js/: one function per file, as Gradio's `js=` takes it.

A file holds one function expression, after its comment lines. One that takes parameters takes
them first, as an object (`({key, count}, current) => ...`); `script` gives Gradio a function of
the page's values only, which calls it with those parameters: JSON values, or other scripts
(`Script`), passed as functions. No text of a script is ever replaced.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

FOLDER = Path(__file__).resolve().parent / "js"


class Script(str):
    """A script's function, as text: passed to another script as a function, not as a string."""


@functools.cache
def _source(name: str) -> str:
    lines = (FOLDER / f"{name}.js").read_text(encoding="utf-8").splitlines()
    return "\n".join(line for line in lines if not line.startswith("//")).strip()


def script(name: str, **params: object) -> Script:
    """ui/js/<name>.js as a function of the page's values: called with `params` first, if any."""
    source = _source(name)
    if not params:
        return Script(source)
    given = ", ".join(
        f"{json.dumps(key)}: {value if isinstance(value, Script) else json.dumps(value)}" for key, value in params.items()
    )
    return Script(f"(...values) => ({source})({{{given}}}, ...values)")
