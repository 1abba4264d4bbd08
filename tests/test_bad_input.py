"""Bad input, table-driven: each case spoils a built project and checks what modelkit says and keeps.

Every case starts from the same small project (``BASE_FILES``), built by a good run. The case writes its
files (and runs its ``setup``), runs one command, and then the suite checks: the exit code (2 for a project,
usage or environment error where nothing runs, 1 when a node fails), that the output names the file (and
line) in ``fragments``, that no Python traceback is printed, that what was built before is still there,
and that every artifact in target/ is whole. New features add a row to ``CASES``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from bad_input_support import (
    BASE_FILES,
    Case,
    Fixtures,
    artifacts_whole,
    run_subprocess,
    tables,
    write,
)
from conftest import run_cli

SECRET = "s3cr3t-value-4711"
PROFILE = """
demo:
  target: dev
  outputs:
    dev:
      type: duckdb
      path: "{path}"
"""


def _profile(path: str) -> str:
    return PROFILE.format(path=path)


def _use_profile(root: Path, path: str) -> None:
    write(root, {"modelkit.yml": "name: demo\nprofile: demo\n", "profiles.yml": _profile(path)})


def _target_is_a_file(root: Path, fx: Fixtures) -> None:
    for path in sorted((root / "target").rglob("*"), reverse=True):
        path.rmdir() if path.is_dir() else path.unlink()
    (root / "target").rmdir()
    (root / "target").write_text("not a folder\n")


def _target_read_only(root: Path, fx: Fixtures) -> None:
    fx.mount(root / "target", "4m")
    fx.remount_read_only(root / "target")


def _target_full(root: Path, fx: Fixtures) -> dict[str, str]:
    before = (root / "target" / "manifest.json").read_bytes()
    fx.mount(root / "target", "1m")
    (root / "target" / "manifest.json").write_bytes(before)
    fx.fill(root / "target")
    return {}


def _database_full(root: Path, fx: Fixtures) -> None:
    fx.mount(root / "small", "3m")
    write(root, {"modelkit.yml": BASE_FILES["modelkit.yml"].replace("warehouse.duckdb", "small/w.duckdb")})
    assert run_cli("run", cwd=root).exit_code == 0
    write(root, {"models/big.sql": "select range as id, repeat(md5(range::varchar), 20) as t from range(2000000)"})


def _secret_database_path(root: Path, fx: Fixtures) -> None:
    (root / f"in-the-way-{SECRET}").write_text("a file, not a folder\n")
    _use_profile(root, "{{ env_var('DBT_ENV_SECRET_DIR') }}/sub/w.duckdb")


def _locked(root: Path, fx: Fixtures) -> dict[str, str]:
    return {"pid": str(fx.hold_lock(root / "warehouse.duckdb"))}


def _not_a_database(root: Path, fx: Fixtures) -> None:
    (root / "junk.duckdb").write_text("this is not a database\n" * 100)
    _use_profile(root, str(root / "junk.duckdb"))


def _nothing_outside_target(root: Path) -> None:
    stray = [p for p in root.parent.rglob("evil*") if "target" not in p.relative_to(root.parent).parts]
    assert stray == []


def _serve_needs_a_site(root: Path, fx: Fixtures) -> None:
    (root / "target" / "index.html").unlink(missing_ok=True)


MACRO = "{% macro boom() %}\n  {{ exceptions.raise_compiler_error('bad thing') }}\n{% endmacro %}\n"

CASES = [
    # -- located errors -------------------------------------------------------------------------------------
    Case(
        "macro_error_names_model_and_macro",
        {"macros/boom.sql": MACRO, "models/bad.sql": "select 2 as b\n\n-- {{ boom() }}\n"},
        fragments=("macros/boom.sql:2", "called from models/bad.sql:3", "bad thing", "model bad"),
    ),
    Case(
        "macro_error_at_run_time_names_model_and_macro",
        {"macros/boom.sql": MACRO, "models/bad.sql": "select 2 as b\n{% if execute %}{{ boom() }}{% endif %}\n"},
        exit_code=1,
        fragments=("macros/boom.sql:2", "called from models/bad.sql:2", "bad thing"),
    ),
    Case(
        "duplicate_top_level_key_in_properties",
        {"models/schema.yml": "models:\n  - name: first\n    description: one\nmodels:\n  - name: first\n"},
        fragments=("models/schema.yml:4", "duplicate key 'models' (first at line 1"),
    ),
    Case(
        "duplicate_nested_key_in_properties",
        {"models/schema.yml": "models:\n  - name: first\n    description: a\n    description: b\n"},
        fragments=("models/schema.yml:4", "duplicate key 'description'"),
    ),
    Case(
        "duplicate_key_in_project_file",
        {"modelkit.yml": BASE_FILES["modelkit.yml"] + "name: other\n"},
        fragments=("modelkit.yml:7", "duplicate key 'name'"),
    ),
    Case(
        "duplicate_key_in_dbt_project_yml",
        {"dbt_project.yml": "name: demo\nconnection: {path: warehouse.duckdb}\nvars: {a: 1}\nvars: {a: 2}\n"},
        setup=lambda root, fx: (root / "modelkit.yml").unlink(),
        fragments=("dbt_project.yml:4", "duplicate key 'vars'"),
    ),
    Case(
        "duplicate_key_in_profiles_yml",
        setup=lambda root, fx: _use_profile(root, "warehouse.duckdb"),
        files={"profiles.yml": _profile("warehouse.duckdb") + "    dev:\n      type: duckdb\n"},
        args=("run", "--profiles-dir", "{root}"),
        fragments=("profiles.yml:7", "duplicate key 'dev'"),
    ),
    Case(
        "model_file_not_utf8",
        {"models/latin.sql": b"select 1 as id\n-- caf\xe9\n"},
        fragments=("models/latin.sql:2", "not valid UTF-8", "0xe9"),
    ),
    Case(
        "property_file_not_utf8",
        {"models/schema.yml": b"models:\n  - name: first\n    description: caf\xe9\n"},
        fragments=("models/schema.yml:3", "not valid UTF-8"),
    ),
    Case(
        "failing_model_keeps_the_others",
        {"models/bad.sql": "select * from no_such_table\n"},
        exit_code=1,
        fragments=("models/bad.sql", "no_such_table"),
    ),
    Case(
        "unknown_ref",
        {"models/bad.sql": "select *\nfrom {{ ref('frist') }}\n"},
        fragments=("models/bad.sql:2", "Did you mean 'first'?"),
    ),
    Case("unknown_flag", args=("run", "--no-such-flag"), fragments=("No such option",)),
    # -- the file system --------------------------------------------------------------------------------------
    Case("target_is_a_file", setup=_target_is_a_file, fragments=("File Error", "target is a file")),
    Case("target_read_only", setup=_target_read_only, fragments=("File Error", "target", "read-only")),
    Case("target_disk_full", setup=_target_full, fragments=("File Error", "no space left on the device")),
    Case(
        "database_disk_full",
        setup=_database_full,
        exit_code=1,
        database="small/w.duckdb",
        fragments=("models/big.sql", "No space left on device"),
    ),
    Case(
        "database_path_through_a_file",
        {"modelkit.yml": BASE_FILES["modelkit.yml"].replace("warehouse.duckdb", "in-the-way/w.duckdb")},
        setup=lambda root, fx: (root / "in-the-way").write_text("a file\n"),
        fragments=("File Error", "in-the-way is a file, where a folder is needed"),
    ),
    # -- the database -----------------------------------------------------------------------------------------
    Case(
        "database_locked_by_another_process",
        setup=_locked,
        fragments=("Connection Error", "warehouse.duckdb", "in use by another process", "PID {pid}"),
        absent=("Parsing Error",),
    ),
    Case(
        "database_file_not_duckdb",
        setup=_not_a_database,
        args=("run", "--profiles-dir", "{root}"),
        fragments=("Connection Error", "junk.duckdb", "not a DuckDB database"),
        absent=("Parsing Error",),
    ),
    # -- hostile input ----------------------------------------------------------------------------------------
    Case(
        "secret_in_a_database_path",
        setup=_secret_database_path,
        args=("run", "--profiles-dir", "{root}"),
        env={"DBT_ENV_SECRET_DIR": "{root}/in-the-way-" + SECRET},
        fragments=("File Error", "*****"),
        absent=(SECRET,),
    ),
    Case(
        "jinja_sandbox_refuses_class",
        {"models/evil.sql": "select 1 as id\n-- {{ ''.__class__.__mro__ }}\n"},
        fragments=("models/evil.sql:2", "'__class__'", "unsafe"),
    ),
    Case(
        "jinja_sandbox_refuses_subclasses",
        {"models/evil.sql": "select 1 as id\n-- {{ [].__class__.__base__.__subclasses__() }}\n"},
        fragments=("models/evil.sql:2", "unsafe"),
    ),
    Case(
        "jinja_sandbox_refuses_globals",
        {"models/evil.sql": "select 1 as id\n\n-- {{ ref.__globals__ }}\n"},
        fragments=("models/evil.sql:3", "'__globals__'", "unsafe"),
    ),
    Case(
        "jinja_sandbox_refuses_mro",
        {"models/evil.sql": "{% set t = modules.datetime.datetime %}\nselect 1 as id -- {{ t.mro() }}\n"},
        fragments=("models/evil.sql:2", "'mro'", "unsafe"),
    ),
    Case(
        "jinja_sandbox_refuses_modules_of_modules",
        # dbt's modules are mappings of what it exports: re's own imports (enum, sys) are not reachable
        {"models/evil.sql": "select '{{ modules.re.enum.sys.modules['os'].getcwd() }}' as id\n"},
        fragments=("models/evil.sql:1", "'enum'"),
        exit_code=1,  # an undefined attribute, found when the model compiles (a node error, as in dbt)
    ),
    Case(
        "test_name_cannot_leave_target",
        {
            "models/schema.yml": """
                models:
                  - name: first
                    columns:
                      - name: id
                        data_tests:
                          - not_null:
                              name: ../../../../../evil
                """
        },
        args=("build",),
        exit_code=1,
        fragments=("outside", "evil"),
        check=_nothing_outside_target,
    ),
    Case(
        "alias_cannot_leave_target",
        {"models/sneaky.sql": "{{ config(alias='../../evil') }}\nselect 1 as id\n"},
        exit_code=0,
        check=_nothing_outside_target,
    ),
    Case(
        "docs_serve_takes_profiles_dir",
        setup=_serve_needs_a_site,
        args=("docs", "serve", "--profiles-dir", "{root}", "--port", "0"),
        fragments=("run `modelkit docs generate` first",),
        absent=("No such option",),
    ),
    # -- odd but valid ------------------------------------------------------------------------------------------
    Case(
        "byte_order_mark_and_crlf",
        {
            "models/second.sql": b'\xef\xbb\xbf{{ config(materialized="table") }}\r\nselect 2 as id\r\n-- done\r\n',
            "models/schema.yml": b"\xef\xbb\xbfmodels:\r\n  - name: second\r\n    columns:\r\n"
            b"      - name: id\r\n        data_tests: [not_null]\r\n",
        },
        args=("build",),
        exit_code=0,
        tables={"first": [(1,)], "second": [(2,)]},
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input(case: Case, tmp_path: Path) -> None:
    root = tmp_path / "demo"
    write(root, BASE_FILES)
    first = run_cli("run", cwd=root)
    assert first.exit_code == 0, first.output
    fixtures = Fixtures()
    try:
        values = {"root": str(root)}
        if case.setup is not None:
            extra = case.setup(root, fixtures)
            values.update(extra if isinstance(extra, dict) else {})
        write(root, case.files)
        args = [a.format(**values) for a in case.args]
        env = {k: v.format(**values) for k, v in case.env.items()}
        if case.subprocess:
            code, output = run_subprocess(root, args, env)
        else:
            result = run_cli(*args, cwd=root, env=env)
            code, output = result.exit_code, result.output
        assert code == case.exit_code, output
        for fragment in case.fragments:
            assert fragment.format(**values) in output, f"{fragment!r} not in:\n{output}"
        for fragment in case.absent:
            assert fragment.format(**values) not in output, f"{fragment!r} in:\n{output}"
        assert "Traceback" not in output
        if case.check is not None:
            case.check(root)
        artifacts_whole(root / "target")
        fixtures.release_locks()
        assert tables(root / case.database, case.tables) == dict(case.tables)
    finally:
        fixtures.close()
