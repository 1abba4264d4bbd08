"""Files and folders that modelkit writes: clear errors, and no half-written file left behind.

Every file under ``target/`` is written by :func:`atomic_write`: into a temporary file in the same
folder, then renamed over the old one (``os.replace``). A reader, another process, a kill or a full
disk therefore finds either the whole old file or the whole new one, never a truncated mix.

A large file written with ``spare=True`` (manifest.json of a big project: tens of MB; the parse's
and the build's own state files) is written
into a spare copy instead, ``.<name>.spare`` beside it, which is then *exchanged* with it in one
atomic step (Linux ``renameat2(RENAME_EXCHANGE)``): the old content becomes the next write's spare.
Writing over blocks the file system has already allocated, and freeing none, is several times faster
than writing a new file and deleting the old one (on a disk mounted with ``discard`` above all); it
costs the disk space of one more copy. A reader that keeps the file open (or mapped) across two later
writes would see the second one change it: files modelkit maps (the parse snapshot) never use a
spare. Where the exchange is not available, the temporary file is used.
Operating-system errors (no space left, no permission, a file where a folder should be) become
:class:`~modelkit.core.errors.FileSystemError` naming the path.
"""

from __future__ import annotations

import ctypes
import errno
import functools
import itertools
import os
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from modelkit.core.errors import FileSystemError, ProjectError
from modelkit.core.rangecopy import FLUSH_AT as _FLUSH_AT
from modelkit.core.rangecopy import FileRange, RangeWriter, copy_range, write_all
from modelkit.core.secrets import scrub_bytes, values

try:
    import fcntl
except ImportError:  # Windows: no spare copies (see _locked_spare)
    fcntl = None  # type: ignore[assignment]

_counter = itertools.count()

_REASONS = {
    errno.ENOSPC: "no space left on the device",
    errno.EDQUOT: "disk quota exceeded",
    errno.EROFS: "the file system is read-only",
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted",
}


def reason(exc: OSError) -> str:
    """A short description of an operating-system error."""
    return _REASONS.get(exc.errno or 0) or (exc.strerror or str(exc)).lower()


def blocking_file(folder: Path) -> Path | None:
    """The first existing path on the way to ``folder`` that is not a folder, if any."""
    for candidate in [*reversed(folder.parents), folder]:
        if candidate.exists() and not candidate.is_dir():
            return candidate
        if not candidate.exists():
            return None
    return None


def os_error(exc: OSError, path: Path | str, action: str) -> FileSystemError:
    """``exc`` as a located modelkit error: ``Could not <action> <path>: <reason>``."""
    if isinstance(exc, (FileExistsError, NotADirectoryError)):
        blocker = blocking_file(Path(path))
        if blocker is not None:
            return FileSystemError(
                f"Could not {action} {path}: {blocker} is a file, where a folder is needed", path=str(blocker)
            )
    return FileSystemError(f"Could not {action} {path}: {reason(exc)}", path=str(path))


def inside(base: Path, rel: str, what: str) -> Path:
    """``base / rel``, refused when ``rel`` (made from a node's name or path) would lead outside ``base``."""
    path = base / rel
    if os.path.isabs(rel) or ".." in rel.replace("\\", "/").split("/"):
        normal = os.path.normpath(path)
        if not normal.startswith(os.path.join(os.path.normpath(base), "")):
            raise FileSystemError(
                f"The file of {what} would be written outside {base}: {rel!r}. "
                "Names and paths of nodes may not lead out of the target folder."
            )
    return path


def ensure_dir(folder: Path) -> None:
    """Create ``folder`` and its parents; a file in the way or a read-only disk is a located error."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        blocker = blocking_file(folder)
        if blocker is not None:
            raise FileSystemError(
                f"Could not create the folder {folder}: {blocker} is a file, where a folder is needed",
                path=str(blocker),
            ) from None
        raise os_error(exc, folder, "create the folder") from None


def atomic_write(
    path: Path, data: bytes | str | Iterable[bytes | FileRange], *, scrub: bool = False, spare: bool = False
) -> None:
    """Write ``data`` (bytes, text, or chunks of bytes and :class:`FileRange`) to ``path`` atomically.

    The data goes to a temporary file beside ``path`` (unique to this process and thread), which then
    replaces ``path``. On any failure the temporary file is removed and ``path`` is left as it was.
    With ``scrub``, secret values are masked (see :mod:`modelkit.core.secrets`). With ``spare``, a large
    file is written through its spare copy (see the module's description).
    """
    folder = path.parent
    ensure_dir(folder)
    masking = scrub and bool(values())
    locked = _locked_spare(path) if spare else None
    if locked is not None:
        _write_spare(path, locked, data, masking)
        return
    tmp = folder / f".{path.name}.{os.getpid()}.{threading.get_ident()}.{next(_counter)}.tmp"
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except OSError as exc:
        raise os_error(exc, path, "write") from None
    try:
        try:
            _write_chunks(fd, data, masking)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(exc, OSError):
            raise os_error(exc, path, "write") from None
        raise


SPARE_FROM = 1 << 20  # files this large (before the write) are written through a spare copy
RENAME_EXCHANGE = 2  # renameat2's flag (linux/fs.h)
AT_FDCWD = -100


def spare_path(path: Path) -> Path:
    """Where the spare copy of a large file is kept (see the module's description)."""
    return path.parent / f".{path.name}.spare"


def _locked_spare(path: Path) -> int | None:
    """The spare copy of ``path``, open for writing and locked, when ``path`` is large and the exchange
    is available; None otherwise (or when another writer holds the spare: the temporary file then)."""
    try:
        if fcntl is None or os.stat(path).st_size < SPARE_FROM or _renameat2() is None:
            return None
        fd = os.open(spare_path(path), os.O_WRONLY | os.O_CREAT, 0o666)
    except OSError:  # no old file (or no spare to be had): the temporary file, which reports errors
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:  # another process or thread is writing it
        os.close(fd)
        return None
    return fd


def _write_spare(path: Path, fd: int, data: bytes | str | Iterable[bytes | FileRange], masking: bool) -> None:
    """Write ``data`` over the spare's content (the spare is locked), then exchange it with ``path``."""
    spare = spare_path(path)
    try:
        try:
            size = _write_chunks(fd, data, masking)
            os.ftruncate(fd, size)
            _exchange(spare, path)
        finally:
            os.close(fd)
    except OSError as exc:
        raise os_error(exc, path, "write") from None


def _exchange(spare: Path, path: Path) -> None:
    """Swap ``spare`` and ``path`` atomically (a file system without the exchange: ``spare`` replaces
    ``path``, and the next write makes a new spare)."""
    renameat2 = _renameat2()
    assert renameat2 is not None
    if renameat2(AT_FDCWD, os.fsencode(spare), AT_FDCWD, os.fsencode(path), RENAME_EXCHANGE) == 0:
        return
    error = ctypes.get_errno()
    if error in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.ENOENT):  # not supported here, or no old file
        os.replace(spare, path)
        return
    raise OSError(error, os.strerror(error), str(path))


@functools.cache
def _renameat2() -> Any:
    """The C library's ``renameat2`` (Linux with glibc 2.28 or later), or None."""
    try:
        return ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):  # not Linux, or a C library without it
        return None


def _write_chunks(fd: int, data: bytes | str | Iterable[bytes | FileRange], masking: bool) -> int:
    """Write ``data`` at the start of ``fd``; the number of bytes written. Unmasked ranges of other files
    are copied by a thread of their own while the chunks between them are made (see :mod:`.rangecopy`)."""
    chunks: Iterable[bytes | FileRange]
    if isinstance(data, str):
        chunks = (data.encode("utf-8"),)
    elif isinstance(data, (bytes, bytearray)):
        chunks = (bytes(data),)
    else:
        chunks = data
    if not masking:
        return RangeWriter(fd).write(chunks)
    pending: list[bytes] = []
    size = total = 0
    for chunk in chunks:
        if isinstance(chunk, FileRange):
            total += write_all(fd, b"".join(pending))
            pending, size = [], 0
            total += copy_range(chunk, fd, scrub_bytes)
            continue
        pending.append(scrub_bytes(chunk))
        size += len(chunk)
        if size >= _FLUSH_AT:
            total += write_all(fd, b"".join(pending))
            pending, size = [], 0
    return total + write_all(fd, b"".join(pending))


def read_text(path: str | Path, display: str | None = None) -> str:
    """A UTF-8 text file (a byte-order mark is dropped, line endings become ``\\n``); errors name the file.

    Bytes that are not UTF-8 raise a :class:`FileSystemError` with the line and column of the first one.
    """
    shown = display or str(path)
    try:
        with open(path, "rb") as fh:
            raw = fh.read()
    except OSError as exc:
        raise os_error(exc, shown, "read") from None
    return decode(raw, shown)


def decode(raw: bytes, shown: str) -> str:
    """UTF-8 ``raw`` as text (see :func:`read_text`)."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise ProjectError(
            f"{shown} is not valid UTF-8: byte 0x{raw[exc.start]:02x} at line {line}, column {column}. "
            "Save the file as UTF-8.",
            path=shown,
            line=line,
        ) from None
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text
