"""dbt's ``basic`` adapter test suite (dbt-tests-adapter), run through the modelkit CLI.

The seeds of the suite (``base``, ``added``, ``newcolumns``) are in
``tests/data/adapter_suite/basic``; its models and tests are written inline as dbt's ``files.py``
gives them. Each test runs the commands the suite's class runs and checks what it checks, from the
database and ``target/``. The docs generate classes are in ``test_adapter_suite_docs.py``.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
from conftest import query
from suite_support import db, dbt_project, relations_equal, run, statuses

DATA = Path(__file__).parent / "data" / "adapter_suite" / "basic"
SEEDS = {name: (DATA / f"{name}.csv").read_text() for name in ("base", "added", "newcolumns")}

SCHEMA_BASE_YML = """
version: 2
sources:
  - name: raw
    schema: "{{ target.schema }}"
    tables:
      - name: seed
        identifier: "{{ var('seed_name', 'base') }}"
"""
MODEL_BASE = "\n  select * from {{ source('raw', 'seed') }}\n"
MODEL_INCREMENTAL = (
    "select * from {{ source('raw', 'seed') }}\n{% if is_incremental() %}\n"
    "where id > (select max(id) from {{ this }})\n{% endif %}"
)
MODEL_EPHEMERAL = "\n  select * from {{ ref('ephemeral') }}\n"


def _config(materialized: str) -> str:
    return f'\n  {{{{ config(materialized="{materialized}") }}}}\n'


TEST_PASSING = "\nselect * from (\n    select 1 as id\n) as my_subquery\nwhere id = 2\n"
TEST_FAILING = "\nselect * from (\n    select 1 as id\n) as my_subquery\nwhere id = 1\n"
TEST_EPHEMERAL_PASSING = """
with my_other_cool_cte as (
    select id, name from {{ ref('ephemeral') }}
    where id > 1000
)
select name, id from my_other_cool_cte
"""
TEST_EPHEMERAL_FAILING = TEST_EPHEMERAL_PASSING.replace("id > 1000", "id < 1000")


def _seeds(*names: str) -> dict[str, str]:
    return {f"seeds/{name}.csv": SEEDS[name] for name in names}


def _results(root: Path) -> dict[str, str]:
    """node name -> status of the last command's results."""
    return {uid.split(".")[-1]: status for uid, status in statuses(root).items()}


def _catalog(root: Path) -> dict:
    run(root, "docs", "generate")
    return json.loads((root / "target" / "catalog.json").read_text())


def _relation_types(root: Path) -> dict[str, str]:
    """relation name -> 'table' / 'view', as dbt's ``check_relation_types`` lists the schema."""
    found = query(db(root), "select table_name, table_type from information_schema.tables where table_schema = 'main'")
    return {name: "view" if kind == "VIEW" else "table" for name, kind in found}


def _count(root: Path, relation: str) -> int:
    return query(db(root), f"select count(*) from {relation}")[0][0]


def test_simple_materializations(tmp_path: Path) -> None:
    """BaseSimpleMaterializations: view, table and a materialization chosen by a var, switched between runs."""
    files = {
        "models/view_model.sql": _config("view") + MODEL_BASE,
        "models/table_model.sql": _config("table") + MODEL_BASE,
        "models/swappable.sql": '\n  {{ config(materialized=var("materialized_var", "table"))}}\n' + MODEL_BASE,
        "models/schema.yml": SCHEMA_BASE_YML,
        **_seeds("base"),
    }
    root = dbt_project(tmp_path / "test", files, name="base")
    run(root, "seed")
    assert list(_results(root)) == ["base"]
    run(root, "run")
    assert sorted(_results(root)) == ["swappable", "table_model", "view_model"]
    expected = {"base": "table", "view_model": "view", "table_model": "table", "swappable": "table"}
    assert _relation_types(root) == expected
    assert _count(root, "base") == 10
    for name in ("view_model", "table_model", "swappable"):
        relations_equal(root, "base", name)
    catalog = _catalog(root)
    assert len(catalog["nodes"]) == 4 and len(catalog["sources"]) == 1
    run(root, "run", "-m", "swappable", "--vars", "materialized_var: view")
    assert list(_results(root)) == ["swappable"]
    assert _relation_types(root) == {**expected, "swappable": "view"}
    run(root, "run", "-m", "swappable", "--vars", "materialized_var: incremental")
    assert list(_results(root)) == ["swappable"]
    assert _relation_types(root) == expected


def test_singular_tests(tmp_path: Path) -> None:
    """BaseSingularTests: a singular test that returns no rows passes, one that returns a row fails."""
    files = {"tests/passing.sql": TEST_PASSING, "tests/failing.sql": TEST_FAILING}
    root = dbt_project(tmp_path / "test", files, name="singular_tests")
    run(root, "test", expect=1)
    assert _results(root) == {"passing": "pass", "failing": "fail"}


def test_singular_tests_ephemeral(tmp_path: Path) -> None:
    """BaseSingularTestsEphemeral: singular tests and models over an ephemeral model with its own CTE."""
    ephemeral = _config("ephemeral") + (
        "\nwith my_cool_cte as (\n  select name, id from {{ ref('base') }}\n)\n"
        "select id, name from my_cool_cte where id is not null\n"
    )
    files = {
        "models/ephemeral.sql": ephemeral,
        "models/passing_model.sql": TEST_EPHEMERAL_PASSING,
        "models/failing_model.sql": TEST_EPHEMERAL_FAILING,
        "models/schema.yml": SCHEMA_BASE_YML,
        "tests/passing.sql": TEST_EPHEMERAL_PASSING,
        "tests/failing.sql": TEST_EPHEMERAL_FAILING,
        **_seeds("base"),
    }
    root = dbt_project(tmp_path / "test", files, name="singular_tests_ephemeral")
    run(root, "seed")
    assert list(_results(root)) == ["base"]
    run(root, "test", expect=1)
    assert _results(root) == {"passing": "pass", "failing": "fail"}
    run(root, "run")
    assert sorted(_results(root)) == ["failing_model", "passing_model"]


def test_empty_project(tmp_path: Path) -> None:
    """BaseEmpty: a project with nothing in it seeds, runs and generates an empty catalog."""
    root = dbt_project(tmp_path / "test", {})
    run(root, "seed")
    results = root / "target" / "run_results.json"
    assert json.loads(results.read_text())["results"] == []
    run(root, "run")
    assert json.loads(results.read_text())["results"] == []
    assert not (root / "target" / "catalog.json").exists()
    catalog = _catalog(root)
    assert results.exists()
    assert catalog["nodes"] == {} and catalog["sources"] == {}


def test_ephemeral(tmp_path: Path) -> None:
    """BaseEphemeral: a view and a table over an ephemeral model over a source."""
    files = {
        "models/ephemeral.sql": _config("ephemeral") + MODEL_BASE,
        "models/view_model.sql": _config("view") + MODEL_EPHEMERAL,
        "models/table_model.sql": _config("table") + MODEL_EPHEMERAL,
        "models/schema.yml": SCHEMA_BASE_YML,
        **_seeds("base"),
    }
    root = dbt_project(tmp_path / "test", files, name="ephemeral")
    run(root, "seed")
    assert list(_results(root)) == ["base"]
    run(root, "run")
    assert sorted(_results(root)) == ["table_model", "view_model"]
    assert _count(root, "base") == 10
    relations_equal(root, "base", "view_model")
    relations_equal(root, "base", "table_model")
    catalog = _catalog(root)
    assert len(catalog["nodes"]) == 3 and len(catalog["sources"]) == 1
    manifest = json.loads((root / "target" / "manifest.json").read_text())
    assert len(manifest["nodes"]) == 4 and len(manifest["sources"]) == 1


def test_incremental(tmp_path: Path) -> None:
    """BaseIncremental: a run over `base`, then over `added`, appends only the new ids."""
    files = {
        "models/incremental.sql": _config("incremental") + MODEL_INCREMENTAL,
        "models/schema.yml": SCHEMA_BASE_YML,
        **_seeds("base", "added"),
    }
    root = dbt_project(tmp_path / "test", files, name="incremental")
    run(root, "seed")
    assert len(_results(root)) == 2
    assert _count(root, "base") == 10 and _count(root, "added") == 20
    run(root, "run", "--vars", "seed_name: base")
    assert list(_results(root)) == ["incremental"]
    relations_equal(root, "base", "incremental")
    run(root, "run", "--vars", "seed_name: added")
    assert list(_results(root)) == ["incremental"]
    relations_equal(root, "added", "incremental")
    catalog = _catalog(root)
    assert len(catalog["nodes"]) == 3 and len(catalog["sources"]) == 1


def test_incremental_not_schema_change(tmp_path: Path) -> None:
    """BaseIncrementalNotSchemaChange: sync_all_columns with a column whose type does not change."""
    model = """
{{ config(materialized="incremental", unique_key="user_id_current_time",on_schema_change="sync_all_columns") }}
select
    1 || '-' || current_timestamp as user_id_current_time,
    {% if is_incremental() %}
        'thisis18characters' as platform
    {% else %}
        'okthisis20characters' as platform
    {% endif %}
"""
    root = dbt_project(tmp_path / "test", {"models/incremental_not_schema_change.sql": model}, name="incremental")
    run(root, "run", "--select", "incremental_not_schema_change")
    run(root, "run", "--select", "incremental_not_schema_change")
    assert _results(root) == {"incremental_not_schema_change": "success"}


def test_incremental_bad_strategy(tmp_path: Path) -> None:
    """BaseIncrementalBadStrategy: an unknown incremental_strategy fails the model with dbt's message.

    The suite expects the first run to fail; dbt-duckdb (which does not run this class) builds the
    table first without consulting the strategy, so on DuckDB it is the second run that fails.
    """
    model = '\n  {{ config(materialized="incremental", incremental_strategy="bad_strategy") }}\n' + MODEL_INCREMENTAL
    files = {"models/incremental.sql": model, "models/schema.yml": SCHEMA_BASE_YML, **_seeds("base", "added")}
    root = dbt_project(tmp_path / "test", files, name="incremental")
    run(root, "seed")
    assert len(_results(root)) == 2
    run(root, "run")
    run(root, "run", expect=1)
    results = json.loads((root / "target" / "run_results.json").read_text())["results"]
    assert len(results) == 1
    assert (
        'dbt could not find an incremental strategy macro with the name "get_incremental_bad_strategy_sql"'
        in results[0]["message"]
    )


def test_generic_tests(tmp_path: Path) -> None:
    """BaseGenericTests: not_null on a seed (declared under `models:`), a view and a table."""

    def not_null(name: str) -> str:
        return f"\nversion: 2\nmodels:\n  - name: {name}\n    columns:\n     - name: id\n       data_tests:\n         - not_null\n"

    files = {
        **_seeds("base"),
        "seeds/schema.yml": not_null("base"),
        "models/view_model.sql": _config("view") + MODEL_BASE,
        "models/table_model.sql": _config("table") + MODEL_BASE,
        "models/schema.yml": SCHEMA_BASE_YML,
        "models/schema_view.yml": not_null("view_model"),
        "models/schema_table.yml": not_null("table_model"),
    }
    root = dbt_project(tmp_path / "test", files, name="generic_tests")
    run(root, "seed")
    run(root, "test", "-m", "base")
    assert len(_results(root)) == 1
    run(root, "run")
    assert len(_results(root)) == 2
    run(root, "test")
    assert list(_results(root).values()) == ["pass"] * 3


def _snapshot(name: str, config: str) -> str:
    return (
        f"{{% snapshot {name} %}}\n    {{{{ config(\n        {config},\n"
        "        target_database=database, target_schema=schema\n    ) }}\n"
        "    select * from {{ ref(var('seed_name', 'base')) }}\n{% endsnapshot %}"
    )


def _update(root: Path, sql: str) -> None:
    """dbt's ``update_rows``: a timestamp moved by an hour, or a suffix added to a string."""
    con = duckdb.connect(str(db(root)))
    try:
        con.execute(sql)
    finally:
        con.close()


ADD_HOUR = "update main.added set some_date = some_date + interval '1 hour' where id > 10 and id < 21"
ADD_SUFFIX = "update main.added set name = name || '_updated' where id < 11"


def test_snapshot_check_cols(tmp_path: Path) -> None:
    """BaseSnapshotCheckCols: check_cols='all', ['name'] and ['some_date'] over new and changed rows."""
    check = "check_cols={cols}, unique_key='id', strategy='check'"
    files = {
        **_seeds("base", "added"),
        "snapshots/cc_all_snapshot.sql": _snapshot("cc_all_snapshot", check.format(cols="'all'")),
        "snapshots/cc_date_snapshot.sql": _snapshot("cc_date_snapshot", check.format(cols="['some_date']")),
        "snapshots/cc_name_snapshot.sql": _snapshot("cc_name_snapshot", check.format(cols="['name']")),
    }
    root = dbt_project(tmp_path / "test", files, name="snapshot_strategy_check_cols")
    run(root, "seed")
    assert len(_results(root)) == 2

    def snapshot_counts(*args: str) -> tuple[int, int, int]:
        run(root, *args)
        assert set(_results(root).values()) == {"success"}
        return tuple(_count(root, name) for name in ("cc_all_snapshot", "cc_name_snapshot", "cc_date_snapshot"))

    assert snapshot_counts("snapshot") == (10, 10, 10)
    assert snapshot_counts("--no-partial-parse", "snapshot", "--vars", "seed_name: added") == (20, 20, 20)
    _update(root, ADD_HOUR)
    assert snapshot_counts("snapshot", "--vars", "seed_name: added") == (30, 20, 30)
    _update(root, ADD_SUFFIX)
    assert snapshot_counts("snapshot", "--vars", "seed_name: added") == (40, 30, 30)


def test_snapshot_timestamp(tmp_path: Path) -> None:
    """BaseSnapshotTimestamp: new rows and moved timestamps are captured, a name change alone is not."""
    config = "strategy='timestamp',\n        unique_key='id',\n        updated_at='some_date'"
    files = {**_seeds("base", "newcolumns", "added"), "snapshots/ts_snapshot.sql": _snapshot("ts_snapshot", config)}
    root = dbt_project(tmp_path / "test", files, name="snapshot_strategy_timestamp")
    run(root, "seed")
    assert len(_results(root)) == 3
    run(root, "snapshot")
    assert len(_results(root)) == 1
    assert _count(root, "ts_snapshot") == 10
    run(root, "snapshot", "--vars", "seed_name: added")
    assert _count(root, "ts_snapshot") == 20
    _update(root, ADD_HOUR)
    run(root, "snapshot", "--vars", "seed_name: added")
    assert _count(root, "ts_snapshot") == 30
    _update(root, ADD_SUFFIX)
    run(root, "snapshot", "--vars", "seed_name: added")
    assert _count(root, "ts_snapshot") == 30


ADAPTER_METHOD_MODEL = """

{% set upstream = ref('upstream') %}

{% if execute %}
    {# don't ever do any of this #}
    {%- do adapter.drop_schema(upstream) -%}
    {% set existing = adapter.get_relation(upstream.database, upstream.schema, upstream.identifier) %}
    {% if existing is not none %}
        {% do exceptions.raise_compiler_error('expected ' ~ ' to not exist, but it did') %}
    {% endif %}

    {%- do adapter.create_schema(upstream) -%}

    {% set sql = create_view_as(upstream, 'select 2 as id') %}
    {% do run_query(sql) %}
{% endif %}


select * from {{ upstream }}

"""
GET_COLUMNS_TEST = """
{% set columns = adapter.get_columns_in_relation(ref('model')) %}
{% set limit_query = 0 %}
{% if (columns | length) == 0 %}
    {% set limit_query = 1 %}
{% endif %}

select 1 as id limit {{ limit_query }}

"""


def test_adapter_methods(tmp_path: Path) -> None:
    """BaseAdapterMethod: drop_schema, get_relation, create_schema and create_view_as inside a model."""
    files = {
        "tests/get_columns_in_relation.sql": GET_COLUMNS_TEST,
        "models/upstream.sql": "\nselect 1 as id\n\n",
        "models/expected.sql": "\n-- make sure this runs after 'model'\n-- {{ ref('model') }}\nselect 2 as id\n\n",
        "models/model.sql": ADAPTER_METHOD_MODEL,
    }
    # in a schema of its own, as in dbt's suite: the model drops and recreates its schema
    root = dbt_project(tmp_path / "test", files, name="adapter_methods", schema="test_schema")
    run(root, "compile")
    run(root, "run")
    assert len(_results(root)) == 3
    relations_equal(root, "test_schema.model", "test_schema.expected")


def test_table_materialization_sort_dist_no_op(tmp_path: Path) -> None:
    """BaseTableMaterialization: `sort` and `dist` configs are ignored where the engine has neither."""
    model = (
        "\n{{\n  config(\n    materialized = \"table\",\n    sort = 'first_name',\n    dist = 'first_name'\n  )\n}}\n\n"
        "select * from {{ this.schema }}.seed\n"
    )
    seed = (DATA / "table_materialization_seed.csv").read_text()
    root = dbt_project(tmp_path / "test", {"seeds/seed.csv": seed, "models/materialized.sql": model})
    run(root, "seed")
    assert len(_results(root)) == 1
    run(root, "run")
    assert len(_results(root)) == 1
    relations_equal(root, "seed", "materialized")


def test_validate_connection(tmp_path: Path) -> None:
    """BaseValidateConnection: the profile's target connects (dbt's DebugTask.validate_connection), via `debug`."""
    root = dbt_project(tmp_path / "test", {})
    output = run(root, "debug")
    assert "Connection test: [OK connection ok]" in output and "All checks passed!" in output
