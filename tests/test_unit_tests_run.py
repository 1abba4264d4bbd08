"""Unit tests in YAML: fixture inputs as CTEs, expected rows, overrides, and a readable diff on failure."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import embedded_db, query, run_cli
from packages_support import make_projects

from modelkit.adapters.sql import literal
from modelkit.testing.unitdata import diff_table, fixture_rows

MODEL = """
{{ config(materialized='incremental') }}
select id, amount * {{ var('factor', 1) }} as amount, {{ tax('amount') }} as tax
from {{ ref('raw') }}
{% if is_incremental() %}where id > (select max(id) from {{ this }}){% endif %}
"""


def project(project_factory, unit_yml: str, extra: dict[str, str] | None = None, seed: bool = True) -> Path:
    files = {
        "seeds/raw.csv": "id,amount,note\n1,10,a\n",
        "macros/tax.sql": "{% macro tax(col) %}round({{ col }} * 0.2, 2){% endmacro %}\n",
        "models/priced.sql": MODEL,
        "models/unit.yml": unit_yml,
    }
    files.update(extra or {})
    root = project_factory(files)
    if seed:
        assert run_cli("seed", cwd=root).exit_code == 0
    return root


PASSING = """
unit_tests:
  - name: dict_rows
    model: priced
    given:
      - input: ref('raw')
        rows:
          - {id: 1, amount: 10}
          - {id: 2, amount: 5}
    expect:
      rows:  # only the columns of the first row are compared
        - {id: 2, amount: 5}
        - {id: 1, amount: 10, tax: 999}
  - name: csv_rows_and_var_override
    model: priced
    overrides:
      vars: {factor: 3}
    given:
      - input: ref('raw')
        format: csv
        rows: |
          id,amount
          1,10
          2,
    expect:
      format: csv
      rows: |
        id,amount
        1,30
        2,
  - name: incremental_branch
    model: priced
    overrides:
      macros: {is_incremental: true}
    given:
      - input: ref('raw')
        rows: [{id: 1, amount: 1}, {id: 5, amount: 2}]
      - input: this
        rows: [{id: 3}]
    expect:
      rows: [{id: 5}]
  - name: sql_rows_and_fixture_file
    model: priced
    given:
      - input: ref('raw')
        format: sql
        rows: select 7 as id, 1.5 as amount, 'x' as note
    expect:
      format: csv
      fixture: expected_priced
"""


def test_passing_unit_tests(project_factory) -> None:
    root = project(project_factory, PASSING, {"tests/fixtures/expected_priced.csv": "id,amount\n7,1.5\n"})
    result = run_cli("test", "-s", "test_type:unit", "--threads", "1", cwd=root)
    assert result.exit_code == 0, result.output
    for name in ("dict_rows", "csv_rows_and_var_override", "incremental_branch", "sql_rows_and_fixture_file"):
        assert f"PASS priced::{name} " in result.output
    assert "Finished running 4 unit tests in" in result.output
    compiled = (root / "target/compiled/demo/models/unit.yml/models/dict_rows.sql").read_text()
    assert compiled.startswith("with __dbt__cte__raw as (")
    assert 'cast(null as VARCHAR) as "note"' in compiled  # unlisted columns are NULL of the input's type
    tables = {r[0] for r in query(embedded_db(root), "select table_name from information_schema.tables")}
    assert "priced" not in tables  # nothing built


FAILING = """
unit_tests:
  - name: wrong_amounts
    model: priced
    given:
      - input: ref('raw')
        rows:
          - {id: 1, amount: 10}
          - {id: 2, amount: 6}
    expect:
      rows:
        - {id: 1, amount: 10}
        - {id: 2, amount: 7}
        - {id: 3, amount: 7}
"""


def test_failing_unit_test_shows_a_diff(project_factory) -> None:
    root = project(project_factory, FAILING)
    result = run_cli("test", cwd=root)
    assert result.exit_code == 1
    out = result.output
    assert "FAIL 1 priced::wrong_amounts " in out
    assert "Failure in unit_test wrong_amounts (models/unit.yml)" in out
    assert "  actual differs from expected:" in out
    assert "  @@ ,id,amount" in out
    assert "     ,1 ,10" in out
    assert "  →  ,2 ,7→6" in out
    assert "  ---,3 ,7" in out
    assert "compiled code at target/compiled/demo/models/unit.yml/models/wrong_amounts.sql" in out


@pytest.mark.parametrize(
    ("unit_yml", "message"),
    [
        (
            """
            unit_tests:
              - name: no_input
                model: priced
                given: []
                expect: {rows: [{id: 1}]}
            """,
            "gives no rows for ref('raw'), which model 'priced' reads",
        ),
        (
            """
            unit_tests:
              - name: bad_column
                model: priced
                given: [{input: "ref('raw')", rows: [{idd: 1}]}]
                expect: {rows: [{id: 1}]}
            """,
            "Invalid column name: 'idd' in unit test fixture for 'raw'",
        ),
        (
            """
            unit_tests:
              - name: bad_expected_column
                model: priced
                given: [{input: "ref('raw')", rows: [{id: 1}]}]
                expect: {rows: [{total: 1}]}
            """,
            "Invalid column name: 'total' in unit test fixture for expected output.",
        ),
    ],
)
def test_unit_test_errors(project_factory, unit_yml: str, message: str) -> None:
    result = run_cli("test", cwd=project(project_factory, unit_yml))
    assert result.exit_code == 1
    assert message in result.output
    assert "ERROR priced::" in result.output


@pytest.mark.parametrize(
    ("unit_yml", "message"),
    [
        (
            "unit_tests:\n  - name: x\n    model: pricd\n    given: []\n    expect: {rows: []}\n",
            "Did you mean 'priced'?",
        ),
        (
            "unit_tests:\n  - name: x\n    model: priced\n    given: [{input: \"ref('nope')\", rows: []}]\n    expect: {rows: []}\n",
            "input ref('nope') names no model, seed or snapshot",
        ),
        (
            "unit_tests:\n  - name: x\n    model: priced\n    given: [{input: raw, rows: []}]\n    expect: {rows: []}\n",
            "is not ref('...'), source('...', '...') or this",
        ),
        (
            "unit_tests:\n  - name: x\n    model: priced\n    given: []\n    expect: {rows: [1, 2]}\n",
            "`rows` must be a list of mappings",
        ),
    ],
)
def test_unit_test_parse_errors(project_factory, unit_yml: str, message: str) -> None:
    result = run_cli("test", cwd=project(project_factory, unit_yml, seed=False))
    assert result.exit_code == 2
    assert "Parsing Error (models/unit.yml:2)" in result.output and message in result.output
    assert "> 2 |   - name: x" in result.output


def test_helpers() -> None:
    import datetime

    assert [literal(v) for v in (None, True, 3, 1.5, "o'k", datetime.date(2024, 1, 2))] == [
        "null",
        "true",
        "3",
        "1.5",
        "'o''k'",
        "'2024-01-02'",
    ]
    assert fixture_rows("  a,b\n  1,\n", "csv") == [{"a": "1", "b": None}]
    assert diff_table(["k"], [(1,), (2,)], [(1,), (2,)]) == "@@ ,k\n   ,1\n   ,2"
    assert diff_table(["k", "v"], [(1, None)], [(2, "x")]) == "@@ ,k,v\n---,1,NULL\n+++,2,x"


def test_source_and_ephemeral_inputs_and_env_var_override(project_factory) -> None:
    root = project_factory(
        {
            "seeds/raw.csv": "id,v\n1,a\n",
            "models/e.sql": "{{ config(materialized='ephemeral') }}\nselect * from {{ source('s', 'raw') }}\n",
            "models/m.sql": "select * from {{ ref('e') }} where v <> '{{ env_var('SKIP_V', 'zz') }}'\n",
            "models/s.yml": """
                sources:
                  - name: s
                    schema: main
                    tables: [{name: raw}]
                unit_tests:
                  - name: skips_b
                    model: m
                    overrides:
                      env_vars: {SKIP_V: b}
                    given:
                      - input: ref('e')
                        format: sql
                        rows: "select 1 as id, 'a' as v union all select 2, 'b'"
                    expect:
                      rows: [{id: 1}]
                  - name: reads_source
                    model: e
                    given:
                      - input: source('s', 'raw')
                        rows: [{id: 5}]
                    expect:
                      rows: [{id: 5, v: null}]
            """,
        }
    )
    assert run_cli("seed", cwd=root).exit_code == 0
    result = run_cli("test", cwd=root)
    assert result.exit_code == 0, result.output
    assert "PASS m::skips_b " in result.output and "PASS e::reads_source " in result.output
    compiled = (root / "target/compiled/demo/models/s.yml/models/reads_source.sql").read_text()
    assert "with __dbt__cte__s_raw as (" in compiled


def test_override_of_a_package_macro_holds_inside_the_package(tmp_path: Path) -> None:
    # as audit_helper's own unit tests override `audit_helper._get_comparison_bounds`, which another of its
    # macros calls through the package's name; an unqualified override replaces the root project's macro
    acme_macros = """
        {% macro acme_bounds() %}{{ return({'low': 0, 'high': 100}) }}{% endmacro %}
        {% macro acme_between(col) %}
          {%- set b = acme.acme_bounds() -%}{{ col }} between {{ b['low'] }} and {{ b['high'] }}
        {%- endmacro %}
    """
    root = make_projects(
        tmp_path,
        root={
            "macros/cap.sql": "{% macro cap() %}50{% endmacro %}\n",
            "models/kept.sql": "select id, least(id, {{ cap() }}) as capped from (select 1 as id) where {{ acme.acme_between('id') }}\n",
            "models/unit.yml": """
                unit_tests:
                  - name: narrow_bounds
                    model: kept
                    overrides:
                      macros:
                        acme.acme_bounds: {low: 5, high: 6}
                        cap: 5
                    given: []
                    expect:
                      rows: []
                  - name: real_bounds
                    model: kept
                    given: []
                    expect:
                      rows: [{id: 1, capped: 1}]
            """,
        },
        acme={"macros/bounds.sql": acme_macros},
    )
    args = ("--project-dir", str(root), "--profiles-dir", str(root))
    out = run_cli("test", "-s", "test_type:unit", *args)
    assert out.exit_code == 0, out.output
    compiled = (root / "target/compiled/demo/models/unit.yml/models/narrow_bounds.sql").read_text()
    assert "least(id, 5)" in compiled and "id between 5 and 6" in compiled
    compiled = (root / "target/compiled/demo/models/unit.yml/models/real_bounds.sql").read_text()
    assert "least(id, 50)" in compiled and "id between 0 and 100" in compiled


def test_build_runs_a_model_s_unit_tests_in_turn_and_skips_the_rest_after_a_failure(project_factory) -> None:
    # dbt's build runs the unit tests of one model one after another: after the first that fails, the
    # others and the model are skipped
    tests = "\n".join(
        f"""
  - name: case_{i}
    model: priced
    given:
      - input: ref('raw')
        rows: [{{id: 1, amount: 10}}]
    expect:
      rows: [{{id: 1, amount: {10 if i != 1 else 11}}}]"""
        for i in range(4)
    )
    root = project(project_factory, "unit_tests:" + tests, seed=False)
    out = run_cli("build", "--threads", "4", cwd=root)
    assert out.exit_code == 1
    statuses = {r["unique_id"].rsplit(".", 1)[-1]: r["status"] for r in _results(root)}
    assert statuses == {
        "raw": "success", "case_0": "pass", "case_1": "fail", "case_2": "skipped", "case_3": "skipped",
        "priced": "skipped",
    }  # fmt: skip


def _results(root: Path) -> list[dict]:
    return json.loads((root / "target" / "run_results.json").read_text())["results"]
