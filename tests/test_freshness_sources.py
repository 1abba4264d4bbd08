"""``modelkit source freshness``: statuses, config inheritance, console lines and sources.json."""

from __future__ import annotations

import json

import pytest
from conftest import run_cli

from modelkit.core.config import merge_freshness
from modelkit.execute.freshness import criteria, status_for

HOUR = 3600


@pytest.mark.parametrize(
    ("age", "freshness", "expected"),
    [
        (10, {"warn_after": {"count": 1, "period": "hour"}}, "pass"),
        (2 * HOUR, {"warn_after": {"count": 1, "period": "hour"}}, "warn"),
        (
            2 * HOUR,
            {"warn_after": {"count": 1, "period": "hour"}, "error_after": {"count": 3, "period": "hour"}},
            "warn",
        ),
        (
            4 * HOUR,
            {"warn_after": {"count": 1, "period": "hour"}, "error_after": {"count": 3, "period": "hour"}},
            "error",
        ),
        (61, {"error_after": {"count": 1, "period": "minute"}}, "error"),
        (2 * 86400 - 1, {"error_after": {"count": 2, "period": "day"}}, "pass"),
        (None, {"warn_after": {"count": 1, "period": "day"}}, "warn"),  # an empty table was never loaded
    ],
)
def test_status_for(age, freshness, expected) -> None:
    assert status_for(age, criteria(freshness)) == expected


def test_merge_freshness() -> None:
    source = {"warn_after": {"count": 12, "period": "hour"}, "error_after": {"count": 1, "period": "day"}}
    assert merge_freshness(source, {"warn_after": {"count": 1}}) == {
        "warn_after": {"count": 1, "period": "hour"},
        "error_after": {"count": 1, "period": "day"},
    }
    assert merge_freshness(source, None) is None
    assert merge_freshness(None, {"error_after": {"count": 1, "period": "day"}}) == {
        "error_after": {"count": 1, "period": "day"}
    }


SOURCES = """
sources:
  - name: raw
    schema: main
    loaded_at_field: loaded_at
    freshness:
      warn_after: {count: 1, period: hour}
      error_after: {count: 1, period: day}
    tables:
      - name: fresh
      - name: stale_warn
      - name: stale_error
      - name: filtered
        freshness:
          filter: "kind = 'new'"
      - name: own_field
        loaded_at_field: "cast(day as timestamp)"
        freshness:
          warn_after: {count: 10, period: day}
          error_after: {count: 20, period: day}
      - name: unchecked
        freshness: null
      - name: missing
  - name: other
    tables:
      - name: no_freshness
"""

HOOK = """
on-run-start:
  - "create or replace table fresh as select now()::timestamp - interval 5 minute as loaded_at"
  - "create or replace table stale_warn as select now()::timestamp - interval 3 hour as loaded_at"
  - "create or replace table stale_error as select now() - interval 2 day as loaded_at"
  - "create or replace table filtered as select * from (values (now()::timestamp - interval 2 day, 'old'), (now()::timestamp, 'new')) t(loaded_at, kind)"
  - "create or replace table own_field as select current_date - 15 as day"
  - "create or replace table unchecked as select now()::timestamp - interval 9 day as loaded_at"
"""


def freshness_project(project_factory):
    # a run with no models executes the hooks that create the source tables
    root = project_factory(
        {"modelkit.yml": "name: demo\n" + HOOK, "models/_sources.yml": SOURCES, "models/noop.sql": "select 1 as x"}
    )
    assert run_cli("run", cwd=root).exit_code == 0
    return root


def test_source_freshness_command(project_factory) -> None:
    root = freshness_project(project_factory)
    out = run_cli("source", "freshness", cwd=root)
    assert out.exit_code == 1, out.output  # one stale error and one missing table
    lines = out.output
    assert "START freshness of raw.fresh" in lines
    assert "PASS freshness of raw.fresh " in lines and "[PASS in " in lines
    assert "WARN freshness of raw.stale_warn " in lines and "[WARN in " in lines
    assert "ERROR STALE freshness of raw.stale_error " in lines and "[ERROR STALE in " in lines
    assert "PASS freshness of raw.filtered " in lines
    assert "WARN freshness of raw.own_field " in lines
    assert "ERROR freshness of raw.missing " in lines and "Failure in source raw.missing (models/_sources.yml)" in lines
    assert "unchecked" not in lines and "no_freshness" not in lines
    assert "Finished running 6 sources in " in lines
    assert lines.rstrip().endswith("Done.")
    data = json.loads((root / "target" / "sources.json").read_text())
    assert data["metadata"]["dbt_schema_version"] == "https://schemas.getdbt.com/dbt/sources/v3.json"
    by_id = {r["unique_id"]: r for r in data["results"]}
    assert {uid.split(".")[-1]: r["status"] for uid, r in by_id.items()} == {
        "fresh": "pass", "stale_warn": "warn", "stale_error": "error", "filtered": "pass",
        "own_field": "warn", "missing": "runtime error",
    }  # fmt: skip
    fresh = by_id["source.demo.raw.fresh"]
    assert set(fresh) == {
        "unique_id", "max_loaded_at", "snapshotted_at", "max_loaded_at_time_ago_in_s", "status", "criteria",
        "adapter_response", "timing", "thread_id", "execution_time",
    }  # fmt: skip
    assert 250 < fresh["max_loaded_at_time_ago_in_s"] < 3000
    assert fresh["criteria"] == {
        "warn_after": {"count": 1, "period": "hour"},
        "error_after": {"count": 1, "period": "day"},
        "filter": None,
    }
    assert by_id["source.demo.raw.filtered"]["criteria"]["filter"] == "kind = 'new'"
    assert by_id["source.demo.raw.own_field"]["criteria"]["warn_after"] == {"count": 10, "period": "day"}
    assert by_id["source.demo.raw.missing"]["error"] and set(by_id["source.demo.raw.missing"]) == {
        "unique_id", "error", "status",
    }  # fmt: skip


def test_selection_and_output_path(project_factory, tmp_path) -> None:
    root = freshness_project(project_factory)
    target = tmp_path / "out" / "fresh.json"
    out = run_cli("source", "freshness", "-s", "source:raw.fresh", "source:raw.stale_warn", "-o", str(target), cwd=root)
    assert out.exit_code == 0, out.output  # a warning does not fail the command
    assert "1 of 2 START freshness of raw.fresh" in out.output
    data = json.loads(target.read_text())
    assert sorted(r["status"] for r in data["results"]) == ["pass", "warn"]


def test_freshness_results_are_dbt_events_in_json_logs(project_factory) -> None:
    root = freshness_project(project_factory)
    out = run_cli("source", "freshness", "--log-format", "json", cwd=root)
    assert out.exit_code == 1
    events = [json.loads(line) for line in out.output.splitlines() if line.startswith("{")]
    results = {e["data"]["node_info"]["unique_id"]: e for e in events if e["info"]["name"] == "LogFreshnessResult"}
    assert results["source.demo.raw.fresh"]["info"]["code"] == "Q018"
    assert results["source.demo.raw.fresh"]["data"]["status"] == "pass"
    assert results["source.demo.raw.stale_error"]["info"]["level"] == "error"
    assert results["source.demo.raw.fresh"]["data"]["node_info"]["resource_type"] == "source"
    starts = [e for e in events if e["info"]["name"] == "LogStartLine"]
    assert len(starts) == len(results) == 6
