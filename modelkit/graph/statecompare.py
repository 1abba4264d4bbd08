"""How two nodes compare, as dbt's ``same_*`` methods compare them, on manifest.json-shaped dicts.

Each function takes the current node and the previous one (either may have been written by dbt or by
modelkit) and says whether one aspect is the same: body, configs, relation, descriptions, contract.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from modelkit.graph.contractdiff import CONSTRAINED, constraint_keys

NOT_COMPARED = ("alias", "schema", "database", "tags", "group")  # dbt's CompareBehavior.Exclude config fields
TEST_MODIFIERS = (
    "severity",
    "where",
    "limit",
    "fail_calc",
    "warn_if",
    "error_if",
    "store_failures",
    "store_failures_as",
)


def _same_keys(new: Mapping[str, Any], old: Mapping[str, Any], keys: Any) -> bool:
    return all((k in new) == (k in old) and new.get(k) == old.get(k) for k in keys)


def same_config(new: Mapping[str, Any], old: Mapping[str, Any]) -> bool:
    """dbt's ``same_config``: the configs as written, less those compared elsewhere (or not at all)."""
    if new.get("resource_type") == "source":  # freshness is one of a source's configs
        return _source_config(new) == _source_config(old) and _freshness(new) == _freshness(old)
    mine, theirs = new.get("unrendered_config") or {}, old.get("unrendered_config") or {}
    if new.get("resource_type") == "test":
        return _same_keys(mine, theirs, TEST_MODIFIERS)
    keys = (set(mine) | set(theirs)) - set(NOT_COMPARED)
    return _same_keys(mine, theirs, keys)


def same_body(new: Mapping[str, Any], old: Mapping[str, Any]) -> bool:
    """The file as written: seeds by checksum (a path for seeds over 1 MiB), others by their raw code."""
    if new.get("resource_type") == "seed":
        return new.get("checksum") == old.get("checksum")
    return _text(new.get("raw_code")) == _text(old.get("raw_code"))


def _text(code: Any) -> str:
    """Code as dbt checksums it: stripped (and line endings read alike)."""
    return str(code or "").replace("\r\n", "\n").strip()


def same_relation(new: Mapping[str, Any], old: Mapping[str, Any]) -> bool:
    """The relation as configured (not as ``generate_schema_name`` and the target make it)."""
    if new.get("resource_type") == "source":
        return _same_keys(new, old, ("database", "schema", "identifier"))
    return _same_keys(new.get("unrendered_config") or {}, old.get("unrendered_config") or {}, NOT_COMPARED[:3])


def same_persisted_description(new: Mapping[str, Any], old: Mapping[str, Any]) -> bool:
    persist = (new.get("config") or {}).get("persist_docs") or {}
    if persist.get("relation") and new.get("description") != old.get("description"):
        return False
    if persist.get("columns"):
        described = [{k: (c or {}).get("description") for k, c in (n.get("columns") or {}).items()} for n in (new, old)]
        return described[0] == described[1]
    return True


def contract_state(node: Mapping[str, Any]) -> tuple[Any, ...] | None:
    """What a model's enforced contract promises: columns (name, type, constraints), and for tables the
    materialization and model constraints (dbt's contract checksum, compared here as data)."""
    contract = node.get("contract") or {}
    if not contract.get("enforced"):
        return None
    columns = sorted(
        (name, str((c or {}).get("data_type")), constraint_keys((c or {}).get("constraints")))
        for name, c in (node.get("columns") or {}).items()
    )
    materialized = (node.get("config") or {}).get("materialized")
    if materialized in CONSTRAINED:
        return (*columns, materialized, constraint_keys(node.get("constraints")))
    return tuple(columns)


def same_contract(new: Mapping[str, Any], old: Mapping[str, Any]) -> bool:
    if new.get("resource_type") != "model":
        return True
    return contract_state(new) == contract_state(old)


def same_ref_representation(new: Mapping[str, Any], old: Mapping[str, Any]) -> bool:
    """A model's latest version, access and deprecation date: what other nodes' ``ref()`` depends on."""
    if new.get("resource_type") != "model":
        return True
    return _same_keys(new, old, ("latest_version", "access", "deprecation_date"))


def _freshness(source: Mapping[str, Any]) -> tuple[Any, ...]:
    """A source's freshness with dbt's defaults filled in (an absent threshold is count and period None)."""
    value = source.get("freshness") or {}

    def after(key: str) -> tuple[Any, Any]:
        found = value.get(key) or {}
        return (found.get("count"), found.get("period"))

    return (after("warn_after"), after("error_after"), value.get("filter"), source.get("loaded_at_field"))


def _source_config(source: Mapping[str, Any]) -> dict[str, Any]:
    """A source's configs as written, less freshness (compared on its own) and empty values."""
    left_out = (*NOT_COMPARED, "freshness", "loaded_at_field", "loaded_at_query")
    config = source.get("unrendered_config") or {}
    return {k: v for k, v in config.items() if k not in left_out and v not in (None, {}, [])}


def same_source(new: Mapping[str, Any], old: Mapping[str, Any]) -> bool:
    """dbt's comparison of sources: relation, place, configs, quoting, freshness, external."""
    return same_config(new, old) and same_relation(new, old) and _same_keys(new, old, ("quoting", "external", "fqn"))


def same_unit_test(new: Mapping[str, Any], old: Mapping[str, Any]) -> bool:
    keys = ("model", "given", "expect", "overrides", "fqn")
    return _same_keys(new, old, keys) and same_config(new, old)


def same_contents(new: Mapping[str, Any], old: Mapping[str, Any]) -> bool:
    kind = new.get("resource_type")
    if kind == "source":
        return same_source(new, old)
    if kind == "unit_test":
        return same_unit_test(new, old)
    if kind == "test" and new.get("test_metadata"):  # a generic test: its config and place only
        return same_config(new, old) and new.get("fqn") == old.get("fqn")
    return (
        same_body(new, old)
        and same_config(new, old)
        and same_persisted_description(new, old)
        and new.get("fqn") == old.get("fqn")
        and same_relation(new, old)
        and same_contract(new, old)
        and same_ref_representation(new, old)
    )
