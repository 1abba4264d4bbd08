"""Property YAML files: ``models:``, ``seeds:``, ``sources:`` and friends."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from modelkit.core import yamlio
from modelkit.core.config import merge_freshness, merge_into, resolve, tree_configs
from modelkit.core.errors import ProjectError
from modelkit.core.manifest import Column, SourceDefinition
from modelkit.core.relation import quote_policy

if TYPE_CHECKING:
    from modelkit.parse.yamlrender import PropertyRenderer

PATCH_KEYS = ("models", "seeds", "snapshots", "analyses", "macros")


@dataclass
class Patch:
    """A YAML entry describing a node defined elsewhere (e.g. a model's .sql)."""

    name: str
    path: str
    entry: dict[str, Any]

    @property
    def description(self) -> str:
        return str(self.entry.get("description") or "")

    @property
    def config(self) -> dict[str, Any]:
        config = dict(self.entry.get("config") or {})
        for key in ("docs", "meta", "tags", "access", "group", "constraints"):
            if key in self.entry and key not in config and key != "constraints":
                config[key] = self.entry[key]
        return config


@dataclass
class SchemaFiles:
    patches: dict[str, dict[str, Patch]] = field(default_factory=lambda: {k: {} for k in PATCH_KEYS})
    sources: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # (path, source entry)
    source_overrides: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # entries with `overrides:`
    unit_tests: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    raw: dict[str, Any] = field(default_factory=dict)  # path -> whole document
    renderer: PropertyRenderer | None = None  # renders Jinja in the entries as each file is added

    def add_file(self, text: str, path: str) -> None:
        self.add_data(yamlio.loads(text, path), text, path)

    def add_data(self, data: Any, text: str, path: str) -> None:
        if data is None:
            return
        if not isinstance(data, Mapping):
            raise ProjectError(
                "A property file must be a YAML mapping (e.g. `models:`)", path=path, line=1, source=text
            )
        if self.renderer is not None:
            data = self.renderer.render_document(data, text, path)
        self.raw[path] = data
        for key in PATCH_KEYS:
            entries = data.get(key) or []
            if not isinstance(entries, list):
                raise ProjectError(
                    f"`{key}:` must be a list of entries", path=path, line=_line_of(text, key), source=text
                )
            for entry in entries:
                if not isinstance(entry, Mapping) or not entry.get("name"):
                    raise ProjectError(
                        f"Every entry under `{key}:` needs a `name`", path=path, line=_line_of(text, key), source=text
                    )
                name = str(entry["name"])
                previous = self.patches[key].get(name)
                if previous is not None:
                    raise ProjectError(
                        f"{key[:-1].capitalize()} '{name}' is described twice: in {previous.path} and in {path}",
                        path=path,
                        line=_line_of(text, f"name: {name}"),
                        source=text,
                    )
                self.patches[key][name] = Patch(name, path, dict(entry))
        for source in data.get("sources") or []:
            if not isinstance(source, Mapping) or not source.get("name"):
                raise ProjectError(
                    "Every entry under `sources:` needs a `name`",
                    path=path,
                    line=_line_of(text, "sources"),
                    source=text,
                )
            (self.source_overrides if "overrides" in source else self.sources).append((path, dict(source)))
        for test in data.get("unit_tests") or []:
            self.unit_tests.append((path, dict(test)))


def apply_source_overrides(schemas: Mapping[str, SchemaFiles]) -> list[str]:
    """dbt's ``overrides: <package>`` source entries: their properties replace those of the package's
    source of that name, table by table. Returns a line for each override that matched nothing."""
    unused: list[str] = []
    for path, patch in [o for schema in schemas.values() for o in schema.source_overrides]:
        package, name = str(patch["overrides"]), str(patch["name"])
        sources = schemas[package].sources if package in schemas else []
        index = next((i for i, (_, src) in enumerate(sources) if str(src["name"]) == name), None)
        if index is None:
            unused.append(f"  - Source {package}.{name} (in {path})")
            continue
        source_path, source = sources[index]
        merged = {**source, **{k: v for k, v in patch.items() if k not in ("name", "overrides", "tables")}}
        table_patches = {str(t["name"]): t for t in patch.get("tables") or [] if isinstance(t, Mapping) and "name" in t}
        merged["tables"] = [
            {**table, **table_patches.pop(str(table.get("name")))}
            if isinstance(table, Mapping) and str(table.get("name")) in table_patches
            else table
            for table in source.get("tables") or []
        ]
        unused.extend(f"  - Source table {package}.{name}.{table} (in {path})" for table in sorted(table_patches))
        sources[index] = (source_path, merged)
    return unused


def _line_of(text: str, needle: str) -> int | None:
    for number, line in enumerate(text.splitlines(), start=1):
        if needle in line:
            return number
    return None


def columns_from(entries: Any) -> dict[str, Column]:
    columns: dict[str, Column] = {}
    for entry in entries or []:
        if not isinstance(entry, Mapping) or "name" not in entry:
            continue
        name = str(entry["name"])
        columns[name] = Column(
            name=name,
            description=str(entry.get("description") or ""),
            data_type=entry.get("data_type"),
            meta=dict(entry.get("meta") or {}),
            tags=list(entry.get("tags") or []),
            constraints=list(entry.get("constraints") or []),
            quote=entry.get("quote"),
            data_tests=list(entry.get("data_tests") or entry.get("tests") or []),
            granularity=entry.get("granularity"),
        )
    return columns


def build_sources(
    schema: SchemaFiles,
    package: str,
    default_database: str,
    source_tree: Mapping[str, Any],
    root_tree: Mapping[str, Any] | None = None,
    project_quoting: Mapping[str, Any] | None = None,
) -> dict[str, SourceDefinition]:
    """The source tables of one project or package (``root_tree``: the root project's ``sources:`` config,
    which wins for a package's sources; ``project_quoting``: the root project's ``quoting:``)."""
    found: dict[str, SourceDefinition] = {}
    for path, src in schema.sources:
        source_name = str(src["name"])
        src_config = dict(src.get("config") or {})
        for table in src.get("tables") or []:
            if not isinstance(table, Mapping) or not table.get("name"):
                raise ProjectError(f"Every table of source '{source_name}' needs a `name`", path=path)
            name = str(table["name"])
            unique_id = f"source.{package}.{source_name}.{name}"
            if unique_id in found:
                raise ProjectError(f"Source table '{source_name}.{name}' is defined twice", path=path)
            fqn = [package, *path.split("/")[1:-1], source_name, name]
            config = resolve(source_tree, [package, source_name, name], {"enabled": True})
            merge_into(config, src_config)
            merge_into(config, dict(table.get("config") or {}))
            for layer in tree_configs(root_tree, [package, source_name, name]) if root_tree is not None else ():
                merge_into(config, layer)
            if not config.get("enabled", True):
                continue
            freshness = _freshness(src, src_config, table)
            quoting = {**_mapping(src.get("quoting")), **_mapping(table.get("quoting"))}
            found[unique_id] = SourceDefinition(
                unique_id=unique_id,
                package_name=package,
                source_name=source_name,
                name=name,
                identifier=str(table.get("identifier") or name),
                database=str(table.get("database") or src.get("database") or default_database),
                schema=str(table.get("schema") or src.get("schema") or source_name),
                original_file_path=path,
                fqn=fqn,
                description=str(table.get("description") or ""),
                source_description=str(src.get("description") or ""),
                columns=columns_from(table.get("columns")),
                loader=str(src.get("loader") or ""),
                loaded_at_field=table.get("loaded_at_field", config.get("loaded_at_field", src.get("loaded_at_field"))),
                freshness=freshness,
                meta={**(src.get("meta") or {}), **(table.get("meta") or {})},
                tags=list(dict.fromkeys([*(src.get("tags") or []), *(table.get("tags") or [])])),
                config=config,
                quoting=quoting,
                name_quote_policy=quote_policy(project_quoting, quoting),
            )
    return found


def _mapping(value: Any) -> dict[str, Any]:
    return dict(value) if isinstance(value, Mapping) else {}


def _freshness(src: Mapping[str, Any], src_config: Mapping[str, Any], table: Mapping[str, Any]) -> Any:
    """The table's freshness: its own (top level or ``config:``) refining its source's; null turns it off."""
    base = src.get("freshness", src_config.get("freshness"))
    table_config = table.get("config") or {}
    if "freshness" in table:
        return merge_freshness(base, table["freshness"])
    if isinstance(table_config, Mapping) and "freshness" in table_config:
        return merge_freshness(base, table_config["freshness"])
    return dict(base) if isinstance(base, Mapping) else base
