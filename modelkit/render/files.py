"""Compiled files written in the background: :class:`FileWriter`, and :func:`write_if_changed`."""

from __future__ import annotations

import os
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
        self._made_dirs: dict[str, bool] = {}  # folder -> whether this writer created it
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
            folder = os.path.dirname(path)  # (cheaper than path.parent, once per file)
            new = self._made_dirs.get(folder)
            if new is None:
                new = self._made_dirs[folder] = not os.path.isdir(folder)
                fsio.ensure_dir(Path(folder))
            if not new or not _create(path, text):
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


def _create(path: Path, text: str) -> bool:
    """Write a file that does not exist yet, in place (in a folder made by this writer: nothing reads it
    yet; half the system calls of a write beside it and a rename, each a wait for the GIL on a busy
    interpreter). False when the file exists after all."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except FileExistsError:
        return False
    except OSError as exc:
        raise fsio.os_error(exc, path, "write") from None
    try:
        try:
            view = memoryview(text.encode("utf-8"))
            while view:
                view = view[os.write(fd, view) :]
        finally:
            os.close(fd)
    except BaseException as exc:
        path.unlink(missing_ok=True)  # no half-written file left behind
        if isinstance(exc, OSError):
            raise fsio.os_error(exc, path, "write") from None
        raise
    return True


def write_if_changed(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` unless the file already holds exactly that.

    Rewriting a file in place (truncate, then write) makes filesystems such as ext4 flush it on
    close; a compile with nothing changed would pay that for every file. (Read with ``os`` calls: the
    writer's thread holds the GIL for as little as it can while the compile runs beside it.)
    """
    data = text.encode("utf-8")
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        fd = -1  # missing (or unreadable): write it
    if fd >= 0:
        try:
            same = os.read(fd, len(data) + 1) == data
        except OSError:
            same = False
        finally:
            os.close(fd)
        if same:
            return
    fsio.atomic_write(path, data)
