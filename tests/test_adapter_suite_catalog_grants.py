"""dbt's adapter test suites ``catalog`` and ``grants``, run through the modelkit CLI on DuckDB.

``catalog/relation_types.py`` (CatalogRelationTypes): each relation's type in catalog.json. DuckDB
has no materialized views, so the suite's ``my_materialized_view`` is left out, as an adapter
without them configures the class.

``grants``: dbt-duckdb applies no grants (its ``duckdb__apply_grants`` warns once, "Grants for
relations are not supported by DuckDB") and runs none of the suite's classes, whose checks read the
grants back from the database. What does apply on DuckDB is ported: the ``grants`` config of a
model, an incremental model, a seed and a snapshot, rendered from env vars into the manifest as the
suite checks it, each node built, and dbt-duckdb's warning printed once.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from suite_support import dbt_project, run, statuses

MY_SEED = """
id,value,record_valid_date
1,100,2023-01-01 00:00:00
2,200,2023-01-02 00:00:00
3,300,2023-01-02 00:00:00
""".strip()


@pytest.mark.parametrize(
    ("node_name", "relation_type"),
    [("seed.test.my_seed", "BASE TABLE"), ("model.test.my_table", "BASE TABLE"), ("model.test.my_view", "VIEW")],
)
def test_relation_types_populate_correctly(tmp_path: Path, node_name: str, relation_type: str) -> None:
    files = {
        "seeds/my_seed.csv": MY_SEED,
        "models/my_table.sql": "{{ config(\n    materialized='table',\n) }}\nselect *\nfrom {{ ref('my_seed') }}\n",
        "models/my_view.sql": "{{ config(\n    materialized='view',\n) }}\nselect *\nfrom {{ ref('my_seed') }}\n",
    }
    root = dbt_project(tmp_path / "test", files)
    run(root, "seed")
    run(root, "run")
    run(root, "docs", "generate")
    docs = json.loads((root / "target" / "catalog.json").read_text())
    assert node_name in docs["nodes"]
    assert docs["nodes"][node_name]["metadata"]["type"] == relation_type


# -- grants ------------------------------------------------------------------------------------------
USERS = {
    "DBT_TEST_USER_1": "dbt_test_user_1",
    "DBT_TEST_USER_2": "dbt_test_user_2",
    "DBT_TEST_USER_3": "dbt_test_user_3",
}
WARNING = "DuckDB adapter: Grants for relations are not supported by DuckDB"
SNAPSHOT = """
{% snapshot my_snapshot %}
    {{ config(
        check_cols='all', unique_key='id', strategy='check',
        target_database=database, target_schema=schema
    ) }}
    select 1 as id, cast('blue' as {{ type_string() }}) as color
{% endsnapshot %}
""".strip()


def _grants_yml(kind: str, name: str, grants: str, materialized: str | None = None) -> str:
    config = f"      materialized: {materialized}\n" if materialized else ""
    return f"version: 2\n{kind}:\n  - name: {name}\n    config:\n{config}      grants:\n{grants}"


SELECT_1 = "        select: [\"{{ env_var('DBT_TEST_USER_1') }}\"]\n"
SELECT_1_2 = "        select: [\"{{ env_var('DBT_TEST_USER_1') }}\", \"{{ env_var('DBT_TEST_USER_2') }}\"]\n"
SELECT_1_INSERT_2 = SELECT_1 + "        insert: [\"{{ env_var('DBT_TEST_USER_2') }}\"]\n"


@pytest.mark.parametrize(
    ("files", "command", "unique_id", "expected"),
    [
        (  # BaseModelGrants: a view
            {
                "models/my_model.sql": "  select 1 as fun\n",
                "models/schema.yml": _grants_yml("models", "my_model", SELECT_1),
            },
            "run",
            "model.test.my_model",
            {"select": ["dbt_test_user_1"]},
        ),
        (  # BaseModelGrants: a table, two users
            {
                "models/my_model.sql": "  select 1 as fun\n",
                "models/schema.yml": _grants_yml("models", "my_model", SELECT_1_2, "table"),
            },
            "run",
            "model.test.my_model",
            {"select": ["dbt_test_user_1", "dbt_test_user_2"]},
        ),
        (  # BaseModelGrants: a table, two privileges
            {
                "models/my_model.sql": "  select 1 as fun\n",
                "models/schema.yml": _grants_yml("models", "my_model", SELECT_1_INSERT_2, "table"),
            },
            "run",
            "model.test.my_model",
            {"select": ["dbt_test_user_1"], "insert": ["dbt_test_user_2"]},
        ),
        (  # BaseIncrementalGrants
            {
                "models/my_incremental_model.sql": "\n  select 1 as fun\n",
                "models/schema.yml": _grants_yml("models", "my_incremental_model", SELECT_1, "incremental"),
            },
            "run",
            "model.test.my_incremental_model",
            {"select": ["dbt_test_user_1"]},
        ),
        (  # BaseSeedGrants
            {
                "seeds/my_seed.csv": "id,name\n1,Dr. Bob\n",
                "seeds/schema.yml": _grants_yml("seeds", "my_seed", SELECT_1),
            },
            "seed",
            "seed.test.my_seed",
            {"select": ["dbt_test_user_1"]},
        ),
        (  # BaseSnapshotGrants
            {
                "snapshots/my_snapshot.sql": SNAPSHOT,
                "snapshots/schema.yml": _grants_yml("snapshots", "my_snapshot", SELECT_1),
            },
            "snapshot",
            "snapshot.test.my_snapshot",
            {"select": ["dbt_test_user_1"]},
        ),
    ],
    ids=["view", "table_two_users", "table_two_privileges", "incremental", "seed", "snapshot"],
)
def test_grants_on_duckdb(tmp_path: Path, files: dict, command: str, unique_id: str, expected: dict) -> None:
    root = dbt_project(tmp_path / "test", files)
    for _ in range(2):  # the suites run each twice (the second time, grants are revoked and re-applied)
        output = run(root, command, env=USERS)
        assert statuses(root) == {unique_id: "success"}
        assert output.count(WARNING) == 1
    manifest = json.loads((root / "target" / "manifest.json").read_text())
    assert manifest["nodes"][unique_id]["config"]["grants"] == expected


def test_grants_warning_once_per_command(tmp_path: Path) -> None:
    """duckdb__apply_grants uses warn_once: one warning however many nodes have grants; none without."""
    files = {
        "models/a.sql": "{{ config(materialized='table', grants={'select': ['u']}) }}\nselect 1 as id\n",
        "models/b.sql": "{{ config(materialized='table', grants={'select': ['u']}) }}\nselect 2 as id\n",
        "models/c.sql": "select 3 as id\n",
    }
    root = dbt_project(tmp_path / "test", files)
    assert run(root, "run").count(WARNING) == 1
    assert WARNING not in run(root, "run", "--select", "c")
