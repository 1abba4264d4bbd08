"""The flags and commands orchestrators pass: selectors.yml + --selector, --indirect-selection, --resource-type,
ls --output json --output-keys, --store-failures, --warn-error(-options), --empty, run-operation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import embedded_db, query, run_cli

FILES = {
    "seeds/raw.csv": "id,kind\n1,a\n2,b\n",
    "models/a.sql": "select id, kind from {{ ref('raw') }}",
    "models/b.sql": "{{ config(materialized='table', tags=['nightly']) }}\nselect id from {{ ref('a') }}",
    "models/c.sql": "{{ config(materialized='table') }}\nselect id * 10 as id from {{ ref('b') }}",
    "models/d.sql": "{{ config(tags=['nightly']) }}\nselect 1 as id",
    "models/schema.yml": """
        version: 2
        models:
          - name: a
            columns:
              - name: id
                data_tests: [unique]
          - name: b
            columns:
              - name: id
                data_tests:
                  - relationships:
                      arguments: {to: ref('a'), field: id}
          - name: c
            columns:
              - name: id
                data_tests:
                  - accepted_values:
                      arguments: {values: [10]}
                      config: {severity: warn}
    """,
    "macros/ops.sql": """
        {% macro grow(n=1, label='x') %}
          {% call statement('grow') %}create or replace table main.grown as select {{ n }} as n, '{{ label }}' as label{% endcall %}
          {% set rows = run_query('select count(*) from ' ~ ref('a')) %}
          {{ log('a has ' ~ rows.columns[0].values()[0] ~ ' rows', info=True) }}
        {% endmacro %}
        {% macro explode() %}{{ exceptions.raise_compiler_error('it went wrong') }}{% endmacro %}
    """,
}
SELECTORS = """
    selectors:
      - name: nightly_and_up
        definition:
          union:
            - method: tag
              value: nightly
              parents: true
              parents_depth: 1
            - exclude:
                - "d"
      - name: just_c_tree
        definition:
          intersection:
            - method: fqn
              value: b
              children: true
            - "resource_type:model"
      - name: everything_but_a
        default: true
        definition:
          union:
            - method: selector
              value: nightly_and_up
            - "c"
            - exclude: ["a"]
"""


@pytest.fixture
def demo(project_factory) -> Path:
    return project_factory({**FILES, "selectors.yml": SELECTORS})


def names(out: str) -> list[str]:
    return [line.split(".")[-1] for line in out.splitlines() if line.strip()]


def test_yaml_selectors_union_intersection_exclude_depth_and_default(demo: Path) -> None:
    out = run_cli("ls", "--selector", "nightly_and_up", "--resource-type", "model", cwd=demo)
    assert out.exit_code == 0, out.output
    assert sorted(names(out.output)) == ["a", "b"]  # b and its parent a; d excluded
    out = run_cli("ls", "--selector", "just_c_tree", cwd=demo)
    # as in dbt, eager indirect selection applies to each criterion: both bring the tests of b and c
    assert sorted(names(out.output)) == ["accepted_values_c_id__10", "b", "c", "relationships_b_id__id__ref_a_"]
    # default: true applies when nothing is selected
    out = run_cli("ls", "--resource-type", "model", cwd=demo)
    assert sorted(names(out.output)) == ["b", "c"]
    assert run_cli("build", "--selector", "just_c_tree", "--resource-type", "model", cwd=demo).exit_code == 1
    results = json.loads((demo / "target" / "run_results.json").read_text())
    assert results["args"]["selector"] == "just_c_tree"


def test_indirect_selection_modes(demo: Path) -> None:
    def tests_of(*args: str) -> list[str]:
        out = run_cli("ls", "-s", "b", "--resource-type", "test", *args, cwd=demo)
        assert out.exit_code == 0, out.output
        return sorted(names(out.output))

    relationship = "relationships_b_id__id__ref_a_"
    assert tests_of() == [relationship]  # eager: a parent is selected
    assert tests_of("--indirect-selection", "cautious") == []  # a, its other parent, is not
    assert tests_of("--indirect-selection", "buildable") == [relationship]  # a is an ancestor of b
    assert tests_of("--indirect-selection", "empty") == []
    assert run_cli("ls", "-s", "b", "--indirect-selection", "sideways", cwd=demo).exit_code == 2


def test_resource_type_flags_on_build_and_ls(demo: Path) -> None:
    out = run_cli("build", "-s", "a", "b", "raw", "--exclude-resource-type", "test", cwd=demo)
    results = json.loads((demo / "target" / "run_results.json").read_text())["results"]
    assert out.exit_code == 0, out.output
    assert sorted(r["unique_id"].split(".")[0] for r in results) == ["model", "model", "seed"]
    out = run_cli("build", "--resource-type", "seed", "-s", "raw", "a", cwd=demo)
    results = json.loads((demo / "target" / "run_results.json").read_text())["results"]
    assert [r["unique_id"] for r in results] == ["seed.demo.raw"]
    out = run_cli("ls", "-s", "a", "--exclude-resource-type", "model", "--resource-type", "all", cwd=demo)
    assert sorted(names(out.output)) == ["relationships_b_id__id__ref_a_", "unique_a_id"]


def test_ls_json_output_keys_as_cosmos_calls_it(demo: Path) -> None:
    out = run_cli("ls", "--resource-type", "model", "--resource-type", "seed", "--output", "json",
                  "--output-keys", "original_file_path", "fqn", "-q", "-s", "a", "raw", cwd=demo)  # fmt: skip
    assert out.exit_code == 0, out.output
    rows = [json.loads(line) for line in out.output.splitlines()]
    assert {tuple(r) for r in rows} == {("original_file_path", "fqn")}
    assert {r["original_file_path"] for r in rows} == {"models/a.sql", "seeds/raw.csv"}
    out = run_cli("ls", "-s", "a", "--resource-type", "model", "--output", "json", "--output-keys", "name unique_id",
                  cwd=demo)  # fmt: skip
    assert json.loads(out.output) == {"name": "a", "unique_id": "model.demo.a"}


def test_store_failures_keeps_failing_rows(demo: Path) -> None:
    run_cli("seed", "-s", "raw", cwd=demo)
    run_cli("run", "-s", "a", "b", "c", cwd=demo)
    out = run_cli("test", "-s", "c", "--store-failures", cwd=demo)
    assert out.exit_code == 0, out.output  # a warning only
    rows = query(embedded_db(demo), "select * from main_dbt_test__audit.accepted_values_c_id__10")
    assert sorted(r[0] for r in rows) == [20]


def test_warn_error_and_options_fail_warning_tests(demo: Path) -> None:
    run_cli("build", "-s", "raw", "a", "b", "c", "--exclude-resource-type", "test", cwd=demo)
    assert run_cli("test", "-s", "c", cwd=demo).exit_code == 0
    out = run_cli("test", "-s", "c", "--warn-error", cwd=demo)
    assert out.exit_code == 1 and "configured to fail if != 0" in out.output
    assert run_cli("test", "-s", "c", "--warn-error-options", '{"error": ["LogTestResult"]}', cwd=demo).exit_code == 1
    options = '{"error": "all", "warn": ["LogTestResult"]}'
    assert run_cli("test", "-s", "c", "--warn-error-options", options, cwd=demo).exit_code == 0
    out = run_cli("test", "-s", "c", "--warn-error-options", "{bad", cwd=demo)
    assert out.exit_code == 2 and "--warn-error-options" in out.output


def test_empty_builds_every_model_from_zero_rows(demo: Path) -> None:
    run_cli("seed", "-s", "raw", cwd=demo)
    out = run_cli("run", "--empty", "-s", "a", "b", "c", cwd=demo)
    assert out.exit_code == 0, out.output
    assert query(embedded_db(demo), "select count(*) from main.c") == [(0,)]
    compiled = (demo / "target" / "compiled" / "demo" / "models" / "b.sql").read_text()
    assert 'from (select * from "demo"."main"."a" where false limit 0)' in compiled
    assert run_cli("run", "-s", "a", "b", "c", cwd=demo).exit_code == 0
    assert query(embedded_db(demo), "select count(*) from main.c") == [(2,)]


def test_run_operation_with_args_statement_and_run_query(demo: Path) -> None:
    run_cli("seed", "-s", "raw", cwd=demo)
    run_cli("run", "-s", "a", cwd=demo)
    out = run_cli("run-operation", "grow", "--args", '{"n": 3, "label": "yes"}', cwd=demo)
    assert out.exit_code == 0, out.output
    assert "a has 2 rows" in out.output
    assert query(embedded_db(demo), "select n, label from main.grown") == [(3, "yes")]
    results = json.loads((demo / "target" / "run_results.json").read_text())
    assert [r["unique_id"] for r in results["results"]] == ["macro.demo.grow"]
    out = run_cli("run-operation", "explode", cwd=demo)
    assert out.exit_code == 1 and "it went wrong" in out.output


@pytest.mark.parametrize(
    "args, named",
    [
        (("run-operation", "missing_macro"), "missing_macro"),
        (("run-operation", "grow", "--args", "{n: [1"), "--args"),
        (("run-operation", "grow", "--args", "[1, 2]"), "--args"),
        (("build", "--selector", "no_such_selector"), "no_such_selector"),
        (("run", "--log-format", "xml"), "--log-format"),
    ],
)
def test_bad_input_exits_2_naming_the_culprit_and_runs_nothing(demo: Path, args: tuple, named: str) -> None:
    out = run_cli(*args, cwd=demo)
    assert out.exit_code == 2, out.output
    assert named in out.output
    assert not (demo / "target" / "run_results.json").exists()
    assert not embedded_db(demo).exists()


@pytest.mark.parametrize(
    "text",
    ["selectors: [", "selectors:\n  - name: x\n", "selectors:\n  - {name: x, definition: {method: nope, value: 1}}\n"],
)
def test_malformed_selectors_file_exits_2_naming_it(project_factory, text: str) -> None:
    root = project_factory({**FILES, "selectors.yml": text})
    out = run_cli("run", cwd=root)
    assert out.exit_code == 2
    assert "selectors.yml" in out.output
    assert not (root / "target" / "run_results.json").exists()


def test_warn_error_stops_on_a_selection_that_matches_nothing(demo: Path) -> None:
    assert run_cli("run", "-s", "no_such_model", cwd=demo).exit_code == 0
    out = run_cli("run", "-s", "no_such_model", "--warn-error", cwd=demo)
    assert out.exit_code == 2 and "no_such_model" in out.output


def test_printer_width_sets_the_dotted_lines(demo: Path) -> None:
    out = run_cli("seed", "-s", "raw", "--printer-width", "60", cwd=demo)
    line = next(x for x in out.output.splitlines() if "START seed file" in x)
    assert line.split("  ", 1)[1].index(" [RUN]") == 60
