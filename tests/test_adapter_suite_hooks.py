"""dbt's adapter test suite ``hooks``, run through the modelkit CLI on DuckDB.

Ported from dbt-tests-adapter's ``hooks/test_model_hooks.py`` and ``hooks/test_run_hooks.py``, and
dbt-duckdb's own ``test_hooks.py`` (a post-hook in and out of the transaction). The hooks write the
target's fields into a table; the suite expects a PostgreSQL target's values, so these tests expect
the ones dbt-duckdb 1.11 writes for this DuckDB profile (observed with dbt itself): no dbname, host or
user (empty strings), target name ``dev``, schema ``main``, type ``duckdb``, 4 threads.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from conftest import query
from suite_support import db, dbt_project, exists, run, statuses

DATA = Path(__file__).parent / "data" / "adapter_suite" / "hooks"
FIELDS = [
    "test_state",
    "target_dbname",
    "target_host",
    "target_name",
    "target_schema",
    "target_threads",
    "target_type",
    "target_user",
    "target_pass",
    "run_started_at",
    "invocation_id",
    "thread_id",
]
HOOK_TABLE = """
drop table if exists main.{table};
create table main.{table} (
    test_state TEXT, target_dbname TEXT, target_host TEXT, target_name TEXT, target_schema TEXT,
    target_type TEXT, target_user TEXT, target_pass TEXT, target_threads INTEGER,
    run_started_at TEXT, invocation_id TEXT, thread_id TEXT
);
"""
MODEL_PRE_HOOK = (DATA / "model_pre_hook.sql").read_text()
MODEL_POST_HOOK = (DATA / "model_post_hook.sql").read_text()
VACUUM = {"sql": "vacuum {{ this.schema }}.on_model_hook", "transaction": False}
SEED_CSV = "a,b,c\n1,2,3\n4,5,6\n7,8,9\n"


def _sql(root: Path, sql: str) -> None:
    con = duckdb.connect(str(db(root)))
    try:
        con.execute(sql)
    finally:
        con.close()


def _check_hooks(root: Path, table: str, state: str, count: int = 1, main_thread: bool = False) -> None:
    """BaseTestPrePost.check_hooks / BasePrePostRunHooks.check_hooks, with DuckDB's target values."""
    listed = ", ".join(f'"{f}"' for f in FIELDS)
    vals = query(db(root), f"select {listed} from main.{table} where test_state = '{state}'")
    assert len(vals) != 0, "nothing inserted into hooks table"
    assert len(vals) == count, "wrong number of rows in hooks table"
    for val in vals:
        ctx = dict(zip(FIELDS, val, strict=True))
        assert ctx["test_state"] == state
        assert ctx["target_dbname"] == ""
        assert ctx["target_host"] == ""
        assert ctx["target_name"] == "dev"
        assert ctx["target_schema"] == "main"
        assert ctx["target_threads"] == 4
        assert ctx["target_type"] == "duckdb"
        assert ctx["target_user"] == ""
        assert ctx["target_pass"] == ""
        assert ctx["run_started_at"], "run_started_at was not set"
        assert ctx["invocation_id"], "invocation_id was not set"
        assert ctx["thread_id"].startswith("Thread-") or (main_thread and ctx["thread_id"] == "MainThread")


def _model_hooks_project(tmp_path: Path, files: dict[str, str], config: dict) -> Path:
    root = dbt_project(tmp_path / "test", files, config)
    _sql(root, HOOK_TABLE.format(table="on_model_hook"))
    return root


PROJECT_HOOKS = {"pre-hook": [MODEL_PRE_HOOK, VACUUM], "post-hook": [VACUUM, MODEL_POST_HOOK]}


@pytest.mark.parametrize(
    "hooks",
    [
        PROJECT_HOOKS,  # BasePrePostModelHooks
        {"pre_hook": PROJECT_HOOKS["pre-hook"], "post_hook": PROJECT_HOOKS["post-hook"]},  # ...Underscores
    ],
)
def test_pre_and_post_model_hooks(tmp_path: Path, hooks: dict) -> None:
    root = _model_hooks_project(tmp_path, {"models/hooks.sql": "select 1 as id\n"}, {"models": {"test": hooks}})
    run(root, "run")
    _check_hooks(root, "on_model_hook", "start")
    _check_hooks(root, "on_model_hook", "end")


def test_hook_refs(tmp_path: Path) -> None:
    """BaseHookRefs: hooks that ref() other models."""
    post_hook = """
                        insert into {{this.schema}}.on_model_hook select
                        test_state,
                        '{{ target.dbname }}' as target_dbname,
                        '{{ target.host }}' as target_host,
                        '{{ target.name }}' as target_name,
                        '{{ target.schema }}' as target_schema,
                        '{{ target.type }}' as target_type,
                        '{{ target.user }}' as target_user,
                        '{{ target.get(pass, "") }}' as target_pass,
                        {{ target.threads }} as target_threads,
                        '{{ run_started_at }}' as run_started_at,
                        '{{ invocation_id }}' as invocation_id,
                        '{{ thread_id }}' as thread_id
                        from {{ ref('post') }}""".strip()
    files = {
        "models/hooked.sql": (DATA / "hooked.sql").read_text(),
        "models/post.sql": "select 'end' as test_state\n",
        "models/pre.sql": "select 'start' as test_state\n",
    }
    root = _model_hooks_project(tmp_path, files, {"models": {"test": {"hooked": {"post-hook": [post_hook]}}}})
    run(root, "run")
    _check_hooks(root, "on_model_hook", "start")
    _check_hooks(root, "on_model_hook", "end")


@pytest.mark.parametrize(
    ("model", "config", "count"),
    [
        ("hooks_configured.sql", {"macro-paths": ["macros"]}, 1),  # BasePrePostModelHooksInConfig
        ("hooks_configured.sql", {"models": {"test": PROJECT_HOOKS}}, 2),  # ...InConfigWithCount
        ("hooks_kwargs.sql", {"macro-paths": ["macros"]}, 1),  # BasePrePostModelHooksInConfigKwargs
    ],
)
def test_model_hooks_in_config(tmp_path: Path, model: str, config: dict, count: int) -> None:
    root = _model_hooks_project(tmp_path, {"models/hooks.sql": (DATA / model).read_text()}, config)
    run(root, "run")
    _check_hooks(root, "on_model_hook", "start", count)
    _check_hooks(root, "on_model_hook", "end", count)


def test_duplicate_hooks_in_configs(tmp_path: Path) -> None:
    """BaseDuplicateHooksInConfigs: pre_hook and pre-hook in one config() is a compilation error."""
    root = _model_hooks_project(tmp_path, {"models/hooks.sql": (DATA / "hooks_error.sql").read_text()}, {})
    output = run(root, "run", expect=None)
    assert "Compilation Error" in output
    assert "pre_hook" in output and "pre-hook" in output


SEED_NEW_COL = """
version: 2
seeds:
- name: example_seed
  columns:
  - name: new_col
    data_tests:
    - not_null
"""


@pytest.mark.parametrize(
    "seeds_config",
    [
        {  # BasePrePostModelHooksOnSeeds
            "post-hook": [
                "alter table {{ this }} add column new_col int",
                "update {{ this }} set new_col = 1",
                "select null::{{ dbt.type_int() }} as id",
            ],
            "quote_columns": False,
        },
        {  # BasePrePostModelHooksOnSeedsPlusPrefixed (and ...Whitespace, the same project)
            "+post-hook": ["alter table {{ this }} add column new_col int", "update {{ this }} set new_col = 1"],
            "quote_columns": False,
        },
    ],
)
def test_hooks_on_seeds(tmp_path: Path, seeds_config: dict) -> None:
    files = {"seeds/example_seed.csv": SEED_CSV, "models/schema.yml": SEED_NEW_COL}
    root = dbt_project(tmp_path / "test", files, {"seed-paths": ["seeds"], "models": {}, "seeds": seeds_config})
    run(root, "seed")
    assert len(statuses(root)) == 1
    run(root, "test")
    assert list(statuses(root).values()) == ["pass"]


def test_hooks_refs_on_seeds(tmp_path: Path) -> None:
    """BaseHooksRefsOnSeeds: a seed's hook may not ref() a model."""
    files = {
        "seeds/example_seed.csv": SEED_CSV,
        "models/schema.yml": SEED_NEW_COL,
        "models/post.sql": "select 'end' as test_state\n",
    }
    root = dbt_project(tmp_path / "test", files, {"seeds": {"post-hook": ["select * from {{ ref('post') }}"]}})
    output = run(root, "parse", expect=2)
    assert "Seeds cannot depend on other nodes" in output


@pytest.mark.parametrize("folder", ["test-snapshots", "test-kwargs-snapshots"])
def test_hooks_on_snapshots(tmp_path: Path, folder: str) -> None:
    """BasePrePostModelHooksOnSnapshots / BasePrePostSnapshotHooksInConfigKwargs."""
    snapshot = """
{% snapshot example_snapshot %}
{{
    config(target_schema=schema, unique_key='a', strategy='check', check_cols='all')
}}
select * from {{ ref('example_seed') }}
{% endsnapshot %}
"""
    properties = SEED_NEW_COL.replace("seeds:", "snapshots:").replace("example_seed", "example_snapshot")
    files = {"seeds/example_seed.csv": SEED_CSV, "models/schema.yml": properties, f"{folder}/snapshot.sql": snapshot}
    config = {
        "seed-paths": ["seeds"],
        "snapshot-paths": [folder],
        "models": {},
        "snapshots": {
            "post-hook": ["alter table {{ this }} add column new_col int", "update {{ this }} set new_col = 1"]
        },
        "seeds": {"quote_columns": False},
    }
    root = dbt_project(tmp_path / "test", files, config)
    for command in ("seed", "snapshot", "test"):
        run(root, command)
        assert len(statuses(root)) == 1
    assert list(statuses(root).values()) == ["pass"]


# -- on-run-start / on-run-end -----------------------------------------------------------------------
RUN_HOOKS_CONFIG = {
    "on-run-start": [
        "{{ custom_run_hook('start', target, run_started_at, invocation_id) }}",
        "create table {{ target.schema }}.start_hook_order_test ( id int )",
        "drop table {{ target.schema }}.start_hook_order_test",
        "{{ log(env_var('TERM_TEST'), info=True) }}",
    ],
    "on-run-end": [
        "{{ custom_run_hook('end', target, run_started_at, invocation_id) }}",
        "create table {{ target.schema }}.end_hook_order_test ( id int )",
        "drop table {{ target.schema }}.end_hook_order_test",
        "create table {{ target.schema }}.schemas ( schema text )",
        "insert into {{ target.schema }}.schemas (schema) values {% for schema in schemas %}( '{{ schema }}' )"
        "{% if not loop.last %},{% endif %}{% endfor %}",
        "create table {{ target.schema }}.db_schemas ( db text, schema text )",
        "insert into {{ target.schema }}.db_schemas (db, schema) values {% for db, schema in database_schemas %}"
        "('{{ db }}', '{{ schema }}' ){% if not loop.last %},{% endif %}{% endfor %}",
    ],
    "seeds": {"quote_columns": False},
}


@pytest.mark.parametrize("command", ["run", "seed"])
def test_pre_and_post_run_hooks(tmp_path: Path, command: str) -> None:
    """BasePrePostRunHooks: on-run-start/end run in order, see the target, `schemas` and `database_schemas`."""
    files = {
        "macros/hook.sql": "{% macro hook() %}\n  select 1\n{% endmacro %}\n",
        "macros/before-and-after.sql": (DATA / "before_and_after.sql").read_text(),
        "models/hooks.sql": "select 1 as id\n",
        "seeds/example_seed.csv": SEED_CSV,
    }
    root = dbt_project(tmp_path / "test", files, RUN_HOOKS_CONFIG)
    _sql(root, HOOK_TABLE.format(table="on_run_hook"))
    output = run(root, command, env={"TERM_TEST": "TESTING"})
    assert "TESTING" in output
    _check_hooks(root, "on_run_hook", "start", main_thread=True)
    _check_hooks(root, "on_run_hook", "end", main_thread=True)
    assert not exists(root, "start_hook_order_test")
    assert not exists(root, "end_hook_order_test")
    assert query(db(root), "select * from main.schemas") == [("main",)]
    assert query(db(root), "select * from main.db_schemas") == [("test", "main")]


def test_missing_column_pre_hook(tmp_path: Path) -> None:
    """BaseAfterRunHooks: an on-run-start hook whose rendering runs a failing query stops the command.

    The suite expects dbt to raise (DbtDatabaseError on PostgreSQL); dbt-duckdb 1.11 raises its
    runtime error: "Encountered an error:", exit code 2, nothing run and no run_results.json.
    """
    files = {
        "macros/temp_macro.sql": (DATA / "missing_column.sql").read_text(),
        "models/test_column.sql": "select 1 as col\n",
    }
    root = dbt_project(tmp_path / "test", files, {"on-run-start": "- {{ export_table_check() }}"})
    output = run(root, "run", expect=2)
    assert "Encountered an error:" in output and "Catalog Error" in output
    assert not exists(root, "test_column")
    assert not (root / "target" / "run_results.json").exists()


# -- dbt-duckdb's own hooks tests --------------------------------------------------------------------
@pytest.mark.parametrize("transaction", [None, False])  # TestPostHook / TestPostHookTransactionFalse
def test_duckdb_post_hook(tmp_path: Path, transaction: bool | None) -> None:
    hook: dict = {"sql": "create table test_table_post_hook as select 1;"}
    if transaction is not None:
        hook["transaction"] = transaction
    root = dbt_project(
        tmp_path / "test", {"models/basic_model.sql": "select range from range(3)\n"}, {"models": {"post-hook": [hook]}}
    )
    run(root, "run")
    assert query(db(root), "select count(*) from main.basic_model") == [(3,)]
    assert query(db(root), "select count(*) from test_table_post_hook") == [(1,)]
