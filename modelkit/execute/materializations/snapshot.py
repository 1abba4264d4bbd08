"""Snapshots: type-2 slowly changing dimensions, parsed from ``snapshots/`` and YAML.

A snapshot records each version of a row with ``dbt_valid_from`` /
``dbt_valid_to`` (names configurable with ``snapshot_meta_column_names``). The
``timestamp`` strategy sees a change when the row's ``updated_at`` moves
forward; ``check`` compares ``check_cols`` (a list, or ``all``). Rows gone from
the source are kept (``hard_deletes: ignore``), closed (``invalidate``) or
closed and followed by a deletion record (``new_record``). Each run is one
transaction: the table holds the history before the run or after it, nothing
in between.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from modelkit.adapters.base import SNAPSHOT_META_COLUMNS, SnapshotSpec
from modelkit.core.config import MODEL_DEFAULTS, merge_into, resolve
from modelkit.core.errors import CompilationError, ModelkitError, ProjectError
from modelkit.core.manifest import SnapshotNode
from modelkit.core.relation import quote
from modelkit.core.text import did_you_mean
from modelkit.execute.materializations.base import Build, unit_of_work
from modelkit.execute.materializations.incremental import as_list
from modelkit.render import templating
from modelkit.render.context import Capture

if TYPE_CHECKING:
    from modelkit.adapters.base import Adapter, QueryResult
    from modelkit.parse.parser import Parser

SNAPSHOT_DEFAULTS: dict[str, Any] = {
    **MODEL_DEFAULTS,
    "materialized": "snapshot",
    "strategy": None,
    "unique_key": None,
    "updated_at": None,
    "check_cols": None,
    "hard_deletes": None,
    "invalidate_hard_deletes": False,
    "dbt_valid_to_current": None,
    "snapshot_meta_column_names": {},
    "target_schema": None,
    "target_database": None,
}
HARD_DELETES = ("ignore", "invalidate", "new_record")
_BLOCK = re.compile(r"\{%-?\s*snapshot\s+([A-Za-z_]\w*)\s*-?%\}(.*?)\{%-?\s*endsnapshot\s*-?%\}", re.S)


# -- parsing -------------------------------------------------------------------
def parse_snapshots(parser: Parser) -> None:
    """Add every snapshot (SQL blocks, then YAML entries with ``relation``) to the manifest."""
    from modelkit.parse.files import read, walk

    project = parser.project
    defined: set[str] = set()
    for _folder, inner, rel in walk(project.root, project.snapshot_paths, (".sql",)):
        text = read(project.root, rel)
        templating.get_template(text, rel, parse=True)  # syntax errors, with their line
        stem = inner.rsplit(".", 1)[0].split("/")
        for match in _BLOCK.finditer(text):
            name = match.group(1)
            line = text.count("\n", 0, match.start(2))
            body = "\n" * line + match.group(2)  # padded so errors keep the file's line numbers
            fqn = [project.name, *stem, name]
            parser._add(_node(parser, name, inner, rel, fqn, body, line + 1, text))
            defined.add(name)
    for name, patch in parser.schema.patches["snapshots"].items():
        relation = patch.entry.get("relation")
        if relation is None:
            if name not in defined and not _is_disabled(parser, name):
                raise ProjectError(
                    f"Snapshot '{name}' is described in YAML but has no `relation:` and no "
                    f"{{% snapshot {name} %}} block exists." + did_you_mean(name, sorted(defined)),
                    path=patch.path,
                )
            continue
        relation = str(relation).strip()
        if relation.startswith("{{"):
            relation = relation.strip("{} ")
        if not relation.startswith(("ref(", "source(")):
            raise ProjectError(
                f"Snapshot '{name}': `relation:` must be ref('model') or source('source', 'table'), got {relation!r}",
                path=patch.path,
            )
        folder = next((f for f in _folders(project) if patch.path.startswith(f + "/")), "")
        dirs = patch.path[len(folder) + 1 :].split("/")[:-1] if folder else []
        raw = f"select * from {{{{ {relation} }}}}"
        parser._add(_node(parser, name, patch.path, patch.path, [project.name, *dirs, name], raw, None, None))


def _folders(project: Any) -> list[str]:
    return [*project.snapshot_paths, *project.model_paths, *project.seed_paths, *project.macro_paths]


def _is_disabled(parser: Parser, name: str) -> bool:
    return any(n.name == name for nodes in parser.manifest.disabled.values() for n in nodes)


def _node(
    parser: Parser, name: str, path: str, rel: str, fqn: list[str], raw: str, line: int | None, text: str | None
) -> SnapshotNode:
    from modelkit.parse.files import checksum

    project, renderer = parser.project, parser.renderer
    node = SnapshotNode(
        unique_id=f"snapshot.{project.name}.{name}",
        resource_type="snapshot",
        package_name=project.name,
        name=name,
        path=path,
        original_file_path=rel,
        fqn=fqn,
        raw_code=raw,
        checksum=checksum(text if text is not None else raw),
    )
    config = resolve(project.snapshots, fqn, SNAPSHOT_DEFAULTS)
    parser._apply_patch(node, "snapshots", config)
    node.config = config
    parser._place(node)
    capture = Capture()
    try:
        ctx = renderer.context(node, execute=False, capture=capture, path=rel)
        renderer.render(raw, rel, ctx, node_label=f"snapshot {name}")
    except ModelkitError as exc:
        exc.node = exc.node or f"snapshot {name}"
        exc.path = exc.path or rel
        raise
    merge_into(config, capture.config)
    node.unrendered_config = dict(capture.config)
    node.config = config
    node.refs, node.sources, node.env_vars = capture.refs, capture.sources, capture.env_vars
    node.depends_on_macros = sorted(ctx.called_macros)
    node._ref_lines = capture.ref_lines  # type: ignore[attr-defined]
    node._source_lines = capture.source_lines  # type: ignore[attr-defined]
    parser._place(node)
    if config.get("target_schema"):  # legacy configs are used verbatim
        node.schema = str(config["target_schema"])
    if config.get("target_database"):
        node.database = str(config["target_database"])
    if config.get("enabled", True):
        validate(node, line)
    return node


def hard_deletes(config: dict[str, Any]) -> str:
    value = config.get("hard_deletes")
    if value is None:
        return "invalidate" if config.get("invalidate_hard_deletes") else "ignore"
    return str(value)


def validate(node: SnapshotNode, line: int | None = None) -> None:
    config = node.config
    where = {"path": node.original_file_path, "line": line, "node": f"snapshot {node.name}"}
    missing = [k for k in ("strategy", "unique_key") if not config.get(k)]
    if missing:
        raise ProjectError(
            f"Snapshot '{node.name}' needs {' and '.join(f'`{k}`' for k in missing)} in its config "
            "(e.g. unique_key='id', strategy='timestamp', updated_at='updated_at')",
            **where,  # type: ignore[arg-type]
        )
    strategy = config["strategy"]
    if strategy == "timestamp" and not config.get("updated_at"):
        raise ProjectError(f"Snapshot '{node.name}' uses strategy 'timestamp' and needs `updated_at`", **where)  # type: ignore[arg-type]
    if strategy == "check":
        cols = config.get("check_cols")
        if not cols or (isinstance(cols, str) and cols != "all"):
            raise ProjectError(
                f"Snapshot '{node.name}' uses strategy 'check' and needs `check_cols`: a list of columns or 'all'",
                **where,  # type: ignore[arg-type]
            )
    if strategy not in ("timestamp", "check"):
        raise ProjectError(
            f"Snapshot '{node.name}' has an unknown strategy '{strategy}' (use 'timestamp' or 'check')",
            **where,  # type: ignore[arg-type]
        )
    if hard_deletes(config) not in HARD_DELETES:
        raise ProjectError(
            f"Snapshot '{node.name}': hard_deletes must be one of {', '.join(HARD_DELETES)}, "
            f"got '{config.get('hard_deletes')}'",
            **where,  # type: ignore[arg-type]
        )
    names = config.get("snapshot_meta_column_names") or {}
    unknown = sorted(set(names) - set(SNAPSHOT_META_COLUMNS))
    if unknown:
        raise ProjectError(
            f"Snapshot '{node.name}': unknown snapshot_meta_column_names key(s) {', '.join(unknown)} "
            f"(known: {', '.join(SNAPSHOT_META_COLUMNS)})",
            **where,  # type: ignore[arg-type]
        )


# -- execution -----------------------------------------------------------------
def spec_of(config: dict[str, Any]) -> SnapshotSpec:
    names = {n: n for n in SNAPSHOT_META_COLUMNS}
    names.update({k: str(v) for k, v in (config.get("snapshot_meta_column_names") or {}).items() if v})
    current = config.get("dbt_valid_to_current")
    return SnapshotSpec(
        unique_key=tuple(as_list(config.get("unique_key"))),
        strategy=str(config.get("strategy")),
        updated_at=config.get("updated_at"),
        hard_deletes=hard_deletes(config),
        valid_to_current=str(current) if current else None,
        names=names,
    )


def materialize_snapshot(build: Build) -> QueryResult:
    """Create the snapshot table, or record what changed since the last run; one transaction."""
    node, adapter = build.node, build.adapter
    relation = node.relation.with_type("table")
    spec = spec_of(node.config)
    existing = adapter.get_relation(relation.database, relation.schema, relation.identifier)
    if existing is not None and existing.type != "table":
        raise CompilationError(
            f"Snapshot target {relation.render()} is a {existing.type}, not a table. Drop it or rename the snapshot."
        )
    with unit_of_work(build):
        if existing is None:
            return adapter.create_snapshot_table(relation, build.sql, spec)
        target_names = {c.name.lower() for c in adapter.get_columns(existing)}
        needed = [spec.names[k] for k in ("dbt_scd_id", "dbt_valid_from", "dbt_valid_to")]
        absent = [n for n in needed if n.lower() not in target_names]
        if absent:
            raise CompilationError(
                f"Snapshot target {existing.render()} is not a snapshot table: it has no column(s) "
                f"{', '.join(absent)}. Drop it or set snapshot_meta_column_names to match it."
            )
        if spec.strategy == "check":
            spec = _check_columns(adapter, node.config.get("check_cols"), build.sql, target_names, spec)
        staging = adapter.stage_snapshot(existing, build.sql, spec)
        internal = {"dbt_change_type", "dbt_unique_key"} | {
            f"dbt_unique_key_{i}" for i in range(1, len(spec.unique_key) + 1)
        }
        staged = [c for c in adapter.get_columns(staging) if c.name.lower() not in internal]
        adapter.add_columns(existing, [c for c in staged if c.name.lower() not in target_names])
        result = adapter.apply_snapshot(existing, staging, [c.name for c in staged], spec)
        adapter.drop_relation(staging)
        return result


def _check_columns(adapter: Adapter, check_cols: Any, sql: str, existing: set[str], spec: SnapshotSpec) -> SnapshotSpec:
    """The columns compared, and whether the query gained a column (then every row counts as changed)."""
    if check_cols == "all":
        query_columns = adapter.describe_query(sql)
    else:
        query_columns = adapter.describe_query(f"select {', '.join(as_list(check_cols))} from (\n{sql}\n) subq")
    column_added = any(c.name.lower() not in existing for c in query_columns)
    compared = tuple(quote(c.name) for c in query_columns if c.name.lower() in existing)
    return replace(spec, check_cols=compared, column_added=column_added)
