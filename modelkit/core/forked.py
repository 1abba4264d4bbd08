"""Work handed to a forked copy of this process, so that it overlaps what this process does next.

Forking is only safe from a process running a single Python thread and no database engine (whose own
threads Python does not see): :func:`fork_safe` says whether this process is one. The child runs the
work on its copy of this process's memory (what it reads is what the parent had at the fork) and leaves
with :func:`os._exit`, so nothing of the parent's (buffered output, open files) is flushed or closed twice.
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
