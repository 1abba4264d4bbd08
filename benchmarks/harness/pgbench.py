"""PostgreSQL for the engine benchmark: the server, one database per run, and the profiles that use it.

The server is the one ``MODELKIT_PG_DSN`` names, else a throwaway one started here exactly as the tests
start theirs (tests/pg_support.py: ``initdb`` into a temporary folder, run as an unprivileged user when
root, 127.0.0.1 at a free port, fsync, full-page writes and synchronous commit off), stopped at the end.

Every measured run starts from a database that holds the seeds and nothing else: each tool loads the seeds
once with its own ``seed`` command into a database that then becomes a template, and the run's database is
dropped and created again from that template (untimed) before every run.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

from .measure import run_once
from .tools import Tool
from .workspace import HarnessError

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests"))
import pg_support  # noqa: E402 - the tests' server helper, shared rather than copied

PROFILE = "bench"  # the generated project's profile name (genproject_files.py)
SCHEMA = "main"
RUN_DB = "bench"  # the database every measured run builds in (its name is in the compiled SQL)


@contextmanager
def server() -> Iterator[Any]:
    """A running server (a ``pg_support.Server``): ``MODELKIT_PG_DSN``'s, else a temporary one."""
    dsn = os.environ.get(pg_support.DSN_ENV)
    if dsn:
        yield pg_support.external_server(dsn)
        return
    binaries = pg_support.find_binaries()
    if binaries is None:
        raise HarnessError(f"no PostgreSQL binaries (initdb, postgres) found and {pg_support.DSN_ENV} is not set")
    started = pg_support.start_server(binaries)
    try:
        yield started
    finally:
        started.stop()


def dsn(srv: Any, dbname: str = RUN_DB) -> str:
    password = f" password={srv.password}" if srv.password else ""
    return f"host={srv.host} port={srv.port} user={srv.user} dbname={dbname}{password}"


def server_version(srv: Any) -> str:
    with srv.connect() as con:
        return str(con.execute("show server_version").fetchone()[0])


def write_profile(root: Path, srv: Any, threads: int, dbname: str = RUN_DB) -> None:
    """``profiles.yml`` in ``root``: profile ``bench`` on the server's database ``dbname``."""
    output = pg_support.profile_output(srv, dbname, schema=SCHEMA, threads=threads)
    (root / "profiles.yml").write_text(yaml.safe_dump({PROFILE: {"target": "dev", "outputs": {"dev": output}}}))


def fresh_database(srv: Any, template: str | None = None, name: str = RUN_DB) -> None:
    """``name`` dropped (closing its connections) and created again, empty or as a copy of ``template``."""
    with srv.connect() as con:
        con.execute(f'drop database if exists "{name}" with (force)')
        con.execute(f'create database "{name}"' + (f' template "{template}"' if template else ""))


def seeded_template(srv: Any, tool: Tool, root: Path, template: str, log: Path, dbname: str = RUN_DB) -> None:
    """Load the seeds with ``tool seed`` into ``dbname`` (the profile's) and keep it as the template ``template``."""
    fresh_database(srv, name=dbname)
    sample = run_once(tool.command("seed"), root, tool.env, log)
    if sample.returncode != 0:
        raise HarnessError(f"{tool.name} seed failed in {root}; see {log}")
    with srv.connect() as con:
        con.execute(f'drop database if exists "{template}" with (force)')
        con.execute(f'alter database "{dbname}" rename to "{template}"')


def drop_databases(srv: Any, names: list[str]) -> None:
    with srv.connect() as con:
        for name in names:
            con.execute(f'drop database if exists "{name}" with (force)')
