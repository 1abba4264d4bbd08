"""``modelkit deps`` errors: each exits 2 naming the packages file and the entry's line, and a failed
run leaves the previous installation as it was."""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

import pytest
from conftest import run_cli
from deps_support import GIT_ENV, GitRepo, HubServer, make_package, package_files, write

from modelkit.deps import install as install_module


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


def fails(root: Path, *args: str) -> str:
    result = run_cli("deps", "--project-dir", str(root), *args)
    assert result.exit_code == 2, result.output
    return result.output


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_unreachable_hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DBT_PACKAGE_HUB_URL", f"http://127.0.0.1:{closed_port()}")
    root = project(tmp_path, "packages:\n  - package: acme/utils\n    version: 1.0.0\n")
    output = fails(root)
    assert "Dependency Error (packages.yml:2)" in output
    assert "Could not reach the package hub at http://127.0.0.1:" in output
    assert "/api/v1/index.json" in output


def test_unreachable_tarball_and_git(tmp_path: Path, hub: HubServer) -> None:
    root = project(tmp_path, f"packages:\n  - local: ../x\n  - tarball: {hub.url}missing.tar.gz\n    name: gone\n")
    make_package(tmp_path / "x", "x_pkg")
    output = fails(root)
    assert "(packages.yml:3)" in output and "Could not download" in output and "404" in output
    root = project(tmp_path, f"packages:\n  - git: {(tmp_path / 'nowhere.git').as_uri()}\n", name="other")
    output = fails(root)
    assert "(packages.yml:2)" in output and "Error checking out spec='HEAD'" in output
    repo = GitRepo(tmp_path / "git", "gitpkg")
    repo.commit(package_files("gitpkg"), tag="1.0.0")
    root = project(tmp_path, f"packages:\n  - git: {repo.url}\n    revision: 9.9.9\n", name="third")
    assert "Error checking out spec='9.9.9'" in fails(root)


def test_unknown_hub_package_suggests_close_names(tmp_path: Path, hub: HubServer) -> None:
    hub.publish("dbt-labs/dbt_utils", "1.0.0")
    hub.publish("dbt-labs/codegen", "1.0.0")
    root = project(
        tmp_path, "packages:\n  - local: ../x\n  - package: fishtown-analytics/dbt_utils\n    version: 1.0.0\n"
    )
    make_package(tmp_path / "x", "x_pkg")
    output = fails(root)
    assert "(packages.yml:3)" in output
    assert "Package fishtown-analytics/dbt_utils was not found in the package index" in output
    assert "Did you mean dbt-labs/dbt_utils?" in output
    root = project(tmp_path, "packages:\n  - package: dbt_utils\n    version: 1.0.0\n", name="nons")
    assert "Packages on the index require a namespace, e.g dbt-labs/dbt_utils" in fails(root)
    root = project(tmp_path, "packages:\n  - package: dbt-labs/dbt_utils\n", name="nover")
    assert "dbt-labs/dbt_utils is missing the version" in fails(root)


def test_unsatisfiable_ranges_name_every_requirement(tmp_path: Path, hub: HubServer) -> None:
    hub.publish("acme/base", "1.0.0")
    hub.publish("acme/base", "2.0.0")
    hub.publish("acme/top", "1.0.0", packages=[{"package": "acme/base", "version": ["<2.0.0"]}])
    root = project(
        tmp_path,
        """
        packages:
          - package: acme/top
            version: 1.0.0
          - package: acme/base
            version: [">=2.0.0"]
        """,
    )
    output = fails(root)
    assert "Version error for package acme/base: no version can satisfy every requirement" in output
    assert ">=2.0.0 required by the root project (packages.yml line 4)" in output
    assert "<2.0.0 required by package 'top' (top's hub index)" in output
    # satisfiable in theory, but no published version fits
    root = project(tmp_path, 'packages:\n  - package: acme/base\n    version: [">1.0.0", "<2.0.0"]\n', name="gap")
    output = fails(root)
    assert "Could not find a matching compatible version for package acme/base" in output
    assert "Requested range: >1.0.0, <2.0.0" in output
    assert "Compatible versions: ['1.0.0', '2.0.0']" in output


def test_conflicting_git_revisions(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "git", "gitpkg")
    repo.commit(package_files("gitpkg"), tag="1.0.0")
    root = project(
        tmp_path, f"packages:\n  - git: {repo.url}\n    revision: 1.0.0\n  - git: {repo.url}\n    revision: main\n"
    )
    output = fails(root)
    assert "git dependencies should contain exactly one version" in output
    assert "(packages.yml:4)" in output


def test_cycles_are_reported(tmp_path: Path) -> None:
    make_package(tmp_path / "pkgs" / "a", "pkg_a", packages=[{"local": "../pkgs/b"}])
    make_package(tmp_path / "pkgs" / "b", "pkg_b", packages=[{"local": "../pkgs/a"}])
    root = project(tmp_path, "packages:\n  - local: ../pkgs/a\n")
    output = fails(root)
    assert "Found a cycle in package dependencies: pkg_a -> pkg_b -> pkg_a" in output
    assert "(packages.yml:2)" in output
    assert not (root / "dbt_packages").exists()


def test_duplicate_and_root_names(tmp_path: Path) -> None:
    make_package(tmp_path / "pkgs" / "one", "same")
    make_package(tmp_path / "pkgs" / "two", "same")
    make_package(tmp_path / "pkgs" / "me", "demo")
    root = project(tmp_path, "packages:\n  - local: ../pkgs/one\n  - local: ../pkgs/two\n")
    assert 'Found duplicate project "same"' in fails(root)
    root = project(tmp_path, "packages:\n  - local: ../pkgs/me\n", name="demo")
    assert "Found a dependency with the same name as the root project" in fails(root)


def test_require_dbt_version_mismatch(tmp_path: Path) -> None:
    make_package(tmp_path / "pkgs" / "old", "old_pkg", require=[">=0.20.0", "<1.0.0"])
    root = project(tmp_path, "packages:\n  - local: ../pkgs/ok\n  - local: ../pkgs/old\n")
    make_package(tmp_path / "pkgs" / "ok", "ok_pkg", require=">=1.5.0")
    output = fails(root)
    assert "This version of dbt is not supported with the 'old_pkg' package." in output
    assert "Installed version of dbt: =1.11.0" in output
    assert "Required version of dbt for 'old_pkg': ['>=0.20.0', '<1.0.0']" in output
    assert "(packages.yml:3)" in output


def test_malformed_entries(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = project(tmp_path, "packages:\n  - local: ../x\n    revison: 1.0\n")
    output = fails(root)
    assert "Unknown key(s) revison in a `local:` package entry" in output and "(packages.yml:2)" in output
    root = project(tmp_path, "packages:\n  - gti: https://example.invalid/x.git\n", name="typo")
    assert "needs exactly one of" in fails(root)
    monkeypatch.delenv("MISSING_VAR_FOR_DEPS", raising=False)
    root = project(tmp_path, "packages:\n  - local: \"{{ env_var('MISSING_VAR_FOR_DEPS') }}\"\n", name="envs")
    output = fails(root)
    assert "Env var required but not provided: 'MISSING_VAR_FOR_DEPS'" in output and "(packages.yml:2)" in output
    root = project(tmp_path, "packages:\n  - local: ../x\n   bad: [\n", name="yaml")
    assert "Invalid YAML" in fails(root)


def test_failure_leaves_the_previous_installation(tmp_path: Path, hub: HubServer) -> None:
    hub.publish("acme/utils", "1.0.0", package_files("utils", macro="{% macro v() %}1{% endmacro %}"))
    hub.publish("acme/utils", "1.1.0", package_files("utils", macro="{% macro v() %}2{% endmacro %}"))
    make_package(tmp_path / "pkgs" / "helpers", "helpers_pkg")
    root = project(tmp_path, 'packages:\n  - package: acme/utils\n    version: "1.0.0"\n  - local: ../pkgs/helpers\n')
    assert run_cli("deps", "--project-dir", str(root)).exit_code == 0
    before = snapshot(root)
    # upgrade one package and add one whose tarball is broken: nothing may change
    make_tarball_broken = hub.root / "broken.tar.gz"
    make_tarball_broken.write_bytes(b"not a tarball")
    (root / "packages.yml").write_text(
        'packages:\n  - package: acme/utils\n    version: "1.1.0"\n'
        f"  - tarball: {hub.url}broken.tar.gz\n    name: broken\n",
        encoding="utf-8",
    )
    output = fails(root)
    assert "Could not extract the package downloaded from" in output and "(packages.yml:4)" in output
    assert snapshot(root)["dbt_packages"] == before["dbt_packages"]
    assert (root / "dbt_packages/utils/macros/utils.sql").read_text() == "{% macro v() %}1{% endmacro %}"
    assert (root / "dbt_packages/helpers_pkg").is_symlink()
    assert sorted(p.name for p in root.iterdir() if p.name != "logs") == [  # logs/: modelkit.log, as dbt's
        "dbt_packages",
        "dbt_project.yml",
        "package-lock.yml",
        "packages.yml",
    ]
    # this time resolution succeeds (hub packages are resolved from the index alone) and the
    # install fails on the second package, after the first one was staged
    hub.publish("acme/other", "1.0.0")
    (hub.root / "tarballs/acme/other-1.0.0.tar.gz").write_bytes(b"broken")
    (root / "packages.yml").write_text(
        'packages:\n  - package: acme/utils\n    version: "1.1.0"\n  - package: acme/other\n    version: "1.0.0"\n',
        encoding="utf-8",
    )
    output = fails(root)
    assert "Installing acme/utils" in output and "Installed from version 1.1.0" in output
    assert "Could not extract the package downloaded from" in output and "(packages.yml:4)" in output
    assert snapshot(root)["dbt_packages"] == before["dbt_packages"]
    assert sorted(p.name for p in root.iterdir() if p.name != "logs") == [
        "dbt_packages",
        "dbt_project.yml",
        "package-lock.yml",
        "packages.yml",
    ]


def test_a_failed_swap_is_undone(tmp_path: Path, hub: HubServer, monkeypatch: pytest.MonkeyPatch) -> None:
    hub.publish("acme/utils", "1.0.0", package_files("utils", macro="{% macro v() %}1{% endmacro %}"))
    hub.publish("acme/utils", "1.1.0", package_files("utils", macro="{% macro v() %}2{% endmacro %}"))
    hub.publish("acme/other", "1.0.0")
    make_package(tmp_path / "pkgs" / "helpers", "helpers_pkg")
    root = project(tmp_path, 'packages:\n  - package: acme/utils\n    version: "1.0.0"\n  - local: ../pkgs/helpers\n')
    assert run_cli("deps", "--project-dir", str(root)).exit_code == 0
    before = snapshot(root)
    (root / "packages.yml").write_text(
        'packages:\n  - package: acme/utils\n    version: "1.1.0"\n  - package: acme/other\n    version: "1.0.0"\n',
        encoding="utf-8",
    )
    real_rename = os.rename
    calls = []

    def rename(source, dest):
        calls.append(dest)
        if len(calls) == 4:  # helpers aside, utils aside, utils in place, then other: fails
            raise OSError("disk full")
        real_rename(source, dest)

    monkeypatch.setattr(install_module.os, "rename", rename)
    output = fails(root)
    assert "Could not move the packages into" in output and "disk full" in output
    assert snapshot(root)["dbt_packages"] == before["dbt_packages"]
    assert sorted(p.name for p in root.iterdir() if p.name != "logs") == [
        "dbt_packages",
        "dbt_project.yml",
        "package-lock.yml",
        "packages.yml",
    ]


def test_failure_in_a_dependency_of_a_dependency(tmp_path: Path, hub: HubServer) -> None:
    hub.publish("acme/top", "1.0.0", packages=[{"package": "acme/nothere", "version": "1.0.0"}])
    root = project(tmp_path, "packages:\n  - package: acme/top\n    version: 1.0.0\n")
    output = fails(root)
    assert "Package acme/nothere was not found in the package index" in output
    assert "(required through top)" in output and "(packages.yml:2)" in output


def snapshot(root: Path) -> dict[str, str]:
    found = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.is_symlink():
            found[rel] = "-> " + str(path.readlink())
        elif path.is_file():
            found[rel] = path.read_text(encoding="utf-8")
    found["dbt_packages"] = json.dumps({k: v for k, v in found.items() if k.startswith("dbt_packages/")})
    return found
