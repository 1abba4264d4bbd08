"""dbt's ``incremental`` adapter test suite (dbt-tests-adapter), run through the modelkit CLI.

The unique key and on_schema_change fixtures are vendored as project folders under
``tests/data/adapter_suite/incremental`` (the unique key suite's ``seeds/*.sql`` files, which dbt
does not load as seeds, are run against the database by the test as the suite runs them); the
smaller fixtures are written inline.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import duckdb
import pytest
from conftest import query
from suite_support import db, dbt_project, relations_equal, run

from modelkit.execute.materializations import microbatch

DATA = Path(__file__).parent / "data" / "adapter_suite" / "incremental"


def _results(root: Path) -> list[dict]:
    return json.loads((root / "target" / "run_results.json").read_text())["results"]


def _copy(tmp_path: Path, suite: str, config: dict | None = None) -> Path:
    root = tmp_path / "test"
    shutil.copytree(DATA / suite, root)
    return dbt_project(root, {}, config)


# -- unique key ----------------------------------------------------------------------------------------
def _run_sql_file(root: Path, name: str) -> None:
    """dbt's ``project.run_sql_file``: the suite's seeds/<name>.sql with {schema} filled in."""
    con = duckdb.connect(str(db(root)))
    try:
        con.execute((root / "seeds" / f"{name}.sql").read_text().replace("{schema}", "main"))
    finally:
        con.close()


def _updated(root: Path) -> int:
    """``update_incremental_model``: the number of results of `run --select MODEL`."""
    return len(_results(root))


# (incremental model, seed update file, expected relation, expected seed rows)
UNIQUE_KEY_CASES = [
    ("empty_unique_key_list", "add_new_rows", "seed", 9),
    ("str_unique_key", "duplicate_insert", "one_str__overwrite", 8),
    ("no_unique_key", "add_new_rows", "seed", 9),
    ("empty_str_unique_key", "add_new_rows", "seed", 9),
    ("unary_unique_key_list", "duplicate_insert", "unique_key_list__inplace_overwrite", 8),
    ("duplicated_unary_unique_key_list", "duplicate_insert", "unique_key_list__inplace_overwrite", 8),
    ("trinary_unique_key_list", "duplicate_insert", "unique_key_list__inplace_overwrite", 8),
    ("nontyped_trinary_unique_key_list", "add_new_rows", "seed", 9),
]


@pytest.mark.parametrize(
    ("model", "update", "expected", "seed_rows"), UNIQUE_KEY_CASES, ids=[c[0] for c in UNIQUE_KEY_CASES]
)
def test_unique_key(tmp_path: Path, model: str, update: str, expected: str, seed_rows: int) -> None:
    """BaseIncrementalUniqueKey: the model after a seed change matches the expected relation."""
    root = _copy(tmp_path, "unique_key")
    if expected != "seed":  # opt_model_count: the expected model is built first
        run(root, "run", "--select", expected)
        assert _updated(root) == 1
    run(root, "seed", "--select", "seed", "--full-refresh")
    assert len(_results(root)) == 1
    run(root, "run", "--select", model, "--full-refresh")
    assert len(_results(root)) == 1
    _run_sql_file(root, update)
    assert len(query(db(root), "select * from main.seed")) == seed_rows
    run(root, "run", "--select", model)
    assert _updated(root) == 1
    relations_equal(root, expected, model)


@pytest.mark.parametrize("model", ["not_found_unique_key", "not_found_unique_key_list"])
def test_bad_unique_key(tmp_path: Path, model: str) -> None:
    """test__bad_unique_key(_list): a unique key that is not a column fails the second run, naming it."""
    root = _copy(tmp_path, "unique_key")
    run(root, "seed", "--select", "seed", "--full-refresh")
    run(root, "run", "--select", model, "--full-refresh")
    run(root, "run", "--select", model, expect=1)
    result = _results(root)[0]
    assert result["status"] == "error"
    assert "thisisnotacolumn" in result["message"].lower()


# -- incremental predicates -------------------------------------------------------------------------
PREDICATES_MODEL = """
{{ config(
    materialized = 'incremental',
    unique_key = 'id'
) }}

{% if not is_incremental() %}

select 1 as id, 'hello' as msg, 'blue' as color
union all
select 2 as id, 'goodbye' as msg, 'red' as color

{% else %}

-- delete will not happen on the above record where id = 2, so new record will be inserted instead
select 1 as id, 'hey' as msg, 'blue' as color
union all
select 2 as id, 'yo' as msg, 'green' as color
union all
select 3 as id, 'anyway' as msg, 'purple' as color

{% endif %}
"""


def _seed_model_seed(root: Path, seed: str, model: str, seed_rows: int) -> None:
    """The predicates / merge_exclude_columns scenario: seed, full refresh, one incremental run."""
    run(root, "seed", "--select", seed, "--full-refresh")
    assert len(_results(root)) == 1
    run(root, "run", "--select", model, "--full-refresh")
    assert len(_results(root)) == 1
    assert len(query(db(root), f"select * from main.{seed}")) == seed_rows
    run(root, "run", "--select", model)
    assert len(_results(root)) == 1
    relations_equal(root, seed, model)


@pytest.mark.parametrize("key", ["+incremental_predicates", "+predicates"])
def test_incremental_predicates(tmp_path: Path, key: str) -> None:
    """BaseIncrementalPredicates / TestPredicatesDeleteInsert: `id != 2` keeps the old id 2 row."""
    files = {
        "models/delete_insert_incremental_predicates.sql": PREDICATES_MODEL,
        "seeds/expected_delete_insert_incremental_predicates.csv": "id,msg,color\n1,hey,blue\n2,goodbye,red\n"
        "2,yo,green\n3,anyway,purple\n",
    }
    config = {"models": {key: ["id != 2"], "+incremental_strategy": "delete+insert"}}
    root = dbt_project(tmp_path / "test", files, config)
    _seed_model_seed(root, "expected_delete_insert_incremental_predicates", "delete_insert_incremental_predicates", 4)


# -- merge_exclude_columns -----------------------------------------------------------------------------
def test_merge_exclude_columns(tmp_path: Path) -> None:
    """BaseMergeExcludeColumns: a merge leaves `msg` as it was on matched rows."""
    model = PREDICATES_MODEL.replace(
        "    unique_key = 'id'\n",
        "    unique_key = 'id',\n    incremental_strategy='merge',\n    merge_exclude_columns=['msg']\n",
    )
    files = {
        "models/merge_exclude_columns.sql": model,
        "seeds/expected_merge_exclude_columns.csv": "id,msg,color\n1,hello,blue\n2,goodbye,green\n3,anyway,purple\n",
    }
    root = dbt_project(tmp_path / "test", files)
    _seed_model_seed(root, "expected_merge_exclude_columns", "merge_exclude_columns", 3)


# -- on_schema_change ----------------------------------------------------------------------------------
ON_SCHEMA_CHANGE_CASES = ["ignore", "append_new_columns", "append_new_columns_remove_one", "sync_all_columns",
                          "sync_remove_only"]  # fmt: skip


@pytest.mark.parametrize("case", ON_SCHEMA_CHANGE_CASES)
def test_on_schema_change(tmp_path: Path, case: str) -> None:
    """BaseIncrementalOnSchemaChange: two runs, then the model equals its `_target` model."""
    root = _copy(tmp_path, "on_schema_change")
    model = f"incremental_{case}"
    for _ in range(2):
        run(root, "run", "--select", f"model_a {model} {model}_target")
        assert len(_results(root)) == 3
    relations_equal(root, model, f"{model}_target")


def test_on_schema_change_fail(tmp_path: Path) -> None:
    """test_run_incremental_fail_on_schema_change: on_schema_change='fail' is a Compilation Error."""
    root = _copy(tmp_path, "on_schema_change")
    run(root, "run", "--models", "model_a incremental_fail", "--full-refresh")
    run(root, "run", "--models", "model_a incremental_fail", expect=1)
    messages = {r["unique_id"]: r["message"] for r in _results(root)}
    assert "Compilation Error" in messages["model.test.incremental_fail"]


# -- microbatch ------------------------------------------------------------------------------------------
MICROBATCH_INPUT = """
{{ config(materialized='table', event_time='event_time') }}
select 1 as id, TIMESTAMP '2020-01-01 00:00:00' as event_time
union all
select 2 as id, TIMESTAMP '2020-01-02 00:00:00' as event_time
union all
select 3 as id, TIMESTAMP '2020-01-03 00:00:00' as event_time
"""
MICROBATCH_MODEL = """
{{ config(materialized='incremental', incremental_strategy='microbatch', unique_key='id', event_time='event_time', batch_size='day', begin=modules.datetime.datetime(2020, 1, 1, 0, 0, 0)) }}
select * from {{ ref('input_model') }}
"""


def test_microbatch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """BaseMicrobatch: each run builds the batches up to its end time, new days only as the clock advances.

    The suite patches the microbatch end time (``patch_microbatch_end_time``); here the clock the
    batches are planned against is patched the same way. The fixture's timestamps are written
    without their `-0` offset, which DuckDB refuses without ICU.
    """
    root = dbt_project(tmp_path / "test", {"models/input_model.sql": MICROBATCH_INPUT,
                                           "models/microbatch_model.sql": MICROBATCH_MODEL})  # fmt: skip
    planned = microbatch.batch_windows

    def at(moment: str, *args: str) -> int:
        now = dt.datetime.fromisoformat(moment).replace(tzinfo=dt.timezone.utc)
        monkeypatch.setattr(microbatch, "batch_windows", lambda build, inc, now_=None: planned(build, inc, now))
        run(root, "run", *args)
        return query(db(root), "select count(*) from microbatch_model")[0][0]

    assert at("2020-01-03 13:57:00") == 3
    assert at("2020-01-03 14:57:00") == 3
    con = duckdb.connect(str(db(root)))
    try:
        con.execute(
            "insert into main.input_model (id, event_time) values "
            "(4, TIMESTAMP '2020-01-04 00:00:00'), (5, TIMESTAMP '2020-01-05 00:00:00')"
        )
    finally:
        con.close()
    assert query(db(root), "select count(*) from input_model") == [(5,)]
    assert at("2020-01-03 14:57:00", "--select", "microbatch_model") == 3
    assert at("2020-01-04 14:57:00", "--select", "microbatch_model") == 4
    assert at("2020-01-05 14:57:00", "--select", "microbatch_model") == 5


# dbt-duckdb's own addition to the on_schema_change suite: new columns whose names need quoting
APPEND_WITH_SPACE = """
{{
    config(
        materialized='incremental',
        unique_key='id',
        on_schema_change='append_new_columns'
    )
}}

{% set string_type = dbt.type_string() %}

WITH source_data AS (SELECT * FROM {{ ref('model_a') }} )

{% if is_incremental()  %}

SELECT id,
       cast(field1 as {{string_type}}) as field1,
       cast(field2 as {{string_type}}) as field2,
       cast(field3 as {{string_type}}) as "field 3",
       cast(field4 as {{string_type}}) as "field 4"
FROM source_data WHERE id NOT IN (SELECT id from {{ this }} )

{% else %}

SELECT id,
       cast(field1 as {{string_type}}) as field1,
       cast(field2 as {{string_type}}) as field2
FROM source_data where id <= 3

{% endif %}
"""


UNQUOTED = (
    "modelkit quotes the columns on_schema_change adds whatever `quoting: identifier` says; dbt-duckdb "
    "writes them unquoted when it is false, so adding `field 3` fails there"
)


@pytest.mark.parametrize(
    ("quote", "expect"),
    [pytest.param(False, 1, marks=pytest.mark.xfail(strict=True, reason=UNQUOTED)), (True, 0)],
)
def test_append_new_columns_with_space(tmp_path: Path, quote: bool, expect: int) -> None:
    """TestIncrementalOnSchemaChangeQuoting{False,True}: adding `field 3` works only with identifiers quoted."""
    root = _copy(tmp_path, "on_schema_change", {"quoting": {"identifier": quote}})
    (root / "models" / "incremental_append_new_columns_with_space.sql").write_text(APPEND_WITH_SPACE)
    select = "model_a incremental_append_new_columns_with_space"
    run(root, "run", "--select", select, "--full-refresh")
    run(root, "run", "--select", select, expect=expect)
    assert _results(root)[-1]["status"] == ("success" if quote else "error")
