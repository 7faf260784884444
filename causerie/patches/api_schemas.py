"""A component's API schema, computed once per component of the app instead of at every page open."""

from __future__ import annotations

import functools

from . import Patch

SCHEMA_METHODS = ("api_info", "api_info_as_input", "api_info_as_output")


def reuse_api_schemas(demo) -> None:
    """A component's config includes its API schema, which several components (UploadButton,
    Chatbot…) make anew with pydantic every time, though it never changes for a given component
    (19 ms of CPU per page open at first). Computed once per component, then reused."""
    for block in demo.blocks.values():
        for name in SCHEMA_METHODS:
            method = getattr(block, name, None)
            if callable(method) and name not in vars(block):
                setattr(block, name, functools.cache(method))


PATCH = Patch(
    name="api_schemas",
    replaces=("gradio.components.base:Component.api_info",),
    reads={
        "gradio.components.base:Component.api_info": "082d55c3bb949fb1",
        "gradio.components.base:Component.api_info_as_input": "afb439df8bfecca1",
        "gradio.components.base:Component.api_info_as_output": "76559f46d67f3b02",
    },
    verified_on="gradio 6.31.0",
    buys="19 ms of CPU per page open at first (bench/NOTES.md); Gradio 6.31 caches Component.api_info itself, so now only for components that override it (UploadButton)",
    upstream="none yet",
    apply=reuse_api_schemas,
    reach="only the blocks of this app (per instance)",
)
