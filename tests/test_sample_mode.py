"""dbt's ``--sample``: models read only a window of the inputs that declare an ``event_time``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import query
from suite_support import db, dbt_project, run

FILES = {
    "models/events.sql": "{{ config(materialized='table', event_time='event_at') }}\n"
    "select 1 as id, timestamp '2025-01-01 10:00' as event_at union all "
    "select 2, timestamp '2025-01-02 10:00' union all select 3, timestamp '2025-01-03 10:00'\n",
    "models/plain.sql": "{{ config(materialized='table') }}\nselect 7 as id\n",
    "models/reader.sql": "{{ config(materialized='table') }}\n"
    "select id from {{ ref('events') }} union all select id from {{ ref('plain') }}\n",
    "models/schema.yml": "version: 2\nmodels:\n  - name: events\n    data_tests:\n      - dbt_utils_free_count: {}\n",
    "tests/generic/count.sql": "{% test dbt_utils_free_count(model) %}\n"
    "select 1 from (select count(*) as n from {{ model }}) c where n != 3\n{% endtest %}\n",
}


def test_a_window_of_dates_reads_only_those_rows(tmp_path: Path) -> None:
    root = dbt_project(tmp_path / "p", FILES)
    run(root, "build", "--sample", "{start: 2025-01-02, end: 2025-01-03}")
    # the input with an event_time is read for the window; the other is read whole
    assert query(db(root), "select id from reader order by id") == [(2,), (7,)]
    # the input itself is built whole (its own SQL reads nothing sampled), and its test reads it whole
    assert query(db(root), "select count(*) from events") == [(3,)]
    statuses = {
        r["unique_id"]: r["status"] for r in json.loads((root / "target/run_results.json").read_text())["results"]
    }
    assert "pass" in statuses.values() and "fail" not in statuses.values()
    compiled = (root / "target/compiled/test/models/reader.sql").read_text()
    assert "event_at >= '2025-01-02 00:00:00+00:00' and event_at < '2025-01-03 00:00:00+00:00'" in compiled


def test_without_sample_everything_is_read(tmp_path: Path) -> None:
    root = dbt_project(tmp_path / "p", FILES)
    run(root, "run")
    assert query(db(root), "select count(*) from reader") == [(4,)]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("3 weeks", "Invalid grain size 'weeks'. Must be one of ['hour', 'day', 'month', 'year', 'hours', 'days'"),
        ("three days", "Unable to convert 'three' to an integer."),
        ("3", "Cannot load SAMPLE_WINDOW from '3'. Must be of form 'DAYS_INT GRAIN_SIZE'."),
    ],
)
def test_a_bad_sample_is_a_usage_error(tmp_path: Path, spec: str, message: str) -> None:
    root = dbt_project(tmp_path / "p", FILES)
    output = run(root, "run", "--sample", spec, expect=2)
    assert "Invalid value for '--sample'" in output and message in output
    assert not db(root).exists() or query(db(root), "select count(*) from information_schema.tables") == [(0,)]
