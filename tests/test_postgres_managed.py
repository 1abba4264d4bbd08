"""A managed PostgreSQL server's connection settings, against a local server with SSL on.

The server (PostgreSQL 15 or later, started by pg_support) has a certificate signed by a CA made with
openssl for the test and refuses connections without SSL (pg_hba.conf ``hostnossl ... reject``), as
managed servers (RDS, Cloud SQL, Azure, Supabase) usually do. The login user ``analyst`` gives its
password from an env var and acts as the role ``transformer``; ``certuser`` logs in with a client
certificate. The models record what their session was.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pg_support
import pytest
import yaml
from conftest import run_cli, write_files

pytestmark = pytest.mark.postgres

PASSWORD = "managed-secret"
HBA = (
    "hostnossl all all 127.0.0.1/32 reject\n"
    "hostssl all certuser 127.0.0.1/32 cert\n"
    "hostssl all analyst 127.0.0.1/32 scram-sha-256\n"
)
FILES = {
    "dbt_project.yml": "name: managed\nversion: '1.0'\nprofile: managed\nmodels:\n  +materialized: table\n",
    # what the session was: its login user, the role it acts as, SSL, the search_path
    "models/whoami.sql": (
        "select session_user::text as login_user, current_user::text as acting_role,\n"
        "  (select ssl from pg_stat_ssl where pid = pg_backend_pid()) as ssl,\n"
        "  current_setting('search_path') as search_path"
    ),
    "models/regions_copy.sql": "select region from regions  -- unqualified: found through the search_path",
}


def _openssl(folder: Path, *args: str) -> None:
    subprocess.run(["openssl", *args], cwd=folder, check=True, capture_output=True)


def make_certificates(folder: Path) -> None:
    """A CA, a server certificate for 127.0.0.1 and a client certificate for ``certuser`` (EC keys: quick),
    and a second CA that signed nothing."""
    folder.mkdir(parents=True, exist_ok=True)
    ec = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes")
    for ca in ("ca", "other_ca"):
        _openssl(folder, "req", "-x509", *ec, "-days", "2", "-subj", f"/CN=modelkit {ca}", "-keyout", f"{ca}.key",
                 "-out", f"{ca}.crt")  # fmt: skip
    (folder / "san.ext").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    for name, subject, extra in (("server", "/CN=127.0.0.1", ["-extfile", "san.ext"]), ("client", "/CN=certuser", [])):
        _openssl(folder, "req", *ec, "-subj", subject, "-keyout", f"{name}.key", "-out", f"{name}.csr")
        _openssl(folder, "x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
                 "-CAcreateserial", "-days", "2", "-out", f"{name}.crt", *extra)  # fmt: skip
        (folder / f"{name}.key").chmod(0o600)


@pytest.fixture(scope="module")
def managed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    binaries = pg_support.find_binaries()
    if binaries is None:
        pytest.skip("no PostgreSQL binaries (initdb, postgres) found to start a server with SSL")
    if not shutil.which("openssl"):
        pytest.skip("no openssl command to make the test's certificates")
    base = tmp_path_factory.mktemp("pg_managed")
    certs = base / "certs"
    make_certificates(certs)
    server = pg_support.start_server(binaries, ssl=certs, hba=HBA)
    try:
        with server.connect() as con:
            for statement in (
                "create role transformer nologin",
                f"create role analyst login password '{PASSWORD}'",
                "create role certuser login",
                "grant transformer to analyst, certuser",
                "grant pg_read_all_stats to transformer",  # the role sees its own session's pg_stat_ssl row
                "create database managed owner transformer",
            ):
                con.execute(statement)
        with server.connect("managed") as con:
            con.execute("set role transformer")
            con.execute("create schema lookup")
            con.execute("create table lookup.regions as select 'north' as region union all select 'south'")
        yield {"server": server, "certs": certs, "base": base}
    finally:
        server.stop()


def project(managed: dict[str, Any], name: str, **fields: Any) -> Path:
    """The project with one target: analyst (password from MANAGED_PG_PASSWORD) as transformer, and ``fields``."""
    server, certs = managed["server"], managed["certs"]
    output: dict[str, Any] = {
        "type": "postgres",
        "host": "127.0.0.1",
        "port": server.port,
        "user": "analyst",
        "password": "{{ env_var('MANAGED_PG_PASSWORD') }}",
        "dbname": "managed",
        "schema": "analytics",
        "role": "transformer",
        "search_path": "lookup, public",
        "keepalives_idle": 30,
        "connect_timeout": 5,
        "retries": 0,
        "threads": 2,
    }
    output.update({k: str(certs / v) if k in ("sslrootcert", "sslcert", "sslkey") else v for k, v in fields.items()})
    output = {k: v for k, v in output.items() if v is not None}
    root = managed["base"] / name
    profiles = yaml.safe_dump({"managed": {"target": "prod", "outputs": {"prod": output}}})
    write_files(root, {**FILES, "profiles.yml": profiles})
    return root


def run(root: Path) -> Any:
    return run_cli("run", cwd=root, env={"MANAGED_PG_PASSWORD": PASSWORD})


def session_of(managed: dict[str, Any]) -> tuple[Any, ...]:
    with managed["server"].connect("managed") as con:
        owner = con.execute("select tableowner from pg_tables where schemaname = 'analytics' and tablename = 'whoami'")
        return (*con.execute("select * from analytics.whoami").fetchone(), owner.fetchone()[0])


@pytest.mark.parametrize(
    ("name", "fields", "login"),
    [
        ("require", {"sslmode": "require"}, "analyst"),
        # the role unquoted, as dbt-postgres sends it: folded to lower case
        ("verify_full", {"sslmode": "verify-full", "sslrootcert": "ca.crt", "role": "Transformer"}, "analyst"),
        (
            "client_certificate",
            {
                "user": "certuser",
                "password": None,
                "sslmode": "verify-full",
                "sslrootcert": "ca.crt",
                "sslcert": "client.crt",
                "sslkey": "client.key",
            },  # fmt: skip
            "certuser",
        ),
    ],
)
def test_builds_over_ssl_as_the_role_with_the_search_path(
    managed: dict[str, Any], name: str, fields: dict[str, Any], login: str
) -> None:
    result = run(project(managed, name, **fields))
    assert result.exit_code == 0, result.output
    assert "Done. PASS=2 WARN=0 ERROR=0 SKIP=0" in result.output
    assert session_of(managed) == (login, "transformer", True, "lookup, public", "transformer")
    with managed["server"].connect("managed") as con:
        assert con.execute("select region from analytics.regions_copy order by 1").fetchall() == [
            ("north",),
            ("south",),
        ]


@pytest.mark.parametrize(
    ("name", "fields", "message"),
    [
        ("no_ssl", {"sslmode": "disable"}, "no encryption"),
        ("wrong_ca", {"sslmode": "verify-full", "sslrootcert": "other_ca.crt"}, "certificate verify failed"),
        ("wrong_role", {"sslmode": "require", "role": "nobody"}, "could not set role 'nobody'"),
    ],
)
def test_a_refused_connection_says_why(
    managed: dict[str, Any], name: str, fields: dict[str, Any], message: str
) -> None:
    result = run(project(managed, name, **fields))
    assert result.exit_code != 0
    assert "profile 'managed' (target 'prod'" in result.output
    assert message in result.output, result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"sslmode": "requir"}, "sets sslmode: 'requir'; it must be one of disable, allow, prefer, require, verify-ca"),
        ({"connect_timeout": "soon"}, "sets connect_timeout: 'soon'; it must be a whole number (0 or more)"),
        ({"keepalives_idle": -5}, "sets keepalives_idle: -5; it must be 0 or more"),
        ({"retries": True}, "sets retries: True; it must be a whole number"),
        ({"port": 70000}, "sets port: 70000; it must be a port number (1-65535)"),
        ({"role": ["a", "b"]}, "sets role: ['a', 'b']; it must be a string"),
    ],
)
def test_a_wrong_value_is_named(managed: dict[str, Any], fields: dict[str, Any], message: str) -> None:
    result = run(project(managed, "wrong_value", **fields))
    assert result.exit_code == 2, result.output
    assert "The profile 'managed' (target 'prod'" in result.output
    assert message in result.output, result.output
    assert "Traceback" not in result.output
