"""Run a command in a fresh subprocess; measure its wall time and its peak memory."""

from __future__ import annotations

import os
import statistics
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Cell statuses.
OK = "ok"
FAILED = "failed"
ABSENT = "absent"  # the tool has no such command
SKIPPED = "skipped"  # not measured in this run (by option)


@dataclass
class Sample:
    seconds: float
    peak_mb: float
    returncode: int


def run_once(cmd: Sequence[str], cwd: Path, env: Mapping[str, str], log: Path) -> Sample:
    """Run ``cmd`` in ``cwd``, appending its output to ``log``.

    Wall time is taken around the child process only, after ``sync`` has written out earlier file changes. Peak memory is the child's maximum resident set size as
    the kernel reports it when the child is reaped (``wait4``): the largest RSS of the child or of any descendant
    it waited for, so a fresh subprocess per measurement gives a per-command figure.
    """
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        out.write(f"\n$ (cd {cwd} && {' '.join(cmd)})\n".encode())
        out.flush()
        # Write out what preparing this run left in the page cache (a copied database file, a deleted target/),
        # so that the disk catching up with it is not counted in this command's time.
        os.sync()
        start = time.perf_counter()
        proc = subprocess.Popen(
            list(cmd), cwd=cwd, env=dict(env), stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT
        )
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.write(
            f"# exit {proc.returncode} after {seconds:.3f} s, peak RSS {usage.ru_maxrss / 1024:.1f} MB\n".encode()
        )
    return Sample(seconds, usage.ru_maxrss / 1024, proc.returncode)


@dataclass
class Cell:
    """One measured figure: the samples of one command on one project by one tool."""

    status: str
    samples: list[Sample] = field(default_factory=list)
    note: str = ""

    @property
    def ok(self) -> bool:
        return self.status == OK and bool(self.samples)

    @property
    def seconds(self) -> float | None:
        """Median wall time of the samples (None unless measured)."""
        return statistics.median(s.seconds for s in self.samples) if self.ok else None

    @property
    def peak_mb(self) -> float | None:
        """Largest peak RSS over the samples (None where memory was not measured)."""
        peaks = [s.peak_mb for s in self.samples if s.peak_mb > 0]
        return max(peaks) if self.ok and peaks else None

    def to_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "seconds": self.seconds,
            "peak_mb": self.peak_mb,
            "samples": [s.seconds for s in self.samples],
            "peak_mb_samples": [s.peak_mb for s in self.samples],
            "note": self.note,
        }


def cell_from_json(data: dict[str, Any]) -> Cell:
    """The Cell that ``Cell.to_json`` wrote."""
    peaks = data.get("peak_mb_samples") or [0.0] * len(data["samples"])
    samples = [Sample(seconds, peak, 0) for seconds, peak in zip(data["samples"], peaks)]
    return Cell(data["status"], samples, data.get("note", ""))


def measure(
    cmd: Sequence[str],
    cwd: Path,
    env: Mapping[str, str],
    log: Path,
    *,
    repeat: int,
    budget: float,
    prepare: Callable[[], None] | None = None,
) -> Cell:
    """Run ``cmd`` up to ``repeat`` times (``prepare`` before each, untimed).

    Stops early once the samples add up to ``budget`` seconds (at least one sample is always taken), and at
    the first failure.
    """
    samples: list[Sample] = []
    for _ in range(max(1, repeat)):
        if prepare is not None:
            prepare()
        sample = run_once(cmd, cwd, env, log)
        samples.append(sample)
        if sample.returncode != 0:
            return Cell(FAILED, samples, f"exit code {sample.returncode}; see {log}")
        if sum(s.seconds for s in samples) >= budget:
            break
    return Cell(OK, samples)
