"""The package's layers: subpackages in data-flow order, no import cycles.

The import graph of ``src/landplan`` is read from the source (AST), counting
imports inside functions and under ``TYPE_CHECKING`` as well as those at module
level, so that a cycle hidden by a deferred import still fails.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import landplan

PACKAGE = Path(landplan.__file__).parent

#: The layers, lowest first: a module may import only from its own layer or one below it.
LAYERS = (
    "core",
    "survey",
    "io",
    "measure",
    "rules",
    "allocate",
    "outputs",
    "engines",
    "audit",
    "synthetic",
    "api",
    "cli",
)


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _resolve(module: str, is_package: bool, node: ast.ImportFrom) -> list[str]:
    if node.level == 0:
        base = node.module or ""
    else:
        here = module.split(".") if is_package else module.split(".")[:-1]
        up = here[: len(here) - (node.level - 1)]
        base = ".".join(up + ([node.module] if node.module else []))
    if not base.startswith("landplan"):
        return []
    # `from landplan.x import y` may import submodule y: count it when it is a module
    targets = []
    for alias in node.names:
        candidate = f"{base}.{alias.name}"
        if _is_module(candidate):
            targets.append(candidate)
        else:
            targets.append(base)
    return targets


def _is_module(name: str) -> bool:
    rel = Path(*name.split(".")[1:])
    return (PACKAGE / rel).with_suffix(".py").exists() or (PACKAGE / rel / "__init__.py").exists()


def import_graph() -> dict[str, set[str]]:
    """Module → the landplan modules it imports (anywhere in its body)."""
    graph: dict[str, set[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        module = _module_name(path)
        is_package = path.name == "__init__.py"
        edges: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                edges.update(_resolve(module, is_package, node))
            elif isinstance(node, ast.Import):
                edges.update(a.name for a in node.names if a.name.startswith("landplan"))
        edges.discard(module)
        graph[module] = edges
    return graph


def layer_of(module: str) -> int | None:
    """Position of the module's layer in :data:`LAYERS`; None for the package root."""
    parts = module.split(".")
    if len(parts) == 1:
        return None
    return LAYERS.index(parts[1])


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as a list of modules, or None (iterative DFS)."""
    state: dict[str, int] = {}
    for start in graph:
        if state.get(start):
            continue
        stack = [(start, iter(sorted(graph[start])))]
        path = [start]
        state[start] = 1
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                state[node] = 2
                stack.pop()
                path.pop()
                continue
            if child not in graph:
                continue
            if state.get(child) == 1:
                return [*path[path.index(child) :], child]
            if not state.get(child):
                state[child] = 1
                stack.append((child, iter(sorted(graph[child]))))
                path.append(child)
    return None


def test_every_subpackage_is_a_declared_layer() -> None:
    found = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists()}
    found |= {p.stem for p in PACKAGE.glob("*.py") if p.stem != "__init__"}
    assert found == set(LAYERS)


def test_each_layer_says_what_it_holds_and_may_import() -> None:
    for name in LAYERS:
        path = PACKAGE / name / "__init__.py"
        if not path.exists():
            path = PACKAGE / f"{name}.py"
        doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")))
        assert doc and "import" in doc, f"{path} needs a docstring saying what it may import"


def test_no_import_cycles() -> None:
    cycle = find_cycle(import_graph())
    assert cycle is None, " -> ".join(cycle or [])


def test_imports_follow_the_layer_order() -> None:
    wrong = [
        f"{module} imports {target}"
        for module, targets in import_graph().items()
        for target in sorted(targets)
        if layer_of(module) is not None
        and layer_of(target) is not None
        and layer_of(target) > layer_of(module)  # type: ignore[operator]
    ]
    assert not wrong, "\n".join(wrong)


def test_only_the_package_root_imports_the_package_root() -> None:
    wrong = [m for m, targets in import_graph().items() if "landplan" in targets]
    assert not wrong, f"modules importing the package root: {wrong}"


def test_the_checker_finds_a_planted_cycle_and_a_wrong_way_import() -> None:
    graph = {"landplan.core.a": {"landplan.io.b"}, "landplan.io.b": {"landplan.core.a"}}
    assert find_cycle(graph) == ["landplan.core.a", "landplan.io.b", "landplan.core.a"]
    assert layer_of("landplan.io.b") > layer_of("landplan.core.a")  # type: ignore[operator]


@pytest.mark.parametrize("module", ["matplotlib", "landplan.synthetic", "dask"])
def test_import_landplan_is_light(module: str) -> None:
    import subprocess
    import sys

    code = f"import sys, landplan; print({module!r} in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
