"""After ``modelkit deps``, the macros of the installed packages are there for ``parse`` and ``compile``
(before it, parsing fails as dbt's does)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import make_project, run_cli
from deps_support import GIT_ENV, HubServer, make_package, package_files


@pytest.fixture
def hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    for key, value in GIT_ENV.items():
        monkeypatch.setenv(key, value)
    with HubServer(tmp_path / "hub") as server:
        monkeypatch.setenv("DBT_PACKAGE_HUB_URL", server.url)
        yield server


def test_parse_uses_macros_of_installed_packages(tmp_path: Path, hub: HubServer) -> None:
    hub.publish(
        "acme/greetings",
        "1.0.0",
        package_files("greetings", macro="{% macro shout(x) %}upper({{ x }}){% endmacro %}"),
    )
    make_package(tmp_path / "pkgs" / "helpers", "helpers_pkg")
    root = make_project(
        tmp_path / "demo",
        {
            "packages.yml": """
                packages:
                  - package: acme/greetings
                    version: [">=1.0.0"]
                  - local: ../pkgs/helpers
            """,
            "models/hello.sql": "select {{ greetings.shout(helpers_pkg.helpers_pkg_hello()) }} as greeting",
        },
    )
    before = run_cli("parse", "--project-dir", str(root))  # before deps: as dbt, refuse to parse without them
    assert before.exit_code == 2, before.output
    assert "found 2 package(s) specified in packages.yml, but only 0 package(s) installed in dbt_packages" in (
        before.output
    )
    assert 'Run "modelkit deps" to install package dependencies.' in before.output
    result = run_cli("deps", "--project-dir", str(root))
    assert result.exit_code == 0, result.output
    result = run_cli("parse", "--project-dir", str(root))
    assert result.exit_code == 0, result.output
    manifest = json.loads((root / "target" / "manifest.json").read_text())
    assert "macro.greetings.shout" in manifest["macros"]
    assert "macro.helpers_pkg.helpers_pkg_hello" in manifest["macros"]
    result = run_cli("compile", "-s", "hello", "--project-dir", str(root))
    assert result.exit_code == 0, result.output
    assert "select upper('hello from helpers_pkg') as greeting" in result.output
