"""``modelkit deps`` for each kind of source: local folders, git repositories, tarballs and the hub."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import run_cli
from deps_support import GIT_ENV, GitRepo, HubServer, make_package, make_tarball, package_files, read_yaml, write

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


def project(tmp_path: Path, packages: str, name: str = "demo", extra: dict[str, str] | None = None) -> Path:
    root = tmp_path / name
    write(root, {"dbt_project.yml": f"name: {name}\nprofile: {name}\n", "packages.yml": packages, **(extra or {})})
    return root


def deps(root: Path, **kwargs) -> tuple[list[str], object]:
    lines: list[str] = []
    result = run_deps(root, log=lines.append, **kwargs)
    return lines, result


def test_local_package_is_symlinked_and_locked(tmp_path: Path) -> None:
    make_package(tmp_path / "pkgs" / "helpers", "helpers_pkg")
    root = project(tmp_path, "packages:\n  - local: ../pkgs/helpers\n")
    lines, result = deps(root)
    installed = root / "dbt_packages" / "helpers_pkg"
    assert installed.is_symlink()
    assert installed.resolve() == (tmp_path / "pkgs" / "helpers").resolve()
    assert lines[1:] == ["Installing ../pkgs/helpers", "Installed from <local @ ../pkgs/helpers>"]
    assert lines[0] == f"Updating lock file in file path: {root / 'package-lock.yml'}"
    lock = read_yaml(root / "package-lock.yml")
    assert lock["packages"] == [{"local": "../pkgs/helpers", "name": "helpers_pkg"}]
    assert len(lock["sha1_hash"]) == 40
    assert result.installed == ("helpers_pkg",)


def test_local_package_is_copied_when_symlinks_fail(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make_package(tmp_path / "pkgs" / "helpers", "helpers_pkg")
    root = project(tmp_path, "packages:\n  - local: ../pkgs/helpers\n")

    def no_symlink(*args, **kwargs):
        raise OSError("symlinks are not supported here")

    monkeypatch.setattr(os, "symlink", no_symlink)
    deps(root)
    installed = root / "dbt_packages" / "helpers_pkg"
    assert installed.is_dir() and not installed.is_symlink()
    assert (installed / "macros" / "helpers_pkg.sql").is_file()


def test_git_package_by_tag_branch_commit_and_head(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "git", "gitpkg")
    first = repo.commit(package_files("gitpkg", macro="{% macro v() %}1{% endmacro %}"), tag="1.0.0")
    second = repo.commit({"macros/gitpkg.sql": "{% macro v() %}2{% endmacro %}"}, tag="v2")
    feature = repo.branch("feature", {"macros/gitpkg.sql": "{% macro v() %}feature{% endmacro %}"})
    macro = Path("dbt_packages/gitpkg/macros/gitpkg.sql")
    cases = [
        ("1.0.0", first, "1"),
        ("v2", second, "2"),
        ("feature", feature, "feature"),
        (first, first, "1"),
        (first[:10], first, "1"),
        (None, second, "2"),
    ]
    for index, (revision, sha, body) in enumerate(cases):
        line = f"\n    revision: '{revision}'" if revision else ""
        root = project(tmp_path, f"packages:\n  - git: {repo.url}{line}\n", name=f"p{index}")
        lines, _ = deps(root)
        assert (root / macro).read_text().strip() == f"{{% macro v() %}}{body}{{% endmacro %}}"
        assert not (root / "dbt_packages" / "gitpkg" / ".git").exists()
        lock = read_yaml(root / "package-lock.yml")["packages"]
        assert lock == [{"git": repo.url, "name": "gitpkg", "revision": sha}]
        assert f"Installed from revision {sha}" in lines
        if revision is None:
            assert any("is not pinned, using HEAD (default branch)" in line for line in lines)


def test_git_package_in_a_subdirectory(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "git", "mono")
    files = {f"sub/one/{k}": v for k, v in package_files("one_pkg").items()}
    files.update({f"sub/two/{k}": v for k, v in package_files("two_pkg").items()})
    sha = repo.commit({**files, "README.md": "a monorepo\n"}, tag="0.1.0")
    root = project(
        tmp_path,
        f"""
        packages:
          - git: {repo.url}
            revision: 0.1.0
            subdirectory: sub/one
          - git: {repo.url}
            revision: 0.1.0
            subdirectory: sub/two
        """,
    )
    lines, _ = deps(root)
    assert sorted(p.name for p in (root / "dbt_packages").iterdir() if not p.name.startswith(".")) == [
        "one_pkg",
        "two_pkg",
    ]
    assert (root / "dbt_packages/one_pkg/dbt_project.yml").is_file()
    assert not (root / "dbt_packages/one_pkg/README.md").exists()
    assert "and subdirectory sub/one" in lines
    assert f"Installing {repo.url}/sub/two" in lines
    lock = read_yaml(root / "package-lock.yml")["packages"]
    assert lock[0] == {"git": repo.url, "name": "one_pkg", "revision": sha, "subdirectory": "sub/one"}


def test_tarball_over_http_and_file_url(tmp_path: Path, hub: HubServer) -> None:
    make_tarball(hub.root / "files" / "tarpkg.tar.gz", package_files("tar_pkg"), top="tar_pkg-main")
    file_tar = make_tarball(tmp_path / "local.tar.gz", package_files("file_pkg"), top="whatever")
    root = project(
        tmp_path,
        f"""
        packages:
          - tarball: {hub.url}files/tarpkg.tar.gz
            name: tar_pkg
          - tarball: {file_tar.as_uri()}
            name: file_pkg
        """,
    )
    lines, _ = deps(root)
    assert (root / "dbt_packages/tar_pkg/macros/tar_pkg.sql").is_file()
    assert (root / "dbt_packages/file_pkg/dbt_project.yml").is_file()
    assert f"Installed from tarball (url: {hub.url}files/tarpkg.tar.gz)" in lines
    lock = read_yaml(root / "package-lock.yml")["packages"]
    assert lock[0] == {"name": "tar_pkg", "tarball": f"{hub.url}files/tarpkg.tar.gz"}


def test_hub_package_highest_version_in_range(tmp_path: Path, hub: HubServer) -> None:
    for version in ["0.9.0", "1.0.0", "1.1.1", "1.2.0", "2.0.0"]:
        hub.publish("acme/utils", version, package_files("utils", macro=f"{{% macro v() %}}{version}{{% endmacro %}}"))
    root = project(tmp_path, 'packages:\n  - package: acme/utils\n    version: [">=1.0.0", "<1.2.0"]\n')
    lines, _ = deps(root)
    assert "1.1.1" in (root / "dbt_packages/utils/macros/utils.sql").read_text()
    assert lines[1:] == [
        "Installing acme/utils",
        "Installed from version 1.1.1",
        "Updated version available: 2.0.0",
        "",
        "Updates available for packages: ['acme/utils'] \nUpdate your versions in packages.yml, then run modelkit deps",
    ]
    assert read_yaml(root / "package-lock.yml")["packages"] == [
        {"name": "utils", "package": "acme/utils", "version": "1.1.1"}
    ]
    root2 = project(tmp_path, "packages:\n  - package: acme/utils\n    version: 2.0.0\n", name="other")
    lines, _ = deps(root2)
    assert lines[-1] == "Up to date!"


def test_dependencies_yml_env_vars_and_install_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make_package(tmp_path / "pkgs" / "helpers", "helpers_pkg")
    monkeypatch.setenv("HELPERS_DIR", "../pkgs/helpers")
    root = tmp_path / "demo"
    write(
        root,
        {
            "dbt_project.yml": "name: demo\npackages-install-path: vendor/packages\n",
            "dependencies.yml": "packages:\n  - local: \"{{ env_var('HELPERS_DIR') }}\"\nprojects: []\n",
        },
    )
    deps(root)
    assert (root / "vendor/packages/helpers_pkg").is_symlink()
    assert not (root / "dbt_packages").exists()
    assert read_yaml(root / "package-lock.yml")["packages"] == [{"local": "../pkgs/helpers", "name": "helpers_pkg"}]


def test_secret_in_git_url_stays_out_of_the_lock_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = GitRepo(tmp_path / "git", "secretpkg")
    repo.commit(package_files("secretpkg"), tag="1.0.0")
    monkeypatch.setenv("DBT_ENV_SECRET_GIT_PATH", str(repo.bare))
    root = project(
        tmp_path,
        "packages:\n  - git: \"file://{{ env_var('DBT_ENV_SECRET_GIT_PATH') }}\"\n    revision: 1.0.0\n",
    )
    lines, _ = deps(root)
    assert "Installing file://*****" in lines
    assert str(repo.bare) not in "\n".join(lines)
    text = (root / "package-lock.yml").read_text()
    assert str(repo.bare) not in text
    assert "DBT_ENV_SECRET_GIT_PATH" in text
    assert (root / "dbt_packages/secretpkg").is_dir()
    # the lock file's URL is rendered again when installing from it
    (root / "dbt_packages/.modelkit-deps.json").unlink()
    lines, _ = deps(root)
    assert "Installed from revision" in lines[1]


def test_cli_deps_installs(tmp_path: Path) -> None:
    make_package(tmp_path / "pkgs" / "helpers", "helpers_pkg")
    root = project(tmp_path, "packages:\n  - local: ../pkgs/helpers\n")
    result = run_cli("deps", "--project-dir", str(root))
    assert result.exit_code == 0, result.output
    assert "Installing ../pkgs/helpers" in result.output
    assert (root / "dbt_packages/helpers_pkg").exists()
