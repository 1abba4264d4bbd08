"""Sizes far past the usual: long ref chains (past Python's recursion limit), very wide models, large seeds."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from conftest import embedded_db, make_project, query, run_cli

CHAIN = 3000
assert CHAIN > sys.getrecursionlimit()  # a recursive walk of the chain would fail


def chain(root: Path, materialized: str) -> Path:
    files = {f"models/m{i}.sql": f"select id from {{{{ ref('m{i - 1}') }}}}" for i in range(1, CHAIN)}
    files["models/m0.sql"] = "select 1 as id"
    files["modelkit.yml"] = f"name: demo\nmodels:\n  demo:\n    +materialized: {materialized}\n"
    return make_project(root, files)


def test_a_chain_of_3000_tables_selects_and_runs(tmp_path: Path) -> None:
    root = chain(tmp_path / "demo", "table")
    listed = run_cli("ls", "-s", f"+m{CHAIN - 1}", "--output", "name", cwd=root)
    assert listed.exit_code == 0 and len(listed.output.split()) == CHAIN
    assert len(run_cli("ls", "-s", "m0+", "--output", "name", cwd=root).output.split()) == CHAIN
    assert len(run_cli("ls", "-s", "@m1500", "--output", "name", cwd=root).output.split()) == CHAIN
    run = run_cli("run", cwd=root)
    assert run.exit_code == 0, run.output[-2000:]
    assert query(embedded_db(root), f"select id from m{CHAIN - 1}") == [(1,)]


def test_a_chain_of_3000_ephemeral_models_compiles_and_documents(tmp_path: Path) -> None:
    root = chain(tmp_path / "demo", "ephemeral")
    (root / "models" / "last.sql").write_text(
        f"{{{{ config(materialized='table') }}}}select * from {{{{ ref('m{CHAIN - 1}') }}}}"
    )
    compiled = run_cli("compile", "-s", "last", cwd=root)
    assert compiled.exit_code == 0, compiled.output[-2000:]
    sql = (root / "target" / "compiled" / "demo" / "models" / "last.sql").read_text()
    assert sql.count("__dbt__cte__m") == 2 * CHAIN  # each CTE defined once and used once
    assert sql.index("__dbt__cte__m0 as") < sql.index(f"__dbt__cte__m{CHAIN - 1} as")
    docs = run_cli("docs", "generate", cwd=root)  # column lineage through the whole chain
    assert docs.exit_code == 0, docs.output[-2000:]
    assert f"Column lineage: {CHAIN + 1} of {CHAIN + 1} columns resolved" in docs.output


def test_a_model_with_1600_columns(tmp_path: Path) -> None:
    columns = ", ".join(f"{i} as c{i}" for i in range(1600))
    root = make_project(
        tmp_path / "demo",
        {
            "models/wide.sql": f"{{{{ config(materialized='table') }}}}select {columns}",
            "models/after.sql": "select * from {{ ref('wide') }}",
            "models/schema.yml": "models:\n  - name: wide\n    columns:\n      - name: c1599\n        data_tests: [not_null]\n",
        },
    )
    build = run_cli("build", cwd=root)
    assert build.exit_code == 0, build.output[-2000:]
    assert query(embedded_db(root), "select c1599 from after") == [(1599,)]
    assert run_cli("docs", "generate", cwd=root).exit_code == 0
    catalog = json.loads((root / "target" / "catalog.json").read_text())
    assert len(catalog["nodes"]["model.demo.wide"]["columns"]) == 1600


def test_a_seed_of_300000_rows(tmp_path: Path) -> None:
    rows = "".join(f"{i},name {i},{i * 1.5},2024-01-{i % 28 + 1:02d}\n" for i in range(300_000))
    root = make_project(tmp_path / "demo", {"seeds/big.csv": "id,name,amount,day\n" + rows})
    seed = run_cli("seed", cwd=root)
    assert seed.exit_code == 0, seed.output[-2000:]
    assert query(embedded_db(root), "select count(*), max(id), sum(amount) from big") == [
        (300_000, 299_999, sum(i * 1.5 for i in range(300_000)))
    ]
