"""Small dbt projects with a postgres profile, for the tests marked ``postgres``."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pg_support
import yaml
from conftest import write_files


def pg_project(
    root: Path,
    server: pg_support.Server,
    dbname: str,
    schema: str,
    files: Mapping[str, str],
    *,
    project: Mapping[str, Any] | None = None,
    output: Mapping[str, Any] | None = None,
) -> Path:
    """A dbt project named ``demo`` at ``root`` whose profile builds into ``dbname``.``schema``."""
    config: dict[str, Any] = {"name": "demo", "version": "1.0", "profile": "demo", **(project or {})}
    profile = {**pg_support.profile_output(server, dbname, schema, threads=2), **(output or {})}
    write_files(
        root,
        {
            "dbt_project.yml": yaml.safe_dump(config),
            "profiles.yml": yaml.safe_dump({"demo": {"target": "pg", "outputs": {"pg": profile}}}),
            **files,
        },
    )
    return root


def rows(server: pg_support.Server, dbname: str, sql: str) -> list[tuple[Any, ...]]:
    with server.connect(dbname) as con:
        return con.execute(sql).fetchall()


def relations(server: pg_support.Server, dbname: str, schema: str) -> dict[str, str]:
    """name -> 'r' (table) or 'v' (view) of the schema's relations."""
    found = rows(
        server,
        dbname,
        "select c.relname, c.relkind from pg_class c join pg_namespace n on n.oid = c.relnamespace "
        f"where n.nspname = '{schema}' and c.relkind in ('r', 'v') order by 1",
    )
    return dict(found)
