"""The connection opened on a thread of its own while a command parses, selects and analyses
(``Session.open_early``, for engines declaring ``Capability.EARLY_OPEN``), and the analysis worker
that then does not take the same spare core."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import make_project, query, run_cli

from modelkit.analysis import pipeline
from modelkit.api.session import Session
from modelkit.core.errors import ConnectionFailure

FILES = {"models/one.sql": "select 1 as id", "models/two.sql": "select id + 1 as id from {{ ref('one') }}"}


def _database(root: Path) -> Path:
    with Session(root) as session:
        return (root / str(session.target.credentials["path"])).resolve()


def _hold(path: Path, seconds: float) -> subprocess.Popen[str]:
    """Another process holding the DuckDB file's lock for ``seconds``."""
    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('ready', flush=True);"
         f" time.sleep({seconds})", str(path)],
        stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
    return holder


def test_the_connection_opens_on_its_own_thread_and_is_the_one_the_command_uses(tmp_path: Path) -> None:
    root = make_project(tmp_path / "demo", FILES)
    assert run_cli("run", cwd=root).exit_code == 0
    with Session(root) as session:
        assert session.adapter_info()["type"] == "duckdb" and session.open_adapter is None  # (needs no connection)
        assert session.open_early() is True
        assert session.open_early() is False  # once
        adapter = session.adapter
        assert session.open_adapter is adapter
        assert adapter.execute("select count(*) from one", fetch=True).rows == [(1,)]
        assert session.open_early() is False  # already open
    assert session.open_adapter is None  # closed with the session
    assert query(_database(root), "select id from two") == [(2,)]


def test_an_early_open_waiting_for_a_lock_does_not_hold_the_command_and_fails_where_the_connection_is_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = make_project(tmp_path / "demo", FILES)
    assert run_cli("run", cwd=root).exit_code == 0
    holder = _hold(_database(root), 30)
    try:
        monkeypatch.setenv("MODELKIT_LOCK_TIMEOUT", "1.5")
        with Session(root) as session:
            began = time.monotonic()
            assert session.open_early() is True
            manifest = session.manifest  # parsed while the connection waits for the lock
            assert "model.demo.two" in manifest.nodes
            assert time.monotonic() - began < 1.5
            with pytest.raises(ConnectionFailure) as raised:
                session.adapter  # noqa: B018 - the first use waits for the open, and raises its error
            assert time.monotonic() - began >= 1.5
            assert f"PID {holder.pid}" in str(raised.value) and "waited 1.5s" in str(raised.value)
        # opened early, failed, never used: closing the session raises nothing
        with Session(root) as unused:
            assert unused.open_early() is True
    finally:
        holder.kill()
        holder.wait()


def test_a_run_whose_database_is_locked_reports_the_holder_once_and_exits_2(tmp_path: Path) -> None:
    root = make_project(tmp_path / "demo", FILES)
    assert run_cli("run", cwd=root).exit_code == 0
    holder = _hold(_database(root), 30)
    try:
        result = run_cli("run", "--skip-unchanged", cwd=root)
    finally:
        holder.kill()
        holder.wait()
    assert result.exit_code == 2, result.output
    assert result.output.count("in use by another process") == 1 and f"PID {holder.pid}" in result.output
    assert "Traceback" not in result.output
    assert run_cli("run", "--skip-unchanged", cwd=root).exit_code == 0  # and the file works as before


@pytest.mark.parametrize("busy", [0, 1])
def test_an_early_connection_takes_the_spare_core_the_analysis_worker_would(busy: int) -> None:
    cores = len(os.sched_getaffinity(0))
    # with every core but this thread's busy, no worker starts, whatever the load
    assert pipeline.use_worker(pipeline.WORKER_THRESHOLD, busy=cores - 1 + busy) is False
    early = pipeline.EarlyWorker("duckdb", busy=cores - 1 + busy)
    assert early.proc is None
    early.close()


def test_a_released_connection_closes_on_its_own_thread_and_a_later_use_opens_another(tmp_path: Path) -> None:
    root = make_project(tmp_path / "demo", FILES)
    assert run_cli("run", cwd=root).exit_code == 0
    with Session(root) as session:
        first = session.adapter
        first.execute("create table kept as select 42 as answer")
        session.release_connection()
        assert session.open_adapter is None
        session.release_connection()  # nothing open: nothing to do
        again = session.adapter  # waits for the close, then opens the file anew
        assert again is not first and again.execute("select answer from kept", fetch=True).rows == [(42,)]
        session.release_connection()
    assert query(_database(root), "select answer from kept") == [(42,)]  # closed (checkpointed) with the session


def test_a_database_not_there_yet_is_not_opened_early_and_a_failing_parse_makes_none(tmp_path: Path) -> None:
    root = make_project(tmp_path / "demo", {"models/bad.sql": "select * from {{ ref('missing') }}"})
    database = _database(root)
    with Session(root) as session:
        assert session.open_early() is False and session.open_adapter is None
    assert run_cli("run", cwd=root).exit_code == 2
    assert not database.exists()  # opening creates the file: nothing opened it
    (root / "models" / "bad.sql").write_text("select 1 as id")
    assert run_cli("run", cwd=root).exit_code == 0 and database.exists()  # made when first needed
