"""The bodies of ``compile`` and of the commands that run nodes (run, build, seed, test, snapshot, clone):
select, check what does not translate, analyse, run, write the artifacts.

:class:`modelkit.api.project.Project` opens the session and passes its options; ``keep`` receives the
static analysis report (None when the command analyses nothing) before its errors are raised.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from modelkit.api.analysis import (
    Feed,
    check_before_run,
    early_worker,
    raise_errors,
    read_only,
    recorded_sql,
    start_analysis,
    with_warn_error,
)
from modelkit.api.dialects import check_dialects
from modelkit.api.executors import make_runner
from modelkit.api.parsing import write_manifest, write_run_results
from modelkit.api.session import Session
from modelkit.core.background import Background
from modelkit.execute.runplan import RunOptions

if TYPE_CHECKING:
    from modelkit.analysis.pipeline import EarlyWorker
    from modelkit.analysis.static import AnalysisReport
    from modelkit.core.results import RunResult
    from modelkit.execute.runplan import Reporter

Keep = Callable[["AnalysisReport | None"], None]


def compile_selected(session: Session, options: RunOptions, reporter: Reporter | None, keep: Keep) -> dict[str, str]:
    """Compile the selected nodes, analysing each as it is compiled; their SQL by unique_id."""
    early = early_worker(session, "compile")
    try:
        return _compile(session, options, reporter, keep, early)
    finally:
        if early is not None:
            early.close()


def _compile(
    session: Session, options: RunOptions, reporter: Reporter | None, keep: Keep, early: EarlyWorker | None
) -> dict[str, str]:
    feed = Feed(reporter)
    runner = make_runner(session, options, feed)
    selected = runner.selected_nodes()
    check_dialects(session, selected)  # SQL that does not translate into the target's: nothing runs
    known = recorded_sql(session)  # what it reads, unchanged since it was built: not compiled again
    pipeline = feed.pipeline = start_analysis(session, selected, produced=selected, known=known, early=early)
    try:
        run = runner.execute()
        compiled = dict(session.compiler.compiled)

        def write() -> None:
            write_manifest(session, compiled)
            write_run_results(session, run, session.invocation.args)

        # the artifacts are written while the analysis ends (much of it is file I/O)
        writing = Background(write, "artifacts")
        errors = [r for r in run.results if r.is_error]
        if errors and errors[0].error is not None:
            writing.wait()
            raise errors[0].error
    except BaseException:
        if pipeline is not None:
            pipeline.abort()
        raise
    try:
        with read_only(session):
            report = with_warn_error(session, pipeline.finish() if pipeline is not None else None)
    finally:
        writing.wait()
    keep(report)
    raise_errors(report)
    return compiled


def execute_selected(
    session: Session,
    options: RunOptions,
    reporter: Reporter | None,
    keep: Keep,
    on_start: Callable[[Session, list[str]], None] | None = None,
) -> RunResult:
    """Run the selected nodes; ``run`` and ``build`` analyse them first, and run nothing on an error."""
    command = options.command
    # the database opens on a thread of its own while this one parses, selects and analyses (every one of
    # these commands uses it); the analysis worker started early would take the same spare core
    opening = session.open_early()
    early = early_worker(session, command, busy=int(opening))
    runner = None
    try:
        runner = make_runner(session, options, reporter)
        selected = runner.selected_nodes()
        if on_start is not None:
            on_start(session, selected)
        if command in ("run", "build") and not session.invocation.empty:
            # what the checks below compile, the run then reuses where nothing it read can change
            session.compiler.track_inputs = True
        runner.look_ahead()  # what the run reads of the database, read while the nodes are checked
        check_dialects(session, selected)  # SQL that does not translate into the target's: nothing runs
        report = with_warn_error(session, check_before_run(session, command, selected, early))
        keep(report)
        raise_errors(report)
    except BaseException:
        if runner is not None:
            runner.settle()
        raise
    finally:
        if early is not None:
            early.close()
    run = runner.execute()
    session.release_connection()  # closed while the artifacts are written
    args = session.invocation.args
    run.args = args
    run.manifest = session.manifest
    write_manifest(session)
    write_run_results(session, run, args)
    return run
