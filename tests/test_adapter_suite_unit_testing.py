"""dbt's adapter test suite ``unit_testing``, run through the modelkit CLI on DuckDB.

Ported from dbt-tests-adapter's ``unit_testing/test_types.py`` (with the data types dbt-duckdb's
``TestUnitTestingTypesDuckDB`` uses), ``test_case_insensitivity.py``, ``test_invalid_input.py`` and
``test_quoted_reserved_word_column_names.py``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from suite_support import dbt_project, run, statuses

MY_MODEL_SQL = "select\n    tested_column from {{ ref('my_upstream_model')}}\n"
UPSTREAM_SQL = "select\n  {sql_value} as tested_column\n"
TYPES_YML = """
unit_tests:
  - name: test_my_model
    model: my_model
    given:
      - input: ref('my_upstream_model')
        rows:
          - {{ tested_column: {yaml_value} }}
    expect:
      rows:
        - {{ tested_column: {yaml_value} }}
"""

DUCKDB_TYPES = [  # sql_value, yaml_value: dbt-duckdb's TestUnitTestingTypesDuckDB
    ("1", "1"),
    ("2.0", "2.0"),
    ("'12345'", "12345"),
    ("'string'", "string"),
    ("true", "true"),
    ("DATE '2020-01-02'", "2020-01-02"),
    ("TIMESTAMP '2013-11-03 00:00:00-0'", "2013-11-03 00:00:00-0"),
    ("'2013-11-03 00:00:00-0'::TIMESTAMPTZ", "2013-11-03 00:00:00-0"),
    ("{'Alberta':'Edmonton','Manitoba':'Winnipeg'}", "{'Alberta':'Edmonton','Manitoba':'Winnipeg'}"),
    ("ARRAY['a','b','c']", "['a','b','c']"),
    ("ARRAY[1,2,3]", "[1, 2, 3]"),
]


def _unit_test_statuses(root: Path) -> list[str]:
    return [s for uid, s in statuses(root).items() if uid.startswith("unit_test.")]


@pytest.mark.parametrize(("sql_value", "yaml_value"), DUCKDB_TYPES, ids=[t[0] for t in DUCKDB_TYPES])
def test_unit_test_data_type(tmp_path: Path, sql_value: str, yaml_value: str) -> None:
    """BaseUnitTestingTypes: a fixture value of each type equals the model's output of it."""
    files = {
        "models/my_model.sql": MY_MODEL_SQL,
        "models/my_upstream_model.sql": UPSTREAM_SQL.format(sql_value=sql_value),
        "models/schema.yml": TYPES_YML.format(yaml_value=yaml_value),
    }
    root = dbt_project(tmp_path / "test", files)
    run(root, "run", "--select", "my_upstream_model")
    assert len(statuses(root)) == 1
    run(root, "test", "--select", "my_model")
    assert _unit_test_statuses(root) == ["pass"], f"unit test failed when testing model with {sql_value}"


def test_varchar_fixture_not_truncated(tmp_path: Path) -> None:
    """BaseUnitTestingVarcharFixtureNoTruncation: a fixture string longer than the upstream varchar(5)."""
    files = {
        "models/my_model.sql": "select tested_column, length(tested_column) as col_len from {{ ref('my_upstream_model')}}\n",
        "models/my_upstream_model.sql": UPSTREAM_SQL.format(sql_value="cast('short' as varchar(5))"),
        "models/schema.yml": """
unit_tests:
  - name: test_my_model
    model: my_model
    given:
      - input: ref('my_upstream_model')
        rows:
          - {tested_column: "longer_string_value"}
    expect:
      rows:
        - {tested_column: "longer_string_value", col_len: 19}
""",
    }
    root = dbt_project(tmp_path / "test", files)
    run(root, "run", "--select", "my_upstream_model")
    assert len(statuses(root)) == 1
    run(root, "test", "--select", "my_model")
    assert _unit_test_statuses(root) == ["pass"]


def test_case_insensitivity(tmp_path: Path) -> None:
    """BaseUnitTestCaseInsensivity: fixture column names in any case."""
    files = {
        "models/my_model.sql": MY_MODEL_SQL,
        "models/my_upstream_model.sql": "select 1 as tested_column\n",
        "models/unit_tests.yml": """
unit_tests:
  - name: test_my_model
    model: my_model
    given:
      - input: ref('my_upstream_model')
        rows:
          - {tested_column: 1}
          - {TESTED_COLUMN: 2}
          - {tested_colUmn: 3}
    expect:
      rows:
          - {tested_column: 1}
          - {TESTED_COLUMN: 2}
          - {tested_colUmn: 3}
""",
    }
    root = dbt_project(tmp_path / "test", files)
    run(root, "run")
    assert len(statuses(root)) == 2
    run(root, "test")
    assert _unit_test_statuses(root) == ["pass"]


def test_invalid_input(tmp_path: Path) -> None:
    """BaseUnitTestInvalidInput: a fixture column the input or the model does not have is named."""
    files = {
        "models/my_model.sql": MY_MODEL_SQL,
        "models/my_upstream_model.sql": "select 1 as tested_column\n",
        "models/unit_tests.yml": """
unit_tests:
  - name: test_invalid_input_column_name
    model: my_model
    given:
      - input: ref('my_upstream_model')
        rows:
          - {invalid_column_name: 1}
    expect:
      rows:
          - {tested_column: 1}
  - name: test_invalid_expect_column_name
    model: my_model
    given:
      - input: ref('my_upstream_model')
        rows:
          - {tested_column: 1}
    expect:
      rows:
          - {invalid_column_name: 1}
""",
    }
    root = dbt_project(tmp_path / "test", files)
    run(root, "run")
    assert len(statuses(root)) == 2
    out = run(root, "test", "--select", "test_name:test_invalid_input_column_name", expect=1)
    assert "Invalid column name: 'invalid_column_name' in unit test fixture for 'my_upstream_model'." in out
    out = run(root, "test", "--select", "test_name:test_invalid_expect_column_name", expect=1)
    assert "Invalid column name: 'invalid_column_name' in unit test fixture for expected output." in out


def test_quoted_reserved_word_column_names(tmp_path: Path) -> None:
    """BaseUnitTestQuotedReservedWordColumnNames: CSV fixtures with a column named GROUP."""
    files = {
        "models/my_model.sql": "select\n    * from {{ ref('my_upstream_model')}}\n",
        "models/my_upstream_model.sql": 'select 1 as "GROUP"\n',
        "models/unit_tests.yml": """
unit_tests:
  - name: test_my_model
    model: my_model
    given:
      - input: ref('my_upstream_model')
        format: csv
        fixture: input_fixture
    expect:
      format: csv
      fixture: expect_fixture
""",
        "tests/fixtures/input_fixture.csv": "\nGROUP\n1\n2\n3\n",
        "tests/fixtures/expect_fixture.csv": "\nGROUP\n1\n2\n3\n",
    }
    root = dbt_project(tmp_path / "test", files)
    run(root, "run")
    assert len(statuses(root)) == 2
    run(root, "test")
    results = json.loads((root / "target" / "run_results.json").read_text())["results"]
    assert [r["status"] for r in results] == ["pass"]
