"""dbt's adapter test suite ``simple_seed``, run through the modelkit CLI on DuckDB.

Ported from dbt-tests-adapter's ``simple_seed/test_seed.py`` and ``test_seed_type_override.py``,
with the cases dbt-duckdb adds (``TestSeedConfigFast``). The seeds are the suite's own files
(tests/data/adapter_suite/simple_seed/); ``seed_expected`` is created with the suite's SQL before the
commands run, as its ``setUp`` fixture does.
"""

from __future__ import annotations

import csv
import io
import json
from codecs import BOM_UTF8
from pathlib import Path

import duckdb
import pytest
from suite_support import db, dbt_project, exists, messages, relations_equal, run, statuses

DATA = Path(__file__).parent / "data" / "adapter_suite" / "simple_seed"


def _seed(name: str) -> str:
    return (DATA / name).read_text(encoding="utf-8")


def _create_expected(root: Path, schema: str = "main") -> None:
    """The suite's ``setUp``: ``seed_expected`` created and filled by its own SQL."""
    con = duckdb.connect(str(db(root)))
    try:
        con.execute(_seed("seed_expected.sql").replace("{schema}", schema))
    finally:
        con.close()


def _seed_project(tmp_path: Path, seeds_config: dict, pipe: bool = False) -> Path:
    name = "seed_pipe_separated" if pipe else "seed_actual"
    files = {
        f"seeds/{name}.csv": _seed(f"{name}.csv"),
        f"models/models__downstream_from_{name}.sql": f"select * from {{{{ ref('{name}') }}}}\n",
    }
    root = dbt_project(tmp_path / "test", files, {"seeds": seeds_config})
    _create_expected(root)
    return root


def _build(root: Path, name: str = "seed_actual") -> None:
    """SeedTestBase._build_relations_for_test."""
    run(root, "seed")
    assert len(statuses(root)) == 1
    relations_equal(root, "seed_expected", name)
    run(root, "run")
    assert len(statuses(root)) == 1
    relations_equal(root, f"models__downstream_from_{name}", "seed_expected")


def _end_state(root: Path, downstream_exists: bool, name: str = "seed_actual") -> None:
    """SeedTestBase._check_relation_end_state."""
    assert len(statuses(root)) == 1
    relations_equal(root, name, "seed_expected")
    assert exists(root, f"models__downstream_from_{name}") is downstream_exists


# The suite expects a full refresh to drop the seed's table with CASCADE, taking the view built on it
# along; DuckDB keeps views that read a dropped table (it tracks no such dependency), and dbt-duckdb
# 1.11 leaves models__downstream_from_seed_actual in place too (it does not run these two cases).
NO_CASCADE = pytest.mark.xfail(
    strict=True,
    reason="DuckDB drops no dependent view with the seed's table: the downstream view remains, as with dbt-duckdb",
)


@pytest.mark.parametrize(
    ("config", "args", "downstream_exists"),
    [
        ({}, [], True),  # BaseBasicSeedTests.test_simple_seed: a second seed truncates and re-inserts
        pytest.param({}, ["--full-refresh"], False, marks=NO_CASCADE),  # test_simple_seed_full_refresh_flag
        pytest.param({"full_refresh": True}, [], False, marks=NO_CASCADE),  # BaseSeedConfigFullRefreshOn
        ({"full_refresh": False}, ["--full-refresh"], True),  # BaseSeedConfigFullRefreshOff: config wins
        ({"fast": True}, [], True),  # dbt-duckdb's TestSeedConfigFast
    ],
)
def test_seed_twice(tmp_path: Path, config: dict, args: list[str], downstream_exists: bool) -> None:
    root = _seed_project(tmp_path, {"quote_columns": False, **config})
    _build(root)
    if config.get("full_refresh") is False:
        run(root, "seed")
        _end_state(root, True)
    run(root, "seed", *args)
    _end_state(root, downstream_exists)


@pytest.mark.parametrize("args", [[], ["--full-refresh"]])
def test_seed_custom_schema(tmp_path: Path, args: list[str]) -> None:
    """BaseSeedCustomSchema: the seed lands in <schema>_custom_schema, and a second seed keeps it equal."""
    root = dbt_project(
        tmp_path / "test",
        {"seeds/seed_actual.csv": _seed("seed_actual.csv")},
        {"seeds": {"schema": "custom_schema", "quote_columns": False}},
    )
    _create_expected(root)
    for extra in ([], args):
        run(root, "seed", *extra)
        assert len(statuses(root)) == 1
        relations_equal(root, "main_custom_schema.seed_actual", "seed_expected")


def test_seed_with_unique_delimiter(tmp_path: Path) -> None:
    """BaseSeedWithUniqueDelimiter: a pipe-separated seed with ``delimiter: '|'``."""
    root = _seed_project(tmp_path, {"quote_columns": False, "delimiter": "|"}, pipe=True)
    _build(root, "seed_pipe_separated")
    run(root, "seed")
    _end_state(root, True, "seed_pipe_separated")


@pytest.mark.parametrize(
    ("delimiter", "expected"),
    [
        (";", "syntax error"),  # BaseSeedWithWrongDelimiter
        ("", "compilation error"),  # BaseSeedWithEmptyDelimiter
    ],
)
def test_seed_with_bad_delimiter(tmp_path: Path, delimiter: str, expected: str) -> None:
    root = _seed_project(tmp_path, {"quote_columns": False, "delimiter": delimiter}, pipe=True)
    run(root, "seed", expect=1)
    (message,) = messages(root).values()
    assert expected in (message or "").lower()


ENABLED_FILES = {
    "seeds/seed_enabled.csv": _seed("seed_enabled.csv"),
    "seeds/seed_disabled.csv": _seed("seed_disabled.csv"),
    "seeds/seed_tricky.csv": _seed("seed_tricky.csv"),
}


@pytest.mark.parametrize(
    ("args", "built"),
    [
        ([], {"seed_enabled", "seed_tricky"}),  # test_simple_seed_with_disabled
        (["--select", "seed_enabled"], {"seed_enabled"}),  # test_simple_seed_selection
        (["--exclude", "seed_enabled"], {"seed_tricky"}),  # test_simple_seed_exclude
    ],
)
def test_seed_enabled_via_config(tmp_path: Path, args: list[str], built: set[str]) -> None:
    """BaseSimpleSeedEnabledViaConfig."""
    config = {
        "seeds": {
            "test": {"seed_enabled": {"enabled": True}, "seed_disabled": {"enabled": False}},
            "quote_columns": False,
        }
    }
    root = dbt_project(tmp_path / "test", ENABLED_FILES, config)
    run(root, "seed", *args)
    assert len(statuses(root)) == len(built)
    for name in ("seed_enabled", "seed_disabled", "seed_tricky"):
        assert exists(root, name) is (name in built), name


def test_run_skips_seeds_that_would_not_parse(tmp_path: Path) -> None:
    """BaseSeedParsing: ``run`` never reads a broken seed file; ``seed`` fails on it."""
    files = {
        "seeds/seed.csv": _seed("wont_parse.csv"),
        "models/model.sql": "select * from {{ this.schema }}.seed_expected\n",
    }
    root = dbt_project(tmp_path / "test", files, {"seeds": {"quote_columns": False}})
    _create_expected(root)
    run(root, "run")
    assert len(statuses(root)) == 1
    run(root, "seed", expect=1)


def test_seed_with_bom(tmp_path: Path) -> None:
    """BaseSimpleSeedWithBOM: a seed whose file starts with a UTF-8 byte order mark."""
    root = dbt_project(tmp_path / "test", {}, {"seeds": {"quote_columns": False}})
    (root / "seeds").mkdir()
    (root / "seeds" / "seed_bom.csv").write_bytes((DATA / "seed_bom.csv").read_bytes())
    _create_expected(root)
    run(root, "seed")
    assert len(statuses(root)) == 1
    with open(root / "seeds" / "seed_bom.csv", encoding="utf-8") as fp:
        assert fp.read(1) == BOM_UTF8.decode("utf-8")
    relations_equal(root, "seed_expected", "seed_bom")


def test_seed_specific_formats(tmp_path: Path) -> None:
    """BaseSeedSpecificFormats: a 20000-row seed, a seed with dots in its name, a unicode seed."""
    big = io.StringIO()
    writer = csv.writer(big)
    writer.writerow(["seed_id"])
    for i in range(20000):
        writer.writerow([i])
    files = {
        "seeds/big_seed.csv": big.getvalue(),
        "seeds/seed.with.dots.csv": _seed("seed.with.dots.csv"),
        "seeds/seed_unicode.csv": _seed("seed_unicode.csv"),
    }
    root = dbt_project(tmp_path / "test", files, {"seeds": {"quote_columns": False}})
    run(root, "seed")
    assert len(statuses(root)) == 3
    assert set(statuses(root).values()) == {"success"}


def test_empty_seed(tmp_path: Path) -> None:
    """BaseTestEmptySeed: a seed with a header and no rows builds an empty table."""
    root = dbt_project(tmp_path / "test", {"seeds/empty_with_header.csv": "a,b,c"}, {"seeds": {"quote_columns": False}})
    run(root, "seed")
    assert len(statuses(root)) == 1
    assert exists(root, "empty_with_header")


COLUMN_TYPE_TEST = """
{% test column_type(model, column_name, type) %}

    {% set cols = adapter.get_columns_in_relation(model) %}

    {% set col_types = {} %}
    {% for col in cols %}
        {% do col_types.update({col.name: col.data_type}) %}
    {% endfor %}

    {% set validation_message = 'Got a column type of ' ~ col_types.get(column_name) ~ ', expected ' ~ type %}

    {% set val = 0 if col_types.get(column_name) == type else 1 %}
    {% if val == 1 and execute %}
        {{ log(validation_message, info=True) }}
    {% endif %}

    select '{{ validation_message }}' as validation_error
    from (select true) as nothing
    where {{ val }} = 1

{% endtest %}
"""


def _column_type_tests(columns: dict[str, dict[str, str]]) -> str:
    lines = ["version: 2", "seeds:"]
    for seed, types in columns.items():
        lines += [f"- name: {seed}", "  columns:"]
        for column, type_ in types.items():
            lines += [f"  - name: {column}", "    data_tests:", "    - column_type:", f"        type: {type_}"]
    return "\n".join(lines) + "\n"


def test_seed_column_type_override(tmp_path: Path) -> None:
    """BaseSimpleSeedColumnOverride: ``+column_types`` and the inferred types, checked by ten data tests.

    The suite's expected types are PostgreSQL's names; dbt-duckdb does not run this class, so the
    types checked here are the ones dbt-duckdb 1.11 builds (observed with dbt itself).
    """
    schema_yml = _column_type_tests(
        {
            "seed_enabled": {"birthday": "DATE", "seed_id": "character varying(256)"},
            "seed_tricky": {
                "seed_id": "INTEGER",
                "seed_id_str": "character varying(256)",
                "a_bool": "BOOLEAN",
                "looks_like_a_bool": "character varying(256)",
                "a_date": "TIMESTAMP",
                "looks_like_a_date": "character varying(256)",
                "relative": "character varying(256)",
                "weekday": "character varying(256)",
            },
        }
    )
    files = {**ENABLED_FILES, "models/schema.yml": schema_yml, "macros/schema_test.sql": COLUMN_TYPE_TEST}
    config = {
        "seeds": {
            "test": {
                "enabled": False,
                "quote_columns": True,
                "seed_enabled": {"enabled": True, "+column_types": {"seed_id": "text", "birthday": "date"}},
                "seed_tricky": {
                    "enabled": True,
                    "+column_types": {"seed_id_str": "text", "looks_like_a_bool": "text", "looks_like_a_date": "text"},
                },
            }
        }
    }
    root = dbt_project(tmp_path / "test", files, config)
    run(root, "seed")
    assert len(statuses(root)) == 2
    run(root, "test")
    results = json.loads((root / "target" / "run_results.json").read_text())["results"]
    assert len(results) == 10
    assert {r["status"] for r in results} == {"pass"}


@pytest.mark.xfail(strict=True, reason="modelkit seed has no --show (dbt prints a random sample of each seed's table)")
def test_seed_show(tmp_path: Path) -> None:
    """BaseSimpleSeedColumnOverride runs ``dbt seed --show``: after the run, a sample of each seed's rows."""
    root = dbt_project(tmp_path / "test", {"seeds/seed_enabled.csv": _seed("seed_enabled.csv")})
    output = run(root, "seed", "--show")
    assert "Random sample of table: main.seed_enabled" in output
    assert "| seed_id | first_name |" in output
