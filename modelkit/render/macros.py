"""Macros: found in macro files, called from models and from each other.

A macro is called through a :class:`MacroProxy` bound to the render context of
the node being rendered, so ``ref``, ``this`` and the other macros inside it
resolve for that node. Each macro file becomes one Jinja module per context.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from jinja2 import nodes

from modelkit.core import jsonio
from modelkit.core.manifest import Macro
from modelkit.render import templating

INCLUDE_DIR = Path(__file__).parent.parent / "include"
BUILTIN_INDEX = INCLUDE_DIR / "index.json"  # the macros of each built-in file, found ahead of time
# Context names whose use at parse time records something or has a visible effect.
IMPURE_NAMES = frozenset(
    """ref source config env_var run_query statement adapter log exceptions print load_result store_result
    store_raw_result render graph builtins context doc is_incremental should_full_refresh __call__ api""".split()
)


def discover(source: str, path: str, package: str, original: str | None = None) -> list[Macro]:
    """The top-level macros (and test/materialization blocks) of one file (``original``: its path in its
    package, when ``path`` is another)."""
    tree = templating.parse_ast(source, path)
    found = []
    lines = source.splitlines()
    body = [n for n in tree.body if isinstance(n, nodes.Macro)]
    for i, node in enumerate(body):
        start = node.lineno
        end = body[i + 1].lineno - 1 if i + 1 < len(body) else len(lines)
        names = {n.name for n in node.find_all(nodes.Name) if n.ctx == "load"}
        names |= {"__call__"} if any(True for _ in node.find_all(nodes.CallBlock)) else set()
        found.append(
            Macro(
                unique_id=f"macro.{package}.{node.name}",
                name=node.name,
                package_name=package,
                original_file_path=original or path,
                file_key=path if original else "",
                macro_sql="\n".join(lines[start - 1 : end]).rstrip() if lines else source,
                line=start,
                arguments=[a.name for a in node.args],
                references=sorted(names),
            )
        )
    return found


@dataclass
class MacroRegistry:
    """Macros by package; the root project's own macros win over built-in ones."""

    root_package: str
    by_package: dict[str, dict[str, Macro]] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)  # file path -> source

    def add_file(self, source: str, path: str, package: str, original: str | None = None) -> list[Macro]:
        return self.add_discovered(source, path, package, discover(source, path, package, original))

    def add_discovered(self, source: str, path: str, package: str, macros: list[Macro]) -> list[Macro]:
        """Register the macros of one file, already discovered (see :func:`discover`)."""
        self.__dict__.pop("_found", None)  # lookups of find(name) are remembered until macros change
        self.sources[path] = source
        bucket = self.by_package.setdefault(package, {})
        for macro in macros:
            bucket[macro.name] = macro
        return macros

    def search_order(self, search: str | None = None) -> list[str]:
        """Where an unqualified name is looked up from a node of package ``search`` (default: the root
        project), as dbt does: that package's macros, the root project's, then the built-ins (``dbt``).
        Other packages' macros are reached only through their namespace (``dbt_utils.star``)."""
        if search is None or search == self.root_package or search == "dbt":
            return [self.root_package, "dbt"]
        return [search, self.root_package, "dbt"]

    def find(self, name: str, package: str | None = None, *, search: str | None = None) -> Macro | None:
        """The macro ``name`` of ``package``; or, unqualified, as a node of package ``search`` sees it."""
        if package is not None:
            return self.by_package.get(package, {}).get(name)
        found: dict[tuple[str, str | None], Macro | None] = self.__dict__.setdefault("_found", {})
        key = (name, search)
        if key in found:
            return found[key]
        macro = None
        for pkg in self.search_order(search):
            macro = self.by_package.get(pkg, {}).get(name)
            if macro is not None:
                break
        found[key] = macro
        return macro

    def find_anywhere(self, name: str) -> Macro | None:
        """The macro ``name`` as ``run-operation`` finds an unqualified name: the root project's, else an
        installed package's (in the order packages were read), else a built-in one."""
        order = [self.root_package, *(p for p in self.by_package if p not in (self.root_package, "dbt")), "dbt"]
        for pkg in order:
            macro = self.by_package.get(pkg, {}).get(name)
            if macro is not None:
                return macro
        return None

    def root_names(self) -> set[str]:
        return set(self.by_package.get(self.root_package, {}))

    def all_macros(self) -> Iterable[Macro]:
        for bucket in self.by_package.values():
            yield from bucket.values()

    def is_pure(self, name: str, _stack: frozenset[str] = frozenset(), *, search: str | None = None) -> bool:
        """Whether calling the macro at parse time can have no effect (records nothing, logs nothing)."""
        macro = self.find(name, search=search)
        if macro is None:
            return False
        if name in _stack:
            return True
        for ref in macro.references:
            if ref in IMPURE_NAMES:
                return False
            if ref in macro.arguments:
                continue
            if self.find(ref, search=search) is not None and not self.is_pure(ref, _stack | {name}, search=search):
                return False
        return True

    def is_project_override(self, name: str) -> bool:
        return name in self.by_package.get(self.root_package, {})


def load_builtin(registry: MacroRegistry) -> None:
    """Macros modelkit ships (package ``dbt``): cross-database helpers, materialization helpers and test SQL.

    Finding them means parsing every file with Jinja, tens of milliseconds for every command; the
    index shipped beside them (``include/index.json``, see :func:`builtin_index`) holds what was found,
    by each file's content hash, and a file whose hash differs is parsed again.
    """
    try:
        index = jsonio.loads(BUILTIN_INDEX.read_bytes()).get("files", {})
    except (OSError, ValueError, AttributeError):
        index = {}
    for path, text in _builtin_files():
        entry = index.get(path)
        if isinstance(entry, dict) and entry.get("sha256") == _sha256(text):
            registry.add_discovered(text, path, "dbt", [Macro(**macro) for macro in entry["macros"]])
        else:
            registry.add_file(text, path, "dbt")


def builtin_index() -> dict[str, Any]:
    """What ``include/index.json`` must hold: each built-in file's hash and the macros found in it.

    Regenerate it after editing ``include/*.sql``:
    ``python -c "from modelkit.render.macros import write_builtin_index; write_builtin_index()"``.
    """
    files = {}
    for path, text in _builtin_files():
        found = discover(text, path, "dbt")
        files[path] = {"sha256": _sha256(text), "macros": [asdict(m) for m in found]}
    return {"files": files}


def write_builtin_index() -> None:
    BUILTIN_INDEX.write_bytes(jsonio.dumps(builtin_index()))


def _builtin_files() -> list[tuple[str, str]]:
    return [(f"<modelkit>/{p.name}", p.read_text(encoding="utf-8")) for p in sorted(INCLUDE_DIR.glob("*.sql"))]


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class MacroProxy:
    """A macro bound to one render context; calling it renders the macro."""

    __slots__ = ("macro", "context")

    def __init__(self, macro: Macro, context: RenderContext) -> None:
        self.macro = macro
        self.context = context

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        module = self.context.module_for(self.macro.file_key or self.macro.original_file_path)
        func = getattr(module, self.macro.name)
        self.context.called_macros.add(self.macro.unique_id)
        try:
            return func(*args, **kwargs)
        except templating.MacroReturn as ret:
            return ret.value

    def __repr__(self) -> str:
        return f"<macro {self.macro.unique_id}>"


class Namespace(templating.MacroNamespace):
    """``{{ package_name.macro() }}``: the macros of one package, private (``_name``) ones included."""

    __slots__ = ("_modelkit_namespace",)  # one odd name: any other attribute is a macro

    def __init__(self, package: str, context: RenderContext) -> None:
        self._modelkit_namespace = (package, context)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        package, context = self._modelkit_namespace
        if context.overrides:
            override = context.overrides.get((package, name))
            if override is not None:
                return override
        macro = context.registry.find(name, package)
        if macro is None:
            if package == "dbt" and name in context:
                return context[name]
            raise AttributeError(f"'{package}' has no macro named '{name}'")
        return MacroProxy(macro, context)

    def __getitem__(self, name: str) -> Any:
        try:
            return self.__getattr__(name)
        except AttributeError:
            raise KeyError(name) from None

    def __contains__(self, name: object) -> bool:
        package, context = self._modelkit_namespace
        return isinstance(name, str) and context.registry.find(name, package) is not None

    def __repr__(self) -> str:
        return f"<macros of {self._modelkit_namespace[0]}>"


class RenderContext(dict):
    """The globals of one render: base names plus macros, resolved lazily."""

    def __init__(
        self, base: Mapping[str, Any], registry: MacroRegistry, execute: bool, package: str | None = None
    ) -> None:
        super().__init__(base)
        self.registry = registry
        self.execute = execute
        self.package = package  # the package of the node rendered: its macros come first
        self.local_package: str | None = package  # the same, as dispatch names it (searched first)
        self.called_macros: set[str] = set()
        # (package, macro) -> what `package.macro` is instead (a unit test's `overrides: macros:`)
        self.overrides: dict[tuple[str, str], Any] = {}
        self._modules: dict[str, Any] = {}
        self.deferred: dict[str, Callable[[], Any]] = {}  # names whose value is made on first use (``graph``)
        # what the render read, for telling later whether its output can differ (see TrackedContext)
        self.vars_read: set[str] = set()
        self.env_read: dict[str, str | None] = {}
        self.touched_database = False
        for name in registry.root_names() & set(base):
            self[name] = MacroProxy(registry.find(name, search=package), self)  # type: ignore[arg-type]

    def __missing__(self, key: str) -> Any:
        make = self.deferred.pop(key, None)
        if make is not None:
            value = self[key] = make()
            return value
        macro = self.registry.find(key, search=self.package)
        if macro is not None:
            value: Any = MacroProxy(macro, self)
        elif key in self.registry.by_package:
            value = Namespace(key, self)
        else:
            raise KeyError(key)
        self[key] = value
        return value

    def __contains__(self, key: object) -> bool:
        if dict.__contains__(self, key) or key in self.deferred:
            return True
        if not isinstance(key, str):
            return False
        return self.registry.find(key, search=self.package) is not None or key in self.registry.by_package

    def macro_names(self) -> set[str]:
        """The names resolved so far to macros or to a package's macros."""
        return {name for name, value in self.items() if isinstance(value, (MacroProxy, Namespace))}

    def module_for(self, path: str) -> Any:
        module = self._modules.get(path)
        if module is None:
            source = self.registry.sources[path]
            template = templating.get_template(source, path, parse=not self.execute, cache=True)
            module = templating.make_module(template, self)
            self._modules[path] = module
        return module


class TrackedContext(RenderContext):
    """A render context that notes every name the render looks up (``names_read``)."""

    def __init__(
        self, base: Mapping[str, Any], registry: MacroRegistry, execute: bool, package: str | None = None
    ) -> None:
        self.names_read: set[str] = set()
        super().__init__(base, registry, execute, package)

    def __getitem__(self, key: str) -> Any:
        self.names_read.add(key)
        return dict.__getitem__(self, key)
