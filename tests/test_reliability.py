"""Concurrent runs, kills, failing writes and secrets: what modelkit guarantees when things go wrong."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from bad_input_support import artifacts_whole
from conftest import query, run_cli, write_files

from modelkit.core import fsio
from modelkit.core.errors import FileSystemError

SLOW = "select sum(a.range * b.range) as n from range(2000000) a, range(2000000) b"  # runs until stopped
BASE = {
    "modelkit.yml": "name: demo\nconnection: {path: warehouse.duckdb}\nmodels:\n  demo:\n    +materialized: table\n",
    "models/first.sql": "select 1 as id",
    "models/second.sql": "select id + 1 as id from {{ ref('first') }}",
}


def start(root: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    # a process started in the background inherits SIGINT ignored; Ctrl-C must reach this one. It is set
    # back in the new interpreter (not with preexec_fn: forking this process, which may hold the threads of
    # an engine's client library from other tests, can break the child before it starts)
    launch = (
        "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); "
        "os.execv(sys.executable, [sys.executable, '-m', 'modelkit.cli', *sys.argv[1:]])"
    )
    return subprocess.Popen(
        [sys.executable, "-c", launch, *args],
        cwd=root,
        env={**os.environ, "NO_COLOR": "1", **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def wait_for(proc: subprocess.Popen[str], marker: str) -> str:
    assert proc.stdout is not None
    seen = []
    for line in proc.stdout:
        seen.append(line)
        if marker in line:
            return "".join(seen)
    raise AssertionError(f"{marker!r} never printed:\n{''.join(seen)}")


def finish(proc: subprocess.Popen[str]) -> tuple[int, str]:
    out, _ = proc.communicate(timeout=120)
    return proc.returncode, out


@pytest.fixture
def built(tmp_path: Path) -> Path:
    root = write_files(tmp_path / "p", BASE)
    assert run_cli("run", cwd=root).exit_code == 0
    return root


# -- two processes on one database file --------------------------------------------------------------------
def test_second_process_fails_at_once_naming_the_file_and_the_holder(built: Path) -> None:
    write_files(
        built, {"models/slow.sql": f"{{% if var('slow', false) %}}{SLOW}{{% else %}}select 1 as n{{% endif %}}"}
    )
    first = start(built, "run", "-s", "slow", "--vars", "{slow: true}")
    try:
        wait_for(first, "START sql table model main.slow")
        began = time.monotonic()
        code, out = finish(start(built, "run"))
        assert code == 2, out
        assert time.monotonic() - began < 30
        assert "Connection Error" in out and str(built / "warehouse.duckdb") in out
        assert f"PID {first.pid}" in out and "Traceback" not in out
    finally:
        first.send_signal(signal.SIGINT)  # Ctrl-C: the slow model is rolled back
        code, out = finish(first)
    assert code == 2 and "Interrupted" in out and "Traceback" not in out, out
    assert query(built / "warehouse.duckdb", "select * from first union all select * from second") == [(1,), (2,)]
    artifacts_whole(built / "target")
    assert run_cli("run", "--exclude", "slow", cwd=built).exit_code == 0  # and the file works as before


def test_lock_timeout_waits_for_the_holder(built: Path) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('ready', flush=True);"
         " time.sleep(2)", str(built / "warehouse.duckdb")],
        stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
    began = time.monotonic()
    code, out = finish(start(built, "run", env={"MODELKIT_LOCK_TIMEOUT": "60"}))
    holder.wait(timeout=30)
    assert code == 0, out
    assert time.monotonic() - began > 1


def test_two_runs_at_once_never_break_the_database_or_the_artifacts(built: Path) -> None:
    write_files(built, {f"models/m{i}.sql": f"select {i} as id from {{{{ ref('first') }}}}" for i in range(30)})
    procs = [start(built, "run"), start(built, "run")]
    results = [finish(p) for p in procs]
    codes = sorted(code for code, _ in results)
    assert codes[0] == 0, results
    for code, out in results:
        assert code == 0 or (code == 2 and "in use by another process" in out), out
        assert "Traceback" not in out
    assert query(built / "warehouse.duckdb", "select count(*) from m29") == [(1,)]
    artifacts_whole(built / "target")
    run_results = json.loads((built / "target" / "run_results.json").read_text())
    assert {r["status"] for r in run_results["results"]} == {"success"}


def test_sigkill_never_leaves_a_truncated_artifact(built: Path) -> None:
    write_files(built, {f"models/m{i}.sql": f"select {i} as id from {{{{ ref('first') }}}}" for i in range(200)})
    for delay in (0.5, 1.0, 1.5, 2.5):
        proc = start(built, "run", "--threads", "2")
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=60)
        for path in (built / "target").rglob("*.json"):
            json.loads(path.read_bytes())  # whole: the old version or the new one
        for path in (built / "target" / "compiled").rglob("*.sql"):
            assert path.read_text().startswith("select"), path
    assert run_cli("run", cwd=built).exit_code == 0
    assert query(built / "warehouse.duckdb", "select count(*) from m199") == [(1,)]


# -- the write helper ------------------------------------------------------------------------------------------
def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    path = tmp_path / "t" / "state.json"
    fsio.atomic_write(path, b'{"old": true}')

    def chunks():
        yield b'{"new": '
        raise RuntimeError("stopped half-way")

    with pytest.raises(RuntimeError):
        fsio.atomic_write(path, chunks())
    assert path.read_bytes() == b'{"old": true}'
    assert [p.name for p in path.parent.iterdir()] == ["state.json"]


def test_a_full_disk_is_a_located_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """ENOSPC injected at the write calls (the real thing is in test_bad_input: target_disk_full)."""
    path = tmp_path / "results.json"
    fsio.atomic_write(path, b"{}")
    real_write = os.write

    def full(fd: int, data: bytes, *offset: int) -> int:
        if fd <= 2:  # the test's own output
            return real_write(fd, data)
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "write", full)
    monkeypatch.setattr(os, "pwrite", full)
    with pytest.raises(FileSystemError) as info:
        fsio.atomic_write(path, b'{"a": 1}')
    assert "no space left on the device" in str(info.value) and str(path) in str(info.value)
    assert path.read_bytes() == b"{}" and [p.name for p in tmp_path.iterdir()] == ["results.json"]


# -- secrets ---------------------------------------------------------------------------------------------------
SECRET = "hunter2-very-secret"


def test_secrets_stay_out_of_output_and_artifacts(tmp_path: Path) -> None:
    root = write_files(
        tmp_path / "p",
        {
            "modelkit.yml": "name: demo\nprofile: demo\n",
            "profiles.yml": """
                demo:
                  target: dev
                  outputs:
                    dev:
                      type: duckdb
                      path: warehouse.duckdb
                      api_key: "{{ env_var('DBT_ENV_SECRET_API_KEY') }}"
                """,
            "models/ok.sql": "select '{{ target.api_key }}' as key",
            "models/bad.sql": 'select * from "{{ target.api_key }}"',
        },
    )
    env = {"DBT_ENV_SECRET_API_KEY": SECRET}
    out = run_cli("run", "--profiles-dir", str(root), cwd=root, env=env)
    assert out.exit_code == 1, out.output
    assert "*****" in out.output and SECRET not in out.output
    for name in ("manifest.json", "run_results.json"):
        text = (root / "target" / name).read_text()
        assert SECRET not in text and "*****" in text, name
    # the SQL sent to the database, and the compiled files, hold the real value (as in dbt)
    assert query(root / "warehouse.duckdb", "select key from ok") == [(SECRET,)]
    assert SECRET in (root / "target" / "compiled" / "demo" / "models" / "ok.sql").read_text()
    debug = run_cli("debug", "--profiles-dir", str(root), cwd=root, env=env)
    assert SECRET not in debug.output


# -- errors --------------------------------------------------------------------------------------------------
def test_an_internal_error_shows_a_traceback_only_with_debug(project_factory, monkeypatch) -> None:
    from modelkit.api import parsing

    root = project_factory({"models/a.sql": "select 1 as id"})

    def broken(*args, **kwargs):
        raise RuntimeError("something modelkit did not expect")

    monkeypatch.setattr(parsing, "parse_summary", broken)
    plain = run_cli("parse", cwd=root)
    assert plain.exit_code == 2
    assert "Internal Error" in plain.output and "something modelkit did not expect" in plain.output
    assert "Traceback" not in plain.output and "--debug" in plain.output
    with_debug = run_cli("parse", "--debug", cwd=root)
    assert with_debug.exit_code == 2 and "Traceback" in with_debug.output


def test_duplicate_keys_in_vars_are_a_usage_error(project_factory) -> None:
    root = project_factory({"models/a.sql": "select {{ var('x') }} as id"})
    out = run_cli("run", "--vars", "{x: 1, x: 2}", cwd=root)
    assert out.exit_code == 2 and "duplicate key 'x'" in out.output and "--vars" in out.output


@pytest.mark.parametrize("threads", ["1", "4"])
def test_ctrl_c_stops_a_long_statement_at_once(built: Path, threads: str) -> None:
    write_files(built, {"models/slow.sql": SLOW})
    proc = start(built, "run", "--threads", threads)
    wait_for(proc, "START sql table model main.slow")
    time.sleep(0.5)
    began = time.monotonic()
    proc.send_signal(signal.SIGINT)
    code, out = finish(proc)
    assert code == 2 and "Interrupted" in out and "Traceback" not in out, out
    assert time.monotonic() - began < 20
    assert query(
        built / "warehouse.duckdb", "select count(*) from information_schema.tables where table_name = 'slow'"
    ) == [(0,)]
    artifacts_whole(built / "target")
    # what finished before Ctrl-C is reported as such
    results = json.loads((built / "target" / "run_results.json").read_text())["results"]
    assert {r["unique_id"]: r["status"] for r in results}.get("model.demo.first") == "success"
