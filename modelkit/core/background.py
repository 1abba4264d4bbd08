"""Work done on a thread of its own while the caller goes on; :meth:`Background.wait` re-raises its error.

>>> done = []
>>> job = Background(lambda: done.append(1), "example")
>>> job.wait()
>>> done
[1]
>>> Background(lambda: 1 / 0, "failing").wait()
Traceback (most recent call last):
    ...
ZeroDivisionError: division by zero
"""

from __future__ import annotations

import threading
from collections.abc import Callable


class Background:
    """``work()`` on a thread of its own, started at once."""

    def __init__(self, work: Callable[[], object], name: str) -> None:
        self._work = work
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name=f"modelkit-{name}", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._work()
        except BaseException as exc:  # noqa: BLE001 - re-raised by wait(), in the caller's thread
            self._error = exc

    def error(self) -> BaseException | None:
        """Wait for the work to end; what it raised (None if it did not), kept for :meth:`wait`."""
        self._thread.join()
        return self._error

    def wait(self) -> None:
        """Wait for the work to end; raise what it raised."""
        self._thread.join()
        error, self._error = self._error, None
        if error is not None:
            raise error
