"""Node configuration: the merge rules and the project config tree.

Precedence, lowest first: ``dbt_project.yml`` / ``modelkit.yml`` tree (shallow to
deep), YAML ``config:``, then ``{{ config() }}`` in the file.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

# Config names recognised without a "+" prefix in the project tree.
KNOWN_CONFIGS = frozenset(
    """
    materialized schema alias database tags enabled docs meta pre-hook post-hook pre_hook post_hook
    persist_docs full_refresh unique_key incremental_strategy on_schema_change contract column_types
    quote_columns delimiter grants packages sql_header quoting strategy updated_at check_cols severity
    where limit warn_if error_if fail_calc store_failures store_failures_as access group target_schema
    target_database snapshot_meta_column_names hard_deletes invalidate_hard_deletes dbt_valid_to_current
    incremental_predicates merge_update_columns merge_exclude_columns event_time batch_size begin lookback
    on_configuration_change indexes freshness loaded_at_field labels file_format location partition_by
    cluster_by transient copy_grants
    """.split()
)

APPEND_KEYS = frozenset({"tags", "pre-hook", "post-hook", "packages"})
UPDATE_KEYS = frozenset({"meta", "quoting", "column_types", "docs", "contract", "persist_docs"})

MODEL_DEFAULTS: dict[str, Any] = {
    "enabled": True,
    "alias": None,
    "schema": None,
    "database": None,
    "tags": [],
    "meta": {},
    "group": None,
    "materialized": "view",
    "incremental_strategy": None,
    "persist_docs": {},
    "post-hook": [],
    "pre-hook": [],
    "quoting": {},
    "column_types": {},
    "full_refresh": None,
    "unique_key": None,
    "on_schema_change": "ignore",
    "on_configuration_change": "apply",
    "grants": {},
    "packages": [],
    "docs": {"show": True, "node_color": None},
    "contract": {"enforced": False, "alias_types": True},
    "access": "protected",
}


def normalize_key(key: str) -> str:
    if key in ("pre_hook", "post_hook"):
        return key.replace("_", "-")
    return key


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]


def merge_into(config: dict[str, Any], updates: Mapping[str, Any]) -> dict[str, Any]:
    """Apply ``updates`` over ``config`` in place with dbt's merge rules."""
    for raw_key, value in updates.items():
        key = normalize_key(raw_key)
        if key in APPEND_KEYS:
            merged = _as_list(config.get(key)) + _as_list(value)
            if key == "tags":  # keep order, drop repeats
                merged = list(dict.fromkeys(merged))
            config[key] = merged
        elif key in UPDATE_KEYS and isinstance(value, Mapping):
            base = config.get(key)
            config[key] = {**(base if isinstance(base, Mapping) else {}), **value}
        else:
            config[key] = copy_data(value)
    return config


def tree_configs(tree: Mapping[str, Any] | None, fqn: Iterable[str]) -> list[dict[str, Any]]:
    """The config dicts that apply to ``fqn`` in a project tree, shallow first.

    ``tree`` is e.g. the ``models:`` mapping of the project file. A ``+key`` is
    always a config; a bare key is a config when it is a known config name,
    otherwise it names a sub-folder (or node).
    """
    found: list[dict[str, Any]] = []
    level: Any = tree
    parts = list(fqn)
    depth = 0
    while isinstance(level, Mapping):
        configs = {}
        for key, value in level.items():
            key = str(key)
            if key.startswith("+"):
                configs[key[1:]] = value
            elif key in KNOWN_CONFIGS:
                configs[key] = value
        if configs:
            found.append(configs)
        if depth >= len(parts):
            break
        nxt = level.get(parts[depth])
        depth += 1
        level = nxt
    return found


def copy_data(value: Any) -> Any:
    """A deep copy of plain data (dicts, lists, scalars), much faster than ``copy.deepcopy``."""
    if isinstance(value, dict):
        return {k: copy_data(v) for k, v in value.items()}
    if isinstance(value, list):
        return [copy_data(v) for v in value]
    return value


def resolve(
    tree: Mapping[str, Any] | None,
    fqn: Iterable[str],
    defaults: Mapping[str, Any],
    cache: dict[tuple[str, ...], dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The config of the node at ``fqn``: defaults, then each tree level, shallow first.

    With ``cache``, the merged config of each folder is computed once and
    shared (copied) by every node in it.
    """
    parts = tuple(fqn)
    if cache is None:
        config = copy_data(dict(defaults))
        for layer in tree_configs(tree, parts):
            merge_into(config, layer)
        return config
    folder = parts[:-1]
    base = cache.get(folder)
    if base is None:
        base = copy_data(dict(defaults))
        for layer in tree_configs(tree, folder):
            merge_into(base, layer)
        cache[folder] = base
    config = base.copy()
    for key, value in base.items():
        if type(value) in (dict, list):
            config[key] = value.copy()
    own = _node_level(tree, parts)
    if own:
        merge_into(config, own)
    return config


def _node_level(tree: Mapping[str, Any] | None, parts: tuple[str, ...]) -> dict[str, Any] | None:
    """Configs given under the node's own name in the tree (the deepest level), if any."""
    level: Any = tree
    for part in parts:
        if not isinstance(level, Mapping):
            return None
        level = level.get(part)
    if not isinstance(level, Mapping):
        return None
    return {(k[1:] if k.startswith("+") else k): v for k, v in level.items() if k.startswith("+") or k in KNOWN_CONFIGS}


HARD_DELETES = ("ignore", "invalidate", "new_record")


def snapshot_hard_deletes(config: Mapping[str, Any]) -> str:
    """A snapshot's ``hard_deletes`` (the legacy ``invalidate_hard_deletes`` read as ``invalidate``)."""
    value = config.get("hard_deletes")
    if value is None:
        return "invalidate" if config.get("invalidate_hard_deletes") else "ignore"
    return str(value)


def as_list(value: Any) -> list[str]:
    """A config that may be one string or a list of them (``unique_key``, predicates)."""
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value]


def merge_freshness(base: Any, update: Any) -> dict[str, Any] | None:
    """dbt's rule: a table's freshness refines its source's, one level deep; null switches it off."""
    if update is None:
        return None
    if not isinstance(base, Mapping):
        return dict(update) if isinstance(update, Mapping) else None
    if not isinstance(update, Mapping):
        return dict(base)
    merged = dict(base)
    for key, value in update.items():
        if key in ("warn_after", "error_after") and isinstance(value, Mapping) and isinstance(base.get(key), Mapping):
            merged[key] = {**base[key], **value}
        else:
            merged[key] = value
    return merged
