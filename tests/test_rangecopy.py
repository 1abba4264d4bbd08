"""RangeWriter: chunks of bytes and ranges of another file, each written at its offset while a thread of
its own copies the ranges; the result is their concatenation, and an error of either side is raised."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from modelkit.core import fsio
from modelkit.core.errors import FileSystemError
from modelkit.core.rangecopy import FLUSH_AT, FileRange, RangeWriter

SOURCE = bytes(range(256)) * 40_000  # about 10 MB

CASES = {
    "bytes only": [b"{", b"abc", b"}"],
    "one range": [(0, len(SOURCE))],
    "ranges only, back to back": [(0, 10), (10, 5000), (7, 9), (100_000, 3_000_000)],
    "mixed": [b"<", (3, 700), b"|", b"", (5_000, 2_000_000), b">"],
    "empty range": [b"a", (50, 50), b"b"],
    "bytes over the flush size between ranges": [(0, 1000), b"x" * (FLUSH_AT + 17), (1000, 9000), b"y" * 3],
    "many small pieces": [piece for i in range(300) for piece in (b"%d," % i, (i * 7, i * 7 + 13))],
}


def _expected(pieces: list) -> bytes:
    return b"".join(p if isinstance(p, bytes) else SOURCE[p[0] : p[1]] for p in pieces)


@pytest.mark.parametrize("name", list(CASES))
def test_the_file_is_the_pieces_in_order(tmp_path: Path, name: str) -> None:
    source = tmp_path / "source"
    source.write_bytes(SOURCE)
    pieces = CASES[name]
    fd_in = os.open(source, os.O_RDONLY)
    fd_out = os.open(tmp_path / "out", os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        chunks = [p if isinstance(p, bytes) else FileRange(fd_in, *p) for p in pieces]
        written = RangeWriter(fd_out).write(chunks)
    finally:
        os.close(fd_in)
        os.close(fd_out)
    expected = _expected(pieces)
    assert written == len(expected)
    assert (tmp_path / "out").read_bytes() == expected


def test_a_failed_copy_is_raised_and_the_old_file_stays(tmp_path: Path) -> None:
    source = tmp_path / "source"
    source.write_bytes(SOURCE)
    path = tmp_path / "data.bin"
    fsio.atomic_write(path, b"old")
    fd_in = os.open(source, os.O_RDONLY)
    try:
        # the copy runs past the end of the source: the copying thread fails, the write raises
        chunks = [b"{", FileRange(fd_in, 0, len(SOURCE) + 10), b"}"]
        with pytest.raises(FileSystemError) as raised:
            fsio.atomic_write(path, iter(chunks))
        assert "shorter than expected" in str(raised.value) and str(path) in str(raised.value)
    finally:
        os.close(fd_in)
    assert path.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []
