"""``deps --add-package NAME@VERSION [--source hub|git|local]``: add an entry to the packages file,
replacing entries that name the same package (as dbt matches them: ``dbt-labs/dbt_utils`` also
replaces a git entry ``https://github.com/dbt-labs/dbt-utils.git``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from modelkit.core import yamlio
from modelkit.core.errors import UsageError
from modelkit.deps.base import DepsError
from modelkit.deps.lockfile import dump_yaml, write_text_atomic
from modelkit.deps.spec import PACKAGES_FILE, find_spec_file

SOURCES = ("hub", "git", "local")


def parse_add_package(value: str, source: str) -> tuple[str, str | None]:
    """``NAME@VERSION`` as (name, version); the version is required unless the source is local."""
    if source not in SOURCES:
        raise UsageError(f"--source must be one of {', '.join(SOURCES)} (got {source!r})")
    name, sep, version = value.rpartition("@")
    if not sep or not name or (source == "git" and any(c in version for c in "/:")):
        name, version = value, ""  # no version (``git@host:org/repo.git`` is a URL, not NAME@VERSION)
    name, version = name.strip(), version.strip()
    if not name:
        raise UsageError("--add-package needs a package name, e.g. dbt-labs/dbt_utils@1.1.1")
    if not version and source != "local":
        raise UsageError(f"Version is required in --add-package when a package when source is {source}")
    return name, version or None


def new_entry(name: str, version: str | None, source: str) -> dict[str, Any]:
    """The entry dbt writes: ``package``/``version``, ``git``/``revision`` or ``local``."""
    key = {"hub": "package", "git": "git", "local": "local"}[source]
    entry: dict[str, Any] = {key: name}
    if version and source != "local":
        value: Any = [v.strip() for v in version.split(",")] if "," in version else version
        entry["revision" if source == "git" else "version"] = value
    return entry


def _variants(name: str) -> set[str]:
    names = {name, name.replace("_", "-"), name.replace("-", "_")}
    if "/" in name:
        short = name.rsplit("/", 1)[-1]
        names |= {short, short.replace("_", "-"), short.replace("-", "_")}
    return names


def _same_package(identifier: str, variants: set[str]) -> bool:
    """Whether a variant occurs in ``identifier`` between boundaries (start, end, ``/`` or ``.``)."""
    for variant in variants:
        at = identifier.find(variant)
        if at < 0:
            continue
        end = at + len(variant)
        if (at == 0 or identifier[at - 1] in "/.") and (end == len(identifier) or identifier[end] in "/."):
            return True
    return False


def add_package(root: Path, value: str, source: str, log: Callable[[str], None]) -> Path:
    """Add ``value`` (``NAME@VERSION``) to the packages file (created when missing); returns its path."""
    name, version = parse_add_package(value, source)
    path, text, _ = find_spec_file(root)
    if path is None:
        path = root / PACKAGES_FILE
        write_text_atomic(path, dump_yaml({"packages": []}))
        log("Created packages.yml")
        text = path.read_text(encoding="utf-8")
    data = yamlio.loads(text, path.name) or {}
    if not isinstance(data, Mapping):
        raise DepsError(f"{path.name} must be a YAML mapping with a `packages:` list", path=path.name, source=text)
    data = dict(data)
    packages = data.get("packages") or []
    if not isinstance(packages, list):
        raise DepsError(f"`packages:` in {path.name} must be a list", path=path.name, source=text)
    variants = _variants(name)
    kept = []
    for entry in packages:
        identifier = None
        if isinstance(entry, Mapping):
            identifier = next(
                (entry[k] for k in ("package", "git", "local", "tarball", "private") if entry.get(k)), None
            )
        if isinstance(identifier, str) and _same_package(identifier, variants):
            shown = {k: v for k, v in entry.items() if isinstance(v, (str, int, float)) and not isinstance(v, bool)}
            log(f"Found duplicate package in packages.yml, removing: {shown}")
            continue
        kept.append(entry)
    kept.append(new_entry(name, version, source))
    data["packages"] = kept
    write_text_atomic(path, dump_yaml(data))
    log(f"Added new package {name}@{version} to {path}")
    return path
