"""Helpers of the bad-input suite (tests/test_bad_input.py): the case row, small file systems, lock holders."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pytest

# The project every case starts from: built once by a good run before the case spoils it. Its database
# lies outside target/, so that cases that break target/ can still check the tables.
BASE_FILES = {
    "modelkit.yml": "name: demo\nconnection:\n  path: warehouse.duckdb\nmodels:\n  demo:\n    +materialized: table\n",
    "models/first.sql": "select 1 as id\n",
}
BASE_TABLES = {"first": [(1,)]}


@dataclass(frozen=True)
class Case:
    """One bad input: files written over the built base project, the command, and what must come out.

    ``fragments`` and ``args`` may hold ``{root}`` (the project folder) and the names ``setup`` returns.
    """

    id: str
    files: Mapping[str, str | bytes] = field(default_factory=dict)
    args: tuple[str, ...] = ("run",)
    exit_code: int = 2
    fragments: tuple[str, ...] = ()
    absent: tuple[str, ...] = ()  # never in the output (secrets, wrong labels)
    env: Mapping[str, str] = field(default_factory=dict)
    setup: Callable[[Path, Fixtures], object] | None = None  # may return a dict of names for the fragments
    check: Callable[[Path], None] | None = None  # more assertions after the command
    tables: Mapping[str, list[tuple]] = field(default_factory=lambda: BASE_TABLES)  # must hold afterwards
    database: str = "warehouse.duckdb"
    subprocess: bool = False  # run as a separate process (the in-process runner shares this one's state)


class Fixtures:
    """Things a case's setup may need, undone after the case: small file systems, a process holding a lock."""

    def __init__(self) -> None:
        self._mounts: list[Path] = []
        self._procs: list[subprocess.Popen[str]] = []

    def mount(self, folder: Path, size: str = "1m", read_only: bool = False) -> None:
        """A tmpfs of ``size`` at ``folder`` (skips the test where mounting is not allowed)."""
        folder.mkdir(parents=True, exist_ok=True)
        options = f"size={size}" + (",ro" if read_only else "")
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)], capture_output=True)
        if done.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode(errors='replace').strip()}")
        self._mounts.append(folder)

    def remount_read_only(self, folder: Path) -> None:
        subprocess.run(["mount", "-o", "remount,ro", str(folder)], check=True)

    def fill(self, folder: Path) -> None:
        """Write to ``folder`` until its file system is full."""
        with open(folder / "filler", "wb") as fh:
            try:
                while True:
                    fh.write(b"\0" * 65536)
                    fh.flush()
            except OSError:
                pass

    def hold_lock(self, database: Path) -> int:
        """Start a process that keeps ``database`` open (so locked); returns its PID."""
        code = (
            "import sys, time, duckdb\n"
            f"con = duckdb.connect({str(database)!r})\n"
            "print('ready', flush=True)\n"
            "sys.stdin.read()\n"
        )
        proc = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        self._procs.append(proc)
        return proc.pid

    def release_locks(self) -> None:
        for proc in self._procs:
            assert proc.stdin is not None
            proc.stdin.close()  # the holder ends when its input does
            proc.wait(timeout=30)
        self._procs.clear()

    def close(self) -> None:
        self.release_locks()
        for folder in reversed(self._mounts):
            subprocess.run(["umount", "-l", str(folder)], capture_output=True)


def write(root: Path, files: Mapping[str, str | bytes]) -> None:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(textwrap.dedent(content).lstrip("\n"), encoding="utf-8")


def tables(database: Path, names: Mapping[str, list[tuple]]) -> dict[str, list[tuple]]:
    con = duckdb.connect(str(database), read_only=True)
    try:
        return {name: con.execute(f'select * from "{name}" order by all').fetchall() for name in names}
    finally:
        con.close()


def run_subprocess(root: Path, args: list[str], env: Mapping[str, str]) -> tuple[int, str]:
    done = subprocess.run(
        [sys.executable, "-m", "modelkit.cli", *args],
        cwd=root,
        env={**os.environ, "NO_COLOR": "1", **env},
        capture_output=True,
        text=True,
        timeout=300,
    )
    return done.returncode, done.stdout + done.stderr


def artifacts_whole(target: Path) -> None:
    """Every JSON file under target/ parses, and no temporary file is left."""
    if not target.is_dir():
        return
    for path in target.rglob("*"):
        assert not path.name.endswith(".tmp"), f"left behind: {path}"
        if path.suffix == ".json" and path.is_file():
            json.loads(path.read_bytes())


def unique_secret() -> str:
    return f"s3cr3t-{uuid.uuid4().hex[:12]}"
