"""Model hooks (order, transaction flags, Jinja) and project hooks (console, results, failures)."""

from __future__ import annotations

import json

import pytest
from conftest import embedded_db, query, run_cli

from modelkit import Project

LOG = 'on-run-start: "create table if not exists log (what varchar)"\n'


def log_entries(root) -> list[str]:
    return [w for (w,) in query(embedded_db(root), "select what from log order by rowid")]


def hooked_model(body: str) -> str:
    return (
        "{{ config(materialized='table',\n"
        "  pre_hook=[before_begin(\"insert into log values ('pre outside {{ this.name }}')\"),\n"
        "            \"insert into log values ('pre inside')\"],\n"
        "  post_hook=[\"insert into log values ('post inside ' || (select count(*) from {{ this }}))\",\n"
        "             after_commit(\"insert into log values ('post outside')\")]) }}\n" + body
    )


def test_hook_order_and_transactions(project_factory) -> None:
    root = project_factory(
        {
            "modelkit.yml": "name: demo\n"
            + LOG
            + "models:\n  +post-hook: \"insert into log values ('project post')\"\n",
            "models/m.sql": hooked_model("select range as id from range(3)"),
        }
    )
    assert Project(root).run().success
    # project-level hooks come first (config lists append), in-transaction hooks sit inside the build
    assert log_entries(root) == ["pre outside m", "pre inside", "project post", "post inside 3", "post outside"]


def test_failed_model_rolls_back_its_inside_hooks(project_factory) -> None:
    root = project_factory(
        {"modelkit.yml": "name: demo\n" + LOG, "models/m.sql": hooked_model("select error('broken') as id")}
    )
    result = Project(root).run()
    assert not result.success and "broken" in (result["model.demo.m"].message or "")
    # the transaction: false pre-hook ran and stays; the rest never happened or was rolled back
    assert log_entries(root) == ["pre outside m"]
    assert query(embedded_db(root), "select count(*) from information_schema.tables where table_name = 'm'") == [(0,)]


def test_yaml_hook_mappings_and_strings(project_factory) -> None:
    root = project_factory(
        {
            "modelkit.yml": "name: demo\n" + LOG,
            "models/m.sql": "select 1 as id",
            "models/_m.yml": """
                models:
                  - name: m
                    config:
                      pre_hook: "insert into log values ('string pre')"
                      post_hook:
                        - sql: "insert into log values ('mapped post {{ this.identifier }}')"
                          transaction: false
            """,
        }
    )
    assert Project(root).run().success
    assert log_entries(root) == ["string pre", "mapped post m"]


def test_hook_jinja_error_names_the_model(project_factory) -> None:
    root = project_factory({"models/m.sql": "{{ config(post_hook='select {{ nope(') }}select 1 as id"})
    result = Project(root).run()
    assert not result.success
    message = result["model.demo.m"].message or ""
    assert message.startswith("Compilation Error in model m (models/m.sql#post-hook-0:1)"), message


def test_project_hooks_console_results_and_context(project_factory) -> None:
    root = project_factory(
        {
            "modelkit.yml": """
                name: demo
                on-run-start:
                  - "create table if not exists starts (n integer)"
                  - "insert into starts values (1)"
                on-run-end: "create or replace table summary as select '{{ results | map(attribute='status') | join(',') }}' as statuses, '{{ schemas | join(',') }}' as schemas, '{{ results[0].node.name }}' as first"
            """,
            "models/m.sql": "select 1 as id",
        }
    )
    out = run_cli("run", cwd=root)
    assert out.exit_code == 0, out.output
    text = out.output
    assert "Found 1 model, 3 operations" in text
    assert "1 of 2 START hook: demo.on-run-start.0 " in text and "2 of 2 OK hook: demo.on-run-start.1 " in text
    assert "1 of 1 OK hook: demo.on-run-end.0 " in text and "[OK in " in text
    assert text.index("on-run-start.1") < text.index("START sql view model main.m") < text.index("on-run-end.0")
    assert "Finished running 3 project hooks, 1 view model in " in text
    assert "Done. PASS=4 WARN=0 ERROR=0 SKIP=0 NO-OP=0 TOTAL=4" in text
    assert query(embedded_db(root), "select * from summary") == [("success", "main", "m")]
    results = json.loads((root / "target" / "run_results.json").read_text())["results"]
    hook = next(r for r in results if r["unique_id"] == "operation.demo.demo-on-run-start-0")
    assert hook["status"] == "success" and hook["message"] == "demo.on-run-start.0 passed"
    assert hook["thread_id"] == "main"
    # as dbt records a hook: its rendered SQL, no failures, an empty adapter response
    assert (hook["failures"], hook["adapter_response"]) == (0, {})
    assert (hook["compiled"], hook["compiled_code"]) == (True, "create table if not exists starts (n integer)")
    manifest = json.loads((root / "target" / "manifest.json").read_text())
    assert manifest["nodes"]["operation.demo.demo-on-run-end-0"]["resource_type"] == "operation"
    assert run_cli("ls", cwd=root).output.split() == ["demo.m"]  # hooks are not listed
    assert run_cli("compile", cwd=root).exit_code == 0
    assert query(embedded_db(root), "select count(*) from starts") == [(1,)]  # compile runs no hooks


@pytest.mark.parametrize("skip_flag", [False, True])
def test_failing_on_run_start_skips_every_node(project_factory, skip_flag: bool) -> None:
    """Nodes still run after a failed on-run-start hook, as in dbt 1.11, unless the behavior flag
    ``skip_nodes_if_on_run_start_fails`` is on."""
    flags = "flags:\n  skip_nodes_if_on_run_start_fails: true\n" if skip_flag else ""
    root = project_factory(
        {
            "modelkit.yml": f"name: demo\n{flags}on-run-start: \"select error('no warehouse')\"\n",
            "models/m.sql": "select 1 as id",
        }
    )
    out = run_cli("run", cwd=root)
    assert out.exit_code == 1
    assert "ERROR hook: demo.on-run-start.0" in out.output
    assert ("SKIP relation main.m" in out.output) is skip_flag
    assert ("OK created sql view model main.m" in out.output) is not skip_flag
    assert "no warehouse" in out.output
