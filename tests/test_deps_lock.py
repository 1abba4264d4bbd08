"""``package-lock.yml``: written, honoured without any lookup, re-resolved with ``--upgrade`` or when
the packages file changes; ``--lock``; ``--add-package``."""

from __future__ import annotations

import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import run_cli
from deps_support import GIT_ENV, GitRepo, HubServer, make_package, package_files, read_yaml, write

from modelkit.deps import run_deps


@pytest.fixture(autouse=True)
def _git_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in GIT_ENV.items():
        monkeypatch.setenv(key, value)


@pytest.fixture
def hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    with HubServer(tmp_path / "hub") as server:
        monkeypatch.setenv("DBT_PACKAGE_HUB_URL", server.url)
        yield server


def project(tmp_path: Path, packages: str | None, name: str = "demo") -> Path:
    files = {"dbt_project.yml": f"name: {name}\n"}
    if packages is not None:
        files["packages.yml"] = packages
    return write(tmp_path / name, files)


def deps(root: Path, **kwargs) -> list[str]:
    lines: list[str] = []
    run_deps(root, log=lines.append, **kwargs)
    return lines


def version_of(root: Path, name: str) -> str:
    return next(e["version"] for e in read_yaml(root / "package-lock.yml")["packages"] if e["name"] == name)


def test_warm_lock_makes_no_request_and_is_fast(tmp_path: Path, hub: HubServer) -> None:
    hub.publish("acme/utils", "1.0.0", packages=[{"package": "acme/base", "version": ">=0.1.0"}])
    hub.publish("acme/base", "0.1.0")
    hub.publish("acme/tarred", "1.0.0")  # only to serve a tarball
    repo = GitRepo(tmp_path / "git", "gitpkg")
    repo.commit(package_files("gitpkg"), tag="1.0.0")
    make_package(tmp_path / "pkgs" / "helpers", "helpers_pkg")
    root = project(
        tmp_path,
        f"""
        packages:
          - package: acme/utils
            version: [">=1.0.0", "<2.0.0"]
          - git: {repo.url}
            revision: 1.0.0
          - local: ../pkgs/helpers
          - tarball: {hub.url}tarballs/acme/tarred-1.0.0.tar.gz
            name: tarred
        """,
    )
    deps(root)
    lock = read_yaml(root / "package-lock.yml")
    assert [e["name"] for e in lock["packages"]] == ["utils", "gitpkg", "helpers_pkg", "tarred", "base"]
    assert hub.requests
    hub.requests.clear()
    shutil.move(repo.bare, tmp_path / "moved.git")  # git is not needed either
    start = time.perf_counter()
    lines = deps(root)
    elapsed = time.perf_counter() - start
    assert hub.requests == []
    assert elapsed < 1.0
    assert not any(line.startswith("Updating lock file") for line in lines)
    assert "Installed from version 1.0.0 (already installed)" in lines
    assert read_yaml(root / "package-lock.yml") == lock
    # the command line too, interpreter start-up included: its CPU time (wall time on a busy machine
    # says more about the other processes)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run([sys.executable, "-m", "modelkit.cli", "deps"], cwd=root, capture_output=True, text=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    assert done.returncode == 0, done.stdout + done.stderr
    assert (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime) < 1.0
    assert "Installing acme/utils" in done.stdout
    assert hub.requests == []


def test_lock_is_honoured_until_upgrade(tmp_path: Path, hub: HubServer) -> None:
    hub.publish("acme/utils", "1.0.0")
    root = project(tmp_path, 'packages:\n  - package: acme/utils\n    version: ">=1.0.0"\n')
    deps(root)
    assert version_of(root, "utils") == "1.0.0"
    hub.publish("acme/utils", "1.1.0", package_files("utils", macro="{% macro new() %}{% endmacro %}"))
    deps(root)
    assert version_of(root, "utils") == "1.0.0"
    lines = deps(root, upgrade=True)
    assert version_of(root, "utils") == "1.1.0"
    assert "Installed from version 1.1.0" in lines and "Up to date!" in lines
    assert (root / "dbt_packages/utils/macros/utils.sql").read_text().startswith("{% macro new")


def test_a_lock_file_without_names_installs_what_it_pins(tmp_path: Path, hub: HubServer) -> None:
    # dbt before 1.8 wrote no `name:` (dbt-utils' integration project still ships such a file): each
    # package is named after its own project file, the pinned versions hold, and the file stays as it was
    hub.publish("acme/utils", "1.0.0", name="acme_utils")
    hub.publish("acme/utils", "1.1.0", name="acme_utils")
    make_package(tmp_path / "helpers", "helpers_pkg")
    root = project(tmp_path, 'packages:\n  - package: acme/utils\n    version: ">=1.0.0"\n  - local: ../helpers\n')
    deps(root)
    lock = root / "package-lock.yml"
    sha = read_yaml(lock)["sha1_hash"]
    old = f"packages:\n- package: acme/utils\n  version: 1.0.0\n- local: ../helpers\nsha1_hash: {sha}\n"
    lock.write_text(old, encoding="utf-8")
    shutil.rmtree(root / "dbt_packages")
    lines = deps(root)
    assert not any(line.startswith("Updating lock file") for line in lines)
    assert lock.read_text(encoding="utf-8") == old
    assert sorted(p.name for p in (root / "dbt_packages").iterdir()) == [
        ".modelkit-deps.json",
        "acme_utils",
        "helpers_pkg",
    ]
    assert "Installed from version 1.0.0" in lines


def test_a_changed_packages_file_is_resolved_again(tmp_path: Path, hub: HubServer) -> None:
    hub.publish("acme/utils", "1.0.0")
    hub.publish("acme/other", "2.0.0")
    root = project(tmp_path, 'packages:\n  - package: acme/utils\n    version: ">=1.0.0"\n')
    deps(root)
    (root / "packages.yml").write_text(
        'packages:\n  - package: acme/other\n    version: "2.0.0"\n  # a comment\n', encoding="utf-8"
    )
    lines = deps(root)
    assert lines[0].startswith("Updating lock file")
    assert [e["name"] for e in read_yaml(root / "package-lock.yml")["packages"]] == ["other"]
    assert sorted(p.name for p in (root / "dbt_packages").iterdir()) == [".modelkit-deps.json", "other"]


def test_git_branch_moves_only_with_upgrade(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "git", "gitpkg")
    first = repo.commit(package_files("gitpkg"))
    root = project(tmp_path, f"packages:\n  - git: {repo.url}\n    revision: main\n")
    lines = deps(root)
    assert any('pinned to the "main" branch' in line for line in lines)
    second = repo.commit({"macros/extra.sql": "{% macro extra() %}{% endmacro %}"})
    deps(root)
    assert read_yaml(root / "package-lock.yml")["packages"][0]["revision"] == first
    deps(root, upgrade=True)
    assert read_yaml(root / "package-lock.yml")["packages"][0]["revision"] == second
    assert (root / "dbt_packages/gitpkg/macros/extra.sql").is_file()


def test_removed_installation_is_installed_again(tmp_path: Path) -> None:
    make_package(tmp_path / "pkgs" / "helpers", "helpers_pkg")
    root = project(tmp_path, "packages:\n  - local: ../pkgs/helpers\n")
    deps(root)
    shutil.rmtree(root / "dbt_packages")
    lines = deps(root)
    assert lines == ["Installing ../pkgs/helpers", "Installed from <local @ ../pkgs/helpers>"]
    assert (root / "dbt_packages/helpers_pkg").is_symlink()


def test_lock_only(tmp_path: Path, hub: HubServer) -> None:
    hub.publish("acme/utils", "1.0.0")
    root = project(tmp_path, 'packages:\n  - package: acme/utils\n    version: ">=1.0.0"\n')
    result = run_cli("deps", "--lock", "--project-dir", str(root))
    assert result.exit_code == 0, result.output
    assert version_of(root, "utils") == "1.0.0"
    assert not (root / "dbt_packages").exists()
    assert not any("tarballs" in path for path in hub.requests)


def test_no_packages(tmp_path: Path) -> None:
    root = project(tmp_path, None)
    assert deps(root) == ["Warning: No packages were found in packages.yml"]
    assert not (root / "package-lock.yml").exists()


def test_add_package_from_the_hub(tmp_path: Path, hub: HubServer) -> None:
    hub.publish("dbt-labs/dbt_utils", "1.1.1")
    hub.publish("dbt-labs/dbt_utils", "1.3.0")
    repo = GitRepo(tmp_path / "git", "dbt-utils")
    repo.commit(package_files("dbt_utils"), tag="0.9.0")
    make_package(tmp_path / "pkgs" / "helpers", "helpers_pkg")
    root = project(
        tmp_path,
        f"""
        packages:
          - local: ../pkgs/helpers
          # the same package from git: replaced
          - git: {repo.url}
            revision: 0.9.0
        """,
    )
    result = run_cli("deps", "--add-package", "dbt-labs/dbt_utils@>=1.0.0,<1.2.0", "--project-dir", str(root))
    assert result.exit_code == 0, result.output
    assert "Found duplicate package in packages.yml, removing: {'git': " in result.output
    assert f"Added new package dbt-labs/dbt_utils@>=1.0.0,<1.2.0 to {root / 'packages.yml'}" in result.output
    assert read_yaml(root / "packages.yml")["packages"] == [
        {"local": "../pkgs/helpers"},
        {"package": "dbt-labs/dbt_utils", "version": [">=1.0.0", "<1.2.0"]},
    ]
    assert version_of(root, "dbt_utils") == "1.1.1"
    assert (root / "dbt_packages/dbt_utils").is_dir()
    # again, with another version: the entry is updated
    result = run_cli("deps", "--add-package", "dbt-labs/dbt_utils@1.3.0", "--project-dir", str(root))
    assert result.exit_code == 0, result.output
    assert read_yaml(root / "packages.yml")["packages"][-1] == {"package": "dbt-labs/dbt_utils", "version": "1.3.0"}
    assert version_of(root, "dbt_utils") == "1.3.0"


def test_add_package_git_and_local(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "git", "gitpkg")
    repo.commit(package_files("gitpkg"), tag="1.0.0")
    make_package(tmp_path / "pkgs" / "helpers", "helpers_pkg")
    root = project(tmp_path, None)
    result = run_cli("deps", "--add-package", f"{repo.url}@1.0.0", "--source", "git", "--project-dir", str(root))
    assert result.exit_code == 0, result.output
    assert "Created packages.yml" in result.output
    result = run_cli("deps", "--add-package", "../pkgs/helpers", "--source", "local", "--project-dir", str(root))
    assert result.exit_code == 0, result.output
    assert read_yaml(root / "packages.yml")["packages"] == [
        {"git": repo.url, "revision": "1.0.0"},
        {"local": "../pkgs/helpers"},
    ]
    assert (root / "dbt_packages/gitpkg").is_dir() and (root / "dbt_packages/helpers_pkg").is_symlink()


def test_add_package_needs_a_version(tmp_path: Path) -> None:
    root = project(tmp_path, None)
    result = run_cli("deps", "--add-package", "dbt-labs/dbt_utils", "--project-dir", str(root))
    assert result.exit_code == 2
    assert "Version is required in --add-package" in result.output
    result = run_cli("deps", "--add-package", "a/b@1.0.0", "--source", "pypi", "--project-dir", str(root))
    assert result.exit_code == 2
    assert "--source must be one of hub, git, local" in result.output
    assert not (root / "packages.yml").exists()
