"""The import graph of shelfwise's packages, read from the source (no module is executed).

Every import statement counts, wherever it stands: at the top of a module, inside a function
(the lazy imports that hide a dependency from a reader), inside ``if TYPE_CHECKING``; and so
does ``importlib.import_module("name")`` / ``__import__("name")`` with a literal name. An
import whose name is computed at run time cannot be read statically; the runtime test
(test_forecasting_imports.py) covers what those load.

Used by the architecture tests, and tested itself on small synthetic packages
(test_import_rules.py), so that each rule is shown able to fail.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]  # the repository: forecasting/, assets/, ... below it


@dataclass(frozen=True)
class Import:
    """One import in one module: ``importer`` (dotted module name) imports ``target``."""

    importer: str
    target: str  # dotted; for ``from x import y`` the module ``x.y`` when it exists, else ``x``
    path: Path
    line: int
    in_function: bool

    def where(self) -> str:
        place = "inside a function" if self.in_function else "at module level"
        return f"{_shown(self.path)}:{self.line} {self.importer} imports {self.target} ({place})"


def _shown(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def module_name(root: Path, path: Path) -> str:
    """``forecasting/engine.py`` → ``forecasting.engine``; a package's ``__init__.py`` → the
    package's own name."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def package_modules(package: str, root: Path = ROOT) -> dict[str, Path]:
    """Every module of ``package`` (its ``.py`` files, sub-packages included): name → path."""
    base = root / package.replace(".", "/")
    return {module_name(root, p): p for p in sorted(base.rglob("*.py"))
            if "__pycache__" not in p.parts}


def _is_package(path: Path) -> bool:
    return path.name == "__init__.py"


def _resolve_relative(importer: str, is_package: bool, level: int, module: str | None) -> str:
    # ``from .x import y`` inside a.b.c (a module) → a.b.x; inside a.b (a package) → a.b.x
    parts = importer.split(".")
    if not is_package:
        parts = parts[:-1]
    if level > 1:
        parts = parts[: len(parts) - (level - 1)]
    return ".".join(parts + ([module] if module else []))


def _literal_import(call: ast.Call) -> str | None:
    func = call.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
    if name not in ("import_module", "__import__") or not call.args:
        return None
    first = call.args[0]
    return first.value if isinstance(first, ast.Constant) and isinstance(first.value, str) else None


def imports_of(path: Path, importer: str, known: Iterable[str] = ()) -> list[Import]:
    """Every import in the file at ``path`` (module ``importer``), at any depth.

    ``known``: module names that exist; ``from pkg import mod`` then targets ``pkg.mod`` when
    ``pkg.mod`` is one of them (an import of a submodule), and ``pkg`` otherwise (a name)."""
    known = set(known)
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[Import] = []

    def add(target: str, node: ast.AST, in_function: bool) -> None:
        imp = Import(importer, target, path, node.lineno, in_function)
        if imp not in found:  # ``from x import a, b``: one import of x
            found.append(imp)

    def visit(node: ast.AST, in_function: bool) -> None:
        if isinstance(node, ast.Import):
            for alias in node.names:
                add(alias.name, node, in_function)
        elif isinstance(node, ast.ImportFrom):
            base = (_resolve_relative(importer, _is_package(path), node.level, node.module)
                    if node.level else node.module or "")
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                add(sub if sub in known else base, node, in_function)
        elif isinstance(node, ast.Call) and (literal := _literal_import(node)):
            add(literal, node, in_function)
        inner = in_function or isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
        for child in ast.iter_child_nodes(node):
            visit(child, inner)

    visit(tree, False)
    return found


def package_imports(package: str, root: Path = ROOT) -> list[Import]:
    """Every import of every module of ``package`` (modules of its sub-packages included)."""
    modules = package_modules(package, root)
    known = set(modules).union(*(package_modules(p.parent.name, root)
                                 for p in root.glob("*/__init__.py")))
    return [imp for name, path in modules.items() for imp in imports_of(path, name, known)]


def refers_to(target: str, names: Iterable[str]) -> bool:
    """Whether the dotted ``target`` is one of ``names`` or inside one of them."""
    return any(target == n or target.startswith(n + ".") for n in names)


def forbidden_imports(package: str, forbidden: Iterable[str], root: Path = ROOT,
                      allowed: Iterable[str] = ()) -> list[Import]:
    """The imports of ``package`` that reach one of ``forbidden`` (a module or a package, and
    everything inside it), except those whose target is one of ``allowed`` (exact names)."""
    forbidden, allowed = tuple(forbidden), set(allowed)
    return [imp for imp in package_imports(package, root)
            if refers_to(imp.target, forbidden) and imp.target not in allowed]


def import_cycles(package: str, root: Path = ROOT) -> list[list[str]]:
    """The import cycles among the modules of ``package`` (function-level imports count): each
    as the sorted list of the modules of one strongly connected group of two or more modules,
    or of one module that imports itself."""
    modules = package_modules(package, root)
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for imp in package_imports(package, root):
        if imp.target in graph:
            graph[imp.importer].add(imp.target)

    # Tarjan's strongly connected components (recursion is fine: a package has tens of modules)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                connect(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1 or node in graph[node]:
                cycles.append(sorted(group))

    for name in sorted(graph):
        if name not in index:
            connect(name)
    return sorted(cycles)


def modules_loaded_by(modules: Iterable[str], watched: Iterable[str], root: Path = ROOT,
                      ) -> dict[str, list[str]]:
    """Import ``modules`` one after another in one fresh interpreter (cwd ``root``) and say,
    for each, which of the ``watched`` top-level packages its import loaded that were not
    loaded before it. Modules that load none are left out.

    One interpreter for all (not one each): importing is cumulative, so a watched package is
    loaded after all of them exactly when some module's import loads it, and the first module
    that loads it is the one named. Fourteen fresh interpreters would cost ~45 s of CPU."""
    code = (
        "import importlib, json, sys\n"
        f"watched = {sorted(set(watched))!r}\n"
        "loaded = lambda: {w for w in watched if w in sys.modules}\n"
        "out = {}\n"
        f"for name in {list(modules)!r}:\n"
        "    before = loaded()\n"
        "    importlib.import_module(name)\n"
        "    new = sorted(loaded() - before)\n"
        "    if new:\n"
        "        out[name] = new\n"
        "print(json.dumps(out))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True,
                          text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"importing the modules failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# what names the warehouse file of a home (``<home>/warehouse/shelfwise.duckdb``): the settings
# property that builds its path, the file's name, and the folder's name as a path segment
WAREHOUSE_PATH_HELPER = "warehouse_path"
WAREHOUSE_FILE_NAME = "shelfwise.duckdb"
WAREHOUSE_FOLDER = "warehouse"


def warehouse_references(package: str, root: Path = ROOT) -> list[str]:
    """Places in ``package`` that name the warehouse file: a use of ``warehouse_path``, a string
    holding ``shelfwise.duckdb``, or the string ``"warehouse"`` alone (a path segment; prose
    that mentions the warehouse is not a path; docstrings do not count)."""
    found = []
    for path in package_modules(package, root).values():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        docstrings = {id(n.value) for n in ast.walk(tree) if isinstance(n, ast.Expr)}
        for node in ast.walk(tree):
            if id(node) in docstrings:
                continue
            if isinstance(node, ast.Attribute) and node.attr == WAREHOUSE_PATH_HELPER or (
                isinstance(node, ast.Name) and node.id == WAREHOUSE_PATH_HELPER
            ):
                found.append(f"{_shown(path)}:{node.lineno} uses {WAREHOUSE_PATH_HELPER}")
            elif isinstance(node, ast.Constant) and isinstance(node.value, str) and (
                WAREHOUSE_FILE_NAME in node.value or node.value == WAREHOUSE_FOLDER
            ):
                found.append(f"{_shown(path)}:{node.lineno} names the warehouse: {node.value!r}")
    return found
