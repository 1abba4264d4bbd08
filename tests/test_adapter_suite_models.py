"""dbt's adapter test suites about models and templates, run through the modelkit CLI.

Ported from dbt-tests-adapter: ``caching``, ``aliases``, ``ephemeral``, ``dbt_show``, ``empty``,
``persist_docs``, ``column_types`` and ``concurrency``. Each test builds the suite's project (its
fixtures are reproduced as the project's files), runs the commands the suite runs and checks what
it checks, from the database and ``target/`` rather than from dbt's Python objects. Cases that
depend on a part of modelkit that does not do what dbt does yet are marked ``xfail`` with the reason.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from conftest import query
from suite_support import columns, db, dbt_project, exists, relations_equal, rows, run, statuses

DATA = Path(__file__).parent / "data" / "adapter_suite"
SEED = (DATA / "ephemeral_seed.csv").read_text()  # the 100-row seed of the ephemeral suite

# -- caching -----------------------------------------------------------------------------------------
CACHING_CONFIG = {"quoting": {"identifier": False, "schema": False}}
TABLE_MODEL = "{{ config(materialized='table') }}\nselect 1 as id\n"


@pytest.mark.parametrize("file_name", ["model.sql", "MODEL.sql"])
def test_caching_runs_twice_on_one_relation(tmp_path: Path, file_name: str) -> None:
    """BaseCachingLowercaseModel / BaseCachingUppercaseModel: the second run finds the relation the first made."""
    root = dbt_project(tmp_path / "test", {f"models/{file_name}": TABLE_MODEL}, CACHING_CONFIG)
    for _ in range(2):
        run(root, "run")
        found = query(db(root), "select table_schema, table_name from information_schema.tables")
        assert [(s, n.lower()) for s, n in found] == [("main", "model")]


def test_caching_selected_schema_only(tmp_path: Path) -> None:
    """BaseCachingSelectedSchemaOnly: only the selected model's schema is touched."""
    root = dbt_project(
        tmp_path / "test",
        {
            "models/model.sql": TABLE_MODEL,
            "models/another_schema_model.sql": "{{ config(materialized='table', schema='another_schema') }}\n"
            "select 1 as id\n",
        },
        CACHING_CONFIG,
    )
    for _ in range(2):
        run(root, "run", "--select", "model")
    assert query(db(root), "select table_schema, table_name from information_schema.tables") == [("main", "model")]


@pytest.mark.parametrize("flag", ["--cache-selected-only", "--no-populate-cache"])
def test_caching_flags(tmp_path: Path, flag: str) -> None:
    root = dbt_project(tmp_path / "test", {"models/model.sql": TABLE_MODEL}, CACHING_CONFIG)
    run(root, flag, "run")


# -- aliases -------------------------------------------------------------------------------------------
ALIAS_MACROS = {
    "macros/cast.sql": """
        {% macro string_literal(s) -%}
          {{ adapter.dispatch('string_literal', macro_namespace='test')(s) }}
        {%- endmacro %}

        {% macro default__string_literal(s) %}
            '{{ s }}'::text
        {% endmacro %}
    """,
    "macros/expect_value.sql": """
        {% test expect_value(model, field, value) %}
        select *
        from {{ model }}
        where {{ field }} != '{{ value }}'
        {% endtest %}
    """,
}
TABLENAME = "select {{ string_literal(this.name) }} as tablename\n"


def _expect_tablename(models: dict[str, str]) -> str:
    entries = "".join(
        f"- name: {name}\n  data_tests:\n  - expect_value:\n      field: tablename\n      value: {value}\n"
        for name, value in models.items()
    )
    return "version: 2\nmodels:\n" + entries


def test_aliases(tmp_path: Path) -> None:
    """BaseAliases: aliases from config() and from the project; ref() still by file name; this.name is the alias."""
    files = {
        **ALIAS_MACROS,
        "models/schema.yml": _expect_tablename(
            {
                "foo_alias": "foo",
                "ref_foo_alias": "ref_foo_alias",
                "alias_in_project": "project_alias",
                "alias_in_project_with_override": "override_alias",
            }
        ),
        "models/foo_alias.sql": "{{ config(alias='foo', materialized='table') }}\n" + TABLENAME,
        "models/alias_in_project.sql": TABLENAME,
        "models/alias_in_project_with_override.sql": "{{ config(alias='override_alias') }}\n" + TABLENAME,
        "models/ref_foo_alias.sql": "{{ config(materialized='table') }}\n"
        "with trigger_ref as (select * from {{ ref('foo_alias') }})\n" + TABLENAME,
    }
    config = {
        "macro-paths": ["macros"],
        "models": {
            "test": {
                "alias_in_project": {"alias": "project_alias"},
                "alias_in_project_with_override": {"alias": "project_alias"},
            }
        },
    }
    root = dbt_project(tmp_path / "test", files, config)
    run(root, "run")
    assert len([s for uid, s in statuses(root).items() if uid.startswith("model.")]) == 4
    run(root, "test")
    assert set(statuses(root).values()) == {"pass"}
    assert exists(root, "foo") and exists(root, "project_alias") and exists(root, "override_alias")


@pytest.mark.xfail(reason="modelkit's parser does not refuse two models with one database representation yet")
def test_alias_duplicates_in_one_schema_fail(tmp_path: Path) -> None:
    """BaseAliasErrors: two models with one alias in one schema: dbt refuses the project."""
    files = {
        **ALIAS_MACROS,
        "models/model_a.sql": "{{ config(alias='duped_alias') }}\nselect 1 as id\n",
        "models/model_b.sql": "{{ config(alias='duped_alias') }}\nselect 1 as id\n",
    }
    root = dbt_project(tmp_path / "test", files, {"macro-paths": ["macros"]})
    output = run(root, "run", expect=None)
    assert "duped_alias" in output and "identical database representation" in output


def test_same_alias_in_different_schemas(tmp_path: Path) -> None:
    """BaseSameAliasDifferentSchemas: one alias in three schemas builds three relations."""
    files = {
        **ALIAS_MACROS,
        "models/schema.yml": _expect_tablename(
            {"model_a": "duped_alias", "model_b": "duped_alias", "model_c": "duped_alias"}
        ),
        "models/model_a.sql": "{{ config(alias='duped_alias', schema='schema_a') }}\n" + TABLENAME,
        "models/model_b.sql": "{{ config(alias='duped_alias', schema='schema_b') }}\n" + TABLENAME,
        "models/model_c.sql": "-- no custom schema for this model\n{{ config(alias='duped_alias') }}\n" + TABLENAME,
    }
    root = dbt_project(tmp_path / "test", files, {"macro-paths": ["macros"]})
    run(root, "run")
    run(root, "test")
    assert set(statuses(root).values()) == {"pass"}
    for relation in ("main.duped_alias", "main_schema_a.duped_alias", "main_schema_b.duped_alias"):
        assert exists(root, relation)


def test_same_alias_in_different_databases(tmp_path: Path) -> None:
    """BaseSameAliasDifferentDatabases: a project-wide alias, one model moved to another schema."""
    files = {
        **ALIAS_MACROS,
        "models/schema.yml": _expect_tablename({"model_a": "duped_alias", "model_b": "duped_alias"}),
        "models/model_a.sql": TABLENAME,
        "models/model_b.sql": TABLENAME,
    }
    config = {
        "macro-paths": ["macros"],
        "models": {"test": {"alias": "duped_alias", "model_b": {"schema": "main_alt"}}},
    }
    root = dbt_project(tmp_path / "test", files, config)
    run(root, "run")
    run(root, "test")
    assert set(statuses(root).values()) == {"pass"}


# -- ephemeral ---------------------------------------------------------------------------------------
EPHEMERAL_MULTI = {
    "models/dependent.sql": """
        -- multiple ephemeral refs should share a cte
        select * from {{ref('base')}} where gender = 'Male'
        union all
        select * from {{ref('base')}} where gender = 'Female'
    """,
    "models/double_dependent.sql": """
        -- base_copy just pulls from base. Make sure the listed
        -- graph of CTEs all share the same dbt_cte__base cte
        select * from {{ref('base')}} where gender = 'Male'
        union all
        select * from {{ref('base_copy')}} where gender = 'Female'
    """,
    "models/super_dependent.sql": """
        select * from {{ref('female_only')}}
        union all
        select * from {{ref('double_dependent')}} where gender = 'Male'
    """,
    "models/base/female_only.sql": "{{ config(materialized='ephemeral') }}\n"
    "select * from {{ ref('base_copy') }} where gender = 'Female'\n",
    "models/base/base.sql": "{{ config(materialized='ephemeral') }}\nselect * from {{ this.schema }}.seed\n",
    "models/base/base_copy.sql": "{{ config(materialized='ephemeral') }}\nselect * from {{ ref('base') }}\n",
}


def _compact(sql: str) -> str:
    return "".join(re.sub(r"\d+", "", sql).split())


def test_ephemeral_multi(tmp_path: Path) -> None:
    """BaseEphemeralMulti: three models over a graph of ephemeral models, each equal to the seed."""
    root = dbt_project(tmp_path / "test", {**EPHEMERAL_MULTI, "seeds/seed.csv": SEED})
    run(root, "seed")
    run(root, "run")
    assert len(statuses(root)) == 3
    for model in ("dependent", "double_dependent", "super_dependent"):
        relations_equal(root, "seed", model)
    compiled = (root / "target/compiled/test/models/double_dependent.sql").read_text()
    assert _compact(compiled) == _compact(
        "with __dbt__cte__base as (select * from main.seed), __dbt__cte__base_copy as ("
        "select * from __dbt__cte__base)-- base_copy just pulls from base. Make sure the listed"
        "-- graph of CTEs all share the same dbt_cte__base cte"
        "select * from __dbt__cte__base where gender = 'Male' union all "
        "select * from __dbt__cte__base_copy where gender = 'Female'"
    )


@pytest.mark.xfail(reason="modelkit writes no target/run/ files (the DDL each model ran)", strict=True)
def test_ephemeral_run_files(tmp_path: Path) -> None:
    """BaseEphemeralMulti / BaseEphemeralNested also read the create statement from target/run/."""
    root = dbt_project(tmp_path / "test", {**EPHEMERAL_MULTI, "seeds/seed.csv": SEED})
    run(root, "seed")
    run(root, "run")
    assert (root / "target/run/test/models/double_dependent.sql").exists()


def test_ephemeral_nested(tmp_path: Path) -> None:
    """BaseEphemeralNested: an ephemeral model over an ephemeral model over a table."""
    files = {
        "models/ephemeral_level_two.sql": '{{ config(materialized = "ephemeral") }}\n'
        "select * from {{ ref('source_table') }}\n",
        "models/root_view.sql": 'select * from {{ref("ephemeral")}}\n',
        "models/ephemeral.sql": '{{ config(materialized = "ephemeral") }}\nselect * from {{ref("ephemeral_level_two")}}\n',
        "models/source_table.sql": "{{ config(materialized='table') }}\n"
        "with source_data as (select 1 as id union all select null as id)\nselect * from source_data\n",
    }
    root = dbt_project(tmp_path / "test", {**files, "seeds/seed.csv": SEED})
    run(root, "run")
    assert len(statuses(root)) == 2
    compiled = (root / "target/compiled/test/models/root_view.sql").read_text()
    assert _compact(compiled) == _compact(
        'with __dbt__cte__ephemeral_level_two as (select * from "test"."main"."source_table"), '
        "__dbt__cte__ephemeral as (select * from __dbt__cte__ephemeral_level_two)select * from __dbt__cte__ephemeral"
    )
    assert rows(root, "root_view", "id nulls last") == [(1,), (None,)]


def test_ephemeral_error_handling(tmp_path: Path) -> None:
    """BaseEphemeralErrorHandling: a compilation error in an ephemeral parent stops its child."""
    files = {
        "models/dependent.sql": "-- base copy is an error\nselect * from {{ref('base_copy')}} where gender = 'Male'\n",
        "models/base/base.sql": "{{ config(materialized='ephemeral') }}\nselect * from {{ this.schema }}.seed\n",
        "models/base/base_copy.sql": "{{ config(materialized='ephemeral') }}\n\n{{ adapter.invalid_method() }}\n\n"
        "select * from {{ ref('base') }}\n",
    }
    root = dbt_project(tmp_path / "test", {**files, "seeds/seed.csv": SEED})
    output = run(root, "run", expect=1)
    assert list(statuses(root)) == ["model.test.dependent"]
    assert "Compilation Error" in output and "invalid_method" in output
    assert not exists(root, "dependent")


@pytest.mark.xfail(reason="modelkit reports the child of a failing ephemeral model as an error; dbt as skipped")
def test_ephemeral_error_status_is_skipped(tmp_path: Path) -> None:
    files = {
        "models/dependent.sql": "select * from {{ref('base_copy')}}\n",
        "models/base/base_copy.sql": "{{ config(materialized='ephemeral') }}\n{{ adapter.invalid_method() }}\nselect 1\n",
    }
    root = dbt_project(tmp_path / "test", files)
    run(root, "run", expect=1)
    assert statuses(root) == {"model.test.dependent": "skipped"}


# -- dbt show ------------------------------------------------------------------------------------------
SHOW_FILES = {
    "models/sample_model.sql": "select * from {{ ref('sample_seed') }}\n",
    "models/ephemeral_model.sql": "{{ config(materialized = 'ephemeral') }}\n"
    "select coalesce(sample_num, 0) + 10 as col_deci from {{ ref('sample_model') }}\n",
    "seeds/sample_seed.csv": "sample_num,sample_bool\n1,true\n2,false\n3,true\n4,false\n5,true\n6,false\n7,true\n",
}
SECOND_EPHEMERAL = (
    "{{ config(materialized = 'ephemeral') }}\nselect col_deci + 100 as col_hundo from {{ ref('ephemeral_model') }}"
)


@pytest.fixture(scope="module")
def show_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = dbt_project(tmp_path_factory.mktemp("show") / "test", SHOW_FILES)
    run(root, "build")
    return root


@pytest.mark.parametrize(("args", "expected"), [((), 5), (("--limit", "3"), 3), (("--limit", "-1"), 7)])
def test_show_limit(show_project: Path, args: tuple[str, ...], expected: int) -> None:
    """BaseShowLimit: `show --inline` over ephemeral models, 5 rows by default, --limit N, -1 for all."""
    output = run(show_project, "show", "--inline", SECOND_EPHEMERAL, *args)
    table = [line for line in output.splitlines() if line.startswith("|")]
    assert len(table) - 2 == expected, output  # header and separator lines


def test_show_sql_header(tmp_path: Path) -> None:
    """BaseShowSqlHeader: a model whose query needs its sql_header."""
    model = (
        "{% call set_sql_header(config) %}\nwith _variables as (\n    select 1 as my_variable\n)\n{%- endcall %}\n"
        "select my_variable from _variables\n"
    )
    root = dbt_project(tmp_path / "test", {"models/sql_header.sql": model})
    output = run(root, "show", "--select", "sql_header", "--vars", "timezone: Asia/Kolkata")
    assert "my_variable" in output


@pytest.mark.xfail(reason="modelkit wraps the query of `show` in a subquery, so a query with its own limit runs")
def test_show_double_limit_is_an_error(show_project: Path) -> None:
    """BaseShowDoesNotHandleDoubleLimit: dbt appends `limit N` to the query, which then fails."""
    run(show_project, "show", "--limit", "1", "--inline", "select 1 limit 1", expect=1)


# -- empty -----------------------------------------------------------------------------------------------
EMPTY_FILES = {
    "models/model_input.sql": "select 1 as id\n",
    "models/ephemeral_model_input.sql": "{{ config(materialized='ephemeral') }}\nselect 2 as id\n",
    "models/model.sql": "select * from {{ ref('model_input') }}\nunion all\nselect * from {{ ref('ephemeral_model_input') }}\n"
    "union all\nselect * from {{ source('seed_sources', 'raw_source') }}\n",
    "models/sources.yml": 'sources:\n  - name: seed_sources\n    schema: "{{ target.schema }}"\n    tables:\n      - name: raw_source\n',
    "seeds/raw_source.csv": "id\n3\n",
}


def test_empty(tmp_path: Path) -> None:
    """BaseTestEmpty: `run --empty` builds the model with no rows."""
    root = dbt_project(tmp_path / "test", EMPTY_FILES)
    run(root, "seed")
    run(root, "run")
    assert query(db(root), "select count(*) from model") == [(3,)]
    run(root, "run", "--empty")
    assert query(db(root), "select count(*) from model") == [(0,)]


METADATA_MODELS = {
    "control": 'select * from {{ ref("my_seed") }}',
    "get_columns_in_relation": '{{ config(materialized="table") }}\n'
    '{% set columns = adapter.get_columns_in_relation(ref("my_seed")) %}\nselect * from {{ ref("my_seed") }}',
    "alter_column_type": '{{ config(materialized="table") }}\n'
    '{{ alter_column_type(ref("my_seed"), "MY_VALUE", "varchar") }}\nselect * from {{ ref("my_seed") }}',
    "alter_relation_comment": '{{ config(materialized="table", persist_docs={"relations": True}) }}\n'
    'select * from {{ ref("my_seed") }}',
    "alter_column_comment": '{{ config(materialized="table", persist_docs={"columns": True}) }}\n'
    'select * from {{ ref("my_seed") }}',
    "alter_relation_add_remove_columns": '{{ config(materialized="table") }}\n'
    '{% set my_seed = adapter.Relation.create(this.database, this.schema, "my_seed", "table") %}\n'
    '{% set my_column = api.Column("my_column", "varchar") %}\n'
    "{% do alter_relation_add_remove_columns(my_seed, [my_column], none) %}\n"
    "{% do alter_relation_add_remove_columns(my_seed, none, [my_column]) %}\n"
    'select * from {{ ref("my_seed") }}',
    "truncate_relation": '{{ config(materialized="table") }}\n'
    '{% set my_seed = adapter.Relation.create(this.database, this.schema, "my_seed", "table") %}\n'
    '{{ truncate_relation(my_seed) }}\nselect * from {{ ref("my_seed") }}',
}


@pytest.mark.parametrize("model", list(METADATA_MODELS))
def test_metadata_macros(tmp_path: Path, model: str) -> None:
    """MetadataWithEmptyFlag: dbt's relation and column macros on `ref()` relations in models run with --empty."""
    files = {
        "seeds/my_seed.csv": "my_id,my_value\n1,a\n2,b\n3,c\n",
        "models/schema.yml": "version: 2\nseeds:\n  - name: my_seed\n    description: This is my_seed\n"
        "    columns:\n      - name: id\n        description: This is my_seed.my_id\n",
        f"models/{model}.sql": METADATA_MODELS[model],
    }
    root = dbt_project(tmp_path / "test", files)
    run(root, "seed")
    run(root, "run", "--empty", "--select", model)
    assert columns(root, "my_seed") == [("my_id", "INTEGER"), ("my_value", "VARCHAR")]
    remaining = 0 if model == "truncate_relation" else 3
    assert query(db(root), "select count(*) from my_seed") == [(remaining,)]


# -- persist_docs ----------------------------------------------------------------------------------------
DOCS_TEXT = (DATA / "persist_docs.yml").read_text()


def _catalog(root: Path) -> dict:
    run(root, "docs", "generate")
    return json.loads((root / "target" / "catalog.json").read_text())


def test_persist_docs(tmp_path: Path) -> None:
    """BasePersistDocs: relation and column comments on tables and views, as docs generate reads them."""
    files = {
        "models/no_docs_model.sql": "select 1 as id, 'Alice' as name\n",
        "models/table_model.sql": "{{ config(materialized='table') }}\nselect 1 as id, 'Joe' as name\n",
        "models/view_model.sql": "{{ config(materialized='view') }}\nselect 2 as id, 'Bob' as name\n",
        "models/my_fun_docs.md": (DATA / "my_fun_docs.md").read_text(),
        "models/schema.yml": DOCS_TEXT,
        "seeds/seed.csv": "id,name\n1,Alice\n2,Bob\n",
    }
    config = {"models": {"test": {"+persist_docs": {"relation": True, "columns": True}}}}
    root = dbt_project(tmp_path / "test", files, config)
    run(root, "seed")
    run(root, "run")
    nodes = _catalog(root)["nodes"]
    assert len(nodes) == 4
    table, view, no_docs = (nodes[f"model.test.{name}"] for name in ("table_model", "view_model", "no_docs_model"))
    comments = [table["metadata"]["comment"], table["columns"]["id"]["comment"], table["columns"]["name"]["comment"]]
    assert comments[0].startswith("Table model description")
    assert comments[1].startswith("id Column description")
    assert comments[2].startswith("Some stuff here and then a call to")
    comments += [view["metadata"]["comment"], view["columns"]["id"]["comment"]]
    assert comments[3].startswith("View model description")
    assert comments[4].startswith("id Column description")  # views' columns are commented too
    for comment in comments:  # quotes, newlines, dollar-quoting and comment markers survive as written
        assert '"with double quotes"' in comment and "'''abc123'''" in comment and "\n" in comment
        assert "Some $lbl$ labeled $lbl$ and $$ unlabeled $$ dollar-quoting" in comment
        assert "/* comment */" in comment and "--\n" in comment
    assert view["columns"]["name"]["comment"] is None  # not documented
    assert no_docs["metadata"]["comment"] is None and no_docs["columns"]["id"]["comment"] is None


def test_persist_docs_column_missing(tmp_path: Path) -> None:
    """BasePersistDocsColumnMissing: a documented column the table lacks is reported, the others commented."""
    files = {
        "models/missing_column.sql": "{{ config(materialized='table') }}\nselect 1 as id, 'Ed' as name\n",
        "models/schema.yml": "version: 2\nmodels:\n  - name: missing_column\n    columns:\n"
        "      - name: id\n        description: test id column description\n"
        "      - name: column_that_does_not_exist\n        description: comment that cannot be created\n",
    }
    root = dbt_project(tmp_path / "test", files, {"models": {"test": {"+persist_docs": {"columns": True}}}})
    output = run(root, "run")
    assert (
        "The following columns are specified in the schema but are not present in the database: "
        "column_that_does_not_exist" in output
    )
    assert _catalog(root)["nodes"]["model.test.missing_column"]["columns"]["id"]["comment"].startswith("test id")


def test_persist_docs_comment_on_quoted_column(tmp_path: Path) -> None:
    """BasePersistDocsCommentOnQuotedColumn: a column that must be quoted (`2id`) gets its comment."""
    files = {
        "models/quote_model.sql": 'select 1 as {{ adapter.quote("2id") }}\n',
        "models/properties.yml": "version: 2\nmodels:\n  - name: quote_model\n"
        "    description: model to test column quotes and comments\n    columns:\n"
        "      - name: 2id\n        description: XXX My description\n        quote: true\n",
    }
    config = {"models": {"test": {"materialized": "table", "+persist_docs": {"relation": True, "columns": True}}}}
    root = dbt_project(tmp_path / "test", files, config)
    run(root, "run")
    assert _catalog(root)["nodes"]["model.test.quote_model"]["columns"]["2id"]["comment"].startswith("XXX")


# -- column_types ----------------------------------------------------------------------------------------
def test_column_types(tmp_path: Path) -> None:
    """BasePostgresColumnTypes: get_columns_in_relation and Column.is_string/is_number/... in a generic test."""
    files = {
        "macros/test_is_type.sql": (DATA / "test_is_type.sql").read_text(),
        "models/model.sql": """
            select
                1::smallint as smallint_col,
                2::integer as int_col,
                3::bigint as bigint_col,
                4.0::real as real_col,
                5.0::double precision as double_col,
                6.0::numeric as numeric_col,
                '7'::text as text_col,
                '8'::varchar(20) as varchar_col
        """,
        "models/schema.yml": """
            version: 2
            models:
              - name: model
                data_tests:
                  - is_type:
                      column_map:
                        smallint_col: ['integer', 'number']
                        int_col: ['integer', 'number']
                        bigint_col: ['integer', 'number']
                        real_col: ['float', 'number']
                        double_col: ['float', 'number']
                        numeric_col: ['numeric', 'number']
                        text_col: ['string', 'not number']
                        varchar_col: ['string', 'not number']
        """,
    }
    root = dbt_project(tmp_path / "test", files)
    run(root, "run")
    assert len(statuses(root)) == 1
    # Under dbt-duckdb 1.11 a column's dtype is DESCRIBE's whole type: `numeric` is DECIMAL(18,3), which
    # Column.is_numeric() (bare `numeric` / `decimal`) does not recognise. dbt reports the one bad column,
    # and the test macro's SQL for a bad column does not parse: the test errors, as it does under dbt.
    output = run(root, "test", expect=1)
    assert "bad columns: ['numeric_col']" in output
    assert list(statuses(root).values()) == ["error"], output


# -- concurrency -----------------------------------------------------------------------------------------
def test_concurrency(tmp_path: Path) -> None:
    """BaseConcurrency: with 4 threads, a failing model skips its child and nothing else."""
    from_seed = "select * from {{ this.schema }}.seed\n"
    files = {
        "models/invalid.sql": '{{ config(materialized = "table") }}\n'
        "select a_field_that_does_not_exist from {{ this.schema }}.seed\n",
        "models/table_a.sql": '{{ config(materialized = "table") }}\n' + from_seed,
        "models/table_b.sql": '{{ config(materialized = "table") }}\n' + from_seed,
        "models/view_model.sql": '{{ config(materialized = "view") }}\n' + from_seed,
        "models/dep.sql": "{{ config(materialized = \"table\") }}\nselect * from {{ref('view_model')}}\n",
        "models/view_with_conflicting_cascade.sql": "select * from {{ref('table_a')}}\nunion all\n"
        "select * from {{ref('table_b')}}\n",
        "models/skip.sql": "select * from {{ref('invalid')}}\n",
        "seeds/seed.csv": (DATA / "concurrency_seed.csv").read_text(),
    }
    root = dbt_project(tmp_path / "test", files)
    run(root, "seed", "--select", "seed")
    for _ in range(2):
        run(root, "run", "--static-analysis", "off", expect=1)  # static analysis would stop `invalid` up front
        found = statuses(root)
        assert len(found) == 7
        for model in ("view_model", "dep", "table_a", "table_b"):
            relations_equal(root, "seed", model)
        assert not exists(root, "invalid") and not exists(root, "skip")
        assert sorted(found.values()) == ["error", "skipped"] + ["success"] * 5
        (root / "seeds" / "seed.csv").write_text((DATA / "concurrency_seed_update.csv").read_text())
    assert columns(root, "dep") == columns(root, "seed")
