"""Unit tests whose inputs were never built: the fixture's columns and types come from what is known
before anything runs (a seed's CSV, a source's declared columns, an upstream model's SQL)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import SAMPLE_PROJECT, embedded_db, query, run_cli

FILES = {
    "seeds/people.csv": "id,name,joined_on\n1,Ann,2024-01-01\n",
    "models/schema.yml": """
        sources:
          - name: raw
            schema: landing
            tables:
              - name: visits
                columns:
                  - {name: person_id, data_type: integer}
                  - {name: visited_at, data_type: timestamp}
        unit_tests:
          - name: dates_from_the_seed_header
            model: next_day
            given:
              - input: ref('people')
                format: csv
                rows: |
                  id,joined_on
                  1,2024-01-31
            expect:
              rows: [{id: 1, next_day: 2024-02-01}]
          - name: types_from_the_source_yaml
            model: visits_per_day
            given:
              - input: source('raw', 'visits')
                rows:
                  - {person_id: 1, visited_at: "2024-03-01 10:00:00"}
                  - {person_id: 2, visited_at: "2024-03-01 23:59:00"}
            expect:
              rows: [{day: 2024-03-01, visits: 2}]
          - name: through_an_unbuilt_model
            model: greeting
            given:
              - input: ref('named')
                rows: [{person_name: Ann, joined_on: 2024-05-05}]
            expect:
              rows: [{hello: hello Ann, joined_year: 2024}]
    """,
    "models/next_day.sql": "select id, joined_on + interval 1 day as next_day from {{ ref('people') }}",
    "models/visits_per_day.sql": (
        "select cast(visited_at as date) as day, count(*) as visits\nfrom {{ source('raw', 'visits') }}\ngroup by 1"
    ),
    "models/named.sql": "select name as person_name, joined_on from {{ ref('people') }}",
    "models/greeting.sql": (
        "select 'hello ' || person_name as hello, year(joined_on) as joined_year from {{ ref('named') }}"
    ),
}


def test_inputs_never_built(project_factory) -> None:
    root = project_factory(FILES)
    result = run_cli("test", "--resource-type", "unit_test", cwd=root)
    assert result.exit_code == 0, result.output
    assert "PASS next_day::dates_from_the_seed_header" in result.output
    assert "PASS visits_per_day::types_from_the_source_yaml" in result.output
    assert "PASS greeting::through_an_unbuilt_model" in result.output
    tables = query(embedded_db(root), "select table_name from information_schema.tables")
    assert tables == []  # nothing was built to find the columns


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ("[{idd: 1}]", "Invalid column name: 'idd' in unit test fixture for 'people'"),
        ("[{id: 1, nam: x}]", "Accepted columns for 'people' are: ['id', 'name', 'joined_on']"),
    ],
)
def test_a_fixture_column_the_seed_lacks(project_factory, rows: str, message: str) -> None:
    files = {k: v for k, v in FILES.items() if k != "models/visits_per_day.sql"}
    files["models/schema.yml"] = f"""
        unit_tests:
          - name: bad
            model: next_day
            given: [{{input: "ref('people')", rows: {rows}}}]
            expect: {{rows: [{{id: 1}}]}}
    """
    root = project_factory(files)
    result = run_cli("test", "--resource-type", "unit_test", cwd=root)
    assert result.exit_code == 1
    assert message in result.output


def test_the_sample_projects_unit_tests_run_on_a_fresh_checkout(tmp_path: Path) -> None:
    root = tmp_path / "shop"
    shutil.copytree(SAMPLE_PROJECT, root, ignore=shutil.ignore_patterns("target", "logs"))
    result = run_cli("test", "--resource-type", "unit_test", cwd=root)
    assert result.exit_code == 0, result.output
    assert "PASS customers::lifetime_value_sums_all_orders" in result.output
    assert "PASS orders::orders_without_payments_have_zero_amount" in result.output
