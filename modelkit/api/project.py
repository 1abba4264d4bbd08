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
from modelkit.api.commands import compile_selected, execute_selected
from modelkit.api.impact import ImpactReport, breaking_nodes, change_impact
from modelkit.api.invocation import compile_inline, record_args, show_run, timestamp
from modelkit.api.invocation import sample as sample_arg
from modelkit.api.lineage import trace_lineage
from modelkit.api.parsing import parse_and_write, parse_summary, write_manifest, write_run_results
from modelkit.api.retry import plan_retry
from modelkit.api.session import Session
from modelkit.api.stateoptions import StateOptions
from modelkit.artifacts import writer as artifacts
from modelkit.core import settings
from modelkit.core.errors import ModelkitError, ProjectError
from modelkit.core.results import now
from modelkit.core.text import did_you_mean
from modelkit.execute.freshness import run_freshness
from modelkit.execute.runplan import RunOptions
from modelkit.project.project import load_project

if TYPE_CHECKING:
    from modelkit.analysis.graphs import LineageGraph
    from modelkit.analysis.static import AnalysisReport
    from modelkit.core.manifest import Manifest
    from modelkit.core.results import RunResult
    from modelkit.execute.runplan import Reporter


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
        warn: Callable[[str], None] | None = None,
        partial_parse: bool | None = None,
        invocation_id: str | None = None,
        state: str | Path | None = None,
        state_git: str | None = None,
        defer: bool = False,
        defer_state: str | Path | None = None,
        favor_state: bool = False,
        invocation: Mapping[str, Any] | None = None,
        scanned: Callable[[str], dict[str, list[int]] | None] | None = None,
    ) -> None:
        """``invocation`` holds what the command line adds to run_results.json's ``args`` and
        ``invocation_args_dict`` (``invocation_command``, ``quiet``, ...). ``scanned``: the project's files
        scanned already (see :class:`Session`), for the first command's parse only.

        ``state`` (a folder holding a previous manifest.json / run_results.json) or ``state_git`` (a git
        revision of the project) is what ``state:`` / ``result:`` selection compares against; ``defer``
        resolves ``ref()`` to unselected nodes in it (``defer_state``: another folder for that)."""
        self.project_dir = Path(project_dir)
        self.state_options = StateOptions(state, state_git, defer, defer_state, favor_state)
        self._kwargs: dict[str, Any] = {
            "profiles_dir": profiles_dir,
            "target": target,
            "profile": profile,
            "vars": vars,
            "threads": threads,
            "log": log,
            "warn": warn,
            "partial_parse": partial_parse,
            "invocation_id": invocation_id,
            "state": self.state_options,
            "invocation": invocation,
        }
        self.analysis: AnalysisReport | None = None  # the last command's static analysis, if it ran one
        self._scan_of = scanned

    def session(
        self,
        which: str = "run",
        *,
        full_refresh: bool = False,
        empty: bool | None = None,
        flags: Mapping[str, Any] | None = None,
    ) -> Session:
        """A fresh session (files are read again); ``empty``: refs and sources read zero rows (dbt's --empty);
        ``flags``: the command's, as run_results.json's ``args`` (and ``invocation_args_dict``) record them."""
        scanned, self._scan_of = self._scan_of, None  # (taken before this command: a later one scans anew)
        session = Session(
            self.project_dir, which=which, full_refresh=full_refresh, empty=empty, scanned=scanned, **self._kwargs
        )
        session.breaking = lambda: breaking_nodes(session)
        record_args(session, which, {"full_refresh": full_refresh, "empty": session.invocation.empty, **(flags or {})})
        return session

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
        return parse_summary(
            self.project_dir, **{k: v for k, v in self._kwargs.items() if k not in ("state", "invocation")}
        )

    def compile(
        self,
        select: Sequence[str] = (),
        exclude: Sequence[str] = (),
        *,
        inline: str | None = None,
        reporter: Reporter | None = None,
        on_analysis: Callable[[AnalysisReport], None] | None = None,
    ) -> dict[str, str]:
        """Compiled SQL by unique_id (written under target/compiled/); ``inline`` compiles one query.

        The compiled models are then analysed (see :mod:`modelkit.analysis.static`): ``on_analysis``
        gets the report; its errors raise a StaticAnalysisError.
        """
        with self.session("compile", flags={"select": select, "exclude": exclude, "inline": inline}) as session:
            if inline is not None:
                return {"inline": compile_inline(session, inline)}
            options = RunOptions("compile", tuple(select), tuple(exclude))
            return compile_selected(session, options, reporter, self._keeper(on_analysis))

    def run(self, select: Sequence[str] = (), exclude: Sequence[str] = (), **kwargs: Any) -> RunResult:
        return self._execute("run", select, exclude, **kwargs)

    def seed(self, select: Sequence[str] = (), exclude: Sequence[str] = (), **kwargs: Any) -> RunResult:
        return self._execute("seed", select, exclude, **kwargs)

    def clone(self, select: Sequence[str] = (), exclude: Sequence[str] = (), **kwargs: Any) -> RunResult:
        """dbt's ``clone``: each selected model, seed and snapshot as a view over the ``state`` manifest's
        relation (DuckDB has no zero-copy table clones); existing relations stay unless ``full_refresh``."""
        return self._execute("clone", select, exclude, **kwargs)

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
        sample: str | tuple[datetime.datetime, datetime.datetime] | None = None,
        selector: str | None = None,
        indirect_selection: str | None = None,
        resource_types: Sequence[str] = (),
        exclude_resource_types: Sequence[str] = (),
        empty: bool | None = None,
        skip_unchanged: bool | str | None = None,
        unique_ids: Sequence[str] | None = None,
        on_analysis: Callable[[AnalysisReport], None] | None = None,
    ) -> RunResult:
        """Run ``command`` on the selected nodes. ``selector`` names a selectors.yml selector;
        ``resource_types`` / ``exclude_resource_types`` narrow what runs (as dbt's flags); ``empty``
        builds every model from zero rows of its inputs (dbt's ``--empty``); ``event_time_start`` /
        ``event_time_end`` bound the windows microbatch models build; ``sample`` (dbt's ``--sample``:
        ``"3 days"`` or ``"{start: 2025-01-01, end: 2025-01-08}"``) has models and snapshots read only
        that window of the inputs that declare an ``event_time``; ``skip_unchanged`` (True or
        ``"strict"``; default: the ``skip_unchanged`` setting) skips what was built from the same inputs
        (see :mod:`modelkit.execute.fingerprints`); ``unique_ids`` replaces the selection with exactly
        these nodes (what ``retry`` runs). ``run`` and ``build`` analyse the selected models' SQL first
        (see :mod:`modelkit.analysis.static`): ``on_analysis`` gets the report; its errors raise a
        StaticAnalysisError before anything runs. SQL written in another dialect than the target's that
        does not translate raises a DialectErrors before anything runs (see :mod:`modelkit.dialects`)."""
        flags = {
            "select": select,
            "exclude": exclude,
            "selector": selector,
            "threads": threads,
            "fail_fast": fail_fast or None,
            "indirect_selection": indirect_selection,
            "resource_types": resource_types,
            "exclude_resource_types": exclude_resource_types,
            "event_time_start": timestamp("--event-time-start", event_time_start),
            "event_time_end": timestamp("--event-time-end", event_time_end),
        }
        with self.session(command, full_refresh=full_refresh, empty=empty, flags=flags) as session:
            flag = None if skip_unchanged is None else str(skip_unchanged).lower()
            skip = settings.resolve("skip_unchanged", flag, session.project.flags)
            options = RunOptions(
                command,
                tuple(select),
                tuple(exclude),
                threads,
                full_refresh,
                fail_fast,
                event_time_start=timestamp("--event-time-start", event_time_start),
                event_time_end=timestamp("--event-time-end", event_time_end),
                sample=sample_arg(sample),
                resource_types=tuple(resource_types),
                selector=selector,
                indirect_selection=indirect_selection,
                exclude_resource_types=tuple(exclude_resource_types),
                skip_unchanged=skip if skip in ("true", "strict") and command in ("run", "build") else None,
                unique_ids=None if unique_ids is None else tuple(unique_ids),
            )
            return execute_selected(session, options, reporter, self._keeper(on_analysis), on_start)

    def _keeper(self, on_analysis: Callable[[AnalysisReport], None] | None) -> Callable[[AnalysisReport | None], None]:
        """What keeps a command's analysis report (``self.analysis``) and hands it to ``on_analysis``."""

        def keep(report: AnalysisReport | None) -> None:
            self.analysis = report
            if report is not None and on_analysis is not None:
                on_analysis(report)

        return keep

    def retry(
        self,
        *,
        state: str | Path | None = None,
        threads: int | None = None,
        vars: str | Mapping[str, Any] | None = None,
        warn_error: bool = False,
        reporter: Reporter | None = None,
        on_start: Callable[[Session, list[str]], None] | None = None,
    ) -> RunResult:
        """dbt's ``retry``: the previous invocation's command (from ``run_results.json`` in ``state``, else the
        target folder), with its flags, on the nodes that errored, failed or were skipped. ``threads`` and
        ``vars`` may be given anew; with ``warn_error``, warnings are run again too."""
        plan = plan_retry(self.project_dir, state, warn_error)
        kwargs = {**self._kwargs, "threads": threads or plan.flag("threads")}
        kwargs["vars"] = vars if vars is not None else plan.flag("vars")
        for key in ("target", "profile"):
            kwargs[key] = plan.flag(key, kwargs[key])
        kwargs.pop("state")
        flags = {key: plan.flag(key) for key in ("state", "state_git", "defer_state")}
        again = Project(self.project_dir, **kwargs, **flags, defer=bool(plan.flag("defer", False)),
                        favor_state=bool(plan.flag("favor_state", False)))  # fmt: skip
        return again._execute(
            plan.command,
            plan.flag("select", ()),
            plan.flag("exclude", ()),
            threads=kwargs["threads"],
            full_refresh=bool(plan.flag("full_refresh", False)),
            fail_fast=bool(plan.flag("fail_fast", False)),
            reporter=reporter,
            on_start=on_start,
            event_time_start=plan.flag("event_time_start"),
            event_time_end=plan.flag("event_time_end"),
            selector=plan.flag("selector"),
            indirect_selection=plan.flag("indirect_selection"),
            resource_types=plan.flag("resource_types", ()),
            exclude_resource_types=plan.flag("exclude_resource_types", ()),
            empty=plan.flag("empty"),
            unique_ids=plan.unique_ids,
        )

    def run_operation(self, macro: str, args: str | Mapping[str, Any] | None = None) -> Any:
        """Call a macro with the database connected (dbt's ``run-operation``); writes run_results.json.

        Returns an :class:`modelkit.api.operation.OperationResult`; a macro that fails is reported in it
        (``success`` False), a macro that does not exist or bad ``args`` raise.
        """
        kwargs = operation.parse_args(args)
        with self.session(
            "run-operation", flags={"macro": macro, "args": kwargs if args is not None else None}
        ) as session:
            outcome = operation.run_operation(session, macro, kwargs)
            assert outcome.run is not None
            write_manifest(session)
            write_run_results(session, outcome.run, session.invocation.args)
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
        """Selected nodes, sources, exposures, metrics, semantic models and saved queries as the manifest's
        dicts (name, unique_id, resource_type, fqn, path, ...)."""
        kinds = set(resource_types) - {"all", "default"} if not {"all", "default"} & set(resource_types) else set()
        with self.session("list") as session:
            chosen = session.select(select, exclude, selector=selector, indirect=indirect_selection, include_empty=True)
            manifest = session.manifest
            items: list[dict[str, Any]] = []
            for uid in sorted(chosen):
                node: Any = manifest.nodes.get(uid) or manifest.sources.get(uid)
                resource = manifest.resource(uid) if node is None else None
                kind = node.resource_type if node is not None else resource["resource_type"] if resource else None
                if kind is None or (kinds and kind not in kinds) or kind in exclude_resource_types:
                    continue
                if kind == "operation":  # project hooks are not listed
                    continue
                if resource is not None:  # an exposure, metric, semantic model or saved query
                    items.append(resource)
                elif kind == "source":
                    items.append(artifacts.source_dict(node))
                else:
                    items.append(artifacts.node_dict(node))
            return items

    def diff(self) -> ImpactReport:
        """The column changes of each model ``state:modified`` selects against ``--state`` /
        ``--state-git``, and what downstream reads them (see :mod:`modelkit.api.impact`)."""
        with self.session("diff") as session:
            return change_impact(session)

    def lineage(
        self, node: str, *, upstream: bool = True, downstream: bool = True, depth: int | None = None
    ) -> LineageGraph:
        """The nodes (or, for ``NODE.COLUMN``, the columns) upstream and downstream of one, traced
        through the compiled SQL with the columns known before anything runs (no database needed)."""
        with self.session("lineage") as session:
            return trace_lineage(session, node, upstream=upstream, downstream=downstream, depth=depth)

    def show(
        self, node_or_sql: str, *, limit: int = 5, inline: bool | None = None
    ) -> tuple[list[str], list[tuple[Any, ...]]]:
        """Preview rows of a model (by name) or of an inline query; writes run_results.json, as dbt does."""
        if inline is None:
            inline = not node_or_sql.isidentifier()
        flags = {"inline": node_or_sql, "limit": limit} if inline else {"select": [node_or_sql], "limit": limit}
        with self.session("show", flags=flags) as session:
            started = now()
            header = None
            uid, relation_name = f"sql_operation.{session.manifest.project_name}.inline_query", None
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
                header = node.config.get("sql_header")  # as dbt's get_show_sql: the model's header first
                uid, relation_name = node.unique_id, str(node.relation)
            shown = session.adapter.limit_sql(sql, limit) if limit >= 0 else sql
            compiled = now()
            result = session.adapter.execute(session.adapter.sql.with_header(header, shown), fetch=True)
            run = show_run(session, uid, relation_name, shown, (started, compiled, now()))
            write_run_results(session, run, session.invocation.args)
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
