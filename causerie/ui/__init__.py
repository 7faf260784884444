"""The Gradio layer: layout, events and rendering only. No HTTP, no provider logic."""

from .app import build_demo, launch_options

__all__ = ["build_demo", "launch_options"]
