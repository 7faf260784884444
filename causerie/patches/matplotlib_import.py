"""A missing matplotlib fails to import at once, not after a search of the whole sys.path.

Gradio tries `import matplotlib` around every streamed update (gradio.utils.MatplotlibBackendMananger,
entered by route_utils.call_process_api); when it is not installed, each try searches every folder of
sys.path. A None entry in sys.modules makes the failing import immediate. Only when matplotlib is not
installed at all: then no code of this process could import it anyway.
"""

from __future__ import annotations

import functools
import importlib.util
import sys

from . import Patch


@functools.cache
def missing_matplotlib_fails_at_once() -> None:
    if "matplotlib" not in sys.modules and importlib.util.find_spec("matplotlib") is None:
        sys.modules["matplotlib"] = None  # type: ignore[assignment]


PATCH = Patch(
    name="matplotlib_import",
    replaces=("sys.modules['matplotlib'] (when not installed)",),
    reads={
        "gradio.utils:MatplotlibBackendMananger": "de9f0baab22d8525",
        "gradio.route_utils:call_process_api": "9898b033fdb75a37",
    },
    verified_on="gradio 6.31.0",
    buys="a search of every sys.path folder per streamed update (not measured on its own)",
    upstream="none yet",
    apply=lambda _app: missing_matplotlib_fails_at_once(),
    reach="the whole process, and only while matplotlib is not installed",
)
