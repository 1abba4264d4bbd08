"""Seeds' shapes kept between commands (modelkit/analysis/seedshapes.py): read from the CSV once, then
from target/ while the file, its delimiter and column_types and the dialect stay as they were."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from conftest import make_project

from modelkit.analysis import seedshapes
from modelkit.analysis.seedshapes import SeedShapes
from modelkit.api.session import Session

SEED = "id,name,joined_on\n1,ann,2024-01-02\n2,bob,2024-02-03\n"


def _seed(root: Path):
    with Session(root) as session:
        return session.manifest.nodes["seed.demo.people"], session.project.target_dir


def _stored(target: Path) -> list:
    return list(json.loads((target / seedshapes.FILE_NAME).read_text())["shapes"].values())


def test_a_seed_is_read_once_and_its_shape_kept_until_it_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(seedshapes, "RACY_NS", 0)
    root = make_project(tmp_path / "demo", {"seeds/people.csv": SEED})
    node, target = _seed(root)
    first = SeedShapes(target)
    shape = first.shape(node, root, "duckdb")
    assert shape.names == ("id", "name", "joined_on") and shape.types == ("INTEGER", "VARCHAR", "DATE")
    first.save()
    [(path, kept)] = _stored(target)
    assert path == str(root / "seeds" / "people.csv") and kept[0] == ["id", "name", "joined_on"]

    # what is kept is what the next command sees (the CSV is not read: a changed entry shows it)
    data = json.loads((target / seedshapes.FILE_NAME).read_text())
    entry = next(iter(data["shapes"].values()))
    entry[1][1] = ["BIGINT", "VARCHAR", "DATE"]
    (target / seedshapes.FILE_NAME).write_text(json.dumps(data))
    assert SeedShapes(target).shape(node, root, "duckdb").types == ("BIGINT", "VARCHAR", "DATE")

    # another dialect, or the file changed: read again
    assert SeedShapes(target).shape(node, root, "postgres").types[0] != "BIGINT"
    (root / "seeds" / "people.csv").write_text("id,name,score\n1,ann,1.5\n")
    again = SeedShapes(target)
    assert again.shape(node, root, "duckdb").names == ("id", "name", "score")
    again.save()
    assert [kept[0] for _, kept in _stored(target)] == [["id", "name", "score"]]  # one entry per seed


def test_a_seed_written_a_moment_ago_is_not_kept(tmp_path: Path) -> None:
    root = make_project(tmp_path / "demo", {"seeds/people.csv": SEED})
    node, target = _seed(root)
    shapes = SeedShapes(target)
    assert shapes.shape(node, root, "duckdb").names == ("id", "name", "joined_on")
    shapes.save()
    assert not (target / seedshapes.FILE_NAME).exists()  # its times may not show the next change
    past = time.time() - 60
    os.utime(root / "seeds" / "people.csv", (past, past))  # (the change time stays recent)
    SeedShapes(target).save()
    assert not (target / seedshapes.FILE_NAME).exists()


def test_a_damaged_file_is_ignored(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(seedshapes, "RACY_NS", 0)
    root = make_project(tmp_path / "demo", {"seeds/people.csv": SEED})
    node, target = _seed(root)
    target.mkdir(parents=True, exist_ok=True)
    (target / seedshapes.FILE_NAME).write_text("{not json")
    assert SeedShapes(target).shape(node, root, "duckdb").names == ("id", "name", "joined_on")
    data = {"version": SeedShapes(target).version, "shapes": {"x": "not a list"}}
    (target / seedshapes.FILE_NAME).write_text(json.dumps(data))
    assert SeedShapes(target).shape(node, root, "duckdb").names == ("id", "name", "joined_on")
