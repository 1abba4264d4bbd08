"""``parse``'s scan of the project's files taken by a forked process (modelkit/cli/prescan.py), and the
forked computation it rests on (``compute_forked``). Run in subprocesses: a test process has threads
(and DuckDB loaded), where forking is refused."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

from conftest import write_files

PROJECT = {
    "dbt_project.yml": "name: demo\nprofile: demo\n",
    "profiles.yml": "demo:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: demo.duckdb\n",
    "models/a.sql": "select 1 as id\n",
    "models/b.sql": "select id from {{ ref('a') }}\n",
    "macros/m.sql": "{% macro m() %}1{% endmacro %}\n",
}


def _python(code: str, cwd: Path) -> str:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], cwd=cwd, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_the_forked_scan_is_the_scan_of_the_project_with_that_configuration(tmp_path: Path) -> None:
    root = write_files(tmp_path / "demo", PROJECT)
    out = _python(
        """
        import json
        from pathlib import Path
        from modelkit.cli import prescan
        from modelkit.parse import state
        from modelkit.project.profiles import load_target
        from modelkit.project.project import load_project

        scan = prescan.start(Path("."), Path("."), None, None, None)
        assert scan is not None  # one thread, no engine loaded: this process forks
        project = load_project(".", {})
        target = load_target(project, profiles_dir=Path("."), target=None, profile=None, threads=None, cli_vars={})
        project = project.with_target(target.to_context())
        forked = scan.files(state.key(project, target, {}))
        other = scan.files("another configuration")
        scan.close()
        print(json.dumps({"same": forked == state.scan(project), "files": sorted(forked), "other": other}))
        """,
        root,
    )
    found = json.loads(out)
    assert found["same"] is True and found["other"] is None
    assert {"models/a.sql", "models/b.sql", "macros/m.sql", "dbt_project.yml"} <= set(found["files"])


def test_a_forked_computation_returns_its_bytes_and_a_failing_one_nothing(tmp_path: Path) -> None:
    out = _python(
        """
        import json, time
        from modelkit.core.forked import compute_forked

        ok = compute_forked(lambda: b"x" * 1_000_000)  # more than a pipe holds: read while written
        failed = compute_forked(lambda: 1 / 0)
        noisy = compute_forked(lambda: print("from the child") or b"quiet")  # its output goes nowhere
        blocked = compute_forked(lambda: b"y" * 5_000_000)
        started = time.monotonic()
        blocked.close()  # given up while it writes: it stops, and is reaped
        print(json.dumps({"ok": len(ok.output()), "failed": failed.output(), "noisy": noisy.output().decode(),
                          "closed_in": time.monotonic() - started}))
        """,
        tmp_path,
    )
    found = json.loads(out)
    assert found == {**found, "ok": 1_000_000, "failed": None, "noisy": "quiet"}
    assert found["closed_in"] < 10 and "from the child" not in out


def test_an_edit_is_found_by_a_parse_that_takes_the_forked_scan(tmp_path: Path) -> None:
    root = write_files(tmp_path / "demo", PROJECT)

    def parse() -> dict:
        done = subprocess.run([sys.executable, "-m", "modelkit.cli", "parse", "--profiles-dir", "."], cwd=root,
                              capture_output=True, text=True, timeout=120)  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
        return json.loads((root / "target" / "manifest.json").read_text())

    parse()
    (root / "models" / "b.sql").write_text("select id, 2 as two from {{ ref('a') }}\n")
    (root / "models" / "c.sql").write_text("select * from {{ ref('b') }}\n")
    nodes = parse()["nodes"]
    assert "2 as two" in nodes["model.demo.b"]["raw_code"]
    assert nodes["model.demo.c"]["depends_on"]["nodes"] == ["model.demo.b"]
    assert parse()["nodes"]["model.demo.b"]["raw_code"] == nodes["model.demo.b"]["raw_code"]  # and again, unchanged


def test_compile_and_run_take_the_forked_scan_and_find_an_edit(tmp_path: Path) -> None:
    root = write_files(tmp_path / "demo", PROJECT)

    def modelkit(*args: str) -> str:
        done = subprocess.run([sys.executable, "-m", "modelkit.cli", *args, "--profiles-dir", "."], cwd=root,
                              capture_output=True, text=True, timeout=120)  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    modelkit("run")
    (root / "models" / "b.sql").write_text("select id, 'edited' as note from {{ ref('a') }}\n")
    assert "'edited' as note" in modelkit("compile", "-s", "b")
    modelkit("run", "--threads", "2")  # (another target configuration: a scan of its own may be taken)
    rows = subprocess.run([sys.executable, "-c", "import duckdb; print(duckdb.connect('demo.duckdb').execute("
                           "'select note from b').fetchall())"], cwd=root, capture_output=True, text=True)  # fmt: skip
    assert "edited" in rows.stdout, rows.stdout + rows.stderr
