"""A Stop that never shows an error: what Gradio sends the page for an event it cancelled.

Gradio's `/cancel` route (gradio/routes.py, `cancel_event`) ends the cancelled event with a
completion message whose output is `{}`, with no `data`. The page's client (gradio's
`submit`) takes every successful completion's output as data, and hands the page's event loop
(`Blocks.svelte`, `dispatch`) `undefined` for the event's outputs; applying them throws, and the
loop's `catch` marks the event failed: a bare red "Error" over its outputs (the chat), with no
message. The cancel itself sets the event's status to complete once its two requests
(`/cancel`, `/reset`) are answered, which hides the failure when the completion was handled
first: at rest it usually was; under load, about one Stop in four or five was left with the badge
(tests/test_stop_browser.py reproduces it). The bin and Compare's Stop cancel the same way.

Here that completion carries `"data": []`, which the page reads as "no output changes": the
event ends as complete, nothing is shown that was not. Only a successful completion whose output
is empty, which only that route makes, and only if the route's source is the one read here.
Upstream: not reported yet (no issue found for it); gradio-app/gradio#10648 is another symptom of
cancelling a stream (a console error), not this one.
"""

from __future__ import annotations

import functools

from . import Patch


@functools.cache
def cancels_complete_without_error() -> None:
    from gradio.server_messages import ProcessCompletedMessage

    original = ProcessCompletedMessage.__init__

    @functools.wraps(original)
    def __init__(self, **data) -> None:
        if data.get("success") is True and data.get("output") == {}:
            data["output"] = {"data": []}
        original(self, **data)

    ProcessCompletedMessage.__init__ = __init__


PATCH = Patch(
    name="cancel_completion",
    replaces=("gradio.server_messages:ProcessCompletedMessage.__init__",),
    reads={
        "gradio.routes:App.create_app/cancel_event": "dc9bd3498270309b",
        "gradio.server_messages:ProcessCompletedMessage": "150ac51497412393",
    },
    verified_on="gradio 6.31.0",
    buys="about one Stop in five under load left Gradio's bare red Error over the chat (tests/test_stop_browser.py)",
    upstream="none yet (gradio-app/gradio#10648 is another symptom of cancelling a stream)",
    apply=lambda _app: cancels_complete_without_error(),
    reach="every Gradio app in the process (only a successful completion whose output is empty, which only the cancel route makes)",
)
