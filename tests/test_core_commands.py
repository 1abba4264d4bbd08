"""Every core command through the CLI: output lines, files written and exit codes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO, embedded_db, query, run_cli

FLOOR = REPO / "benchmarks" / "floor.py"

BRANCHY = {
    "models/a.sql": "select 1 as id",
    "models/bad.sql": "select * from {{ ref('a') }} where missing_column = 1",
    "models/after_bad.sql": "select * from {{ ref('bad') }}",
    "models/after_after.sql": "select * from {{ ref('after_bad') }}",
    "models/independent.sql": "{{ config(materialized='table') }}select * from {{ ref('a') }}",
}


def test_failure_skips_descendants_and_exits_1(project_factory) -> None:
    root = project_factory(BRANCHY)
    # the run's own failure handling (static analysis would find the missing column before anything runs)
    out = run_cli("run", "--threads", "2", "--static-analysis", "off", cwd=root)
    assert out.exit_code == 1
    assert "ERROR creating sql view model main.bad" in out.output
    assert "SKIP relation main.after_bad" in out.output and "SKIP relation main.after_after" in out.output
    assert "OK created sql table model main.independent" in out.output
    assert "Failure in model bad (models/bad.sql)" in out.output
    assert "compiled code at target/compiled/demo/models/bad.sql" in out.output
    assert "Done. PASS=2 WARN=0 ERROR=1 SKIP=2 NO-OP=0 TOTAL=5" in out.output
    results = json.loads((root / "target" / "run_results.json").read_text())
    status = {r["unique_id"]: r["status"] for r in results["results"]}
    assert status == {
        "model.demo.a": "success", "model.demo.bad": "error", "model.demo.after_bad": "skipped",
        "model.demo.after_after": "skipped", "model.demo.independent": "success",
    }  # fmt: skip
    ok = next(r for r in results["results"] if r["unique_id"] == "model.demo.a")
    assert ok["message"] == "OK" and ok["execution_time"] >= 0 and ok["adapter_response"] == {"_message": "OK"}
    assert [t["name"] for t in ok["timing"]] == ["compile", "execute"]
    assert results["metadata"]["dbt_schema_version"].endswith("run-results/v6.json")


def test_fail_fast_stops_early(project_factory) -> None:
    files = {f"models/m{i}.sql": "select 1 as id" for i in range(5)}
    files["models/bad.sql"] = "select nope"
    root = project_factory(files)
    out = run_cli("run", "--threads", "1", "--fail-fast", "-s", "bad", "m1", "m2", cwd=root)
    assert out.exit_code == 1
    statuses = {
        r["unique_id"]: r["status"] for r in json.loads((root / "target" / "run_results.json").read_text())["results"]
    }
    assert statuses["model.demo.bad"] == "error"
    assert set(statuses) == {"model.demo.bad", "model.demo.m1", "model.demo.m2"}


def test_threads_give_same_tables(project_factory) -> None:
    files = {"models/root.sql": "select range as id from range(100)"}
    for i in range(30):
        files[f"models/m{i}.sql"] = (
            f"{{{{ config(materialized='table') }}}}select id + {i} as id from {{{{ ref('root') }}}}"
        )
    files["models/total.sql"] = "{{ config(materialized='table') }}" + " union all ".join(
        f"select sum(id) as s from {{{{ ref('m{i}') }}}}" for i in range(30)
    )
    sums = []
    for threads in ("1", "4"):
        root = project_factory(files, name=f"t{threads}")
        out = run_cli("run", "--threads", threads, cwd=root)
        assert out.exit_code == 0, out.output
        sums.append(query(embedded_db(root, f"t{threads}"), "select sum(s) from total"))
    assert sums[0] == sums[1] == [(sum(sum(range(100)) + 100 * i for i in range(30)),)]


def test_parse_compile_ls_show_clean(project_factory) -> None:
    root = project_factory(
        {
            "models/a.sql": "select 1 as id, 'x' as name",
            "models/b.sql": "{{ config(tags=['t']) }}select * from {{ ref('a') }}",
            "analyses/an.sql": "select count(*) from {{ ref('b') }}",
        }
    )
    out = run_cli("parse", cwd=root)
    assert out.exit_code == 0 and "Found 2 models, 1 analysis" in out.output
    assert (root / "target" / "manifest.json").exists()

    out = run_cli("compile", cwd=root)
    assert out.exit_code == 0, out.output
    assert (root / "target/compiled/demo/models/b.sql").read_text() == 'select * from "demo"."main"."a"'
    assert (root / "target/compiled/demo/analyses/an.sql").read_text() == 'select count(*) from "demo"."main"."b"'

    out = run_cli("compile", "--inline", "select * from {{ ref('b') }}", cwd=root)
    assert 'select * from "demo"."main"."b"' in out.output

    out = run_cli("ls", cwd=root)
    assert out.output.split() == ["demo.an", "demo.a", "demo.b"] or set(out.output.split()) == {
        "demo.an",
        "demo.a",
        "demo.b",
    }
    out = run_cli("ls", "-s", "tag:t", "--output", "json", cwd=root)
    item = json.loads(out.output.strip())
    assert item["unique_id"] == "model.demo.b" and item["resource_type"] == "model" and item["config"]["tags"] == ["t"]
    out = run_cli("ls", "--resource-type", "model", "--output", "name", cwd=root)
    assert sorted(out.output.split()) == ["a", "b"]

    assert run_cli("run", cwd=root).exit_code == 0
    out = run_cli("show", "-s", "b", cwd=root)
    assert "Previewing node 'b':" in out.output and "| id | name |" in out.output and "| 1  | x    |" in out.output
    out = run_cli("show", "--inline", "select 40 + 2 as answer", cwd=root)
    assert "| answer |" in out.output and "| 42     |" in out.output

    out = run_cli("clean", cwd=root)
    assert out.exit_code == 0 and not (root / "target").exists()


def test_init_scaffolds_a_working_project(tmp_path: Path) -> None:
    out = run_cli("init", "fresh", cwd=tmp_path)
    assert out.exit_code == 0, out.output
    root = tmp_path / "fresh"
    assert "target/" in (root / ".gitignore").read_text()
    ran = run_cli("run", cwd=root)
    assert ran.exit_code == 0, ran.output
    assert query(embedded_db(root, "fresh"), "select label from my_second_model") == [("FIRST",)]
    again = run_cli("init", "fresh", cwd=tmp_path)
    assert again.exit_code == 2 and "already exists" in again.output


def test_debug_reports_config_and_connection(project_factory) -> None:
    root = project_factory({"models/a.sql": "select 1"})
    out = run_cli("debug", cwd=root)
    assert out.exit_code == 0, out.output
    assert "adapter type: duckdb" in out.output and "profiles.yml file [OK none needed]" in out.output
    assert "Connection test: [OK connection ok]" in out.output and "All checks passed!" in out.output


def test_usage_errors_exit_2(project_factory) -> None:
    root = project_factory({"models/a.sql": "select 1"})
    assert run_cli("run", "--bogus", cwd=root).exit_code == 2
    bad_select = run_cli("run", "-s", "bogus:x", cwd=root)
    assert bad_select.exit_code == 2 and "Unknown selection method 'bogus'" in bad_select.output
    bad_vars = run_cli("run", "--vars", "[1, 2]", cwd=root)
    assert bad_vars.exit_code == 2 and "--vars must be a mapping" in bad_vars.output


def test_no_match_selection_is_not_an_error(project_factory) -> None:
    root = project_factory({"models/a.sql": "select 1"})
    out = run_cli("run", "-s", "nothing", cwd=root)
    assert out.exit_code == 0
    assert "The selection criterion 'nothing' does not match any enabled nodes" in out.output
    assert "Nothing to do." in out.output


def test_debug_flag_shows_traceback(project_factory) -> None:
    root = project_factory({"models/a.sql": "select * from {{ ref('zzz') }}"})
    plain = subprocess.run([sys.executable, "-m", "modelkit.cli", "run"], cwd=root, capture_output=True, text=True)
    assert plain.returncode == 2 and "Traceback" not in plain.stdout + plain.stderr
    assert "which was not found" in plain.stdout
    debug = subprocess.run(
        [sys.executable, "-m", "modelkit.cli", "run", "--debug"], cwd=root, capture_output=True, text=True
    )
    assert debug.returncode == 2 and "Traceback" in debug.stderr


def test_colors_follow_no_color(project_factory) -> None:
    root = project_factory({"models/a.sql": "select 1"})
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    colored = subprocess.run(
        [sys.executable, "-m", "modelkit.cli", "run", "--use-colors"],
        cwd=root,
        capture_output=True,
        text=True,
        env={**env, "FORCE_COLOR": "1"},
    )
    assert "\x1b[" in colored.stdout
    plain = subprocess.run(
        [sys.executable, "-m", "modelkit.cli", "run", "--use-colors"],
        cwd=root,
        capture_output=True,
        text=True,
        env={**env, "FORCE_COLOR": "1", "NO_COLOR": "1"},
    )
    assert "\x1b[" not in plain.stdout and "OK created sql view model main.a" in plain.stdout


def test_manifest_feeds_the_floor_script(project_factory, tmp_path: Path) -> None:
    root = project_factory(
        {
            "seeds/raw.csv": "id\n1\n2\n",
            "models/v.sql": "select * from {{ ref('raw') }}",
            "models/e.sql": "{{ config(materialized='ephemeral') }}select * from {{ ref('v') }}",
            "models/t.sql": "{{ config(materialized='table') }}select count(*) as n from {{ ref('e') }}",
            "models/t.yml": """
                models:
                  - name: t
                    columns:
                      - name: n
                        data_tests:
                          - not_null
                          - accepted_values:
                              arguments:
                                values: [5]
            """,
        }
    )
    assert run_cli("seed", cwd=root).exit_code == 0
    seeded = tmp_path / "seeded.duckdb"
    shutil.copy(embedded_db(root), seeded)
    before = seeded.read_bytes()
    assert run_cli("compile", cwd=root).exit_code == 0
    manifest = str(root / "target" / "manifest.json")
    for extra in ([], ["--tests", "--single-transaction"]):
        floor = subprocess.run(
            [sys.executable, str(FLOOR), "--manifest", manifest, "--db", str(seeded), *extra],
            capture_output=True, text=True,
        )  # fmt: skip
        assert floor.returncode == 0, floor.stderr
        assert "models: 2 statements in " in floor.stdout  # the ephemeral model is inlined in t
        assert ("tests: 2 queries in " in floor.stdout) == bool(extra)
    assert "(1 of them returned rows)" in floor.stdout  # n is 2, not 5
    assert seeded.read_bytes() == before  # the statements ran on a copy


def test_progress_bar_on_terminals_for_long_runs(project_factory) -> None:
    import io

    from rich.console import Console

    from modelkit import Project
    from modelkit.cli.output import PROGRESS_MIN_NODES, ConsoleReporter

    root = project_factory({f"models/m{i}.sql": "select 1 as id" for i in range(PROGRESS_MIN_NODES)})
    buffer = io.StringIO()
    reporter = ConsoleReporter(use_colors=False)
    reporter.console = Console(file=buffer, force_terminal=True, width=120, no_color=True)
    seen: list[int] = []
    reporter.begin(PROGRESS_MIN_NODES)
    assert reporter._progress is not None
    result = Project(root)._execute("run", (), (), reporter=reporter)
    seen.append(int(reporter._progress.tasks[0].completed))
    reporter.end()
    assert result.success and seen == [PROGRESS_MIN_NODES]
    assert "OK created sql view model main.m0" in buffer.getvalue()
    quiet = ConsoleReporter(use_colors=False, stream=io.StringIO())
    quiet.begin(PROGRESS_MIN_NODES)  # not a terminal: no bar
    assert quiet._progress is None


def test_compilation_error_at_run_names_the_model(project_factory) -> None:
    root = project_factory({"models/m.sql": "select 1\nfrom {{ nothing.here }}"})
    out = run_cli("run", cwd=root)
    assert out.exit_code == 1
    assert "Compilation Error in model m (models/m.sql:2)" in out.output
    assert "'nothing' is undefined" in out.output


def test_compile_one_node_prints_its_sql(project_factory) -> None:
    root = project_factory(
        {
            "models/a.sql": "select 1 as id",
            "models/b.sql": "select * from {{ ref('a') }}",
            "models/b.yml": "models:\n  - name: b\n    columns:\n      - name: id\n        data_tests: [not_null]\n",
        }
    )
    out = run_cli("compile", "-s", "b", cwd=root)
    assert out.exit_code == 0, out.output
    assert "Compiled node 'b' is:" in out.output
    assert 'select * from "demo"."main"."a"' in out.output
    assert (root / "target/compiled/demo/models/b.yml/not_null_b_id.sql").exists()  # its test compiled too


PRINT_SWITCH_INTERVAL = """
import os, sys
import modelkit.cli.main as cli
leave = os._exit
def report(code):
    print("switch interval", sys.getswitchinterval(), flush=True)
    leave(code)
os._exit = report
sys.argv = ["modelkit", "--version"]
cli.main()
"""


def test_the_modelkit_process_hands_the_gil_over_sooner_than_python_does() -> None:
    """Threads that wait on DuckDB, files or pipes get the GIL back within SWITCH_INTERVAL; a library
    caller's interpreter (main([...]) in this process) is left as it is."""
    from modelkit.cli import main as cli

    done = subprocess.run([sys.executable, "-c", PRINT_SWITCH_INTERVAL], capture_output=True, text=True, timeout=60)
    assert f"switch interval {cli.SWITCH_INTERVAL}" in done.stdout, done.stdout + done.stderr
    assert cli.SWITCH_INTERVAL < 0.005
    before = sys.getswitchinterval()
    with pytest.raises(SystemExit):
        cli.main(["--version"])
    assert sys.getswitchinterval() == before
