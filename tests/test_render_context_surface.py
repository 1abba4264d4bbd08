"""dbt's Jinja context in models built with the CLI: variables, functions, package namespaces, the sandbox.

One project holds a model per group of names; it is run once and each test reads the table its
model wrote. Errors and console output get projects of their own.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import duckdb
import pytest
from suite_support import db, dbt_project, run, statuses

TABLE = "{{ config(materialized='table') }}\n"
MODELS = {
    "c_graph": """
        {% set models = graph.nodes.values() | selectattr('resource_type', 'equalto', 'model') | list %}
        select {{ models | length }} as models, {{ graph.sources | length }} as sources,
               '{{ graph.keys() | sort | join(",") }}' as keys,
               '{{ graph.nodes["model.test.c_graph"].config.materialized }}' as own_materialized,
               '{{ (graph.sources.values() | first).name }}' as source_name,
               {{ graph.macros | length > 50 }} as has_macros
    """,
    "c_selected": """
        select {{ selected_resources | length }} as selected,
               {{ 'model.test.c_selected' in selected_resources }} as has_itself
    """,
    "c_model": """
        select '{{ model.unique_id }}' as unique_id, '{{ model.name }}' as name,
               '{{ model.config.materialized }}' as materialized, '{{ model.original_file_path }}' as path,
               '{{ model.resource_type }}' as resource_type, '{{ model.package_name }}' as package_name
    """,
    "c_invocation": """
        select '{{ invocation_id }}' as invocation_id, '{{ run_started_at.strftime("%Y-%m-%d") }}' as day,
               '{{ run_started_at.isoformat() }}' as iso, '{{ run_started_at.tzinfo }}' as tz,
               '{{ thread_id != "" }}' as has_thread_id
    """,
    "c_flags": """
        select {{ flags.FULL_REFRESH }} as full_refresh, '{{ flags.WHICH }}' as which,
               {{ flags.STORE_FAILURES }} as store_failures, {{ flags.WARN_ERROR }} as warn_error,
               {{ flags.SEND_ANONYMOUS_USAGE_STATS }} as from_project
    """,
    "c_modules": """
        select '{{ modules.datetime.date(2024, 1, 2).isoformat() }}' as day,
               {{ modules.datetime.timedelta(days=2).days }} as delta_days,
               '{{ modules.datetime.datetime(2024, 5, 6, 7, 8).strftime("%H:%M") }}' as clock,
               '{{ modules.re.sub("[0-9]+", "#", "a1b22") }}' as re_sub,
               {{ modules.re.match("^a", "abc") is not none }} as re_match,
               '{{ modules.itertools.chain([1], [2]) | list | join(",") }}' as chained,
               '{{ modules.itertools.product("ab", repeat=1) | map("first") | join(",") }}' as product
    """,
    "c_names": """
        select '{{ dbt_version }}' as dbt_version, '{{ project_name }}' as project_name,
               '{{ target.name }}' as target_name, '{{ target.type }}' as target_type,
               '{{ target.schema }}' as target_schema, '{{ target.database }}' as target_database,
               {{ target.threads }} as threads, '{{ target.profile_name }}' as profile_name,
               '{{ database }}.{{ schema }}' as database_schema
    """,
    "c_serialization": """
        {% set data = fromyaml("a: 1\\nb: [x, y]") %}
        select {{ data.a }} as a, '{{ data.b | join(",") }}' as b,
               '{{ tojson({"k": [1, 2]}) }}' as to_json, {{ fromjson('{"n": 5}').n }} as from_json,
               '{{ fromjson("not json", "fallback") }}' as bad_json,
               '{{ fromyaml("a: [", "fallback") }}' as bad_yaml,
               '{{ toyaml({"z": 1, "a": 2}) | replace("\\n", ";") }}' as to_yaml,
               '{{ tojson({"b": 1, "a": 2}, sort_keys=true) }}' as sorted_json
    """,
    "c_functions": """
        select '{{ local_md5("hello") }}' as md5,
               '{{ zip([1, 2], ["a", "b"]) | map("join", ":") | join(",") }}' as zipped,
               '{{ zip(1, default="fallback") }}' as zip_default,
               {{ set([1, 1, 2]) | length }} as set_length,
               '{{ set(1, default="fallback") }}' as set_default,
               {{ set_strict([3, 3]) | length }} as set_strict_length,
               '{{ zip_strict([1], [2]) | map("join", ":") | join(",") }}' as zip_strict,
               '{{ try_or_compiler_error("never raised", modules.datetime.date, 2024, 1, 1) }}' as tried,
               '{{ diff_of_two_dicts({"a": ["x", "Y"], "b": ["z"]}, {"A": ["y"]}) | tojson }}' as diff,
               '{{ render("{{ 1 + 1 }}") }}' as rendered
    """,
    "c_statements": """
        {% if execute %}
        {% call statement('first', fetch_result=True) %}select 7 as v{% endcall %}
        {% set first = load_result('first') %}
        {% call statement('main', fetch_result=True) %}select 8 as v{% endcall %}
        {% set main_once = load_result('main') %}{% set main_twice = load_result('main') %}
        {% do store_result('stored', response='OK', agate_table=run_query('select 9 as v')) %}
        {% do store_raw_result('raw', message='SELECT 1', code='SELECT', rows_affected=1) %}
        {% call statement('unfetched') %}select 1{% endcall %}
        {% set raw = load_result('raw') %}
        select {{ first['data'][0][0] }} as first_data, {{ first.table.columns[0].values()[0] }} as first_table,
               '{{ first.response }}' as first_response,
               {{ main_once.data[0][0] + main_twice.data[0][0] }} as main_twice,
               {{ load_result('stored').data[0][0] }} as stored,
               '{{ raw.response }}' as raw_message, {{ raw.response.rows_affected }} as raw_rows,
               {{ load_result('unfetched').table | length }} as unfetched_rows,
               {{ load_result('never') is none }} as never_stored,
               {{ run_query('select 1 as a, 2 as b').rows[0]['b'] }} as run_query_value
        {% else %}{# while parsing, statements do not run and results are None, as in dbt #}
        select 1
        {% endif %}
    """,
    "c_env_var": """
        select '{{ env_var("MK_SURFACE_SET") }}' as set_value, '{{ env_var("MK_SURFACE_UNSET", "dflt") }}' as defaulted,
               {{ env_var("MK_SURFACE_UNSET", 3) + 1 }} as numeric_default
    """,
    "c_var": """
        select '{{ var("color") }}' as color, '{{ var("missing", "dflt") }}' as defaulted, {{ var("n") + 1 }} as n_plus
    """,
    "c_namespaces": """
        select {{ helpers._answer() }} as private_macro, {{ helpers['_answer']() }} as by_key,
               {{ helpers.public() }} as public_calls_private,
               '{{ helpers._is_relation(ref("c_model"), "c_namespaces") }}' as relation_check,
               {{ dbt.length("'abc'") }} as dbt_namespace
    """,
    "c_returns": """
        select {{ helpers.outer() }} as outer_value
    """,
    "c_config": """
        {{ config(meta={'owner': 'ana'}, custom='x') }}
        select '{{ config.get("custom", "d", validator=validation.any("x", "y")) }}' as validated,
               '{{ config.get("absent", "d") }}' as defaulted, '{{ config.require("materialized") }}' as required,
               '{{ config.meta_get("owner") }}' as owner, '{{ config.meta_get("team", "none") }}' as team
    """,
    "c_exceptions": """
        {% do exceptions.warn("careful now") %}
        select 1 as warned
    """,
}
PACKAGE = {
    "dbt_packages/helpers/dbt_project.yml": "name: helpers\nversion: '1.0.0'\nconfig-version: 2\n",
    "dbt_packages/helpers/macros/helpers.sql": """
        {% macro _answer() %}{{ return(41) }}{% endmacro %}
        {% macro public() %}{{ return(helpers._answer() + 1) }}{% endmacro %}
        {% macro _is_relation(obj, macro) %}
            {%- if not (obj is mapping and obj.get('metadata', {}).get('type', '').endswith('Relation')) -%}
                {%- do exceptions.raise_compiler_error("Macro " ~ macro ~ " expected a Relation but received the value: " ~ obj) -%}
            {%- endif -%}
        {% endmacro %}
        {% macro inner() %}{{ return(5) }}{% endmacro %}
        {% macro outer() %}{% set value = inner() %}{{ return(value * 10) }}{% endmacro %}
    """,
    "models/sources.yml": "version: 2\nsources:\n  - name: raw\n    tables:\n      - name: events\n",
}
PROJECT = {"vars": {"color": "blue", "n": 1}, "flags": {"send_anonymous_usage_stats": True}}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    root = tmp_path_factory.mktemp("context") / "test"
    files = {f"models/{name}.sql": TABLE + sql for name, sql in MODELS.items()}
    dbt_project(root, {**files, **PACKAGE}, PROJECT)
    started = datetime.now(timezone.utc)
    output = run(root, "run", "--vars", "{n: 41}", env={"MK_SURFACE_SET": "from the environment"})
    results = json.loads((root / "target" / "run_results.json").read_text())
    return {"root": root, "output": output, "started": started, "invocation_id": results["metadata"]["invocation_id"]}


def _row(root: Path, model: str) -> dict[str, object]:
    con = duckdb.connect(str(db(root)), read_only=True)
    try:
        cursor = con.execute(f"select * from main.{model}")
        return dict(zip([d[0] for d in cursor.description], cursor.fetchone()))
    finally:
        con.close()


EXPECTED = {
    "c_graph": {
        "models": len(MODELS),
        "sources": 1,
        "keys": "exposures,functions,groups,macros,metrics,nodes,saved_queries,semantic_models,sources",
        "own_materialized": "table",
        "source_name": "events",
        "has_macros": True,
    },
    "c_selected": {"selected": len(MODELS), "has_itself": True},
    "c_model": {
        "unique_id": "model.test.c_model",
        "name": "c_model",
        "materialized": "table",
        "path": "models/c_model.sql",
        "resource_type": "model",
        "package_name": "test",
    },
    "c_flags": {
        "full_refresh": False,
        "which": "run",
        "store_failures": False,
        "warn_error": False,
        "from_project": True,
    },
    "c_modules": {
        "day": "2024-01-02",
        "delta_days": 2,
        "clock": "07:08",
        "re_sub": "a#b#",
        "re_match": True,
        "chained": "1,2",
        "product": "a,b",
    },
    "c_names": {
        "dbt_version": "1.11.0",
        "project_name": "test",
        "target_name": "dev",
        "target_type": "duckdb",
        "target_schema": "main",
        "target_database": "test",
        "threads": 4,
        "profile_name": "test",
        "database_schema": "test.main",
    },
    "c_serialization": {
        "a": 1,
        "b": "x,y",
        "to_json": '{"k": [1, 2]}',
        "from_json": 5,
        "bad_json": "fallback",
        "bad_yaml": "fallback",
        "to_yaml": "z: 1;a: 2;",
        "sorted_json": '{"a": 2, "b": 1}',
    },
    "c_functions": {
        "md5": hashlib.md5(b"hello").hexdigest(),
        "zipped": "1:a,2:b",
        "zip_default": "fallback",
        "set_length": 2,
        "set_default": "fallback",
        "set_strict_length": 1,
        "zip_strict": "1:2",
        "tried": "2024-01-01",
        "diff": '{"a": ["x"], "b": ["z"]}',
        "rendered": "2",
    },
    "c_statements": {
        "first_data": 7,
        "first_table": 7,
        "first_response": "OK",
        "main_twice": 16,
        "stored": 9,
        "raw_message": "SELECT 1",
        "raw_rows": 1,
        "unfetched_rows": 0,
        "never_stored": True,
        "run_query_value": 2,
    },
    "c_env_var": {"set_value": "from the environment", "defaulted": "dflt", "numeric_default": 4},
    "c_var": {"color": "blue", "defaulted": "dflt", "n_plus": 42},
    "c_namespaces": {
        "private_macro": 41,
        "by_key": 41,
        "public_calls_private": 42,
        "relation_check": "",
        "dbt_namespace": 3,
    },
    "c_returns": {"outer_value": 50},
    "c_exceptions": {"warned": 1},
    "c_config": {"validated": "x", "defaulted": "d", "required": "table", "owner": "ana", "team": "none"},
}


@pytest.mark.parametrize("model", sorted(EXPECTED))
def test_context_value(built: dict[str, object], model: str) -> None:
    assert _row(built["root"], model) == EXPECTED[model]  # type: ignore[arg-type]


def test_invocation_values(built: dict[str, object]) -> None:
    row = _row(built["root"], "c_invocation")  # type: ignore[arg-type]
    assert row["invocation_id"] == built["invocation_id"]
    started = datetime.fromisoformat(str(row["iso"]))
    assert started.tzinfo is not None and row["tz"] == "UTC"
    assert abs(started - built["started"]) < timedelta(minutes=5)  # type: ignore[operator]
    assert row["day"] == started.strftime("%Y-%m-%d") and row["has_thread_id"] == "True"


def test_warn_and_logs(built: dict[str, object]) -> None:
    output = str(built["output"])
    assert "[WARNING]: careful now" not in output  # dbt prints the message as written
    # as dbt: once when the model is parsed, once when it is compiled to run (not again for static analysis)
    assert [line.split("  ", 1)[-1] for line in output.splitlines() if "careful now" in line] == ["careful now"] * 2
    assert set(statuses(built["root"]).values()) == {"success"}  # type: ignore[arg-type]


def test_exceptions_warn_is_a_warning_event_and_an_error_under_warn_error(tmp_path: Path) -> None:
    root = dbt_project(tmp_path / "p", {"models/m.sql": "{% do exceptions.warn('mind the ' ~ 'gap') %}select 1 as id"})
    events = [
        json.loads(line) for line in run(root, "run", "--log-format", "json").splitlines() if line.startswith("{")
    ]
    warned = [e["info"] for e in events if e["info"]["msg"] == "mind the gap"]
    assert warned and {(i["name"], i["code"], i["level"]) for i in warned} == {("JinjaLogWarning", "I061", "warn")}
    output = run(root, "--warn-error", "run", expect=1)
    assert "Compilation Error in model m (models/m.sql:1)" in output and "mind the gap" in output
    assert statuses(root) == {"model.test.m": "error"}
    output = run(root, "run", "--warn-error-options", '{"error": "all", "warn": ["JinjaLogWarning"]}')
    assert statuses(root) == {"model.test.m": "success"} and "mind the gap" in output


def test_graph_is_empty_while_parsing_and_logs_reach_the_console(tmp_path: Path) -> None:
    model = """
        {% if not execute %}{% do log('parse graph: ' ~ graph.nodes | length ~ '/' ~ graph.sources | length, info=True) %}{% endif %}
        {% do log('hidden debug line') %}
        {% do print('printed: ' ~ (execute | string)) %}
        select 1 as id
    """
    root = dbt_project(tmp_path / "test", {"models/probe.sql": model})
    output = run(root, "run")
    assert "parse graph: 0/0" in output and "hidden debug line" not in output
    assert "printed: False" in output and "printed: True" in output


def test_full_refresh_flag(tmp_path: Path) -> None:
    root = dbt_project(tmp_path / "test", {"models/probe.sql": TABLE + "select {{ flags.FULL_REFRESH }} as fr"})
    run(root, "run", "--full-refresh")
    assert _row(root, "probe") == {"fr": True}


def test_selected_resources_follow_the_selection(tmp_path: Path) -> None:
    files = {
        "models/a.sql": TABLE + "select '{{ selected_resources | sort | join(\",\") }}' as selected",
        "models/b.sql": "select 1 as id",
    }
    root = dbt_project(tmp_path / "test", files)
    run(root, "run", "--select", "a")
    assert _row(root, "a") == {"selected": "model.test.a"}


ERRORS = [
    ("raise_compiler_error", "{{ exceptions.raise_compiler_error('custom failure') }}", "custom failure"),
    ("raise_not_implemented", "{{ exceptions.raise_not_implemented('not here') }}", "ERROR: not here"),
    (
        "column_type_missing",
        "{{ exceptions.column_type_missing(['a']) }}",
        "Contracted models require data_type to be defined for each column",
    ),
    ("set_strict", "{{ set_strict(1) }}", "'int' object is not iterable"),
    ("try_or_compiler_error", "{{ try_or_compiler_error('it broke', fromjson, none) }}", "it broke"),
    (
        "load_twice",
        "{% call statement('s', fetch_result=True) %}select 1{% endcall %}"
        "{% set a = load_result('s') %}{% set b = load_result('s') %}",
        "The 'statement' result named 's' has already been loaded into a variable",
    ),
    ("missing_var", "{{ var('nope') }}", "Required var 'nope' not found in config"),
    (
        "validation",
        "{{ config.get('materialized', 'view', validator=validation.any('incremental')) }}",
        'Expected value "view" to be one of incremental',
    ),
    ("config_require", "{{ config.require('not_set') }}", "Required config 'not_set' is missing"),
    (
        "missing_env_var",
        "{{ env_var('MK_SURFACE_NEVER_SET') }}",
        "Env var required but not provided: 'MK_SURFACE_NEVER_SET'",
    ),
    ("dunder_class", "{{ ''.__class__ }}", "access to attribute '__class__' of 'str' object is unsafe"),
    ("mro", "{{ ({}).__class__.mro() }}", "access to attribute '__class__' of 'dict' object is unsafe"),
    ("globals", "{{ cycler.__init__.__globals__ }}", "object is unsafe"),
    ("namespace_dunder", "{{ dbt.__class__ }}", "access to attribute '__class__' of 'Namespace' object is unsafe"),
    ("missing_macro", "{{ dbt.no_such_macro() }}", "no_such_macro"),
]


@pytest.mark.parametrize(("case", "body", "message"), ERRORS, ids=[e[0] for e in ERRORS])
def test_errors(tmp_path: Path, case: str, body: str, message: str) -> None:
    model = "{% if execute %}" + body + "{% endif %}\nselect 1 as id"
    root = dbt_project(tmp_path / "test", {"models/probe.sql": model})
    output = run(root, "run", expect=1)
    assert message in output
    assert "Compilation Error in model probe" in output or "Parsing Error" in output


def test_private_attributes_stay_hidden(tmp_path: Path) -> None:
    """A private attribute of a Python object renders as nothing (undefined), as in dbt; it is never exposed."""
    root = dbt_project(tmp_path / "test", {"models/probe.sql": TABLE + "select '{{ adapter._renderer }}' as hidden"})
    run(root, "run")
    assert _row(root, "probe") == {"hidden": ""}


def test_pytz_module(tmp_path: Path) -> None:
    root = dbt_project(tmp_path / "test", {"models/probe.sql": TABLE + "select '{{ modules.pytz.utc }}' as tz"})
    try:
        import pytz  # noqa: F401
    except ImportError:
        output = run(root, "run", expect=2)  # raised while parsing the model
        assert "modules.pytz needs the pytz package" in output
    else:
        run(root, "run")
        assert _row(root, "probe") == {"tz": "UTC"}
