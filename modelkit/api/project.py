"""modelkit from Python: the same commands as the CLI, returning data instead of printing.

from modelkit import Project

project = Project("sample_project")
project.seed()
result = project.run(select=["+customers"])
assert result.success
columns, rows = project.show("select count(*) from {{ ref('customers') }}")
"""

from __future__ import annotations

import datetime
import shutil
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modelkit.api import operation
from modelkit.api.executors import make_runner
from modelkit.api.parsing import parse_and_write, parse_summary, write_manifest, write_run_results
from modelkit.api.session import Session
from modelkit.artifacts import writer as artifacts
from modelkit.core.batches import as_utc
from modelkit.core.errors import CompilationError, ModelkitError, ProjectError, UsageError
from modelkit.core.manifest import ModelNode
from modelkit.core.text import did_you_mean
from modelkit.execute.freshness import run_freshness
from modelkit.execute.runner import RunOptions
from modelkit.project.project import load_project

if TYPE_CHECKING:
    from modelkit.core.manifest import Manifest
    from modelkit.core.results import RunResult
    from modelkit.execute.runner import Reporter


def _timestamp(flag: str, value: str | datetime.datetime | None) -> datetime.datetime | None:
    if value is None:
        return None
    try:
        return as_utc(value)
    except ValueError:
        raise UsageError(
            f"{flag} must be a date or timestamp (e.g. 2024-01-31 or 2024-01-31T12:00:00), got {value!r}"
        ) from None


def _args(command: str, **kwargs: Any) -> dict[str, Any]:
    return {"which": command, **{k: (list(v) if isinstance(v, tuple) else v) for k, v in kwargs.items()}}


class Project:
    """A modelkit (or dbt) project folder and how to connect to its database."""

    def __init__(
        self,
        project_dir: str | Path = ".",
        *,
        profiles_dir: str | Path | None = None,
        target: str | None = None,
        profile: str | None = None,
        vars: str | Mapping[str, Any] | None = None,
        threads: int | None = None,
        log: Callable[[str], None] | None = None,
        partial_parse: bool | None = None,
        invocation_id: str | None = None,
    ) -> None:
        self.project_dir = Path(project_dir)
        self._kwargs: dict[str, Any] = {
            "profiles_dir": profiles_dir,
            "target": target,
            "profile": profile,
            "vars": vars,
            "threads": threads,
            "log": log,
            "partial_parse": partial_parse,
            "invocation_id": invocation_id,
        }

    def session(self, which: str = "run", *, full_refresh: bool = False, empty: bool | None = None) -> Session:
        """A fresh session (files are read again); ``empty``: refs and sources read zero rows (dbt's --empty)."""
        return Session(self.project_dir, which=which, full_refresh=full_refresh, empty=empty, **self._kwargs)

    # -- commands ------------------------------------------------------------
    def parse(self) -> Manifest:
        """Read the project and write target/manifest.json; the Manifest."""
        with self.session("parse") as session:
            return parse_and_write(session)[0]

    def parse_summary(self) -> str:
        """As :meth:`parse`, returning dbt's "Found ..." summary instead of the Manifest.

        When nothing the last parse read has changed since it wrote manifest.json, nothing is read
        or written again (see :mod:`modelkit.parse.state`); ``--no-partial-parse`` always parses.
        """
        return parse_summary(self.project_dir, **self._kwargs)

    def compile(
        self,
        select: Sequence[str] = (),
        exclude: Sequence[str] = (),
        *,
        inline: str | None = None,
        reporter: Reporter | None = None,
    ) -> dict[str, str]:
        """Compiled SQL by unique_id (written under target/compiled/); ``inline`` compiles one query."""
        with self.session("compile") as session:
            if inline is not None:
                return {"inline": compile_inline(session, inline)}
            run = make_runner(session, RunOptions("compile", tuple(select), tuple(exclude)), reporter).execute()
            write_manifest(session)
            write_run_results(session, run, _args("compile", select=select, exclude=exclude))
            errors = [r for r in run.results if r.is_error]
            if errors and errors[0].error is not None:
                raise errors[0].error
            return dict(session.compiler.compiled)

    def run(self, select: Sequence[str] = (), exclude: Sequence[str] = (), **kwargs: Any) -> RunResult:
        return self._execute("run", select, exclude, **kwargs)

    def seed(self, select: Sequence[str] = (), exclude: Sequence[str] = (), **kwargs: Any) -> RunResult:
        return self._execute("seed", select, exclude, **kwargs)

    def snapshot(self, select: Sequence[str] = (), exclude: Sequence[str] = (), **kwargs: Any) -> RunResult:
        """Record what changed in each selected snapshot's query since the last snapshot."""
        return self._execute("snapshot", select, exclude, **kwargs)

    def source_freshness(
        self,
        select: Sequence[str] = (),
        exclude: Sequence[str] = (),
        *,
        output: str | Path | None = None,
        on_start: Callable[..., None] | None = None,
        on_result: Callable[..., None] | None = None,
    ) -> Any:
        """Check how recently each source table was loaded; writes target/sources.json (or ``output``)."""
        with self.session("freshness") as session:
            return run_freshness(
                session.execution(), select, exclude, output=output, on_start=on_start, on_result=on_result
            )

    def test(self, select: Sequence[str] = (), exclude: Sequence[str] = (), **kwargs: Any) -> RunResult:
        """Run data tests and unit tests: those of the selected models, or those selected directly."""
        return self._execute("test", select, exclude, **kwargs)

    def build(self, select: Sequence[str] = (), exclude: Sequence[str] = (), **kwargs: Any) -> RunResult:
        """Seeds, models and their tests in one DAG; a failing test skips what depends on its node."""
        return self._execute("build", select, exclude, **kwargs)

    def _execute(
        self,
        command: str,
        select: Sequence[str],
        exclude: Sequence[str],
        *,
        threads: int | None = None,
        full_refresh: bool = False,
        fail_fast: bool = False,
        reporter: Reporter | None = None,
        on_start: Callable[[Session, list[str]], None] | None = None,
        event_time_start: str | datetime.datetime | None = None,
        event_time_end: str | datetime.datetime | None = None,
        selector: str | None = None,
        indirect_selection: str | None = None,
        resource_types: Sequence[str] = (),
        exclude_resource_types: Sequence[str] = (),
        empty: bool | None = None,
    ) -> RunResult:
        """Run ``command`` on the selected nodes. ``selector`` names a selectors.yml selector;
        ``resource_types`` / ``exclude_resource_types`` narrow what runs (as dbt's flags); ``empty``
        builds every model from zero rows of its inputs (dbt's ``--empty``); ``event_time_start`` /
        ``event_time_end`` bound the windows microbatch models build."""
        with self.session(command, full_refresh=full_refresh, empty=empty) as session:
            options = RunOptions(
                command,
                tuple(select),
                tuple(exclude),
                threads,
                full_refresh,
                fail_fast,
                event_time_start=_timestamp("--event-time-start", event_time_start),
                event_time_end=_timestamp("--event-time-end", event_time_end),
                resource_types=tuple(resource_types),
                selector=selector,
                indirect_selection=indirect_selection,
                exclude_resource_types=tuple(exclude_resource_types),
            )
            runner = make_runner(session, options, reporter)
            if on_start is not None:
                on_start(session, runner.selected_nodes())
            run = runner.execute()
            args = _args(command, select=select, exclude=exclude, full_refresh=full_refresh, threads=threads)
            if selector:
                args["selector"] = selector
            run.args = args
            run.manifest = session.manifest
            write_manifest(session)
            write_run_results(session, run, args)
            return run

    def run_operation(self, macro: str, args: str | Mapping[str, Any] | None = None) -> Any:
        """Call a macro with the database connected (dbt's ``run-operation``); writes run_results.json.

        Returns an :class:`modelkit.api.operation.OperationResult`; a macro that fails is reported in it
        (``success`` False), a macro that does not exist or bad ``args`` raise.
        """
        kwargs = operation.parse_args(args)
        with self.session("run-operation") as session:
            outcome = operation.run_operation(session, macro, kwargs)
            assert outcome.run is not None
            run_args = _args("run-operation", macro=macro, args=kwargs)
            write_manifest(session)
            write_run_results(session, outcome.run, run_args)
            return outcome

    def ls(
        self,
        select: Sequence[str] = (),
        exclude: Sequence[str] = (),
        resource_types: Sequence[str] = (),
        *,
        exclude_resource_types: Sequence[str] = (),
        selector: str | None = None,
        indirect_selection: str | None = None,
    ) -> list[dict[str, Any]]:
        """Selected nodes and sources as dicts (name, unique_id, resource_type, fqn, path, ...)."""
        kinds = set(resource_types) - {"all", "default"} if not {"all", "default"} & set(resource_types) else set()
        with self.session("list") as session:
            chosen = session.select(select, exclude, selector=selector, indirect=indirect_selection)
            manifest = session.manifest
            items: list[dict[str, Any]] = []
            for uid in sorted(chosen):
                node: Any = manifest.nodes.get(uid) or manifest.sources.get(uid)
                if node is None or (kinds and node.resource_type not in kinds):
                    continue
                if node.resource_type in exclude_resource_types:
                    continue
                if node.resource_type == "operation":  # project hooks are not listed
                    continue
                items.append(
                    artifacts.source_dict(node) if node.resource_type == "source" else artifacts.node_dict(node)
                )
            return items

    def show(
        self, node_or_sql: str, *, limit: int = 5, inline: bool | None = None
    ) -> tuple[list[str], list[tuple[Any, ...]]]:
        """Preview rows of a model (by name) or of an inline query."""
        with self.session("show") as session:
            if inline is None:
                inline = not node_or_sql.isidentifier()
            if inline:
                sql = compile_inline(session, node_or_sql)
            else:
                node = session.renderer.resolver.find_node(node_or_sql) if session.manifest else None  # type: ignore[union-attr]
                if node is None:
                    names = [n.name for n in session.manifest.nodes.values()]
                    raise ProjectError(f"No model named '{node_or_sql}'." + did_you_mean(node_or_sql, names))
                sql = (
                    session.compiler.compile(node)
                    if node.resource_type != "seed"
                    else session.adapter.sql.select_all(str(node.relation.quoted_with(session.adapter.quote_char)))
                )
            result = session.adapter.execute(session.adapter.limit_sql(sql, limit) if limit >= 0 else sql, fetch=True)
            return result.columns, result.rows

    def debug(self) -> dict[str, Any]:
        """Resolved configuration and a connection check."""
        session = self.session("debug")
        info: dict[str, Any] = {
            "project_dir": str(session.project.root),
            "project_file": str(session.project.project_file),
            "project_name": session.project.name,
            "profile": session.target.profile_name,
            "profile_origin": session.target.origin,
            "target": session.target.name,
            "type": session.target.type,
            "database": session.target.database,
            "schema": session.target.schema,
            "threads": session.target.threads,
            "path": session.target.path,
        }
        try:
            session.adapter.execute(session.adapter.sql.connection_check(), fetch=True)
            info["connection"] = "OK"
        except ModelkitError as exc:
            info["connection"] = f"ERROR: {exc.message}"
        finally:
            session.close()
        return info

    def clean(self) -> list[str]:
        """Delete the project's clean-targets (default: target/); returns what was removed."""
        project = load_project(self.project_dir)
        removed = []
        for rel in project.clean_targets:
            path = (project.root / rel).resolve()
            if project.root not in path.parents:
                raise ProjectError(f"Refusing to delete {path}: clean-targets must be inside the project")
            if path.exists():
                shutil.rmtree(path) if path.is_dir() else path.unlink()
                removed.append(rel)
        return removed


def compile_inline(session: Session, sql: str) -> str:
    manifest = session.manifest
    node = ModelNode(
        unique_id=f"sql_operation.{manifest.project_name}.inline_query",
        resource_type="sql_operation",
        package_name=manifest.project_name,
        name="inline_query",
        path="inline_query.sql",
        original_file_path="<inline>",
        fqn=[manifest.project_name, "inline_query"],
        raw_code=sql,
        checksum="",
        config={"materialized": "ephemeral"},
        database=session.target.database,
        schema=session.target.schema,
        alias="inline_query",
    )
    try:
        return session.compiler.compile(node)
    except CompilationError as exc:
        exc.node = "inline query"
        raise
