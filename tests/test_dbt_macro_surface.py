"""dbt's global macros, callable as dbt users call them.

dbt's own materializations (dbt-duckdb's table and incremental, dbt's view), copied into a project under new
names, build what modelkit's built-in materializations build; custom incremental strategies call dbt's strategy
macros; and each macro renders what dbt renders (tests/data/dbt_macro_surface, recorded from dbt itself).
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from conftest import embedded_db, make_project, query, run_cli

DATA = Path(__file__).parent / "data"
COPIED = DATA / "dbt_materializations" / "macros"
RENDERED = DATA / "dbt_macro_surface"

# Round 1 builds from scratch; round 2 changes rows (ids 2 and 3 updated, 4 new) and, where `extra` is
# asked for, adds a column.
ROWS = """
select * from (values
{% if var('round') == 1 %}
    (1, 'a', 1, 10.50::decimal(10,2), date '2024-01-01'),
    (2, 'b', 1, 20.00::decimal(10,2), date '2024-01-02'),
    (3, 'c', 2, 30.25::decimal(10,2), date '2024-01-03')
{% else %}
    (2, 'b2', 1, 21.00::decimal(10,2), date '2024-02-02'),
    (3, 'c2', 2, 31.25::decimal(10,2), date '2024-02-03'),
    (4, 'd', 2, 40.00::decimal(10,2), date '2024-02-04')
{% endif %}
) as t(id, name, k, amount, day)
"""
WITH_EXTRA = """
select *{% if var('round') == 2 %}, 'x' || id as extra{% endif %} from ({ROWS}) as rows
"""

# name -> (copied materialization, built-in materialization, config, SQL)
CASES = {
    "table": ("copied_table", "table", "", ROWS),
    "view": ("copied_view", "view", "", ROWS),
    "delete_insert": (
        "copied_incremental",
        "incremental",
        "unique_key='id', incremental_strategy='delete+insert'",
        ROWS,
    ),
    "delete_insert_composite": (
        "copied_incremental",
        "incremental",
        "unique_key=['id', 'k'], incremental_strategy='delete+insert'",
        ROWS,
    ),
    "merge": ("copied_incremental", "incremental", "unique_key='id', incremental_strategy='merge'", ROWS),
    "merge_composite": (
        "copied_incremental",
        "incremental",
        "unique_key=['id', 'k'], incremental_strategy='merge'",
        ROWS,
    ),
    "append": ("copied_incremental", "incremental", "incremental_strategy='append'", ROWS),
    "merge_new_columns": (
        "copied_incremental",
        "incremental",
        "unique_key='id', incremental_strategy='merge', on_schema_change='append_new_columns'",
        WITH_EXTRA.replace("{ROWS}", ROWS),
    ),
    "delete_insert_new_columns": (
        "copied_incremental",
        "incremental",
        "unique_key='id', incremental_strategy='delete+insert', on_schema_change='append_new_columns'",
        WITH_EXTRA.replace("{ROWS}", ROWS),
    ),
}


def build(root: Path, *args: str) -> str:
    result = run_cli("build", *args, cwd=root)
    assert result.exit_code == 0, result.output
    return result.output


def described(db: Path, name: str) -> list[tuple]:
    return query(
        db,
        "select column_name, data_type from information_schema.columns "
        f"where table_name = '{name}' order by ordinal_position",
    )


@pytest.fixture(scope="module")
def copied_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    files = {}
    for name, (copied, builtin, config, sql) in CASES.items():
        for prefix, materialized in (("copied", copied), ("builtin", builtin)):
            settings = ", ".join(s for s in (f"materialized='{materialized}'", config) if s)
            files[f"models/{prefix}_{name}.sql"] = f"{{{{ config({settings}) }}}}\n{sql}"
    root = make_project(tmp_path_factory.mktemp("copied") / "demo", files)
    (root / "macros").mkdir(exist_ok=True)
    for path in COPIED.glob("*.sql"):
        shutil.copy(path, root / "macros" / path.name)
    return root


@pytest.mark.parametrize("round_number", [1, 2])
@pytest.mark.parametrize("name", list(CASES))
def test_dbts_materializations_copied_build_what_builtins_build(
    copied_project: Path, name: str, round_number: int
) -> None:
    root = copied_project
    marker = root / f".built_round_{round_number}"
    if not marker.exists():  # each round's build runs once, for all cases
        if round_number == 2 and not (root / ".built_round_1").exists():
            build(root, "--vars", "{round: 1}")
            (root / ".built_round_1").touch()
        output = build(root, "--vars", f"{{round: {round_number}}}")
        assert "copied_incremental model" in output
        marker.touch()
    db = embedded_db(root)
    copied, builtin = f"copied_{name}", f"builtin_{name}"
    assert described(db, copied) == described(db, builtin)
    rows = query(db, f"select * from {builtin} order by all")
    assert query(db, f"select * from {copied} order by all") == rows
    kind = "select table_type from information_schema.tables where table_name = '{}'"
    assert query(db, kind.format(copied)) == query(db, kind.format(builtin))
    if round_number == 2 and name.startswith(("merge", "delete_insert")):
        ids = sorted(r[0] for r in rows)
        assert ids == [1, 2, 3, 4]  # rows 2 and 3 replaced, 4 added, 1 kept
        assert ("b2" in {r[1] for r in rows}) and ("b" not in {r[1] for r in rows})
    if round_number == 2 and name == "append":
        assert sorted(r[0] for r in rows) == [1, 2, 2, 3, 3, 4]
    if round_number == 2 and name.endswith("new_columns"):
        assert described(db, copied)[-1] == ("extra", "VARCHAR")
        assert query(db, f"select id, extra from {copied} order by id") == [(1, None), (2, "x2"), (3, "x3"), (4, "x4")]


# dbt's default snapshot materialization (copied) against modelkit's snapshots: name -> config
SNAPSHOTS = {
    "timestamp": {"unique_key": "id", "strategy": "timestamp", "updated_at": "updated_at"},
    "timestamp_invalidate": {
        "unique_key": "id",
        "strategy": "timestamp",
        "updated_at": "updated_at",
        "hard_deletes": "invalidate",
    },
    "check_all": {"unique_key": "id", "strategy": "check", "check_cols": "all"},
    "check_new_record": {
        "unique_key": ["id", "name"],
        "strategy": "check",
        "check_cols": ["amount"],
        "hard_deletes": "new_record",
    },
}
SNAPSHOT_SOURCE = """
{{ config(materialized='table') }}
{% if var('round') == 1 %}
select 1 as id, 'a' as name, 10 as amount, timestamp '2024-01-01' as updated_at
union all select 2, 'b', 20, timestamp '2024-01-01'
{% else %}
select 1 as id, 'a' as name, 11 as amount, timestamp '2024-02-01' as updated_at
union all select 3, 'c', 30, timestamp '2024-02-01'
{% endif %}
"""
META = ("dbt_scd_id", "dbt_updated_at", "dbt_valid_from", "dbt_valid_to")


@pytest.fixture(scope="module")
def snapshot_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    entries = []
    for name, config in SNAPSHOTS.items():
        for prefix, extra in (("copied", {"materialized": "copied_snapshot"}), ("builtin", {})):
            entries.append({"name": f"{prefix}_{name}", "relation": "ref('src')", "config": {**extra, **config}})
    root = make_project(
        tmp_path_factory.mktemp("snapshots") / "demo",
        {"models/src.sql": SNAPSHOT_SOURCE, "snapshots/snapshots.yml": json.dumps({"snapshots": entries})},
    )
    (root / "macros").mkdir(exist_ok=True)
    shutil.copy(COPIED / "copied_snapshot.sql", root / "macros" / "copied_snapshot.sql")
    for round_number in (1, 2, 2):  # the last run changes nothing
        build(root, "--vars", f"{{round: {round_number}}}")
    return root


@pytest.mark.parametrize("name", list(SNAPSHOTS))
def test_dbts_snapshot_materialization_copied_snapshots_as_modelkit(snapshot_project: Path, name: str) -> None:
    db = embedded_db(snapshot_project)
    copied, builtin = f"copied_{name}", f"builtin_{name}"
    assert described(db, copied) == described(db, builtin)
    columns = [c for c, _ in described(db, builtin) if c not in META]
    # times the check strategy stamps are the run's own; which rows are current, and their values, must agree
    select = ", ".join([*columns, "dbt_valid_to is null as is_current"])
    rows = query(db, f"select {select} from {builtin} order by all")
    assert query(db, f"select {select} from {copied} order by all") == rows
    assert len(rows) > 3  # round 2 closed and added versions
    if name == "timestamp_invalidate":
        assert (2, "b", 20, False) in [(r[0], r[1], r[2], r[-1]) for r in rows]  # deleted from the source
    if name == "check_new_record":
        assert "dbt_is_deleted" in columns


# A project's incremental strategy written with dbt's strategy macros, used by modelkit's built-in
# incremental materialization and by dbt-duckdb's (copied).
STRATEGIES = {
    "my_delete_insert": """
        {% macro get_incremental_my_delete_insert_sql(arg_dict) %}
          {{ return(get_delete_insert_merge_sql(arg_dict['target_relation'], arg_dict['temp_relation'],
                    arg_dict['unique_key'], arg_dict['dest_columns'], arg_dict['incremental_predicates'])) }}
        {% endmacro %}""",
    "my_merge": """
        {% macro get_incremental_my_merge_sql(arg_dict) %}
          {{ return(dbt.get_merge_sql(arg_dict['target_relation'], arg_dict['temp_relation'],
                    arg_dict['unique_key'], arg_dict['dest_columns'])) }}
        {% endmacro %}""",
    "my_append": """
        {% macro get_incremental_my_append_sql(arg_dict) %}
          {{ return(get_insert_into_sql(arg_dict['target_relation'], arg_dict['temp_relation'], arg_dict['dest_columns'])) }}
        {% endmacro %}""",
    "my_dispatched": """
        {% macro get_incremental_my_dispatched_sql(arg_dict) %}
          {{ return(adapter.dispatch('get_incremental_merge_sql', 'dbt')(arg_dict)) }}
        {% endmacro %}""",
}
EXPECTED_IDS = {
    "my_delete_insert": [1, 2, 3, 4],
    "my_merge": [1, 2, 3, 4],
    "my_append": [1, 2, 2, 3, 3, 4],
    "my_dispatched": [1, 2, 3, 4],
}


@pytest.mark.parametrize("materialized", ["incremental", "copied_incremental"])
@pytest.mark.parametrize("strategy", list(STRATEGIES))
def test_custom_strategy_calls_dbts_strategy_macros(tmp_path: Path, strategy: str, materialized: str) -> None:
    config = f"materialized='{materialized}', unique_key='id', incremental_strategy='{strategy}'"
    root = make_project(
        tmp_path / "demo",
        {f"macros/{strategy}.sql": STRATEGIES[strategy], "models/m.sql": f"{{{{ config({config}) }}}}\n{ROWS}"},
    )
    shutil.copy(COPIED / "copied_incremental.sql", root / "macros" / "copied_incremental.sql")
    build(root, "--vars", "{round: 1}")
    build(root, "--vars", "{round: 2}")
    rows = query(embedded_db(root), "select id, name from m order by all")
    assert [r[0] for r in rows] == EXPECTED_IDS[strategy]
    assert ("c2" in {r[1] for r in rows}) and (("c" in {r[1] for r in rows}) == (strategy == "my_append"))


def _cases(text: str) -> dict[str, str]:
    parts = re.split(r"^-- case: (\S+)\s*$", text, flags=re.M)
    return {parts[i]: parts[i + 1] for i in range(1, len(parts) - 1, 2)}


def _normal(sql: str) -> str:
    """SQL compared as tokens: SQL comments dropped, whitespace runs made one space, none around ( ) , ;"""
    sql = re.sub(r"--[^\n]*", "", sql)
    sql = re.sub(r"\s+", " ", sql).strip()
    return re.sub(r"\s*([(),;])\s*", r"\1", sql)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    files = {f"models/{p.name}": p.read_text(encoding="utf-8") for p in RENDERED.glob("rendered_macros.*")}
    root = make_project(tmp_path_factory.mktemp("rendered") / "demo", files)
    result = run_cli("compile", "-s", "rendered_macros", cwd=root)
    assert result.exit_code == 0, result.output
    return _cases((root / "target/compiled/demo/models/rendered_macros.sql").read_text(encoding="utf-8"))


DBT_RENDERED = _cases((RENDERED / "rendered_by_dbt.sql").read_text(encoding="utf-8"))


@pytest.mark.parametrize("case", [c for c in DBT_RENDERED if c != "end"])
def test_macro_renders_what_dbt_renders(rendered: dict[str, str], case: str) -> None:
    assert _normal(rendered[case]) == _normal(DBT_RENDERED[case])
    assert _normal(rendered[case])  # every case renders something


# A project's own implementation wins over the built-in one, as in dbt's dispatch: the adapter's
# prefix first, then default__, the project's before dbt's; a project's macro of the same name wins outright.
OVERRIDES = {
    "duckdb__get_merge_sql": ("get_merge_sql(tgt, tgt, 'id', [])", "project duckdb merge"),
    "default__get_delete_insert_merge_sql": (
        "get_delete_insert_merge_sql(tgt, tgt, 'id', [], none)",
        "project default",
    ),
    "get_quoted_csv": (
        "get_incremental_append_sql({'target_relation': tgt, 'temp_relation': tgt, 'dest_columns': []})",
        "project csv",
    ),
    "default__get_true_sql": ("get_true_sql()", "project true"),
}


@pytest.mark.parametrize("name", list(OVERRIDES))
def test_project_implementation_wins(tmp_path: Path, name: str) -> None:
    call, marker = OVERRIDES[name]
    macro = f"{{% macro {name}() %}}{{{{ return('{marker}') }}}}{{% endmacro %}}"
    macro = macro.replace(f"{name}()", f"{name}(a=none, b=none, c=none, d=none, e=none)")
    model = f"{{% set tgt = api.Relation.create(schema='s', identifier='t') %}}select '{{{{ {call} }}}}' as v"
    root = make_project(tmp_path / "demo", {"macros/over.sql": macro, "models/m.sql": model})
    result = run_cli("compile", "-s", "m", cwd=root)
    assert result.exit_code == 0, result.output
    assert marker in (root / "target/compiled/demo/models/m.sql").read_text(encoding="utf-8")


def test_run_operation_calls_relation_macros(tmp_path: Path) -> None:
    macro = """
        {% macro rebuild(name, drop=false) %}
          {% set relation = api.Relation.create(database=target.database, schema=target.schema, identifier=name, type='table') %}
          {% if drop %}
            {% do run_query(get_drop_sql(relation.incorporate(type='view'))) %}
          {% else %}
            {% do run_query(get_create_sql(relation, 'select 42 as answer')) %}
            {% do run_query(get_replace_sql(relation, relation.incorporate(type='view'), 'select 43 as answer')) %}
          {% endif %}
        {% endmacro %}
    """
    root = make_project(tmp_path / "demo", {"macros/rebuild.sql": macro})
    result = run_cli("run-operation", "rebuild", "--args", "{name: answer}", cwd=root)
    assert result.exit_code == 0, result.output
    db = embedded_db(root)
    assert query(db, "select table_type from information_schema.tables where table_name = 'answer'") == [("VIEW",)]
    assert query(db, "select answer from answer") == [(43,)]
    result = run_cli("run-operation", "rebuild", "--args", "{name: answer, drop: true}", cwd=root)
    assert result.exit_code == 0, result.output
    assert query(db, "select count(*) from information_schema.tables where table_name = 'answer'") == [(0,)]


def test_dbt_macros_are_listed_in_the_manifest(tmp_path: Path) -> None:
    root = make_project(tmp_path / "demo", {"models/m.sql": "select 1 as id"})
    assert run_cli("parse", cwd=root).exit_code == 0
    macros = json.loads((root / "target/manifest.json").read_text(encoding="utf-8"))["macros"]
    for name in (
        "get_merge_sql",
        "default__get_merge_sql",
        "duckdb__get_merge_sql",
        "get_incremental_append_sql",
        "process_schema_changes",
        "get_create_sql",
        "get_grant_sql",
        "get_test_sql",
        "dates_in_range",
    ):
        macro = macros[f"macro.dbt.{name}"]
        assert macro["package_name"] == "dbt" and macro["name"] == name
        assert f"macro {name}(" in macro["macro_sql"]
