"""Static analysis through the CLI: each SQL snippet compiled in one project gives the expected
diagnostic (severity, line of the model's file, message) or none; errors stop run and build before
anything is built; the cache, the worker process and the modes behave."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import SAMPLE_PROJECT, embedded_db, make_project, query, run_cli
from genproject import generate

SEEDS = {
    "seeds/people.csv": "id,name,joined_on,score\n1,Ann,2024-01-01,3.5\n2,Bob,2024-02-01,4\n",
    "seeds/orders.csv": "id,person_id,amount,status\n10,1,5.5,paid\n11,2,7,open\n",
    "models/sources.yml": """
        version: 2
        sources:
          - name: raw
            schema: main
            tables:
              - name: events
                columns:
                  - {name: event_id, data_type: integer}
                  - {name: person_id, data_type: integer}
                  - {name: kind, data_type: varchar}
              - name: loose
        models:
          - name: contracted
            config:
              contract: {enforced: true}
            columns:
              - {name: id, data_type: integer}
              - {name: label, data_type: varchar}
    """,
    "models/contracted.sql": "select 1 as id, 'x' as label",
    "models/upstream.sql": "select id, name as person_name from {{ ref('people') }}",
    "models/staged_events.sql": "select * from {{ source('raw', 'events') }}",
    "models/eph.sql": "{{ config(materialized='ephemeral') }}\nselect id as pid, name from {{ ref('people') }}",
}

# (model, SQL, expected: None or (severity, line, message fragment))
CASES = [
    ("unknown_column", "select id, nme from {{ ref('people') }}",
     ("warn", 1, "Column 'nme' is not a column of seed people. Did you mean 'name'?")),
    ("qualified_unknown", "select p.id,\n    p.amout\nfrom {{ ref('orders') }} as p",
     ("warn", 2, "Column 'amout' is not a column of seed orders (p). Did you mean 'amount'?")),
    ("ambiguous", "select id\nfrom {{ ref('people') }} p\njoin {{ ref('orders') }} o on o.person_id = p.id",
     ("warn", 1, "Column 'id' is ambiguous: seed people and seed orders both have it")),
    ("using_is_not_ambiguous", "select id from {{ ref('people') }} join {{ ref('orders') }} using (id)", None),
    ("unknown_relation", "select a\nfrom analytics.raw_stuff",
     ("warn", 2, "'analytics.raw_stuff' is not a relation of the project")),
    ("bypasses_ref", "select id from {{ target.schema }}.people",
     ("warn", 1, "is seed people, read without ref() or source()")),
    ("star_of_unknown_shape", "select * from {{ source('raw', 'loose') }}",
     ("info", 1, "'*' selects the columns of source raw.loose, which are not known before it runs")),
    ("typed_source", "select event_id, kindd from {{ source('raw', 'events') }}",
     ("warn", 1, "Column 'kindd' is not among the declared columns of source raw.events. Did you mean 'kind'?")),
    ("through_a_source_star", "select kindd from {{ ref('staged_events') }}",  # the YAML may leave columns out
     ("warn", 1, "Column 'kindd' is not among the declared columns of model staged_events. Did you mean 'kind'?")),
    ("untyped_source_is_skipped", "select anything from {{ source('raw', 'loose') }}", None),
    ("incompatible_comparison", "select id\nfrom {{ ref('people') }}\nwhere joined_on > 5",
     ("warn", 3, "'joined_on > 5' compares temporal with numeric values")),
    ("text_literal_compares", "select id from {{ ref('people') }} where joined_on > '2024-01-15'", None),
    ("union_arity", "select id from {{ ref('people') }}\nunion all\nselect id, amount from {{ ref('orders') }}",
     ("warn", 3, "UNION of queries with different numbers of columns: 1 and 2")),
    ("unparseable", "select id from {{ ref('people') }} where (id", ("info", None, "not analysed: sqlglot could not parse")),
    ("strict_unresolved", "{{ config(static_analysis='strict') }}\nselect anything from {{ source('raw', 'loose') }}",
     ("error", 2, "Column 'anything' cannot be resolved: the columns of source raw.loose are not all known")),
    ("strict_star", "{{ config(static_analysis='strict') }}\nselect * from {{ source('raw', 'loose') }}",
     ("error", 2, "'*' selects the columns of source raw.loose")),
    ("off", "{{ config(static_analysis='off') }}\nselect nope from {{ ref('people') }}", None),
    ("downstream_model", "select person_nme from {{ ref('upstream') }}",
     ("warn", 1, "Column 'person_nme' is not a column of model upstream. Did you mean 'person_name'?")),
    ("through_cte_and_ephemeral", "with x as (\n    select * from {{ ref('eph') }}\n)\nselect x.pid, x.nam from x",
     ("warn", 4, "Column 'nam' is not a column of CTE x. Did you mean 'name'?")),
    ("contract_columns", "select lable from {{ ref('contracted') }}",
     ("warn", 1, "Column 'lable' is not a column of model contracted. Did you mean 'label'?")),
    ("jinja_loop", "select\n    id,\n    {% for c in ['name', 'scor'] %}\n    {{ c }},\n    {% endfor %}\n"
     "    joined_on\nfrom {{ ref('people') }}",
     ("warn", 3, "Column 'scor' is not a column of seed people. Did you mean 'score'?")),
    ("correlated_subquery", "select id from {{ ref('people') }} p\nwhere exists (select 1 from {{ ref('orders') }} o "
     "where o.person_id = p.id and status = 'paid')", None),
    ("alias_in_where", "select amount * 2 as twice from {{ ref('orders') }} where twice > 1", None),
    ("case_insensitive", "select ID, Name from {{ ref('people') }}", None),
    ("derived_table", "select t.total from (select sum(amount) as total from {{ ref('orders') }}) t", None),
    ("lambda_and_struct", "select list_transform([1, 2], x -> x + id) as l, {'k': name} as s from {{ ref('people') }}",
     None),
]  # fmt: skip

DIAGNOSTIC = re.compile(r"(\[WARNING\]: )?Static analysis of model (\w+) \(models/[\w/]+\.sql(?::(\d+))?\): (.*)")
ERROR = re.compile(r"Compilation Error in model (\w+) \(models/[\w/]+\.sql(?::(\d+))?\)")


def diagnostics(output: str) -> dict[str, list[tuple[str, int | None, str]]]:
    """Diagnostics by model: (severity, line, message), from the console output."""
    lines = [re.sub(r"^\d\d:\d\d:\d\d  ", "", line) for line in output.splitlines()]
    found: dict[str, list[tuple[str, int | None, str]]] = {}
    for i, line in enumerate(lines):
        match = DIAGNOSTIC.search(line)
        if match:
            severity = "warn" if match.group(1) else "info"
            found.setdefault(match.group(2), []).append(
                (severity, int(match.group(3)) if match.group(3) else None, match.group(4))
            )
            continue
        match = ERROR.search(line)
        if match:
            line_no = int(match.group(2)) if match.group(2) else None
            found.setdefault(match.group(1), []).append(("error", line_no, lines[i + 1].strip()))
    return found


@pytest.fixture(scope="module")
def compiled(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, dict[str, list[tuple[str, int | None, str]]]]:
    files = dict(SEEDS)
    files.update({f"models/{name}.sql": sql for name, sql, _ in CASES})
    root = make_project(tmp_path_factory.mktemp("analysis") / "demo", files)
    result = run_cli("compile", cwd=root)
    return result.exit_code, diagnostics(result.output)


@pytest.mark.parametrize(("model", "sql", "expected"), CASES, ids=[c[0] for c in CASES])
def test_snippet_gives_its_diagnostic(compiled, model: str, sql: str, expected) -> None:
    exit_code, found = compiled
    assert exit_code == 2  # some snippets have errors
    got = found.get(model, [])
    if expected is None:
        assert got == []
        return
    severity, line, fragment = expected
    assert any(s == severity and n == line and fragment in m for s, n, m in got), got


def test_nothing_else_is_reported(compiled) -> None:
    """The upstream models, the contract and the ephemeral model are clean; each snippet says one thing
    (the star of an unknown relation also tells that the relation is unknown)."""
    _, found = compiled
    assert set(found) <= {name for name, _, expected in CASES if expected is not None}
    for name, messages in found.items():
        assert len(messages) == 1, (name, messages)


def project(tmp_path: Path, models: dict[str, str]) -> Path:
    return make_project(tmp_path / "demo", {**SEEDS, **models})


def test_an_error_stops_run_and_build_before_anything_is_built(tmp_path: Path) -> None:
    root = project(tmp_path, {"models/good.sql": "select id from {{ ref('people') }}",
                              "models/bad.sql": "{{ config(static_analysis='strict') }}\n"
                                                "select id, nme from {{ ref('people') }}"})  # fmt: skip
    for command in ("run", "build"):
        out = run_cli(command, cwd=root)
        assert out.exit_code == 2, out.output
        assert "START" not in out.output
        assert "Compilation Error in model bad (models/bad.sql:2)" in out.output
        assert "Static analysis found 1 error before anything ran" in out.output
    assert not embedded_db(root).exists() or not query(
        embedded_db(root), "select * from information_schema.tables where table_name in ('good', 'people')"
    )
    out = run_cli("run", "--static-analysis", "off", "-s", "good", cwd=root)  # the flag wins over every node
    assert out.exit_code == 1 and "ERROR creating sql view model main.good" in out.output  # people is not seeded


def test_warnings_do_not_stop_a_build(tmp_path: Path) -> None:
    root = project(tmp_path, {"models/m.sql": "select id from {{ ref('people') }} where joined_on > 5"})
    out = run_cli("build", "-s", "+m", cwd=root)
    assert "[WARNING]: Static analysis of model m (models/m.sql:1): 'joined_on > 5' compares temporal" in out.output
    assert "OK created sql view model main.m" in out.output or "ERROR creating sql view model main.m" in out.output
    assert out.output.index("[WARNING]: Static analysis") < out.output.index("START seed")


@pytest.mark.parametrize(
    ("flags", "stops"),
    [
        (("--warn-error",), True),
        (("--warn-error-options", '{"error": ["StaticAnalysisWarning"]}'), True),
        (("--warn-error-options", '{"error": "all", "warn": ["StaticAnalysisWarning"]}'), False),
        (("--warn-error-options", '{"error": ["LogTestResult"]}'), False),
    ],
)
def test_warn_error_makes_analysis_warnings_errors(tmp_path: Path, flags: tuple[str, ...], stops: bool) -> None:
    root = project(tmp_path, {"models/m.sql": "select id, nme from {{ ref('people') }}"})
    out = run_cli(*flags, "build", cwd=root)
    if stops:
        assert out.exit_code == 2, out.output
        assert "START" not in out.output
        assert "Compilation Error in model m (models/m.sql:1)" in out.output
        assert "Did you mean 'name'?" in out.output and "[WARNING]: Static analysis" not in out.output
    else:
        assert "[WARNING]: Static analysis of model m (models/m.sql:1)" in out.output
        assert "START seed" in out.output


def test_a_bad_mode_is_a_project_error(tmp_path: Path) -> None:
    root = project(tmp_path, {"models/m.sql": "select 1 as id"})
    (root / "modelkit.yml").write_text("name: demo\nmodels:\n  demo:\n    +static_analysis: loud\n")
    out = run_cli("compile", cwd=root)
    assert out.exit_code == 2
    assert "static_analysis must be one of strict, on, off; got 'loud'" in out.output


def test_project_and_folder_config_set_the_mode(tmp_path: Path) -> None:
    root = project(tmp_path, {"models/loose/m.sql": "select anything from {{ source('raw', 'loose') }}"})
    (root / "modelkit.yml").write_text("name: demo\nmodels:\n  demo:\n    +static_analysis: strict\n")
    assert "cannot be resolved" in run_cli("compile", cwd=root).output
    (root / "modelkit.yml").write_text(
        "name: demo\nmodels:\n  demo:\n    +static_analysis: strict\n    loose:\n      +static_analysis: off\n"
    )
    out = run_cli("compile", cwd=root)
    assert out.exit_code == 0 and "Static analysis" not in out.output
    (root / "modelkit.yml").write_text(
        "name: demo\nmodels:\n  demo:\n    +static_analysis: baseline\n"
    )  # Fusion's name
    assert run_cli("compile", cwd=root).exit_code == 0


def test_the_cache_is_used_until_what_a_model_reads_changes(tmp_path: Path) -> None:
    root = project(tmp_path, {"models/m.sql": "select person_name from {{ ref('upstream') }}"})
    first = run_cli("compile", "--log-level", "debug", cwd=root)
    assert first.exit_code == 0 and "Static analysis: 4 nodes analysed, 0 from the cache" in first.output
    second = run_cli("compile", "--log-level", "debug", cwd=root)
    assert "Static analysis: 0 nodes analysed, 4 from the cache" in second.output
    (root / "seeds" / "people.csv").write_text("id,full_name\n1,Ann\n")  # upstream now breaks, and m with it
    third = run_cli("compile", "--log-level", "debug", cwd=root)
    assert third.exit_code == 0  # under `on`, a warning
    assert "Column 'name' is not a column of seed people. Did you mean 'full_name'?" in third.output
    # upstream and m are analysed again; contracted and staged_events read no seed
    assert "Static analysis: 2 nodes analysed, 2 from the cache" in third.output
    fourth = run_cli("compile", "--log-level", "debug", cwd=root)  # what was analysed again was kept
    assert "Static analysis: 0 nodes analysed, 4 from the cache" in fourth.output
    (root / "models" / "m.sql").write_text("select person_name as who from {{ ref('upstream') }}")
    fifth = run_cli("compile", "--log-level", "debug", cwd=root)
    assert "Static analysis: 1 node analysed, 3 from the cache" in fifth.output


def test_a_damaged_cache_entry_is_analysed_again(tmp_path: Path) -> None:
    """Entries are parsed only when looked up: one that does not parse is analysed again, not an error."""
    root = project(tmp_path, {"models/m.sql": "select person_name from {{ ref('upstream') }}"})
    assert run_cli("compile", cwd=root).exit_code == 0
    path = root / "target" / "static_analysis.json"
    data = json.loads(path.read_text())
    keys = sorted(data["entries"])
    data["entries"][keys[0]] = [data["entries"][keys[0]][0], "{not json"]
    data["entries"][keys[1]] = "not an entry"
    path.write_text(json.dumps(data))
    again = run_cli("compile", "--log-level", "debug", cwd=root)
    assert again.exit_code == 0 and "Static analysis: 2 nodes analysed, 2 from the cache" in again.output
    data = json.loads(path.read_text())  # written again whole
    assert all(isinstance(v, list) and json.loads(v[1]) for v in data["entries"].values())
    third = run_cli("compile", "--log-level", "debug", cwd=root)
    assert "Static analysis: 0 nodes analysed, 4 from the cache" in third.output


def test_a_failing_analysis_leaves_the_model_not_analysed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from modelkit.analysis import checks

    def broken(self, root):
        raise RuntimeError("boom")

    monkeypatch.setattr(checks.Checker, "run", broken)
    root = project(tmp_path, {"models/m.sql": "select id from {{ ref('people') }}"})
    out = run_cli("compile", cwd=root)
    assert out.exit_code == 0
    assert (
        "Static analysis of model m (models/m.sql): not analysed: the analysis failed (RuntimeError: boom)"
        in out.output
    )
    assert "Traceback" not in out.output
    out = run_cli("compile", "--debug", cwd=root)
    assert "Traceback" in out.output and "RuntimeError: boom" in out.output


def test_a_template_that_runs_statements_is_not_run_twice(tmp_path: Path) -> None:
    """Compiling ahead of a run may read metadata (is_incremental) but runs no statement."""
    root = project(tmp_path, {
        "models/counter.sql": "{{ config(materialized='table') }}select 0 as n",
        "models/bump.sql": "{% do run_query('insert into ' ~ ref('counter') ~ ' values (1)') %}"
                           "select n from {{ ref('counter') }}",
    })  # fmt: skip
    assert run_cli("run", "-s", "counter", cwd=root).exit_code == 0
    out = run_cli("run", "-s", "bump", cwd=root)
    assert out.exit_code == 0, out.output
    assert "Static analysis of model bump (models/bump.sql): not analysed: its template runs statements" in out.output
    assert query(embedded_db(root), "select count(*) from main.counter") == [(2,)]  # one insert, not two


@pytest.mark.parametrize("worker", [False, True])
def test_compiling_a_selection_runs_no_statement_of_what_it_reads(tmp_path: Path, monkeypatch, worker: bool) -> None:
    """`compile -s after` analyses `bump` (which `after` reads) without running its statement."""
    import modelkit.analysis.pipeline as pipeline

    monkeypatch.setattr(pipeline, "use_worker", lambda count, busy=0: worker)
    root = project(tmp_path, {
        "models/counter.sql": "{{ config(materialized='table') }}select 0 as n",
        "models/bump.sql": "{% do run_query('insert into ' ~ ref('counter') ~ ' values (1)') %}"
                           "select n from {{ ref('counter') }}",
        "models/after.sql": "select n from {{ ref('bump') }}",
    })  # fmt: skip
    assert run_cli("run", "-s", "counter", cwd=root).exit_code == 0
    out = run_cli("compile", "-s", "after", cwd=root)
    assert out.exit_code == 0, out.output
    assert query(embedded_db(root), "select count(*) from main.counter") == [(1,)]


def test_the_sample_project_and_a_generated_project_have_no_findings(tmp_path: Path, monkeypatch) -> None:
    """No false positives; and the analysis on a worker process (many models) finds the same as in this
    process: one planted error, at its line."""
    import modelkit.analysis.pipeline as pipeline

    shop = tmp_path / "shop"
    shutil.copytree(SAMPLE_PROJECT, shop, ignore=shutil.ignore_patterns("target", "logs"))
    for mode in ("on", "strict"):
        out = run_cli("compile", "--static-analysis", mode, cwd=shop)
        assert out.exit_code == 0 and "Static analysis" not in out.output, out.output
    generated = generate(240, tmp_path / "bench", seed_rows=20)
    root = generated.root
    out = run_cli("compile", "--static-analysis", "strict", "--profiles-dir", str(root), cwd=root)
    assert out.exit_code == 0 and "Static analysis" not in out.output, out.output
    victim = next(m for m in generated.models if m.kind == "accounts")
    path = root / "models" / victim.folder / f"{victim.name}.sql"
    text = path.read_text().replace("tier,", "tierr,")
    path.write_text(text)
    line = next(i for i, words in enumerate(text.splitlines(), 1) if "tierr" in words)
    shown = f"Compilation Error in model {victim.name} (models/{victim.folder}/{victim.name}.sql:{line})"
    results = []
    for worker in (True, False):  # on the worker, then here
        monkeypatch.setattr(pipeline, "use_worker", lambda count, busy=0, worker=worker: worker)
        (root / "target" / "static_analysis.json").unlink(missing_ok=True)
        out = run_cli(
            "compile", "--static-analysis", "strict", "--log-level", "debug", "--profiles-dir", str(root), cwd=root
        )
        assert out.exit_code == 2 and shown in out.output, out.output[-3000:]
        assert ("on a worker process)" in out.output) == worker
        assert "Column 'tierr' is not a column of seed raw_accounts. Did you mean 'tier'?" in out.output
        results.append(diagnostics(out.output))
    assert results[0] == results[1] and victim.name in results[0]


def test_a_run_finds_unchanged_models_in_the_cache_without_rendering_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After a build, a model whose SQL is made from what it was made from (see --skip-unchanged) is found
    in the analysis cache by the SQL hash the build recorded; one with a finding is rendered, to report
    the finding's line."""
    from modelkit.render.compiler import Compiler

    root = project(
        tmp_path,
        {
            "models/clean.sql": "select id, name from {{ ref('people') }}",
            "models/warned.sql": "select id\nfrom main.people",
        },
    )
    assert run_cli("seed", cwd=root).exit_code == 0
    assert run_cli("run", "-s", "clean", "warned", cwd=root).exit_code == 0
    rendered: list[str] = []
    render = Compiler._render

    def recording(self, node, event_time=None):
        rendered.append(node.name)
        return render(self, node, event_time)

    monkeypatch.setattr(Compiler, "_render", recording)
    for args in (("run", "--skip-unchanged"), ("compile",)):
        rendered.clear()
        out = run_cli(*args, "-s", "clean", "warned", "--log-level", "debug", cwd=root)
        assert out.exit_code == 0, out.output
        assert "Static analysis: 0 nodes analysed, 2 from the cache" in out.output
        assert "Static analysis of model warned (models/warned.sql:2): " in out.output
        assert "is seed people, read without ref() or source()" in out.output
        if args[0] == "run":
            assert rendered == ["warned"]  # clean: neither analysed nor built from a new render
        else:
            assert sorted(rendered) == ["clean", "warned"]  # compile renders what it selects
    (root / "models" / "clean.sql").write_text("select id, nme from {{ ref('people') }}")
    out = run_cli("run", "--skip-unchanged", "-s", "clean", cwd=root)
    assert "Column 'nme' is not a column of seed people" in out.output  # an edit: analysed again


def _analysed(output: str) -> tuple[int, int]:
    """(nodes analysed, of which on the worker process) from the debug line."""
    found = re.search(r"Static analysis: (\d+) nodes? analysed(?: \((\d+) on a worker process\))?", output)
    assert found is not None, output[-2000:]
    return int(found[1]), int(found[2] or 0)


@pytest.mark.parametrize("command", ["compile", "run"])
def test_this_process_and_the_worker_share_the_checks(tmp_path: Path, monkeypatch, command: str) -> None:
    """With a worker, this process checks what the worker has not been given yet: both check some, every
    node is checked once, and the findings are the same as without a worker, in the same order."""
    import modelkit.analysis.pipeline as pipeline

    generated = generate(240, tmp_path / "bench", seed_rows=20)
    root = generated.root
    assert run_cli("seed", "--profiles-dir", str(root), cwd=root).exit_code == 0
    for victim in [m for m in generated.models if m.kind == "accounts"][:3]:
        path = root / "models" / victim.folder / f"{victim.name}.sql"
        path.write_text(path.read_text().replace("tier,", "tierr,"))
    outputs = {}
    for worker in (True, False):
        monkeypatch.setattr(pipeline, "use_worker", lambda count, busy=0, worker=worker: worker)
        (root / "target" / "static_analysis.json").unlink(missing_ok=True)
        out = run_cli(
            command, "--static-analysis", "strict", "--log-level", "debug", "--profiles-dir", str(root), cwd=root
        )
        assert out.exit_code == 2, out.output[-3000:]
        analysed, on_worker = _analysed(out.output)
        if worker:
            assert 0 < on_worker < analysed, (analysed, on_worker)
        else:
            assert on_worker == 0
        outputs[worker] = (analysed, list(diagnostics(out.output).items()))  # in the order reported
    assert outputs[True] == outputs[False]
    found = [m for _, reported in outputs[True][1] for _, _, m in reported if "Column 'tierr' is not a column" in m]
    assert len(found) == 3


def test_a_worker_that_does_not_start_leaves_its_jobs_here(tmp_path: Path, monkeypatch) -> None:
    """The worker process failing (here: it cannot start) only costs time: every node is checked here."""
    import modelkit.analysis.pipeline as pipeline

    generated = generate(240, tmp_path / "bench", seed_rows=20)
    root = generated.root
    victim = next(m for m in generated.models if m.kind == "accounts")
    path = root / "models" / victim.folder / f"{victim.name}.sql"
    path.write_text(path.read_text().replace("tier,", "tierr,"))
    monkeypatch.setattr(pipeline, "use_worker", lambda count, busy=0: True)
    monkeypatch.setattr(pipeline, "WORKER_MODULE", "modelkit.analysis.no_such_worker")
    out = run_cli(
        "compile", "--static-analysis", "strict", "--log-level", "debug", "--profiles-dir", str(root), cwd=root
    )
    assert out.exit_code == 2, out.output[-3000:]
    analysed, on_worker = _analysed(out.output)
    assert on_worker == 0 and analysed > 200
    assert "Column 'tierr' is not a column of seed raw_accounts" in out.output


def test_a_core_is_spare_only_when_nothing_else_runs() -> None:
    import modelkit.analysis.pipeline as pipeline

    others = pipeline.running_others()
    assert others is None or others >= 0
    assert pipeline.use_worker(pipeline.WORKER_THRESHOLD - 1) is False


def _children() -> set[int]:
    """This process's child processes (Linux)."""
    found: set[int] = set()
    for task in Path(f"/proc/{os.getpid()}/task").iterdir():
        text = (task / "children").read_text()
        found |= {int(pid) for pid in text.split()}
    return found


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads /proc")
def test_a_worker_started_early_and_not_needed_is_stopped(tmp_path: Path, monkeypatch) -> None:
    """With a spare core, compile and run start a worker process before parsing, which checks what is
    not in the cache; when everything is (the second compile), it is stopped unused. Either way nothing
    is left running."""
    import modelkit.analysis.pipeline as pipeline

    monkeypatch.setattr(pipeline, "use_worker", lambda count, busy=0: True)
    root = project(tmp_path, {"models/m.sql": "select person_name from {{ ref('upstream') }}"})
    before = _children()
    expected = [True, False, False]  # the build finds every node the compile analysed in the cache
    for command, used in zip((["compile"], ["build", "--exclude", "staged_events"], ["compile"]), expected):
        out = run_cli(*command, "--log-level", "debug", cwd=root)
        assert out.exit_code == 0, out.output
        assert ("on a worker process" in out.output) == used, out.output
        assert _children() == before


SELECTED_ON_WORKER = """
import sys
import modelkit.analysis.pipeline as pipeline
pipeline.use_worker = lambda count, busy=0: True  # as on a machine with a core to spare
from modelkit.cli.main import main
main()
"""


def test_a_selection_is_checked_by_the_early_worker_and_sqlglot_is_not_imported_here(tmp_path: Path) -> None:
    """`compile -s` with a core to spare: the worker started before the parse checks the selected model
    (its finding is reported) and this process never imports sqlglot, which the worker loaded while
    this process parsed."""
    root = project(tmp_path, {"models/typo.sql": "select id, nme from {{ ref('people') }}"})
    assert run_cli("seed", cwd=root).exit_code == 0
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", SELECTED_ON_WORKER, "compile", "-s", "typo", "--log-level", "debug"],
        cwd=root, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Column 'nme' is not a column of seed people. Did you mean 'name'?" in done.stdout
    assert "(1 on a worker process)" in done.stdout, done.stdout
    imported = [line.split("|")[-1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")]
    assert "modelkit.analysis.pipeline" in imported  # what -X importtime lists is this process's imports
    assert not [name for name in imported if name.startswith("sqlglot")]
