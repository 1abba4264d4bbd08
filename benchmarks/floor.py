#!/usr/bin/env python3
"""Time the SQL alone: a manifest's compiled models and data tests executed directly with duckdb.

    python benchmarks/floor.py --manifest PROJECT/target/manifest.json --db SEEDED.duckdb [--tests]
        [--single-transaction]

This is the floor a modeling tool is compared with: the statements it has to send, without templating,
parsing or bookkeeping. The manifest must hold compiled SQL (``compiled_code``), as the one written by
``compile``, ``run`` or ``build`` does, in modelkit or in dbt-core.

``--db`` is a DuckDB file that already holds the seeds and sources the models read, typically a copy taken
right after ``seed``. It is left untouched: the statements run on a copy (not timed), attached under the
database name the manifest's relation names use, so that they resolve as they did for the tool.

Models, in dependency order, each as ``CREATE OR REPLACE VIEW`` or ``CREATE OR REPLACE TABLE ... AS``
(views for views, tables for everything else; ephemeral models are already inlined in the SQL of the
models that use them), in autocommit or, with ``--single-transaction``, in one transaction, followed by a
``CHECKPOINT``. Then, with ``--tests``, each compiled data test as ``select count(*) from (...)``.

Prints one line per phase, which benchmarks/harness/floor.py reads:

    models: 120 statements in 0.412 s
    tests: 95 queries in 0.088 s (0 of them returned rows)

The times count the statements only, not reading the manifest or copying the database file.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from graphlib import TopologicalSorter
from pathlib import Path
from typing import Any

import duckdb

Node = dict[str, Any]


def model_order(manifest: Node) -> list[Node]:
    """The models to materialize, each after the models it depends on (ephemeral ones left out).

    >>> nodes = {
    ...     "model.p.b": {"resource_type": "model", "config": {"materialized": "table"},
    ...                   "depends_on": {"nodes": ["model.p.e"]}, "compiled_code": "select 2"},
    ...     "model.p.e": {"resource_type": "model", "config": {"materialized": "ephemeral"},
    ...                   "depends_on": {"nodes": ["model.p.a"]}, "compiled_code": "select 1"},
    ...     "model.p.a": {"resource_type": "model", "config": {"materialized": "view"},
    ...                   "depends_on": {"nodes": ["seed.p.s"]}, "compiled_code": "select 0"},
    ... }
    >>> [n["compiled_code"] for n in model_order({"nodes": nodes})]
    ['select 0', 'select 2']
    """
    models = {uid: node for uid, node in manifest["nodes"].items() if node["resource_type"] == "model"}
    # Ordering all models, ephemeral ones included, keeps the order that goes through them.
    graph = {uid: [dep for dep in node["depends_on"]["nodes"] if dep in models] for uid, node in models.items()}
    ordered = [models[uid] for uid in TopologicalSorter(graph).static_order()]
    return [node for node in ordered if node["config"]["materialized"] != "ephemeral"]


def create_statement(node: Node) -> str:
    """The DDL that materializes one model.

    >>> create_statement({"relation_name": '"db"."main"."m"', "config": {"materialized": "view"},
    ...                   "compiled_code": "select 1"})
    'CREATE OR REPLACE VIEW "db"."main"."m" AS (\\nselect 1\\n)'
    """
    kind = "VIEW" if node["config"]["materialized"] == "view" else "TABLE"
    return f"CREATE OR REPLACE {kind} {node['relation_name']} AS (\n{node['compiled_code']}\n)"


def data_test_queries(manifest: Node) -> list[str]:
    """One counting query per compiled data test."""
    tests = [node for node in manifest["nodes"].values() if node["resource_type"] == "test"]
    return [f"select count(*) from (\n{t['compiled_code']}\n) as test_rows" for t in tests if t.get("compiled_code")]


def timed(con: duckdb.DuckDBPyConnection, statements: list[str], *, one_transaction: bool) -> float:
    """Seconds taken to execute ``statements`` and write them to disk."""
    start = time.perf_counter()
    if one_transaction:
        con.execute("BEGIN TRANSACTION")
    for sql in statements:
        con.execute(sql)
    if one_transaction:
        con.execute("COMMIT")
    con.execute("CHECKPOINT")
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--manifest", type=Path, required=True, help="target/manifest.json with compiled SQL")
    parser.add_argument("--db", type=Path, required=True, help="DuckDB file holding the seeds (not modified)")
    parser.add_argument("--tests", action="store_true", help="then run every compiled data test")
    parser.add_argument(
        "--single-transaction", action="store_true", help="create the models in one transaction (not autocommit)"
    )
    args = parser.parse_args(argv)

    manifest = json.loads(args.manifest.read_text(encoding="utf-8"))
    models = model_order(manifest)
    uncompiled = [node["name"] for node in models if not node.get("compiled_code")]
    if uncompiled:
        parser.error(f"{len(uncompiled)} models have no compiled SQL (first: {uncompiled[0]}); compile first")
    databases = sorted({node["database"] for node in models})
    if len(databases) > 1:
        parser.error(f"the models live in several databases ({', '.join(databases)}); expected one")
    database = databases[0] if databases else args.db.stem
    statements = [create_statement(node) for node in models]
    queries = data_test_queries(manifest) if args.tests else []

    with tempfile.TemporaryDirectory(prefix="floor-") as tmp:
        copy = Path(tmp) / f"{database}.duckdb"
        shutil.copyfile(args.db, copy)
        con = duckdb.connect()
        try:
            con.execute(f"ATTACH '{copy}' AS \"{database}\"")
            con.execute(f'USE "{database}"')
            for schema in sorted({node["schema"] for node in models}):
                con.execute(f'CREATE SCHEMA IF NOT EXISTS "{database}"."{schema}"')
            seconds = timed(con, statements, one_transaction=args.single_transaction)
            print(f"models: {len(statements)} statements in {seconds:.3f} s", flush=True)
            if queries:
                start = time.perf_counter()
                returned = sum(con.execute(sql).fetchone()[0] > 0 for sql in queries)
                seconds = time.perf_counter() - start
                print(f"tests: {len(queries)} queries in {seconds:.3f} s ({returned} of them returned rows)")
        finally:
            con.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
