"""dbt's published artifact schemas, checked with dbt-artifacts-parser (a strict reader: unknown fields fail)."""

from __future__ import annotations

import json
import typing
from pathlib import Path
from typing import Any

from dbt_artifacts_parser.parser import parse_catalog, parse_manifest, parse_run_results, parse_sources
from pydantic import BaseModel, ValidationError

PARSERS = {
    "manifest.json": parse_manifest,
    "run_results.json": parse_run_results,
    "catalog.json": parse_catalog,
    "sources.json": parse_sources,
}
# Larger files (the performance tests' generated projects) are left out: parsing them takes seconds.
MAX_BYTES = 5 * 1024 * 1024


def _members(annotation: Any) -> list[Any]:
    """The model classes an annotation such as ``Optional[Dict[str, Union[A, B]]]`` allows for one entry."""
    found: list[Any] = []
    for arg in typing.get_args(annotation) or (annotation,):
        if isinstance(arg, type) and issubclass(arg, BaseModel):
            found.append(arg)
        elif typing.get_args(arg):
            found += _members(arg if typing.get_origin(arg) is not dict else typing.get_args(arg)[1])
    return found


def _entry_errors(section: str, key: str, entry: Any, classes: list[Any]) -> list[str]:
    """Errors of one manifest entry against the class of its resource type (union errors say little)."""
    best: list[str] | None = None
    rtype = entry.get("resource_type") if isinstance(entry, dict) else None
    for cls in classes:
        field = cls.model_fields.get("resource_type")
        if rtype is not None and field is not None and rtype not in typing.get_args(field.annotation):
            continue
        try:
            cls.model_validate(entry)
            return []
        except ValidationError as exc:
            errs = [f"{section}.{key}.{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()]
            if best is None or len(errs) < len(best):
                best = errs
    return best or []


def _manifest_errors(data: dict) -> list[str]:
    from dbt_artifacts_parser.parsers.manifest.manifest_v12 import ManifestV12

    errors: list[str] = []
    for section, value in data.items():
        field = ManifestV12.model_fields.get(section)
        if field is None or not isinstance(value, dict):
            continue
        classes = _members(field.annotation)
        if not classes or section == "metadata":
            continue
        for key, entry in value.items():
            for item in entry if isinstance(entry, list) else [entry]:
                errors += _entry_errors(section, key, item, classes)
    return errors


def schema_errors(path: Path) -> list[str]:
    """Why ``path`` (one of the four artifacts) does not follow dbt's schema; [] when it does."""
    data = json.loads(path.read_text(encoding="utf-8"))
    try:
        PARSERS[path.name](data)
    except ValidationError as exc:
        errors = _manifest_errors(data) if path.name == "manifest.json" else []
        errors = errors or [f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()]
        return [f"{path}: {e}" for e in errors[:20]]
    return []


def artifacts_under(root: Path) -> list[Path]:
    """Every artifact that a project under ``root`` wrote (in any target folder)."""
    found = []
    for name in PARSERS:
        for path in root.rglob(name):
            if path.is_file() and path.stat().st_size <= MAX_BYTES and "compiled" not in path.parts:
                found.append(path)
    return sorted(found)
