"""Model versions as dbt-core builds them: nodes, relations, refs, tests, warnings, ls and manifest.json.

The unique ids, names and warning texts below are the ones dbt-core 1.11 gives for the same project.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import embedded_db, query, run_cli

from modelkit.api.project import Project
from modelkit.core.errors import ModelkitError

SCHEMA = """
models:
  - name: dim
    latest_version: 2
    description: the dim
    config:
      tags: [base]
    columns:
      - name: id
        data_tests: [not_null, unique]
      - name: extra
        data_tests: [not_null]
    data_tests:
      - always_passes: {}
    versions:
      - v: 1
        deprecation_date: 2020-01-01
        config:
          tags: [v1tag]
          materialized: view
        columns:
          - include: all
            exclude: [extra]
          - name: old_col
            data_tests: [not_null]
      - v: 2
        description: second
      - v: 3
        defined_in: dim_v3_pre
        data_tests: []
        deprecation_date: 2099-06-01
      - v: 4
"""

FILES = {
    "models/dim_v1.sql": "select 1 as id, 'a' as old_col",
    "models/dim.sql": "select 2 as id, 'x' as extra",  # the latest version may live in <name>.sql
    "models/dim_v3_pre.sql": "select 3 as id, 'y' as extra",
    "models/uses.sql": (
        "select (select id from {{ ref('dim') }}) as latest, (select id from {{ ref('dim', v=1) }}) as old,"
        " (select id from {{ ref('dim', version=3) }}) as pre"
    ),
    "models/schema.yml": SCHEMA,
    "tests/generic/always_passes.sql": "{% test always_passes(model) %}select * from {{ model }} where 1=0{% endtest %}",
}

TEST_IDS = {
    "test.demo.not_null_dim_v1_id.d33fec4e6d",
    "test.demo.unique_dim_v1_id.2f98b9f679",
    "test.demo.not_null_dim_v1_old_col.7d8c58282b",
    "test.demo.always_passes_dim_v1_.eb8f22b345",
    "test.demo.not_null_dim_v2_id.972d436685",
    "test.demo.unique_dim_v2_id.fb0fd31dac",
    "test.demo.not_null_dim_v2_extra.6fbb16e175",
    "test.demo.always_passes_dim_v2_.df97721d08",
    "test.demo.not_null_dim_v3_id.b70c42b748",
    "test.demo.unique_dim_v3_id.d958999bf2",
    "test.demo.not_null_dim_v3_extra.03af283d42",
}


@pytest.fixture
def versioned(project_factory) -> Path:
    return project_factory(FILES)


def manifest(root: Path) -> dict:
    return json.loads((root / "target" / "manifest.json").read_text())


def test_build_creates_each_version_and_resolves_refs(versioned: Path) -> None:
    result = run_cli("build", cwd=versioned)
    assert result.exit_code == 0, result.output
    db = embedded_db(versioned)
    assert query(db, "select id, old_col from dim_v1") == [(1, "a")]
    assert query(db, "select id, extra from dim_v2") == [(2, "x")]
    assert query(db, "select id from dim_v3") == [(3,)]
    assert query(db, "select latest, old, pre from uses") == [(2, 1, 3)]
    kinds = dict(query(db, "select table_name, table_type from information_schema.tables"))
    assert kinds["dim_v1"] == "VIEW" and kinds["dim_v2"] == "VIEW"
    for name in ("not_null_dim_v1_id", "not_null_dim_v1_old_col", "always_passes_dim_v2_", "unique_dim_v3_id"):
        assert f"PASS {name} " in result.output
    assert "Found 4 models, 11 data tests" in result.output


def test_warnings_name_missing_versions_deprecations_and_prereleases(versioned: Path) -> None:
    out = run_cli("build", cwd=versioned).output
    assert (
        "[WARNING]: Did not find matching node for patch with name 'dim_v4' in the 'models' section of "
        "file 'models/schema.yml'"
    ) in out
    for name in ("not_null_dim_v4_id.8057e96bf7", "unique_dim_v4_id.348e2f9990", "always_passes_dim_v4_.32c005c14a"):
        assert (
            f"[WARNING]: Test 'test.demo.{name}' (models/schema.yml) depends on a node named 'dim' "
            "in package '' which was not found"
        ) in out
    assert (
        "[WARNING]: Model dim.v1 has passed its deprecation date of 2020-01-01T00:00:00"
    ) in out and "This model should be disabled or removed." in out
    assert (
        "[WARNING]: While compiling 'uses': Found a reference to dim.v1, which was deprecated on '2020-01-01T00:00:00"
    ) in out
    assert "A new version of 'dim' is available. Migrate now: {{ ref('demo', 'dim', v='2') }}." in out
    assert (
        "[WARNING]: While compiling 'uses': Found a reference to dim.v3, which is slated for deprecation on "
        "'2099-06-01T00:00:00"
    ) in out
    assert "A new version of 'dim' is available. Try it out: {{ ref('demo', 'dim', v='2') }}." in out
    assert (
        "While compiling 'uses':\n"
        "Found an unpinned reference to versioned model 'dim' in project 'demo'.\n"
        "Resolving to latest version: dim.v2\n"
        "A prerelease version 3 is available. It has not yet been marked 'latest' by its maintainer.\n"
        "When that happens, this reference will resolve to dim.v3 instead.\n\n"
        "  Try out v3: {{ ref('demo', 'dim', v='3') }}\n"
        "  Pin to  v2: {{ ref('demo', 'dim', v='2') }}"
    ) in out


def test_manifest_entries_of_versioned_models(versioned: Path) -> None:
    assert run_cli("parse", cwd=versioned).exit_code == 0
    data = manifest(versioned)
    nodes = data["nodes"]
    v1, v2, v3 = (nodes[f"model.demo.dim.v{i}"] for i in (1, 2, 3))
    assert (v1["name"], v1["alias"], v1["fqn"], v1["version"], v1["latest_version"]) == (
        "dim",
        "dim_v1",
        ["demo", "dim", "v1"],
        1,
        2,
    )
    assert v1["relation_name"] == '"demo"."main"."dim_v1"'
    assert v1["deprecation_date"].startswith("2020-01-01T00:00:00")
    assert v2["deprecation_date"] is None and v3["deprecation_date"].startswith("2099-06-01T00:00:00")
    assert (v2["original_file_path"], v3["original_file_path"]) == ("models/dim.sql", "models/dim_v3_pre.sql")
    assert v1["config"]["tags"] == ["v1tag", "base"] and v2["config"]["tags"] == ["base"]
    assert (v1["config"]["materialized"], v2["config"]["materialized"]) == ("view", "view")
    assert [v1["description"], v2["description"], v3["description"]] == ["the dim", "second", "the dim"]
    assert list(v1["columns"]) == ["id", "old_col"] and list(v2["columns"]) == ["id", "extra"]
    assert v1["patch_path"] == "demo://models/schema.yml"
    uses = nodes["model.demo.uses"]
    assert uses["refs"] == [
        {"name": "dim", "package": None, "version": None},
        {"name": "dim", "package": None, "version": 1},
        {"name": "dim", "package": None, "version": 3},
    ]
    assert sorted(uses["depends_on"]["nodes"]) == ["model.demo.dim.v1", "model.demo.dim.v2", "model.demo.dim.v3"]
    assert uses["version"] is None and uses["latest_version"] is None

    tests = {uid: n for uid, n in nodes.items() if n["resource_type"] == "test"}
    assert set(tests) == TEST_IDS
    not_null = tests["test.demo.not_null_dim_v1_id.d33fec4e6d"]
    assert not_null["attached_node"] == "model.demo.dim.v1"
    assert not_null["file_key_name"] == "models.dim"
    assert not_null["fqn"] == ["demo", "not_null_dim_v1_id"]
    assert not_null["test_metadata"]["kwargs"]["model"] == "{{ get_where_subquery(ref('dim', version='1')) }}"
    assert not_null["refs"] == [{"name": "dim", "package": None, "version": 1}]
    assert not_null["depends_on"]["nodes"] == ["model.demo.dim.v1"]
    custom = tests["test.demo.always_passes_dim_v2_.df97721d08"]
    assert custom["refs"] == [{"name": "dim", "package": None, "version": "2"}]
    # a version missing its file: its tests are disabled
    assert "test.demo.not_null_dim_v4_id.8057e96bf7" in data["disabled"]


def test_ls_names_and_version_selectors(versioned: Path) -> None:
    def ls(*args: str) -> list[str]:
        result = run_cli("ls", *args, cwd=versioned)
        assert result.exit_code == 0, result.output
        return result.output.splitlines()

    assert ls("--resource-type", "model") == ["demo.dim.v1", "demo.dim.v2", "demo.dim.v3", "demo.uses"]
    assert ls("--resource-type", "model", "--output", "name") == ["dim.v1", "dim.v2", "dim.v3", "uses"]
    assert ls("-s", "dim.v1", "--resource-type", "model") == ["demo.dim.v1"]
    assert ls("-s", "dim_v3", "--resource-type", "model") == ["demo.dim.v3"]
    assert ls("-s", "dim", "--resource-type", "model") == ["demo.dim.v1", "demo.dim.v2", "demo.dim.v3"]
    assert ls("-s", "version:latest") == [
        "demo.dim.v2",
        "demo.always_passes_dim_v2_",
        "demo.not_null_dim_v2_extra",
        "demo.not_null_dim_v2_id",
        "demo.unique_dim_v2_id",
    ]
    assert ls("-s", "version:old", "--resource-type", "model") == ["demo.dim.v1"]
    assert ls("-s", "version:prerelease", "--resource-type", "model") == ["demo.dim.v3"]
    assert ls("-s", "version:none", "--resource-type", "model") == ["demo.uses"]
    result = run_cli("ls", "-s", "version:2", cwd=versioned)
    assert result.exit_code == 2
    assert 'Invalid version type selector 2: expected one of: "latest", "prerelease", "old", or "none"' in result.output


def test_latest_version_defaults_to_the_highest(project_factory) -> None:
    root = project_factory(
        {
            "models/m_v1.sql": "select 1 as id",
            "models/m_v2.sql": "select 2 as id",
            "models/m_v10.sql": "select 10 as id",
            "models/schema.yml": "models:\n  - name: m\n    versions: [{v: 2}, {v: 10}, {v: 1}]\n",
            "models/uses.sql": "select * from {{ ref('m') }}",
        }
    )
    compiled = Project(root).compile(select=["uses"])["model.demo.uses"]
    assert compiled == 'select * from "demo"."main"."m_v10"'
    parsed = Project(root).parse()
    assert {n.latest_version for n in parsed.nodes.values() if n.name == "m"} == {10}


def test_per_version_config_and_alias(project_factory) -> None:
    root = project_factory(
        {
            "models/m_v1.sql": "select 1 as id",
            "models/m_v2.sql": "select 2 as id",
            "models/schema.yml": """
                models:
                  - name: m
                    config: {materialized: table}
                    versions:
                      - v: 1
                        config: {alias: m_legacy, schema: old}
                      - v: 2
            """,
        }
    )
    result = run_cli("run", cwd=root)
    assert result.exit_code == 0, result.output
    db = embedded_db(root)
    tables = set(query(db, "select table_schema, table_name, table_type from information_schema.tables"))
    assert tables == {("main_old", "m_legacy", "BASE TABLE"), ("main", "m_v2", "BASE TABLE")}


@pytest.mark.parametrize(
    ("versions", "message"),
    [
        (
            "latest_version: 3\n    versions: [{v: 1}, {v: 2}]",
            "latest_version: 3 is not one of model 'm' versions: [1, 2]",
        ),
        ("versions: [{v: 1}, {v: 1}]", "Found duplicate version: '1' in versions list of model 'm'"),
        ("versions: [{defined_in: m_v1}]", "Every version of model 'm' needs a `v`"),
    ],
)
def test_invalid_versions_are_errors(project_factory, versions: str, message: str) -> None:
    root = project_factory(
        {"models/m_v1.sql": "select 1 as id", "models/schema.yml": f"models:\n  - name: m\n    {versions}\n"}
    )
    with pytest.raises(ModelkitError, match=message.replace("[", r"\[").replace("]", r"\]")):
        Project(root).parse()


def test_a_ref_to_a_missing_version_names_the_version(project_factory) -> None:
    root = project_factory(
        {
            "models/m_v1.sql": "select 1 as id",
            "models/schema.yml": "models:\n  - name: m\n    versions: [{v: 1}]\n",
            "models/uses.sql": "select * from {{ ref('m', v=7) }}",
        }
    )
    result = run_cli("parse", cwd=root)
    assert result.exit_code == 2
    assert "depends on a node named 'm' with version '7' which was not found" in result.output


def test_deprecation_of_an_unversioned_model(project_factory) -> None:
    root = project_factory(
        {
            "models/old.sql": "select 1 as id",
            "models/child.sql": "select * from {{ ref('old') }}",
            "models/schema.yml": "models:\n  - name: old\n    deprecation_date: 2021-03-04 10:00:00\n",
        }
    )
    logged: list[str] = []
    parsed = Project(root, log=logged.append).parse()
    moment = parsed.nodes["model.demo.old"].deprecation_date
    assert moment is not None and moment.startswith("2021-03-04T10:00:00")
    assert logged == [
        f"[WARNING]: Model old has passed its deprecation date of {moment}. This model should be disabled or removed.",
        f"[WARNING]: While compiling 'child': Found a reference to old, which was deprecated on '{moment}'. ",
    ]
