"""A queued request's body is dumped without copying the chat it carries."""

from __future__ import annotations

import functools
import logging

from . import Patch


def _plain_dumps(*model_classes) -> bool:
    """Whether pydantic's model_dump of these classes is only their fields' values dumped: no
    computed field, no extra field kept (what the dumps below rely on to give the same dict)."""
    return all(not cls.model_computed_fields and cls.model_config.get("extra") != "allow" for cls in model_classes)


@functools.cache
def bodies_not_copied() -> None:
    """Gradio copies, with pydantic's model_dump, the body of every request it queues
    (`PredictBodyInternal(**body.model_dump(), ...)`), and with it any chat the page sends (with
    Retry and Edit, or when asked for it: ChatHandlers.submit): with 100 earlier turns, 600 new
    objects made and collected. Gradio makes a PredictBody only from a request's JSON (FastAPI's
    validation; a dump of one), so its values are JSON values, which a dump would copy into equal
    ones: such a body is now dumped with its values as they are (the data list copied, as pydantic
    copies it). A subclass's body, and any call with arguments, is pydantic's own dump."""
    from gradio.data_classes import PredictBody

    if not _plain_dumps(PredictBody):
        logging.getLogger(__name__).warning("Gradio's request body has changed; it keeps being copied")
        return
    fields, whole = tuple(PredictBody.model_fields), PredictBody.model_dump

    @functools.wraps(whole)
    def model_dump(self, **kwargs):
        if kwargs or type(self) is not PredictBody:
            return whole(self, **kwargs)
        dumped = {name: getattr(self, name) for name in fields}
        dumped["data"] = list(self.data)
        return dumped

    PredictBody.model_dump = model_dump


PATCH = Patch(
    name="request_bodies",
    replaces=("gradio.data_classes:PredictBody.model_dump",),
    reads={
        "gradio.data_classes:PredictBody": "a963018af1ab5918",
        "gradio.data_classes:PredictBodyInternal": "5c591c99fe42bace",
        "gradio.routes:App.create_app/queue_join_helper": "ed4b8781c249adf1",
    },
    verified_on="gradio 6.31.0",
    buys="600 objects made and collected per request with 100 earlier turns (bench/NOTES.md)",
    upstream="none yet",
    apply=lambda _app: bodies_not_copied(),
)
