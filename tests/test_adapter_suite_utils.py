"""dbt's cross-database macro suite (dbt-tests-adapter ``utils``), run through the modelkit CLI.

Every case of the suite is one folder of ``tests/data/adapter_suite/utils`` (its seeds and models,
as dbt's fixtures give them). They are built together in one dbt project with ``modelkit build``,
as dbt's ``run_dbt(["build"])`` builds each case; each test then checks its own case: every seed,
model and ``assert_equal`` test succeeded, and for the set-operation, array and type cases that the
relations hold what the suite compares. The project is built twice: calling the macros by their
bare names, and through the ``dbt.`` namespace (the suite's ``macro_namespace`` variant).
"""

from __future__ import annotations

import json
import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from conftest import query
from suite_support import BASE_UTILS_MACROS, columns, db, dbt_project, relations_equal, run, statuses

DATA = Path(__file__).parent / "data" / "adapter_suite" / "utils"
CASES = sorted(p.name for p in (DATA / "models").iterdir())
CONFIG = {
    "seeds": {
        "test": {"dateadd": {"data_dateadd": {"+column_types": {"from_time": "timestamp", "result": "timestamp"}}}}
    }
}
# dbt's suite compares relations for these; the other cases are judged by their assert_equal tests
EQUAL_RELATIONS = {
    "except": [
        ("test_except_a_minus_b", "data_except_a_minus_b"),
        ("test_except_b_minus_a", "data_except_b_minus_a"),
        ("test_except_a_minus_a", "data_except_empty"),
        ("test_except_a_minus_empty", "data_except_a"),
        ("test_except_empty_minus_a", "data_except_empty"),
        ("test_except_empty_minus_empty", "data_except_empty"),
    ],
    "intersect": [
        ("test_intersect_a_overlap_b", "data_intersect_a_overlap_b"),
        ("test_intersect_b_overlap_a", "data_intersect_a_overlap_b"),
        ("test_intersect_a_overlap_a", "data_intersect_a"),
        ("test_intersect_a_overlap_empty", "data_intersect_empty"),
        ("test_intersect_empty_overlap_a", "data_intersect_empty"),
        ("test_intersect_empty_overlap_empty", "data_intersect_empty"),
    ],
}
# the cases whose tests are meant to fail (dbt's BaseMixedNullCompare expects `dbt test` to fail)
EXPECTED_FAILURES = {"mixed_null_compare"}
# cases that do not pass on DuckDB, with the reason (dbt-duckdb skips both in its own suite run)
NOT_ON_DUCKDB = {
    "date_spine": "the fixture adds intervals to '2023-09-01' string literals, which DuckDB refuses (dbt-duckdb skips it)",
    "get_intervals_between": "the fixture's '09/01/2023' literals are not dates DuckDB can cast (dbt-duckdb skips it)",
    "type_float": "type_float() is dbt-duckdb's 'float', DuckDB's 4-byte REAL, which holds 1.2345 inexactly unlike "
    "the seed's DOUBLE (dbt-duckdb does not run the data type cases)",
}
MACROS = """any_value bool_or cast cast_bool_to_text concat date date_spine date_trunc dateadd datediff
escape_single_quotes except generate_series get_intervals_between get_powers_of_two hash intersect last_day
length listagg position replace right safe_cast split_part string_literal type_bigint type_boolean type_float
type_int type_numeric type_string type_timestamp array_append array_concat array_construct""".split()


def _namespaced(text: str) -> str:
    """The suite's ``interpolate_macro_namespace``: ``dateadd(`` -> ``dbt.dateadd(``."""
    for name in sorted(MACROS, key=len, reverse=True):
        text = text.replace(f"{{{{ {name}(", f"{{{{ dbt.{name}(").replace(f"{{{{{name}(", f"{{{{dbt.{name}(")
    return text


def _build(root: Path, namespaced: bool) -> dict[str, object]:
    shutil.copytree(DATA, root)
    if namespaced:
        for path in (root / "models").rglob("*.sql"):
            path.write_text(_namespaced(path.read_text()))
    dbt_project(root, BASE_UTILS_MACROS, CONFIG)
    output = run(root, "build", expect=None)
    manifest = json.loads((root / "target" / "manifest.json").read_text())
    return {"root": root, "statuses": statuses(root), "manifest": manifest, "output": output}


@pytest.fixture(scope="module", params=["plain", "dbt_namespace"])
def built(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    return _build(tmp_path_factory.mktemp("utils") / "test", request.param == "dbt_namespace")


def _case_nodes(built: dict[str, object], case: str) -> dict[str, str]:
    """unique_id -> status of the case's seeds, models and the tests on them."""
    manifest = built["manifest"]
    own = {
        uid
        for uid, node in manifest["nodes"].items()  # type: ignore[index]
        if node["resource_type"] in ("model", "seed") and node["original_file_path"].split("/")[1] == case
    }
    tests = {
        uid
        for uid, node in manifest["nodes"].items()  # type: ignore[index]
        if node["resource_type"] == "test" and own & set(node["depends_on"]["nodes"])
    }
    found = built["statuses"]
    return {uid: found.get(uid, "missing") for uid in sorted(own | tests)}  # type: ignore[union-attr]


@pytest.mark.parametrize("case", CASES)
def test_utils_case(built: dict[str, object], case: str) -> None:
    if case in NOT_ON_DUCKDB:
        pytest.xfail(NOT_ON_DUCKDB[case])
    nodes = _case_nodes(built, case)
    assert nodes, f"no nodes for {case}"
    expected_bad = {uid for uid in nodes if uid.startswith("test.")} if case in EXPECTED_FAILURES else set()
    wrong = {
        uid: status for uid, status in nodes.items() if (status not in ("success", "pass")) != (uid in expected_bad)
    }
    assert not wrong, f"{case}: {wrong}\n{built['output']}"
    root = built["root"]
    for actual, expected in EQUAL_RELATIONS.get(case, []):
        relations_equal(root, actual, expected)  # type: ignore[arg-type]
    if case.startswith(("array_", "type_")):  # BaseArrayUtils / BaseDataTypeMacro: contents and types
        relations_equal(root, f"actual_{case}", f"expected_{case}")  # type: ignore[arg-type]
        assert columns(root, f"actual_{case}") == columns(root, f"expected_{case}")  # type: ignore[arg-type]


def test_equals_counts(built: dict[str, object]) -> None:
    """BaseEquals: 3 of the 9 pairs are equal (nulls included), 6 are not."""
    path = db(built["root"])  # type: ignore[arg-type]
    assert query(path, "select count(*) from equal_values where expected = 'same'") == [(3,)]
    assert query(path, "select count(*) from not_equal_values where expected = 'different'") == [(6,)]


def test_current_timestamp(tmp_path: Path) -> None:
    """BaseCurrentTimestampAware / BaseCurrentTimestamps: now() on DuckDB, close to UTC, time-zone aware."""
    root = dbt_project(
        tmp_path / "test",
        {
            "models/current_ts.sql": "select {{ dbt.current_timestamp() }} as current_ts_column",
            "models/get_current_timestamp.sql": """
                select {{ current_timestamp() }} as current_timestamp,
                       {{ current_timestamp_in_utc_backcompat() }} as current_timestamp_in_utc_backcompat,
                       {{ current_timestamp_backcompat() }} as current_timestamp_backcompat
            """,
        },
    )
    run(root, "build")
    value = query(db(root), "select current_ts_column from current_ts")[0][0]
    assert value.tzinfo is not None
    assert abs(value - datetime.now(timezone.utc)) < timedelta(minutes=5)
    assert columns(root, "get_current_timestamp") == [
        ("current_timestamp", "TIMESTAMP WITH TIME ZONE"),
        ("current_timestamp_in_utc_backcompat", "TIMESTAMP"),
        ("current_timestamp_backcompat", "TIMESTAMP"),
    ]
    compiled = (root / "target/compiled/test/models/get_current_timestamp.sql").read_text()
    assert "".join(compiled.split()).lower() == (
        "selectnow()ascurrent_timestamp,current_timestamp::timestampascurrent_timestamp_in_utc_backcompat,"
        "current_timestamp::timestampascurrent_timestamp_backcompat"
    )
