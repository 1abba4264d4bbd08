"""Resolution: transitive packages, version ranges intersected across requirers, prereleases, the
dbt version filter, git de-duplication, semver rules and the lock file hash."""

from __future__ import annotations

from pathlib import Path

import pytest
from deps_support import GIT_ENV, GitRepo, HubServer, make_package, package_files, read_yaml, write

from modelkit.deps import run_deps
from modelkit.deps.base import Renderer
from modelkit.deps.semver import (
    SemverError,
    can_intersect,
    describe,
    highest_match,
    installable,
    parse_specifier,
    parse_version,
)
from modelkit.deps.spec import read_spec_file, spec_hash


@pytest.fixture(autouse=True)
def _git_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in GIT_ENV.items():
        monkeypatch.setenv(key, value)


@pytest.fixture
def hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    with HubServer(tmp_path / "hub") as server:
        monkeypatch.setenv("DBT_PACKAGE_HUB_URL", server.url)
        yield server


def project(tmp_path: Path, packages: str, name: str = "demo") -> Path:
    return write(tmp_path / name, {"dbt_project.yml": f"name: {name}\n", "packages.yml": packages})


def locked(root: Path) -> dict[str, dict]:
    return {entry["name"]: entry for entry in read_yaml(root / "package-lock.yml")["packages"]}


def deps(root: Path, **kwargs) -> list[str]:
    lines: list[str] = []
    run_deps(root, log=lines.append, **kwargs)
    return lines


def test_transitive_hub_ranges_are_intersected(tmp_path: Path, hub: HubServer) -> None:
    for version in ["1.0.0", "1.1.0", "1.2.0", "1.3.0", "2.0.0"]:
        hub.publish("acme/base", version)
    hub.publish("acme/top", "1.0.0", packages=[{"package": "acme/base", "version": [">=1.1.0", "<2.0.0"]}])
    hub.publish("acme/top", "1.5.0", packages=[{"package": "acme/base", "version": [">=1.1.0", "<1.3.0"]}])
    root = project(
        tmp_path,
        """
        packages:
          - package: acme/top
            version: ">=1.0.0"
          - package: acme/base
            version: ">=1.0.0"
        """,
    )
    deps(root)
    assert locked(root) == {
        "top": {"name": "top", "package": "acme/top", "version": "1.5.0"},
        "base": {"name": "base", "package": "acme/base", "version": "1.2.0"},
    }
    assert (root / "dbt_packages/base").is_dir() and (root / "dbt_packages/top").is_dir()


def test_transitive_through_local_and_git_packages(tmp_path: Path, hub: HubServer) -> None:
    hub.publish("acme/base", "1.0.0")
    repo = GitRepo(tmp_path / "git", "middle")
    repo.commit(package_files("middle", packages=[{"package": "acme/base", "version": "1.0.0"}]), tag="1.0.0")
    make_package(
        tmp_path / "pkgs" / "outer",
        "outer",
        packages=[{"git": repo.url.removesuffix(".git"), "revision": "1.0.0"}, {"local": "../pkgs/leaf"}],
    )
    make_package(tmp_path / "pkgs" / "leaf", "leaf")
    root = project(
        tmp_path,
        f"""
        packages:
          - local: ../pkgs/outer
          - git: {repo.url}
            revision: 1.0.0
        """,
    )
    deps(root)
    assert set(locked(root)) == {"outer", "middle", "leaf", "base"}
    assert sorted(p.name for p in (root / "dbt_packages").iterdir()) == [
        ".modelkit-deps.json",
        "base",
        "leaf",
        "middle",
        "outer",
    ]


def test_prereleases_only_when_asked(tmp_path: Path, hub: HubServer) -> None:
    for version in ["1.0.0", "1.1.0-b1", "1.1.0rc2"]:
        hub.publish("acme/pre", version)
    plain = project(tmp_path, 'packages:\n  - package: acme/pre\n    version: ">=1.0.0"\n', name="plain")
    deps(plain)
    assert locked(plain)["pre"]["version"] == "1.0.0"
    flagged = project(
        tmp_path, 'packages:\n  - package: acme/pre\n    version: ">=1.0.0"\n    install-prerelease: true\n', "flag"
    )
    deps(flagged)
    assert locked(flagged)["pre"]["version"] == "1.1.0rc2"
    named = project(tmp_path, "packages:\n  - package: acme/pre\n    version: 1.1.0-b1\n", name="named")
    deps(named)
    assert locked(named)["pre"]["version"] == "1.1.0-b1"


def test_hub_versions_for_another_dbt_are_skipped(tmp_path: Path, hub: HubServer) -> None:
    hub.publish("acme/compat", "1.0.0", require_dbt_version=[">=1.0.0", "<2.0.0"])
    hub.publish("acme/compat", "1.1.0", require_dbt_version=">=1.12.0")
    root = project(tmp_path, 'packages:\n  - package: acme/compat\n    version: [">=1.0.0"]\n')
    deps(root)
    assert locked(root)["compat"]["version"] == "1.0.0"


def test_git_entries_of_one_repository_are_one_package(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "git", "shared")
    repo.commit(package_files("shared"), tag="1.0.0")
    make_package(tmp_path / "pkgs" / "user", "user_pkg", packages=[{"git": str(repo.url) + "/", "revision": "1.0.0"}])
    root = project(
        tmp_path,
        f"""
        packages:
          - git: {repo.url.removesuffix(".git")}
            revision: 1.0.0
          - local: ../pkgs/user
        """,
    )
    lines = deps(root)
    assert set(locked(root)) == {"shared", "user_pkg"}
    assert sum(line.startswith("Installing") for line in lines) == 2


def test_lock_hash_matches_dbt(tmp_path: Path) -> None:
    # dbt-core 1.11 wrote sha1_hash c245fba3... for exactly this packages.yml.
    root = project(
        tmp_path,
        """
        packages:
          - local: ../pkg_local
          - git: "file:///tmp/dbtplay/repo.git"
            revision: v1
            subdirectory: sub
          - package: org/utils
            version: [">=0.5.0", "<2.0.0"]
          - tarball: http://127.0.0.1:8765/tar/utils-1.0.0.tar.gz
            name: tarpkg
        """,
    )
    spec = read_spec_file(root, Renderer())
    assert spec_hash(spec.entries) == "c245fba3a1ba1fa0317c4fccaa9a720abf622516"


def test_semver_rules() -> None:
    assert parse_version("1.2.3-b1").prerelease == "b1"
    assert parse_version("0.4.5a2").prerelease == "a2"
    with pytest.raises(SemverError, match='"1.0" is not a valid semantic version'):
        parse_version("1.0")
    specs = [parse_specifier(">=1.0.0"), parse_specifier("<2.0.0")]
    assert describe(specs) == ">=1.0.0, <2.0.0"
    assert highest_match(["1.0.0", "1.9.9", "2.0.0", "0.9.0"], specs) == "1.9.9"
    assert highest_match(["2.0.0-b1"], specs) is None  # "<2.0.0" keeps out the prereleases of 2.0.0
    assert can_intersect([parse_specifier(">=1.0.0"), parse_specifier("<=1.0.0")])
    assert not can_intersect([parse_specifier(">1.0.0"), parse_specifier("<=1.0.0")])
    assert not can_intersect([parse_specifier("1.0.0"), parse_specifier("1.0.1")])
    assert installable(["1.0.0", "1.1.0-rc.1", "1.1.0-rc.10", "1.1.0-rc.2", "junk"], True) == [
        "1.0.0",
        "1.1.0-rc.1",
        "1.1.0-rc.2",
        "1.1.0-rc.10",
    ]
    assert installable(["1.0.0", "1.1.0-rc.1"], False) == ["1.0.0"]
