"""The shape of the code: kpdd/ is a leaf core, and no package imports in a circle.

Every import statement counts, the ones inside functions too (a lazy import is still an arrow: the
installer's light build breaks on it when the package it names is left out).
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("kpdd", "desktop", "distill", "export")
CORE = "kpdd"


def module_files(root: Path, packages: tuple[str, ...]) -> dict[str, Path]:
    """Dotted module name -> file, for every .py file of the packages."""
    modules = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            parts = path.relative_to(root).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            modules[".".join(parts)] = path
    return modules


def imported_names(module: str, path: Path) -> set[str]:
    """Every module name an import statement in the file names (absolute, relative ones resolved)."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            names.add(source)
            names.update(f"{source}.{alias.name}" for alias in node.names)  # `from pkg import mod`
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            names.add(node.args[0].value)
    return names


def import_graph(root: Path, packages: tuple[str, ...]) -> dict[str, set[str]]:
    """Module -> the project modules it imports (a name resolves to its longest known module)."""
    modules = module_files(root, packages)
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        for imported in imported_names(name, path):
            while imported and imported not in modules:
                imported = imported.rpartition(".")[0]
            if imported and imported != name:
                graph[name].add(imported)
    return graph


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def outward_arrows(graph: dict[str, set[str]], core: str) -> list[str]:
    """`a -> b` for each module a of the core that imports a module b outside it."""
    inside = (core, f"{core}.")
    return sorted(
        f"{source} -> {target}"
        for source, targets in graph.items()
        if source == core or source.startswith(f"{core}.")
        for target in targets
        if not target.startswith(inside) and target != core
    )


def test_kpdd_imports_nothing_of_the_packages_beside_it():
    graph = import_graph(ROOT, PACKAGES)
    assert {"kpdd.cli", "kpdd.solver", "kpdd.sandbox", "kpdd.models"} <= set(graph)  # it saw the core
    assert outward_arrows(graph, CORE) == []


def test_no_import_circle_between_modules():
    graph = import_graph(ROOT, PACKAGES)
    assert circles(graph) == []


def test_the_walk_finds_lazy_arrows_and_circles(tmp_path):
    """The checks above can fail: a lazy import out of the core and a two-module circle are found."""
    (tmp_path / "kpdd").mkdir()
    (tmp_path / "desktop").mkdir()
    (tmp_path / "kpdd" / "__init__.py").write_text("")
    (tmp_path / "kpdd" / "cli.py").write_text("def run():\n    from desktop import app\n")
    (tmp_path / "kpdd" / "loader.py").write_text("import importlib\nimportlib.import_module('desktop.pdf')\n")
    (tmp_path / "desktop" / "__init__.py").write_text("")
    (tmp_path / "desktop" / "app.py").write_text("from . import pdf\n")
    (tmp_path / "desktop" / "pdf.py").write_text("def f():\n    from desktop.app import x\n")
    graph = import_graph(tmp_path, ("kpdd", "desktop"))
    assert outward_arrows(graph, "kpdd") == [
        "kpdd.cli -> desktop",  # `from desktop import app` runs desktop/__init__.py too
        "kpdd.cli -> desktop.app",
        "kpdd.loader -> desktop.pdf",
    ]
    assert circles(graph) == [["desktop.app", "desktop.pdf"]]
