"""Sessions keep no copy of the page's config: only their State values and the components their events replaced.

Part of this module is adapted from Gradio (https://github.com/gradio-app/gradio), gradio/state_holder.py (SessionState.__setitem__), version 6.31.0,
Copyright Gradio authors, licensed under the Apache License 2.0 (http://www.apache.org/licenses/LICENSE-2.0);
the changes are described above.
"""

from __future__ import annotations

import datetime
import functools

from . import Patch


class _ConfigOnly:
    """What SessionState.__init__ reads of the Blocks, with no blocks to copy configs of."""

    __slots__ = ("blocks", "default_config")

    def __init__(self, default_config) -> None:
        self.default_config, self.blocks = default_config, {}


def _no_config(original):
    """In place of `original`, a method that keeps no config."""

    @functools.wraps(original)
    def keep_none(self, *_args) -> None:
        return None

    return keep_none


@functools.cache
def no_config_copies() -> None:
    """Gradio's SessionState keeps, for each session, a config of every block of the page, made
    when the session starts and remade (or given the new value) whenever an event reads or sets a
    block (`config_values`). Its one reader is deep links (gr.DeepLinkButton), which this app does
    not offer. Measured with this page (151 blocks): 7 ms of CPU and about 200 KB of memory per
    new session, then a config per input and per update of every answer, and each session's chat
    held in it until Gradio drops the session (up to 10,000 sessions later). Here a session keeps
    only what it must: its State values and the components its events replaced. A deep link, if
    one were asked for, would get the blocks as built (with any props an event replaced), not the
    values the session's inputs and outputs held: the app offers none."""
    from gradio import state_holder
    from gradio.components import State

    session = state_holder.SessionState
    original_init = session.__init__

    @functools.wraps(original_init)
    def __init__(self, blocks) -> None:
        original_init(self, _ConfigOnly(blocks.default_config))
        self._page_blocks = blocks.blocks

    @functools.wraps(session.__setitem__)
    def __setitem__(self, key: int, value) -> None:
        block = self.blocks_config.blocks.get(key)
        if isinstance(block, State):
            self._state_ttl[key] = (block.time_to_live, datetime.datetime.now())
            self.state_data[key] = value
        else:
            self.blocks_config.blocks[key] = value

    @functools.wraps(session.components.fget)
    def components(self):
        for key, block in self.blocks_config.blocks.items():
            if key in self._page_blocks and (config := self.blocks_config.config_for_block(key, [], block)):
                yield config

    session.__init__ = __init__
    session.__setitem__ = __setitem__
    session._update_config = _no_config(session._update_config)
    session._update_value_in_config = _no_config(session._update_value_in_config)
    session.components = property(components)


PATCH = Patch(
    name="session_configs",
    replaces=(
        "gradio.state_holder:SessionState.__init__",
        "gradio.state_holder:SessionState.__setitem__",
        "gradio.state_holder:SessionState._update_config",
        "gradio.state_holder:SessionState._update_value_in_config",
        "gradio.state_holder:SessionState.components",
    ),
    reads={
        "gradio.state_holder:SessionState.__init__": "1b2ea21dc42c45da",
        "gradio.state_holder:SessionState.__setitem__": "49a413d82fc29603",
        "gradio.state_holder:SessionState._update_config": "4fbf595c7b71660c",
        "gradio.state_holder:SessionState._update_value_in_config": "7e5b61f747b0dce7",
        "gradio.state_holder:SessionState.components": "010247a9cb27797d",
        "gradio.blocks:BlocksConfig.config_for_block": "9a733d0b23e7afc9",
    },
    verified_on="gradio 6.31.0",
    buys="7 ms of CPU and about 200 KB of memory per new session with this page (151 blocks), then a config per input and update (bench/NOTES.md)",
    upstream="none yet",
    apply=lambda _app: no_config_copies(),
)
