"""dbt's ``simple_copy`` and ``dbt_clone`` adapter test suites, run through the modelkit CLI.

Both suites' fixtures are vendored as project folders under ``tests/data/adapter_suite``
(``simple_copy``, ``dbt_clone``). Each test runs the commands the suite runs and checks what it
checks, from the database and ``target/``.
"""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path

import duckdb
import yaml
from conftest import query
from suite_support import db, dbt_project, relations_equal, run

DATA = Path(__file__).parent / "data" / "adapter_suite"


def _results(root: Path) -> list[dict]:
    return json.loads((root / "target" / "run_results.json").read_text())["results"]


# -- simple_copy ----------------------------------------------------------------------------------------
COPIED = ["view_model", "incremental", "materialized", "get_and_ref"]


def _simple_copy(tmp_path: Path, upper: bool = False) -> Path:
    root = tmp_path / "test"
    shutil.copytree(DATA / "simple_copy", root, ignore=shutil.ignore_patterns("*_update.csv", "*_uppercase.sql"))
    if upper:  # BaseSimpleCopyUppercase: the same models in upper-case files
        for path in (root / "models").glob("*.sql"):
            path.rename(path.with_name(path.stem.upper() + ".sql"))
        shutil.copy(DATA / "simple_copy" / "get_and_ref_uppercase.sql", root / "models" / "GET_AND_REF.sql")
    return dbt_project(root, {}, None if upper else {"seeds": {"quote_columns": False}})


def test_simple_copy(tmp_path: Path) -> None:
    """SimpleCopyBase.test_simple_copy: seed, run, change the seed, seed and run: every copy follows."""
    root = _simple_copy(tmp_path)
    for _ in range(2):
        run(root, "seed")
        assert len(_results(root)) == 1
        run(root, "run")
        assert len(_results(root)) == 7
        for name in COPIED:
            relations_equal(root, "seed", name)
        (root / "seeds" / "seed.csv").write_text((DATA / "simple_copy" / "seed_update.csv").read_text())
    assert query(db(root), "select count(*) from incremental") == [(200,)]


def test_empty_models_are_not_run(tmp_path: Path) -> None:
    """EmptyModelsArentRunBase: an empty model and a disabled one build no relation."""
    root = _simple_copy(tmp_path)
    run(root, "seed")
    assert len(_results(root)) == 1
    run(root, "run")
    assert len(_results(root)) == 7
    tables = {name for (name,) in query(db(root), "select table_name from information_schema.tables")}
    assert "empty" not in tables and "disabled" not in tables
    # as dbt (1.11): `ls` still lists the empty model; only building leaves it out
    listed = run(root, "ls", "--resource-type", "model", "-q").split()
    assert "test.empty" in listed and "test.disabled" not in listed


def test_simple_copy_uppercase(tmp_path: Path) -> None:
    """BaseSimpleCopyUppercase (on DuckDB rather than its mixed-case Postgres database)."""
    root = _simple_copy(tmp_path, upper=True)
    run(root, "seed")
    assert len(_results(root)) == 1
    run(root, "run")
    assert len(_results(root)) == 7
    for name in ("VIEW_MODEL", "INCREMENTAL", "MATERIALIZED", "GET_AND_REF"):
        relations_equal(root, "seed", name)


# -- dbt_clone ------------------------------------------------------------------------------------------
def _clone_project(tmp_path: Path) -> Path:
    """BaseCloneNotPossible's project: targets `default` (schema main, seeds in main_seeds) and
    `otherschema` (schema main_other). DuckDB cannot clone tables, so dbt-duckdb clones as views."""
    root = tmp_path / "test"
    shutil.copytree(DATA / "dbt_clone", root)
    dbt_project(root, {}, {"seeds": {"test": {"quote_columns": False}}})
    outputs = {
        target: {"type": "duckdb", "path": "test.duckdb", "threads": 4, "schema": schema}
        for target, schema in (("default", "main"), ("otherschema", "main_other"))
    }
    profiles = {"test": {"target": "default", "outputs": outputs}}
    (root / "profiles.yml").write_text(yaml.safe_dump(profiles), encoding="utf-8")
    return root


def _run_and_save_state(root: Path, with_snapshot: bool = False) -> None:
    for command, count in (("seed", 1), ("run", 2), ("test", 2)) + ((("snapshot", 1),) if with_snapshot else ()):
        run(root, command)
        assert len(_results(root)) == count, command
    (root / "state").mkdir(exist_ok=True)
    shutil.copyfile(root / "target" / "manifest.json", root / "state" / "manifest.json")


def _relation_types(root: Path, schema: str) -> list[str]:
    found = query(db(root), f"select table_type from information_schema.tables where table_schema = '{schema}'")
    return ["view" if kind == "VIEW" else "table" for (kind,) in found]


CLONE = ("clone", "--state", "state", "--target", "otherschema")


def test_clone_not_possible(tmp_path: Path) -> None:
    """BaseCloneNotPossible.test_can_clone_false: every relation is cloned as a view onto the state's."""
    root = _clone_project(tmp_path)
    _run_and_save_state(root, with_snapshot=True)
    run(root, *CLONE)
    assert len(_results(root)) == 4
    types = _relation_types(root, "main_other")
    assert types and all(kind == "view" for kind in types)
    assert Counter(types) == Counter({"view": 4})
    run(root, *CLONE)  # the objects exist already: nothing to do
    assert len(_results(root)) == 4
    assert all("no-op" in r["message"].lower() for r in _results(root))
    run(root, *CLONE, "--full-refresh")
    assert len(_results(root)) == 4
    run(root, *CLONE, "--resource-type", "model")
    assert len(_results(root)) == 2
    assert all("no-op" in r["message"].lower() for r in _results(root))


def test_clone_no_state(tmp_path: Path) -> None:
    """BaseClonePossible.test_clone_no_state: clone without --state is refused with dbt's message."""
    root = _clone_project(tmp_path)
    _run_and_save_state(root, with_snapshot=True)
    output = run(root, "clone", "--target", "otherschema", expect=None)
    assert "--state or --defer-state are required for deferral, but neither was provided" in output


def test_clone_same_target_and_state(tmp_path: Path) -> None:
    """BaseCloneSameTargetAndState: --state pointing at target/ itself is refused."""
    root = _clone_project(tmp_path)
    _run_and_save_state(root)
    output = run(root, "clone", "--defer", "--state", "target", expect=None)
    assert "The state and target directories are the same: 'target'" in output


SOURCE_BASED = {
    "models/source_based_model.sql": "\n{{ config(materialized='table') }}\n"
    "select * from {{ source('test_source', 'source_table') }}\n",
    "models/source_schema.yml": """
version: 2
sources:
  - name: test_source
    schema: "{{ target.schema }}"
    tables:
      - name: source_table
models:
  - name: source_based_model
    columns:
      - name: id
        data_tests:
          - not_null
          - unique
      - name: name
        data_tests:
          - not_null
""",
    "snapshots/snapshot_model.sql": """
{% snapshot source_based_model_snapshot %}

    {{
        config(
            target_database=database,
            target_schema=schema,
            unique_key='id',
            strategy='check',
            check_cols=['id'],
        )
    }}
    select * from {{ ref('source_based_model') }}

{% endsnapshot %}
""",
}


def test_clone_same_source_and_target(tmp_path: Path) -> None:
    """BaseCloneSameSourceAndTarget: cloning onto the state's own relations is skipped, with dbt's message.

    (The suite's class overrides its models and snapshots without the fixture decorator, so under
    pytest it runs with the seed alone; here its models are used as written.)
    """
    root = _clone_project(tmp_path)
    for folder in ("models", "snapshots"):
        shutil.rmtree(root / folder)
    dbt_project(root, SOURCE_BASED, {"seeds": {"test": {"quote_columns": False}}})
    con = duckdb.connect(str(db(root)))
    try:
        con.execute(
            "create table main.source_table as select 1 as id, 'test_data' as name "
            "union all select 2 as id, 'more_data' as name"
        )
    finally:
        con.close()
    run(root, "seed")
    run(root, "run")
    (root / "state").mkdir()
    shutil.copyfile(root / "target" / "manifest.json", root / "state" / "manifest.json")
    output = run(root, "clone", "--state", "state", "--full-refresh", "--log-level", "debug")
    assert "skipping clone for relation" in output
