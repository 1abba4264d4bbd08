"""Parsing a project and writing its artifacts: what ``modelkit parse`` needs, and nothing that runs nodes."""

from __future__ import annotations

import contextlib
import marshal
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modelkit.api.session import Session
from modelkit.artifacts import writer as artifacts
from modelkit.artifacts.semantic import write_semantic_manifest
from modelkit.artifacts.splice import Layout, Reuse
from modelkit.core import fsio
from modelkit.core.errors import ModelkitError
from modelkit.core.lazynodes import field_map
from modelkit.core.text import found_summary
from modelkit.parse import state as parsestate
from modelkit.project.profiles import load_target
from modelkit.project.project import load_project, parse_vars, partial_parse_enabled, project_flags

if TYPE_CHECKING:
    from modelkit.core.manifest import Manifest
    from modelkit.core.results import RunResult


def parse_summary(
    project_dir: str | Path,
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
    scanned: Callable[[str], dict[str, list[int]] | None] | None = None,
) -> str:
    """Parse and write target/manifest.json; dbt's "Found ..." summary.

    When nothing the last parse read has changed since it wrote manifest.json, nothing is read or
    written again (see :mod:`modelkit.parse.state`); ``partial_parse=False`` always parses.
    ``scanned(key)``: the project's files scanned already (see :func:`modelkit.parse.state.check`).
    """
    if partial_parse_enabled(partial_parse, project_flags(project_dir)):
        cli_vars = parse_vars(vars)
        project = load_project(project_dir, cli_vars)
        found = load_target(
            project, profiles_dir=profiles_dir, target=target, profile=profile, threads=threads, cli_vars=cli_vars
        )
        project = project.with_target(found.to_context())
        summary, files = parsestate.check(project, found, cli_vars, scanned)
        if summary is not None:
            return summary
        if files is None and scanned is not None:  # no usable state: the parse takes the scan as its own
            files = scanned(parsestate.key(project, found, cli_vars))
    else:
        files = None
    kwargs = {"profiles_dir": profiles_dir, "target": target, "profile": profile, "vars": vars, "threads": threads}
    with Session(
        project_dir,
        which="parse",
        log=log,
        warn=warn,
        partial_parse=partial_parse,
        invocation_id=invocation_id,
        **kwargs,
    ) as session:
        session.prescanned = files
        session.background_snapshot = True  # written while manifest.json is (waited for below)
        return parse_and_write(session)[1]


def parse_and_write(session: Session) -> tuple[Manifest, str]:
    manifest = session.manifest
    files = session.scanned if session.partial_parse else {}  # the parser's own scan, taken before it read anything
    write_manifest(session)
    summary = found_summary(manifest)
    if session.partial_parse:
        env: dict[str, Any] = {}
        for values in field_map(manifest.nodes, "env").values():
            env.update(values)
        env.update(session.renderer.env_reads)
        parsestate.record(session.project, session.target, session.cli_vars, files, env, summary)
    else:
        parsestate.forget(session.project)
    session.wait_for_writes()
    return manifest, summary


def write_manifest(session: Session, compiled: Mapping[str, str] | None = None) -> None:
    """target/manifest.json and semantic_manifest.json beside it (as dbt writes them, together), with the
    nodes' ``compiled`` SQL (default: what the session compiled).

    After an incremental parse, the manifest entries of the nodes it did not parse again are copied from the
    manifest.json the last parse wrote (see :mod:`modelkit.artifacts.splice`)."""
    if compiled is None:
        compiled = session.compiler.compiled if "compiler" in session.__dict__ else {}
    manifest = session.manifest  # parsed first: the snapshot ids below are this parse's
    target_dir = session.project.target_dir
    path = target_dir / "manifest.json"
    index_path = target_dir / MANIFEST_INDEX
    before, after = session.snapshot_ids
    with contextlib.ExitStack() as stack:
        reuse = None
        if before is not None and session.reparsed is not None:
            try:
                with open(index_path, "rb") as fh:
                    index = marshal.load(fh)
                fd = os.open(path, os.O_RDONLY)
                stack.callback(os.close, fd)
                if index["snapshot"] == tuple(before) and index["stat"] == _stat(os.fstat(fd)):
                    layout = Layout.loads(index["layout"])
                    reuse = Reuse(fd, layout, set(session.reparsed), keep_edges=not session.edges_changed)
            except (OSError, ValueError, KeyError, TypeError, EOFError):
                reuse = None
        written = artifacts.write_manifest(
            path, manifest, session.invocation.invocation_id, compiled, session.target.type, reuse
        )
    write_semantic_manifest(target_dir / "semantic_manifest.json", manifest)
    try:
        if after is None or written is None:
            index_path.unlink(missing_ok=True)
        else:
            index = {"snapshot": tuple(after), "stat": _stat(path.stat()), "layout": written.dumps()}
            fsio.atomic_write(index_path, marshal.dumps(index), spare=True)
    except (OSError, ModelkitError):
        pass  # a read-only target folder only costs speed


MANIFEST_INDEX = "modelkit_manifest_index.marshal"


def _stat(st: os.stat_result) -> list[int]:
    return [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino]


def write_run_results(session: Session, run: RunResult, args: dict[str, Any]) -> None:
    data = artifacts.run_results_dict(run, session.project.name, session.invocation.invocation_id, args)
    artifacts.write_json(session.project.target_dir / "run_results.json", data)
