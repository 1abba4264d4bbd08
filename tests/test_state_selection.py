"""``state:`` selection against a saved production manifest: what dbt counts as modified, and what not.

The expected sets are what dbt 1.11 selects for the same edits of the same project (observed with dbt-core
1.11 and dbt-duckdb): the comparison state is parsed for the ``prod`` target, the current project for ``dev``.
"""

from __future__ import annotations

import json
import shutil
import textwrap
from pathlib import Path

import pytest
from conftest import REPO
from state_support import listed, mk, save_state, shop_project

DBT_MANIFEST = REPO / "tests" / "data" / "state" / "dbt_manifest.json"
METHODS = ("modified", "modified.body", "modified.configs", "modified.relation", "modified.macros",
           "modified.contract", "modified.persisted_descriptions", "new")  # fmt: skip


def _edit(root: Path, rel: str, old: str, new: str) -> None:
    path = root / rel
    text = path.read_text()
    assert old in text, (rel, old)
    path.write_text(text.replace(old, new))


def _append(root: Path, rel: str, text: str) -> None:
    path = root / rel
    path.write_text(path.read_text() + text)


# (case, edit, env, {method: expected names}); methods not named select nothing.
EDITS = [
    ("nothing", lambda r: None, {}, {}),
    ("whitespace around the code", lambda r: (r / "models/other.sql").write_text("\n  select 1 as x  \n\n"), {}, {}),
    ("a comment in the body", lambda r: _edit(r, "models/other.sql", "x\n", "x -- why\n"), {},
     {"modified": {"other"}, "modified.body": {"other"}}),
    ("a macro the model calls through another", lambda r: _edit(r, "macros/m.sql", "* 2", "* 3"), {},
     {"modified": {"fct"}, "modified.macros": {"fct"}}),
    ("env var in a project-level config", lambda r: None, {"OWNER": "someone else"}, {}),
    ("env var in config()", lambda r: None, {"SCH": "other"}, {"modified": {"stg"}, "modified.relation": {"stg"}}),
    ("a project-level config", lambda r: _edit(r, "dbt_project.yml", "+materialized: table", "+materialized: view"),
     {}, {"modified": {"fct"}, "modified.configs": {"fct"}}),
    ("a contracted column's type", lambda r: _edit(r, "models/schema.yml", "data_type: integer", "data_type: bigint"),
     {}, {"modified": {"other"}, "modified.contract": {"other"}}),
    ("a seed row", lambda r: _append(r, "seeds/people.csv", "3,c\n"), {},
     {"modified": {"people"}, "modified.body": {"people"}}),
    ("a new model", lambda r: (r / "models/newm.sql").write_text("select 2 as y\n"), {},
     {m: {"newm"} for m in METHODS if m not in ("modified.macros", "modified.persisted_descriptions")}
     | {"modified.persisted_descriptions": {"newm"}}),
    ("a persisted description", lambda r: _edit(r, "models/schema.yml", "facts", "facts and more"), {},
     {"modified": {"fct"}, "modified.persisted_descriptions": {"fct"}}),
    ("a description that is not persisted", lambda r: _edit(r, "models/schema.yml", "- name: x", "- name: x\n        description: the x"),
     {}, {}),
    ("an alias", lambda r: _edit(r, "models/other.sql", "select", "{{ config(alias='other2') }}\nselect"), {},
     {"modified": {"other"}, "modified.body": {"other"}, "modified.relation": {"other"}}),
]  # fmt: skip


@pytest.mark.parametrize("case, edit, env, expected", EDITS, ids=[e[0] for e in EDITS])
def test_state_modified_after_an_edit(tmp_path: Path, case, edit, env, expected) -> None:
    root = shop_project(tmp_path / "shop")
    assert mk(root, "parse", "--target", "prod").exit_code == 0
    state = save_state(root)
    edit(root)
    for method in METHODS:
        found = listed(mk(root, "ls", "-s", f"state:{method}", "--state", str(state), "--output", "name", env=env))
        assert found == expected.get(method, set()), (case, method)


@pytest.mark.parametrize("producer", ["dbt", "modelkit"])
def test_a_dbt_written_manifest_compares_as_a_modelkit_one(tmp_path: Path, producer: str) -> None:
    """The same project against dbt's manifest.json of it: nothing modified; an edit is seen."""
    root = shop_project(tmp_path / "shop")
    state = root / "state"
    state.mkdir()
    if producer == "dbt":
        shutil.copy(DBT_MANIFEST, state / "manifest.json")
    else:
        assert mk(root, "parse", "--target", "prod").exit_code == 0
        shutil.copy(root / "target" / "manifest.json", state / "manifest.json")
    for method in METHODS:
        assert listed(mk(root, "ls", "-s", f"state:{method}", "--state", str(state), "-o", "name")) == set(), method
    assert listed(mk(root, "ls", "-s", "state:unmodified", "--state", str(state), "-o", "name")) == {
        "people", "stg", "fct", "other"}  # fmt: skip
    _edit(root, "macros/m.sql", "* 2", "* 3")
    assert listed(mk(root, "ls", "-s", "state:modified", "--state", str(state), "-o", "name")) == {"fct"}


SELECTIONS = [
    (["-s", "state:modified"], {"stg"}),
    (["-s", "state:modified+"], {"stg", "fct"}),
    (["-s", "+state:modified"], {"stg", "people"}),
    (["-s", "state:modified+,resource_type:model", "--exclude", "stg"], {"fct"}),
    (["-s", "state:modified+", "--exclude", "state:modified"], {"fct"}),
    (["-s", "state:old,tag:xy"], {"fct"}),
    (["-s", "state:unmodified", "--resource-type", "model"], {"fct", "other"}),
]


@pytest.mark.parametrize("args, expected", SELECTIONS, ids=[" ".join(a) for a, _ in SELECTIONS])
def test_state_methods_compose_with_graph_operators(tmp_path: Path, args: list[str], expected: set[str]) -> None:
    root = shop_project(tmp_path / "shop")
    assert mk(root, "parse", "--target", "prod").exit_code == 0
    state = save_state(root)
    _edit(root, "models/stg.sql", "select id, name", "select id, name, 1 as one")
    assert listed(mk(root, "ls", *args, "--state", str(state), "-o", "name")) == expected


def test_result_selection_reads_the_state_folders_run_results(tmp_path: Path) -> None:
    root = shop_project(tmp_path / "shop", {"models/bad.sql": "select * from missing_table\n",
                                            "models/after_bad.sql": "select * from {{ ref('bad') }}\n"})  # fmt: skip
    assert mk(root, "build").exit_code == 1
    state = save_state(root, "last-run")
    results = json.loads((state / "run_results.json").read_text())["results"]
    assert {r["unique_id"]: r["status"] for r in results}["model.shop.bad"] == "error"
    for status, expected in [("error", {"bad"}), ("skipped", {"after_bad"}), ("success", {"stg", "fct", "other"}),
                             ("pass", set())]:  # fmt: skip
        found = listed(mk(root, "ls", "-s", f"result:{status}", "--resource-type", "model", "--state", str(state),
                          "-o", "name"))  # fmt: skip
        assert found == expected, status
    assert listed(mk(root, "ls", "-s", "result:error+", "--state", str(state), "-o", "name")) == {"bad", "after_bad"}


def test_with_dbts_flag_config_calls_compare_as_written(tmp_path: Path) -> None:
    """``state_modified_compare_more_unrendered_values``: an env var read in ``config()`` changes nothing,
    and the unrendered config is dbt's string of each keyword as written."""
    root = shop_project(tmp_path / "shop")
    _append(root, "dbt_project.yml", "flags:\n  state_modified_compare_more_unrendered_values: true\n")
    assert mk(root, "parse", "--target", "prod").exit_code == 0
    state = save_state(root)
    stg = json.loads((state / "manifest.json").read_text())["nodes"]["model.shop.stg"]
    assert stg["unrendered_config"]["materialized"] == "Keyword(key='materialized', value=Const(value='table'))"
    assert (
        listed(mk(root, "ls", "-s", "state:modified", "--state", str(state), "-o", "name", env={"SCH": "x"})) == set()
    )
    _edit(root, "models/stg.sql", "materialized='table'", "materialized='view'")
    assert listed(mk(root, "ls", "-s", "state:modified.configs", "--state", str(state), "-o", "name")) == {"stg"}


def test_breaking_contract_changes_warn_or_fail_as_dbt(tmp_path: Path) -> None:
    """Unversioned: dbt's warning, and the model is selected; versioned: an error asking for a new version."""
    versioned = """
          - name: dim
            latest_version: 1
            config: {contract: {enforced: true}, materialized: table}
            columns: [{name: k, data_type: integer}]
            versions: [{v: 1}]
    """
    root = shop_project(tmp_path / "shop", {"models/dim_v1.sql": "select 1 as k\n"})
    _append(root, "models/schema.yml", textwrap.indent(textwrap.dedent(versioned).strip("\n"), "  ") + "\n")
    assert mk(root, "parse", "--target", "prod").exit_code == 0
    state = save_state(root)
    _edit(root, "models/schema.yml", "data_type: integer\n", "data_type: varchar(3)\n")
    _edit(root, "models/other.sql", "1 as x", "'1' as x")
    result = mk(root, "compile", "-s", "state:modified", "--exclude", "dim", "--state", str(state))
    assert result.exit_code == 0, result.output
    assert (
        "[WARNING]: Breaking change to contracted, unversioned model other (models/other.sql)\n"
        "While comparing to previous project state, dbt detected a breaking change to an unversioned model.\n"
        "  - Columns with data_type changes: \n    - x (integer -> varchar(3))"
    ) in result.output
    _edit(root, "models/schema.yml", "data_type: integer}", "data_type: text}")
    failed = mk(root, "compile", "-s", "state:modified.contract", "--state", str(state))
    assert failed.exit_code == 2
    assert "dbt detected a breaking change to an enforced contract" in failed.output
    assert "k (integer -> text)" in failed.output and "create a new model version" in failed.output
    (root / "models/other.sql").unlink()
    _edit(root, "models/schema.yml", "data_type: text}", "data_type: integer}")
    gone = mk(root, "compile", "-s", "state:modified", "--state", str(state))
    assert "Contracted model 'model.shop.other' was deleted or renamed." in gone.output


SOURCES = """
version: 2
sources:
  - name: raw
    schema: raw_data
    tables:
      - name: orders
        loaded_at_field: updated_at
        freshness: {warn_after: {count: 1, period: day}}
"""


@pytest.mark.parametrize(
    "edit, expected",
    [
        (("count: 1", "count: 2"), {"modified": {"raw.orders"}, "modified.configs": {"raw.orders"}}),
        (("schema: raw_data", "schema: raw2"), {"modified": {"raw.orders"}, "modified.relation": {"raw.orders"}}),
        (
            ("period: day}}", "period: day}}\n      - name: customers"),
            {m: {"raw.customers"} for m in ("new", "modified.configs", "modified.relation")},
        ),
    ],
    ids=["freshness", "schema", "a new table"],
)
def test_sources_compare_as_dbt_compares_them(tmp_path: Path, edit: tuple[str, str], expected) -> None:
    """A new source is ``state:new`` but, as in dbt, not ``state:modified``."""
    root = shop_project(tmp_path / "shop", {"models/sources.yml": SOURCES})
    assert mk(root, "parse", "--target", "prod").exit_code == 0
    state = save_state(root)
    _edit(root, "models/sources.yml", *edit)
    for method in ("modified", "modified.configs", "modified.relation", "new"):
        args = ("ls", "-s", f"state:{method}", "--resource-type", "source", "--state", str(state), "-o", "name")
        assert listed(mk(root, *args)) == expected.get(method, set()), method


def test_a_seed_over_one_mebibyte_is_compared_by_its_path(tmp_path: Path) -> None:
    """As dbt: its checksum is its path, so an edit in place is not seen (with dbt's warning); growing past
    the limit is a change."""
    rows = "".join(f"{i},name{i:07d}\n" for i in range(60_000))  # about 1.1 MB
    root = shop_project(tmp_path / "shop", {"seeds/big.csv": "id,name\n" + rows, "seeds/grows.csv": "id\n1\n"})
    assert mk(root, "parse", "--target", "prod").exit_code == 0
    state = save_state(root)
    seeds = json.loads((state / "manifest.json").read_text())["nodes"]
    assert seeds["seed.shop.big"]["checksum"] == {"name": "path", "checksum": "seeds/big.csv"}
    assert seeds["seed.shop.grows"]["checksum"]["name"] == "sha256"
    _edit(root, "seeds/big.csv", "1,name0000001", "1,changed0001")
    _append(root, "seeds/grows.csv", "".join(f"{i}{' ' * 40}\n" for i in range(30_000)))
    result = mk(root, "compile", "-s", "state:modified", "--state", str(state))
    assert result.exit_code == 0, result.output
    assert ("  Found a seed (shop.big) >1MB in size at the same path, dbt cannot tell if it has changed: "
            "assuming they are the same") in result.output  # fmt: skip
    assert "Found a seed (shop.grows) >1MB in size. The previous file was <=1MB, so it has changed" in result.output
    assert listed(mk(root, "ls", "-s", "state:modified", "--state", str(state), "-o", "name")) == {"grows"}


def test_removed_constraints_are_breaking_changes(tmp_path: Path) -> None:
    constrained = """
        version: 2
        models:
          - name: other
            config: {contract: {enforced: true}, materialized: table}
            constraints: [{type: primary_key, columns: [x]}]
            columns:
              - name: x
                data_type: integer
                constraints: [{type: not_null}, {type: check, expression: "x > 0", name: positive}]
    """
    root = shop_project(tmp_path / "shop", {"models/schema.yml": constrained})
    assert mk(root, "parse", "--target", "prod").exit_code == 0
    state = save_state(root)
    assert listed(mk(root, "ls", "-s", "state:modified.contract", "--state", str(state), "-o", "name")) == set()
    _edit(root, "models/schema.yml", '[{type: not_null}, {type: check, expression: "x > 0", name: positive}]', "[]")
    _edit(root, "models/schema.yml", "constraints: [{type: primary_key, columns: [x]}]", "constraints: []")
    result = mk(root, "compile", "-s", "state:modified.contract", "--state", str(state))
    assert result.exit_code == 0, result.output
    assert (
        "  - Enforced column level constraints were removed: \n"
        "    - 'ConstraintType.not_null' constraint on column x\n"
        "    - 'positive' constraint on column x\n"
        "  - Enforced model level constraints were removed: \n"
        "    - 'ConstraintType.primary_key' constraint on columns ['x']"
    ) in result.output
