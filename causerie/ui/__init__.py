"""The Gradio layer: layout, events and rendering only. No HTTP, no provider logic."""

from ..patches.type_stubs import skip_stub_regeneration

skip_stub_regeneration()  # before anything here imports gradio (patches/type_stubs.py)

from .app import build_demo, launch_options  # noqa: E402
from .labels import Labels  # noqa: E402

__all__ = ["Labels", "build_demo", "launch_options"]
