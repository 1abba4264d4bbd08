"""Package entries: reading ``packages.yml`` / ``dependencies.yml`` (each entry with its line),
validating them, the hash dbt stores in ``package-lock.yml``, and a package folder's own metadata."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from modelkit.core import yamlio
from modelkit.core.errors import ProjectError
from modelkit.deps.base import DepsError, Origin, Renderer
from modelkit.project.project import find_project_file

PACKAGES_FILE = "packages.yml"
DEPENDENCIES_FILE = "dependencies.yml"
KINDS = ("local", "git", "tarball", "package")
_ALLOWED_KEYS = {
    "local": frozenset({"local", "name"}),
    "git": frozenset({"git", "revision", "subdirectory", "warn-unpinned", "warn_unpinned", "name"}),
    "tarball": frozenset({"tarball", "name"}),
    "package": frozenset({"package", "version", "install-prerelease", "install_prerelease", "name"}),
}

try:  # the C composer is several times faster
    _Loader: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - libyaml missing
    _Loader = yaml.SafeLoader


@dataclass(frozen=True)
class PackageSpec:
    """One entry of a packages file, rendered (``raw`` keeps it as written)."""

    kind: str  # local | git | tarball | hub
    target: str  # the path, URL or hub name (org/package)
    raw: dict[str, Any]
    rendered: dict[str, Any]
    origin: Origin
    key: str  # identifies the package across requirers
    revision: str | None = None
    subdirectory: str | None = None
    versions: tuple[str, ...] = ()
    install_prerelease: bool = False
    name: str | None = None
    warn_unpinned: bool = True

    @property
    def display(self) -> str:
        """How dbt names it in ``Installing ...`` lines."""
        if self.kind == "git" and self.subdirectory:
            return f"{self.target}/{self.subdirectory}"
        if self.kind == "tarball" and self.name:
            return self.name
        return self.target


@dataclass
class SpecFile:
    """The root project's packages file (``path`` None when there is none)."""

    root: Path
    path: Path | None
    text: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    entries: list[PackageSpec] = field(default_factory=list)

    @property
    def display(self) -> str:
        return self.path.name if self.path else PACKAGES_FILE


@dataclass(frozen=True)
class PackageInfo:
    """What a package folder says of itself: its name, required dbt versions and dependencies."""

    name: str
    require_dbt_version: tuple[str, ...]
    dependencies: list[PackageSpec]


def git_key(url: str, subdirectory: str | None) -> str:
    base = url.rstrip("/")
    base = base[:-4] if base.endswith(".git") else base
    return f"git:{base}/{subdirectory.strip('/')}" if subdirectory else f"git:{base}"


def entry_lines(text: str) -> list[int | None]:
    """The line of each item of the top-level ``packages:`` list (1-based)."""
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.YAMLError:
        return []
    if not isinstance(node, yaml.MappingNode):
        return []
    for key, value in node.value:
        if isinstance(key, yaml.ScalarNode) and key.value == "packages" and isinstance(value, yaml.SequenceNode):
            return [item.start_mark.line + 1 for item in value.value]
    return []


def _load_file(path: Path) -> tuple[str, Any]:
    text = path.read_text(encoding="utf-8")
    return text, yamlio.loads(text, path.name)


def find_spec_file(root: Path) -> tuple[Path | None, str, dict[str, Any]]:
    """The file that lists the packages (``packages.yml``, else ``dependencies.yml``), its text and data."""
    found: list[tuple[Path, str, dict[str, Any]]] = []
    for name in (PACKAGES_FILE, DEPENDENCIES_FILE):
        path = root / name
        if path.is_file():
            text, data = _load_file(path)
            if data is not None and not isinstance(data, Mapping):
                raise DepsError(f"{name} must be a YAML mapping with a `packages:` list", path=name, source=text)
            found.append((path, text, dict(data or {})))
    with_packages = [item for item in found if "packages" in item[2]]
    if len(with_packages) > 1:
        raise DepsError(
            "The 'packages' key cannot be specified in both packages.yml and dependencies.yml", path=DEPENDENCIES_FILE
        )
    if with_packages:
        return with_packages[0]
    if found and found[0][0].name == PACKAGES_FILE:
        return found[0]
    return None, "", {}


def read_spec_file(root: Path, renderer: Renderer) -> SpecFile:
    path, text, data = find_spec_file(root)
    spec = SpecFile(root, path, text, data)
    if path is not None:
        spec.entries = parse_entries(data, root, renderer, path=path.name, text=text)
    return spec


def parse_entries(
    data: Mapping[str, Any],
    root: Path,
    renderer: Renderer,
    *,
    path: str,
    text: str,
    parent: Origin | None = None,
    parent_name: str = "",
) -> list[PackageSpec]:
    """The entries of a packages file's ``packages:`` list.

    ``parent``/``parent_name`` are set for the packages file of a dependency: its entries are then
    located at the root entry that pulled the dependency in.
    """
    packages = data.get("packages")
    if packages is None:
        return []
    lines = entry_lines(text)

    def origin(index: int) -> Origin:
        line = lines[index] if index < len(lines) else None
        if parent is None:
            return Origin(path, line, text)
        where = f"{parent_name}'s {path}" + (f" line {line}" if line else "")
        return Origin(parent.path, parent.line, parent.source, parent.chain + (parent_name,), where)

    if not isinstance(packages, list):
        raise (parent or Origin(path, None, text)).error(f"`packages:` in {path} must be a list of package entries")
    return [_entry(item, root, renderer, origin(i), path) for i, item in enumerate(packages)]


def _entry(raw: Any, root: Path, renderer: Renderer, origin: Origin, path: str) -> PackageSpec:
    if not isinstance(raw, Mapping):
        raise origin.error(f"A package entry in {path} must be a mapping, e.g. `- package: dbt-labs/dbt_utils`")
    raw = dict(raw)
    if "private" in raw:
        raise origin.error(
            f"Cannot resolve private package {raw['private']} because git provider integration is missing. "
            'Please use a "git" package instead.'
        )
    kinds = [k for k in KINDS if k in raw]
    if len(kinds) != 1:
        raise origin.error(
            "A package entry needs exactly one of `local:`, `git:`, `tarball:` or `package:`"
            + (f" (found {', '.join(kinds)})" if kinds else f" (found {', '.join(map(str, raw)) or 'nothing'})")
        )
    kind = kinds[0]
    unknown = sorted(str(k) for k in raw if k not in _ALLOWED_KEYS[kind])
    if unknown:
        allowed = ", ".join(sorted(_ALLOWED_KEYS[kind]))
        raise origin.error(f"Unknown key(s) {', '.join(unknown)} in a `{kind}:` package entry (allowed: {allowed})")
    rendered = renderer.render(raw, origin)
    target = rendered[kind]
    if not isinstance(target, str) or not target.strip():
        label = "hub" if kind == "package" else kind
        raise origin.error(f"A {label} package is missing the value. It is a required property.")
    target = target.strip()
    name = rendered.get("name")
    if name is not None and not isinstance(name, str):
        raise origin.error(f"`name:` of a package entry must be a string (got {name!r})")
    if kind == "local":
        key = "local:" + str((root / target).resolve())
        return PackageSpec("local", target, raw, rendered, origin, key, name=name)
    if kind == "tarball":
        return PackageSpec("tarball", target, raw, rendered, origin, "tarball:" + target, name=name)
    if kind == "git":
        revision = rendered.get("revision")
        subdirectory = rendered.get("subdirectory")
        if subdirectory is not None and not isinstance(subdirectory, str):
            raise origin.error(f"`subdirectory:` must be a string (got {subdirectory!r})")
        warn = rendered.get("warn-unpinned", rendered.get("warn_unpinned"))
        return PackageSpec(
            "git",
            target,
            raw,
            rendered,
            origin,
            git_key(target, subdirectory),
            revision=None if revision is None else str(revision),
            subdirectory=subdirectory.strip("/") if subdirectory else None,
            name=name,
            warn_unpinned=warn is not False,
        )
    version = rendered.get("version")
    if version is None or version == "" or version == []:
        raise origin.error(
            f"{target} is missing the version. When installing from the Hub package index, "
            "version is a required property"
        )
    if "/" not in target:
        raise origin.error(
            f"{target} was not found in the package index. Packages on the index require a namespace, "
            "e.g dbt-labs/dbt_utils"
        )
    versions = tuple(str(v) for v in version) if isinstance(version, list) else (str(version),)
    prerelease = rendered.get("install_prerelease", rendered.get("install-prerelease", False))
    return PackageSpec(
        "hub",
        target,
        raw,
        rendered,
        origin,
        "hub:" + target,
        versions=versions,
        install_prerelease=bool(prerelease),
        name=name,
    )


def _hash_dict(spec: PackageSpec) -> dict[str, Any]:
    """The entry as dbt serializes it for the lock file's hash (so dbt's and modelkit's hashes agree)."""
    r = spec.rendered
    if spec.kind == "local":
        out: dict[str, Any] = {"local": r["local"]}
    elif spec.kind == "tarball":
        out = {"tarball": r["tarball"]}
    elif spec.kind == "git":
        out = {
            "git": r["git"],
            "revision": r.get("revision"),
            "subdirectory": r.get("subdirectory"),
            "warn-unpinned": r.get("warn-unpinned", r.get("warn_unpinned")),
        }
    else:
        out = {
            "package": r["package"],
            "version": r["version"],
            "install_prerelease": r.get("install_prerelease", r.get("install-prerelease", False)),
        }
    if r.get("name") is not None:
        out["name"] = r["name"]
    out["unrendered"] = spec.raw
    return out


def spec_hash(entries: list[PackageSpec]) -> str:
    """dbt's ``sha1_hash``: of the sorted JSON of every entry."""
    lines = sorted(json.dumps(_hash_dict(e), sort_keys=True, default=str) for e in entries)
    return hashlib.sha1("\n".join(lines).encode("utf-8")).hexdigest()


def read_package(folder: Path, root: Path, renderer: Renderer, origin: Origin, label: str) -> PackageInfo:
    """Name, ``require-dbt-version`` and dependencies of the package in ``folder`` (``label`` names it)."""
    try:
        project_file = find_project_file(folder)
    except ProjectError:
        raise origin.error(f"No dbt_project.yml found in package {label} ({folder.name}/)") from None
    try:
        text, data = _load_file(project_file)
    except ProjectError as exc:
        raise origin.error(f"Invalid {project_file.name} in package {label}: {exc.message}") from None
    if not isinstance(data, Mapping):
        raise origin.error(f"The {project_file.name} of package {label} must be a YAML mapping")
    name = renderer.render(data.get("name"), origin)
    if not isinstance(name, str) or not name or not name.replace("_", "a").isalnum() or name[0].isdigit():
        raise origin.error(f"Package defined in {project_file.name} must have a name! ({label} has {name!r})")
    required = data.get("require-dbt-version", data.get("require_dbt_version"))
    if required is None:
        required_versions: tuple[str, ...] = ()
    elif isinstance(required, list):
        required_versions = tuple(str(v) for v in required)
    else:
        required_versions = tuple(v.strip() for v in str(required).split(",") if v.strip())
    dependencies: list[PackageSpec] = []
    try:
        spec_path, spec_text, spec_data = find_spec_file(folder)
    except ProjectError as exc:
        raise origin.error(f"In package {name}: {exc.message}") from None
    if spec_path is not None:
        dependencies = parse_entries(
            spec_data, root, renderer, path=spec_path.name, text=spec_text, parent=origin, parent_name=name
        )
    return PackageInfo(name, required_versions, dependencies)
