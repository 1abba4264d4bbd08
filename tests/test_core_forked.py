"""Work run by a forked process: its outcome reported to the parent, and no fork where forking is unsafe.

Forking only happens from a process running one thread, so each case runs in a fresh interpreter (pytest's
own workers run other threads).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")

SCRIPT = """
import json, os, sys, threading, time
from pathlib import Path
from modelkit.core.forked import run_forked
out = Path(sys.argv[1])
case = sys.argv[2]
def work():
    if case == "raises":
        raise RuntimeError("boom")
    time.sleep(0.2)  # still running when the parent reaches wait()
    out.write_text(str(os.getpid()))
if case == "thread":
    stop = threading.Event()
    threading.Thread(target=stop.wait, daemon=True).start()
if case == "engine":
    import duckdb
forked = run_forked(work)
report = {"forked": forked is not None, "parent": os.getpid()}
if forked is not None:
    report["written_before_wait"] = out.exists()
    report["ok"] = forked.wait()
    report["ok_again"] = forked.wait()
    report["child"] = int(out.read_text()) if out.exists() else None
print(json.dumps(report))
"""


def run(tmp_path: Path, case: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path / "out.txt"), case],
        capture_output=True,
        text=True,
        cwd=REPO,
        check=True,
    )
    return json.loads(done.stdout)


def test_the_parent_waits_for_the_work_done_by_its_child(tmp_path: Path) -> None:
    report = run(tmp_path, "writes")
    assert report["forked"] and report["ok"] and report["ok_again"]
    assert not report["written_before_wait"]  # the parent went on while the child worked
    assert report["child"] not in (None, report["parent"])  # written by another process


def test_work_that_raises_is_a_failure(tmp_path: Path) -> None:
    report = run(tmp_path, "raises")
    assert report["forked"] and report["ok"] is False and report["child"] is None


@pytest.mark.parametrize("case", ["thread", "engine"])
def test_no_fork_from_a_process_running_threads_or_an_engine(tmp_path: Path, case: str) -> None:
    assert run(tmp_path, case)["forked"] is False
    assert not (tmp_path / "out.txt").exists()  # nor the work done
