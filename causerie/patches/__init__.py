"""Every replacement of another library's code at run time, each a named, guarded, switchable unit.

One module per patch, each with its `PATCH` record: what it replaces, the versions it was verified
on, what it buys (the measurement, bench/NOTES.md), its upstream link. Before a patch is applied,
the source of everything it replaces or reads privately is compared with the digests recorded
when it was written (`Patch.reads`): if one differs, the patch is left out, Gradio keeps its own
code, and the log says so once. `python -m causerie.patches` lists them and says by name which
no longer match the installed libraries (run it after any upgrade).

CAUSERIE_PATCHES turns them off: `off` (none), a list of names (only those), or a list of names
each after a minus (all but those). CI runs the API and a browser test with `off`: the app works
on plain Gradio; the patches only make it cheaper.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import inspect
import logging
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)

ENV = "CAUSERIE_PATCHES"


@dataclass(frozen=True, eq=False)
class Patch:
    name: str
    """What it does, in a few words (the name CAUSERIE_PATCHES takes)."""
    replaces: tuple[str, ...]
    """What it replaces or wraps: `module:Qualified.name`."""
    reads: dict[str, str]
    """Everything it replaces or reads privately, `module:Qualified.name` (or `module:function/inner`
    for a function defined inside another), with the digest of its source when verified."""
    verified_on: str
    buys: str
    """What it saves or fixes, with the measurement."""
    upstream: str
    apply: Callable[[Any], None] = field(repr=False)
    """Applies it; given the app (gr.Blocks) for the patches that work on one app's blocks."""
    reach: str = "every Gradio app in the process"

    def changed(self) -> list[str]:
        """What it replaces or reads that is no longer as it was verified (or gone)."""
        return [target for target, digest in self.reads.items() if source_digest(target) != digest]


def resolve(target: str) -> Any:
    """The object `module:Qualified.name` names; `module:function/inner` is the code of a function
    defined inside another (Gradio's routes are closures in App.create_app)."""
    module_name, _, qualname = target.partition(":")
    path, _, inner = qualname.partition("/")
    obj: Any = importlib.import_module(module_name)
    for part in path.split("."):
        obj = inspect.getattr_static(obj, part) if isinstance(obj, type) else getattr(obj, part)
    if isinstance(obj, property):
        obj = obj.fget
    if isinstance(obj, (staticmethod, classmethod)):
        obj = obj.__func__
    while _ours(obj) and hasattr(obj, "__wrapped__"):
        obj = obj.__wrapped__  # (a patch's wrapper, functools.wraps: what it wraps is what was verified)
    if inner:
        found = [c for c in obj.__code__.co_consts if inspect.iscode(c) and c.co_name == inner]
        obj = found[0] if len(found) == 1 else None
    return obj


def _ours(obj: Any) -> bool:
    """Whether `obj` is a function written in this folder (a patch's replacement)."""
    code = getattr(obj, "__code__", None)
    return code is not None and os.path.dirname(code.co_filename) == os.path.dirname(__file__)


def source_digest(target: str) -> str:
    """sha256 (first 16 hex) of the source of what `target` names; "" if it is gone or has none."""
    try:
        return hashlib.sha256(inspect.getsource(resolve(target)).encode()).hexdigest()[:16]
    except Exception:  # noqa: BLE001 (gone, renamed, no source: not what the patch was written for)
        return ""


@functools.cache
def all_patches() -> tuple[Patch, ...]:
    from . import (
        api_schemas,
        cancel_completion,
        closed_sessions,
        file_walk,
        finished_api_sessions,
        generator_start,
        login_check,
        matplotlib_import,
        plain_chats,
        queue_loop,
        request_bodies,
        session_configs,
        skipped_outputs,
        stream_diff,
        stream_messages,
        type_stubs,
    )

    return (
        type_stubs.PATCH,
        matplotlib_import.PATCH,
        api_schemas.PATCH,
        session_configs.PATCH,
        closed_sessions.PATCH,
        finished_api_sessions.PATCH,
        skipped_outputs.PATCH,
        plain_chats.PATCH,
        queue_loop.PATCH,
        stream_diff.PATCH,
        file_walk.PATCH,
        request_bodies.PATCH,
        stream_messages.PATCH,
        login_check.PATCH,
        generator_start.PATCH,
        cancel_completion.PATCH,
    )


def names() -> list[str]:
    return [patch.name for patch in all_patches()]


def selected(value: str | None) -> frozenset[str]:
    """The patches CAUSERIE_PATCHES asks for (`value`; empty or `all`: every one). Raises
    ValueError, with what to write instead, for a name that is no patch's."""
    known = names()
    value = (value or "").strip()
    if value.lower() in ("", "all", "on"):
        return frozenset(known)
    if value.lower() in ("off", "none"):
        return frozenset()
    items = [item.strip() for item in value.split(",") if item.strip()]
    unknown = [item.lstrip("-") for item in items if item.lstrip("-") not in known]
    if unknown:
        raise ValueError(
            f"{ENV}: no patch is named {', '.join(unknown)}. Write off, all, some of these names, "
            f"or some of them each after a minus: {', '.join(known)}."
        )
    removed = {item[1:] for item in items if item.startswith("-")}
    kept = {item for item in items if not item.startswith("-")}
    if removed and kept:
        raise ValueError(f"{ENV}: either names (only those) or names after a minus (all but those), not both.")
    return frozenset(known) - removed if removed else frozenset(kept)


def apply(app: Any, wanted: Iterable[str], candidates: Iterable[Patch] | None = None) -> list[str]:
    """Apply the patches named in `wanted` (of `candidates`: all of them by default) that still
    match what they were written for; returns the names applied. Each applies once per process
    (what it replaces is process-wide). One that does not match is left out, and the log says so
    once; Gradio keeps its own code there."""
    wanted = set(wanted)
    applied = []
    for patch in all_patches() if candidates is None else candidates:
        if patch.name in wanted and patch.name != "type_stubs" and _matches(patch):
            patch.apply(app)
            applied.append(patch.name)
    return applied


@functools.cache
def _matches(patch: Patch) -> bool:
    if changed := patch.changed():
        log.warning(
            "Patch %s is not applied: %s changed since %s (python -m causerie.patches names what changed)",
            patch.name,
            ", ".join(changed),
            patch.verified_on,
        )
    return not changed
