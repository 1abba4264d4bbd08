"""Model versions: a ``models:`` entry's ``versions:`` list, as dbt-core's ``ModelPatchParser`` reads it.

Each version ``v`` is a model of its own, defined in ``<name>_v<v>.sql`` (or ``defined_in``; the
latest version may also live in ``<name>.sql``), with unique_id ``model.<pkg>.<name>.v<v>``, fqn
ending ``[..., <name>, v<v>]``, alias ``<name>_v<v>``, and the model entry's properties refined by
the version's own: ``config`` (deep-merged), ``columns`` (the model's, narrowed by ``include`` /
``exclude``, plus the version's), ``data_tests``, ``description``, ``access``, ``constraints``,
``docs`` and ``deprecation_date``.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from modelkit.core.config import merge_into
from modelkit.core.errors import ProjectError
from modelkit.core.manifest import ModelNode
from modelkit.graph.resolve import version_less
from modelkit.parse.schema_yaml import Patch, columns_from

if TYPE_CHECKING:
    from modelkit.core.manifest import Node


def deep_merge(base: Mapping[str, Any], update: Mapping[str, Any]) -> dict[str, Any]:
    """dbt's ``deep_merge``: mappings merged key by key, lists concatenated (``update``'s first)."""
    merged = dict(base)
    for key, value in update.items():
        if isinstance(value, Mapping):
            merged[key] = deep_merge(merged.get(key) or {}, value)
        elif isinstance(value, (list, tuple)) and key in merged:
            merged[key] = list(value) + list(merged[key] or [])
        else:
            merged[key] = value
    return merged


def deprecation_datetime(value: Any) -> str | None:
    """A ``deprecation_date`` as dbt stores it: ISO text, a date at midnight, in local time when naive."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime.datetime):
        moment = value
    elif isinstance(value, datetime.date):
        moment = datetime.datetime(value.year, value.month, value.day)
    else:
        try:
            moment = datetime.datetime.fromisoformat(str(value).strip())
        except ValueError:
            raise ProjectError(f"deprecation_date {value!r} is not a date (e.g. 2025-12-31)") from None
    if moment.tzinfo is None:
        moment = moment.astimezone()
    return moment.isoformat()


def _is_include_exclude(column: Any) -> bool:
    return isinstance(column, Mapping) and "name" not in column and ("include" in column or "exclude" in column)


@dataclass(frozen=True)
class ModelVersion:
    """One entry of a model's ``versions:``."""

    patch: Patch  # the model's entry
    v: Any
    entry: Mapping[str, Any]
    latest: Any

    @property
    def name(self) -> str:
        return self.patch.name

    @property
    def stem(self) -> str:
        """The file (without .sql) defining this version."""
        return str(self.entry.get("defined_in") or f"{self.name}_v{self.v}")

    def config(self) -> dict[str, Any]:
        return deep_merge(self.patch.config, dict(self.entry.get("config") or {}))

    def _include_exclude(self) -> tuple[Any, list[str]]:
        found = [c for c in self.entry.get("columns") or [] if _is_include_exclude(c)]
        if len(found) > 1:
            raise ProjectError(
                "version can have at most one include/exclude element", path=self.patch.path, node=f"model {self.name}"
            )
        spec = found[0] if found else {"include": "*"}
        include = spec.get("include", "*")
        exclude = [str(c) for c in spec.get("exclude") or []]
        if exclude and include not in ("*", "all"):
            raise ProjectError(
                "Invalid include/exclude: exclude may only be used when include is 'all' or '*'",
                path=self.patch.path,
                node=f"model {self.name}",
            )
        return include, exclude

    def column_entries(self) -> list[dict[str, Any]]:
        """The model's columns this version includes, then the version's own."""
        include, exclude = self._include_exclude()
        everything = include in ("*", "all")
        chosen = set() if everything else {str(c) for c in include or []}
        found: list[dict[str, Any]] = []
        for column in self.patch.entry.get("columns") or []:
            if not isinstance(column, Mapping) or "name" not in column:
                continue
            name = str(column["name"])
            if (everything or name in chosen) and name not in exclude:
                found.append(dict(column))
        found += [dict(c) for c in self.entry.get("columns") or [] if isinstance(c, Mapping) and "name" in c]
        return found

    def tests(self) -> list[Any]:
        """The version's ``data_tests`` if it has any list (even empty), else the model's."""
        for owner in (self.entry, self.patch.entry):
            for key in ("data_tests", "tests"):
                if owner.get(key) is not None:
                    return list(owner[key])
        return []

    def test_entry(self) -> dict[str, Any]:
        """The version as a test target: its columns and its tests."""
        return {"name": self.name, "columns": self.column_entries(), "data_tests": self.tests()}

    def apply(self, node: Node, config: dict[str, Any], project_name: str) -> None:
        """This version's properties on its node (the model's patch refined by the version's entry)."""
        entry = self.entry
        model = self.patch.entry
        node.version = self.v
        node.latest_version = self.latest
        merge_into(config, self.config())
        for key in ("access", "docs"):
            if entry.get(key):
                config[key] = entry[key]
        node.description = str(entry.get("description") or model.get("description") or "")
        node.columns = columns_from(self.column_entries())
        node.patch_path = f"{project_name}://{self.patch.path}"
        node.meta = dict(model.get("meta") or {})
        if isinstance(node, ModelNode):
            node.constraints = list(entry.get("constraints") or model.get("constraints") or [])
            node.deprecation_date = deprecation_datetime(entry.get("deprecation_date"))


def versions_of(patch: Patch) -> list[ModelVersion]:
    """The versions of a ``models:`` entry (empty when it has none), checked as dbt checks them."""
    versions = patch.entry.get("versions") or []
    if not versions:
        return []
    if not isinstance(versions, list):
        raise ProjectError(f"`versions:` of model '{patch.name}' must be a list", path=patch.path)
    seen: set[str] = set()
    for entry in versions:
        if not isinstance(entry, Mapping) or entry.get("v") is None:
            raise ProjectError(f"Every version of model '{patch.name}' needs a `v`", path=patch.path)
        if str(entry["v"]) in seen:
            raise ProjectError(
                f"Found duplicate version: '{entry['v']}' in versions list of model '{patch.name}'", path=patch.path
            )
        seen.add(str(entry["v"]))
    numbers = [entry["v"] for entry in versions]
    latest = patch.entry.get("latest_version")
    if latest:
        if latest not in numbers:
            raise ProjectError(
                f"latest_version: {latest} is not one of model '{patch.name}' versions: {numbers} ", path=patch.path
            )
    else:
        latest = numbers[0]
        for number in numbers[1:]:
            if version_less(latest, number):
                latest = number
    return [ModelVersion(patch, entry["v"], entry, latest) for entry in versions]


def model_versions(
    patches: Mapping[str, Patch], stems: set[str]
) -> tuple[dict[str, ModelVersion], list[tuple[str, str]]]:
    """(file stem -> the version it defines, (name, YAML file) of each version no file defines).

    A version is defined in ``defined_in`` or ``<name>_v<v>``; the latest one, failing that, in
    ``<name>``. ``stems`` are the model files' names without ``.sql``.
    """
    found: dict[str, ModelVersion] = {}
    missing: list[tuple[str, str]] = []
    for patch in patches.values():
        for version in versions_of(patch):
            stem = version.stem
            if stem not in stems and version.v == version.latest and patch.name in stems:
                stem = patch.name
            if stem not in stems:
                missing.append((version.stem, patch.path))
                continue
            found[stem] = version
    return found, missing
