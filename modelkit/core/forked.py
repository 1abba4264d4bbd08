"""Work handed to a forked copy of this process, so that it overlaps what this process does next.

Forking is only safe from a process running a single Python thread and no database engine (whose own
threads Python does not see): :func:`fork_safe` says whether this process is one. The child runs the
work on its copy of this process's memory (what it reads is what the parent had at the fork) and leaves
with :func:`os._exit`, so nothing of the parent's (buffered output, open files) is flushed or closed twice.
:func:`compute_forked` sends what the work returns back through a pipe.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable


def fork_safe() -> bool:
    """Whether this process can fork: ``fork`` exists, one thread runs, no engine is loaded."""
    return hasattr(os, "fork") and threading.active_count() == 1 and "duckdb" not in sys.modules


class Forked:
    """A forked process doing some work; :meth:`wait` waits for it and says whether it succeeded."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self._ok: bool | None = None

    def wait(self) -> bool:
        if self._ok is None:
            while True:
                try:
                    _, status = os.waitpid(self.pid, 0)
                    break
                except InterruptedError:  # pragma: no cover - retried by Python itself since 3.5
                    continue
                except ChildProcessError:  # already reaped elsewhere
                    status = 1 << 8
                    break
            self._ok = os.waitstatus_to_exitcode(status) == 0
        return self._ok


def run_forked(work: Callable[[], None]) -> Forked | None:
    """Run ``work`` in a forked process; None (and nothing run) when forking is unsafe or fails.

    The child exits with status 0 when ``work`` returns and 1 when it raises.
    """
    if not fork_safe():
        return None
    try:
        pid = os.fork()
    except OSError:
        return None
    if pid:
        return Forked(pid)
    code = 1
    try:
        work()
        code = 0
    finally:
        os._exit(code)


class ForkedOutput(Forked):
    """A forked process computing bytes that it sends back through a pipe (see :func:`compute_forked`)."""

    def __init__(self, pid: int, fd: int) -> None:
        super().__init__(pid)
        self._fd: int | None = fd
        self._output: bytes | None = None

    def output(self) -> bytes | None:
        """What the work returned, once it is done (None when it raised or the process failed)."""
        if self._fd is not None:
            fd, self._fd = self._fd, None
            with os.fdopen(fd, "rb") as pipe:
                data = pipe.read()
            self._output = data if self.wait() else None
        return self._output

    def close(self) -> None:
        """Give up on the output (a child still writing it stops) and reap the process."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        self.wait()


def compute_forked(work: Callable[[], bytes]) -> ForkedOutput | None:
    """Run ``work`` in a forked process whose standard output and error go nowhere; its result comes
    back through a pipe (:meth:`ForkedOutput.output`). None (and nothing run) when forking is unsafe or
    fails. The caller reads the output or closes it: a child with more to write than a pipe holds waits."""
    if not fork_safe():
        return None
    read, write = os.pipe()
    try:
        pid = os.fork()
    except OSError:
        os.close(read)
        os.close(write)
        return None
    if pid:
        os.close(write)
        return ForkedOutput(pid, read)
    code = 1
    try:
        os.close(read)
        nowhere = os.open(os.devnull, os.O_WRONLY)
        os.dup2(nowhere, 1)
        os.dup2(nowhere, 2)
        data = work()
        with os.fdopen(write, "wb") as pipe:
            pipe.write(data)
        code = 0
    finally:
        os._exit(code)
