"""``modelkit diff`` and ``state:breaking``: column changes of modified models against a git revision or a
``--state`` folder, judged breaking when something downstream reads what changed."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import write_files
from state_support import listed, mk, profiles
from test_state_git import git

FILES = {
    "dbt_project.yml": "name: crm\nversion: '1.0'\nprofile: shop\n",
    "seeds/people.csv": "id,name,email,age\n1,a,a@x,30\n2,b,b@x,40\n",
    "models/stg.sql": "select id, name, email, age from {{ ref('people') }}\n",
    "models/fct.sql": "select id, upper(name) as shout from {{ ref('stg') }} where age > 18\n",
    "models/schema.yml": """
        version: 2
        models:
          - name: stg
            columns:
              - name: id
                data_tests: [not_null]
        exposures:
          - name: board
            type: dashboard
            owner: {email: a@x}
            depends_on: [ref('fct')]
    """,
}

STG = "models/stg.sql"
EDITS = {  # stg's new SQL -> (change, column, breaking, downstream columns)
    "add": ("select id, name, email, age, 1 as score from {{ ref('people') }}\n", "added", "score", False, []),
    "remove_read": ("select id, email, age from {{ ref('people') }}\n", "removed", "name", True, ["fct.shout"]),
    "remove_unread": ("select id, name, age from {{ ref('people') }}\n", "removed", "email", False, []),
    "retype": (
        "select id, name, email, cast(age as varchar) as age from {{ ref('people') }}\n",
        "retyped",
        "age",
        True,
        ["fct.id", "fct.shout"],
    ),
    "rename": (
        "select id, name as full_name, email, age from {{ ref('people') }}\n",
        "renamed",
        "name",
        True,
        ["fct.shout"],
    ),  # fmt: skip
    "test_only": ("select name, email, age from {{ ref('people') }}\n", "removed", "id", True, ["fct.id"]),
}


def committed(repo: Path) -> Path:
    repo.mkdir(parents=True)
    git(repo, "init", "-q", "-b", "main")
    write_files(repo, {**FILES, "profiles.yml": profiles(repo / "wh.duckdb")})
    (repo / ".gitignore").write_text("target/\nlogs/\n*.duckdb\n*.wal\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "first")
    return repo


def diff_json(root: Path, *state: str) -> dict:
    result = mk(root, "diff", *state, "--output", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


@pytest.mark.parametrize("edit", sorted(EDITS))
def test_each_kind_of_change_against_a_git_revision(tmp_path: Path, edit: str) -> None:
    root = committed(tmp_path / "repo")
    sql, kind, column, breaking, readers = EDITS[edit]
    (root / STG).write_text(sql)
    report = diff_json(root, "--state-git", "main")
    assert report["version"] == 1 and report["state"] == "git revision main"
    [model] = report["models"]
    assert model["unique_id"] == "model.crm.stg" and model["columns_known"] is True
    [change] = [c for c in model["changes"] if c["column"] == column]
    assert change["change"] == kind and change["breaking"] is breaking
    assert sorted(f"{r['name']}.{r['column']}" for r in change["downstream_columns"]) == readers
    assert model["breaking"] is breaking and report["breaking"] is breaking
    if edit == "rename":
        assert change["new_name"] == "full_name" and len(model["changes"]) == 1  # not a removal and an addition
    if edit == "retype":
        assert (change["old_type"].lower(), change["new_type"].lower()) == ("integer", "text"), change
    if edit == "test_only":
        [test] = change["tests"]  # the test on it makes it breaking along with fct.id
        assert test.startswith("test.crm.not_null_stg_id.")
    assert model["exposures"] == (["exposure.crm.board"] if breaking else [])


def test_text_output_and_an_unchanged_project(tmp_path: Path) -> None:
    root = committed(tmp_path / "repo")
    quiet = mk(root, "diff", "--state-git", "main")
    assert quiet.exit_code == 0 and "0 modified models, 0 column changes, 0 breaking" in quiet.output
    (root / STG).write_text(EDITS["remove_read"][0].replace("email", "email, 2 as extra"))
    result = mk(root, "diff", "--state-git", "main")
    assert result.exit_code == 0, result.output
    assert "Compared with git revision main: 1 modified model, 2 column changes, 1 breaking" in result.output
    assert "model stg (breaking)" in result.output
    assert "- removed column name (VARCHAR) [BREAKING]" in result.output
    assert "read by: fct.shout" in result.output
    assert "+ added column extra (INTEGER) [non-breaking]" in result.output
    assert "exposures: exposure.crm.board" in result.output


def test_against_a_state_folder(tmp_path: Path) -> None:
    root = committed(tmp_path / "repo")
    assert mk(root, "parse").exit_code == 0
    shutil.copytree(root / "target", tmp_path / "prod")
    (root / STG).write_text(EDITS["remove_read"][0])
    report = diff_json(root, "--state", str(tmp_path / "prod"))
    [model] = report["models"]
    assert [(c["change"], c["column"], c["breaking"]) for c in model["changes"]] == [("removed", "name", True)]


@pytest.mark.parametrize(
    ("edit", "selected"),
    [("add", {"stg"}), ("remove_unread", {"stg"}), ("remove_read", {"stg", "fct"}), ("test_only", {"stg", "fct"})],
)
def test_state_breaking_selects_what_a_breaking_change_reaches(tmp_path: Path, edit: str, selected: set) -> None:
    """The modified model always; downstream, only the readers of a broken column (stg's test comes
    with stg, as tests of selected models do)."""
    root = committed(tmp_path / "repo")
    (root / STG).write_text(EDITS[edit][0])
    assert listed(mk(root, "ls", "-s", "state:modified", "--state-git", "main", "-o", "name")) == {
        "stg",
        "not_null_stg_id",
    }
    breaking = listed(mk(root, "ls", "-s", "state:breaking", "--state-git", "main", "-o", "name"))
    assert breaking == selected | {"not_null_stg_id"}
    downstream = listed(mk(root, "ls", "-s", "state:breaking", "--exclude", "state:modified", "--state-git", "main",
                           "--indirect-selection", "empty", "-o", "name"))  # fmt: skip
    assert downstream == selected - {"stg"}


def test_state_breaking_needs_a_state(tmp_path: Path) -> None:
    root = committed(tmp_path / "repo")
    result = mk(root, "ls", "-s", "state:breaking")
    assert result.exit_code == 2 and "state" in result.output


def test_build_state_breaking_rebuilds_only_what_a_change_breaks(tmp_path: Path) -> None:
    root = committed(tmp_path / "repo")
    assert mk(root, "build").exit_code == 0
    (root / STG).write_text(EDITS["add"][0])
    result = mk(root, "build", "-s", "state:breaking", "--state-git", "main")
    assert result.exit_code == 0, result.output
    assert "model dev.stg" in result.output and "model dev.fct" not in result.output
    (root / STG).write_text(EDITS["rename"][0])
    result = mk(root, "build", "-s", "state:breaking", "--state-git", "main", "--static-analysis", "strict")
    assert result.exit_code == 2 and "model fct" in result.output, result.output  # fct reads the renamed column


def test_a_state_folder_whose_raw_code_no_longer_compiles_uses_its_compiled_code(tmp_path: Path) -> None:
    root = committed(tmp_path / "repo")
    write_files(
        root,
        {
            "models/old.sql": "select 1 as k\n",
            STG: "select id, name, email, age, k from {{ ref('people') }}, {{ ref('old') }}\n",
        },
    )
    assert mk(root, "compile").exit_code == 0
    shutil.copytree(root / "target", tmp_path / "prod")
    (root / "models/old.sql").unlink()
    (root / STG).write_text(EDITS["add"][0])
    [model] = diff_json(root, "--state", str(tmp_path / "prod"))["models"]
    changes = {(c["change"], c["column"]) for c in model["changes"]}
    assert model["columns_known"] is True and changes == {("removed", "k"), ("added", "score")}


def test_diff_needs_a_state(tmp_path: Path) -> None:
    result = mk(committed(tmp_path / "repo"), "diff")
    assert result.exit_code == 2 and "--state DIR" in result.output and "--state-git REV" in result.output
