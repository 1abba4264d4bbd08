"""PostgreSQL: views, tables, incremental models and contracts, replaced atomically; errors and connections."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pg_support
import pytest
from conftest import run_cli, write_files
from pg_projects import pg_project, relations, rows

pytestmark = pytest.mark.postgres
DB = "modelkit_models"


@pytest.fixture(scope="module")
def server(pg_server: pg_support.Server) -> pg_support.Server:
    pg_support.create_database(pg_server, DB)
    return pg_server


def test_views_and_tables_are_replaced_atomically(server: pg_support.Server, tmp_path: Path) -> None:
    root = pg_project(
        tmp_path,
        server,
        DB,
        "swap",
        {
            "models/t.sql": "{{ config(materialized='table') }}\nselect 1 as id, 'first' as label",
            "models/v.sql": "{{ config(materialized='view') }}\nselect id from {{ ref('t') }}",
        },
    )
    out = run_cli("run", cwd=root)
    assert out.exit_code == 0, out.output
    assert "OK created sql table model swap.t" in out.output and "[SELECT 1 in " in out.output
    assert "OK created sql view model swap.v" in out.output and "[CREATE VIEW in " in out.output
    assert relations(server, DB, "swap") == {"t": "r", "v": "v"}

    # a build that fails half-way leaves the table and its rows as they were, and no leftovers
    write_files(
        root, {"models/t.sql": "{{ config(materialized='table') }}\nselect 2 as id, 'x' as label, 1 / 0 as boom"}
    )
    out = run_cli("run", "-s", "t", cwd=root)
    assert out.exit_code == 1, out.output
    assert "Runtime Error in model t (models/t.sql)" in out.output and "division by zero" in out.output
    assert rows(server, DB, "select id, label from swap.t") == [(1, "first")]
    assert relations(server, DB, "swap") == {"t": "r", "v": "v"}

    # a table becomes a view and back: the old relation is renamed away and dropped after the swap
    write_files(root, {"models/t.sql": "{{ config(materialized='view') }}\nselect 3 as id, 'view' as label"})
    assert run_cli("run", cwd=root).exit_code == 0
    assert relations(server, DB, "swap") == {"t": "v", "v": "v"}
    write_files(root, {"models/t.sql": "{{ config(materialized='table') }}\nselect 4 as id, 'table' as label"})
    assert run_cli("run", cwd=root).exit_code == 0
    assert relations(server, DB, "swap") == {"t": "r", "v": "v"}
    assert rows(server, DB, "select * from swap.v") == [(4,)]


def test_rebuilding_a_table_drops_the_views_on_it_as_dbt_postgres_does(
    server: pg_support.Server, tmp_path: Path
) -> None:
    """The old table is dropped ``cascade`` after the swap: views selecting from it go with it, and a
    run that selects them builds them again (dbt-postgres behaves the same)."""
    root = pg_project(
        tmp_path,
        server,
        DB,
        "cascade",
        {
            "models/t.sql": "{{ config(materialized='table') }}\nselect 1 as id",
            "models/v.sql": "{{ config(materialized='view') }}\nselect id from {{ ref('t') }}",
            "models/w.sql": "{{ config(materialized='view') }}\nselect id from {{ ref('v') }}",
        },
    )
    assert run_cli("run", cwd=root).exit_code == 0
    assert relations(server, DB, "cascade") == {"t": "r", "v": "v", "w": "v"}
    out = run_cli("run", "-s", "t", cwd=root)
    assert out.exit_code == 0, out.output
    assert relations(server, DB, "cascade") == {"t": "r"}
    out = run_cli("run", "-s", "t+", cwd=root)  # the table and the views on it, in order
    assert out.exit_code == 0, out.output
    assert relations(server, DB, "cascade") == {"t": "r", "v": "v", "w": "v"}


def test_server_errors_name_the_model_file_message_and_position(server: pg_support.Server, tmp_path: Path) -> None:
    root = pg_project(
        tmp_path,
        server,
        DB,
        "errors",
        {"models/bad.sql": "{{ config(materialized='table') }}\nselect 1 as id,\n  no_such_column as x\n"},
    )
    out = run_cli("run", cwd=root)
    assert out.exit_code == 1, out.output
    text = out.output
    assert "Failure in model bad (models/bad.sql)" in text
    assert 'column "no_such_column" does not exist' in text
    assert "LINE 4:   no_such_column as x" in text and "^" in text  # the server's position in the statement
    assert "(at line 3, column 3 of the model's SQL)" in text
    assert "compiled code at target/compiled/demo/models/bad.sql" in text
    assert (root / "target/compiled/demo/models/bad.sql").read_text().splitlines()[2] == "  no_such_column as x"

    long_name = "m" * 64  # PostgreSQL would silently cut the name to 63 characters
    write_files(root, {"models/bad.sql": "select 1 as id", f"models/{long_name}.sql": "select 1 as id"})
    out = run_cli("run", cwd=root)
    assert out.exit_code == 1 and f"Relation name '{long_name}' is longer than 63 characters" in out.output


INCREMENTAL = """
{{ config(materialized='incremental', unique_key='id', incremental_strategy=var('strategy'),
          on_schema_change=var('on_schema_change', 'ignore')) }}
select * from (values {{ var('rows') }}) as t(id, name{{ var('extra', '') }})
"""


@pytest.mark.parametrize(
    ("strategy", "expected"),
    [
        ("append", [(1, "a"), (2, "b"), (2, "B"), (3, "C")]),
        ("delete+insert", [(1, "a"), (2, "B"), (3, "C")]),
        ("merge", [(1, "a"), (2, "B"), (3, "C")]),
    ],
)
def test_incremental_strategies(server: pg_support.Server, tmp_path: Path, strategy: str, expected: list) -> None:
    schema = "inc_" + strategy.replace("+", "_")
    root = pg_project(tmp_path, server, DB, schema, {"models/inc.sql": INCREMENTAL})
    first = run_cli("run", "--vars", f"{{strategy: '{strategy}', rows: \"(1, 'a'), (2, 'b')\"}}", cwd=root)
    assert first.exit_code == 0, first.output
    second = run_cli("run", "--vars", f"{{strategy: '{strategy}', rows: \"(2, 'B'), (3, 'C')\"}}", cwd=root)
    assert second.exit_code == 0, second.output
    status = {"append": "[INSERT 0 2 in ", "delete+insert": "[INSERT 0 2 in ", "merge": "[MERGE 2 in "}[strategy]
    assert status in second.output, second.output
    assert rows(server, DB, f"select id, name from {schema}.inc order by id, name desc") == expected


def test_merge_without_merge_statement_updates_then_inserts(server: pg_support.Server, tmp_path: Path) -> None:
    """Before PostgreSQL 15 a merge is an update and an insert: the same rows as MERGE gives."""
    from modelkit.adapters.postgres import PostgresAdapter
    from modelkit.core.relation import Relation
    from modelkit.project.profiles import Target

    output = pg_support.profile_output(server, DB, "merge_old")
    adapter = PostgresAdapter(Target("demo", "pg", "postgres", "merge_old", DB, 1, output, "test"))
    adapter.open()
    try:
        adapter.create_schema(None, "merge_old")
        target = Relation(DB, "merge_old", "t")
        adapter.replace_table(target, "select * from (values (1, 'a'), (2, 'b')) as v(id, name)")
        adapter.server_version = (14, 0)
        assert not adapter.merge_statement()
        with adapter.transaction():
            staging = adapter.create_temp_table(target, "select * from (values (2, 'B'), (3, 'C')) as v(id, name)")
            adapter.merge(target, staging, ["id", "name"], ["name"], ["id"], [])
        assert adapter.execute("select * from merge_old.t order by id", fetch=True).rows == [
            (1, "a"), (2, "B"), (3, "C"),
        ]  # fmt: skip
    finally:
        adapter.close()


def test_incremental_failure_leaves_the_table_as_it_was(server: pg_support.Server, tmp_path: Path) -> None:
    """A merge that fails (two new rows for one key) rolls back the whole unit of work."""
    root = pg_project(tmp_path, server, DB, "inc_fail", {"models/inc.sql": INCREMENTAL})
    assert run_cli("run", "--vars", "{strategy: merge, rows: \"(1, 'a')\"}", cwd=root).exit_code == 0
    out = run_cli("run", "--vars", "{strategy: merge, rows: \"(1, 'x'), (1, 'y'), (2, 'z')\"}", cwd=root)
    assert out.exit_code == 1, out.output
    assert "MERGE command cannot affect row a second time" in out.output
    assert rows(server, DB, "select id, name from inc_fail.inc") == [(1, "a")]


def test_on_schema_change_adds_columns(server: pg_support.Server, tmp_path: Path) -> None:
    root = pg_project(tmp_path, server, DB, "inc_schema", {"models/inc.sql": INCREMENTAL})
    assert run_cli("run", "--vars", "{strategy: merge, rows: \"(1, 'a')\"}", cwd=root).exit_code == 0
    out = run_cli(
        "run",
        "--vars",
        "{strategy: merge, on_schema_change: append_new_columns, rows: \"(2, 'b', 2.5)\", extra: ', score'}",
        cwd=root,
    )
    assert out.exit_code == 0, out.output
    assert rows(server, DB, "select id, name, score from inc_schema.inc order by id") == [
        (1, "a", None), (2, "b", pytest.approx(2.5)),
    ]  # fmt: skip
    out = run_cli("run", "--vars", "{strategy: merge, on_schema_change: fail, rows: \"(3, 'c')\"}", cwd=root)
    assert (
        out.exit_code == 1 and "The source and target schemas on this incremental model are out of sync" in out.output
    )


def test_microbatch_replaces_windows(server: pg_support.Server, tmp_path: Path) -> None:
    root = pg_project(
        tmp_path,
        server,
        DB,
        "batches",
        {
            "models/events.sql": (
                "{{ config(materialized='table', event_time='ts') }}\n"
                "select * from (values (1, timestamp '2024-01-01 10:00'), (2, timestamp '2024-01-02 11:00'),"
                " (3, timestamp '2024-01-03 12:00')) as e(id, ts)"
            ),
            "models/daily.sql": (
                "{{ config(materialized='incremental', incremental_strategy='microbatch', event_time='ts',"
                " batch_size='day', begin='2024-01-01') }}\nselect id, ts from {{ ref('events') }}"
            ),
        },
    )
    window = ("--event-time-start", "2024-01-01", "--event-time-end", "2024-01-04")
    out = run_cli("run", *window, cwd=root)
    assert out.exit_code == 0, out.output
    assert "[SUCCESS 3 batches in " in out.output
    out = run_cli("run", "-s", "daily", "--event-time-start", "2024-01-02", "--event-time-end", "2024-01-03", cwd=root)
    assert out.exit_code == 0, out.output
    assert rows(server, DB, "select id from batches.daily order by id") == [(1,), (2,), (3,)]  # no duplicates


CONTRACT = """
version: 2
models:
  - name: contracted
    config:
      contract: {enforced: true}
    constraints:
      - type: check
        expression: "amount >= 0"
    columns:
      - name: id
        data_type: integer
        constraints: [{type: not_null}, {type: primary_key}]
      - name: name
        data_type: varchar
      - name: amount
        data_type: numeric(10, 2)
"""


def test_contracts_declare_the_table_and_postgresql_enforces_its_constraints(
    server: pg_support.Server, tmp_path: Path
) -> None:
    model = "{{ config(materialized='table') }}\nselect * from (values {{ var('rows') }}) as t(id, name, amount)"
    root = pg_project(tmp_path, server, DB, "contracts", {"models/contracted.sql": model, "models/_c.yml": CONTRACT})
    good = "(1, 'a'::text, 1.5::numeric(10, 2)), (2, 'b', 2)"
    out = run_cli("run", "--vars", f'{{rows: "{good}"}}', cwd=root)
    assert out.exit_code == 0, out.output
    assert rows(server, DB, "select count(*) from contracts.contracted") == [(2,)]
    kinds = rows(
        server,
        DB,
        "select contype from pg_constraint where conrelid = 'contracts.contracted'::regclass and contype in ('c', 'p') "
        "order by 1",
    )
    assert kinds == [("c",), ("p",)]  # the check and the primary key

    for bad, message in (
        ("(null::int, 'a'::text, 1::numeric(10, 2))", "violates not-null constraint"),
        ("(3, 'a'::text, -1::numeric(10, 2))", "violates check constraint"),
    ):
        out = run_cli("run", "--vars", f'{{rows: "{bad}"}}', cwd=root)
        assert out.exit_code == 1 and message in out.output, out.output
        assert rows(server, DB, "select count(*) from contracts.contracted") == [(2,)]  # the old table stays

    out = run_cli("run", "--vars", '{rows: "(1, 2, 3.5::numeric(10, 2))"}', cwd=root)
    assert out.exit_code == 1
    assert "This model has an enforced contract that failed." in out.output
    assert "| name        | INTEGER         | STRING        | data type mismatch |" in out.output


def test_hooks_run_in_the_models_transaction(server: pg_support.Server, tmp_path: Path) -> None:
    root = pg_project(
        tmp_path,
        server,
        DB,
        "hooks",
        {
            "models/t.sql": (
                "{{ config(materialized='table', pre_hook=\"insert into {{ target.schema }}.log values ('pre')\","
                " post_hook=\"insert into {{ target.schema }}.log values ('post ' || (select count(*) from {{ this }}))\") }}"
                "\nselect 1 as id union all select 2"
            ),
        },
        project={"on-run-start": ["create table if not exists {{ target.schema }}.log (event text)"]},
    )
    out = run_cli("run", cwd=root)
    assert out.exit_code == 0, out.output
    assert rows(server, DB, "select event from hooks.log") == [("pre",), ("post 2",)]


def test_empty_builds_from_zero_rows(server: pg_support.Server, tmp_path: Path) -> None:
    root = pg_project(
        tmp_path,
        server,
        DB,
        "empty",
        {
            "models/a.sql": "{{ config(materialized='table') }}\nselect 1 as id",
            "models/b.sql": "{{ config(materialized='table') }}\nselect * from {{ ref('a') }}",
        },
    )
    assert run_cli("run", cwd=root).exit_code == 0
    out = run_cli("run", "--empty", "-s", "b", cwd=root)
    assert out.exit_code == 0, out.output
    compiled = (root / "target/compiled/demo/models/b.sql").read_text()
    assert '(select * from "modelkit_models"."empty"."a" where false limit 0) _dbt_limit_subq_a' in compiled
    assert rows(server, DB, "select count(*) from empty.b") == [(0,)]


# -- connections ----------------------------------------------------------------------------------


def test_unreachable_server_is_a_connection_error_naming_the_profile(tmp_path: Path, pg_server) -> None:
    output = {"port": pg_support.free_port(), "retries": 0, "connect_timeout": 3}
    root = pg_project(tmp_path, pg_server, DB, "nowhere", {"models/a.sql": "select 1 as id"}, output=output)
    out = run_cli("run", cwd=root)
    assert out.exit_code == 2, out.output
    assert "Could not connect to PostgreSQL with the profile 'demo' (target 'pg' in " in out.output
    assert "Connection refused" in out.output and "Check that the server runs" in out.output
    assert " START " not in out.output  # nothing ran


def test_wrong_password_is_a_connection_error(tmp_path: Path, server: pg_support.Server) -> None:
    user = pg_support.PASSWORD_USER
    with server.connect() as con:
        con.execute(f"drop role if exists {user}")
        con.execute(f"create role {user} login password 'right'")
        con.execute(f"grant all on database {DB} to {user}")
    if os.environ.get(pg_support.DSN_ENV):
        pytest.skip("an external server's authentication rules are its own")
    output = {"user": user, "password": "{{ env_var('PG_TEST_PASSWORD') }}", "retries": 0}
    root = pg_project(tmp_path, server, DB, "secret", {"models/a.sql": "select 1 as id"}, output=output)
    out = run_cli("run", cwd=root, env={"PG_TEST_PASSWORD": "wrong"})
    assert out.exit_code == 2, out.output
    assert f'password authentication failed for user "{user}"' in out.output
    assert "profile 'demo'" in out.output and "Check the profile's user and password" in out.output
    out = run_cli("debug", cwd=root, env={"PG_TEST_PASSWORD": "right"})
    assert out.exit_code == 0, out.output


def test_missing_driver_names_the_extra(tmp_path: Path, pg_server) -> None:
    root = pg_project(tmp_path, pg_server, DB, "nodriver", {"models/a.sql": "select 1 as id"})
    script = "import sys; sys.modules['psycopg'] = None\nfrom modelkit.cli.main import main\nsys.argv = ['modelkit', 'run']\nmain()"
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=root, capture_output=True, text=True, env={**os.environ, "NO_COLOR": "1"}
    )
    text = done.stdout + done.stderr
    assert done.returncode == 2, text
    assert "The profile 'demo' (target 'pg' in " in text
    assert "needs the driver psycopg (3.1 or later); it is not installed" in text
    assert "pip install 'modelkit[postgres]'" in text
    assert "Traceback" not in text


def test_profile_fields_reach_the_connection(server: pg_support.Server) -> None:
    """dbt-postgres's profile fields: dbname or database, pass or password, search_path, role, keepalives_idle."""
    from modelkit.adapters.postgres import PostgresAdapter
    from modelkit.adapters.postgres_connect import connect_kwargs
    from modelkit.project.profiles import Target

    with server.connect() as con:
        con.execute("drop role if exists modelkit_reader")
        con.execute("create role modelkit_reader")
        con.execute(f"grant modelkit_reader to {server.user}")
    base = pg_support.profile_output(server, DB, "public")
    base.pop("dbname")
    creds = {**base, "database": DB, "search_path": "other, public", "role": "modelkit_reader", "keepalives_idle": 0}
    kwargs = connect_kwargs(Target("demo", "pg", "postgres", "public", DB, 1, creds, "test"))
    assert kwargs["dbname"] == DB and "keepalives_idle" not in kwargs and kwargs["connect_timeout"] == 10
    assert kwargs["options"] == "-c search_path=other,\\ public"
    adapter = PostgresAdapter(Target("demo", "pg", "postgres", "public", DB, 1, creds, "test"))
    adapter.open()
    try:
        row = adapter.execute(
            "select current_database(), current_user, current_setting('search_path')", fetch=True
        ).rows[0]
        assert row == (DB, "modelkit_reader", "other, public")
        assert adapter.info()["server"].split(".")[0] == str(adapter.server_version[0])
    finally:
        adapter.close()


def test_no_statement_is_prepared_on_the_server(server: pg_support.Server) -> None:
    """Statements go to the server as written, however often they repeat (psycopg would prepare one run
    five times, and deallocate them all after any DROP or ALTER: a round trip more each time)."""
    from modelkit.adapters.postgres import PostgresAdapter
    from modelkit.core.relation import Relation
    from modelkit.project.profiles import Target

    output = pg_support.profile_output(server, DB, "unprepared")
    adapter = PostgresAdapter(Target("demo", "pg", "postgres", "unprepared", DB, 1, output, "test"))
    adapter.open()
    try:
        adapter.create_schema(DB, "unprepared")
        for i in range(8):
            adapter.replace_table(Relation(DB, "unprepared", f"t{i % 2}"), f"select {i} as n")
            assert adapter.execute("select 1", fetch=True).rows == [(1,)]
        prepared = adapter.execute("select count(*) from pg_prepared_statements", fetch=True).rows
        assert prepared == [(0,)]
    finally:
        adapter.close()
    assert rows(server, DB, "select n from unprepared.t0 union all select n from unprepared.t1 order by 1") == [
        (6,),
        (7,),
    ]
