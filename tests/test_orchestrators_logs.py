"""Structured logs, global settings from flags / env vars / project flags:, the log file and --version."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import SAMPLE_PROJECT, query, run_cli

MODELKIT = str(Path(sys.executable).with_name("modelkit"))
# dbt-core 1.11's names and codes (dbt/events/types.py)
CODES = {
    "MainReportVersion": "A001", "FoundStats": "W006", "ConcurrencyLine": "Q027", "LogStartLine": "Q011",
    "LogModelResult": "Q012", "LogSeedResult": "Q016", "LogSnapshotResult": "Q015", "LogTestResult": "Q007",
    "NodeStart": "Q024", "NodeFinished": "Q025", "StatsLine": "Z023", "CommandCompleted": "Q039",
    "EndOfRunSummary": "Z030", "FinishedRunningStats": "E047", "RunResultWarning": "Z021",
}  # fmt: skip
NODE_INFO_KEYS = {
    "unique_id", "node_status", "node_started_at", "node_finished_at", "resource_type", "materialized",
    "node_relation", "node_name", "node_path", "meta", "node_checksum",
}  # fmt: skip


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    root = tmp_path / "shop"
    shutil.copytree(SAMPLE_PROJECT, root, ignore=shutil.ignore_patterns("target", "logs"))
    return root


def modelkit(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DBT_", "MODELKIT_"))}
    return subprocess.run([MODELKIT, *args], cwd=cwd, env={**clean, **(env or {})}, capture_output=True, text=True)


def events(stdout: str) -> list[dict]:
    return [json.loads(line) for line in stdout.splitlines()]


def test_json_log_has_dbt_event_names_codes_and_node_info(shop: Path) -> None:
    out = modelkit("build", "--log-format", "json", "--log-level", "debug", cwd=shop)
    assert out.returncode == 0, out.stderr
    lines = events(out.stdout)  # every line is one JSON object
    names = {e["info"]["name"] for e in lines}
    assert set(CODES) <= names
    for event in lines:
        info = event["info"]
        assert {"name", "code", "msg", "level", "invocation_id", "ts", "thread"} <= set(info)
        if info["name"] in CODES:
            assert info["code"] == CODES[info["name"]]
        assert info["invocation_id"] == lines[0]["info"]["invocation_id"]
    results = [e for e in lines if e["info"]["name"] in ("LogModelResult", "LogSeedResult", "LogTestResult")]
    for event in results:
        node = event["data"]["node_info"]
        assert NODE_INFO_KEYS <= set(node)
        assert node["node_started_at"] <= node["node_finished_at"]
    orders = next(e for e in results if e["data"]["node_info"]["unique_id"] == "model.shop.orders")
    assert orders["data"]["node_info"]["node_status"] == "success"
    assert orders["data"]["node_info"]["node_relation"]["relation_name"] == '"shop"."main"."orders"'
    assert re.search(r"OK created sql table model main\.orders \.+ \[OK in", orders["info"]["msg"])
    finished = next(e for e in lines if e["info"]["name"] == "NodeFinished")
    assert finished["data"]["run_result"]["status"] in ("success", "pass")
    assert lines[-1]["info"]["name"] == "CommandCompleted" and lines[-1]["data"]["success"] is True
    # the run_results.json and the events tell the same invocation
    run_results = json.loads((shop / "target" / "run_results.json").read_text())
    assert run_results["metadata"]["invocation_id"] == lines[0]["info"]["invocation_id"]


def test_default_log_level_hides_debug_events_as_dbt_does(shop: Path) -> None:
    out = modelkit("seed", cwd=shop, env={"DBT_LOG_FORMAT": "json"})
    names = [e["info"]["name"] for e in events(out.stdout)]
    assert "LogSeedResult" in names and "NodeStart" not in names and "CommandCompleted" not in names
    assert {e["info"]["level"] for e in events(out.stdout)} <= {"info", "warn"}


def test_flag_beats_env_var_beats_project_flags(shop: Path) -> None:
    text = (shop / "modelkit.yml").read_text()
    (shop / "modelkit.yml").write_text(text + "\nflags:\n  log_format: json\n")
    assert events(modelkit("parse", cwd=shop).stdout)[0]["info"]["name"] == "FoundStats"  # flags: applies
    plain = modelkit("parse", cwd=shop, env={"DBT_LOG_FORMAT": "text"}).stdout
    assert re.search(r"Found 7 models, 1 analysis, 21 data tests, 3 seeds, 1 snapshot, 2 sources, \d+ macros, "
                     r"2 unit tests$", plain.splitlines()[0])  # fmt: skip
    flagged = modelkit("parse", "--log-format", "json", cwd=shop, env={"DBT_LOG_FORMAT": "text"}).stdout
    assert events(flagged)
    aliased = modelkit("parse", cwd=shop, env={"MODELKIT_LOG_FORMAT": "text", "DBT_LOG_FORMAT": "json"}).stdout
    assert not aliased.startswith("{")


def test_target_path_and_log_path_from_env_and_flags(shop: Path, tmp_path: Path) -> None:
    out = modelkit(
        "seed", cwd=shop, env={"DBT_TARGET_PATH": str(tmp_path / "t1"), "DBT_LOG_PATH": str(tmp_path / "l1")}
    )
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "t1" / "run_results.json").is_file() and not (shop / "target" / "run_results.json").exists()
    log = (tmp_path / "l1" / "modelkit.log").read_text()
    assert "Began running node seed.shop.raw_orders" in log  # debug lines go to the file
    out = modelkit("--target-path", "t2", "seed", "--log-path", str(tmp_path / "l2"), cwd=shop,
                   env={"DBT_TARGET_PATH": str(tmp_path / "t1")})  # fmt: skip
    assert (shop / "t2" / "run_results.json").is_file()
    assert (tmp_path / "l2" / "modelkit.log").is_file()


def test_log_file_is_rotated(shop: Path) -> None:
    for _ in range(3):
        assert modelkit("seed", cwd=shop, env={"MODELKIT_LOG_FILE_MAX_BYTES": "2000"}).returncode == 0
    logs = sorted(p.name for p in (shop / "logs").iterdir())
    assert "modelkit.log" in logs and "modelkit.log.1" in logs


def test_project_dir_and_profiles_dir_from_env(shop: Path, tmp_path: Path) -> None:
    out = modelkit("ls", "-s", "orders", cwd=tmp_path, env={"DBT_PROJECT_DIR": str(shop)})
    assert out.returncode == 0, out.stderr
    assert "shop.marts.orders" in out.stdout


def test_version_names_modelkit_then_dbt() -> None:
    from modelkit import DBT_COMPAT_VERSION, __version__

    out = modelkit("--version", cwd=Path.cwd())
    assert out.returncode == 0
    assert out.stdout.index(__version__) < out.stdout.index(DBT_COMPAT_VERSION)
    assert run_cli("--version").exit_code == 0


@pytest.mark.parametrize(
    "args, env, named",
    [
        (("--log-format", "xml"), {}, "--log-format"),
        ((), {"DBT_LOG_FORMAT": "xml"}, "DBT_LOG_FORMAT"),
        (("--log-level", "loud"), {}, "--log-level"),
        ((), {"DBT_PRINTER_WIDTH": "wide"}, "DBT_PRINTER_WIDTH"),
        ((), {"DBT_FAIL_FAST": "maybe"}, "DBT_FAIL_FAST"),
    ],
)
def test_bad_settings_exit_2_naming_the_flag_or_variable(shop: Path, args: tuple, env: dict, named: str) -> None:
    out = modelkit("run", *args, cwd=shop, env=env)
    assert out.returncode == 2
    assert named in out.stderr + out.stdout
    assert not (shop / "target" / "run_results.json").exists()  # nothing ran


def test_env_booleans_and_ignored_settings(shop: Path) -> None:
    out = modelkit("seed", cwd=shop, env={"DBT_QUIET": "true", "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
                                          "DBT_USE_COLORS": "false", "DBT_PARTIAL_PARSE": "false"})  # fmt: skip
    assert out.returncode == 0
    assert "Done." in out.stdout and "START" not in out.stdout  # quiet: only the end line and errors
    assert not (shop / "target" / "modelkit_parse_cache.json").exists()


# dbt's MainReportArgs (A002, debug): its flags by name, every value as text (dbt/flags.py get_flag_dict)
REPORTED_ARGS = {
    "cache_selected_only", "debug", "empty", "fail_fast", "indirect_selection", "introspect", "invocation_command",
    "log_cache_events", "log_format", "log_path", "no_print", "partial_parse", "printer_width", "profiles_dir",
    "quiet", "send_anonymous_usage_stats", "static_parser", "target_path", "use_colors", "use_experimental_parser",
    "version_check", "warn_error", "warn_error_options", "write_json",
}  # fmt: skip
WORKER = re.compile(r"Thread-\d+ \(worker\)")


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    """A dbt project on two threads: a failing model with a child, an independent model and a source."""
    root = tmp_path / "tiny"
    files = {
        "dbt_project.yml": "name: tiny\nprofile: tiny\nconfig-version: 2\nversion: '1.0'\n",
        "profiles.yml": "tiny:\n  target: dev\n  outputs:\n    dev: {type: duckdb, path: tiny.duckdb, threads: 2}\n",
        "models/broken.sql": "select nope\n",
        "models/child.sql": "select * from {{ ref('broken') }}\n",
        "models/fine.sql": "select 1 as id, '{{ thread_id }}' as thread\n",
        "models/sources.yml": "sources:\n  - name: s\n    schema: main\n    loaded_at_field: ts\n"
        "    freshness: {warn_after: {count: 1, period: day}}\n    tables: [{name: fine_ts}]\n",
        "models/fine_ts.sql": "{{ config(materialized='table') }}\nselect now()::timestamp as ts\n",
    }
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def test_main_report_args_follows_the_version_event(tiny: Path) -> None:
    out = modelkit("--log-format", "json", "--log-level", "debug", "run", "--profiles-dir", ".", "--empty", cwd=tiny)
    lines = events(out.stdout)
    names = [e["info"]["name"] for e in lines]
    assert names.index("MainReportArgs") == names.index("MainReportVersion") + 1
    report = lines[names.index("MainReportArgs")]
    assert (report["info"]["code"], report["info"]["level"]) == ("A002", "debug")
    args = report["data"]["args"]
    assert set(args) == REPORTED_ARGS and all(isinstance(v, str) for v in args.values())
    assert args["invocation_command"] == "modelkit --log-format json --log-level debug run --profiles-dir . --empty"
    assert (args["log_format"], args["empty"], args["profiles_dir"], args["warn_error"]) == (
        "json",
        "True",
        ".",
        "None",
    )
    assert args["log_path"] == str(tiny / "logs")
    assert args["warn_error_options"] == "WarnErrorOptionsV2(error=[], warn=[], silence=[])"
    assert report["info"]["msg"] == f"running modelkit with arguments {args}"
    quiet = modelkit("--log-format", "json", "run", "--profiles-dir", ".", cwd=tiny)  # a debug event: hidden at info
    assert "MainReportArgs" not in {e["info"]["name"] for e in events(quiet.stdout)}


def test_worker_threads_are_named_as_dbt_names_them(tiny: Path) -> None:
    out = modelkit("--log-format", "json", "--log-level", "debug", "run", "--profiles-dir", ".", cwd=tiny)
    lines = events(out.stdout)
    node_events = [e for e in lines if "node_info" in e["data"]]
    assert {e["info"]["name"] for e in node_events} >= {"NodeStart", "LogStartLine", "LogModelResult",
                                                         "SkippingDetails", "NodeFinished"}  # fmt: skip
    assert all(WORKER.fullmatch(e["info"]["thread"]) for e in node_events)
    assert {e["info"]["thread"] for e in lines if "node_info" not in e["data"]} == {"MainThread"}
    finished = {e["data"]["node_info"]["unique_id"]: e for e in lines if e["info"]["name"] == "NodeFinished"}
    results = json.loads((tiny / "target" / "run_results.json").read_text())["results"]
    assert {r["status"] for r in results} == {"error", "skipped", "success"}
    for result in results:  # run_results.json names the worker each node's events came from
        event = finished[result["unique_id"]]
        assert result["thread_id"] == event["info"]["thread"] == event["data"]["run_result"]["thread"]
    # templates see the same name (thread_id); the text log file shows its first 10 characters, as dbt's
    [(thread,)] = query(tiny / "tiny.duckdb", "select thread from fine")
    assert WORKER.fullmatch(thread)
    assert re.search(r"\[debug\] \[Thread-\d \(\]: Began running node model\.tiny\.fine",
                     (tiny / "logs" / "modelkit.log").read_text())  # fmt: skip


def test_one_thread_runs_on_the_first_worker(tiny: Path) -> None:
    out = modelkit("--log-format", "json", "--log-level", "debug", "run", "--threads", "1", "--profiles-dir", ".",
                   cwd=tiny)  # fmt: skip
    node_threads = {e["info"]["thread"] for e in events(out.stdout) if "node_info" in e["data"]}
    assert node_threads == {"Thread-1 (worker)"}
    results = json.loads((tiny / "target" / "run_results.json").read_text())["results"]
    assert {r["thread_id"] for r in results} == {"Thread-1 (worker)"}


def test_source_freshness_runs_on_a_worker(tiny: Path) -> None:
    assert modelkit("run", "--select", "fine_ts", "--profiles-dir", ".", cwd=tiny).returncode == 0
    out = modelkit("--log-format", "json", "source", "freshness", "--profiles-dir", ".", cwd=tiny)
    assert out.returncode == 0, out.stdout + out.stderr
    node_threads = {e["info"]["thread"] for e in events(out.stdout) if "node_info" in e["data"]}
    assert node_threads == {"Thread-1 (worker)"}
    results = json.loads((tiny / "target" / "sources.json").read_text())["results"]
    assert [r["thread_id"] for r in results] == ["Thread-1 (worker)"]
