"""benchmarks/genproject.py: the same files and data every time, the layer shares, and builds that pass."""

from __future__ import annotations

import doctest
import json
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import floor
import genproject
import genproject_files
import genproject_plan
import genproject_sql
import pytest
from conftest import BENCHMARKS, REPO, run_cli
from genproject import generate

OTHER_GENERATOR = REPO.parent / "shared" / "bench" / "gen_project.py"  # optional, beside the repository
LAYER_KINDS = {"staging": "view", "marts": "table"}


def files_of(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def relation_contents(db: Path) -> dict[str, list[tuple]]:
    """Every table and view of the main schema with all its rows, in order."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        sql = "select table_name from information_schema.tables where table_schema = 'main' order by 1"
        names = [r[0] for r in con.execute(sql).fetchall()]
        return {name: con.execute(f'select * from "{name}" order by all').fetchall() for name in names}
    finally:
        con.close()


def test_same_seed_same_files_other_seed_other_files(tmp_path: Path) -> None:
    first = files_of(generate(60, tmp_path / "a", seed=7, seed_rows=50).root)
    again = files_of(generate(60, tmp_path / "b", seed=7, seed_rows=50).root)
    other = files_of(generate(60, tmp_path / "c", seed=8, seed_rows=50).root)
    assert first == again
    assert first["seeds/raw_payments.csv"] != other["seeds/raw_payments.csv"]
    assert sorted(p for p in first if p.endswith(".sql")) != sorted(p for p in other if p.endswith(".sql"))
    more_rows = files_of(generate(60, tmp_path / "d", seed=7, seed_rows=80).root)
    assert {p: t for p, t in more_rows.items() if p.startswith("models/")} == {
        p: t for p, t in first.items() if p.startswith("models/")
    }  # the number of seed rows does not change the models


def test_command_line_writes_what_generate_writes(tmp_path: Path) -> None:
    command = [sys.executable, str(BENCHMARKS / "genproject.py"), "--models", "30", "--seed", "3", "--seed-rows", "20"]
    done = subprocess.run([*command, "--out", str(tmp_path / "cli")], capture_output=True, text=True, check=True)
    project = generate(30, tmp_path / "py", seed=3, seed_rows=20)
    assert files_of(tmp_path / "cli") == files_of(project.root)
    assert done.stdout == f"wrote {tmp_path / 'cli'}: {project.summary()}\n"
    refused = subprocess.run([*command, "--out", str(tmp_path / "cli")], capture_output=True, text=True)
    assert refused.returncode == 2 and "is not empty" in refused.stderr
    too_small = subprocess.run([*command[:3], "3", "--out", str(tmp_path / "small")], capture_output=True, text=True)
    assert too_small.returncode == 2 and "at least 4 models" in too_small.stderr


@pytest.mark.parametrize(
    ("models", "staging", "intermediate", "marts", "folders"),
    [
        (4, 3, 0, 1, ["marts", "staging"]),
        (40, 8, 20, 12, ["intermediate", "marts", "staging"]),
        (260, 52, 130, 78, ["intermediate/part_01", "intermediate/part_02", "marts", "staging"]),
    ],
)
def test_models_per_layer_and_folder(
    tmp_path: Path, models: int, staging: int, intermediate: int, marts: int, folders: list[str]
) -> None:
    project = generate(models, tmp_path / "p", seed_rows=5)
    on_disk = {layer: sorted((project.root / "models" / layer).rglob("*.sql")) for layer in genproject_plan.LAYERS}
    assert [len(on_disk[layer]) for layer in genproject_plan.LAYERS] == [staging, intermediate, marts]
    assert [project.count(layer) for layer in genproject_plan.LAYERS] == [staging, intermediate, marts]
    by_folder: dict[str, list[genproject_plan.PlannedModel]] = {}
    for model in project.models:
        by_folder.setdefault(model.folder, []).append(model)
        assert model.materialized == LAYER_KINDS.get(model.layer, model.materialized)
    assert sorted(by_folder) == folders
    for folder, members in by_folder.items():
        assert len(members) <= 100
        documented = [m.name for m in members if m.documented]
        assert len(documented) == max(1, round(len(members) * 0.3))
        schema = (project.root / "models" / folder / "_models.yml").read_text()
        assert [line.split()[-1] for line in schema.splitlines() if line.startswith("  - name: ")] == documented
    seen: list[str] = []
    for model in project.models:  # every model reads only earlier ones
        assert all(parent in seen for parent in model.parents)
        assert model.layer != "intermediate" or 1 <= len(model.parents) <= 4
        seen.append(model.name)


def test_docstring_examples_hold() -> None:
    for module in (genproject, genproject_plan, genproject_sql, genproject_files, floor):
        result = doctest.testmod(module)
        assert result.failed == 0, module.__name__
    assert doctest.testmod(genproject).attempted > 0


def test_build_passes_and_stores_the_same_data_twice(tmp_path: Path) -> None:
    project = generate(40, tmp_path / "one", seed_rows=300)
    shutil.copytree(project.root, tmp_path / "two")
    contents = []
    for root, threads in ((project.root, "1"), (tmp_path / "two", "4")):
        out = run_cli("build", "--threads", threads, cwd=root)
        assert out.exit_code == 0, out.output[-3000:]
        results = json.loads((root / "target" / "run_results.json").read_text())["results"]
        tests = [r for r in results if r["unique_id"].startswith("test.")]
        assert len(tests) == project.data_tests
        assert {r["status"] for r in tests} == {"pass"}
        assert {r["status"] for r in results if not r["unique_id"].startswith("test.")} == {"success"}
        contents.append(relation_contents(root / "bench.duckdb"))
    names = {r["unique_id"].split(".")[2] for r in tests}
    for generic in ("unique_", "not_null_", "accepted_values_", "relationships_"):
        assert any(name.startswith(generic) for name in names), generic
    assert "assert_refunds_within_payments" in names
    assert len(contents[0]) == 40 + 3
    assert all(len(rows) <= 300 for rows in contents[0].values())
    assert sum(len(rows) > 0 for rows in contents[0].values()) == 40 + 3
    assert contents[0] == contents[1]


@pytest.mark.skipif(not OTHER_GENERATOR.exists(), reason="no ../shared/bench/gen_project.py to cross-check with")
def test_both_generators_give_projects_that_parse(tmp_path: Path) -> None:
    generate(60, tmp_path / "ours", seed_rows=20)
    subprocess.run(
        [
            sys.executable,
            str(OTHER_GENERATOR),
            "--models",
            "60",
            "--out",
            str(tmp_path / "theirs"),
            "--seed-rows",
            "20",
        ],
        check=True,
        capture_output=True,
    )
    for name in ("ours", "theirs"):
        parsed = run_cli("parse", cwd=tmp_path / name)
        assert parsed.exit_code == 0, parsed.output
        assert "Found 60 models" in parsed.output and "rror" not in parsed.output
