"""Generated projects and the per-tool copies the commands run in."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import time
from pathlib import Path

from .measure import run_once
from .tools import Tool

TRASH = "trash"  # under the work folder: target/ folders of finished runs, deleted at the end
DB_FILE = "bench.duckdb"  # the profile's DuckDB path, relative to the project folder (see genproject_files.py)
STAMP = ".generated"


class HarnessError(Exception):
    """A setup step failed (generation, seeding, installing dbt): the run cannot go on."""


def generator_digest(gen_script: Path) -> str:
    """SHA-256 of a generator script and of the modules it is split into: ``STEM_*.py`` beside it."""
    digest = hashlib.sha256()
    for path in [gen_script, *sorted(gen_script.parent.glob(f"{gen_script.stem}_*.py"))]:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def generate(gen_script: Path, size: int, dest: Path, log: Path) -> Path:
    """The project of ``size`` models under ``dest``, generated once and reused while the generator is unchanged.

    Unchanged means the same :func:`generator_digest`: editing any module of the generator regenerates.
    """
    key = f"{generator_digest(gen_script)} models={size} seed=0\n"
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
        self._to_trash(root)
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
        """No target/ folder: it is moved to the trash, which is emptied when the whole run is over.

        Deleting thousands of files right before a timed run would slow down creating files in that run:
        ext4 without a journal (as on the benchmark machine) skips inodes deleted in the last minute or
        so when it allocates new ones, scanning past each of them, and that kernel time was counted in
        the next ``compile`` (about 1.5 s for 2,300 files at 1,000 models).
        """
        self._to_trash(self.root / "target")
        self.state = "cold"

    def _to_trash(self, folder: Path) -> None:
        if folder.exists():
            trash = self.root.parent.parent / TRASH
            trash.mkdir(parents=True, exist_ok=True)
            folder.rename(trash / f"{self.root.parent.name}-{self.root.name}-{folder.name}-{time.time_ns()}")

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


def empty_trash(work_dir: Path) -> None:
    """Delete the target/ folders that :meth:`Workspace.clean_target` set aside."""
    shutil.rmtree(work_dir / TRASH, ignore_errors=True)
