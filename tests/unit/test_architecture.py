"""The layout's import rules (docs/architecture.md, "What each folder may import"), checked on the source.

Imports point from later stages to earlier ones; a new edge that is not in ``ALLOWED`` fails here,
so a change that needs one also updates the table in docs/architecture.md.
"""

from __future__ import annotations

import ast
from pathlib import Path

import tickerstream

PACKAGE = Path(tickerstream.__file__).parent
#: Modules every stage may use: the records, settings, logging and the error types.
SHARED = {"model", "events", "config", "log", "errors"}
ALLOWED: dict[str, set[str]] = {
    "model": set(),
    "events": {"model"},
    "errors": set(),
    "config": {"errors", "log"},
    "log": set(),
    "parse": set(),
    "sources": {"parse"},
    "engine": set(),
    "columnar": set(),
    "kafka": {"engine"},
    "metrics": {"engine"},
    "dashboards": {"engine", "metrics"},
    "producer": {"sources", "parse", "kafka", "metrics", "columnar"},
    "replay": {"sources", "parse", "engine", "kafka", "columnar"},
    "processor": {"engine", "kafka", "metrics", "producer"},
    "cli": {
        "columnar",
        "sources",
        "parse",
        "engine",
        "kafka",
        "metrics",
        "producer",
        "processor",
        "replay",
        "dashboards",
    },
}
#: Folders whose own modules may not import a stage that the folder as a whole may (file -> stages).
NARROWER = {"processor": ({"producer"}, {"main_job.py"})}


def _stage(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if parts[0] == "tickerstream" and len(parts) > 1 else None


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
    return {s for s in (_stage(m) for m in found) if s is not None}


def _source_files() -> list[tuple[str, Path]]:
    files = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE)
        stage = rel.parts[0].removesuffix(".py") if len(rel.parts) > 1 or rel.stem != "__init__" else None
        if stage is not None and stage not in ("data", "schemas"):
            files.append((stage, path))
    return files


def test_every_stage_is_in_the_table() -> None:
    stages = {stage for stage, _ in _source_files()}
    assert stages == set(ALLOWED), "a new folder or top-level module: add it to ALLOWED and the docs"


def test_imports_follow_the_stages() -> None:
    wrong = []
    for stage, path in _source_files():
        allowed = ALLOWED[stage] | SHARED | {stage}
        narrow, exempt = NARROWER.get(stage, (set(), set()))
        if path.name not in exempt:
            allowed = allowed - narrow
        if stage in ("model", "events", "errors", "log", "config"):
            allowed = ALLOWED[stage] | {stage}
        for used in sorted(_imports(path) - allowed):
            wrong.append(f"{path.relative_to(PACKAGE)} imports tickerstream.{used}")
    assert not wrong, "imports against docs/architecture.md:\n" + "\n".join(wrong)


def test_nothing_outside_cli_imports_cli() -> None:
    users = [path for stage, path in _source_files() if stage != "cli" and "cli" in _imports(path)]
    assert not users


def _module_graph() -> dict[str, set[str]]:
    """Module -> the tickerstream modules it imports (every import: top level, in functions, and under
    ``TYPE_CHECKING``). ``from package import name`` counts as importing the submodule when it is one."""
    names = {
        ".".join(("tickerstream", *p.relative_to(PACKAGE).with_suffix("").parts)).removesuffix(".__init__"): p
        for p in PACKAGE.rglob("*.py")
    }
    graph: dict[str, set[str]] = {}
    for module, path in names.items():
        edges: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("tickerstream"):
                for alias in node.names:
                    sub = f"{node.module}.{alias.name}"
                    edges.add(sub if sub in names else node.module)
            elif isinstance(node, ast.Import):
                edges.update(a.name for a in node.names if a.name in names)
        graph[module] = edges - {module}
    return graph


def test_no_import_cycles() -> None:
    graph = _module_graph()
    done: set[str] = set()
    cycles: list[list[str]] = []

    def visit(module: str, path: list[str]) -> None:
        if module in path:
            cycles.append([*path[path.index(module) :], module])
            return
        if module in done:
            return
        for dep in sorted(graph.get(module, ())):
            visit(dep, [*path, module])
        done.add(module)

    for module in sorted(graph):
        visit(module, [])
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)
