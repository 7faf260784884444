"""An output a handler leaves alone is sent as Gradio's empty update, without building a component for it."""

from __future__ import annotations

import functools

from . import Patch

SKIPPED = {"__type__": "update"}


@functools.cache
def skips_without_building() -> None:
    """An output a handler leaves alone (`gr.skip()`, or left out of a dict return) is an update
    with no props; Gradio still builds a new component for it from the block's arguments (a
    pydantic schema, `inspect.signature`…), keeps it in the session, and sends the empty update.
    The page's opening step leaves four of its outputs alone for a new visitor: four components
    built per page opened and held per session. For handlers that skip post-processing (this
    app's), such an output is sent as the same empty update without building anything."""
    from gradio.blocks import Blocks, convert_component_dict_to_list

    original = Blocks.postprocess_data

    @functools.wraps(original)
    async def postprocess_data(self, block_fn, predictions, state):
        outputs = block_fn.outputs
        if block_fn.postprocess or block_fn.batch or len(outputs) < 2:
            return await original(self, block_fn, predictions, state)
        if type(predictions) is dict and predictions:  # ({} goes to Gradio, which refuses it)
            values = (
                [dict(SKIPPED) for _ in outputs]
                if predictions == SKIPPED
                else convert_component_dict_to_list(list(outputs), predictions)
            )
        else:
            values = predictions
        if not isinstance(values, (list, tuple)):
            return await original(self, block_fn, predictions, state)
        left = [
            i
            for i, (value, block) in enumerate(zip(values, outputs, strict=False))
            if type(value) is dict and value == SKIPPED and not block.stateful
        ]
        if not left:
            return await original(self, block_fn, values, state)
        values = list(values)
        for i in left:
            values[i] = None  # passed on as it is (no post-processing), then replaced
        output = await original(self, block_fn, values, state)
        for i in left:
            output[i] = dict(SKIPPED)
        return output

    Blocks.postprocess_data = postprocess_data


PATCH = Patch(
    name="skipped_outputs",
    replaces=("gradio.blocks:Blocks.postprocess_data",),
    reads={
        "gradio.blocks:Blocks.postprocess_data": "5f6a865a3446ba0b",
        "gradio.blocks:convert_component_dict_to_list": "1e5495d7c77dbb70",
    },
    verified_on="gradio 6.31.0",
    buys="four components built and held per page opened, for a new visitor (bench/NOTES.md)",
    upstream="none yet",
    apply=lambda _app: skips_without_building(),
)
