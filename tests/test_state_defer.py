"""``--defer``: ``ref()`` to a node this command does not build reads the relation the state manifest records."""

from __future__ import annotations

from pathlib import Path

from conftest import query, write_files
from state_support import mk, save_state, shop_project


def _rewrite_stg(root: Path) -> None:
    path = root / "models/stg.sql"
    path.write_text(path.read_text().replace("select id, name", "select id * 10 as id, name"))


def test_the_ci_recipe_builds_what_changed_on_top_of_production(tmp_path: Path) -> None:
    root = shop_project(tmp_path / "shop")
    assert mk(root, "build", "--target", "prod").exit_code == 0
    state = save_state(root)
    _rewrite_stg(root)
    alone = mk(root, "run", "-s", "state:modified+", "--state", str(state))
    assert alone.exit_code == 1 and '"wh"."dev"."people"' in alone.output  # the seed was never built in dev
    result = mk(root, "run", "-s", "state:modified+", "--state", str(state), "--defer")
    assert result.exit_code == 0, result.output
    assert "dev_extra.stg" in result.output and "dev.fct" in result.output and "people" not in result.output
    db = root / "wh.duckdb"
    assert query(db, "select id from dev_extra.stg order by id") == [(10,), (20,)]  # read prod.people
    assert query(db, "select d from dev.fct order by d") == [(20,), (40,)]  # read dev's own stg, built here
    compiled = (root / "target/compiled/shop/models/stg.sql").read_text()
    assert '"wh"."prod"."people"' in compiled


def test_favor_state_prefers_the_states_relation_even_when_the_targets_exists(tmp_path: Path) -> None:
    root = shop_project(tmp_path / "shop")
    assert mk(root, "build", "--target", "prod").exit_code == 0
    state = save_state(root)
    (root / "seeds/people.csv").write_text("id,name\n1,a\n2,b\n3,c\n")
    assert mk(root, "seed").exit_code == 0  # dev.people now exists, with three rows
    db = root / "wh.duckdb"
    assert mk(root, "run", "-s", "stg", "--defer", "--state", str(state)).exit_code == 0
    assert query(db, "select count(*) from dev_extra.stg") == [(3,)]  # it exists here: not deferred
    assert mk(root, "run", "-s", "stg", "--defer", "--favor-state", "--state", str(state)).exit_code == 0
    assert query(db, "select count(*) from dev_extra.stg") == [(2,)]  # unselected: production's, as favored
    both = mk(root, "build", "-s", "people", "stg", "--defer", "--favor-state", "--state", str(state))
    assert both.exit_code == 0
    assert query(db, "select count(*) from dev_extra.stg") == [(3,)]  # selected nodes are never deferred
    env = {"DBT_DEFER": "1", "DBT_FAVOR_STATE": "true", "DBT_STATE": str(state)}
    shown = mk(root, "compile", "-s", "stg", env=env)
    assert shown.exit_code == 0 and '"wh"."prod"."people"' in shown.output


def test_defer_state_and_a_second_database_file(tmp_path: Path) -> None:
    """Production in its own DuckDB file, attached read-only to dev's: deferred refs name its database."""
    prod = shop_project(tmp_path / "prod")
    write_files(prod, {"profiles.yml": f"""
        shop:
          target: prod
          outputs:
            prod:
              type: duckdb
              path: "{tmp_path / "prod.duckdb"}"
              schema: analytics
    """})  # fmt: skip
    assert mk(prod, "build").exit_code == 0
    dev = shop_project(tmp_path / "dev")
    write_files(dev, {"profiles.yml": f"""
        shop:
          target: dev
          outputs:
            dev:
              type: duckdb
              path: "{tmp_path / "dev.duckdb"}"
              schema: dev
              attach:
                - path: "{tmp_path / "prod.duckdb"}"
                  alias: prod
                  read_only: true
    """})  # fmt: skip
    _rewrite_stg(dev)
    state = save_state(prod, "artifacts")
    result = mk(dev, "run", "-s", "stg", "--defer", "--defer-state", str(state))
    assert result.exit_code == 0, result.output
    assert query(tmp_path / "dev.duckdb", "select id from dev_extra.stg order by id") == [(10,), (20,)]
    assert '"prod"."analytics"."people"' in (dev / "target/compiled/shop/models/stg.sql").read_text()


def test_show_defers_too(tmp_path: Path) -> None:
    root = shop_project(tmp_path / "shop")
    assert mk(root, "build", "--target", "prod").exit_code == 0
    state = save_state(root)
    assert mk(root, "show", "-s", "stg", "--state", str(state)).exit_code == 2  # dev has no people
    result = mk(root, "show", "-s", "stg", "--defer", "--state", str(state))
    assert result.exit_code == 0, result.output
    assert "| 1  | a    |\n| 2  | b    |" in result.output
