"""The benchmark harness (benchmarks/run.py) runs end to end on a tiny project and reports every row."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from conftest import BENCHMARKS as BENCH
from harness.measure import run_once
from harness.workspace import generate


def test_peak_memory_is_the_child_process_own(tmp_path: Path) -> None:
    big = run_once(
        [sys.executable, "-c", "x = bytearray(200 * 1024 * 1024); x[::4096] = b'1' * len(x[::4096])"],
        tmp_path,
        {},
        tmp_path / "log",
    )
    small = run_once([sys.executable, "-c", "pass"], tmp_path, {}, tmp_path / "log")
    assert big.returncode == 0 and small.returncode == 0
    assert big.peak_mb > 200  # the 200 MB buffer counts
    assert small.peak_mb < 100  # a later, smaller child is measured on its own
    failing = run_once([sys.executable, "-c", "raise SystemExit(3)"], tmp_path, {}, tmp_path / "log")
    assert failing.returncode == 3
    missing = run_once(["no-such-command-here"], tmp_path, {}, tmp_path / "log")
    assert missing.returncode == 127


def test_peak_memory_does_not_include_the_harness(tmp_path: Path) -> None:
    ballast = bytearray(300 * 1024 * 1024)  # the harness itself holding a lot of memory
    ballast[::4096] = b"1" * len(ballast[::4096])
    small = run_once([sys.executable, "-c", "pass"], tmp_path, {}, tmp_path / "log")
    assert small.returncode == 0 and small.peak_mb < 100
    del ballast


def test_generated_project_is_reused_until_the_generator_changes(tmp_path: Path) -> None:
    for module in BENCH.glob("genproject*.py"):
        shutil.copy(module, tmp_path / module.name)
    script, dest, log = tmp_path / "genproject.py", tmp_path / "work" / "source", tmp_path / "generate.log"
    assert generate(script, 12, dest, log) == dest
    assert len(list((dest / "models").rglob("*.sql"))) == 12
    marker = dest / "marker"
    marker.touch()
    generate(script, 12, dest, log)
    assert marker.exists()  # unchanged generator, same size: reused
    with (tmp_path / "genproject_sql.py").open("a") as f:
        f.write("# changed\n")
    generate(script, 12, dest, log)
    assert not marker.exists()  # a module of the generator changed: generated again
    marker.touch()
    generate(script, 13, dest, log)
    assert not marker.exists() and len(list((dest / "models").rglob("*.sql"))) == 13


def test_quick_run_writes_every_row(tmp_path: Path) -> None:
    out = tmp_path / "RESULTS.md"
    done = subprocess.run(
        [sys.executable, str(BENCH / "run.py"), "--sizes", "20", "--quick"]
        + ["--work-dir", str(tmp_path / "work"), "--output", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    text = out.read_text()
    for heading in ("## Machine", "## Targets", "## Start-up", "## 20 models"):
        assert heading in text
    for row in (
        "| parse (cold: no target/) | ",
        "| parse again, nothing changed | ",
        "| compile (cold) | ",
        "| compile again, nothing changed | ",
        "| run --threads 1 | ",
        "| run --threads 4 | ",
        "| run again, nothing changed (--threads 4) | ",
        "| test (after a run) | ",
        "| docs generate (after a run) | ",
        "| build (cold) | ",
        "| cold parse, 10,000 models | < 2 s | ",
        "| `modelkit --help` | < 0.3 s | ",
    ):
        assert row in text, row

    results = json.loads((tmp_path / "results.json").read_text())
    cells = results["sizes"]["20"]["modelkit"]
    for key in ("parse_cold", "parse_warm", "compile", "compile_warm", "run_t1", "run_t4", "run_again"):
        assert cells[key]["status"] == "ok", (key, cells[key])
        assert cells[key]["seconds"] > 0 and cells[key]["peak_mb"] > 10
    for key in ("test", "docs_generate", "build"):  # measured once the command exists, else reported absent
        assert cells[key]["status"] in ("ok", "absent"), (key, cells[key])
    floor = results["sizes"]["20"]["floor"]["models"]
    assert floor["status"] == "ok" and 0 < floor["seconds"] < cells["run_t1"]["seconds"]
    assert results["sizes"]["20"]["counts"]["modelkit"]["model"] == 20
    assert results["help"]["modelkit"]["status"] == "ok"
    assert "not measured" in text  # 10,000 models were not part of this run

    again = tmp_path / "again.md"
    rendered = subprocess.run(
        [
            sys.executable,
            str(BENCH / "run.py"),
            "--render-only",
            str(tmp_path / "results.json"),
            "--output",
            str(again),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert rendered.returncode == 0, rendered.stdout + rendered.stderr
    assert again.read_text() == text  # the report is a function of the raw results
