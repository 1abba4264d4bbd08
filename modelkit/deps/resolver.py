"""Resolution: from the root project's entries to one pinned version of every package, transitive
ones included.

Requirements on one package are merged: hub version ranges are intersected across every requirer and
the highest installable version in the intersection is picked; git entries of one repository must ask
for one revision. Picking a version can change what that version depends on, so resolution repeats
until the picks stop changing. Then two packages with one name, a package named like the root project
and a cycle are errors.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from modelkit.deps.base import DBT_VERSION, Origin, Renderer
from modelkit.deps.semver import (
    SemverError,
    Specifier,
    allows_all,
    can_intersect,
    describe,
    highest_match,
    installable,
    parse_specifier,
    parse_version,
)
from modelkit.deps.sources import Workspace
from modelkit.deps.spec import PackageInfo, PackageSpec, parse_entries, read_package

MAX_ROUNDS = 50
PIN_URL = "https://docs.getdbt.com/docs/package-management#section-specifying-package-versions"
INVALID_VERSION = """\
This version of dbt is not supported with the '{package}' package.
  Installed version of dbt: {installed}
  Required version of dbt for '{package}': {spec}
Check for a different version of the '{package}' package."""
IMPOSSIBLE_VERSION = """\
The package version requirement can never be satisfied for the '{package}
package.
  Required versions of dbt for '{package}': {spec}
Check for a different version of the '{package}' package."""


@dataclass(frozen=True)
class Resolved:
    """One package, pinned: ``lock`` is its entry in package-lock.yml."""

    key: str
    kind: str
    name: str
    lock: dict[str, Any]
    origin: Origin
    dependencies: tuple[PackageSpec, ...] = ()
    latest: str | None = None  # hub packages: the highest installable version
    warnings: tuple[str, ...] = field(default=(), compare=False)


@dataclass
class Resolver:
    root: Path
    project_name: str
    renderer: Renderer
    workspace: Workspace
    log: Callable[[str], None]

    def resolve(self, entries: Sequence[PackageSpec]) -> list[Resolved]:
        picks: dict[str, Resolved] = {}
        for _ in range(MAX_ROUNDS):
            requirements, order = self._requirements(entries, picks)
            new = {key: self._pick(requirements[key]) for key in order}
            settled = new.keys() == picks.keys() and all(new[k].lock == picks[k].lock for k in new)
            picks = new
            if settled:
                break
        else:
            raise entries[0].origin.error(f"Package versions did not settle after {MAX_ROUNDS} rounds of resolution")
        resolved = list(picks.values())
        self._check_names(resolved)
        self._check_cycles(picks)
        for package in resolved:
            for warning in package.warnings:
                self.log(warning)
        return resolved

    @staticmethod
    def _requirements(
        entries: Sequence[PackageSpec], picks: dict[str, Resolved]
    ) -> tuple[dict[str, list[PackageSpec]], list[str]]:
        """Every entry reachable from the root through the current picks, by package key."""
        requirements: dict[str, list[PackageSpec]] = {}
        order: list[str] = []
        queue = deque(entries)
        while queue:
            spec = queue.popleft()
            if spec.key not in requirements:
                requirements[spec.key] = []
                order.append(spec.key)
                if spec.key in picks:
                    queue.extend(picks[spec.key].dependencies)
            requirements[spec.key].append(spec)
        return requirements, order

    def _pick(self, specs: list[PackageSpec]) -> Resolved:
        kinds = {s.kind for s in specs}
        if len(kinds) > 1:
            raise specs[-1].origin.error(
                f"Cannot incorporate {specs[-1].display} ({specs[-1].kind}) in {specs[0].display} "
                f"({specs[0].kind}): mismatched types"
            )
        kind = specs[0].kind
        if kind == "hub":
            return self._pick_hub(specs)
        if kind == "git":
            return self._pick_git(specs)
        if kind == "tarball":
            return self._pick_tarball(specs)
        return self._pick_local(specs)

    # -- hub ---------------------------------------------------------------------------------
    def _pick_hub(self, specs: list[PackageSpec]) -> Resolved:
        first = specs[0]
        package = first.target
        constraints: list[tuple[Specifier, PackageSpec]] = []
        for spec in specs:
            for text in spec.versions:
                try:
                    constraints.append((parse_specifier(text), spec))
                except SemverError as exc:
                    raise spec.origin.error(f"Invalid version for package {package}: {exc}") from None
        specifiers = [c for c, _ in constraints]

        def listing() -> str:
            return "\n".join(f"  {c} required by {s.origin.describe()}" for c, s in constraints)

        if not can_intersect(specifiers):
            raise first.origin.error(
                f"Version error for package {package}: no version can satisfy every requirement:\n{listing()}"
            )
        versions = self.workspace.hub.versions(package, first.origin)
        dbt = parse_version(DBT_VERSION)
        compatible = [v for v, meta in versions.items() if _dbt_compatible(meta.get("require_dbt_version"), dbt)]
        allow_pre = any(s.install_prerelease for s in specs) or any(c.version.prerelease for c in specifiers)
        candidates = installable(compatible, allow_pre)
        target = highest_match(candidates, specifiers)
        if target is None:
            hidden = len(installable(versions, allow_pre)) - len(candidates)
            raise first.origin.error(
                f"Could not find a matching compatible version for package {package}\n"
                f"  Requested range: {describe(specifiers)}\n"
                f"  Compatible versions: {candidates}\n"
                + (f"  Not shown: {hidden} version(s) incompatible with dbt {DBT_VERSION}\n" if hidden else "")
                + f"Requirements:\n{listing()}"
            )
        meta = versions[target]
        name = str(meta.get("name") or package.rsplit("/", 1)[-1])
        dependencies = parse_entries(
            {"packages": meta.get("packages") or []},
            self.root,
            self.renderer,
            path="hub index",
            text="",
            parent=first.origin,
            parent_name=name,
        )
        lock = {"package": package, "version": target, "name": name}
        return Resolved(first.key, "hub", name, lock, first.origin, tuple(dependencies), latest=candidates[-1])

    # -- git, tarball, local -----------------------------------------------------------------
    def _pick_git(self, specs: list[PackageSpec]) -> Resolved:
        first = specs[0]
        requested = {s.revision for s in specs if s.revision is not None}
        if len(requested) > 1:
            raise specs[-1].origin.error(
                f"git dependencies should contain exactly one version. {first.display} contains: {requested}\n"
                + "\n".join(f"  {s.revision or 'HEAD'} required by {s.origin.describe()}" for s in specs)
            )
        revision = requested.pop() if requested else "HEAD"
        folder, sha = self.workspace.git(first.target, revision, first.origin)
        content = folder / first.subdirectory if first.subdirectory else folder
        if not content.is_dir():
            raise first.origin.error(
                f"Subdirectory '{first.subdirectory}' not found in {first.target} at revision {revision}"
            )
        info = self._info(content, first)
        warnings: tuple[str, ...] = ()
        if revision in ("HEAD", "main", "master") and all(s.warn_unpinned for s in specs):
            how = (
                "not pinned, using HEAD (default branch)"
                if revision == "HEAD"
                else f'pinned to the "{revision}" branch'
            )
            warnings = (
                f'WARNING: The git package "{first.target}" \n\tis {how}.\n\tThis can introduce breaking changes '
                f"into your project without warning!\n\nSee {PIN_URL}",
            )
        lock = {"git": first.raw["git"], "revision": sha, "name": info.name}
        if first.subdirectory:
            lock["subdirectory"] = first.subdirectory
        return Resolved(first.key, "git", info.name, lock, first.origin, tuple(info.dependencies), warnings=warnings)

    def _pick_tarball(self, specs: list[PackageSpec]) -> Resolved:
        first = specs[0]
        folder = self.workspace.tarball(first.target, first.name or "<package_name>", first.origin)
        info = self._info(folder, first)
        name = first.name or info.name
        lock = {"tarball": first.raw["tarball"], "name": name}
        return Resolved(first.key, "tarball", name, lock, first.origin, tuple(info.dependencies))

    def _pick_local(self, specs: list[PackageSpec]) -> Resolved:
        first = specs[0]
        folder = (self.root / first.target).resolve()
        if not folder.is_dir():
            raise first.origin.error(f"Local package {first.target} not found (looked in {folder})")
        info = self._info(folder, first)
        lock = {"local": first.target, "name": info.name}
        return Resolved(first.key, "local", info.name, lock, first.origin, tuple(info.dependencies))

    def _info(self, folder: Path, spec: PackageSpec) -> PackageInfo:
        info = read_package(folder, self.root, self.renderer, spec.origin, spec.display)
        check_dbt_version(info.name, info.require_dbt_version, spec.origin)
        return info

    # -- whole-graph checks ------------------------------------------------------------------
    def _check_names(self, resolved: list[Resolved]) -> None:
        seen: set[str] = set()
        for package in resolved:
            if package.name == self.project_name:
                raise package.origin.error(
                    "Found a dependency with the same name as the root project "
                    f'"{package.name}". Package names must be unique in a project. Please rename one of these packages.'
                )
            if package.name in seen:
                raise package.origin.error(
                    f'Found duplicate project "{package.name}". This occurs when a dependency has the same '
                    "project name as some other dependency."
                )
            seen.add(package.name)

    @staticmethod
    def _check_cycles(picks: dict[str, Resolved]) -> None:
        state: dict[str, int] = {}  # 1: on the current path, 2: done
        path: list[str] = []

        def visit(key: str) -> None:
            state[key] = 1
            path.append(key)
            for dep in picks[key].dependencies:
                if dep.key not in picks:
                    continue
                if state.get(dep.key) == 1:
                    cycle = path[path.index(dep.key) :] + [dep.key]
                    names = " -> ".join(picks[k].name for k in cycle)
                    raise picks[cycle[0]].origin.error(f"Found a cycle in package dependencies: {names}")
                if dep.key not in state:
                    visit(dep.key)
            path.pop()
            state[key] = 2

        for key in picks:
            if key not in state:
                visit(key)


def _dbt_compatible(required: Any, dbt: Any) -> bool:
    if not required:
        return True
    texts = required if isinstance(required, list) else [required]
    try:
        return allows_all(dbt, [parse_specifier(str(t)) for t in texts])
    except SemverError:
        return False


def check_dbt_version(package: str, required: Sequence[str], origin: Origin) -> None:
    """dbt's check of a package's ``require-dbt-version`` against the dbt version modelkit matches."""
    if not required:
        return
    try:
        specifiers = [parse_specifier(text) for text in required]
    except SemverError as exc:
        raise origin.error(f"Invalid require-dbt-version in package '{package}': {exc}") from None
    spec = str([f"{s.matcher}{s.version}" for s in specifiers])
    if not can_intersect(specifiers):
        raise origin.error(IMPOSSIBLE_VERSION.format(package=package, spec=spec))
    if not allows_all(parse_version(DBT_VERSION), specifiers):
        raise origin.error(INVALID_VERSION.format(package=package, installed=f"={DBT_VERSION}", spec=spec))
