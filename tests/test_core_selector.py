"""Selector grammar and selection over a real parsed project."""

from __future__ import annotations

import pytest

from modelkit import Project
from modelkit.core.errors import SelectionError
from modelkit.graph.selector import Atom, parse_atom

ATOMS = [
    ("orders", Atom("fqn", "orders", text="orders")),
    ("+orders", Atom("fqn", "orders", parents=True, text="+orders")),
    ("orders+", Atom("fqn", "orders", children=True, text="orders+")),
    ("2+orders+1", Atom("fqn", "orders", True, 2, True, 1, text="2+orders+1")),
    ("@orders", Atom("fqn", "orders", at=True, text="@orders")),
    ("tag:nightly", Atom("tag", "nightly", text="tag:nightly")),
    ("path:models/staging", Atom("path", "models/staging", text="path:models/staging")),
    ("config.materialized:table", Atom("config.materialized", "table", text="config.materialized:table")),
    ("+source:raw.orders+", Atom("source", "raw.orders", parents=True, children=True, text="+source:raw.orders+")),
    ("model_2020", Atom("fqn", "model_2020", text="model_2020")),
]


@pytest.mark.parametrize(("text", "expected"), ATOMS)
def test_parse_atom(text: str, expected: Atom) -> None:
    assert parse_atom(text) == expected


@pytest.mark.parametrize("bad", ["", "+", "bogus:x", "tag:", "@a+"])
def test_parse_atom_rejects(bad: str) -> None:
    with pytest.raises(SelectionError):
        parse_atom(bad)


FILES = {
    "models/staging/stg_a.sql": "{{ config(tags=['nightly']) }}\nselect 1 as id",
    "models/staging/stg_b.sql": "select 2 as id",
    "models/marts/a_mart.sql": "{{ config(materialized='table') }}\nselect * from {{ ref('stg_a') }}",
    "models/marts/ab_mart.sql": "select * from {{ ref('a_mart') }} union all select * from {{ ref('stg_b') }}",
    "models/other/lonely.sql": "select 3 as id",
    "models/sources.yml": """
        version: 2
        sources:
          - name: raw
            tables: [{name: events}]
    """,
    "models/other/from_source.sql": "select * from {{ source('raw', 'events') }}",
}

SELECTIONS = [
    (["stg_a"], [], {"stg_a"}),
    (["+a_mart"], [], {"stg_a", "a_mart"}),
    (["a_mart+"], [], {"a_mart", "ab_mart"}),
    (["stg_a+1"], [], {"stg_a", "a_mart"}),
    (["@a_mart"], [], {"stg_a", "a_mart", "ab_mart", "stg_b"}),
    (["tag:nightly"], [], {"stg_a"}),
    (["path:models/staging"], [], {"stg_a", "stg_b"}),
    (["models/marts"], [], {"a_mart", "ab_mart"}),
    (["config.materialized:table"], [], {"a_mart"}),
    (["stg_a stg_b"], [], {"stg_a", "stg_b"}),
    (["stg_a", "lonely"], [], {"stg_a", "lonely"}),
    (["+ab_mart,path:models/staging"], [], {"stg_a", "stg_b"}),
    (["stg_*"], [], {"stg_a", "stg_b"}),
    (["demo.marts"], [], {"a_mart", "ab_mart"}),
    ([], ["path:models/marts", "lonely"], {"stg_a", "stg_b", "from_source", "events"}),  # sources too, as dbt ls
    (["source:raw+"], [], {"events", "from_source"}),
    (["nothing_here"], [], set()),
]


@pytest.mark.parametrize(("select", "exclude", "expected"), SELECTIONS)
def test_selection(project_factory, select: list[str], exclude: list[str], expected: set[str]) -> None:
    project = Project(project_factory(FILES))
    names = {item["name"] for item in project.ls(select, exclude)}
    assert names == expected
