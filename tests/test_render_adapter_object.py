"""The ``adapter`` and ``api`` objects in templates, each method used by a model built with the CLI.

One project holds a model per method; the database starts with a few fixture relations, the
project is run once, and each test reads the table its model wrote.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from conftest import query
from suite_support import db, dbt_project, exists, run, statuses

FIXTURES = """
create schema fixtures;
create table fixtures.people (id integer, name varchar, score decimal(10,2), ratio double);
insert into fixtures.people values (1, 'a', 1.50, 0.5), (2, 'b', 2.25, 0.25);
create view fixtures.people_view as select id from fixtures.people;
create table fixtures.to_drop as select 1 as x;
create table fixtures.old_name as select 1 as x;
create table fixtures.to_truncate as select range as x from range(5);
create table fixtures.wide (a integer, b varchar, c double);
create table fixtures.narrow (a integer);
create schema listing;
create table listing.a as select 1 as x;
create table listing.b as select 1 as x;
create view listing.v as select 1 as x;
create schema doomed;
create table doomed.inside as select 1 as x;
"""

TABLE = "{{ config(materialized='table') }}\n"
FIXTURE = "api.Relation.create(database=target.database, schema='fixtures', identifier='{}')"
MODELS = {
    "m_type": "select '{{ adapter.type() }}' as t",
    "m_quote": """
        select '{{ adapter.quote("a b") }}' as q,
               '{{ adapter.quote_as_configured("x", "identifier") }}' as configured,
               '{{ adapter.quote_as_configured("x", "not_a_part") }}' as other_key,
               '{{ adapter.quote_seed_column("c", none) }}' as seed_default,
               '{{ adapter.quote_seed_column("c", false) }}' as seed_unquoted
    """,
    "m_get_relation": """
        {% set found = adapter.get_relation(target.database, 'fixtures', 'people') %}
        {% set view = adapter.get_relation(database=target.database, schema='fixtures', identifier='people_view') %}
        {% set missing = adapter.get_relation(target.database, 'fixtures', 'nope') %}
        select '{{ found }}' as rendered, '{{ found.type }}' as kind, '{{ view.type }}' as view_kind,
               {{ found.is_table }} as is_table, {{ view.is_view }} as is_view,
               {{ missing is none }} as missing_is_none,
               {{ adapter.already_exists('fixtures', 'people') }} as already_exists,
               '{{ adapter.load_relation(FIXTURE_people).type }}' as loaded_type
    """.replace("FIXTURE_people", FIXTURE.format("people")),
    "m_columns": """
        {% set cols = adapter.get_columns_in_relation(FIXTURE_people) %}
        select '{{ cols | map(attribute="name") | join(",") }}' as names,
               '{{ cols | map(attribute="dtype") | join(",") }}' as dtypes,
               '{{ cols | map(attribute="data_type") | join(",") }}' as data_types,
               '{{ cols[1].quoted }}' as quoted,
               {{ cols[1].is_string() }} as name_is_string, {{ cols[1].string_size() }} as name_size,
               {{ cols[0].is_integer() }} as id_is_integer, {{ cols[2].is_numeric() }} as score_is_numeric,
               '{{ cols[2].numeric_precision }}' as score_precision, {{ cols[3].is_float() }} as ratio_is_float,
               {{ cols[3].is_number() }} as ratio_is_number
    """.replace("FIXTURE_people", FIXTURE.format("people")),
    "m_list_relations": """
        {% set found = adapter.list_relations_without_caching(api.Relation.create(database=target.database, schema='listing')) %}
        select '{{ found | map(attribute="identifier") | sort | join(",") }}' as names,
               '{{ (found | selectattr("identifier", "equalto", "v") | first).type }}' as view_type
    """,
    "m_schemas": """
        select {{ 'fixtures' in adapter.list_schemas(target.database) }} as listed,
               {{ adapter.check_schema_exists(target.database, 'FIXTURES') }} as exists_any_case,
               {{ adapter.check_schema_exists(target.database, 'nowhere') }} as missing
    """,
    "m_create_drop_schema": """
        {% set made = api.Relation.create(database=target.database, schema='made_here') %}
        {% do adapter.create_schema(made) %}
        {% set created = adapter.check_schema_exists(target.database, 'made_here') %}
        {% do adapter.drop_schema(api.Relation.create(database=target.database, schema='doomed', identifier='x')) %}
        select {{ created }} as created, {{ adapter.check_schema_exists(target.database, 'doomed') }} as doomed_left
    """,
    "m_drop_relation": """
        {% set rel = adapter.get_relation(target.database, 'fixtures', 'to_drop') %}
        {% do adapter.drop_relation(rel) %}
        select {{ adapter.get_relation(target.database, 'fixtures', 'to_drop') is none }} as gone
    """,
    "m_rename_relation": """
        {% set old = adapter.get_relation(target.database, 'fixtures', 'old_name') %}
        {% do adapter.rename_relation(old, old.incorporate(path={'identifier': 'new_name'})) %}
        select {{ adapter.get_relation(target.database, 'fixtures', 'old_name') is none }} as old_gone,
               '{{ adapter.get_relation(target.database, 'fixtures', 'new_name').identifier }}' as renamed
    """,
    "m_truncate": """
        {% do adapter.truncate_relation(FIXTURE_to_truncate) %}
        select {{ run_query('select count(*) from fixtures.to_truncate').columns[0].values()[0] }} as remaining
    """.replace("FIXTURE_to_truncate", FIXTURE.format("to_truncate")),
    "m_missing_columns": """
        {% set missing = adapter.get_missing_columns(FIXTURE_wide, FIXTURE_narrow) %}
        {% do adapter.expand_target_column_types(FIXTURE_wide, FIXTURE_narrow) %}
        select '{{ missing | map(attribute="name") | join(",") }}' as missing,
               '{{ missing | map(attribute="data_type") | join(",") }}' as types
    """.replace("FIXTURE_wide", FIXTURE.format("wide")).replace("FIXTURE_narrow", FIXTURE.format("narrow")),
    "m_execute": """
        {% set response, table = adapter.execute('select 42 as answer', fetch=True) %}
        {% set quiet_response, empty = adapter.execute('select 1', fetch=False) %}
        {% do adapter.commit() %}
        select {{ table.columns[0].values()[0] }} as answer, '{{ table.column_names[0] }}' as column_name,
               {{ table.rows[0]['answer'] }} as by_name, {{ empty | length }} as unfetched_rows,
               {{ response.rows_affected }} as rows_affected
    """,
    "m_schema_from_query": """
        {% set cols = adapter.get_column_schema_from_query("select 1::integer as a, 'x' as b, 2.5::decimal(5,1) as c") %}
        select '{{ cols | map(attribute="name") | join(",") }}' as names,
               '{{ cols | map(attribute="data_type") | join(",") }}' as types
    """,
    "m_api_relation": """
        {% set rel = api.Relation.create(database='d', schema='s', identifier='i', type='table') %}
        select '{{ rel }}' as rendered,
               '{{ rel.include(database=false) }}' as no_database,
               '{{ rel.quote(identifier=false) }}' as unquoted_identifier,
               '{{ rel.without_identifier() }}' as schema_only,
               '{{ rel.incorporate(path={"identifier": "j"}, type="view") }}' as incorporated,
               {{ rel.incorporate(type="view").is_view }} as became_view,
               '{{ rel.database }}.{{ rel.schema }}.{{ rel.identifier }}.{{ rel.name }}.{{ rel.type }}' as parts,
               {{ rel.is_table }} as is_table,
               '{{ api.Relation.create(identifier="only") }}' as identifier_only,
               '{{ adapter.Relation.create(schema="s", identifier="t", quote_policy={"schema": false}) }}' as policy
    """,
    "m_api_column": """
        {% set text = api.Column.create('c', 'string') %}
        {% set sized = api.Column('v', 'varchar', char_size=20) %}
        {% set num = api.Column('n', 'numeric', numeric_precision=10, numeric_scale=2) %}
        select '{{ text.dtype }}' as text_dtype, '{{ text.data_type }}' as text_type,
               '{{ api.Column.translate_type("string") }}' as translated,
               '{{ api.Column.translate_type("integer") }}' as untouched,
               '{{ sized.data_type }}' as sized_type, {{ sized.string_size() }} as sized_size,
               '{{ num.data_type }}' as num_type, {{ num.is_numeric() }} as num_numeric,
               {{ api.Column('i', 'integer').is_integer() }} as int_integer,
               {{ api.Column('f', 'double').is_float() }} as double_float,
               {{ api.Column('s', 'text').is_number() }} as text_number,
               '{{ api.Column('x y', 'integer').quoted }}' as quoted,
               '{{ api.Column('col', 'integer').name }}' as name
    """,
    "m_dispatch": """
        select {{ my_pkg.greet() }} as searched, {{ adapter.dispatch('shout', 'my_pkg')() }} as adapter_first,
               {{ adapter.dispatch('whisper')() }} as root_default
    """,
}

PACKAGES = {
    "dbt_packages/my_pkg/dbt_project.yml": "name: my_pkg\nversion: '1.0.0'\nconfig-version: 2\n",
    "dbt_packages/my_pkg/macros/greet.sql": """
        {% macro greet() %}{{ return(adapter.dispatch('greet', 'my_pkg')()) }}{% endmacro %}
        {% macro default__greet() %}'from my_pkg'{% endmacro %}
        {% macro default__shout() %}'default'{% endmacro %}
        {% macro duckdb__shout() %}'duckdb'{% endmacro %}
    """,
    "dbt_packages/override_pkg/dbt_project.yml": "name: override_pkg\nversion: '1.0.0'\nconfig-version: 2\n",
    "dbt_packages/override_pkg/macros/greet.sql": "{% macro default__greet() %}'from override_pkg'{% endmacro %}",
    "macros/whisper.sql": "{% macro default__whisper() %}'root'{% endmacro %}",
}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("adapter") / "test"
    files = {f"models/{name}.sql": TABLE + sql for name, sql in MODELS.items()}
    config = {"dispatch": [{"macro_namespace": "my_pkg", "search_order": ["override_pkg", "my_pkg"]}]}
    dbt_project(root, {**files, **PACKAGES}, config)
    con = duckdb.connect(str(db(root)))
    con.execute(FIXTURES)
    con.close()
    run(root, "run")
    return root


def _row(root: Path, model: str) -> dict[str, object]:
    con = duckdb.connect(str(db(root)), read_only=True)
    try:
        cursor = con.execute(f"select * from main.{model}")
        names = [d[0] for d in cursor.description]
        return dict(zip(names, cursor.fetchone()))
    finally:
        con.close()


EXPECTED = {
    "m_type": {"t": "duckdb"},
    "m_quote": {
        "q": '"a b"',
        "configured": '"x"',
        "other_key": "x",
        "seed_default": '"c"',
        "seed_unquoted": "c",
    },
    "m_get_relation": {
        "rendered": '"test"."fixtures"."people"',
        "kind": "table",
        "view_kind": "view",
        "is_table": True,
        "is_view": True,
        "missing_is_none": True,
        "already_exists": True,
        "loaded_type": "table",
    },
    "m_columns": {
        "names": "id,name,score,ratio",
        # dbt-duckdb describes a column with DESCRIBE: dtype is the whole type, no precision or scale apart
        # (so a DECIMAL(10,2) column is not is_numeric(), whose names are bare `numeric` and `decimal`)
        "dtypes": "INTEGER,VARCHAR,DECIMAL(10,2),DOUBLE",
        "data_types": "INTEGER,character varying(256),DECIMAL(10,2),DOUBLE",
        "quoted": '"name"',
        "name_is_string": True,
        "name_size": 256,
        "id_is_integer": True,
        "score_is_numeric": False,
        "score_precision": "None",
        "ratio_is_float": True,
        "ratio_is_number": True,
    },
    "m_list_relations": {"names": "a,b,v", "view_type": "view"},
    "m_schemas": {"listed": True, "exists_any_case": True, "missing": False},
    "m_create_drop_schema": {"created": True, "doomed_left": False},
    "m_drop_relation": {"gone": True},
    "m_rename_relation": {"old_gone": True, "renamed": "new_name"},
    "m_truncate": {"remaining": 0},
    "m_missing_columns": {"missing": "b,c", "types": "character varying(256),DOUBLE"},
    "m_execute": {"answer": 42, "column_name": "answer", "by_name": 42, "unfetched_rows": 0, "rows_affected": 1},
    "m_schema_from_query": {"names": "a,b,c", "types": "INTEGER,character varying(256),DECIMAL(5,1)"},
    "m_api_relation": {
        "rendered": '"d"."s"."i"',
        "no_database": '"s"."i"',
        "unquoted_identifier": '"d"."s".i',
        "schema_only": '"d"."s"',
        "incorporated": '"d"."s"."j"',
        "became_view": True,
        "parts": "d.s.i.i.table",
        "is_table": True,
        "identifier_only": '"only"',
        "policy": 's."t"',
    },
    "m_api_column": {
        "text_dtype": "TEXT",
        "text_type": "character varying(256)",  # dbt's Column.data_type of a TEXT column
        "translated": "TEXT",
        "untouched": "integer",
        "sized_type": "character varying(20)",
        "sized_size": 20,
        "num_type": "numeric(10,2)",
        "num_numeric": True,
        "int_integer": True,
        "double_float": True,
        "text_number": False,
        "quoted": '"x y"',
        "name": "col",
    },
    "m_dispatch": {"searched": "from override_pkg", "adapter_first": "duckdb", "root_default": "root"},
}


@pytest.mark.parametrize("model", sorted(EXPECTED))
def test_adapter_method(built: Path, model: str) -> None:
    assert _row(built, model) == EXPECTED[model]


def test_changes_reach_the_database(built: Path) -> None:
    tables = set(query(db(built), "select table_schema || '.' || table_name from information_schema.tables"))
    assert ("fixtures.to_drop",) not in tables and ("fixtures.old_name",) not in tables
    assert ("fixtures.new_name",) in tables and not exists(built, "doomed.inside")
    assert query(db(built), "select count(*) from information_schema.schemata where schema_name = 'made_here'") == [
        (1,)
    ]
    assert set(statuses(built).values()) == {"success"}


def test_parse_time_answers(tmp_path: Path) -> None:
    """While parsing, introspection answers as dbt's parse-time adapter: None, [], False, an empty table."""
    model = """
        {% if not execute %}
        {% set rel = api.Relation.create(schema='main', identifier='x') %}
        {% set response, table = adapter.execute('select 1', fetch=True) %}
        {% do log('parse: ' ~ [adapter.get_relation(target.database, 'main', 'x'), adapter.get_columns_in_relation(rel),
            adapter.list_schemas(target.database), adapter.check_schema_exists(target.database, 'main'),
            adapter.list_relations_without_caching(rel), adapter.get_column_schema_from_query('select 1'),
            table | length, run_query('select 1'), adapter.drop_relation(rel)], info=True) %}
        {% endif %}
        select 1 as id
    """
    root = dbt_project(tmp_path / "test", {"models/probe.sql": model})
    output = run(root, "parse")
    assert "parse: [None, [], [], False, [], [], 0, None, None]" in output


def test_dispatch_errors(tmp_path: Path) -> None:
    root = dbt_project(tmp_path / "test", {"models/probe.sql": "select {{ adapter.dispatch('nothing', 'dbt')() }}"})
    output = run(root, "compile", expect=2)  # raised while parsing, as dbt does
    assert "In dispatch: No macro named 'nothing' found within namespace: 'dbt'" in output
    assert (
        "Searched for: 'test.duckdb__nothing', 'test.default__nothing', 'dbt.duckdb__nothing', 'dbt.default__nothing'"
        in output
    )
    (root / "models/probe.sql").write_text("select {{ adapter.dispatch('dbt.nothing')() }}")
    output = run(root, "compile", expect=2)
    assert '"." is not a valid macro name component' in output


def test_method_arguments_are_checked(tmp_path: Path) -> None:
    root = dbt_project(tmp_path / "test", {"models/probe.sql": "{% do adapter.drop_relation('main.x') %}select 1"})
    output = run(root, "run", expect=1)
    assert "adapter.drop_relation: expected a Relation for 'relation', got str" in output
