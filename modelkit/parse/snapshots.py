"""Snapshots from ``{% snapshot %}`` blocks in ``snapshots/`` and from YAML entries with ``relation:``.

Each becomes a :class:`SnapshotNode` whose config is checked here (strategy, keys, columns), so a
bad snapshot fails the parse with its file and line; the history is kept by
:mod:`modelkit.execute.materializations.snapshot`.
"""

from __future__ import annotations

import re
from typing import Any

from modelkit.adapters.base import SNAPSHOT_META_COLUMNS
from modelkit.core.config import HARD_DELETES, MODEL_DEFAULTS, merge_into, resolve, snapshot_hard_deletes
from modelkit.core.errors import ModelkitError, ProjectError
from modelkit.core.manifest import SnapshotNode
from modelkit.core.text import did_you_mean
from modelkit.parse.files import checksum, read, walk
from modelkit.parse.sink import NodeSink
from modelkit.render import templating
from modelkit.render.context import Capture

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


_BLOCK = re.compile(r"\{%-?\s*snapshot\s+([A-Za-z_]\w*)\s*-?%\}(.*?)\{%-?\s*endsnapshot\s*-?%\}", re.S)


# -- parsing -------------------------------------------------------------------
def parse_snapshots(parser: NodeSink) -> None:
    """Add every snapshot (SQL blocks, then YAML entries with ``relation``) to the manifest."""
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
            parser.add_node(_node(parser, name, inner, rel, fqn, body, line + 1, text))
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
        parser.add_node(_node(parser, name, patch.path, patch.path, [project.name, *dirs, name], raw, None, None))


def _folders(project: Any) -> list[str]:
    return [*project.snapshot_paths, *project.model_paths, *project.seed_paths, *project.macro_paths]


def _is_disabled(parser: NodeSink, name: str) -> bool:
    return any(n.name == name for nodes in parser.manifest.disabled.values() for n in nodes)


def _node(
    parser: NodeSink, name: str, path: str, rel: str, fqn: list[str], raw: str, line: int | None, text: str | None
) -> SnapshotNode:
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
    parser.apply_patch(node, "snapshots", config)
    node.config = config
    parser.place_node(node)
    capture = Capture()
    try:
        ctx = renderer.context(node, execute=False, capture=capture, path=rel)
        renderer.render(raw, rel, ctx, node_label=f"snapshot {name}")
    except ModelkitError as exc:
        exc.node = exc.node or f"snapshot {name}"
        exc.path = exc.path or rel
        raise
    merge_into(config, capture.config)
    parser.override_config(config, "snapshots", fqn)
    node.unrendered_config = parser.unrendered_config("snapshot", fqn, name, capture.config, (raw, rel))
    node.config = config
    node.refs, node.sources, node.env_vars = capture.refs, capture.sources, capture.env_vars
    node.depends_on_macros = sorted(ctx.called_macros)
    node.ref_lines = capture.ref_lines
    node.source_lines = capture.source_lines
    parser.place_node(node)
    if config.get("target_schema"):  # legacy configs are used verbatim
        node.schema = str(config["target_schema"])
    if config.get("target_database"):
        node.database = str(config["target_database"])
    if config.get("enabled", True):
        validate(node, line)
    return node


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
    if snapshot_hard_deletes(config) not in HARD_DELETES:
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
