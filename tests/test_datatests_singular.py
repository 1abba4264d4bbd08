"""Singular tests (tests/**/*.sql) and what `modelkit test` selects."""

from __future__ import annotations

from pathlib import Path

from conftest import run_cli

from modelkit import Project


def project(project_factory) -> Path:
    root = project_factory(
        {
            "seeds/raw.csv": "id,amount\n1,10\n2,-5\n",
            "models/staging/stg.sql": "select * from {{ ref('raw') }}\n",
            "models/marts/mart.sql": "{{ config(tags=['mart']) }}\nselect * from {{ ref('stg') }}\n",
            "models/schema.yml": """
                models:
                  - name: stg
                    columns:
                      - name: id
                        data_tests: [unique]
                  - name: mart
                    columns:
                      - name: id
                        data_tests: [not_null]
                unit_tests:
                  - name: mart_keeps_rows
                    model: mart
                    given:
                      - input: ref('stg')
                        rows: [{id: 1, amount: 3}]
                    expect:
                      rows: [{id: 1, amount: 3}]
                data_tests:
                  - name: no_negative_amounts
                    description: Amounts are never negative.
                    config:
                      tags: [money]
            """,
            "tests/no_negative_amounts.sql": "select * from {{ ref('stg') }} where amount < 0;\n",
            "tests/marts/mart_not_empty.sql": """
                {{ config(severity='warn') }}
                select 1 as problem from (select count(*) as n from {{ ref('mart') }}) where n = 0
            """,
            "tests/fixtures/ignored.sql": "this is not a test",
        }
    )
    assert run_cli("seed", cwd=root).exit_code == 0
    assert run_cli("run", cwd=root).exit_code == 0
    return root


def test_singular_tests_fail_on_returned_rows(project_factory) -> None:
    root = project(project_factory)
    result = run_cli("test", "-s", "no_negative_amounts", cwd=root)
    assert result.exit_code == 1
    assert "1 of 1 FAIL 1 no_negative_amounts " in result.output
    assert "Failure in test no_negative_amounts (tests/no_negative_amounts.sql)" in result.output
    assert "compiled code at target/compiled/demo/tests/no_negative_amounts.sql" in result.output
    manifest = Project(root).parse()
    node = manifest.nodes["test.demo.no_negative_amounts"]
    assert node.depends_on_nodes == ["model.demo.stg"]
    assert node.description == "Amounts are never negative."
    assert node.config["tags"] == ["money"]
    assert manifest.nodes["test.demo.mart_not_empty"].fqn == ["demo", "marts", "mart_not_empty"]
    assert not any("ignored" in uid for uid in manifest.nodes)


def test_selecting_a_model_selects_its_tests(project_factory) -> None:
    root = project(project_factory)
    cases = {
        ("-s", "stg"): {"unique_stg_id", "no_negative_amounts", "stg"},
        ("-s", "mart"): {"not_null_mart_id", "mart_not_empty", "mart_keeps_rows"},
        ("-s", "tag:mart"): {"not_null_mart_id", "mart_not_empty", "mart_keeps_rows"},
        ("-s", "tag:money"): {"no_negative_amounts"},
        ("-s", "test_type:unit"): {"mart_keeps_rows"},
        ("-s", "test_type:singular"): {"no_negative_amounts", "mart_not_empty"},
        ("-s", "test_type:generic"): {"unique_stg_id", "not_null_mart_id"},
        ("-s", "test_type:data,mart"): {"not_null_mart_id", "mart_not_empty"},
        ("-s", "test_name:unique"): {"unique_stg_id"},
        ("-s", "stg", "--exclude", "test_type:singular"): {"unique_stg_id"},
    }
    for args, expected in cases.items():
        names = {item["name"] for item in Project(root).ls(args[1:2], args[3:4])}
        assert names - {"stg", "mart"} == expected - {"stg", "mart"}, args
    result = run_cli("test", "-s", "mart", cwd=root)
    assert result.exit_code == 0
    assert "PASS not_null_mart_id " in result.output
    assert "PASS mart_not_empty " in result.output  # mart has rows
    assert "PASS mart::mart_keeps_rows " in result.output
    assert "Finished running 2 data tests, 1 unit test in" in result.output


def test_test_command_ignores_models(project_factory) -> None:
    root = project(project_factory)
    result = run_cli("test", "--threads", "2", cwd=root)
    assert "OK created" not in result.output
    assert "Done. PASS=4 WARN=0 ERROR=1 SKIP=0 NO-OP=0 TOTAL=5" in result.output
    assert result.exit_code == 1
