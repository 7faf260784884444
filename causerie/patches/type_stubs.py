"""Import Gradio without regenerating its type stubs.

Every `import gradio` re-reads and re-parses the source of each of its ~80 component classes to
rewrite `.pyi` stub files beside them (`gradio.component_meta.create_or_modify_pyi`, called by
the components' metaclass). The stubs are for editors working on Gradio itself; a running app
never reads them. On two cores that is more than a second of every start (bench/NOTES.md), and
Gradio's import time is an open upstream issue (gradio-app/gradio#7791).

`skip_stub_regeneration()` must run before Gradio is first imported (causerie/ui/__init__.py):
as the module is loaded, it replaces that one function with one that does nothing, if its source
is the one verified (PATCH.reads). If Gradio is already imported, or the function has changed or
gone, nothing is changed (the log says so) and Gradio works as it always did. This patch is
applied at import, so it reads CAUSERIE_PATCHES itself.
"""

from __future__ import annotations

import functools
import importlib.abc
import importlib.machinery
import logging
import os
import sys
from types import ModuleType

from . import ENV, Patch, selected, source_digest

_MODULE = "gradio.component_meta"
_FUNCTION = "create_or_modify_pyi"


def _leave_stubs_alone(*_args, **_kwargs) -> None:
    return None


class _StubSkipper(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path, target=None):
        if fullname != _MODULE:
            return None
        sys.meta_path.remove(self)  # needed once
        spec = importlib.machinery.PathFinder.find_spec(fullname, path, target)
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        exec_module = spec.loader.exec_module

        def exec_then_patch(module: ModuleType) -> None:
            exec_module(module)
            if not callable(getattr(module, _FUNCTION, None)):
                return
            target = f"{_MODULE}:{_FUNCTION}"
            if source_digest(target) != PATCH.reads[target]:
                logging.getLogger(__name__).warning(
                    "Patch type_stubs is not applied: %s changed since %s", target, PATCH.verified_on
                )
                return
            setattr(module, _FUNCTION, functools.wraps(module.create_or_modify_pyi)(_leave_stubs_alone))

        spec.loader.exec_module = exec_then_patch
        return spec


def skip_stub_regeneration() -> bool:
    """True if Gradio's next import will skip rewriting its stubs (unless CAUSERIE_PATCHES leaves
    this patch out: an unknown name there is refused when the settings are read)."""
    try:
        wanted = selected(os.environ.get(ENV))
    except ValueError:
        wanted = frozenset()
    if "gradio" in sys.modules or PATCH.name not in wanted:
        return False
    if not any(isinstance(finder, _StubSkipper) for finder in sys.meta_path):
        sys.meta_path.insert(0, _StubSkipper())
    return True


PATCH = Patch(
    name="type_stubs",
    replaces=("gradio.component_meta:create_or_modify_pyi",),
    reads={"gradio.component_meta:create_or_modify_pyi": "b40501ddad1680d0"},
    verified_on="gradio 6.31.0",
    buys="more than a second of every start on two cores (bench/NOTES.md)",
    upstream="https://github.com/gradio-app/gradio/issues/7791 (Gradio's import time)",
    apply=lambda _app: None,  # (applied at import: skip_stub_regeneration)
)
