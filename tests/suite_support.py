"""Helpers for the tests ported from dbt's adapter test suites (dbt-tests-adapter).

Each test writes an unmodified dbt project (dbt_project.yml + profiles.yml on DuckDB) into a
temporary folder, runs ``modelkit`` commands on it through the CLI and reads the database and
``target/run_results.json`` the way dbt's ``run_dbt`` / ``check_relations_equal`` helpers do.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from conftest import query, run_cli, write_files

# The macros dbt's BaseUtils adds to every `utils` test project.
BASE_UTILS_MACROS = {
    "macros/equals.sql": """
        {% macro equals(expr1, expr2) -%}
        case when (({{ expr1 }} = {{ expr2 }}) or ({{ expr1 }} is null and {{ expr2 }} is null))
            then 0
            else 1
        end = 0
        {% endmacro %}
    """,
    "macros/test_assert_equal.sql": """
        {% test assert_equal(model, actual, expected) %}
        select * from {{ model }}
        where not {{ equals(actual, expected) }}
        {% endtest %}
    """,
    "macros/replace_empty.sql": """
        {% macro replace_empty(expr) -%}
        case
            when {{ expr }} = 'EMPTY' then ''
            else {{ expr }}
        end
        {% endmacro %}
    """,
}


def dbt_project(
    root: Path,
    files: Mapping[str, str],
    config: Mapping[str, Any] | None = None,
    name: str = "test",
    schema: str | None = None,
) -> Path:
    """A dbt project named ``name`` with a DuckDB profile (``<root>/test.duckdb``, schema ``main``
    unless ``schema`` names another, as dbt's suites use a schema of their own)."""
    project: dict[str, Any] = {"name": name, "profile": name, "config-version": 2, "version": "1.0.0"}
    project.update(config or {})
    output: dict[str, Any] = {"type": "duckdb", "path": "test.duckdb", "threads": 4}
    if schema:
        output["schema"] = schema
    profiles = {name: {"target": "dev", "outputs": {"dev": output}}}
    root.mkdir(parents=True, exist_ok=True)
    (root / "dbt_project.yml").write_text(yaml.safe_dump(project, sort_keys=False), encoding="utf-8")
    (root / "profiles.yml").write_text(yaml.safe_dump(profiles, sort_keys=False), encoding="utf-8")
    return write_files(root, files)


def db(root: Path) -> Path:
    return root / "test.duckdb"


def run(root: Path, *args: str, expect: int | None = 0, env: Mapping[str, str] | None = None) -> str:
    """``modelkit ARGS`` in the project; checks the exit code unless ``expect`` is None."""
    result = run_cli(*args, "--project-dir", str(root), "--profiles-dir", str(root), cwd=root, env=env)
    if expect is not None:
        assert result.exit_code == expect, f"modelkit {' '.join(args)} exited {result.exit_code}:\n{result.output}"
    return result.output


def statuses(root: Path) -> dict[str, str]:
    """unique_id -> status of the last command's results."""
    results = json.loads((root / "target" / "run_results.json").read_text())["results"]
    return {r["unique_id"]: r["status"] for r in results}


def messages(root: Path) -> dict[str, str | None]:
    results = json.loads((root / "target" / "run_results.json").read_text())["results"]
    return {r["unique_id"]: r.get("message") for r in results}


def rows(root: Path, relation: str, order: str = "1") -> list[tuple]:
    return query(db(root), f"select * from {relation} order by {order}")


def columns(root: Path, relation: str) -> list[tuple[str, str]]:
    """(name, type) of a relation's columns, as dbt's ``get_relation_columns`` lists them."""
    schema, _, name = relation.rpartition(".")
    return query(
        db(root),
        "select column_name, data_type from information_schema.columns "
        f"where table_name = '{name}' and table_schema = '{schema or 'main'}' order by ordinal_position",
    )


def relations_equal(root: Path, first: str, second: str) -> None:
    """dbt's ``check_relations_equal``: same columns, same rows (as multisets)."""
    names_a = [c for c, _ in columns(root, first)]
    names_b = [c for c, _ in columns(root, second)]
    assert [n.lower() for n in names_a] == [n.lower() for n in names_b], (names_a, names_b)
    listed = ", ".join(f'"{n}"' for n in names_a)
    diff = query(
        db(root),
        f"(select {listed} from {first} except all select {listed} from {second}) "
        f"union all (select {listed} from {second} except all select {listed} from {first})",
    )
    assert diff == [], f"{first} and {second} differ: {diff}"


def exists(root: Path, relation: str) -> bool:
    schema, _, name = relation.rpartition(".")
    found = query(
        db(root),
        f"select count(*) from information_schema.tables where table_name = '{name}' "
        f"and table_schema = '{schema or 'main'}'",
    )
    return found[0][0] > 0
