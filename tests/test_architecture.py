"""The layer contract of ARCHITECTURE.md, checked over every import of every module.

Imports inside functions and under ``TYPE_CHECKING`` count like any other: a layer may import
only the layers below it, modules form no cycle, and the "never" rules hold.
"""

from __future__ import annotations

import ast
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "modelkit"

# Highest first. A module may import its own layer and any layer below it.
LAYERS = (
    "cli",
    "lsp",
    "docs",
    "api",
    "testing",
    "execute",
    "analysis",
    "parse",
    "render",
    "dialects",
    "graph",
    "adapters",
    "deps",
    "project",
    "artifacts",
    "core",
)

# Further rules ("never"): layer -> the only modelkit layers it may import (besides itself).
ONLY = {
    "core": set(),
    "adapters": {"core", "project"},
    "deps": {"core", "project"},
    "execute": {"render", "dialects", "graph", "adapters", "project", "artifacts", "core"},
    "analysis": {"render", "dialects", "graph", "project", "core"},  # the Manifest and compiled SQL; no engine
    "dialects": {"core"},  # SQL and types only: no engine, no rendering
}
# Third-party modules only the command line may import.
CLI_ONLY = ("typer", "rich", "click")
# Modules that may import modelkit modules inside functions (with a comment saying why): the command
# line, which keeps ``--help`` fast; the engine registry, which imports an engine (and its
# database driver) only when a target uses it; and the dialects, which import their translation
# modules (and sqlglot) only when a node is written in another dialect than its target's; and the
# session, which imports the services only some commands use where it first builds them (parse, which
# must start fast, uses none of them).
LAZY_LOADERS = ("modelkit.cli", "modelkit.adapters", "modelkit.dialects", "modelkit.api.session")


@dataclass(frozen=True)
class Import:
    module: str  # the importing module
    target: str  # the modelkit module (or third-party top-level name) imported
    names: tuple[str, ...]  # names taken from it (``from x import a, b``)
    line: int
    in_function: bool
    commented: bool  # a comment on the line or the line above says why


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path, root: Path, known: set[str]) -> list[Import]:
    source = path.read_text(encoding="utf-8")
    lines = source.splitlines()
    tree = ast.parse(source)
    name = module_name(path, root)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    inner = {
        id(node)
        for fn in ast.walk(tree)
        if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef))
        for node in ast.walk(fn)
        if isinstance(node, (ast.Import, ast.ImportFrom))
    }
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            head = node.module or ""
            if node.level:
                parts = package.split(".")
                head = ".".join(parts[: len(parts) - node.level + 1] + ([node.module] if node.module else []))
            pairs = [(f"{head}.{a.name}" if f"{head}.{a.name}" in known else head, a.name) for a in node.names]
        elif isinstance(node, ast.Import):
            pairs = [(a.name, "") for a in node.names]
        else:
            continue
        text = lines[node.lineno - 1]
        above = lines[node.lineno - 2].strip() if node.lineno > 1 else ""
        commented = "#" in text or above.startswith("#")
        for target, imported in pairs:
            found.append(
                Import(name, target, (imported,) if imported else (), node.lineno, id(node) in inner, commented)
            )
    return found


def all_imports(root: Path = PACKAGE) -> list[Import]:
    paths = sorted(root.rglob("*.py"))
    known = {module_name(p, root) for p in paths}
    return [imp for p in paths for imp in imports_of(p, root, known)]


def layer_of(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] != "modelkit" or len(parts) < 2:
        return None
    return parts[1] if parts[1] in LAYERS else None


def violations(imports: list[Import]) -> list[str]:
    """Every broken rule, one line each (``module:line: what``)."""
    problems = []
    for imp in imports:
        where = f"{imp.module}:{imp.line}"
        mine, theirs = layer_of(imp.module), layer_of(imp.target)
        top = imp.target.split(".")[0]
        if top in CLI_ONLY and mine != "cli":
            problems.append(f"{where}: imports {top} (only modelkit.cli may)")
        if imp.target.startswith("modelkit.cli") and mine != "cli":
            problems.append(f"{where}: imports {imp.target} (console output belongs to the CLI)")
        if imp.in_function and not imp.commented and mine != "cli" and imp.module != "modelkit":
            problems.append(f"{where}: import of {imp.target} inside a function without a comment saying why")
        lazy_loader = any(imp.module == m or imp.module.startswith(m + ".") for m in LAZY_LOADERS)
        if imp.in_function and imp.target.startswith("modelkit") and not lazy_loader and mine is not None:
            problems.append(f"{where}: imports {imp.target} inside a function (fix the layering instead)")
        for name in imp.names:
            if name.startswith("_") and not name.startswith("__") and imp.target.startswith("modelkit"):
                problems.append(f"{where}: imports the private name {name} from {imp.target}")
        if mine is None or theirs is None or mine == theirs:
            continue
        if LAYERS.index(theirs) < LAYERS.index(mine):
            problems.append(f"{where}: {mine} imports {imp.target}, a higher layer ({theirs})")
        elif mine in ONLY and theirs not in ONLY[mine]:
            problems.append(f"{where}: {mine} may not import {theirs} ({imp.target})")
    return problems


def cycles(imports: list[Import]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan, iterative)."""
    edges: dict[str, set[str]] = {}
    for imp in imports:
        if imp.target.startswith("modelkit.") and imp.target != imp.module:
            edges.setdefault(imp.module, set()).add(imp.target)
            edges.setdefault(imp.target, set())
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []
    for start in sorted(edges):
        if start in index:
            continue
        work = [(start, iter(sorted(edges[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            v, children = work[-1]
            w = next(children, None)
            if w is not None:
                if w not in index:
                    index[w] = low[w] = len(index)
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(sorted(edges[w]))))
                elif w in on_stack:
                    low[v] = min(low[v], index[w])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                group = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    group.append(w)
                    if w == v:
                        break
                if len(group) > 1:
                    found.append(sorted(group))
    return found


def test_every_module_sits_in_a_layer() -> None:
    strays = [m for m in {i.module for i in all_imports()} if layer_of(m) is None and m != "modelkit"]
    assert not strays, f"modules outside the stage packages: {strays}"


def test_layer_contract_holds() -> None:
    problems = violations(all_imports())
    assert not problems, "\n".join(problems)


def test_no_import_cycles() -> None:
    assert not cycles(all_imports())


def test_private_names_stay_private() -> None:
    private = [
        f"{i.module}:{i.line} {n}"
        for i in all_imports()
        for n in i.names
        if n.startswith("_") and not n.startswith("__") and i.target.startswith("modelkit")
    ]
    assert not private


VIOLATIONS = [
    ("core/errors.py", "from modelkit.render import templating\n", "a higher layer (render)"),
    ("adapters/base.py", "from modelkit.graph.graph import Graph\n", "a higher layer (graph)"),
    ("adapters/base.py", "from modelkit.artifacts import writer\n", "adapters may not import artifacts"),
    ("execute/runner.py", "from modelkit.parse.parser import Parser\n", "execute may not import parse"),
    ("render/context.py", "from modelkit.execute import runner\n", "a higher layer"),
    ("parse/parser.py", "import typer\n", "only modelkit.cli may"),
    ("analysis/checks.py", "from modelkit.adapters import base\n", "analysis may not import adapters"),
    ("graph/graph.py", "def f():\n    from modelkit.core import errors\n", "inside a function"),
    ("core/relation.py", "from modelkit.core.errors import _x\n", "private name"),
]


@pytest.mark.parametrize(("path", "added", "message"), VIOLATIONS, ids=[v[2] for v in VIOLATIONS])
def test_a_deliberate_violation_is_caught(tmp_path: Path, path: str, added: str, message: str) -> None:
    """Copy the package, add one bad import, and check the contract names it."""
    copy = tmp_path / "modelkit"
    for source in PACKAGE.rglob("*.py"):
        dest = copy / source.relative_to(PACKAGE)
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    target = copy / path
    target.write_text(target.read_text(encoding="utf-8") + "\n" + added, encoding="utf-8")
    problems = violations(all_imports(copy))
    assert any(message in p and p.startswith(module_name(target, copy)) for p in problems), problems


def test_a_deliberate_cycle_is_caught(tmp_path: Path) -> None:
    copy = tmp_path / "modelkit"
    for source in PACKAGE.rglob("*.py"):
        dest = copy / source.relative_to(PACKAGE)
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    (copy / "core" / "relation.py").write_text(
        (copy / "core" / "relation.py").read_text(encoding="utf-8") + "\nfrom modelkit.core import results\n"
    )
    (copy / "core" / "results.py").write_text(
        (copy / "core" / "results.py").read_text(encoding="utf-8") + "\nfrom modelkit.core import relation\n"
    )
    assert ["modelkit.core.relation", "modelkit.core.results"] in cycles(all_imports(copy))


# Engine names (a profile's ``type``) belong in adapters/ (and the few places that list engines);
# materializations, tests and docs work through the adapter's primitives and capabilities.
ENGINE_NEUTRAL = ("execute", "testing", "docs")
ENGINE_NAMES = ("duckdb", "postgres")


def engine_mentions(root: Path = PACKAGE) -> list[str]:
    found = []
    for package in ENGINE_NEUTRAL:
        for path in sorted((root / package).rglob("*.py")):
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if any(name in line.lower() for name in ENGINE_NAMES):
                    found.append(f"{path.relative_to(root)}:{number}: {line.strip()}")
    return found


def test_materializations_tests_and_docs_name_no_engine(tmp_path: Path) -> None:
    assert not engine_mentions(), "\n".join(engine_mentions())
    copy = tmp_path / "modelkit"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__", "docs_site", "include"))
    seed = copy / "execute" / "materializations" / "seed.py"
    seed.write_text(seed.read_text(encoding="utf-8") + "\n# DuckDB's reader says 'CSV Error on Line'\n")
    assert engine_mentions(copy) == [
        f"execute/materializations/seed.py:{len(seed.read_text().splitlines())}: "
        "# DuckDB's reader says 'CSV Error on Line'"
    ]
