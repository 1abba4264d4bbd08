"""Generated projects and the per-tool copies the commands run in."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

from .measure import run_once
from .tools import Tool

DB_FILE = "bench.duckdb"  # the profile's DuckDB path, relative to the project folder (see gen_project.py)
STAMP = ".generated"


class HarnessError(Exception):
    """A setup step failed (generation, seeding, installing dbt): the run cannot go on."""


def generate(gen_script: Path, size: int, dest: Path, log: Path) -> Path:
    """The project of ``size`` models under ``dest``, generated once and reused while the generator is unchanged."""
    key = f"{hashlib.sha256(gen_script.read_bytes()).hexdigest()} models={size} seed=0\n"
    stamp = dest / STAMP
    if stamp.exists() and stamp.read_text() == key:
        return dest
    shutil.rmtree(dest, ignore_errors=True)
    dest.parent.mkdir(parents=True, exist_ok=True)
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        done = subprocess.run(
            [sys.executable, str(gen_script), "--models", str(size), "--out", str(dest)], stdout=out, stderr=out
        )
    if done.returncode != 0:
        raise HarnessError(f"generating {size} models failed; see {log}")
    stamp.write_text(key)
    return dest


class Workspace:
    """One tool's own copy of a generated project, and the DuckDB file holding its seeds."""

    def __init__(self, tool: Tool, source: Path, root: Path, log: Path) -> None:
        self.tool = tool
        self.root = root
        self.log = log
        self.seeded = root.parent / f"{tool.name}-seeded.duckdb"
        self.manifest = root.parent / f"{tool.name}-manifest.json"  # copied after `compile`, for the floor
        self.state = "cold"  # cold | parsed | built
        shutil.rmtree(root, ignore_errors=True)
        self.seeded.unlink(missing_ok=True)
        self.manifest.unlink(missing_ok=True)
        shutil.copytree(source, root, ignore=shutil.ignore_patterns(STAMP, "target", "logs", DB_FILE + "*"))

    @property
    def db(self) -> Path:
        return self.root / DB_FILE

    def ensure_seeded(self) -> None:
        """Load the seeds once (untimed) and keep a copy of the database file to start every run from."""
        if self.seeded.exists():
            return
        self._remove_db()
        sample = run_once(self.tool.command("seed"), self.root, self.tool.env, self.log)
        if sample.returncode != 0 or not self.db.exists():
            raise HarnessError(f"{self.tool.name} seed failed in {self.root}; see {self.log}")
        shutil.copyfile(self.db, self.seeded)
        self.clean_target()

    def fresh_db(self) -> None:
        """Replace the project's database with a copy of the seeded one."""
        self.ensure_seeded()
        self._remove_db()
        shutil.copyfile(self.seeded, self.db)

    def clean_target(self) -> None:
        shutil.rmtree(self.root / "target", ignore_errors=True)
        self.state = "cold"

    def cold(self) -> None:
        """No target/ folder and a freshly seeded database."""
        self.clean_target()
        self.fresh_db()

    def untimed(self, *args: str) -> None:
        """Bring the project to a state by running a command that is not measured."""
        sample = run_once(self.tool.command(*args), self.root, self.tool.env, self.log)
        if sample.returncode != 0:
            raise HarnessError(f"{self.tool.name} {' '.join(args)} failed in {self.root}; see {self.log}")

    def _remove_db(self) -> None:
        for path in (self.db, self.root / (DB_FILE + ".wal")):
            path.unlink(missing_ok=True)
