"""The shape of the worker package: imports flow one way, and each module name says one thing."""

from __future__ import annotations

import ast
from collections import Counter
from pathlib import Path

WORKER = Path(__file__).resolve().parents[2] / "worker"


def module_name(path: Path, root: Path) -> str:
    parts = path.relative_to(root.parent).with_suffix("").parts
    return ".".join(parts).removesuffix(".__init__")


def imports(root: Path) -> dict[str, set[str]]:
    """Module → the worker modules it imports, at any depth (in functions and TYPE_CHECKING too)."""
    modules = {module_name(p, root): p for p in root.rglob("*.py")}
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join(anchor + ([base] if base else []))
                targets = [base] + [f"{base}.{alias.name}" for alias in node.names]
            for target in targets:
                while target and target not in modules:
                    target = target.rpartition(".")[0]
                if target and target != name:
                    graph[name].add(target)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every cycle's modules (Tarjan's strongly connected components of more than one module)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in graph:
        if node not in index:
            visit(node)
    return found


def test_the_worker_has_no_import_cycle() -> None:
    assert cycles(imports(WORKER)) == []


def test_a_cycle_is_found_where_two_modules_import_each_other(tmp_path: Path) -> None:
    package = tmp_path / "worker"
    (package / "a").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "a" / "__init__.py").write_text("")
    (package / "a" / "one.py").write_text("from worker.b import two\n")
    (package / "b.py").write_text("def f():\n    from .a.one import x\n")
    assert cycles(imports(package)) == [["worker.a.one", "worker.b"]]


def test_no_two_worker_modules_share_a_name() -> None:
    """A per-package `routes.py` is the one shared name: the folder says whose routes."""
    names = Counter(p.stem for p in WORKER.rglob("*.py") if p.stem not in ("__init__", "routes"))
    assert [name for name, count in names.items() if count > 1] == []


def test_no_two_test_modules_share_a_name() -> None:
    """tests/ has no packages: two test files of one name would shadow each other on import."""
    names = Counter(p.name for p in (WORKER.parent / "tests").rglob("test_*.py"))
    assert [name for name, count in names.items() if count > 1] == []
