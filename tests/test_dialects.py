"""SQL dialects: the translation table, which dialect a node is written in, and projects built on DuckDB
from SQL written for another engine (the PostgreSQL side is in test_dialect_postgres.py)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import REPO, SAMPLE_PROJECT, embedded_db, make_project, query, run_cli
from dialect_support import CASES, SOURCES, Reported, translated

from modelkit.adapters import ENGINES, SQL_DIALECTS
from modelkit.api.session import Session
from modelkit.dialects.checks import PREPASS, RULES
from modelkit.dialects.shapes import value_type
from modelkit.dialects.types import translate_type


@pytest.mark.parametrize(("sql", "target", "expected"), CASES, ids=[f"{t}:{s[:60]}" for s, t, _ in CASES])
def test_translation_table(sql: str, target: str, expected: str | Reported) -> None:
    found = translated(sql, target, SOURCES.get(target, "duckdb"))
    if isinstance(expected, Reported):
        constructs = [(f.construct, f.message + " " + f.snippet) for f in found.findings]
        assert any(c == expected.construct and expected.says in text for c, text in constructs), constructs
    else:
        assert not found.findings, found.findings
        assert found.sql == expected


@pytest.mark.parametrize(
    ("text", "source", "target", "expected"),
    [
        ("double", "duckdb", "postgres", ("DOUBLE PRECISION", None)),
        ("integer", "duckdb", "postgres", ("INT", None)),
        ("varchar", "duckdb", "postgres", ("TEXT", None)),
        ("decimal", "duckdb", "postgres", ("DECIMAL(18, 3)", None)),
        ("timestamp with time zone", "duckdb", "postgres", ("TIMESTAMPTZ", None)),
        ("integer[]", "duckdb", "postgres", ("INT[]", None)),
        ("hugeint", "duckdb", "postgres", ("hugeint", "PostgreSQL has no INT128 type")),
        ("struct(a integer)", "duckdb", "postgres", ("struct(a integer)", "PostgreSQL has no STRUCT type")),
        ("integer[]", "duckdb", "spark", ("ARRAY<INT>", None)),
        ("varchar", "duckdb", "spark", ("STRING", None)),
        ("time", "duckdb", "spark", ("time", "Spark has no time-of-day type (sqlglot would turn it into a TIMESTAMP)")),
        ("double precision", "postgres", "duckdb", ("DOUBLE", None)),
        ("my_domain", "duckdb", "postgres", ("my_domain", None)),  # unknown to sqlglot: kept as written
        ("double", "duckdb", "duckdb", ("double", None)),
    ],
)
def test_types_translate(text: str, source: str, target: str, expected: tuple[str, str | None]) -> None:
    assert translate_type(text, source, target) == expected


def test_seed_values_get_duckdbs_types() -> None:
    assert value_type(["1", "-2", "", "null"]) == "INTEGER"
    assert value_type(["1", "-2147483649"]) == "BIGINT"
    assert value_type(["1", "2.5e3"]) == "DOUBLE"
    assert value_type(["2024-01-01 10:00", "2024-01-02 11:00:00.5"]) == "TIMESTAMP"
    assert value_type(["yes", "no"]) == "VARCHAR"


def test_every_engine_declares_its_dialect() -> None:
    assert set(ENGINES) <= set(SQL_DIALECTS)


def test_readme_lists_every_rule() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("## SQL dialects", 1)[1].split("\n## ", 1)[0]
    missing = [rule.construct for rule in (*RULES, *PREPASS) if f"| {rule.construct} |" not in section]
    assert not missing, missing


# -- which dialect a node is written in -----------------------------------------------------------
def pg_profile(root: Path, name: str = "demo") -> None:
    """A postgres profile nothing connects to (the tests here only read the project)."""
    output = {"type": "postgres", "host": "127.0.0.1", "port": 1, "user": "u", "password": "", "dbname": "d",
              "schema": "main", "threads": 1}  # fmt: skip
    (root / "profiles.yml").write_text(yaml.safe_dump({name: {"target": "pg", "outputs": {"pg": output}}}))


SEED_CSV = "id,big,price,name,day,at,flag\n1,3000000000,2.5,a,2024-01-01,2024-01-01 10:00:00,true\n2,1,3,b,,,false\n"
SPARK_OUTPUT = {"type": "spark", "method": "session", "host": "local[1]", "schema": "main", "threads": 1}


@pytest.mark.parametrize(
    ("output", "dialect", "expected"),
    [
        (SPARK_OUTPUT, "duckdb", {"id": "INT", "big": "BIGINT", "price": "DOUBLE", "name": "STRING", "day": "DATE",
                                  "at": "TIMESTAMP_NTZ", "flag": "BOOLEAN"}),
        (None, "duckdb", {"id": "INT", "big": "BIGINT", "price": "DOUBLE PRECISION", "name": "TEXT",
                          "day": "DATE", "at": "TIMESTAMP", "flag": "BOOLEAN"}),
        (SPARK_OUTPUT, "spark", {}),  # the target's own dialect: the engine's inference stands
        (SPARK_OUTPUT, "postgres", {}),  # a dialect whose seed types are not known: likewise
    ],
)  # fmt: skip
def test_seed_types_follow_the_projects_dialect(
    tmp_path: Path, output: dict | None, dialect: str, expected: dict[str, str]
) -> None:
    """A seed of a project written for DuckDB gets a DuckDB seed's types on another engine, named as that
    engine names them; ``column_types`` keep the columns they name."""
    root = make_project(
        tmp_path,
        {
            "modelkit.yml": f"name: demo\nprofile: demo\ndialect: {dialect}\n",
            "seeds/raw.csv": SEED_CSV,
            "seeds/schema.yml": "version: 2\nseeds:\n  - name: raw\n    config:\n      column_types: {flag: varchar}\n",
        },
    )
    if output is None:
        pg_profile(root)
    else:
        (root / "profiles.yml").write_text(yaml.safe_dump({"demo": {"target": "t", "outputs": {"t": output}}}))
    with Session(root) as session:
        seed = next(n for n in session.manifest.nodes.values() if n.name == "raw")
        expected = {k: v for k, v in expected.items() if k != "flag"}
        assert session.dialects.seed_types(seed) == expected
        if expected:
            assert session.dialects.data_type(seed, "varchar") == expected["name"]


def test_which_dialect_each_node_is_written_in(tmp_path: Path) -> None:
    root = make_project(
        tmp_path,
        {
            "modelkit.yml": """
                name: demo
                profile: demo
                dialect: DuckDB
                models:
                  demo:
                    pg_folder:
                      +dialect: postgres
            """,
            "models/plain.sql": "select 1 as id",
            "models/pg_folder/in_folder.sql": "select 1 as id",
            "models/own.sql": "{{ config(dialect='spark') }} select 1 as id",
            "models/schema.yml": """
                version: 2
                models:
                  - name: plain
                    columns:
                      - name: id
                        data_tests: [unique, positive]
            """,
            "tests/generic/positive.sql": "{% test positive(model, column_name) %}select 1 from {{ model }} where {{ column_name }} <= 0{% endtest %}",
            "tests/singular.sql": "select 1 from {{ ref('plain') }} where false",
        },
    )
    pg_profile(root)
    with Session(root) as session:
        dialects = session.dialects
        nodes = {n.name: n for n in session.manifest.nodes.values()}
        assert dialects.target == "postgres"
        assert dialects.of(nodes["plain"]) == "duckdb"  # the project's dialect:, lower-cased
        assert dialects.of(nodes["in_folder"]) == "postgres"
        assert dialects.of(nodes["own"]) == "spark"
        assert dialects.of(nodes["singular"]) == "duckdb"
        assert dialects.of(nodes["positive_plain_id"]) == "duckdb"  # the project's own generic test
        assert dialects.of(nodes["unique_plain_id"]) == "postgres"  # built in: written for every engine
        assert [n for n in nodes if dialects.translates(nodes[n])] == sorted(
            ["plain", "own", "singular", "positive_plain_id"], key=list(nodes).index
        )


def test_dialect_must_name_a_dialect(tmp_path: Path) -> None:
    root = make_project(tmp_path, {"modelkit.yml": "name: demo\ndialect: [duckdb]\n", "models/m.sql": "select 1"})
    result = run_cli("compile", cwd=root)
    assert result.exit_code == 2, result.output
    assert "`dialect:` must name a SQL dialect" in result.output

    root = make_project(tmp_path / "b", {"modelkit.yml": "name: demo\ndialect: duckbd\n", "models/m.sql": "select 1"})
    result = run_cli("compile", cwd=root)
    assert result.exit_code == 2, result.output
    assert "model m: its project's dialect: names 'duckbd', which is not a SQL dialect" in result.output


# -- built on DuckDB from SQL written for PostgreSQL ------------------------------------------------
def test_a_model_written_for_postgres_keeps_its_meaning_on_duckdb(tmp_path: Path) -> None:
    """PostgreSQL divides integers as integers: the translation keeps it so on DuckDB (which would give 3.5)."""
    root = make_project(
        tmp_path,
        {
            "seeds/nums.csv": "a,b\n7,2\n-7,2\n9,3\n",
            "models/ratios.sql": """
                {{ config(dialect='postgres', materialized='table') }}
                select a, a / b as q, 7 / 2 as seven_halves, a::double precision / b as exact
                from {{ ref('nums') }}
            """,
            "models/as_written.sql": "{{ config(materialized='table') }} select 7 / 2 as q",
        },
    )
    result = run_cli("build", cwd=root)
    assert result.exit_code == 0, result.output
    db = embedded_db(root)
    assert query(db, "select a, q, seven_halves, exact from ratios order by a") == [
        (-7, -3, 3, -3.5),  # truncated toward zero, as PostgreSQL does
        (7, 3, 3, 3.5),
        (9, 3, 3, 3.0),
    ]
    assert query(db, "select q from as_written") == [(3.5,)]  # written for DuckDB: left alone
    compiled = (root / "target/compiled/demo/models/ratios.sql").read_text()
    assert "a // b AS q" in compiled and "CAST(a AS DOUBLE) / b AS exact" in compiled


def test_sql_that_does_not_translate_stops_the_build_before_anything_runs(tmp_path: Path) -> None:
    root = make_project(
        tmp_path,
        {
            "modelkit.yml": "name: demo\ndialect: postgres\n",
            "seeds/nums.csv": "a,b\n7,2\n",
            "models/sources.yml": """
                version: 2
                sources:
                  - name: raw
                    schema: main
                    tables: [{name: events}]
            """,
            "models/first.sql": "select 1 as id",
            "models/ratio.sql": "select id,\n  x / y as ratio\nfrom {{ source('raw', 'events') }}",
            "models/broken.sql": "select (((",
        },
    )
    result = run_cli("build", cwd=root)
    assert result.exit_code == 2, result.output
    out = result.output
    assert "Compilation Error in model ratio (models/ratio.sql:2)" in out
    assert "model ratio is written in PostgreSQL SQL and runs on DuckDB; this does not translate:" in out
    assert "- line 2: division of values of unknown types `x / y`:" in out
    assert "Compilation Error in model broken (models/broken.sql" in out
    assert "SQL that is not PostgreSQL" in out
    assert "2 nodes hold SQL that does not translate into DuckDB; nothing ran." in out
    assert "OK created" not in out and "START" not in out
    assert not embedded_db(root).exists() or not query(
        embedded_db(root), "select table_name from information_schema.tables where table_schema = 'main'"
    )


# -- a project in its target's dialect is left exactly as rendered -----------------------------------
def test_sample_project_on_duckdb_compiles_byte_for_byte_untranslated(tmp_path: Path) -> None:
    declared = tmp_path / "declared"
    shutil.copytree(SAMPLE_PROJECT, declared, ignore=shutil.ignore_patterns("target", "logs"))
    assert re.search(r"^dialect: duckdb$", (declared / "modelkit.yml").read_text(), re.M)
    undeclared = tmp_path / "undeclared"
    shutil.copytree(declared, undeclared)
    text = (undeclared / "modelkit.yml").read_text()
    (undeclared / "modelkit.yml").write_text(re.sub(r"^dialect: duckdb\n", "", text, flags=re.M))
    script = (
        "import sys; from modelkit.api.project import Project; "
        "compiled = Project(sys.argv[1]).compile(); "
        "print(len(compiled), 'modelkit.dialects.translate' in sys.modules)"
    )
    for root in (declared, undeclared):
        done = subprocess.run([sys.executable, "-c", script, str(root)], capture_output=True, text=True, check=True)
        assert done.stdout.split() == ["29", "False"], done.stdout + done.stderr  # no translation loaded
    files = sorted(p.relative_to(declared / "target") for p in (declared / "target/compiled").rglob("*.sql"))
    assert len(files) > 20
    for rel in files:
        assert (declared / "target" / rel).read_bytes() == (undeclared / "target" / rel).read_bytes(), rel


def test_inline_queries_are_written_in_the_projects_dialect(tmp_path: Path) -> None:
    root = make_project(tmp_path, {"modelkit.yml": "name: demo\ndialect: postgres\n", "models/m.sql": "select 1 as id"})
    result = run_cli("compile", "--inline", "select 7 / 2 as q, 'a' || 'b' as ab", cwd=root)
    assert result.exit_code == 0, result.output
    assert "SELECT\n  7 // 2 AS q,\n  'a' || 'b' AS ab\n" in result.output
    result = run_cli("show", "--inline", "select 7 / 2 as q", cwd=root)
    assert result.exit_code == 0, result.output
    assert re.search(r"\|\s+q\s+\|\s*\n\|\s*-+\s*\|\s*\n\|\s+3\s+\|", result.output), result.output


def test_types_flow_from_seeds_through_upstream_models(tmp_path: Path) -> None:
    """The seed's integer columns reach ``top`` through an ephemeral model and a view: ``a / b`` there is
    PostgreSQL's integer division; through a source without types it would not be known."""
    root = make_project(
        tmp_path,
        {
            "modelkit.yml": "name: demo\ndialect: postgres\n",
            "seeds/nums.csv": "a,b\n7,2\n",
            "models/mid.sql": "{{ config(materialized='ephemeral') }} select a, b, a * 1.5 as c from {{ ref('nums') }}",
            "models/view_of_mid.sql": "select * from {{ ref('mid') }}",
            "models/top.sql": "{{ config(materialized='table') }} select a / b as q, c / b as r from {{ ref('view_of_mid') }}",
        },
    )
    result = run_cli("build", cwd=root)
    assert result.exit_code == 0, result.output
    assert query(embedded_db(root), "select q, r from top") == [(3, 5.25)]
    assert "a // b AS q" in (root / "target/compiled/demo/models/top.sql").read_text()
