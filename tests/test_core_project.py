"""Project files, config precedence, profiles and YAML properties."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import query, run_cli, write_files

from modelkit import Project
from modelkit.core.errors import ProjectError
from modelkit.project.profiles import duckdb_database_name

DBT_PROJECT = {
    "dbt_project.yml": """
        name: shopdbt
        profile: shopdbt
        model-paths: ["transform"]
        vars:
          region: eu
        models:
          +tags: ["all"]
          shopdbt:
            +materialized: view
            marts:
              +materialized: table
              +schema: marts
              +tags: ["mart"]
              finance:
                +alias: fin_override
                +enabled: true
            legacy:
              +enabled: false
    """,
    "profiles.yml": """
        shopdbt:
          target: dev
          outputs:
            dev:
              type: duckdb
              path: "{{ env_var('MK_TEST_DB_DIR', '.') }}/dev.duckdb"
              schema: main
              threads: 2
            other:
              type: duckdb
              path: other.duckdb
              schema: analytics
    """,
    "transform/staging/stg.sql": "select 1 as id, '{{ var('region') }}' as region",
    "transform/marts/summary.sql": "{{ config(tags=['file']) }}select * from {{ ref('stg') }}",
    "transform/marts/finance/revenue.sql": "select 2 as id",
    "transform/marts/finance/yaml_configured.sql": "{{ config(materialized='view') }}select 3 as id",
    "transform/legacy/old.sql": "select * from nowhere_at_all",
    "transform/marts/props.yml": """
        version: 2
        models:
          - name: yaml_configured
            description: Configured from YAML and from the file.
            config:
              materialized: ephemeral
              schema: yaml_schema
              tags: ["yaml"]
            columns:
              - name: id
                description: The id.
                data_type: integer
    """,
}


@pytest.fixture
def dbt_project(tmp_path: Path) -> Path:
    return write_files(tmp_path / "shopdbt", DBT_PROJECT)


def _nodes(root: Path, **kwargs) -> dict:
    manifest = Project(root, **kwargs).parse()
    return {n.name: n for n in manifest.nodes.values()}


def test_dbt_project_config_tree(dbt_project: Path) -> None:
    nodes = _nodes(dbt_project, profiles_dir=dbt_project)
    assert "old" not in nodes  # disabled by folder
    assert nodes["stg"].materialized == "view" and nodes["stg"].schema == "main"
    assert nodes["stg"].tags == ["all"]
    assert nodes["summary"].materialized == "table" and nodes["summary"].schema == "main_marts"
    assert nodes["summary"].tags == ["all", "mart", "file"]  # tags append, shallow to deep, then file
    assert nodes["revenue"].alias == "fin_override"
    # file config beats YAML config, which beats the project tree
    cfg = nodes["yaml_configured"]
    assert cfg.materialized == "view" and cfg.schema == "main_yaml_schema"
    assert cfg.tags == ["all", "mart", "yaml"]
    assert cfg.description == "Configured from YAML and from the file."
    assert cfg.columns["id"].data_type == "integer"
    assert nodes["stg"].fqn == ["shopdbt", "staging", "stg"]


def test_dbt_project_builds_with_profile(dbt_project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MK_TEST_DB_DIR", str(dbt_project / "dbdir"))
    result = run_cli("run", "--project-dir", str(dbt_project), "--profiles-dir", str(dbt_project))
    assert result.exit_code == 0, result.output
    assert "Concurrency: 2 threads (target='dev')" in result.output
    db = dbt_project / "dbdir" / "dev.duckdb"
    assert query(db, 'select region from "dev"."main"."stg"') == [("eu",)]
    assert query(db, 'select count(*) from "dev"."main_marts"."fin_override"') == [(1,)]


def test_target_flag_picks_output(dbt_project: Path) -> None:
    result = Project(dbt_project, profiles_dir=dbt_project, target="other").run(select=["stg"])
    assert result.success
    assert query(dbt_project / "other.duckdb", 'select id from "other"."analytics"."stg"') == [(1,)]


def test_missing_profile_and_target_errors(dbt_project: Path) -> None:
    with pytest.raises(ProjectError, match="The profile 'shopdbt' does not have a target named 'nope'"):
        Project(dbt_project, profiles_dir=dbt_project, target="nope").parse()
    with pytest.raises(ProjectError, match="Could not find profile named 'ghost'"):
        Project(dbt_project, profiles_dir=dbt_project, profile="ghost").parse()


def test_project_without_profile_uses_embedded_duckdb(project_factory) -> None:
    root = project_factory({"models/a.sql": "select 1 as id"})
    assert Project(root).run().success
    assert query(root / "target" / "demo.duckdb", "select id from main.a") == [(1,)]


@pytest.mark.parametrize(
    ("path", "expected"),
    [("dev.duckdb", "dev"), ("/x/y/my.db.duckdb", "my"), (":memory:", "memory"), (".hidden.duckdb", "hidden")],
)
def test_duckdb_database_name(path: str, expected: str) -> None:
    assert duckdb_database_name(path) == expected


def test_missing_project_file_says_where_it_looked(tmp_path: Path) -> None:
    result = run_cli("run", "--project-dir", str(tmp_path))
    assert result.exit_code == 2
    assert "No project file found" in result.output
    assert str(tmp_path / "modelkit.yml") in result.output and str(tmp_path / "dbt_project.yml") in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("rel", "text", "line"),
    [
        ("models/schema.yml", "version: 2\nmodels:\n  - name: a\n    description: [unclosed\n", 5),
        ("modelkit.yml", "name: demo\nmodels:\n  demo: {a: b\n", 4),
    ],
)
def test_yaml_errors_name_file_and_line(project_factory, rel: str, text: str, line: int) -> None:
    root = project_factory({"models/a.sql": "select 1 as id"})
    (root / rel).write_text(text)
    result = run_cli("parse", "--project-dir", str(root))
    assert result.exit_code == 2
    assert f"{rel}:{line}" in result.output
    assert "Invalid YAML" in result.output


def test_yaml_describing_a_missing_model_is_a_warning(project_factory) -> None:
    root = project_factory({"models/orders.sql": "select 1 as id", "models/s.yml": "models:\n  - name: ordrs\n"})
    logged: list[str] = []
    manifest = Project(root, log=logged.append).parse()
    assert "model.demo.orders" in manifest.nodes
    assert logged == [
        "[WARNING]: Did not find matching node for patch with name 'ordrs' in the 'models' section of file 'models/s.yml'"
    ]


def test_manifest_json_shape(project_factory) -> None:
    root = project_factory(
        {
            "models/a.sql": "select 1 as id",
            "models/b.sql": "{{ config(materialized='table') }}select * from {{ ref('a') }}",
            "models/b.yml": "models:\n  - name: b\n    description: B!\n    columns:\n      - name: id\n        description: key\n",
        }
    )
    Project(root).run()
    manifest = json.loads((root / "target" / "manifest.json").read_text())
    node = manifest["nodes"]["model.demo.b"]
    assert node["resource_type"] == "model" and node["name"] == "b"
    assert node["depends_on"]["nodes"] == ["model.demo.a"]
    assert node["config"]["materialized"] == "table"
    assert node["relation_name"] == '"demo"."main"."b"'
    assert node["compiled_code"] == 'select * from "demo"."main"."a"'
    assert node["columns"]["id"]["description"] == "key"
    assert node["fqn"] == ["demo", "b"] and node["original_file_path"] == "models/b.sql"
    assert manifest["parent_map"]["model.demo.b"] == ["model.demo.a"]
    assert manifest["child_map"]["model.demo.a"] == ["model.demo.b"]
    assert manifest["metadata"]["dbt_schema_version"].endswith("manifest/v12.json")


def test_doc_blocks_in_yaml_descriptions(project_factory) -> None:
    root = project_factory(
        {
            "models/docs.md": "{% docs orders_doc %}\nAll the **orders**.\n{% enddocs %}\n{% docs id_doc %}The key.{% enddocs %}",
            "models/orders.sql": "select 1 as id",
            "models/orders.yml": """
                models:
                  - name: orders
                    description: "{{ doc('orders_doc') }}"
                    columns:
                      - name: id
                        description: "Key: {{ doc('id_doc') }} ({{ var('suffix', 'v1') }})"
            """,
        }
    )
    node = Project(root).parse().nodes["model.demo.orders"]
    assert node.description == "All the **orders**."
    assert node.columns["id"].description == "Key: The key. (v1)"
    (root / "models" / "orders.yml").write_text("models:\n  - name: orders\n    description: \"{{ doc('nope') }}\"\n")
    with pytest.raises(Exception, match="Documentation for 'nope' not found"):
        Project(root).parse()


def test_streamed_manifest_equals_manifest_dict(project_factory) -> None:
    from modelkit.artifacts import writer as artifacts

    root = project_factory(
        {"models/a.sql": "select 1 as id", "models/b.sql": "select * from {{ ref('a') }}", "seeds/s.csv": "x\n1\n"}
    )
    manifest = Project(root).parse()
    path = root / "target" / "streamed.json"
    artifacts.write_manifest(path, manifest, "inv", {"model.demo.b": "select 1"})
    streamed = json.loads(path.read_text())
    whole = json.loads(json.dumps(artifacts.manifest_dict(manifest, "inv", {"model.demo.b": "select 1"}), default=str))
    for key in ("generated_at", "invocation_started_at", "run_started_at"):
        streamed["metadata"].pop(key)
        whole["metadata"].pop(key)
    assert streamed == whole
    assert streamed["nodes"]["model.demo.b"]["compiled_code"] == "select 1"


def test_project_quoting_applies_to_refs_sources_tests_and_the_manifest(project_factory) -> None:
    # dbt_expectations' integration project turns quoting off: `it.schema.table` everywhere, as dbt writes.
    # As dbt 1.11 does: a model's own `quoting` config is not used; source() follows only the source's
    # `quoting:`, its relation_name the project's too
    root = project_factory(
        {
            "modelkit.yml": "name: demo\nquoting:\n  database: false\n  identifier: false\n",
            "models/a.sql": "select 1 as id",
            "models/b.sql": "{{ config(quoting={'identifier': true}) }}select x.id from {{ ref('a') }} as x, {{ source('raw', 'r') }} as y",
            "models/src.yml": """
                sources:
                  - name: raw
                    schema: main
                    quoting: {schema: false}
                    tables:
                      - name: r
                        identifier: a
                        quoting: {identifier: true}
                models:
                  - name: a
                    data_tests: [{dbt_utils_free_test: {}}]
            """,
            "tests/generic/free.sql": "{% test dbt_utils_free_test(model) %}select * from {{ model }} where false{% endtest %}",
        }
    )
    result = run_cli("build", cwd=root)
    assert result.exit_code == 0, result.output
    manifest = json.loads((root / "target" / "manifest.json").read_text())
    nodes = manifest["nodes"]
    assert nodes["model.demo.a"]["relation_name"] == 'demo."main".a'
    assert nodes["model.demo.b"]["relation_name"] == 'demo."main".b'
    assert nodes["model.demo.b"]["compiled_code"] == 'select x.id from demo."main".a as x, "demo".main."a" as y'
    assert manifest["sources"]["source.demo.raw.r"]["relation_name"] == 'demo.main."a"'
    assert manifest["sources"]["source.demo.raw.r"]["quoting"]["identifier"] is True
    assert manifest["metadata"]["quoting"] == {"database": False, "schema": True, "identifier": False, "column": None}
    test = next(n for n in nodes.values() if n["resource_type"] == "test")
    assert 'from demo."main".a where false' in test["compiled_code"]
