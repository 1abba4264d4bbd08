"""Snapshots as project nodes: SQL blocks and YAML entries, ref(), schemas, the command, errors."""

from __future__ import annotations

import json

import duckdb
import pytest
from conftest import embedded_db, query, run_cli

from modelkit import Project

SEED = {"seeds/people.csv": "id,name,updated_at\n1,Ann,2024-01-01\n2,Bob,2024-01-01\n"}


def test_sql_and_yaml_snapshots_and_ref(project_factory) -> None:
    root = project_factory(
        {
            **SEED,
            "snapshots/people_history.sql": """
                {% snapshot people_history %}
                {{ config(unique_key='id', strategy='timestamp', updated_at='updated_at', target_schema='history') }}
                select * from {{ ref('people') }}
                {% endsnapshot %}
            """,
            "snapshots/_snapshots.yml": """
                snapshots:
                  - name: people_checked
                    relation: ref('people')
                    description: People, checked by name.
                    config:
                      unique_key: id
                      strategy: check
                      check_cols: [name]
                      schema: snaps
                  - name: people_history
                    description: Timestamped people.
            """,
            "models/current_people.sql": """
                select h.id, h.name from {{ ref('people_history') }} as h
                join {{ ref('people_checked') }} as c using (id)
                where h.dbt_valid_to is null and c.dbt_valid_to is null
            """,
        }
    )
    assert run_cli("seed", cwd=root).exit_code == 0
    out = run_cli("snapshot", cwd=root)
    assert out.exit_code == 0, out.output
    assert "Found 1 model, 1 seed, 2 snapshots" in out.output
    assert "START snapshot history.people_history " in out.output
    assert "OK snapshotted history.people_history " in out.output
    assert "OK snapshotted main_snaps.people_checked " in out.output
    assert "Finished running 2 snapshots in " in out.output
    ran = run_cli("run", cwd=root)
    assert ran.exit_code == 0, ran.output
    assert query(embedded_db(root), "select * from current_people order by id") == [(1, "Ann"), (2, "Bob")]
    manifest = json.loads((root / "target" / "manifest.json").read_text())
    snap = manifest["nodes"]["snapshot.demo.people_history"]
    assert snap["resource_type"] == "snapshot" and snap["schema"] == "history"
    assert snap["fqn"] == ["demo", "people_history", "people_history"]
    assert snap["description"] == "Timestamped people."
    assert snap["depends_on"]["nodes"] == ["seed.demo.people"]
    assert snap["config"]["strategy"] == "timestamp" and snap["config"]["materialized"] == "snapshot"
    yaml_snap = manifest["nodes"]["snapshot.demo.people_checked"]
    assert yaml_snap["original_file_path"] == "snapshots/_snapshots.yml"
    assert yaml_snap["raw_code"] == "select * from {{ ref('people') }}"
    assert sorted(manifest["nodes"]["model.demo.current_people"]["depends_on"]["nodes"]) == [
        "snapshot.demo.people_checked",
        "snapshot.demo.people_history",
    ]
    listed = run_cli("ls", "--resource-type", "snapshot", cwd=root)
    assert sorted(listed.output.split()) == ["demo.people_checked", "demo.people_history.people_history"]
    # `run` does not run snapshots, `snapshot` runs only them
    assert "snapshot" not in run_cli("run", cwd=root).output.split("Finished running", 1)[1].split("\n")[0]


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ("strategy='timestamp', updated_at='updated_at'", "needs `unique_key`"),
        ("unique_key='id', strategy='timestamp'", "uses strategy 'timestamp' and needs `updated_at`"),
        ("unique_key='id', strategy='check'", "needs `check_cols`: a list of columns or 'all'"),
        ("unique_key='id', strategy='sometimes'", "unknown strategy 'sometimes'"),
        ("unique_key='id', strategy='check', check_cols='all', hard_deletes='drop'", "hard_deletes must be one of"),
    ],
)
def test_bad_snapshot_config_is_a_project_error(project_factory, config: str, expected: str) -> None:
    root = project_factory(
        {
            **SEED,
            "snapshots/s.sql": f"-- history\n{{% snapshot s %}}\n{{{{ config({config}) }}}}\nselect 1 as id\n{{% endsnapshot %}}\n",
        }
    )
    out = run_cli("snapshot", cwd=root)
    assert out.exit_code == 2
    assert expected in out.output
    assert "snapshots/s.sql:2" in out.output  # file and line of the block


def test_yaml_snapshot_without_relation_or_block(project_factory) -> None:
    root = project_factory({"snapshots/s.yml": "snapshots:\n  - name: ghost\n    description: nothing here\n"})
    out = run_cli("snapshot", cwd=root)
    assert out.exit_code == 2
    assert "Snapshot 'ghost' is described in YAML but has no `relation:`" in out.output
    assert "snapshots/s.yml" in out.output


def test_jinja_error_in_snapshot_names_the_line(project_factory) -> None:
    root = project_factory(
        {
            "snapshots/s.sql": "{% snapshot s %}\n{{ config(unique_key='id', strategy='check', check_cols='all') }}\nselect {{ 1 + }}\n{% endsnapshot %}\n"
        }
    )
    out = run_cli("snapshot", cwd=root)
    assert out.exit_code == 2 and "snapshots/s.sql:3" in out.output


def test_snapshot_target_must_be_a_snapshot_table(project_factory) -> None:
    root = project_factory(
        {
            "snapshots/s.sql": """
                {% snapshot s %}
                {{ config(unique_key='id', strategy='check', check_cols='all', alias='occupied') }}
                select 1 as id
                {% endsnapshot %}
            """,
        }
    )
    # a table of that name made by something else (a model of the project may not build the same relation)
    embedded_db(root).parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(embedded_db(root)))
    con.execute("create table occupied as select 1 as id")
    con.close()
    result = Project(root).snapshot()
    assert not result.success
    assert 'Snapshot target is missing configured columns (missing "dbt_scd_id", "dbt_valid_from", "dbt_valid_to")' in (
        result.results[0].message or ""
    )
    assert query(embedded_db(root), "select * from occupied") == [(1,)]


def test_snapshots_run_in_dependency_order_with_other_nodes(project_factory) -> None:
    """What `build` needs: one DAG run over seeds, snapshots and models, through the runner."""
    from modelkit.api.executors import make_runner
    from modelkit.execute.runplan import EXECUTABLE, RunOptions

    assert EXECUTABLE["snapshot"] == ("snapshot",)
    root = project_factory(
        {
            **SEED,
            "snapshots/s.sql": """
                {% snapshot s %}
                {{ config(unique_key='id', strategy='timestamp', updated_at='updated_at') }}
                select * from {{ ref('people') }}
                {% endsnapshot %}
            """,
            "models/current.sql": "select name from {{ ref('s') }} where dbt_valid_to is null",
        }
    )
    with Project(root).session("build") as session:
        options = RunOptions("build", resource_types=("seed", "snapshot", "model"), threads=4)
        run = make_runner(session, options).execute()
    assert run.success, [r.message for r in run.results]
    order = [r.unique_id for r in run.results]
    assert order == ["seed.demo.people", "snapshot.demo.s", "model.demo.current"]
    assert query(embedded_db(root), "select name from current order by name") == [("Ann",), ("Bob",)]
