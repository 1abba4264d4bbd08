"""dbt's base Jinja functions and objects: ``exceptions``, ``modules``, ``fromjson``, ``zip``, ``set``, ...

Each behaves as dbt-core's (``core/dbt/context/base.py`` and ``exceptions_jinja.py``): the same
defaults on bad input, the same errors from the ``*_strict`` variants.
"""

from __future__ import annotations

import datetime
import hashlib
import itertools
import json
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import yaml

from modelkit.core.errors import CompilationError, DatabaseError

DBT_VERSION = "1.11.0"


class Exceptions:
    """The ``exceptions`` namespace: dbt's functions that raise (and ``warn``, which logs)."""

    def __init__(self, warn: Callable[[str], None]) -> None:
        self._warn = warn

    def warn(self, msg: str, node: Any = None) -> str:
        self._warn(str(msg))
        return ""

    def raise_compiler_error(self, msg: str, node: Any = None) -> None:
        raise CompilationError(str(msg))

    def raise_database_error(self, msg: str, node: Any = None) -> None:
        raise DatabaseError(str(msg))

    def raise_not_implemented(self, msg: str) -> None:
        raise CompilationError(f"ERROR: {msg}")

    def raise_fail_fast_error(self, msg: str, node: Any = None) -> None:
        raise CompilationError(str(msg))

    def raise_dependency_error(self, msg: str) -> None:
        raise CompilationError(str(msg))

    def raise_contract_error(self, yaml_columns: Any, sql_columns: Any) -> None:
        raise CompilationError(
            "This model has an enforced contract that failed.\n"
            f"Columns in the contract: {yaml_columns}\nColumns returned by the query: {sql_columns}"
        )

    def column_type_missing(self, column_names: Any) -> None:
        raise CompilationError(
            "Contracted models require data_type to be defined for each column. Please ensure that the column "
            f"name and data_type are defined within the YAML configuration for the {column_names} column(s)."
        )

    def missing_config(self, model: Any, name: str) -> None:
        raise CompilationError(
            f"Model '{_get(model, 'unique_id')}' does not define a required config parameter '{name}'."
        )

    def missing_materialization(self, model: Any, adapter_type: str) -> None:
        materialization = _get(_get(model, "config") or {}, "materialized")
        valid = "'default'" if adapter_type == "default" else f"'default' and '{adapter_type}'"
        raise CompilationError(
            f"No materialization '{materialization}' was found for adapter {adapter_type}! (searched types {valid})"
        )

    def missing_relation(self, relation: Any, model: Any = None) -> None:
        raise CompilationError(f"Relation {relation} not found!")

    def relation_wrong_type(self, relation: Any, expected_type: str, model: Any = None) -> None:
        raise CompilationError(
            f"Trying to create {expected_type} {relation}, but it currently exists as a "
            f"{getattr(relation, 'type', None)}. Either drop {relation} manually, or run dbt with "
            "`--full-refresh` and dbt will drop it for you."
        )

    def raise_ambiguous_alias(self, node_1: Any, node_2: Any, duped_name: Any = None) -> None:
        raise CompilationError(
            f'dbt found two resources with the database representation "{duped_name}".\n'
            "dbt cannot create two resources with identical database representations. To fix this,\n"
            "change the configuration of one of these resources:\n"
            f"- {_get(node_1, 'unique_id')}\n- {_get(node_2, 'unique_id')}"
        )

    def raise_ambiguous_catalog_match(self, unique_id: str, match_1: Any, match_2: Any) -> None:
        raise CompilationError(
            f"dbt found two relations in your warehouse with similar database identifiers: {unique_id}"
        )

    def raise_cache_inconsistent(self, message: str) -> None:
        raise CompilationError(f"Cache inconsistency detected: {message}")

    def raise_dataclass_not_dict(self, obj: Any) -> None:
        raise CompilationError(f"The object ('{obj}') was used as a dictionary. This capability has been removed.")

    def raise_dep_not_found(self, node: Any, node_description: str, required_pkg: str) -> None:
        raise CompilationError(
            f'Error while parsing {node_description}.\nThe required package "{required_pkg}" was not found.'
        )

    def raise_duplicate_patch_name(self, patch_1: Any, existing_patch_path: Any) -> None:
        raise CompilationError(f"dbt found two schema.yml entries for the same resource named {_get(patch_1, 'name')}")

    def raise_duplicate_resource_name(self, node_1: Any, node_2: Any) -> None:
        raise CompilationError(
            f'dbt found two resources with the name "{_get(node_1, "name")}". '
            f"Resources: {_get(node_1, 'unique_id')}, {_get(node_2, 'unique_id')}"
        )

    def raise_invalid_property_yml_version(self, path: str, issue: str) -> None:
        raise CompilationError(f"The yml property file at {path} is invalid because {issue}.")

    def warn_snapshot_timestamp_data_types(self, snapshot_time_data_type: str, updated_at_data_type: str) -> str:
        self._warn(
            f"Data type of snapshot table timestamp columns ({snapshot_time_data_type}) doesn't match derived "
            f"column 'updated_at' ({updated_at_data_type}). Please update snapshot config 'updated_at'."
        )
        return ""


def _get(obj: Any, key: str) -> Any:
    return obj.get(key) if isinstance(obj, Mapping) else getattr(obj, key, None)


def _module_context() -> dict[str, dict[str, Any]]:
    """``modules``: what dbt exports of ``datetime``, ``re``, ``itertools`` and ``pytz``."""
    modules = {
        "datetime": {name: getattr(datetime, name) for name in ("date", "datetime", "time", "timedelta", "tzinfo")},
        "re": {name: getattr(re, name) for name in re.__all__},
        "itertools": {
            name: getattr(itertools, name)
            for name in """count cycle repeat accumulate chain compress islice starmap tee zip_longest product
            permutations combinations combinations_with_replacement""".split()
        },
    }
    return modules


def _pytz() -> dict[str, Any]:
    """``modules.pytz`` (dbt ships pytz; modelkit offers it when it is installed)."""
    try:
        import pytz  # type: ignore[import-untyped]  # (on a template's first use: most never use it)
    except ImportError:
        raise CompilationError("modules.pytz needs the pytz package (pip install pytz)") from None
    return {name: getattr(pytz, name) for name in pytz.__all__}


class Modules(dict):
    """``modules.datetime``, ``modules.re``, ``modules.itertools`` and (if installed) ``modules.pytz``."""

    def __init__(self) -> None:
        super().__init__(_module_context())

    def __missing__(self, name: str) -> Any:
        if name != "pytz":
            raise KeyError(name)
        found = self["pytz"] = _pytz()
        return found

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


def fromjson(string: str, default: Any = None) -> Any:
    try:
        return json.loads(string)
    except ValueError:
        return default


def tojson(value: Any, default: Any = None, sort_keys: bool = False) -> Any:
    try:
        return json.dumps(value, sort_keys=sort_keys)
    except ValueError:
        return default


def fromyaml(value: str, default: Any = None) -> Any:
    try:
        return yaml.safe_load(value)
    except (AttributeError, ValueError, yaml.YAMLError):
        return default


def toyaml(value: Any, default: Any = None, sort_keys: bool = False) -> Any:
    try:
        return yaml.safe_dump(data=value, sort_keys=sort_keys)
    except (ValueError, yaml.YAMLError):
        return default


def as_set(value: Iterable[Any], default: Any = None) -> Any:
    try:
        return set(value)
    except TypeError:
        return default


def set_strict(value: Iterable[Any]) -> set[Any]:
    try:
        return set(value)
    except TypeError as exc:
        raise CompilationError(str(exc)) from None


def as_zip(*args: Iterable[Any], default: Any = None) -> Any:
    try:
        return zip(*args)
    except TypeError:
        return default


def zip_strict(*args: Iterable[Any]) -> Any:
    try:
        return zip(*args)
    except TypeError as exc:
        raise CompilationError(str(exc)) from None


def local_md5(value: str) -> str:
    return hashlib.md5(str(value).encode("utf-8")).hexdigest()


def diff_of_two_dicts(dict_a: Mapping[str, list[str]], dict_b: Mapping[str, list[str]]) -> dict[str, list[str]]:
    """``dict_a`` minus ``dict_b``, keys and values compared case-insensitively."""
    lowered = {k.casefold(): [x.casefold() for x in v] for k, v in dict_b.items()}
    diff: dict[str, list[str]] = {}
    for key, values in dict_a.items():
        if key.casefold() in lowered:
            missing = [v for v in values if v.casefold() not in lowered[key.casefold()]]
            if missing:
                diff[key] = missing
        else:
            diff[key] = values
    return diff


def try_or_compiler_error(message_if_exception: str, func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    try:
        return func(*args, **kwargs)
    except Exception:  # noqa: BLE001 - the documented behaviour: any failure becomes this error
        raise CompilationError(message_if_exception) from None


class Validation:
    """``validation.any(...)``: validators for ``config.get(..., validator=...)``."""

    @staticmethod
    def any(*choices: Any) -> Callable[[Any], None]:
        def check(value: Any) -> None:
            for choice in choices:
                if (isinstance(choice, type) and isinstance(value, choice)) or value == choice:
                    return
            raise CompilationError(f'Expected value "{value}" to be one of {",".join(map(str, choices))}')

        return check


BASE_GLOBALS: dict[str, Any] = {
    "modules": Modules(),
    "fromjson": fromjson,
    "tojson": tojson,
    "fromyaml": fromyaml,
    "toyaml": toyaml,
    "zip": as_zip,
    "zip_strict": zip_strict,
    "set": as_set,
    "set_strict": set_strict,
    "local_md5": local_md5,
    "diff_of_two_dicts": diff_of_two_dicts,
    "try_or_compiler_error": try_or_compiler_error,
    "validation": Validation(),
    "dbt_version": DBT_VERSION,
}
