"""``build`` runs exposures and saved queries as dbt 1.11's NO-OP nodes.

dbt's build hands each exposure and saved query to a runner that builds nothing: no START line, one
``N of M NO-OP exposure dash`` line (event LogNodeNoOpResult), status ``no-op`` in run_results.json
(message ``NO-OP``, no compiled code: ``compiled`` is null), counted in ``Finished running`` and in the
``NO-OP=`` of the summary. It waits for its parents (through the metrics and semantic models between a
saved query and its models) and is skipped when one fails, but not for its parents' tests. ``run`` and
``test`` leave them out; ``--resource-type`` / ``--exclude-resource-type`` name them.

The expectations are dbt's output for the same projects; ``test_dbt_reports_the_same_nodes_the_same``
runs dbt too (``MODELKIT_DBT_EXECUTABLE`` or ``dbt`` on ``PATH``; skipped without it) and compares.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Mapping
from pathlib import Path

import pytest
from conftest import run_cli, write_files
from realpkgs_support import dbt_executable, run_dbt
from test_semantic_layer import MODELS, SEMANTIC, SPINE

EXPOSURE = """
exposures:
  - name: dash
    type: dashboard
    owner: {email: a@b.c}
    depends_on: [ref('a')]
"""
NOT_NULL = """
models:
  - name: a
    columns:
      - name: id
        data_tests: [not_null]
"""
FAILING = "select 1 as id from missing_table"


def dbt_project(root: Path, name: str, files: Mapping[str, str]) -> Path:
    """A project as dbt reads it (dbt_project.yml, profiles.yml with a DuckDB file), which modelkit reads too."""
    profile = f"{name}:\n  target: dev\n  outputs:\n    dev: {{type: duckdb, path: {name}.duckdb, threads: 1}}\n"
    base = {"dbt_project.yml": f"name: {name}\nversion: '1.0'\nprofile: {name}\n", "profiles.yml": profile}
    return write_files(root, {**base, **files})


def expo(tmp_path: Path, a_sql: str = "select 1 as id", tested: bool = False) -> Path:
    """Model ``a`` and the exposure ``dash`` on it (and a not_null test on ``a.id``)."""
    files = {"models/a.sql": a_sql, "models/s.yml": (NOT_NULL if tested else "") + EXPOSURE}
    return dbt_project(tmp_path / "expo", "expo", files)


def semantic(tmp_path: Path, orders_sql: str | None = None) -> Path:
    """Three models, semantic models, metrics, the saved query ``revenue_by_status`` and the exposure ``dash``."""
    files = {**MODELS, "models/spine.yml": SPINE, "models/semantic.yml": SEMANTIC}
    if orders_sql is not None:
        files["models/orders.sql"] = orders_sql
    return dbt_project(tmp_path / "demo", "demo", files)


def modelkit(root: Path, *args: str):
    command, *rest = args
    return run_cli(command, "--project-dir", str(root), "--profiles-dir", str(root), *rest, cwd=root)


NODE_LINE = re.compile(r"^(\d+ of \d+ .*?) \.+ \[(.*)\]$")


def node_lines(output: str) -> list[str]:
    """``N of M message [STATUS]`` lines, without timestamps, dots, colours and durations."""
    found = []
    for line in re.sub(r"\x1b\[[0-9;]*m", "", output).splitlines():
        match = NODE_LINE.match(re.sub(r"^\d\d:\d\d:\d\d\s+", "", line).strip())
        if match:
            status = re.sub(r" in \d+\.\d+s$", "", match[2])
            found.append(f"{match[1]} [{status}]")
    return found


def summary_lines(output: str) -> tuple[str, str]:
    """The ``Finished running ...`` counts and the ``Done. ...`` line."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", output)
    finished = re.search(r"Finished running (.*) in \d+ hours", text)
    done = re.search(r"Done\. (.*)", text)
    return (finished[1] if finished else ""), (done[1].strip() if done else "")


def run_results(root: Path) -> dict:
    return json.loads((root / "target" / "run_results.json").read_text())


def statuses(root: Path) -> list[tuple[str, str]]:
    return [(r["unique_id"], r["status"]) for r in run_results(root)["results"]]


A_OK = ["1 of 2 START sql view model main.a [RUN]", "1 of 2 OK created sql view model main.a [OK]"]
ONLY_DASH = ["1 of 1 NO-OP exposure dash [NO-OP]"]
ONLY_A = ["1 of 1 START sql view model main.a [RUN]", "1 of 1 OK created sql view model main.a [OK]"]

# (args, a.sql, with a test, node lines, statuses, Finished running, Done)
EXPOSURE_CASES = {
    "build": (
        ["build"], "select 1 as id", False, [*A_OK, "2 of 2 NO-OP exposure dash [NO-OP]"],
        [("model.expo.a", "success"), ("exposure.expo.dash", "no-op")],
        "1 exposure, 1 view model", "PASS=1 WARN=0 ERROR=0 SKIP=0 NO-OP=1 TOTAL=2",
    ),
    "children": (
        ["build", "-s", "a+"], "select 1 as id", False, [*A_OK, "2 of 2 NO-OP exposure dash [NO-OP]"],
        [("model.expo.a", "success"), ("exposure.expo.dash", "no-op")],
        "1 exposure, 1 view model", "PASS=1 WARN=0 ERROR=0 SKIP=0 NO-OP=1 TOTAL=2",
    ),
    "selected": (
        ["build", "-s", "exposure:dash"], "select 1 as id", False, ONLY_DASH, [("exposure.expo.dash", "no-op")],
        "1 exposure", "PASS=0 WARN=0 ERROR=0 SKIP=0 NO-OP=1 TOTAL=1",
    ),
    "resource type": (
        ["build", "--resource-type", "exposure"], "select 1 as id", False, ONLY_DASH,
        [("exposure.expo.dash", "no-op")], "1 exposure", "PASS=0 WARN=0 ERROR=0 SKIP=0 NO-OP=1 TOTAL=1",
    ),
    "excluded": (
        ["build", "--exclude-resource-type", "exposure"], "select 1 as id", False, ONLY_A,
        [("model.expo.a", "success")], "1 view model", "PASS=1 WARN=0 ERROR=0 SKIP=0 NO-OP=0 TOTAL=1",
    ),
    "models only": (
        ["build", "--resource-type", "model"], "select 1 as id", False, ONLY_A,
        [("model.expo.a", "success")], "1 view model", "PASS=1 WARN=0 ERROR=0 SKIP=0 NO-OP=0 TOTAL=1",
    ),
    "run": (
        ["run"], "select 1 as id", False, ONLY_A, [("model.expo.a", "success")],
        "1 view model", "PASS=1 WARN=0 ERROR=0 SKIP=0 NO-OP=0 TOTAL=1",
    ),
    "test": (["test"], "select 1 as id", False, [], [], "", ""),
    "parent failed": (
        ["build"], FAILING, False,
        ["1 of 2 START sql view model main.a [RUN]", "1 of 2 ERROR creating sql view model main.a [ERROR]",
         "2 of 2 SKIP exposure dash [SKIP]"],
        [("model.expo.a", "error"), ("exposure.expo.dash", "skipped")],
        "1 exposure, 1 view model", "PASS=0 WARN=0 ERROR=1 SKIP=1 NO-OP=0 TOTAL=2",
    ),
    "parent's test failed": (  # dbt's test edges lead to nodes only: the exposure does not wait for the test
        ["build"], "select null as id", True,
        ["1 of 3 START sql view model main.a [RUN]", "1 of 3 OK created sql view model main.a [OK]",
         "2 of 3 NO-OP exposure dash [NO-OP]", "3 of 3 START test not_null_a_id [RUN]",
         "3 of 3 FAIL 1 not_null_a_id [FAIL 1]"],
        [("model.expo.a", "success"), ("exposure.expo.dash", "no-op"), ("test.expo.not_null_a_id.c1cebc1440", "fail")],
        "1 exposure, 1 test, 1 view model", "PASS=1 WARN=0 ERROR=1 SKIP=0 NO-OP=1 TOTAL=3",
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", list(EXPOSURE_CASES))
def test_build_reports_an_exposure_as_dbt_does(tmp_path: Path, case: str) -> None:
    args, a_sql, tested, lines, expected, finished, done = EXPOSURE_CASES[case]
    root = expo(tmp_path, a_sql, tested)
    result = modelkit(root, *args)
    failed = any(status in ("error", "fail") for _, status in expected)
    assert result.exit_code == (1 if failed else 0), result.output
    assert node_lines(result.output) == lines
    assert "START exposure" not in result.output
    assert summary_lines(result.output) == (finished, done)
    assert statuses(root) == expected
    if not expected:
        assert "Nothing to do." in result.output


SAVED_QUERY_CASES = {
    "build": (
        ["build"], None,
        ["1 of 5 START sql view model main.customers [RUN]", "1 of 5 OK created sql view model main.customers [OK]",
         "2 of 5 START sql view model main.metricflow_time_spine [RUN]",
         "2 of 5 OK created sql view model main.metricflow_time_spine [OK]",
         "3 of 5 START sql view model main.orders [RUN]", "3 of 5 OK created sql view model main.orders [OK]",
         "4 of 5 NO-OP exposure dash [NO-OP]", "5 of 5 NO-OP saved query revenue_by_status [NO-OP]"],
        "1 exposure, 1 saved query, 3 view models", "PASS=3 WARN=0 ERROR=0 SKIP=0 NO-OP=2 TOTAL=5",
    ),
    "model under the metrics failed": (  # the saved query reads orders through its metrics and semantic model
        ["build"], FAILING,
        ["1 of 5 START sql view model main.customers [RUN]", "1 of 5 OK created sql view model main.customers [OK]",
         "2 of 5 START sql view model main.metricflow_time_spine [RUN]",
         "2 of 5 OK created sql view model main.metricflow_time_spine [OK]",
         "3 of 5 START sql view model main.orders [RUN]", "3 of 5 ERROR creating sql view model main.orders [ERROR]",
         "4 of 5 SKIP exposure dash [SKIP]", "5 of 5 SKIP saved_query revenue_by_status [SKIP]"],
        "1 exposure, 1 saved query, 3 view models", "PASS=2 WARN=0 ERROR=1 SKIP=2 NO-OP=0 TOTAL=5",
    ),
    "resource type": (
        ["build", "--resource-type", "saved_query"], None, ["1 of 1 NO-OP saved query revenue_by_status [NO-OP]"],
        "1 saved query", "PASS=0 WARN=0 ERROR=0 SKIP=0 NO-OP=1 TOTAL=1",
    ),
    "after its model": (
        ["build", "-s", "orders", "saved_query:revenue_by_status"], None,
        ["1 of 2 START sql view model main.orders [RUN]", "1 of 2 OK created sql view model main.orders [OK]",
         "2 of 2 NO-OP saved query revenue_by_status [NO-OP]"],
        "1 saved query, 1 view model", "PASS=1 WARN=0 ERROR=0 SKIP=0 NO-OP=1 TOTAL=2",
    ),
    "excluded": (
        ["build", "--exclude-resource-type", "saved_query", "--exclude-resource-type", "exposure"], None,
        ["1 of 3 START sql view model main.customers [RUN]", "1 of 3 OK created sql view model main.customers [OK]",
         "2 of 3 START sql view model main.metricflow_time_spine [RUN]",
         "2 of 3 OK created sql view model main.metricflow_time_spine [OK]",
         "3 of 3 START sql view model main.orders [RUN]", "3 of 3 OK created sql view model main.orders [OK]"],
        "3 view models", "PASS=3 WARN=0 ERROR=0 SKIP=0 NO-OP=0 TOTAL=3",
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", list(SAVED_QUERY_CASES))
def test_build_reports_a_saved_query_as_dbt_does(tmp_path: Path, case: str) -> None:
    args, orders_sql, lines, finished, done = SAVED_QUERY_CASES[case]
    root = semantic(tmp_path, orders_sql)
    result = modelkit(root, *args)
    assert result.exit_code == (1 if orders_sql else 0), result.output
    assert node_lines(result.output) == lines
    assert summary_lines(result.output) == (finished, done)
    entry = next((r for r in run_results(root)["results"] if r["unique_id"].startswith("saved_query.")), None)
    assert (entry or {}).get("compiled", "absent") == (None if "saved query" in finished else "absent")


def json_events(output: str, unique_id: str) -> list[dict]:
    found = []
    for line in output.splitlines():
        if line.startswith("{"):
            event = json.loads(line)
            if (event["data"].get("node_info") or {}).get("unique_id") == unique_id:
                found.append(event)
    return found


NO_RELATION = {"alias": "", "database": "", "relation_name": "", "schema": ""}


def test_json_log_events_of_a_no_op_exposure_are_dbts(tmp_path: Path) -> None:
    root = expo(tmp_path)
    result = modelkit(root, "build", "--log-format", "json", "--log-level", "debug")
    assert result.exit_code == 0, result.output
    events = json_events(result.output, "exposure.expo.dash")
    # dbt also logs NodeCompiling / NodeExecuting and connection events at debug level: modelkit has none of them
    assert [e["info"]["name"] for e in events] == ["NodeStart", "LogNodeNoOpResult", "NodeFinished"]
    start, noop, finished = events
    info = noop["data"]["node_info"]
    assert info["node_started_at"] and info["node_finished_at"]
    assert {k: v for k, v in info.items() if k not in ("node_started_at", "node_finished_at")} == {
        "materialized": "", "meta": {}, "node_checksum": "", "node_name": "dash", "node_path": "s.yml",
        "node_relation": NO_RELATION, "node_status": "no-op", "resource_type": "exposure",
        "unique_id": "exposure.expo.dash",
    }  # fmt: skip
    assert start["data"]["node_info"]["node_status"] == "started"
    assert start["data"]["node_info"]["node_finished_at"] == ""
    assert (noop["info"]["code"], noop["info"]["level"]) == ("Q019", "info")
    assert node_lines(noop["info"]["msg"]) == ["2 of 2 NO-OP exposure dash [NO-OP]"]
    data = {k: v for k, v in noop["data"].items() if k not in ("node_info", "execution_time")}
    assert data == {"description": "exposure dash", "index": 2, "status": "", "total": 2}
    run = finished["data"]["run_result"]
    assert [t["name"] for t in run.pop("timing_info")] == ["compile", "execute"]
    assert run.pop("execution_time") < 1
    assert run == {"adapter_response": {}, "message": "NO-OP", "num_failures": 0, "status": "no-op",
                   "thread": "Thread-1 (worker)"}  # fmt: skip
    assert finished["data"]["node_info"] == info


def test_json_log_events_of_a_skipped_exposure_are_dbts(tmp_path: Path) -> None:
    root = expo(tmp_path, FAILING)
    result = modelkit(root, "build", "--log-format", "json", "--log-level", "debug")
    assert result.exit_code == 1, result.output
    events = json_events(result.output, "exposure.expo.dash")
    assert [e["info"]["name"] for e in events] == ["NodeStart", "SkippingDetails", "NodeFinished"]
    skip = events[1]
    info = skip["data"].pop("node_info")
    assert (info["node_status"], info["node_finished_at"], info["materialized"]) == ("skipped", "", "")
    assert info["node_relation"] == NO_RELATION
    assert skip["data"] == {"index": 2, "node_name": "dash", "resource_type": "exposure", "schema": "", "total": 2}
    assert node_lines(skip["info"]["msg"]) == ["2 of 2 SKIP exposure dash [SKIP]"]
    run = events[2]["data"]["run_result"]
    assert run == {"adapter_response": {}, "execution_time": 0.0, "message": "", "num_failures": 0,
                   "status": "skipped", "thread": "Thread-1 (worker)", "timing_info": []}  # fmt: skip


def normalized(entry: dict) -> dict:
    """A run_results.json entry with its times replaced by the names of its timing entries."""
    out = dict(entry)
    out["timing"] = [t["name"] for t in entry["timing"]]
    assert entry["execution_time"] < 1
    out.pop("execution_time")
    return out


NO_OP_ENTRY = {
    "status": "no-op", "timing": ["compile", "execute"], "thread_id": "Thread-1 (worker)", "adapter_response": {},
    "message": "NO-OP", "failures": 0, "compiled": None, "compiled_code": None, "relation_name": None,
    "batch_results": None,
}  # fmt: skip
SKIPPED_ENTRY = {
    "status": "skipped", "timing": [], "thread_id": "Thread-1 (worker)", "adapter_response": {}, "message": None,
    "failures": None, "compiled": None, "compiled_code": None, "relation_name": None, "batch_results": None,
}  # fmt: skip


@pytest.mark.parametrize(("orders_sql", "expected"), [(None, NO_OP_ENTRY), (FAILING, SKIPPED_ENTRY)])
def test_run_results_entries_are_dbts(tmp_path: Path, orders_sql: str | None, expected: dict) -> None:
    root = semantic(tmp_path, orders_sql)
    modelkit(root, "build")
    data = run_results(root)
    assert data["args"]["resource_types"] == [] and data["args"]["exclude_resource_types"] == []
    entries = {r["unique_id"]: normalized(r) for r in data["results"]}
    for uid in ("exposure.demo.dash", "saved_query.demo.revenue_by_status"):
        assert entries[uid] == {**expected, "unique_id": uid}


def test_retry_runs_a_skipped_exposure_again(tmp_path: Path) -> None:
    root = expo(tmp_path, FAILING)
    assert modelkit(root, "build").exit_code == 1
    (root / "models" / "a.sql").write_text("select 1 as id")
    result = modelkit(root, "retry")
    assert result.exit_code == 0, result.output
    assert node_lines(result.output) == [*A_OK, "2 of 2 NO-OP exposure dash [NO-OP]"]
    assert statuses(root) == [("model.expo.a", "success"), ("exposure.expo.dash", "no-op")]


def test_result_selection_and_on_run_end_see_exposures(tmp_path: Path) -> None:
    root = expo(tmp_path, FAILING)
    hook = "{{ log('seen: ' ~ (results | map(attribute='node') | map(attribute='resource_type') | join(',')), info=true) }}"
    (root / "dbt_project.yml").write_text(
        (root / "dbt_project.yml").read_text() + f'on-run-end:\n  - "{hook}"\n', encoding="utf-8"
    )
    modelkit(root, "build")
    shutil.copytree(root / "target", tmp_path / "previous")
    (root / "models" / "a.sql").write_text("select 1 as id")
    result = modelkit(root, "build", "-s", "result:skipped", "--state", str(tmp_path / "previous"))
    assert result.exit_code == 0, result.output
    assert node_lines(result.output)[:1] == ["1 of 1 NO-OP exposure dash [NO-OP]"]
    assert "seen: exposure" in result.output


# -- the same projects built by dbt ----------------------------------------------------------------
@pytest.fixture(scope="module")
def dbt() -> str:
    found = dbt_executable()
    if found is None:
        pytest.skip("dbt is not installed (set MODELKIT_DBT_EXECUTABLE or put dbt on PATH)")
    if shutil.which(found) is None:
        pytest.fail(f"MODELKIT_DBT_EXECUTABLE names {found}, which is not an executable")
    return found


@pytest.mark.parametrize("orders_sql", [None, FAILING], ids=["built", "model failed"])
def test_dbt_reports_the_same_nodes_the_same(tmp_path: Path, dbt: str, orders_sql: str | None) -> None:
    ours = semantic(tmp_path / "modelkit", orders_sql)
    theirs = semantic(tmp_path / "dbt", orders_sql)
    result = modelkit(ours, "build")
    done = run_dbt(dbt, ["build"], theirs, {})
    assert (result.exit_code, done.returncode) == ((1, 1) if orders_sql else (0, 0)), done.stdout
    assert node_lines(result.output) == node_lines(done.stdout)
    assert summary_lines(result.output) == summary_lines(done.stdout)
    assert statuses(ours) == statuses(theirs)
    dbt_entries = {r["unique_id"]: normalized(r) for r in run_results(theirs)["results"]}
    for entry in run_results(ours)["results"]:
        if entry["unique_id"].split(".")[0] in ("exposure", "saved_query"):
            assert normalized(entry) == dbt_entries[entry["unique_id"]]
