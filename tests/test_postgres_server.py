"""The throwaway PostgreSQL server the ``postgres`` tests run against (tests/pg_support.py)."""

from __future__ import annotations

import os

import pg_support
import pytest

pytestmark = pytest.mark.postgres


def test_server_is_postgresql_15_or_later_tuned_for_tests(pg_server: pg_support.Server) -> None:
    with pg_server.connect() as con:
        version = int(con.execute("show server_version_num").fetchone()[0])
        assert version >= 150000
        if os.environ.get(pg_support.DSN_ENV):
            return  # an external server keeps its own settings
        settings = dict(
            con.execute(
                "select name, setting from pg_settings where name in "
                "('fsync', 'full_page_writes', 'synchronous_commit', 'listen_addresses')"
            ).fetchall()
        )
    assert settings == {
        "fsync": "off",
        "full_page_writes": "off",
        "synchronous_commit": "off",
        "listen_addresses": "127.0.0.1",
    }
    assert pg_server.process is not None and pg_server.process.poll() is None


def test_databases_are_created_fresh(pg_server: pg_support.Server) -> None:
    pg_support.create_database(pg_server, "modelkit_fixture_check")
    with pg_server.connect("modelkit_fixture_check") as con:
        con.execute("create table t as select 1 as x")
    pg_support.create_database(pg_server, "modelkit_fixture_check")  # again: the old one is dropped
    with pg_server.connect("modelkit_fixture_check") as con:
        assert con.execute("select count(*) from pg_tables where tablename = 't'").fetchone()[0] == 0
