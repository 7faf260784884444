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


class _ConfigOnly:
    """What SessionState.__init__ reads of the Blocks, with no blocks to copy configs of."""

    __slots__ = ("blocks", "default_config")

    def __init__(self, default_config) -> None:
        self.default_config, self.blocks = default_config, {}


def configs_on_demand() -> None:
    """Gradio's SessionState makes, when each new session starts, a config of every block of the
    page (`config_values`), kept for the session's life (up to 10,000 sessions): for deep links,
    which this app does not use, and for blocks an event updated, which it keeps up to date
    itself. Measured with this page (151 blocks): 7 ms of CPU and about 200 KB of memory per
    session. Here a session starts with none; a block's config is made when an event updates it,
    as before, and the others only if a deep link is asked for (the same configs as before:
    tests/test_ui_parts.py compares them)."""
    from gradio import state_holder

    session = state_holder.SessionState
    if getattr(session, "_configs_on_demand", False):
        return
    original_init = session.__init__

    def __init__(self, blocks) -> None:
        original_init(self, _ConfigOnly(blocks.default_config))
        self._page_blocks = blocks.blocks

    def components(self):
        for key, block in self.blocks_config.blocks.items():
            if key in self._page_blocks:
                config = self.config_values.get(key) or self.blocks_config.config_for_block(key, [], block)
                if config:
                    yield config

    session.__init__ = __init__
    session.components = property(components)
    session._configs_on_demand = True
    session._eager_init = original_init
