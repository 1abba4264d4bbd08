"""The microbatch incremental strategy: windows from begin, lookback, explicit bounds, filtered inputs."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from conftest import embedded_db, make_project, query, run_cli

from modelkit.core.batches import ceiling, offset, plan, truncate, windows

UTC = dt.timezone.utc
NOW = dt.datetime.now(UTC)
TODAY = truncate(NOW, "day")


def day(n: int) -> str:
    """The day ``n`` days before today, as a timestamp string."""
    return (TODAY - dt.timedelta(days=n)).strftime("%Y-%m-%d %H:%M:%S")


def events_project(tmp_path: Path, extra_config: str = "") -> Path:
    rows = "\n".join(f"{i},{day(d)},{10 * i}" for i, d in enumerate([5, 4, 4, 2, 1, 0], start=1))
    return make_project(
        tmp_path / "demo",
        {
            "seeds/events.csv": "id,ts,amount\n" + rows + "\n",
            "seeds/_seeds.yml": "seeds:\n  - name: events\n    config:\n      event_time: ts\n",
            "models/daily.sql": f"""
                {{{{ config(materialized='incremental', incremental_strategy='microbatch',
                          event_time='ts', batch_size='day', begin='{day(6)[:10]}'{extra_config}) }}}}
                select id, ts, amount from {{{{ ref('events') }}}}
            """,
        },
    )


def test_first_build_runs_every_window_from_begin(tmp_path: Path) -> None:
    root = events_project(tmp_path)
    assert run_cli("seed", cwd=root).exit_code == 0
    result = run_cli("run", cwd=root)
    assert result.exit_code == 0, result.output
    assert "SUCCESS 7 batches" in result.output  # begin 6 days ago up to the end of today
    assert query(embedded_db(root), "select count(*), sum(amount) from daily") == [(6, 210)]
    # each window read only its own rows of `events` (which declares event_time): no row twice
    assert query(embedded_db(root), "select count(distinct id) from daily") == [(6,)]


def test_later_runs_rebuild_only_the_lookback_windows(tmp_path: Path) -> None:
    root = events_project(tmp_path)
    assert run_cli("seed", cwd=root).exit_code == 0
    assert run_cli("run", cwd=root).exit_code == 0
    db = embedded_db(root)
    # change an old row and a recent one in the source: only the recent window is read again
    (root / "seeds" / "events.csv").write_text(
        (root / "seeds" / "events.csv").read_text().replace(",10\n", ",11\n").replace(",60\n", ",61\n")
    )
    assert run_cli("seed", cwd=root).exit_code == 0
    result = run_cli("run", cwd=root)
    assert result.exit_code == 0, result.output
    assert "SUCCESS 2 batches" in result.output  # lookback 1: yesterday and today
    assert query(db, "select id, amount from daily where id in (1, 6) order by id") == [(1, 10), (6, 61)]
    assert query(db, "select count(*) from daily") == [(6,)]  # re-running a window never duplicates rows


def test_explicit_event_time_bounds_and_full_refresh(tmp_path: Path) -> None:
    root = events_project(tmp_path)
    assert run_cli("seed", cwd=root).exit_code == 0
    assert run_cli("run", cwd=root).exit_code == 0
    db = embedded_db(root)
    (root / "seeds" / "events.csv").write_text((root / "seeds" / "events.csv").read_text().replace(",10\n", ",12\n"))
    assert run_cli("seed", cwd=root).exit_code == 0
    result = run_cli("run", "--event-time-start", day(5)[:10], "--event-time-end", day(4)[:10], cwd=root)
    assert result.exit_code == 0, result.output
    assert "SUCCESS 1 batch" in result.output
    assert query(db, "select amount from daily where id = 1") == [(12,)]
    full = run_cli("run", "--full-refresh", cwd=root)
    assert full.exit_code == 0 and "SUCCESS 7 batches" in full.output
    assert query(db, "select count(*) from daily") == [(6,)]


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (", begin=none", "needs a begin config"),
        (", batch_size='week'", "needs a batch_size config"),
    ],
)
def test_bad_microbatch_config_is_a_clear_node_error(tmp_path: Path, config: str, message: str) -> None:
    root = events_project(tmp_path)
    model = root / "models" / "daily.sql"
    text = model.read_text()
    if "begin=none" in config:
        text = text.replace(f", begin='{day(6)[:10]}'", "")
    else:
        text = text.replace("batch_size='day'", "batch_size='week'")
    model.write_text(text)
    assert run_cli("seed", cwd=root).exit_code == 0
    result = run_cli("run", cwd=root)
    assert result.exit_code == 1
    assert message in result.output and "models/daily.sql" in result.output


def test_a_bad_event_time_flag_is_a_usage_error(tmp_path: Path) -> None:
    root = events_project(tmp_path)
    result = run_cli("run", "--event-time-start", "yesterday", cwd=root)
    assert result.exit_code == 2
    assert "--event-time-start must be a date or timestamp" in result.output


WINDOW_CASES = [
    ("hour", dt.datetime(2024, 9, 17, 16, 6, tzinfo=UTC), -1, dt.datetime(2024, 9, 17, 15, tzinfo=UTC)),
    ("day", dt.datetime(2024, 9, 17, 16, 6, tzinfo=UTC), 1, dt.datetime(2024, 9, 18, tzinfo=UTC)),
    ("month", dt.datetime(2024, 1, 17, tzinfo=UTC), -1, dt.datetime(2023, 12, 1, tzinfo=UTC)),
    ("month", dt.datetime(2024, 12, 17, tzinfo=UTC), 1, dt.datetime(2025, 1, 1, tzinfo=UTC)),
    ("year", dt.datetime(2024, 9, 17, tzinfo=UTC), -1, dt.datetime(2023, 1, 1, tzinfo=UTC)),
]


@pytest.mark.parametrize(("size", "t", "count", "expected"), WINDOW_CASES)
def test_offsets_move_by_whole_windows(size: str, t: dt.datetime, count: int, expected: dt.datetime) -> None:
    assert offset(t, size, count) == expected


def test_plan_of_an_incremental_run_uses_lookback() -> None:
    now = dt.datetime(2024, 9, 17, 16, 6, tzinfo=UTC)
    found = plan({"batch_size": "day", "lookback": 2}, incremental=True, now=now)
    assert [w[0].day for w in found] == [15, 16, 17]
    assert found[-1][1] == ceiling(now, "day")
    assert windows(found[0][0], found[-1][1], "day") == found
