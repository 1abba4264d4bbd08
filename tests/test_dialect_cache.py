"""Translations kept between commands (target/dialect_translations.json): a run with nothing changed
translates nothing, a parent whose columns change has its children translated again, a cached failure
is still a failure, and a file that cannot be read is written again."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pg_support
import pytest
from conftest import make_project, run_cli
from dialect_support import CASES, DEFAULTS, SOURCES, lookup, translated
from pg_projects import pg_project, relations

from modelkit.api.analysis import check_before_run
from modelkit.api.dialects import check_dialects
from modelkit.api.project import Project
from modelkit.core import jsonio
from modelkit.core.errors import DialectErrors
from modelkit.dialects.cache import FILE_NAME
from modelkit.dialects.shapes import Shape, seed_shape
from modelkit.dialects.translate import Schemas, translate
from modelkit.dialects.types import build

DB = "modelkit_dialect_cache"
FILES = {
    "seeds/people.csv": "id,name,score\n1,Ann,2.5\n2,Bob,3.5\n",
    "models/named.sql": "select id, name from {{ ref('people') }}",
    "models/unnamed.sql": "select * exclude (name) from {{ ref('named') }}",
    "models/halves.sql": "select id, score / 2 as half from {{ ref('people') }}",
}
MODELS = ("named", "unnamed", "halves")


@pytest.fixture(scope="module")
def server(pg_server: pg_support.Server) -> pg_support.Server:
    pg_support.create_database(pg_server, DB)
    return pg_server


def project(tmp_path: Path, server: pg_support.Server, schema: str, files: dict[str, str]) -> Path:
    return pg_project(tmp_path, server, DB, schema, files, project={"dialect": "duckdb"})


def checked(root: Path) -> tuple[int, int, DialectErrors | None]:
    """The check before a run, in a command of its own: (queries translated, found in the cache, errors)."""
    with Project(root).session("run") as session:
        error = None
        try:
            check_dialects(session, session.select())
        except DialectErrors as exc:
            error = exc
        return session.dialects.translated, session.dialects.cache.hits, error


CHECK_ALONE = """
import sys
from modelkit.api.analysis import check_before_run
from modelkit.api.dialects import check_dialects
from modelkit.api.project import Project
with Project(sys.argv[1]).session("run") as session:
    check_dialects(session, session.select())
print("sqlglot" in sys.modules)
"""


def loads_sqlglot(root: Path) -> bool:
    """Whether the check before a run, in a process of its own, imports sqlglot."""
    done = subprocess.run([sys.executable, "-c", CHECK_ALONE, str(root)], capture_output=True, text=True, cwd=root)
    assert done.returncode == 0, done.stderr
    return {"True": True, "False": False}[done.stdout.split()[-1]]


def compiled(root: Path, name: str) -> str:
    return (root / f"target/compiled/demo/models/{name}.sql").read_text()


@pytest.mark.postgres
def test_a_second_run_translates_nothing(server: pg_support.Server, tmp_path: Path) -> None:
    root = project(tmp_path, server, "again", FILES)
    assert run_cli("seed", cwd=root).exit_code == 0
    first = run_cli("run", cwd=root)
    assert first.exit_code == 0, first.output
    written = {name: compiled(root, name) for name in MODELS}
    assert written["unnamed"].startswith("SELECT\n  named.id\nFROM")  # * EXCLUDE listed from the parent's columns
    assert (root / "target" / FILE_NAME).exists()
    assert checked(root) == (0, len(MODELS), None)  # every model's translation found, none translated
    assert not loads_sqlglot(root)

    again = run_cli("run", cwd=root)
    assert again.exit_code == 0, again.output
    assert {name: compiled(root, name) for name in MODELS} == written  # the same SQL, from the cache
    built = relations(server, DB, "again")
    assert {name: built.get(name) for name in ("people", *MODELS)} == {"people": "r", **dict.fromkeys(MODELS, "v")}


@pytest.mark.postgres
def test_a_parent_whose_columns_change_has_its_children_translated_again(
    server: pg_support.Server, tmp_path: Path
) -> None:
    root = project(tmp_path, server, "edited", FILES)
    assert run_cli("build", cwd=root).exit_code == 0
    assert "score" not in compiled(root, "unnamed")
    (root / "models/named.sql").write_text("select id, name, score from {{ ref('people') }}")
    # the parent's SQL changed; the child's did not, but the columns it reads did: both are translated
    translated, hits, error = checked(root)
    assert error is None and (translated, hits) == (2, 1)
    result = run_cli("run", cwd=root)
    assert result.exit_code == 0, result.output
    assert "score" in compiled(root, "unnamed")  # its * EXCLUDE lists the parent's new column
    assert checked(root) == (0, len(MODELS), None)


@pytest.mark.postgres
def test_a_cached_failure_is_still_reported(server: pg_support.Server, tmp_path: Path) -> None:
    files = {**FILES, "models/summed.sql": "select id, list_sum([score, 1]) as plus\nfrom {{ ref('people') }}"}
    root = project(tmp_path, server, "failing", files)
    outputs = []
    for _ in range(2):
        result = run_cli("build", cwd=root)
        assert result.exit_code == 2, result.output
        outputs.append(result.output)
        assert relations(server, DB, "failing") == {}  # nothing ran, not even the seed
    for out in outputs:
        assert "Compilation Error in model summed (models/summed.sql:1)" in out
        assert "PostgreSQL has no function list_sum() (a DuckDB function)." in out
        assert "1 node holds SQL that does not translate into PostgreSQL; nothing ran." in out
    translated, hits, error = checked(root)
    assert (translated, hits) == (0, len(MODELS) + 1)  # the failure too came from the cache
    assert error is not None and "list_sum()" in str(error)


@pytest.mark.postgres
@pytest.mark.parametrize(
    "content",
    [
        b"{not json",
        b"",
        b'{"version": "x", "entries": []}',
        b"[1, 2]",
    ],
)
def test_an_unreadable_cache_file_is_written_again(server: pg_support.Server, tmp_path: Path, content: bytes) -> None:
    root = project(tmp_path, server, "corrupt", FILES)
    assert run_cli("build", cwd=root).exit_code == 0
    path = root / "target" / FILE_NAME
    path.write_bytes(content)
    assert loads_sqlglot(root)  # everything translated again...
    data = jsonio.loads(path.read_bytes())  # ...and the file written anew
    assert isinstance(data["entries"], dict) and len(data["entries"]) >= len(MODELS)
    assert checked(root) == (0, len(MODELS), None)
    result = run_cli("run", cwd=root)
    assert result.exit_code == 0, result.output


@pytest.mark.postgres
def test_damaged_entries_are_translated_again(server: pg_support.Server, tmp_path: Path) -> None:
    """Entries of the right version whose contents are not what modelkit writes: each is a miss."""
    root = project(tmp_path, server, "damaged", FILES)
    assert run_cli("build", cwd=root).exit_code == 0
    path = root / "target" / FILE_NAME
    data: dict[str, Any] = jsonio.loads(path.read_bytes())
    damaged = [None, {"n": "x"}, {"n": "x", "r": [[1]], "v": {}}, {"n": "x", "r": [], "v": {"sql": 1}}]
    keys = list(data["entries"])
    for key, value in zip(keys, damaged * len(keys)):
        data["entries"][key] = value
    path.write_bytes(jsonio.dumps(data))
    translated, hits, error = checked(root)
    assert error is None and translated == len(MODELS) and hits == 0
    result = run_cli("run", cwd=root)
    assert result.exit_code == 0, result.output
    assert checked(root) == (0, len(MODELS), None)


# -- shapes as the cache keeps them (no server) -----------------------------------------------------
TYPES = ["INTEGER", "DOUBLE", "DECIMAL(10,2)", "VARCHAR", "TIMESTAMP", "INTEGER[]", "STRUCT(x INTEGER, y VARCHAR)"]


def test_a_shape_read_back_has_the_same_types_and_digest() -> None:
    names = [*(f"c{i}" for i in range(len(TYPES))), "unknown"]
    shape = Shape(names, [*(build(t, "duckdb") for t in TYPES), None], complete=False)
    again = Shape.from_json(jsonio.loads(jsonio.dumps(shape.to_json())))
    assert again.digest == shape.digest and again.complete is False
    assert [t.sql(dialect="duckdb") if t is not None else None for t in again.types] == [
        t.sql(dialect="duckdb") if t is not None else None for t in shape.types
    ]
    other = Shape([*names[:-1], "renamed"], shape.types, complete=False)
    assert other.digest != shape.digest


def test_written_types_are_built_only_when_asked_for(tmp_path: Path) -> None:
    """A seed's shape is known (and hashed) from its CSV without sqlglot; its types build as before."""
    (tmp_path / "people.csv").write_text("id,name,score,born\n1,Ann,2.5,2024-01-01\n")

    class Seed:
        original_file_path = "people.csv"
        root_path = str(tmp_path)
        config: dict[str, Any] = {"column_types": {"name": "text"}}

    shape = seed_shape(Seed(), tmp_path, "duckdb")  # type: ignore[arg-type]
    assert shape.specs == (
        ["sql", "INTEGER", "duckdb"],
        ["sql", "text", "duckdb"],
        ["sql", "DOUBLE", "duckdb"],
        ["sql", "DATE", "duckdb"],
    )
    digest = shape.digest
    assert [t.sql(dialect="postgres") for t in shape.types] == ["INT", "TEXT", "DOUBLE PRECISION", "DATE"]
    assert shape.digest == digest and shape.incomplete().specs == shape.specs


def test_schemas_shared_by_a_commands_queries_type_them_as_their_own_would() -> None:
    """The translation table again, every query typed with one pair of sqlglot schemas per source
    dialect (as a command types its models): the same SQL and findings as with schemas of its own."""
    shared = {source: Schemas(source) for source in ("duckdb", *SOURCES.values())}
    for sql, target, _ in CASES:
        source = SOURCES.get(target, "duckdb")
        alone = translated(sql, target, source)
        together = translate(sql, source, target, lookup, DEFAULTS, pretty=False, schemas=shared[source])
        assert (together.sql, together.findings, together.shape) == (alone.sql, alone.findings, alone.shape), sql
    assert {key for schemas in shared.values() for key in schemas.added} == {(*DEFAULTS, "t")}


# -- the check before a run: its SQL read again by the static analysis (embedded DuckDB) ------------------
def test_the_analysis_before_a_run_reads_the_dialect_checks_sql_of_pure_renders(tmp_path: Path) -> None:
    """A model whose render read nothing that can change before the run is not rendered again for the
    static analysis (the very string the dialect check compiled); one that reads the time is."""
    root = make_project(
        tmp_path,
        {
            "modelkit.yml": "name: demo\ndialect: postgres\n",
            "models/pure.sql": "select 7 / 2 as q",
            "models/timed.sql": "select '{{ run_started_at }}' as started",
        },
    )
    with Project(root).session("run") as session:
        nodes = {n.name: n for n in session.manifest.nodes.values()}
        check_dialects(session, session.select())
        compiler = session.compiler
        checked = {name: compiler.compiled[node.unique_id] for name, node in nodes.items()}
        assert checked["pure"] == "SELECT\n  7 // 2 AS q"  # translated for DuckDB
        assert compiler.compile_checked(nodes["pure"]) == checked["pure"] and compiler.checked_reused == 1
        assert compiler.compile_checked(nodes["timed"]) == checked["timed"] and compiler.checked_reused == 1
        assert compiler.compile_checked(nodes["pure"]) == checked["pure"] and compiler.checked_reused == 1  # once
    with Project(root).session("run") as session:
        check_dialects(session, session.select())
        check_before_run(session, "run", session.select())
        assert session.compiler.checked_reused == 1  # the analysis before a run: pure.sql, not rendered again
    result = run_cli("run", cwd=root)
    assert result.exit_code == 0, result.output
