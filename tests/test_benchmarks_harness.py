"""The benchmark harness (benchmarks/run.py) runs end to end on a tiny project and reports every row."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import BENCHMARKS as BENCH
from harness.measure import OK, Cell, Sample, run_once
from harness.report import CHANGE_TARGETS, targets
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


def test_change_scenarios_run_and_leave_no_analysis_cache_behind(tmp_path: Path) -> None:
    keys = "compile_analysis_off,compile_analysis_cold,docs_generate_unbuilt,run_skip_unchanged"
    done = subprocess.run(
        [sys.executable, str(BENCH / "run.py"), "--sizes", "20", "--repeat", "1", "--scenarios", keys]
        + ["--work-dir", str(tmp_path / "work"), "--output", str(tmp_path / "RESULTS.md")],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    cells = json.loads((tmp_path / "results.json").read_text())["sizes"]["20"]["modelkit"]
    for key in keys.split(","):
        assert cells[key]["status"] == "ok", (key, cells[key])
    text = (tmp_path / "RESULTS.md").read_text()
    assert "| compile, parse cache warm, no analysis cache | " in text
    assert "| docs generate (cold: nothing built) | " in text


def _cell(seconds: float) -> Cell:
    return Cell(OK, [Sample(seconds, 50.0, 0)])


@pytest.mark.parametrize(
    ("on", "off", "size", "verdict"),
    [
        (1.5, 0.8, 1000, "PASS"),  # adds 0.7 s, under 1 s
        (2.0, 0.8, 1000, "MISS"),  # adds 1.2 s
        (9.0, 2.0, 10000, "PASS"),  # adds 7 s, under 8 s
        (11.0, 2.0, 10000, "MISS"),
    ],
)
def test_static_analysis_target_is_the_difference_of_two_compiles(
    on: float, off: float, size: int, verdict: str
) -> None:
    cells = {"compile_analysis_cold": _cell(on), "compile_analysis_off": _cell(off)}
    results = {"sizes": {size: {"modelkit": cells}}, "help": {}}
    [target] = [t for t in targets(results) if t.name == f"static analysis added to `compile`, {size:,} models"]
    assert target.verdict == verdict
    assert f"{on - off:+.3f} s" in target.measured


@pytest.mark.parametrize(
    ("size", "key", "seconds", "verdict"),
    [
        (10000, "parse_one_model_edited", 0.25, "PASS"),
        (10000, "parse_one_model_edited", 0.35, "MISS"),
        (10000, "parse_macro_edited", 0.55, "PASS"),
        (10000, "compile_select_edited", 0.6, "MISS"),
        (1000, "run_skip_unchanged", 0.4, "PASS"),
        (5000, "docs_generate_unbuilt", 5.5, "MISS"),
    ],
)
def test_change_targets_read_their_own_size_and_row(size: int, key: str, seconds: float, verdict: str) -> None:
    results = {"sizes": {size: {"modelkit": {key: _cell(seconds)}}}, "help": {}}
    name = next(name for name, s, k, _ in CHANGE_TARGETS if k == key and s == size)
    [target] = [t for t in targets(results) if t.name == name]
    assert target.verdict == verdict
    others = [t for t in targets(results) if t.name != name and t.verdict in ("PASS", "MISS")]
    assert others == []  # no other target reads this cell
