#!/usr/bin/env bash
# Make the lock files (requirements*.txt) from the hand-kept ranges (requirements*.in), with uv.
#
#   scripts/lock.sh              the versions installed here (after a green CI run: the verified ones)
#   scripts/lock.sh --upgrade    the newest versions the ranges allow (then run the tests, and
#                                python -m causerie.patches, before committing: scripts/check_upgrade.sh)
#
# requirements-dev.txt is resolved first (everything: app, offline model, tests); the two others
# are then resolved within it, so that the three never disagree. README.md's sdk_version must be
# the gradio pinned in requirements.txt (a Space installs that Gradio first).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v uv >/dev/null || python -m pip install -q uv
opts=(--universal --python-version 3.11 --no-annotate --quiet --custom-compile-command "scripts/lock.sh")
if [ "${1:-}" = "--upgrade" ]; then
  uv pip compile requirements-dev.in --upgrade "${opts[@]}" -o requirements-dev.txt
else
  installed=$(mktemp)
  python -m pip freeze --all --exclude-editable | grep -v " @ " > "$installed"
  uv pip compile requirements-dev.in -c "$installed" "${opts[@]}" -o requirements-dev.txt
  rm -f "$installed"
fi
uv pip compile requirements-local.in -c requirements-dev.txt "${opts[@]}" -o requirements-local.txt
uv pip compile requirements.in -c requirements-dev.txt "${opts[@]}" -o requirements.txt
gradio=$(grep -i '^gradio==' requirements.txt | cut -d= -f3)
if ! grep -q "^sdk_version: $gradio\$" README.md; then
  echo "README.md's sdk_version is not $gradio (the gradio of requirements.txt): set it" >&2
  exit 1
fi
