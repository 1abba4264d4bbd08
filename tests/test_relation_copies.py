"""Relations changed in one part (Relation._with, in place of dataclasses.replace): equal to what
dataclasses.replace gives, hashed alike, pickled alike, the original untouched."""

from __future__ import annotations

import dataclasses
import pickle

import pytest

from modelkit.core.relation import Relation, render_name

BASE = Relation("db", "main", "orders", type="table", quote_policy=(True, False, True))
CHANGES = [
    ("replace_identifier", lambda r: r.replace_identifier("orders__dbt_tmp"), {"identifier": "orders__dbt_tmp"}),
    ("replace_schema", lambda r: r.replace_schema("other"), {"schema": "other"}),
    ("with_type", lambda r: r.with_type("view"), {"type": "view"}),
    ("quoted_with", lambda r: r.quoted_with("`"), {"quote_char": "`"}),
    ("limited", lambda r: r.limited(0, True), {"limit": 0, "limit_alias": True}),
    ("include", lambda r: r.include(database=False), {"include_policy": (False, True, True)}),
    ("incorporate", lambda r: r.incorporate({"schema": "s2"}, type="view"), {"schema": "s2", "type": "view"}),
]  # fmt: skip


@pytest.mark.parametrize(("case", "change", "fields"), CHANGES, ids=[c[0] for c in CHANGES])
def test_a_changed_relation_is_what_dataclasses_replace_gives(case: str, change, fields: dict) -> None:  # type: ignore[no-untyped-def]
    before = dataclasses.astuple(BASE)
    changed = change(BASE)
    expected = dataclasses.replace(BASE, **fields)
    assert changed == expected and hash(changed) == hash(expected)
    assert type(changed) is Relation and str(changed) == str(expected)
    assert pickle.loads(pickle.dumps(changed)) == expected
    assert dataclasses.astuple(BASE) == before  # frozen: the original is as it was


def test_a_name_rendered_without_a_relation_is_the_relations() -> None:
    for policy in [(True, True, True), (False, True, False), (True, False, True)]:
        relation = Relation("db", "main", 'we"ird', quote_policy=policy)
        assert render_name("db", "main", 'we"ird', policy) == relation.render()
