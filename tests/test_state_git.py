"""``--state-git REV``: compare against the project as committed at a revision, with no stored artifacts."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from conftest import query
from state_support import listed, mk, shop_project

GIT_ENV = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.com", "GIT_CONFIG_NOSYSTEM": "1", "HOME": "/nonexistent"}  # fmt: skip


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=True,
                          env={**os.environ, **GIT_ENV})  # fmt: skip
    return done.stdout.strip()


def committed_project(repo: Path, subdir: str = "") -> Path:
    """A git repository holding the shop project (in ``subdir``), committed once on ``main``."""
    repo.mkdir(parents=True)
    git(repo, "init", "-q", "-b", "main")
    root = shop_project(repo / subdir if subdir else repo)
    (repo / ".gitignore").write_text("target/\nlogs/\n*.duckdb\n*.wal\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "first")
    return root


def test_state_git_selects_what_changed_since_a_revision(tmp_path: Path) -> None:
    root = committed_project(tmp_path / "repo", "analytics/shop")
    state = ("--state-git", "main")
    assert listed(mk(root, "ls", "-s", "state:modified", *state, "-o", "name")) == set()
    (root / "models/stg.sql").write_text((root / "models/stg.sql").read_text().replace("name", "name, 1 as one"))
    (root / "models/new_one.sql").write_text("select 1 as n\n")
    assert listed(mk(root, "ls", "-s", "state:modified+", *state, "-o", "name")) == {"stg", "fct", "new_one"}
    assert listed(mk(root, "ls", "-s", "state:new", *state, "-o", "name")) == {"new_one"}
    git(tmp_path / "repo", "add", "-A")
    git(tmp_path / "repo", "commit", "-q", "-m", "second")
    assert listed(mk(root, "ls", "-s", "state:modified", *state, "-o", "name")) == set()  # HEAD is main now
    assert listed(mk(root, "ls", "-s", "state:modified", "--state-git", "HEAD~1", "-o", "name")) == {"stg", "new_one"}
    assert git(tmp_path / "repo", "status", "--porcelain") == ""  # the working tree was not touched


def test_state_git_with_defer_reads_the_revisions_relations(tmp_path: Path) -> None:
    """The revision is parsed for the same target: where its stg was built is where ref('stg') is deferred."""
    root = committed_project(tmp_path / "repo")
    assert mk(root, "build").exit_code == 0  # dev, as committed
    stg = root / "models/stg.sql"
    stg.write_text(stg.read_text().replace("config(", "config(alias='staged', "))
    assert mk(root, "run", "-s", "fct").exit_code == 1  # dev_extra.staged was never built
    result = mk(root, "run", "-s", "fct", "--defer", "--state-git", "main")
    assert result.exit_code == 0, result.output
    assert '"wh"."dev_extra"."stg"' in (root / "target/compiled/shop/models/marts/fct.sql").read_text()
    assert query(root / "wh.duckdb", "select count(*) from dev.fct") == [(2,)]
    assert listed(mk(root, "ls", "-s", "state:modified.relation", "--state-git", "main", "-o", "name")) == {"stg"}


def test_the_readme_ci_recipe_in_a_clone(tmp_path: Path) -> None:
    """``build -s state:modified+ --state-git origin/main --defer`` in a CI checkout of a branch."""
    committed_project(tmp_path / "origin")
    checkout = tmp_path / "ci"
    git(tmp_path, "clone", "-q", str(tmp_path / "origin"), str(checkout))
    git(checkout, "checkout", "-q", "-b", "feature")
    for name in ("profiles.yml",):  # the warehouse of this checkout
        text = (checkout / name).read_text().replace(str(tmp_path / "origin"), str(checkout))
        (checkout / name).write_text(text)
    assert mk(checkout, "build").exit_code == 0  # what main builds, already in the warehouse
    fct = checkout / "models/marts/fct.sql"
    fct.write_text(fct.read_text().replace("as d", "as doubled"))
    git(checkout, "commit", "-q", "-am", "rename a column")
    result = mk(checkout, "build", "-s", "state:modified+", "--state-git", "origin/main", "--defer")
    assert result.exit_code == 0, result.output
    assert "1 of 1 START sql table model dev.fct" in result.output
    assert query(checkout / "wh.duckdb", "select doubled from dev.fct order by 1") == [(2,), (4,)]
