"""Data tests from YAML (generic tests) and from ``tests/**/*.sql`` (singular tests).

A generic test entry such as ``- unique`` under a model's column becomes a
:class:`TestNode` whose SQL is ``{{ test_unique(**_dbt_generic_test_kwargs) }}``:
the ``test_unique`` macro (built-in, or a project's ``{% test unique %}`` block)
renders the query returning failing rows. Names, unique ids and aliases follow
dbt's rules so that selectors, artifacts and audit tables match.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import templating
from .config import merge_into, resolve
from .context import Capture
from .errors import ModelkitError, ProjectError
from .manifest import Node, TestNode

if TYPE_CHECKING:
    from .context import RenderContext
    from .parser import Parser

TEST_DEFAULTS: dict[str, Any] = {
    "enabled": True,
    "alias": None,
    "schema": "dbt_test__audit",
    "database": None,
    "tags": [],
    "meta": {},
    "group": None,
    "materialized": "test",
    "severity": "ERROR",
    "store_failures": None,
    "store_failures_as": None,
    "where": None,
    "limit": None,
    "fail_calc": "count(*)",
    "warn_if": "!= 0",
    "error_if": "!= 0",
}
# Keys of a test entry that configure the test rather than being passed to its macro.
CONFIG_ARGS = frozenset(
    "severity tags enabled where limit warn_if error_if fail_calc store_failures store_failures_as "
    "meta database schema alias".split()
)
KWARGS_NAME = "_dbt_generic_test_kwargs"
_LOOKS_LIKE_FUNC = re.compile(r"^\s*(env_var|ref|var|source|doc)\s*\(.+\)\s*$", re.S)
_ONE_EXPRESSION = re.compile(r"^\s*\{\{(.*)\}\}\s*$", re.S)
_HASH_LENGTH = 10


# -- naming (dbt-core's generic_test_builders) -------------------------------------------
def synthesize_names(test_type: str, target_name: str, args: Mapping[str, Any]) -> tuple[str, str]:
    """(short name for the alias and file, full name for unique_id and fqn)."""
    flat: list[str] = []
    for key in sorted(args):
        if key == "model":
            continue
        value = args[key]
        parts = (
            list(value.values())
            if isinstance(value, dict)
            else list(value)
            if isinstance(value, (list, tuple))
            else [value]
        )
        flat.extend(str(p) for p in parts)
    unique = "__".join(re.sub("[^0-9a-zA-Z_]+", "_", arg) for arg in flat)
    identifier = f"{test_type}_{target_name}"
    full = f"{identifier}_{unique}"
    if len(full) >= 64:
        return f"{identifier[:30]}_{hashlib.md5(full.encode('utf-8')).hexdigest()}", full
    return full, full


def _hashable(data: Any) -> Any:
    if type(data) is dict:
        return {k: _hashable(data[k]) for k in sorted(data)}
    if type(data) is list:
        return [_hashable(v) for v in data]
    return str(data)


def generic_test_unique_id(package: str, name: str, metadata: Mapping[str, Any]) -> str:
    digest = hashlib.md5((name + repr(_hashable(dict(metadata)))).encode("utf-8")).hexdigest()
    return f"test.{package}.{name}.{digest[-_HASH_LENGTH:]}"


# -- one YAML entry ------------------------------------------------------------------------
@dataclass
class TestSpec:
    __test__ = False

    name: str
    namespace: str | None
    args: dict[str, Any]
    config: dict[str, Any]
    explicit_name: str | None = None
    description: str = ""


def parse_entry(raw: Any, where: str) -> TestSpec:
    """``- unique``, ``- accepted_values: {values: [...]}``, ``- name: x`` + ``test_name: y``..."""
    if isinstance(raw, str):
        name, body = raw, {}
    elif isinstance(raw, Mapping):
        if "test_name" in raw:
            name, body = str(raw["test_name"]), {k: v for k, v in raw.items() if k != "test_name"}
        elif len(raw) == 1:
            name, body = next(iter(raw.items()))
            body = {} if body is None else body
        else:
            raise ProjectError(
                f"A test under {where} must have exactly one key (the test's name), "
                f"or a `test_name`; got {', '.join(map(str, raw))}"
            )
    else:
        raise ProjectError(f"A test under {where} must be a name or a mapping, got {raw!r}")
    if not isinstance(body, Mapping):
        raise ProjectError(f"The arguments of test '{name}' under {where} must be a mapping, got {body!r}")
    body = dict(body)
    namespace = None
    if "." in str(name):
        namespace, name = str(name).split(".", 1)
    explicit = body.pop("name", None)
    description = str(body.pop("description", "") or "")
    config = dict(body.pop("config", None) or {})
    if "arguments" in body:
        args = dict(body.pop("arguments") or {})
        inline = body
    else:
        args, inline = {}, body
    for key, value in inline.items():
        if key in CONFIG_ARGS:
            config.setdefault(key, value)
        else:
            args[key] = value
    return TestSpec(str(name), namespace, args, config, str(explicit) if explicit else None, description)


# -- rendering the arguments -----------------------------------------------------------------
def _evaluate(expression: str, ctx: RenderContext) -> Any:
    template = templating.get_template(
        "{% set mk_value__ = (" + expression + ") %}", "<test arguments>", parse=not ctx.execute, cache=True
    )
    return getattr(templating.make_module(template, ctx), "mk_value__", None)


def render_argument(value: Any, ctx: RenderContext, top_key: str | None = None) -> Any:
    """dbt's native rendering of a test argument: ``ref('x')`` gives the relation itself."""
    if isinstance(value, Mapping):
        return {k: render_argument(v, ctx) for k, v in value.items()}
    if isinstance(value, list):
        return [render_argument(v, ctx) for v in value]
    if not isinstance(value, str) or top_key == "column_name":
        return value
    if _LOOKS_LIKE_FUNC.match(value):
        return _evaluate(value, ctx)
    single = _ONE_EXPRESSION.match(value)
    if single and "{{" not in single.group(1) and "}}" not in single.group(1):
        return _evaluate(single.group(1), ctx)
    if "{{" in value or "{%" in value:
        return templating.render(
            templating.get_template(value, "<test arguments>", parse=not ctx.execute, cache=True),
            ctx,
            "<test arguments>",
        )
    return value


class TestKwargs(Mapping):
    """``_dbt_generic_test_kwargs``: the test's arguments, rendered on first use."""

    __test__ = False

    def __init__(self, node: TestNode, ctx: RenderContext) -> None:
        self._node = node
        self._ctx = ctx
        self._values: dict[str, Any] | None = None

    def _rendered(self) -> dict[str, Any]:
        if self._values is None:
            raw = (self._node.test_metadata or {}).get("kwargs", {})
            try:
                self._values = {k: render_argument(v, self._ctx, k) for k, v in raw.items()}
            except Exception as exc:  # noqa: BLE001 - reported with the test's YAML file
                raise templating.wrap_error(exc, self._node.original_file_path, f"test {self._node.name}") from exc
        return self._values

    def __getitem__(self, key: str) -> Any:
        return self._rendered()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._rendered())

    def __len__(self) -> int:
        return len(self._rendered())


def rendered_test_kwargs(node: Any, ctx: RenderContext) -> TestKwargs:
    return TestKwargs(node, ctx)


# -- building test nodes ------------------------------------------------------------------------
@dataclass
class Target:
    """What a YAML test is attached to: a model, seed, snapshot or source table."""

    kind: str  # models | seeds | snapshots | sources
    name: str  # as used in test names: model name or <source>_<table>
    model_ref: str  # the `model` argument, e.g. "{{ get_where_subquery(ref('orders')) }}"
    path: str  # the YAML file
    attached_node: str | None
    file_key: str  # dbt's file_key_name, e.g. "models.orders" or "sources.raw"


def _fqn_dirs(path: str, parser: Parser) -> list[str]:
    project = parser.project
    roots = project.model_paths + project.seed_paths + project.snapshot_paths + project.analysis_paths
    roots += project.macro_paths + project.test_paths
    for root in sorted(roots, key=len, reverse=True):
        if path.startswith(root + "/"):
            return path[len(root) + 1 :].split("/")[:-1]
    return path.split("/")[:-1]


class TestBuilder:
    __test__ = False

    def __init__(self, parser: Parser) -> None:
        self.parser = parser
        self.project = parser.project
        self.registry = parser.renderer.registry

    # -- YAML tests -----------------------------------------------------------------------
    def targets(self) -> Iterator[tuple[Target, dict[str, Any]]]:
        manifest = self.parser.manifest
        schema = self.parser.schema
        by_name = {(n.resource_type, n.name): n for n in manifest.nodes.values()}
        for key, kind in (("seeds", "seed"), ("models", "model"), ("snapshots", "snapshot")):
            for name, patch in schema.patches[key].items():
                node = by_name.get((kind, name))
                if node is None:  # disabled (or reported missing elsewhere)
                    continue
                model = f"{{{{ get_where_subquery(ref('{name}')) }}}}"
                yield Target(key, name, model, patch.path, node.unique_id, f"{key}.{name}"), patch.entry
        for path, src in schema.sources:
            for table in src.get("tables") or []:
                uid = f"source.{self.project.name}.{src['name']}.{table.get('name')}"
                if uid not in manifest.sources:
                    continue
                model = f"{{{{ get_where_subquery(source('{src['name']}', '{table['name']}')) }}}}"
                name = f"{src['name']}_{table['name']}"
                yield Target("sources", name, model, path, None, f"sources.{src['name']}"), dict(table)

    def build_all(self) -> None:
        for target, entry in self.targets():
            where = f"{target.kind[:-1]} '{target.name}' in {target.path}"
            for raw in _tests_of(entry, where, target.path):
                self._add(self.generic_test(target, parse_entry(raw, where), None, []))
            for column in entry.get("columns") or []:
                if not isinstance(column, Mapping) or "name" not in column:
                    continue
                col_name = str(column["name"])
                if column.get("quote"):
                    col_name = f'"{col_name}"'
                col_where = f"column '{column['name']}' of {where}"
                tags = list(column.get("tags") or [])
                for raw in _tests_of(column, col_where, target.path):
                    self._add(self.generic_test(target, parse_entry(raw, col_where), col_name, tags))

    def _add(self, node: TestNode) -> None:
        manifest = self.parser.manifest
        if not node.config.get("enabled", True):
            manifest.disabled.setdefault(node.unique_id, []).append(node)
            return
        if node.unique_id in manifest.nodes:
            raise ProjectError(
                f"Two tests are named '{node.name}' with the same arguments in {node.original_file_path}; "
                "give one of them a distinct `name:`",
                path=node.original_file_path,
            )
        manifest.nodes[node.unique_id] = node

    def _macro_name(self, spec: TestSpec, path: str) -> str:
        macro = f"test_{spec.name}"
        found = self.registry.find(macro, spec.namespace) if spec.namespace else self.registry.find(macro)
        if found is None:
            from .resolve import did_you_mean

            known = sorted({m.name[len("test_") :] for m in self.registry.all_macros() if m.name.startswith("test_")})
            shown = f"{spec.namespace}.{spec.name}" if spec.namespace else spec.name
            raise ProjectError(
                f"Test '{shown}' is not defined: no {{% test {spec.name}(model, column_name) %}} block "
                f"in tests/generic/ or macros/." + did_you_mean(spec.name, known),
                **_located(self.project.root, path, spec.name),
            )
        return f"{spec.namespace}.{macro}" if spec.namespace else macro

    def generic_test(self, target: Target, spec: TestSpec, column: str | None, column_tags: list[str]) -> TestNode:
        package = self.project.name
        macro = self._macro_name(spec, target.path)
        kwargs = dict(spec.args)
        if column is not None:
            kwargs["column_name"] = column
        kwargs["model"] = target.model_ref
        test_type = ("source_" if target.kind == "sources" else "") + spec.name
        if spec.namespace:
            test_type = f"{spec.namespace}_{test_type}"
        if spec.explicit_name:
            short = full = spec.explicit_name
        else:
            short, full = synthesize_names(test_type, target.name, kwargs)
        metadata = {"name": spec.name, "kwargs": kwargs, "namespace": spec.namespace}
        fqn = [package, *_fqn_dirs(target.path, self.parser), full]
        node = TestNode(
            unique_id=generic_test_unique_id(package, full, metadata),
            resource_type="test",
            package_name=package,
            name=full,
            path=f"{short}.sql",
            original_file_path=target.path,
            fqn=fqn,
            raw_code=f"{{{{ {macro}(**{KWARGS_NAME}) }}}}",
            checksum="",
            description=spec.description,
            test_metadata=metadata,
            column_name=column,
            attached_node=target.attached_node,
            file_key_name=target.file_key,
            compiled_file_path=f"{target.path}/{short}.sql",
        )
        config = resolve(self.project.data_tests, fqn, TEST_DEFAULTS)
        merge_into(config, {"tags": column_tags})
        merge_into(config, spec.config)
        if short != full and not config.get("alias"):
            config["alias"] = short
        node.config = config
        self._render_at_parse(node, target.path)
        return node

    def _render_at_parse(self, node: TestNode, path: str) -> None:
        """Render once with ``execute`` false: records refs, sources and ``config()`` calls."""
        parser = self.parser
        capture = Capture()
        label = f"test {node.name}"
        try:
            ctx = parser.renderer.context(node, execute=False, capture=capture, path=path)
            template = templating.get_template(node.raw_code, path, parse=True, cache=node.test_metadata is not None)
            templating.render(template, ctx, path, label)
        except ModelkitError as exc:
            exc.node = exc.node or label
            exc.path = exc.path or path
            raise
        merge_into(node.config, capture.config)
        node.unrendered_config = dict(capture.config)
        node.refs = capture.refs
        node.sources = capture.sources
        node.env_vars = capture.env_vars
        node.depends_on_macros = sorted(ctx.called_macros)
        node.config["severity"] = _severity(node.config.get("severity"), node)
        if node.config.get("store_failures") and not node.config.get("store_failures_as"):
            node.config["store_failures_as"] = "table"
        parser._place(node)

    # -- singular tests ---------------------------------------------------------------------------
    def build_singular(self) -> None:
        from .parser import checksum, read, walk

        properties = self._singular_properties()
        for _folder, inner, rel in walk(self.project.root, self.project.test_paths, (".sql",)):
            if inner.startswith(("generic/", "fixtures/")):
                continue
            text = read(self.project.root, rel)
            name = inner.split("/")[-1][: -len(".sql")]
            parts = inner.split("/")
            fqn = [self.project.name, *parts[:-1], name]
            node = TestNode(
                unique_id=f"test.{self.project.name}.{name}",
                resource_type="test",
                package_name=self.project.name,
                name=name,
                path=inner,
                original_file_path=rel,
                fqn=fqn,
                raw_code=text,
                checksum=checksum(text),
            )
            config = resolve(self.project.data_tests, fqn, TEST_DEFAULTS)
            described = properties.get(name, {})
            merge_into(config, dict(described.get("config") or {}))
            node.description = str(described.get("description") or "")
            node.config = config
            self._render_at_parse(node, rel)
            if node.unique_id in self.parser.manifest.nodes:
                other = self.parser.manifest.nodes[node.unique_id]
                raise ProjectError(
                    f"Two singular tests are named '{name}': {other.original_file_path} and {rel}", path=rel
                )
            self.parser.manifest.files[rel] = node.checksum
            self._add(node)

    def _singular_properties(self) -> dict[str, dict[str, Any]]:
        """``data_tests:`` entries of property files: descriptions and configs of singular tests."""
        found: dict[str, dict[str, Any]] = {}
        for doc in self.parser.schema.raw.values():
            for entry in doc.get("data_tests") or []:
                if isinstance(entry, Mapping) and entry.get("name"):
                    found[str(entry["name"])] = dict(entry)
        return found


def _severity(value: Any, node: Node) -> str:
    text = str(value or "ERROR")
    if text.upper() not in ("ERROR", "WARN"):
        raise ProjectError(
            f"Test '{node.name}' has severity {value!r}; it must be 'error' or 'warn'", path=node.original_file_path
        )
    return text


def _tests_of(entry: Mapping[str, Any], where: str, path: str) -> list[Any]:
    tests = entry.get("data_tests")
    if tests is None:
        tests = entry.get("tests")
    if tests is None:
        return []
    if not isinstance(tests, list):
        raise ProjectError(f"`data_tests:` of {where} must be a list", path=path)
    return tests


def _located(root: Path, path: str, needle: str) -> dict[str, Any]:
    """``path``, ``line`` and ``source`` for an error about ``needle`` in a YAML file."""
    try:
        text = (root / path).read_text(encoding="utf-8")
    except OSError:
        return {"path": path}
    for number, line in enumerate(text.splitlines(), start=1):
        if re.search(rf"(^|[^\w.]){re.escape(needle)}\b", line.split("#", 1)[0]):
            return {"path": path, "line": number, "source": text}
    return {"path": path}


def add_data_tests(parser: Parser) -> None:
    """Add every generic and singular data test of the project to the parser's manifest."""
    builder = TestBuilder(parser)
    builder.build_all()
    builder.build_singular()
