"""Writing a file from chunks of bytes and ranges of other open files, each at its offset.

A large artifact written again after a small change (manifest.json after an incremental parse) is mostly
ranges of its previous version (:class:`FileRange`) with a few new chunks between them.
:class:`RangeWriter` hands the ranges to a thread of its own, where the kernel copies them
(``os.copy_file_range``, which releases the interpreter), while the caller's thread goes on making and
writing the chunks that follow: every chunk's offset is known as soon as the chunks before it are, so
neither waits for the other. (Two copying threads are no faster: writes to one file take its lock.)
"""

from __future__ import annotations

import errno
import os
import queue
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass

FLUSH_AT = 1 << 20  # bytes gathered before they are written


@dataclass(frozen=True)
class FileRange:
    """Bytes ``start`` to ``end`` of the open file ``fd``: a chunk :func:`modelkit.core.fsio.atomic_write`
    copies without reading it into memory (``os.copy_file_range``: in the kernel, where the file system can)."""

    fd: int
    start: int
    end: int

    @property
    def size(self) -> int:
        return self.end - self.start


class RangeWriter:
    """Writes chunks at the start of ``fd``, the :class:`FileRange` ones copied on a thread of its own.

    >>> import tempfile
    >>> with tempfile.TemporaryFile() as old, tempfile.TemporaryFile() as new:
    ...     _ = old.write(b"0123456789"); old.flush()
    ...     RangeWriter(new.fileno()).write([b"<", FileRange(old.fileno(), 2, 5), b"|", FileRange(old.fileno(), 7, 10), b">"])
    ...     _ = new.seek(0); new.read()
    9
    b'<234|789>'
    """

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self._jobs: queue.SimpleQueue[tuple[FileRange, int] | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    def write(self, chunks: Iterable[bytes | FileRange]) -> int:
        """Write every chunk in order; the number of bytes written. An error of either thread is raised
        once both have stopped."""
        offset = 0  # where the next chunk goes
        pending: list[bytes] = []
        start = size = 0  # where the pending bytes go, and how many there are
        try:
            for chunk in chunks:
                if isinstance(chunk, FileRange):
                    if pending:
                        write_at(self.fd, b"".join(pending), start)
                        pending, size = [], 0
                    self._copy(chunk, offset)
                    offset += chunk.size
                    continue
                if not pending:
                    start = offset
                pending.append(chunk)
                size += len(chunk)
                offset += len(chunk)
                if size >= FLUSH_AT or self._error is not None:
                    write_at(self.fd, b"".join(pending), start)
                    pending, size = [], 0
            write_at(self.fd, b"".join(pending), start)
        finally:
            self._finish()
        return offset

    def _copy(self, chunk: FileRange, offset: int) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="modelkit-copy", daemon=True)
            self._thread.start()
        self._jobs.put((chunk, offset))

    def _run(self) -> None:
        while (job := self._jobs.get()) is not None:
            if self._error is None:  # after an error, the rest is only drained
                try:
                    copy_at(job[0], self.fd, job[1])
                except BaseException as exc:  # noqa: BLE001 - raised by write(), in the caller's thread
                    self._error = exc

    def _finish(self) -> None:
        if self._thread is not None:
            self._jobs.put(None)
            self._thread.join()
            self._thread = None
        error, self._error = self._error, None
        if error is not None:
            raise error


def write_at(fd: int, data: bytes, offset: int) -> None:
    view = memoryview(data)
    while view:
        written = os.pwrite(fd, view, offset)
        view, offset = view[written:], offset + written


def copy_at(chunk: FileRange, fd: int, offset: int) -> None:
    """Copy ``chunk`` into ``fd`` at ``offset``: in the kernel, else read and written."""
    _check_source(chunk, fd)
    position, end = chunk.start, chunk.end
    try:
        while position < end:
            copied = os.copy_file_range(chunk.fd, fd, end - position, position, offset + position - chunk.start)
            if copied == 0:
                raise OSError(errno.EIO, "the file to copy from is shorter than expected")
            position += copied
        return
    except (AttributeError, OSError) as exc:  # no copy_file_range here, or not between these files
        if isinstance(exc, OSError) and exc.errno == errno.EIO:
            raise
    while position < end:
        data = _read(chunk, position)
        write_at(fd, data, offset + position - chunk.start)
        position += len(data)


def copy_range(chunk: FileRange, fd: int, convert: Callable[[bytes], bytes]) -> int:
    """Read ``chunk``, ``convert`` it (e.g. mask secrets) and write it at ``fd``'s position; bytes written."""
    _check_source(chunk, fd)
    position, written = chunk.start, 0
    while position < chunk.end:
        data = _read(chunk, position)
        written += write_all(fd, convert(data))
        position += len(data)
    return written


def write_all(fd: int, data: bytes) -> int:
    """Write ``data`` at ``fd``'s position; its length."""
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]
    return len(data)


def _read(chunk: FileRange, position: int) -> bytes:
    data = os.pread(chunk.fd, min(chunk.end - position, FLUSH_AT), position)
    if not data:
        raise OSError(errno.EIO, "the file to copy from is shorter than expected")
    return data


def _check_source(chunk: FileRange, fd: int) -> None:
    if os.path.sameopenfile(chunk.fd, fd):  # the spare was exchanged by another writer since it was read
        raise OSError(errno.EBUSY, "the file to copy from was replaced while it was read")
