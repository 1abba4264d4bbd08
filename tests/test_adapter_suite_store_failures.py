"""dbt's adapter test suite ``store_test_failures_tests``, run through the modelkit CLI on DuckDB.

Ported from dbt-tests-adapter's ``store_test_failures_tests/test_store_test_failures.py`` (the class
dbt-duckdb runs, ``TestStoreTestFailures``, and ``BaseStoreTestFailuresLimit``) and ``basic.py``
(the ``store_failures_as`` classes). The fixtures are the suite's files
(tests/data/adapter_suite/store_test_failures/).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import query
from suite_support import db, dbt_project, relations_equal, run, statuses

DATA = Path(__file__).parent / "data" / "adapter_suite" / "store_test_failures"
AUDIT = "main_dbt_test__aud"


def _text(name: str) -> str:
    return (DATA / name).read_text()


def _results(root: Path) -> list[dict]:
    return json.loads((root / "target" / "run_results.json").read_text())["results"]


def _store_failures_project(tmp_path: Path) -> Path:
    seeds = [
        "people",
        "expected_accepted_values",
        "expected_failing_test",
        "expected_not_null_problematic_model_id",
        "expected_unique_problematic_model_id",
    ]
    files = {f"seeds/{name}.csv": _text(f"seeds/{name}.csv") for name in seeds}
    files.update(
        {
            "tests/failing_test.sql": "select * from {{ ref('fine_model') }}\n",
            "tests/passing_test.sql": "select * from {{ ref('fine_model') }}\nwhere false\n",
            "models/schema.yml": _text("schema.yml"),
            "models/fine_model.sql": "select * from {{ ref('people') }}\n",
            "models/fine_model_but_with_a_no_good_very_long_name.sql": "select 1 as quite_long_column_name\n",
            "models/problematic_model.sql": _text("problematic_model.sql"),
        }
    )
    bigint = {"+column_types": {"n_records": "bigint"}}
    config = {
        "seeds": {
            "quote_columns": False,
            "test": {"expected_unique_problematic_model_id": bigint, "expected_accepted_values": bigint},
        },
        "data_tests": {"+schema": "dbt_test__aud"},
    }
    root = dbt_project(tmp_path / "test", files, config)
    run(root, "seed")
    run(root, "run")
    return root


def test_store_and_assert(tmp_path: Path) -> None:
    """BaseStoreTestFailures.test__store_and_assert."""
    root = _store_failures_project(tmp_path)
    # run_tests_store_one_failure: one test is configured with store_failures: true
    run(root, "test", expect=1)
    relations_equal(root, f"{AUDIT}.unique_problematic_model_id", "expected_unique_problematic_model_id")
    # run_tests_store_failures_and_assert: idempotent for all tests
    run(root, "test", "--store-failures", expect=1)
    run(root, "test", "--store-failures", expect=1)
    actual = sorted((r["status"], r["failures"]) for r in _results(root))
    expected = sorted([("pass", 0)] * 4 + [("fail", 2)] * 3 + [("fail", 10)])
    assert actual == expected
    relations_equal(root, f"{AUDIT}.failing_test", "expected_failing_test")
    relations_equal(root, f"{AUDIT}.not_null_problematic_model_id", "expected_not_null_problematic_model_id")
    relations_equal(root, f"{AUDIT}.unique_problematic_model_id", "expected_unique_problematic_model_id")
    relations_equal(
        root, f"{AUDIT}.accepted_values_problematic_mo_c533ab4ca65c1a9dbf14f79ded49b628", "expected_accepted_values"
    )


def test_store_limit(tmp_path: Path) -> None:
    """BaseStoreTestFailuresLimit: a test's ``limit`` caps both its failure count and its stored rows."""
    files = {"seeds/people.csv": _text("seeds/people.csv"), "seeds/_seeds.yml": _text("seeds.yml")}
    root = dbt_project(tmp_path / "test", files)
    run(root, "seed")
    run(root, "test", expect=1)
    (result,) = _results(root)
    assert result["failures"] == 4
    relation_name = result["relation_name"]
    assert relation_name
    assert query(db(root), f"select count(*) as cnt from {relation_name}") == [(4,)]


# -- store_failures_as (basic.py) --------------------------------------------------------------------
def _relation_type(root: Path, schema: str, name: str) -> str | None:
    found = query(
        db(root),
        f"select table_type from information_schema.tables where table_schema = '{schema}' and table_name = '{name}'",
    )
    if not found:
        return None
    return {"BASE TABLE": "table", "VIEW": "view"}[found[0][0]]


def _store_as_project(tmp_path: Path, tests: dict[str, str], config: dict | None = None, generic: bool = False) -> Path:
    files = {
        "seeds/chipmunks_stage.csv": _text("seeds/chipmunks_stage.csv"),
        "models/chipmunks.sql": "{{ config(materialized='table') }}\nselect *\nfrom {{ ref('chipmunks_stage') }}\n",
    }
    if generic:
        files["models/schema.yml"] = _text("chipmunks_schema.yml")
    files.update({f"tests/{name}.sql": _text(f"tests/{fixture}.sql") for name, fixture in tests.items()})
    root = dbt_project(tmp_path / "test", files, config)
    run(root, "seed")
    run(root, "run")
    return root


def _run_and_assert(root: Path, expected: dict[str, tuple[str, str | None]], expect: int = 1) -> None:
    """StoreTestFailuresAsBase.run_and_assert: statuses, and each test's relation type (None: none stored)."""
    run(root, "test", expect=expect)
    actual = {r["unique_id"].split(".")[2]: r["status"] for r in _results(root)}
    assert actual == {name: status for name, (status, _) in expected.items()}
    for name, (_, kind) in expected.items():
        assert _relation_type(root, "main_dbt_test__audit", name) == kind, name


INTERACTIONS = {  # test name: (fixture, expected status, expected relation type)
    "view_unset_pass": ("view_unset_pass", "pass", "view"),
    "view_true": ("view_true", "fail", "view"),
    "view_false": ("view_false", "fail", "view"),
    "view_unset": ("view_unset", "fail", "view"),
    "table_true": ("table_true", "fail", "table"),
    "table_false": ("table_false", "fail", "table"),
    "table_unset": ("table_unset", "fail", "table"),
    "ephemeral_true": ("ephemeral_true", "fail", None),
    "ephemeral_false": ("ephemeral_false", "fail", None),
    "ephemeral_unset": ("ephemeral_unset", "fail", None),
    "unset_true": ("unset_true", "fail", "table"),
    "unset_false": ("unset_false", "fail", None),
    "unset_unset": ("unset_unset", "fail", None),
}


@pytest.mark.parametrize(
    ("cases", "config"),
    [
        (INTERACTIONS, None),  # StoreTestFailuresAsInteractions
        (  # StoreTestFailuresAsProjectLevelOff
            {
                "results_view": ("view_unset", "fail", "view"),
                "results_table": ("table_unset", "fail", "table"),
                "results_ephemeral": ("ephemeral_unset", "fail", None),
                "results_unset": ("unset_unset", "fail", None),
            },
            {"data_tests": {"store_failures": False}},
        ),
        (  # StoreTestFailuresAsProjectLevelView
            {
                "results_true": ("view_true", "fail", "view"),
                "results_false": ("view_false", "fail", "view"),
                "results_unset": ("view_unset", "fail", "view"),
            },
            {"data_tests": {"store_failures_as": "view"}},
        ),
        (  # StoreTestFailuresAsProjectLevelEphemeral
            {
                "results_unset": ("unset_unset", "fail", None),
                "results_true": ("unset_true", "fail", None),
                "results_view": ("view_unset", "fail", "view"),
            },
            {"data_tests": {"store_failures_as": "ephemeral", "store_failures": True}},
        ),
    ],
    ids=["interactions", "project_level_off", "project_level_view", "project_level_ephemeral"],
)
def test_store_failures_as(tmp_path: Path, cases: dict, config: dict | None) -> None:
    root = _store_as_project(tmp_path, {name: fixture for name, (fixture, _, _) in cases.items()}, config)
    _run_and_assert(root, {name: (status, kind) for name, (_, status, kind) in cases.items()})


def test_store_failures_as_generic(tmp_path: Path) -> None:
    """StoreTestFailuresAsGeneric: ``store_failures_as`` on generic tests in YAML."""
    root = _store_as_project(tmp_path, {}, generic=True)
    _run_and_assert(
        root,
        {
            "not_null_chipmunks_name": ("pass", "view"),
            "accepted_values_chipmunks_name__alvin__simon__theodore": ("fail", "table"),
            "not_null_chipmunks_shirt": ("fail", "view"),
        },
    )


def test_store_failures_as_exceptions(tmp_path: Path) -> None:
    """StoreTestFailuresAsExceptions: an unknown ``store_failures_as`` is a compilation error naming the values."""
    root = _store_as_project(tmp_path, {"store_failures_as_error": "error_unset"})
    run(root, "test", expect=1)
    assert len(statuses(root)) == 1
    (result,) = _results(root)
    assert "Compilation Error" in result["message"]
    assert "'error' is not a valid value" in result["message"]
    assert "Accepted values are: ['ephemeral', 'table', 'view']" in result["message"]
