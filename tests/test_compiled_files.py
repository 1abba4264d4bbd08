"""The compiled files a command writes in the background (render.files.FileWriter): every file handed
over is on disk once the writer is closed, the last ones too, and a file that cannot be written fails
the close."""

from __future__ import annotations

from pathlib import Path

import pytest

from modelkit.core.errors import FileSystemError
from modelkit.render.files import FileWriter


@pytest.mark.parametrize("count", [1, FileWriter.BATCH - 1, FileWriter.BATCH, 2 * FileWriter.BATCH + 3])
def test_every_file_handed_over_is_written_by_close(tmp_path: Path, count: int) -> None:
    writer = FileWriter()
    paths = [tmp_path / f"folder{i % 3}" / f"model_{i}.sql" for i in range(count)]
    for i, path in enumerate(paths):
        writer.put(path, f"select {i}")
    writer.close()
    assert [p.read_text() for p in paths] == [f"select {i}" for i in range(count)]


def test_a_file_written_twice_holds_the_last_text(tmp_path: Path) -> None:
    writer = FileWriter()
    path = tmp_path / "model.sql"
    for i in range(FileWriter.BATCH + 5):
        writer.put(path, f"select {i}")
    writer.close()
    assert path.read_text() == f"select {FileWriter.BATCH + 4}"


def test_a_file_that_cannot_be_written_fails_the_close(tmp_path: Path) -> None:
    (tmp_path / "taken").write_text("a file where a folder should be")
    writer = FileWriter()
    writer.put(tmp_path / "ok.sql", "select 1")
    writer.put(tmp_path / "taken" / "model.sql", "select 2")
    with pytest.raises(FileSystemError, match="is a file, where a folder is needed"):
        writer.close()
    assert (tmp_path / "ok.sql").read_text() == "select 1"
