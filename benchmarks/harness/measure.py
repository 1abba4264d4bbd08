"""Run a command in a fresh subprocess; measure its wall time and its peak memory."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
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
    cpu_seconds: float = 0.0  # user + system time of the command and of every process it started


# Started by run_once to run the measured command. Linux counts in a process's peak resident set the memory of
# the process it was forked from, until it calls exec; forked straight from the harness (which holds hundreds of
# megabytes of results and manifests by the end of a run), a short command would show the harness's size. This
# small launcher forks the command instead, times it, and writes "seconds peak_kb exit_code cpu_seconds" to argv[1].
# It is a child subreaper: processes the command leaves behind (pyspark's JVM outlives the Python process that
# started it by a moment) become its children, and it waits for them (up to a minute) so that the CPU time counts
# the whole tree. The wall time and the peak memory are the command's own.
LAUNCHER = """
import ctypes, os, resource, sys, time
try:
    ctypes.CDLL(None, use_errno=True).prctl(36, 1)  # PR_SET_CHILD_SUBREAPER
except (OSError, AttributeError):
    pass
start = time.perf_counter()
pid = os.fork()
if pid == 0:
    try:
        os.execvp(sys.argv[2], sys.argv[2:])
    finally:
        os._exit(127)
_, status, usage = os.wait4(pid, 0)
seconds = time.perf_counter() - start
deadline = time.monotonic() + 60
while time.monotonic() < deadline:
    try:
        if os.waitpid(-1, os.WNOHANG)[0] == 0:
            time.sleep(0.02)
    except ChildProcessError:
        break
tree = resource.getrusage(resource.RUSAGE_CHILDREN)
with open(sys.argv[1], "w") as fh:
    cpu = tree.ru_utime + tree.ru_stime
    fh.write(f"{seconds} {usage.ru_maxrss} {os.waitstatus_to_exitcode(status)} {cpu}")
"""


def run_once(cmd: Sequence[str], cwd: Path, env: Mapping[str, str], log: Path) -> Sample:
    """Run ``cmd`` in ``cwd``, appending its output to ``log``.

    Wall time is taken around the command's process only (by :data:`LAUNCHER`), after ``sync`` has written out
    earlier file changes. Peak memory is the command's maximum resident set size as the kernel reports it when it
    is reaped (``wait4``): the largest RSS of the process or of any descendant it waited for.
    """
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out, tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "sample"
        out.write(f"\n$ (cd {cwd} && {' '.join(cmd)})\n".encode())
        out.flush()
        # Write out what preparing this run left in the page cache (a copied database file, a deleted target/),
        # so that the disk catching up with it is not counted in this command's time.
        os.sync()
        start = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-c", LAUNCHER, str(report), *cmd],
            cwd=cwd,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            seconds_text, peak_kb, code, cpu_text = report.read_text().split()
            seconds, peak_mb, returncode = float(seconds_text), int(peak_kb) / 1024, int(code)
            cpu = float(cpu_text)
        except (OSError, ValueError):  # the launcher itself failed
            seconds, peak_mb, returncode, cpu = time.perf_counter() - start, 0.0, proc.returncode or 1, 0.0
        out.write(f"# exit {returncode} after {seconds:.3f} s (CPU {cpu:.3f} s), peak RSS {peak_mb:.1f} MB\n".encode())
    return Sample(seconds, peak_mb, returncode, cpu)


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
