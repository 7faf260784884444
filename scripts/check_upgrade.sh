#!/usr/bin/env bash
# Try the newest versions the ranges (requirements.in) allow, without touching the locks: resolve
# them, install them in a new virtual environment, and say by name which patch of Gradio's code no
# longer matches (python -m causerie.patches). Exit 1 if one does: the app then runs without it,
# and bench/RESULTS.md says what that costs. To move the locks: scripts/lock.sh --upgrade, then the
# tests. Needs the network to the package index; takes a minute or two.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v uv >/dev/null || python -m pip install -q uv
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
uv pip compile requirements.in --upgrade --python-version 3.11 --no-annotate --quiet -o "$work/newest.txt"
echo "Newest allowed, where they differ from requirements.txt:"
newer=$(comm -13 <(grep '==' requirements.txt | sort) <(grep '==' "$work/newest.txt" | sort))
echo "${newer:-(none)}" | sed 's/^/  /'
uv venv --quiet --python "$(command -v python)" "$work/venv"
VIRTUAL_ENV="$work/venv" uv pip install --quiet -r "$work/newest.txt"
"$work/venv/bin/python" -m causerie.patches
