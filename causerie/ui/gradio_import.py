"""Import Gradio without regenerating its type stubs.

Every `import gradio` re-reads and re-parses the source of each of its ~80 component classes to
rewrite `.pyi` stub files beside them (`gradio.component_meta.create_or_modify_pyi`, called by
the components' metaclass). The stubs are for editors working on Gradio itself; a running app
never reads them. On two cores that is more than a second of every start (bench/NOTES.md), and
Gradio's import time is an open upstream issue (gradio-app/gradio#7791).

`skip_stub_regeneration()` must run before Gradio is first imported: it replaces that one
function, as the module is loaded, with one that does nothing. If Gradio is already imported,
or a later version renames the function, nothing is changed and Gradio works as it always did.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
from types import ModuleType

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
            if callable(getattr(module, _FUNCTION, None)):
                setattr(module, _FUNCTION, _leave_stubs_alone)

        spec.loader.exec_module = exec_then_patch
        return spec


def skip_stub_regeneration() -> bool:
    """True if Gradio's next import will skip rewriting its stubs."""
    if "gradio" in sys.modules:
        return False
    if not any(isinstance(finder, _StubSkipper) for finder in sys.meta_path):
        sys.meta_path.insert(0, _StubSkipper())
    return True
