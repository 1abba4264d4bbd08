"""Real public dbt packages, vendored as tarballs under ``tests/data/packages/`` (``git archive`` of each
release tag: ``dbt_project.yml``, ``macros/``, ``packages.yml`` and ``LICENSE``), served by a local
package hub, and the ways to run dbt itself next to modelkit.

dbt is found through ``MODELKIT_DBT_EXECUTABLE`` or as ``dbt`` on ``PATH``; tests that need it are
skipped when neither names one.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import duckdb
from deps_support import HubServer

PACKAGES_DIR = Path(__file__).resolve().parent / "data" / "packages"


@dataclass(frozen=True)
class HubPackage:
    hub_name: str  # org/name on the hub
    name: str  # the package's project name
    version: str
    requires: tuple[Mapping[str, object], ...] = ()

    @property
    def tarball(self) -> Path:
        return PACKAGES_DIR / f"{self.name}-{self.version}.tar.gz"


_UTILS_RANGE = {"package": "dbt-labs/dbt_utils", "version": [">=0.9.0", "<2.0.0"]}

# Each package's hub metadata lists what its packages.yml lists.
HUB_PACKAGES = (
    HubPackage("dbt-labs/dbt_utils", "dbt_utils", "1.4.1"),
    HubPackage("godatadriven/dbt_date", "dbt_date", "0.21.0"),
    HubPackage(
        "metaplane/dbt_expectations",
        "dbt_expectations",
        "0.10.9",
        ({"package": "godatadriven/dbt_date", "version": [">=0.9.0", "<1.0.0"]},),
    ),
    HubPackage(
        "dbt-labs/codegen", "codegen", "0.14.1", ({"package": "dbt-labs/dbt_utils", "version": [">=0.8.0", "<2.0.0"]},)
    ),
    HubPackage("dbt-labs/audit_helper", "audit_helper", "0.12.2", (_UTILS_RANGE,)),
)


def publish_all(hub: HubServer) -> None:
    """Every vendored package on ``hub``, at its version, with its dependencies."""
    for package in HUB_PACKAGES:
        hub.publish_tarball(
            package.hub_name, package.version, package.tarball, name=package.name, packages=package.requires
        )


def dbt_executable() -> str | None:
    """dbt named by ``MODELKIT_DBT_EXECUTABLE``, else ``dbt`` on ``PATH``; None when there is neither."""
    named = os.environ.get("MODELKIT_DBT_EXECUTABLE")
    if named:
        return named
    return shutil.which("dbt")


def run_dbt(dbt: str, args: list[str], cwd: Path, env: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    """``dbt ARGS`` in ``cwd`` (its profiles.yml there), without colour, anonymous usage stats or version checks."""
    full_env = {
        **os.environ,
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
        "DBT_VERSION_CHECK": "False",
        "DBT_USE_COLORS": "False",
        "DBT_PROFILES_DIR": str(cwd),
        **env,
    }
    return subprocess.run([dbt, *args], cwd=cwd, env=full_env, capture_output=True, text=True, timeout=600, check=False)


def table_rows(db_path: Path) -> dict[str, list[tuple]]:
    """``{schema.table: sorted rows}`` of every base table and view in a DuckDB file."""
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        names = con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_catalog = current_database() order by 1, 2"
        ).fetchall()
        out: dict[str, list[tuple]] = {}
        for schema, table in names:
            rows = con.execute(f'select * from "{schema}"."{table}"').fetchall()
            out[f"{schema}.{table}"] = sorted(rows, key=repr)
        return out
    finally:
        con.close()
