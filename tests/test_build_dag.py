"""`modelkit build`: seeds, models and tests in one DAG; failing tests skip what depends on their node."""

from __future__ import annotations

from pathlib import Path

from conftest import embedded_db, query, run_cli

from modelkit import Project
from modelkit.graph.build import build_dag


def chain(project_factory, severity: str = "error", dup: bool = True) -> Path:
    """raw (seed) -> stg -> mart, plus an independent branch other; stg.id is duplicated when ``dup``."""
    rows = "id\n1\n1\n" if dup else "id\n1\n2\n"
    return project_factory(
        {
            "seeds/raw.csv": rows,
            "models/stg.sql": "select * from {{ ref('raw') }}\n",
            "models/mart.sql": "{{ config(materialized='table') }}\nselect * from {{ ref('stg') }}\n",
            "models/other.sql": "{{ config(materialized='table') }}\nselect 1 as x\n",
            "models/schema.yml": f"""
                models:
                  - name: stg
                    columns:
                      - name: id
                        data_tests:
                          - unique: {{config: {{severity: {severity}}}}}
                  - name: mart
                    columns:
                      - name: id
                        data_tests: [not_null]
            """,
        }
    )


def order_of(output: str, *needles: str) -> list[int]:
    lines = output.splitlines()
    return [next(i for i, line in enumerate(lines) if needle in line) for needle in needles]


def test_tests_run_right_after_their_node(project_factory) -> None:
    root = chain(project_factory, dup=False)
    result = run_cli("build", "--threads", "1", cwd=root)
    assert result.exit_code == 0, result.output
    positions = order_of(
        result.output,
        "OK loaded seed file main.raw",
        "OK created sql view model main.stg",
        "PASS unique_stg_id",
        "OK created sql table model main.mart",
        "PASS not_null_mart_id",
    )
    assert positions == sorted(positions)
    assert "Finished running 1 seed, 2 table models, 2 data tests, 1 view model in" in result.output
    assert "Done. PASS=6 WARN=0 ERROR=0 SKIP=0 NO-OP=0 TOTAL=6" in result.output


def test_error_failure_skips_descendants_only(project_factory) -> None:
    root = chain(project_factory)
    result = run_cli("build", "--threads", "1", cwd=root)
    assert result.exit_code == 1
    out = result.output
    assert "FAIL 1 unique_stg_id " in out
    assert "SKIP relation main.mart " in out
    assert "SKIP test not_null_mart_id " in out
    assert "OK created sql table model main.other" in out
    assert "Done. PASS=3 WARN=0 ERROR=1 SKIP=2 NO-OP=0 TOTAL=6" in out
    tables = {r[0] for r in query(embedded_db(root), "select table_name from information_schema.tables")}
    assert "mart" not in tables and "other" in tables


def test_warning_does_not_block(project_factory) -> None:
    root = chain(project_factory, severity="warn")
    result = run_cli("build", "--threads", "1", cwd=root)
    assert result.exit_code == 0, result.output
    assert "WARN 1 unique_stg_id " in result.output
    assert "OK created sql table model main.mart" in result.output
    assert "Completed with 1 warning:" in result.output


def test_fail_fast_stops_at_the_first_failure(project_factory) -> None:
    root = project_factory(
        {
            "seeds/raw.csv": "id\n1\n1\n",
            "seeds/raw.yml": "seeds:\n  - name: raw\n    columns:\n      - name: id\n        data_tests: [unique]\n",
            # an independent chain: x2 is ready only after the failing test has run
            "models/x0.sql": "select 1 as x\n",
            "models/x1.sql": "select * from {{ ref('x0') }}\n",
            "models/x2.sql": "select * from {{ ref('x1') }}\n",
        }
    )
    without = run_cli("build", "--threads", "1", cwd=root)
    assert "OK created sql view model main.x2" in without.output
    result = run_cli("build", "--threads", "1", "--fail-fast", cwd=root)
    assert result.exit_code == 1
    assert "FAIL 1 unique_raw_id " in result.output
    assert "SKIP relation main.x2 " in result.output
    assert "Done. PASS=3 WARN=0 ERROR=1 SKIP=1 NO-OP=0 TOTAL=5" in result.output


def test_threads_apply_and_give_the_same_result(project_factory) -> None:
    root = chain(project_factory)
    result = run_cli("build", "--threads", "3", cwd=root)
    assert "Concurrency: 3 threads" in result.output
    assert "Done. PASS=3 WARN=0 ERROR=1 SKIP=2 NO-OP=0 TOTAL=6" in result.output


def test_unit_test_runs_before_its_model_and_a_failure_skips_it(project_factory) -> None:
    root = project_factory(
        {
            "seeds/raw.csv": "id\n1\n",
            "models/doubled.sql": "{{ config(materialized='table') }}\nselect id * 2 as twice from {{ ref('raw') }}\n",
            "models/after.sql": "select * from {{ ref('doubled') }}\n",
            "models/unit.yml": """
                unit_tests:
                  - name: doubles
                    model: doubled
                    given:
                      - input: ref('raw')
                        rows: [{id: 2}]
                    expect:
                      rows: [{twice: 5}]
            """,
        }
    )
    result = run_cli("build", "--threads", "1", cwd=root)
    assert result.exit_code == 1
    out = result.output
    first, second = order_of(out, "OK loaded seed file main.raw", "FAIL 1 doubled::doubles")
    assert first < second
    assert "SKIP relation main.doubled " in out and "SKIP relation main.after " in out
    assert "Failure in unit_test doubles (models/unit.yml)" in out
    tables = {r[0] for r in query(embedded_db(root), "select table_name from information_schema.tables")}
    assert "doubled" not in tables


def test_source_reading_a_seed_waits_for_it(project_factory) -> None:
    root = project_factory(
        {
            "seeds/raw_orders.csv": "id\n1\n",
            "models/sources.yml": """
                sources:
                  - name: raw
                    schema: main
                    tables:
                      - name: raw_orders
                        columns:
                          - name: id
                            data_tests: [not_null]
            """,
            "models/stg.sql": "select * from {{ source('raw', 'raw_orders') }}\n",
        }
    )
    result = run_cli("build", "--threads", "4", cwd=root)
    assert result.exit_code == 0, result.output
    seed, test, model = order_of(
        result.output, "OK loaded seed file", "PASS source_not_null_raw_raw_orders_id", "OK created sql view"
    )
    assert seed < test < model


def test_build_dag_edges(project_factory) -> None:
    root = project_factory(
        {
            "seeds/raw.csv": "id\n1\n",
            "models/a.sql": "select * from {{ ref('raw') }}\n",
            "models/b.sql": "select * from {{ ref('a') }}\n",
            "models/c.sql": "select * from {{ ref('b') }}\n",
            "models/schema.yml": """
                models:
                  - name: a
                    columns:
                      - name: id
                        data_tests: [unique]
                unit_tests:
                  - name: ut
                    model: b
                    given: [{input: "ref('a')", rows: []}]
                    expect: {rows: []}
            """,
        }
    )
    with Project(root).session("build") as session:
        manifest = session.manifest
        selected = sorted(manifest.nodes)
        test = next(uid for uid in selected if uid.startswith("test."))
        base = {uid: {p for p in manifest.nodes[uid].depends_on_nodes if p in manifest.nodes} for uid in selected}
        parents, levels = build_dag(manifest, session.graph, base)
    assert parents[test] == {"model.demo.a"}
    assert parents["unit_test.demo.b.ut"] == {"model.demo.a", test}  # b's parents and their tests
    assert parents["model.demo.b"] == {"model.demo.a", test, "unit_test.demo.b.ut"}
    assert parents["model.demo.c"] == {"model.demo.b"}  # waits for the test through b
    assert levels["seed.demo.raw"] < levels["model.demo.a"] < levels[test] < levels["model.demo.b"]


def test_python_api_test_and_build(project_factory) -> None:
    project = Project(chain(project_factory))
    built = project.build(threads=1)
    assert not built.success
    statuses = {r.unique_id.split(".")[-2 if r.unique_id.startswith("test.") else -1]: r.status for r in built.results}
    assert statuses["unique_stg_id"] == "fail" and statuses["mart"] == "skipped" and statuses["other"] == "success"
    tested = project.test(select=["stg"])
    assert [(r.status, r.failures) for r in tested.results] == [("fail", 1)]
