"""``retry`` (the previous invocation again, on what did not succeed) and ``clone`` (views over the state's relations)."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
from conftest import query
from state_support import mk, save_state, shop_project

BROKEN = {"models/bad.sql": "select * from missing_table\n", "models/after_bad.sql": "select * from {{ ref('bad') }}\n"}


def _results(root: Path) -> dict[str, str]:
    data = json.loads((root / "target/run_results.json").read_text())
    return {r["unique_id"].split(".")[2]: r["status"] for r in data["results"]}


def test_retry_runs_again_what_errored_or_was_skipped_with_the_previous_flags(tmp_path: Path) -> None:
    root = shop_project(tmp_path / "shop", BROKEN)
    first = mk(root, "run", "--target", "prod", "--threads", "2", "-s", "+after_bad", "other")
    assert first.exit_code == 1
    assert _results(root) == {"bad": "error", "after_bad": "skipped", "other": "success"}
    args = json.loads((root / "target/run_results.json").read_text())["args"]
    assert (args["which"], args["select"], args["target"], args["threads"]) == (
        "run",
        ["+after_bad", "other"],
        "prod",
        2,
    )

    again = mk(root, "retry")
    assert again.exit_code == 1
    assert _results(root) == {"bad": "error", "after_bad": "skipped"}
    assert "Concurrency: 2 threads (target='prod')" in again.output

    (root / "models/bad.sql").write_text("select 1 as id\n")
    fixed = mk(root, "retry")
    assert fixed.exit_code == 0, fixed.output
    assert _results(root) == {"bad": "success", "after_bad": "success"}
    assert "prod.bad" in fixed.output and "prod.after_bad" in fixed.output and "other" not in fixed.output
    assert query(root / "wh.duckdb", "select * from prod.after_bad") == [(1,)]

    done = mk(root, "retry")
    assert done.exit_code == 0
    assert "Nothing to do. Try checking your model configs and model specification args" in done.output
    assert _results(root) == {}


def test_retry_of_a_build_reruns_failed_tests_and_reads_a_state_folder(tmp_path: Path) -> None:
    root = shop_project(tmp_path / "shop", {
        "models/checks.yml": "version: 2\nmodels:\n  - name: stg\n    columns:\n      - name: id\n"
                             "        data_tests: [{accepted_values: {values: [1]}}]\n",
    })  # fmt: skip
    assert mk(root, "build").exit_code == 1
    statuses = _results(root)
    test = next(name for name in statuses if name.startswith("accepted_values_stg_id"))
    assert statuses[test] == "fail" and statuses["fct"] == "skipped" and statuses["people"] == "success"
    saved = save_state(root, "last")
    (root / "target/run_results.json").unlink()  # retry reads the --state folder's
    con = duckdb.connect(str(root / "wh.duckdb"))
    con.execute("delete from dev_extra.stg where id <> 1")  # the data is fixed
    con.close()
    result = mk(root, "retry", "--state", str(saved))
    assert result.exit_code == 0, result.output
    assert _results(root) == {test: "pass", "fct": "success"}
    assert "people" not in result.output and "dev_extra.stg" not in result.output  # they succeeded before


def test_clone_makes_views_over_production_and_leaves_existing_relations(tmp_path: Path) -> None:
    root = shop_project(tmp_path / "shop")
    assert mk(root, "build", "--target", "prod").exit_code == 0
    state = save_state(root)
    (root / "models/newer.sql").write_text("select 5 as n\n")
    result = mk(root, "clone", "--state", str(state))
    assert result.exit_code == 0, result.output
    assert "START" not in result.output and "Finished running" not in result.output  # as dbt's clone
    assert "Completed successfully" in result.output and "Done. PASS=5 " in result.output
    assert "No relation found in state manifest for model.shop.newer" in result.output
    db = root / "wh.duckdb"
    kinds = dict(query(db, "select table_schema || '.' || table_name, table_type from information_schema.tables"))
    assert {k: v for k, v in kinds.items() if not k.startswith("prod")} == {
        "dev.people": "VIEW", "dev_extra.stg": "VIEW", "dev.fct": "VIEW", "dev.other": "VIEW"}  # fmt: skip
    assert query(db, "select * from dev_extra.stg order by id") == query(db, "select * from prod_extra.stg order by id")
    assert query(db, "select sql from duckdb_views() where view_name = 'people'")[0][0].lower().count("prod") == 1
    messages = {
        r["unique_id"]: r["message"] for r in json.loads((root / "target/run_results.json").read_text())["results"]
    }
    assert messages["seed.shop.people"] == "OK" and messages["model.shop.newer"] == "No-op"

    again = mk(root, "clone", "-s", "stg", "--state", str(state))
    assert again.exit_code == 0
    assert 'Relation "wh"."dev_extra"."stg" already exists' in again.output
    assert _results(root) == {"stg": "success"}

    mk(root, "run", "-s", "stg")  # a table in dev now
    refreshed = mk(root, "clone", "-s", "stg", "--state", str(state), "--full-refresh")
    assert refreshed.exit_code == 0 and "already exists" not in refreshed.output
    assert query(db, "select table_type from information_schema.tables where table_name = 'stg' and "
                     "table_schema = 'dev_extra'") == [("VIEW",)]  # fmt: skip
