"""Large files written through a spare copy that is exchanged with them (see modelkit.core.fsio): every
write is whole, the spare takes the old content, and anything unusual falls back to a temporary file."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

import pytest

from modelkit.core import fsio
from modelkit.core.errors import FileSystemError

needs_exchange = pytest.mark.skipif(fsio._renameat2() is None, reason="no renameat2 here")  # noqa: SLF001
BIG = fsio.SPARE_FROM


def content(tag: bytes, size: int) -> bytes:
    return (tag * (size // len(tag) + 1))[:size]


def names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


@needs_exchange
def test_writes_alternate_between_the_file_and_its_spare(tmp_path: Path) -> None:
    path = tmp_path / "big.dat"
    spare = fsio.spare_path(path)
    first, second, third = content(b"first ", BIG + 10), content(b"second ", BIG + 99), content(b"3 ", BIG + 1)
    fsio.atomic_write(path, first, spare=True)  # no old file: written as any other
    assert names(tmp_path) == ["big.dat"]
    inode_first = path.stat().st_ino
    fsio.atomic_write(path, second, spare=True)
    assert path.read_bytes() == second and spare.read_bytes() == first
    assert spare.stat().st_ino == inode_first  # exchanged, not copied
    fsio.atomic_write(path, [third[:10], third[10:]], spare=True)  # shorter than what the spare held
    assert path.read_bytes() == third and spare.read_bytes() == second
    assert path.stat().st_ino == inode_first  # the first file's blocks, written over
    assert names(tmp_path) == [".big.dat.spare", "big.dat"]  # no temporary file left


@needs_exchange
def test_unchanged_ranges_are_copied_from_the_file_being_replaced(tmp_path: Path) -> None:
    """What a spliced manifest.json does: most of the new file is copied from the old one."""
    path = tmp_path / "big.dat"
    old = content(b"old-", BIG + 8)
    fsio.atomic_write(path, old)
    fsio.atomic_write(path, content(b"x", BIG), spare=True)  # now there is a spare
    before = path.read_bytes()
    with open(path, "rb") as fh:
        chunks = [b"HEAD", fsio.FileRange(fh.fileno(), 4, len(before) - 4), b"TAIL"]
        fsio.atomic_write(path, chunks, spare=True)
    assert path.read_bytes() == b"HEAD" + before[4:-4] + b"TAIL"


@pytest.mark.parametrize(
    ("case", "size", "spare"),
    [("small file", BIG - 1, True), ("not asked for", BIG + 1, False)],
)
def test_no_spare_for_small_files_or_when_not_asked(tmp_path: Path, case: str, size: int, spare: bool) -> None:
    path = tmp_path / "state.dat"
    fsio.atomic_write(path, content(b"a", size))
    fsio.atomic_write(path, content(b"b", size), spare=spare)
    assert path.read_bytes() == content(b"b", size) and names(tmp_path) == ["state.dat"], case


@needs_exchange
def test_a_failed_write_through_the_spare_keeps_the_file(tmp_path: Path) -> None:
    path = tmp_path / "big.dat"
    old = content(b"old ", BIG)
    fsio.atomic_write(path, old)

    def chunks():
        yield b"new " * 1000
        raise RuntimeError("stopped half-way")

    with pytest.raises(RuntimeError):
        fsio.atomic_write(path, chunks(), spare=True)
    assert path.read_bytes() == old
    fsio.atomic_write(path, b"whole again" * BIG, spare=True)  # the half-written spare is simply written over
    assert path.read_bytes() == b"whole again" * BIG


@needs_exchange
def test_a_spare_held_by_another_writer_means_a_temporary_file(tmp_path: Path) -> None:
    path = tmp_path / "big.dat"
    fsio.atomic_write(path, content(b"1", BIG))
    fsio.atomic_write(path, content(b"2", BIG), spare=True)
    spare = fsio.spare_path(path)
    with open(spare, "rb+") as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)
        fsio.atomic_write(path, content(b"3", BIG), spare=True)
        assert path.read_bytes() == content(b"3", BIG)
        assert spare.read_bytes() == content(b"1", BIG)  # untouched by the write that found it locked
    assert names(tmp_path) == [".big.dat.spare", "big.dat"]


@needs_exchange
def test_copying_from_the_spare_itself_is_refused(tmp_path: Path) -> None:
    """The file a range is copied from was exchanged away by another writer: never copy it onto itself."""
    path = tmp_path / "big.dat"
    fsio.atomic_write(path, content(b"1", BIG))
    fsio.atomic_write(path, content(b"2", BIG), spare=True)
    fd = os.open(fsio.spare_path(path), os.O_RDONLY)
    try:
        with pytest.raises(FileSystemError, match="replaced while it was read"):
            fsio.atomic_write(path, [fsio.FileRange(fd, 0, 10)], spare=True)
    finally:
        os.close(fd)
    assert path.read_bytes() == content(b"2", BIG)


def test_without_the_exchange_a_temporary_file_is_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fsio, "_renameat2", lambda: None)
    path = tmp_path / "big.dat"
    fsio.atomic_write(path, content(b"1", BIG))
    fsio.atomic_write(path, content(b"2", BIG), spare=True)
    assert path.read_bytes() == content(b"2", BIG) and names(tmp_path) == ["big.dat"]
