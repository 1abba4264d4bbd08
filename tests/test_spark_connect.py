"""``method: connect``: the same project built through a Spark Connect server (started by a fixture from
the pyspark package's own jars), which holds the warehouse and the metastore."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import run_cli
from spark_support import connect_output, relations, rows, spark_project

pytestmark = [pytest.mark.spark, pytest.mark.xdist_group("spark")]

FILES = {
    "seeds/items.csv": """\
        id,label
        1,one
        2,two
    """,
    "models/labels.sql": """\
        {{ config(materialized='table') }}
        select id, upper(label) as label from {{ ref('items') }}
    """,
    "models/history.sql": """\
        {{ config(materialized='incremental', incremental_strategy='merge', unique_key='id') }}
        select id, label, {{ var('phase', 1) }} as phase from {{ ref('labels') }}
        {% if var('phase', 1) == 2 %}union all select 3, 'THREE', 2{% endif %}
    """,
    "models/_models.yml": """\
        version: 2
        models:
          - name: history
            columns:
              - name: id
                data_tests: [unique, not_null]
    """,
}


def test_a_project_builds_through_spark_connect(tmp_path: Path, spark_connect_server) -> None:
    root = spark_project(tmp_path / "p", connect_output(spark_connect_server.url, "remote_a"), FILES)
    debug = run_cli("debug", cwd=root)
    assert debug.exit_code == 0, debug.output
    first = run_cli("build", cwd=root)
    assert first.exit_code == 0, first.output
    assert "PASS=5" in first.output  # a seed, two models, two tests
    second = run_cli("build", "--vars", "phase: 2", "--select", "history+", cwd=root)
    assert second.exit_code == 0, second.output
    assert rows(root, "select id, label, phase from remote_a.history order by id") == [
        (1, "ONE", 2),
        (2, "TWO", 2),
        (3, "THREE", 2),
    ]
    assert relations(root, "remote_a") == {"items": "table", "labels": "table", "history": "table"}
