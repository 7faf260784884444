"""The package's layout is its design (ARCHITECTURE.md): subsystems in layers, each importing only
from the layers below it, never back up."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "causerie"

LAYERS = [
    {"patches"},  # replacements of Gradio's code: nothing of the app
    {"i18n"},  # the words
    {"events", "lru_cache", "inert"},  # the streaming contract, and two small tools everyone uses
    {"files"},  # attachments and their text
    {"endpoints"},  # the wire to providers
    {"config"},  # settings, read once at the edge
    {"tools"},  # the MCP client for the tools models call, and their approvals
    {"answering"},  # one answer: options, limits, the service, runs
    {"history"},  # saved conversations and their store
    {"cockpit"},  # the owner's numbers, from the answer records
    {"compare"},  # compare mode and its votes
    {"mcp_server"},  # the tools for MCP clients (Starlette and the mcp SDK, no Gradio)
    {"ui"},  # the Gradio layer
]
RANK = {name: rank for rank, layer in enumerate(LAYERS) for name in layer}


def subsystem(dotted: str) -> str:
    parts = dotted.split(".")
    return parts[1] if len(parts) > 1 else ""


def imports_of(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every import of the package in `path`, absolute."""
    here = path.relative_to(PACKAGE.parent).with_suffix("").parts
    package = list(here if here[-1] == "__init__" else here[:-1])
    if package[-1:] == ["__init__"]:
        package = package[:-1]
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and (node.level or (node.module or "").startswith("causerie")):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join(base + ([node.module] if node.module else []))
            names = [module + "." + alias.name for alias in node.names] if not node.module else [module]
            found += [(node.lineno, name) for name in names]
        elif isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names if alias.name.startswith("causerie.")]
    return found


def test_every_module_is_in_a_subsystem_and_imports_only_from_below():
    upward = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.parent == PACKAGE and path.name == "__init__.py":
            continue
        dotted = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        source = subsystem(dotted)
        assert source in RANK, f"{dotted} is in no subsystem of tests/test_layout.py"
        for line, target in imports_of(path):
            aimed = subsystem(target)
            if aimed and aimed != source and RANK.get(aimed, -1) > RANK[source]:
                upward.append(f"{path.relative_to(PACKAGE.parent)}:{line} imports {target}")
    assert upward == []
