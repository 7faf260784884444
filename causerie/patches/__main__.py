"""`python -m causerie.patches`: whether each patch still matches the installed libraries.

Prints one line per patch: its name, and either "matches" or what changed since it was verified;
exits with 1 if any no longer matches (the app then runs without it: Gradio's own code). Run it
after any upgrade (scripts/check_upgrade.sh runs it against the newest allowed versions).
"""

from __future__ import annotations

import sys

from .type_stubs import skip_stub_regeneration

skip_stub_regeneration()  # (as the app imports Gradio: its stubs are left alone)

from . import all_patches  # noqa: E402


def main() -> int:
    import gradio

    print(f"gradio {gradio.__version__}; patches verified on {sorted({p.verified_on for p in all_patches()})[0]}")
    changed_any = False
    for patch in all_patches():
        changed = patch.changed()
        changed_any = changed_any or bool(changed)
        state = "matches" if not changed else "CHANGED: " + ", ".join(changed)
        print(f"{patch.name:24} {state}")
    return 1 if changed_any else 0


if __name__ == "__main__":
    sys.exit(main())
