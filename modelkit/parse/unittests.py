"""``unit_tests:`` entries of property files, checked and turned into :class:`UnitTestNode`s."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from modelkit.core.config import merge_into, resolve
from modelkit.core.errors import ProjectError
from modelkit.core.manifest import UnitTestNode
from modelkit.core.text import did_you_mean
from modelkit.parse.datatests import fqn_dirs, located
from modelkit.parse.sink import NodeSink

FORMATS = ("dict", "csv", "sql")


_REF = re.compile(r"""^\s*ref\(\s*(['"])(?P<a>[^'"]+)\1\s*(?:,\s*(['"])(?P<b>[^'"]+)\3\s*)?(?:,[^)]*)?\)\s*$""")


_SOURCE = re.compile(r"""^\s*source\(\s*(['"])(?P<s>[^'"]+)\1\s*,\s*(['"])(?P<t>[^'"]+)\3\s*\)\s*$""")


def parse_input(text: Any) -> tuple[str, ...] | None:
    """``("ref", name)``, ``("source", source, table)`` or ``("this",)``; None if not understood."""
    if not isinstance(text, str):
        return None
    if text.strip() == "this":
        return ("this",)
    match = _REF.match(text)
    if match:
        return ("ref", match.group("b") or match.group("a"))
    match = _SOURCE.match(text)
    if match:
        return ("source", match.group("s"), match.group("t"))
    return None


# -- parsing ------------------------------------------------------------------------------
def _data_spec(entry: Any, what: str, at: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(entry, Mapping):
        raise ProjectError(f"{what} must be a mapping with `rows` (or `fixture`)", **at)
    fmt = str(entry.get("format") or "dict")
    if fmt not in FORMATS:
        raise ProjectError(f"{what} has format '{fmt}'; use one of {', '.join(FORMATS)}", **at)
    rows, fixture = entry.get("rows"), entry.get("fixture")
    if rows is None and fixture is None and fmt != "dict":
        raise ProjectError(f"{what} needs `rows` or a `fixture`", **at)
    if (
        rows is not None
        and fmt == "dict"
        and not (isinstance(rows, list) and all(isinstance(r, Mapping) for r in rows))
    ):
        raise ProjectError(f"{what}: `rows` must be a list of mappings (e.g. `- {{id: 1}}`)", **at)
    if rows is not None and fmt in ("csv", "sql") and not isinstance(rows, str):
        raise ProjectError(f"{what}: with format {fmt}, `rows` must be text", **at)
    return {"rows": rows if rows is not None or fixture else [], "format": fmt, "fixture": fixture}


def add_unit_tests(parser: NodeSink) -> None:
    """Add the ``unit_tests:`` entries of property files to the parser's manifest."""
    manifest = parser.manifest
    project = parser.project
    models = {
        n.name: n for n in manifest.nodes.values() if n.resource_type == "model" and n.package_name == project.name
    }
    disabled = {n.name for ns in manifest.disabled.values() for n in ns if n.resource_type == "model"}
    refable = {n.name for n in manifest.nodes.values() if n.resource_type in ("model", "seed", "snapshot")}
    sources = {(s.source_name, s.name) for s in manifest.sources.values()}
    own_package = project.name if project.name != parser.renderer.project.name else None  # a package's tests
    for path, entry in parser.schema.unit_tests:
        name, model_name = entry.get("name"), entry.get("model")
        if not name or not model_name:
            raise ProjectError("Every entry under `unit_tests:` needs a `name` and a `model`", path=path)
        name, model_name = str(name), str(model_name)
        where = f"Unit test '{name}'"
        at = located(project.root, path, f"name: {name}")
        if model_name not in models:
            if model_name in disabled:
                continue
            raise ProjectError(
                f"{where} tests model '{model_name}', which does not exist." + did_you_mean(model_name, list(models)),
                **at,
            )
        given = []
        for item in entry.get("given") or []:
            if not isinstance(item, Mapping) or "input" not in item:
                raise ProjectError(f"{where}: every `given:` entry needs an `input` (e.g. ref('orders'))", **at)
            key = parse_input(item["input"])
            if key is None:
                raise ProjectError(
                    f"{where}: input {item['input']!r} is not ref('...'), source('...', '...') or this", **at
                )
            if key[0] == "ref" and key[1] not in refable:
                raise ProjectError(
                    f"{where}: input ref('{key[1]}') names no model, seed or snapshot."
                    + did_you_mean(key[1], sorted(refable)),
                    **at,
                )
            if key[0] == "source" and (key[1], key[2]) not in sources:
                raise ProjectError(f"{where}: input source('{key[1]}', '{key[2]}') is not a known source", **at)
            given.append({"input": str(item["input"]), **_data_spec(item, f"{where}, input {item['input']}", at)})
        expect = _data_spec(entry.get("expect"), f"{where}: `expect`", at)
        fqn = [project.name, *fqn_dirs(path, parser), model_name, name]
        node = UnitTestNode(
            unique_id=f"unit_test.{project.name}.{model_name}.{name}",
            resource_type="unit_test",
            package_name=project.name,
            name=name,
            path=path.split("/", 1)[-1],
            original_file_path=path,
            fqn=fqn,
            raw_code="",
            checksum="",
            description=str(entry.get("description") or ""),
            database=parser.renderer.target.database,
            schema=parser.renderer.target.schema,
            alias=name,
            refs=[{"name": model_name, "package": own_package, "version": None}],
            model_name=model_name,
            given=given,
            expect=expect,
            overrides=dict(entry["overrides"]) if isinstance(entry.get("overrides"), Mapping) else None,
            compiled_file_path=f"{path}/models/{name}.sql",
        )
        config = resolve(project.unit_tests, fqn, {"enabled": True, "tags": [], "meta": {}})
        merge_into(config, dict(entry.get("config") or {}))
        parser.override_config(config, "unit_tests", fqn)
        node.config = config
        if not config.get("enabled", True):
            manifest.disabled.setdefault(node.unique_id, []).append(node)
            continue
        if node.unique_id in manifest.nodes:
            raise ProjectError(f"{where} of model '{model_name}' is defined twice", **at)
        manifest.nodes[node.unique_id] = node
