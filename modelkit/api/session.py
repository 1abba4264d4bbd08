"""A session: one project, one target, one invocation; everything built lazily once.

What only some commands use (the compiler and the dialects' translations, selection, the execution
context, ``--state-git``) is imported where it is first built: ``parse`` starts without those modules.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable, Collection, Mapping, Sequence
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modelkit.adapters import get_adapter, sql_dialect
from modelkit.adapters.base import Capability
from modelkit.api.stateoptions import StateOptions
from modelkit.core import settings
from modelkit.core.background import Background
from modelkit.core.errors import CompilationError, StateError
from modelkit.core.forked import Forked
from modelkit.graph.graph import Graph
from modelkit.graph.state import PreviousState
from modelkit.parse import state as parsestate
from modelkit.parse.packages import find_packages
from modelkit.parse.parser import Parser
from modelkit.parse.stateload import load_state_dir, resolve_dir
from modelkit.project.profiles import Target, load_target, profile_search_dirs
from modelkit.project.project import ProjectConfig, load_project, parse_vars, partial_parse_enabled
from modelkit.render.context import Invocation, Renderer
from modelkit.render.defer import Deferral
from modelkit.render.macros import MacroRegistry, load_builtin

if TYPE_CHECKING:
    from modelkit.adapters.base import Adapter
    from modelkit.core.manifest import Manifest
    from modelkit.dialects.translator import Dialects
    from modelkit.execute.context import ExecutionContext
    from modelkit.parse.cache import ParseCache
    from modelkit.render.compiler import Compiler


class Session:
    """Everything one command needs, loaded on first use."""

    def __init__(
        self,
        project_dir: str | Path = ".",
        *,
        profiles_dir: str | Path | None = None,
        target: str | None = None,
        profile: str | None = None,
        vars: str | Mapping[str, Any] | None = None,
        threads: int | None = None,
        full_refresh: bool = False,
        which: str = "run",
        log: Callable[[str], None] | None = None,
        warn: Callable[[str], None] | None = None,
        partial_parse: bool | None = None,
        invocation_id: str | None = None,
        empty: bool | None = None,
        state: StateOptions | None = None,
        invocation: Mapping[str, Any] | None = None,
        scanned: Callable[[str], dict[str, list[int]] | None] | None = None,
    ) -> None:
        """``invocation``: what the command line adds to run_results.json's ``args`` (``invocation_command``,
        ``quiet``, ...; see :mod:`modelkit.api.invocation_args`). ``scanned(key)``: the project's files
        scanned already, for the parse to start from (see :func:`modelkit.parse.state.check`)."""
        self.invocation_flags: dict[str, Any] = dict(invocation or {})
        self.cli_target, self.cli_profile, self.cli_threads = target, profile, threads  # as given
        self.cli_vars = parse_vars(vars)
        self.project: ProjectConfig = load_project(project_dir, self.cli_vars)
        self.partial_parse = partial_parse_enabled(partial_parse, self.project.flags)
        self.target: Target = load_target(
            self.project,
            profiles_dir=profiles_dir,
            target=target,
            profile=profile,
            threads=threads,
            cli_vars=self.cli_vars,
        )
        self.project = self.project.with_target(self.target.to_context())  # configs may use `target`
        flags = self.project.flags
        self.store_failures = bool(settings.resolve("store_failures", None, flags))  # --store-failures
        self.warn_error = bool(settings.resolve("warn_error", None, flags))
        self.warn_error_options = settings.warn_error_options(settings.resolve("warn_error_options", None, flags))
        self.invocation = Invocation(
            full_refresh=full_refresh,
            which=which,
            log=log or (lambda m: None),
            warn=self._jinja_warning(warn or log or (lambda m: None)),
            flags={"STORE_FAILURES": self.store_failures},
            args={"which": which, "full_refresh": full_refresh},  # filled in by record_args
        )
        if invocation_id:
            self.invocation.invocation_id = invocation_id
        if which in ("run", "build", "compile", "snapshot", "test"):
            self.invocation.empty = bool(settings.resolve("empty", empty or None, self.project.flags))
        registry = MacroRegistry(self.project.name)
        load_builtin(registry)
        self.renderer = Renderer(self.project, self.target, registry, self.cli_vars, self.invocation)
        self._adapter: Adapter | None = None
        self._adapter_lock = threading.RLock()
        self._opening: Background | None = None  # the connection being opened early (see open_early)
        self._closing: Background | None = None  # the connection being closed early (see release_connection)
        self.renderer.connect = lambda: self.adapter  # introspective Jinja opens the connection on first use
        self.parse_cache: ParseCache | None = None
        self.reparsed: list[str] | None = None
        self.full_parse_reason = ""
        self.snapshot_ids: tuple[Any, Any] = (None, None)
        self.scanned: dict[str, list[int]] = {}  # the status of the input files, taken as parsing began
        self.prescanned: dict[str, list[int]] | None = None  # that status, taken before the session read any
        self._scan_of = scanned
        self.edges_changed = True  # after an incremental parse: whether any node's parents changed
        # a full parse writes its snapshot from a forked process while the session goes on (close waits for it)
        self.background_snapshot = False
        self.snapshot_writer: Forked | None = None
        self.state_options = state or StateOptions()
        self._session_kwargs = {"profiles_dir": profiles_dir, "target": target, "profile": profile, "vars": vars}
        self.breaking: Callable[[], Collection[str]] | None = None  # `state:breaking` (see api/impact.py)

    @cached_property
    def manifest(self) -> Manifest:
        parser = Parser(self.renderer, use_cache=self.partial_parse)
        if self.prescanned is None and self._scan_of is not None and self.partial_parse:
            self.prescanned = self._scan_of(parsestate.key(self.project, self.target, self.cli_vars))
        parser.prescanned = self.prescanned
        parser.background_snapshot = self.background_snapshot
        manifest = parser.parse()
        self.snapshot_writer = parser.snapshot_writer
        self.edges_changed = parser.edges_changed
        self.parse_cache = parser.cache
        self.reparsed = parser.reparsed  # None after a full parse, else the nodes an incremental one parsed
        self.full_parse_reason = parser.full_parse_reason
        self.snapshot_ids = parser.snapshot_ids
        self.scanned = {rel: status[:4] for rel, status in parser.scanned.items()}
        if self.state_options.defer or self.invocation.which == "clone":  # clone always reads the state
            self.renderer.defer = Deferral.from_state(self.defer_state, self.state_options.favor_state)
        return manifest

    @cached_property
    def previous_state(self) -> PreviousState | None:
        """The comparison state of ``--state`` / ``--state-git`` (None when neither is given)."""
        options = self.state_options
        if options.state_git:
            from modelkit.api.stategit import git_state  # (runs git: see the module's description)

            packages = self.project.packages_install_path
            return git_state(self.project.root, options.state_git, self._parse_revision, packages, self.target.type)
        if options.state is None:
            return None
        found = load_state_dir(options.state, self.project.root)
        if resolve_dir(options.state, self.project.root).resolve() == self.project.target_dir.resolve():
            self.invocation.log(
                f"Warning: The state and target directories are the same: '{options.state}'. "
                "This could lead to missing changes due to overwritten state including non-idempotent retries."
            )
        return found

    def _parse_revision(self, root: Path) -> Manifest:
        """The Manifest of a copy of the project (a git revision), with this session's profile and target."""
        kwargs = dict(self._session_kwargs)
        if kwargs["profiles_dir"] is None:
            for folder in profile_search_dirs(self.project, None):
                if (folder / "profiles.yml").is_file():
                    kwargs["profiles_dir"] = folder
                    break
        with Session(root, which="parse", partial_parse=False, **kwargs) as revision:
            return revision.manifest

    @cached_property
    def defer_state(self) -> PreviousState:
        """What ``--defer`` reads relations from: ``--defer-state``, else the comparison state."""
        options = self.state_options
        if options.defer_state is not None:
            found = load_state_dir(options.defer_state, self.project.root, "--defer-state")
        elif self.previous_state is not None:
            found = self.previous_state
        else:
            raise StateError("--state or --defer-state are required for deferral, but neither was provided")
        if not found.has_manifest:
            raise StateError(f"--defer needs a manifest.json, and the state folder '{found.origin}' has none")
        return found

    @cached_property
    def graph(self) -> Graph:
        return Graph(self.manifest)

    @property
    def adapter(self) -> Adapter:
        opened = self._adapter
        if opened is not None:  # (asked for several times by every node: no lock once it is open)
            return opened
        with self._adapter_lock:
            closing, self._closing = self._closing, None
            if closing is not None:
                closing.wait()  # released, and asked for again: a new connection once the old one is closed
            opening, self._opening = self._opening, None
            if opening is not None:
                opening.wait()  # the early open's error, if it failed, is raised here, where it is needed
            if self._adapter is None:
                self._open(get_adapter(self.target))
            return self._adapter  # type: ignore[return-value]

    def _open(self, adapter: Adapter) -> None:
        adapter.open()
        self._adapter = adapter
        self.renderer.adapter = adapter

    def open_early(self) -> bool:
        """Start opening the connection on a thread of its own, for a command that will use it, when the
        engine allows it (``Capability.EARLY_OPEN``) and the database exists: the engine opens it (DuckDB
        reads its catalog) while the command parses, selects and analyses. The first use of :attr:`adapter` waits
        for it, and raises its error if it failed. Whether it was started."""
        with self._adapter_lock:
            if self._adapter is not None or self._opening is not None:
                return False
            adapter = get_adapter(self.target)  # (the engine's module is imported here: imports hold the GIL)
            if Capability.EARLY_OPEN not in adapter.capabilities or not adapter.database_exists():
                return False  # (a new database is made when the command first needs it: a failing parse makes none)
            self._opening = Background(lambda: self._open(adapter), "connect")
            return True

    def release_connection(self) -> None:
        """Close the connection on a thread of its own, for a command done with the database while it writes
        its artifacts (DuckDB's close writes a checkpoint); :meth:`close` waits for it, and so does a later
        use of :attr:`adapter`, which then opens a new one."""
        with self._adapter_lock:
            adapter, self._adapter = self._adapter, None
            if adapter is None:
                return
            self.renderer.adapter = None
            self._closing = Background(adapter.close, "close")

    def adapter_info(self) -> dict[str, Any]:
        """The adapter's :meth:`~Adapter.info`, without opening its connection when the engine can tell
        without one (a command that opens it later, on another thread, need not wait for it here)."""
        with self._adapter_lock:
            adapter = self._adapter
        if adapter is None:
            unopened = get_adapter(self.target)
            if Capability.OFFLINE_INFO in unopened.capabilities:
                return unopened.info()
        return self.adapter.info()

    @property
    def open_adapter(self) -> Adapter | None:
        """The adapter if its connection is open, else None (never opens one)."""
        return self._adapter

    @cached_property
    def dialects(self) -> Dialects:
        """Which dialect each node is written in, and its translation into the target's."""
        from modelkit.dialects.translator import Dialects  # (see the module's description: on first use)

        return Dialects(
            self.manifest,
            sql_dialect(self.target.type),
            self.project_dialects,
            project_root=self.project.root,
            database=self.target.database,
            schema=self.target.schema,
            target_dir=self.project.target_dir,
        )

    def project_dialects(self) -> dict[str, str | None]:
        """The ``dialect:`` of the project and of each installed package, by name."""
        found: dict[str, str | None] = {self.project.name: self.project.dialect}
        for package in find_packages(self.project, self.cli_vars):
            found.setdefault(package.name, package.config.dialect)
        return found

    @cached_property
    def compiler(self) -> Compiler:
        from modelkit.render.compiler import Compiler  # (on first use)

        return Compiler(self.renderer, self.manifest, dialects=self.dialects)

    def select(
        self,
        include: Sequence[str] | None = None,
        exclude: Sequence[str] | None = None,
        *,
        selector: str | None = None,
        indirect: str | None = None,
        include_empty: bool = False,
    ) -> set[str]:
        """Nodes chosen by ``--select``/``--exclude``, or by a selectors.yml selector (see ExecutionContext.select)."""
        return self.execution().select(
            include, exclude, selector=selector, indirect=indirect, include_empty=include_empty
        )

    def _jinja_warning(self, warn: Callable[[str], None]) -> Callable[[str], None]:
        """What ``exceptions.warn()`` does: log a warning, or fail the node under --warn-error (as dbt)."""
        if not self.warning_is_error("JinjaLogWarning"):
            return warn

        def fail(message: str) -> None:
            raise CompilationError(message)

        return fail

    def warning_is_error(self, event: str) -> bool:
        """Whether the warning dbt names ``event`` (e.g. ``LogTestResult``) is an error here (--warn-error[-options])."""
        options = self.warn_error_options
        if event in options["warn"] or event in options["silence"]:
            return False
        return self.warn_error or "all" in options["error"] or event in options["error"]

    @cached_property
    def selectors(self) -> dict[str, dict[str, Any]]:
        """The project's selectors.yml, by name."""
        from modelkit.graph import yamlselectors  # (on first use)

        return yamlselectors.load_selectors(self.project.root)

    def unmatched(self, include: Sequence[str] | None) -> list[str]:
        from modelkit.graph.selector import Selector  # (on first use)

        return Selector(self.manifest, self.graph, self.previous_state, self.invocation.log, self.breaking).unmatched(
            include
        )

    def execution(self) -> ExecutionContext:
        """What the execution and testing stages use of this session."""
        from modelkit.execute.context import ExecutionContext  # (on first use)

        return ExecutionContext(
            manifest=self.manifest,
            graph=self.graph,
            renderer=self.renderer,
            compiler=self.compiler,
            project=self.project,
            target=self.target,
            invocation=self.invocation,
            connect=lambda: self.adapter,
            opened=lambda: self.open_adapter,
            selectors=self.selectors,
            indirect_selection=settings.resolve("indirect_selection", None, self.project.flags),
            store_failures=self.store_failures,
            warning_is_error=self.warning_is_error,
            state=self.previous_state,
            breaking=self.breaking,
        )

    def wait_for_writes(self) -> None:
        """Wait for the parse snapshot's writer, if a forked process writes it."""
        if self.snapshot_writer is not None:
            self.snapshot_writer.wait()
            self.snapshot_writer = None

    def close(self) -> None:
        self.wait_for_writes()
        if "manifest" in self.__dict__:
            gc.unfreeze()  # see Parser.parse
        if "compiler" in self.__dict__:
            self.compiler.flush()
        if "dialects" in self.__dict__:
            self.dialects.save()  # what the run translated after the check (unit tests' queries)
        opening, self._opening = self._opening, None
        if opening is not None:
            # opened early and never used: waited for, and a failure (which stopped no work) is not reported
            opening.error()
        closing, self._closing = self._closing, None
        if closing is not None:
            closing.wait()
        if self._adapter is not None:
            self._adapter.close()
            self._adapter = None
            self.renderer.adapter = None

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
