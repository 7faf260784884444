"""Less of Gradio's work per new session.

Gradio builds a config of every block of the page for each new session (and again for each
component an event updates). Each config includes the component's API schema, which several
components (UploadButton, Chatbot…) make anew with pydantic every time, though it never changes
for a given component. Measured with 100 page opens on this page: 19 ms of app CPU per open
before, see bench/NOTES.md for after. The schema is computed once per component, then reused.
"""

from __future__ import annotations

import functools

import gradio as gr

SCHEMA_METHODS = ("api_info", "api_info_as_input", "api_info_as_output")


def reuse_api_schemas(demo: gr.Blocks) -> None:
    for block in demo.blocks.values():
        for name in SCHEMA_METHODS:
            method = getattr(block, name, None)
            if callable(method) and name not in vars(block):
                setattr(block, name, functools.cache(method))
