"""Compiling nodes: render with ``execute`` true, inline ephemeral models as CTEs."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from dataclasses import replace
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modelkit.core import fsio
from modelkit.core.errors import ModelkitError
from modelkit.core.lazynodes import field_map
from modelkit.core.manifest import Manifest, Node
from modelkit.render import templating
from modelkit.render.capture import is_static
from modelkit.render.context import Renderer
from modelkit.render.files import FileWriter
from modelkit.render.inputs import MadeFrom, RenderInputs
from modelkit.render.staticeval import static_render
from modelkit.render.testsql import static_test_sql

if TYPE_CHECKING:
    from modelkit.dialects.translator import Dialects


def _starts_with_with(sql: str) -> tuple[bool, int]:
    """Whether the statement opens with WITH; and the offset just after WITH [RECURSIVE]."""
    from sqlglot.tokens import Tokenizer, TokenType  # ~0.2 s to import: only for models with ephemeral CTEs

    try:
        tokens = Tokenizer().tokenize(sql)
    except Exception:  # noqa: BLE001 - odd SQL: fall back to a plain check
        stripped = sql.lstrip()
        if stripped[:4].lower() == "with" and (len(stripped) == 4 or not stripped[4].isalnum()):
            return True, len(sql) - len(stripped) + 4
        return False, 0
    if not tokens or tokens[0].token_type != TokenType.WITH:
        return False, 0
    end = tokens[0].end + 1
    if len(tokens) > 1 and tokens[1].text.lower() == "recursive":
        end = tokens[1].end + 1
    return True, end


def inject_ctes(sql: str, ctes: list[tuple[str, str]]) -> str:
    """Prepend ``with name as (...)`` for each CTE, splicing into an existing WITH."""
    if not ctes:
        return sql
    defs = ",\n".join(f"{name} as (\n{body}\n)" for name, body in ctes)
    has_with, offset = _starts_with_with(sql)
    if has_with:
        return f"{sql[:offset]} {defs},{sql[offset:]}"
    return f"with {defs}\n{sql}"


GENERIC_TEST_TEMPLATE = "<generic test>"


class Compiler:
    """Renders nodes for execution; a node written in another dialect than the target's is translated
    (``dialects``, see :mod:`modelkit.dialects`)."""

    def __init__(
        self, renderer: Renderer, manifest: Manifest, *, static: bool = True, dialects: Dialects | None = None
    ) -> None:
        self.static = static
        self.renderer = renderer
        self.manifest = manifest
        self.dialects = dialects
        self.compiled: dict[str, str] = {}
        self._ephemeral: dict[str, tuple[str, list[str]]] = {}
        self._lock = threading.Lock()
        self._builtin_tests: dict[str, bool] = {}
        self._writer: FileWriter | None = None
        self._folders: dict[tuple[Path, str], Path] = {}
        self.track_inputs = False  # note what each model's render read (see RenderInputs)
        self.inputs: dict[str, RenderInputs] = {}  # unique_id -> what its last render read
        # unique_id -> the hash of its SQL as the last build recorded it, when made from what it would be
        # made from now (None: not known without rendering); see BuildState.reusable_sql
        self.recorded_sql: dict[str, str | None] = {}
        self._checked: dict[str, str] = {}  # unique_id -> SQL compiled by a check before the run (compile(keep=))
        self.checked_reused = 0  # nodes compile_checked did not compile again
        # unique_id -> (its raw code, its SQL) for models whose tracked render read nothing that can change
        # while the invocation lasts (no database, no log, no time): a later compile gives the same SQL, so
        # the run reuses what the analysis compiled ahead of it
        self._settled: dict[str, tuple[str, str]] = {}
        self._pure: set[str] = set()  # rendered pure, not yet settled

    @cached_property
    def _by_cte(self) -> dict[str, str]:
        """The ephemeral models by the name of their CTE."""
        return {cte: uid for uid, cte in field_map(self.manifest.nodes, "ephemeral").items()}

    def _render(self, node: Node, event_time: tuple[Any, Any] | None = None) -> tuple[str, list[str]]:
        sql, ctes, _ = self._rendered(node, event_time)
        return sql, ctes

    def _rendered(
        self, node: Node, event_time: tuple[Any, Any] | None = None, *, note: bool = False
    ) -> tuple[str, list[str], bool]:
        """The node's SQL as rendered, the ephemeral models it reads, and (``note``) whether the render
        was pure (see RenderInputs)."""
        ctes: list[str] = []
        label = f"{node.resource_type} {node.name}"
        pure = False
        try:
            if self.static and getattr(node, "test_metadata", None):
                sql = static_test_sql(node, self.renderer, self._builtin_tests)
                if sql is not None:
                    return sql, ctes, pure
            keep_inputs = self.track_inputs and node.resource_type in ("model", "snapshot")
            track = keep_inputs or (note and node.resource_type in ("model", "snapshot"))
            ctx = self.renderer.context(
                node, execute=True, path=node.original_file_path, ctes=ctes, event_time=event_time, track=track
            )
            sql = None
            if self.static and is_static(node.raw_code, self.renderer):
                sql = static_render(node.raw_code, ctx, node.original_file_path)
            if sql is None and getattr(node, "test_metadata", None):
                # generic tests share a handful of one-line templates: compile each once
                template = templating.get_template(node.raw_code, GENERIC_TEST_TEMPLATE, cache=True)
                sql = templating.render(template, ctx, GENERIC_TEST_TEMPLATE, label)
            if sql is None:
                sql = self.renderer.render(node.raw_code, node.original_file_path, ctx, node_label=label)
            if track and event_time is None:
                inputs = RenderInputs.of(ctx, ctes)
                pure = inputs.pure
                if keep_inputs:
                    self.inputs[node.unique_id] = inputs
                    if pure:
                        self._pure.add(node.unique_id)
                    else:
                        self._pure.discard(node.unique_id)
        except ModelkitError as exc:
            exc.node = exc.node or label
            if exc.path == GENERIC_TEST_TEMPLATE:
                exc.path = None
            if exc.path is None:
                exc.path = node.original_file_path
                exc.source = node.raw_code
            raise
        return sql, ctes, pure

    def _own(
        self, node: Node, event_time: tuple[Any, Any] | None = None, *, note: bool = False
    ) -> tuple[str, list[str], bool]:
        """The node's own SQL (ephemeral models it reads named as CTEs), in the target's dialect; and
        (``note``) whether its render was pure."""
        if note:
            sql, ctes, pure = self._rendered(node, event_time, note=True)
        else:
            (sql, ctes), pure = self._render(node, event_time), False
        if self.dialects is None or not self.dialects.translates(node):
            return sql, ctes, pure
        inputs = self.inputs.get(node.unique_id)
        made = None
        if inputs is not None and inputs.pure:
            # a translation reads what the node's parents select: more than RenderInputs keeps. Within this
            # command it stays settled (see compile): the columns of the relations a translation reads are
            # worked out once per command, and the same SQL translates to the same SQL while it lasts. The
            # next command finds it from what the SQL was made from, and the parents' columns (_known).
            self.inputs[node.unique_id] = replace(inputs, pure=False)
            key = self._made.key(node, inputs) if event_time is None else None
            made = (key, inputs.read()) if key is not None else None
        return self.translate(node, sql, made=made), ctes, pure

    @cached_property
    def _made(self) -> MadeFrom:
        return MadeFrom(self.manifest, self.renderer)

    def _known(self, node: Node, keep: bool) -> str | None:
        """A model written in another dialect, as the last command translated it, without rendering it: when
        its render was pure then, its SQL would be made from the same inputs now, and the relations its
        translation read have the same columns. None: compile it as usual."""
        dialects = self.dialects
        if not self.track_inputs or dialects is None or node.resource_type not in ("model", "snapshot"):
            return None
        if not dialects.translates(node):
            return None
        made = dialects.made(node)
        if made is None:
            return None
        inputs = RenderInputs.recorded(made["read"])
        if self._made.key(node, inputs) != made["m"]:
            return None
        sql = dialects.known(node, made, self._source_sql)
        if sql is None:
            return None
        uid = node.unique_id
        with self._lock:
            self.compiled[uid] = sql
            self.inputs[uid] = replace(inputs, pure=False)  # as after a render (see _own)
            if keep:
                self._checked[uid] = sql
            own = self.manifest.nodes.get(uid)
            if own is not None and own.raw_code == node.raw_code:  # not another version of the node
                self._settled[uid] = (node.raw_code, sql)
        return sql

    def _source_sql(self, node: Node) -> str:
        """The node's own SQL as written, in its own dialect (what upstream columns are read from)."""
        return self._render(node)[0]

    def translate(
        self,
        node: Node,
        sql: str,
        extra: Mapping[str, list[tuple[str, str]]] | None = None,
        *,
        made: tuple[str, dict[str, Any]] | None = None,
    ) -> str:
        """``sql``, written in ``node``'s dialect, in the target's: unchanged when the node is written in
        it. ``extra`` (even empty) says the SQL is not the node's own query but one of its unit tests':
        relations it reads by name (fixtures), with their columns' types as the engine names them.
        ``made``: what ``sql`` was made from, when a render gave it (see :meth:`_known`)."""
        if self.dialects is None or not self.dialects.translates(node):
            return sql
        return self.dialects.translate(node, sql, self._source_sql, extra, made=made)

    def data_type(self, node: Node, text: str) -> str:
        """A type written in the node's dialect (a contract's ``data_type``, a seed's ``column_types``), as
        the target names it."""
        return self.dialects.data_type(node, text) if self.dialects is not None else text

    def seed_types(self, node: Node) -> dict[str, str]:
        """A seed's column types as its dialect gives them, named as the target names them (empty when
        the engine's own inference stands)."""
        return self.dialects.seed_types(node) if self.dialects is not None else {}

    def _ephemeral_body(self, identifier: str) -> tuple[str, list[str]]:
        with self._lock:
            cached = self._ephemeral.get(identifier)
        if cached is not None:
            return cached
        node = self.manifest.nodes[self._by_cte[identifier]]
        result = self._own(node)[:2]
        with self._lock:
            self._ephemeral[identifier] = result
        return result

    def _collect(self, names: list[str], out: list[tuple[str, str]], seen: set[str]) -> None:
        """Append the ephemeral CTEs ``names`` need, each after the ones it uses (iterative: chains of
        thousands of ephemeral models stay clear of Python's recursion limit)."""
        for root in names:
            if root in seen:
                continue
            body, inner = self._ephemeral_body(root)
            stack: list[tuple[str, str, Iterator[str]]] = [(root, body, iter(inner))]
            on_stack = {root}
            while stack:
                name, body, pending = stack[-1]
                child = next((c for c in pending if c not in seen and c not in on_stack), None)
                if child is not None:
                    child_body, child_inner = self._ephemeral_body(child)
                    stack.append((child, child_body, iter(child_inner)))
                    on_stack.add(child)
                    continue
                stack.pop()
                on_stack.discard(name)
                if name not in seen:
                    seen.add(name)
                    out.append((name, body))

    def body(self, node: Node) -> str:
        """An ephemeral model's own SQL, without the CTEs of the ephemeral models it uses (they read as
        ``__dbt__cte__<name>`` tables). Docs analyse this: a chain of N ephemeral models stays O(N), where
        every model's full SQL would hold all its ancestors (O(N²) text)."""
        return self._ephemeral_body(node.relation.identifier)[0]

    def compile(self, node: Node, event_time: tuple[Any, Any] | None = None, *, keep: bool = False) -> str:
        """The node's SQL ready to run (ephemeral nodes return their own body).

        ``event_time`` (start, end): one batch of a microbatch model, its inputs read for that window only.
        ``keep``: a check before anything runs; a pure render's SQL is kept for the next such check
        (:meth:`compile_checked`), which then need not render it again. A model compiled before with
        ``track_inputs``, whose render read nothing that can change while the invocation lasts
        (:attr:`RenderInputs.pure`), is not rendered again at all.
        """
        uid = node.unique_id
        if event_time is None:
            settled = self._settled.get(uid)
            if settled is not None and settled[0] == node.raw_code:
                with self._lock:
                    self.compiled[uid] = settled[1]
                return settled[1]
            known = self._known(node, keep)
            if known is not None:
                return known
        sql, ctes, pure = self._own(node, event_time, note=keep)
        collected: list[tuple[str, str]] = []
        self._collect(ctes, collected, set())
        sql = inject_ctes(sql, collected)
        with self._lock:
            self.compiled[uid] = sql
            if keep and pure and not collected and event_time is None:
                self._checked[uid] = sql
            if event_time is None and uid in self._pure:
                self._pure.discard(uid)
                own = self.manifest.nodes.get(uid)
                if own is not None and own.raw_code == node.raw_code:  # not another version of the node
                    self._settled[uid] = (node.raw_code, sql)
        return sql

    def compile_checked(self, node: Node) -> str:
        """:meth:`compile`, for a check before anything runs: the SQL a check before it compiled with
        ``keep`` (once), when its render read nothing that can change before the run; else compiled."""
        with self._lock:
            found = self._checked.pop(node.unique_id, None)
            if found is not None:
                self.checked_reused += 1
        return found if found is not None else self.compile(node)

    def write(self, node: Node, sql: str, target_dir: Path, folder: str = "compiled") -> Path:
        """Write the compiled SQL under ``target/compiled/``; returns its path.

        The file is written by a background thread (creating thousands of small
        files can take a millisecond each when the disk is busy, which would
        otherwise add to every node's time); :meth:`flush` waits for them all.
        """
        rel = node.original_file_path
        if node.resource_type == "test" and getattr(node, "compiled_file_path", None):
            rel = node.compiled_file_path  # type: ignore[attr-defined]
        base = self._folders.get((target_dir, folder))
        if base is None:
            base = self._folders[(target_dir, folder)] = target_dir / folder
        path = fsio.inside(base, f"{node.package_name}/{rel}", f"{node.resource_type} {node.name}")
        with self._lock:
            if self._writer is None:
                self._writer = FileWriter()
            self._writer.put(path, sql)
        return path

    def flush(self) -> None:
        """Wait for the compiled files to be written; raise the first write error."""
        with self._lock:
            writer, self._writer = self._writer, None
        if writer is not None:
            writer.close()
