"""Compiled files written in the background: :class:`FileWriter`, and :func:`write_if_changed`."""

from __future__ import annotations

import queue
import threading
from pathlib import Path

from modelkit.core import fsio


class FileWriter:
    """Writes files on one background thread, in the order given; ``close`` waits and re-raises.

    Files are handed to the thread in batches of :attr:`BATCH` (the rest at ``close``): waking it for
    every file would cost each caller a switch between threads, holding the GIL the others wait for.
    """

    BATCH = 32

    def __init__(self) -> None:
        self._queue: queue.SimpleQueue[list[tuple[Path, str]] | None] = queue.SimpleQueue()
        self._batch: list[tuple[Path, str]] = []
        self._lock = threading.Lock()
        self._error: BaseException | None = None
        self._made_dirs: set[Path] = set()
        self._thread = threading.Thread(target=self._work, name="modelkit-writer", daemon=True)
        self._thread.start()

    def put(self, path: Path, text: str) -> None:
        with self._lock:
            self._batch.append((path, text))
            if len(self._batch) < self.BATCH:
                return
            batch, self._batch = self._batch, []
            self._queue.put(batch)  # under the lock: the batches keep their order

    def _work(self) -> None:
        while True:
            batch = self._queue.get()
            if batch is None:
                return
            for path, text in batch:
                if self._error is not None:
                    break
                self._write(path, text)

    def _write(self, path: Path, text: str) -> None:
        try:
            folder = path.parent
            if folder not in self._made_dirs:
                fsio.ensure_dir(folder)
                self._made_dirs.add(folder)
            write_if_changed(path, text)
        except BaseException as exc:  # noqa: BLE001 - re-raised by close()
            self._error = exc

    def close(self) -> None:
        with self._lock:
            batch, self._batch = self._batch, []
            if batch:
                self._queue.put(batch)
            self._queue.put(None)
        self._thread.join()
        if self._error is not None:
            raise self._error


def write_if_changed(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` unless the file already holds exactly that.

    Rewriting a file in place (truncate, then write) makes filesystems such as ext4 flush it on
    close; a compile with nothing changed would pay that for every file.
    """
    data = text.encode("utf-8")
    try:
        with open(path, "rb") as fh:
            if fh.read(len(data) + 1) == data:
                return
    except OSError:
        pass  # missing (or unreadable): write it
    fsio.atomic_write(path, data)
