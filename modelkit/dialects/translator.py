"""One command's dialects: which dialect each node is written in, and its translation into the target's.

:class:`Dialects` answers, without sqlglot, whether a node needs translating at all: a node written
in the target's dialect (every node of a project that declares none) is never parsed, and its SQL
stays byte for byte as rendered. For the others it translates the rendered SQL
(:mod:`modelkit.dialects.translate`), typing it with the columns of the relations it reads: seeds,
sources and contracts as declared, models and snapshots from their own query, rendered through the
callback the compiler gives, each once per command and in any order (a relation being worked out
when it is asked for again, as ``{{ this }}`` asks, is unknown).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from modelkit.core.errors import DialectError, ModelkitError, ProjectError
from modelkit.core.manifest import Manifest, Node
from modelkit.dialects.cache import Recorder, TranslationCache
from modelkit.dialects.results import Translation, file_line
from modelkit.dialects.shapes import (
    SEED_TYPING,
    UNKNOWN,
    RelationIndex,
    Shape,
    contract_shape,
    seed_shape,
    source_shape,
)
from modelkit.dialects.types import dialect_label, translate_type

Render = Callable[[Node], str]  # a node's own SQL, rendered, untranslated
TRANSLATED_TYPES = ("model", "snapshot", "analysis", "test", "sql_operation")
COMPLETE_MATERIALIZATIONS = ("view", "table", "ephemeral")  # relations that are exactly what their query returns
SNAPSHOT_COLUMNS = ("dbt_scd_id", "dbt_updated_at", "dbt_valid_from", "dbt_valid_to")
BUILTIN_PACKAGE = "dbt"


class Dialects:
    """The dialects of one command's nodes, and their translation into ``target`` (sqlglot's name)."""

    def __init__(
        self,
        manifest: Manifest,
        target: str,
        project_dialects: Callable[[], Mapping[str, str | None]],
        *,
        project_root: Path,
        database: str | None,
        schema: str | None,
        target_dir: Path | None = None,
    ) -> None:
        self.manifest = manifest
        self.target = target
        self._project_dialects = project_dialects
        self._packages: Mapping[str, str | None] | None = None
        self.project_root = project_root
        self.defaults = ((database or "").lower(), (schema or "").lower())
        self._lock = threading.RLock()
        self._index: RelationIndex | None = None
        self._shapes: dict[str, Shape] = {}
        self._busy: set[str] = set()
        self._done: dict[tuple[str, str], Translation] = {}
        self._checked: set[str] = set()
        self._test_owners: dict[str, list[str]] | None = None  # test_<name> -> the packages defining it
        self.cache = TranslationCache(target_dir)  # translations of earlier commands (target/)
        self._sqlglot_schemas: dict[str, Any] = {}  # dialect -> typed.Schemas (sqlglot's, made on the first miss)
        self.translated = 0  # queries this command translated (or typed) with sqlglot: not found in the cache

    # -- which dialect ------------------------------------------------------------------------
    def package_dialect(self, package: str) -> str | None:
        if self._packages is None:
            self._packages = self._project_dialects()
        return self._packages.get(package)

    def of(self, node: Any) -> str:
        """The dialect a node is written in: its ``+dialect``; else, for a generic test, that of the
        project defining the test (the built-in ones are written for every engine); else its project's
        ``dialect:``; else the target's."""
        config = getattr(node, "config", None) or {}
        explicit = config.get("dialect")
        if explicit:
            return str(explicit).strip().lower()
        if self._packages is None:
            self._packages = self._project_dialects()
        if not any(self._packages.values()):
            return self.target  # no project says anything: every node is in the target's dialect
        package = node.package_name
        if getattr(node, "test_metadata", None):
            package = self.test_package(node) or BUILTIN_PACKAGE
        return (self.package_dialect(package) if package != BUILTIN_PACKAGE else None) or self.target

    def test_package(self, node: Any) -> str | None:
        """The package defining a generic test's macro (``test_<name>``): its namespace, else the root
        project's, else any package's."""
        metadata = node.test_metadata
        if not isinstance(metadata, dict) or not metadata.get("name"):
            return None
        if metadata.get("namespace"):
            return str(metadata["namespace"])
        if self._test_owners is None:
            owners: dict[str, list[str]] = {}
            for macro in self.manifest.macros.values():
                if macro.name.startswith("test_"):
                    owners.setdefault(macro.name, []).append(macro.package_name)
            self._test_owners = owners
        found = self._test_owners.get(f"test_{metadata['name']}", [])
        if self.manifest.project_name in found:
            return self.manifest.project_name
        return next((p for p in found if p != BUILTIN_PACKAGE), None)

    def translates(self, node: Any) -> bool:
        """Whether the node's SQL is written in another dialect than the target's (no sqlglot needed)."""
        return node.resource_type in TRANSLATED_TYPES and self.of(node) != self.target

    def _check_name(self, name: str, node: Any) -> None:
        if name in self._checked:
            return
        from modelkit.dialects.translate import known_dialect  # imports sqlglot: only for a node to translate

        if not known_dialect(name):
            where = "its +dialect" if (getattr(node, "config", None) or {}).get("dialect") else "its project's dialect:"
            raise ProjectError(
                f"{node.resource_type} {node.name}: {where} names '{name}', which is not a SQL dialect "
                "modelkit knows (sqlglot's names: duckdb, postgres, spark, snowflake, bigquery, ...)",
                path=getattr(node, "original_file_path", None),
            )
        self._checked.add(name)

    # -- types ----------------------------------------------------------------------------------
    def data_type(self, node: Any, text: str) -> str:
        """A contract's ``data_type`` or a seed's ``column_types`` entry, as the target names it."""
        source = self.of(node)
        if source == self.target or not text:
            return text
        translated, problem = self._type(node, text, source)
        if problem is not None:
            raise DialectError(
                f"{node.resource_type} {node.name} is written in {dialect_label(source)}; the type '{text}' does "
                f"not translate into {dialect_label(self.target)}: {problem}.",
                path=node.original_file_path,
                node=f"{node.resource_type} {node.name}",
            )
        return translated

    def _type(self, node: Any, text: str, source: str) -> tuple[str, str | None]:
        owner = f"{node.unique_id} (types)"
        key = self.cache.key("type", text, source, self.target)
        with self._lock:
            found = self.cache.get(owner, key, self._nothing)
            if found is not None and isinstance(found.get("t"), str):
                return found["t"], found.get("p")
            self._check_name(source, node)
            translated, problem = translate_type(text, source, self.target)
            self.cache.put(owner, key, {"t": translated, "p": problem}, {})
        return translated, problem

    @staticmethod
    def _nothing(relation: tuple[str, str, str]) -> Shape:
        return UNKNOWN

    def seed_types(self, node: Any) -> dict[str, str]:
        """The types a seed of a project written in another dialect gets from its values there (a DuckDB
        project's seed: what a DuckDB seed would hold), as the target names them; the columns its
        ``column_types`` name are left to those. Empty for a seed in the target's dialect, or in one
        whose seed types are not known: the engine's own inference then stands."""
        source = self.of(node)
        if source == self.target or source not in SEED_TYPING:
            return {}
        configured = {str(k).lower() for k in (node.config.get("column_types") or {})}
        found = {}
        for name, data_type in seed_shape(node, self.project_root, source).columns():
            if data_type is None or name.lower() in configured:
                continue
            translated, problem = translate_type(data_type.sql(dialect=source), source, self.target)
            if problem is None:
                found[name] = translated
        return found

    # -- queries -----------------------------------------------------------------------------
    def translate(
        self,
        node: Any,
        sql: str,
        render: Render,
        extra: Mapping[str, list[tuple[str, str]]] | None = None,
        *,
        made: tuple[str, dict[str, Any]] | None = None,
    ) -> str:
        """``sql`` (rendered from ``node``, in its dialect) in the target's; a DialectError names every
        construct that does not translate. ``extra``: relations by name (unit test fixtures), with
        their columns' types as the target names them. ``made``: what ``sql`` was made from (a hash, and
        what its render read): the next command finds the translation by it, without rendering the node
        (see :meth:`known`)."""
        source = self.of(node)
        key = (node.unique_id, sql)
        with self._lock:
            done = self._done.get(key) if extra is None else None
            if done is None:
                fixtures = {name.lower(): self._fixture(columns) for name, columns in (extra or {}).items()}

                def lookup(relation: tuple[str, str, str]) -> Shape:
                    if relation[:2] == self.defaults and relation[2] in fixtures:
                        return fixtures[relation[2]]
                    return self._lookup(relation, render)

                owner = node.unique_id if extra is None else f"{node.unique_id} (unit tests)"
                cache_key = self.cache.key("translate", sql, source, self.target, self.defaults, extra)
                done = self.cache.translation(owner, cache_key, lookup)
                if done is None:
                    self._check_name(source, node)
                    from modelkit.dialects import translate  # imports sqlglot: only for a node to translate

                    recorder = Recorder(lookup)
                    schemas = self._schemas(translate, source) if extra is None else None  # fixtures: their own
                    done = translate.translate(sql, source, self.target, recorder, self.defaults, schemas=schemas)
                    self.translated += 1
                    self.cache.put(owner, cache_key, done.to_json(), recorder.read)
                if extra is None:
                    self._done[key] = done
                    if node.unique_id in self.manifest.nodes and not done.findings:
                        self._shapes.setdefault(node.unique_id, self._settled(node, done.shape))
                    if made is not None and not done.findings:
                        value = {"m": made[0], "read": made[1], "k": cache_key}
                        self.cache.keep(f"{node.unique_id} (made)", self._made_key(node, source), value)
        if done.findings:
            raise self.error(node, sql, source, done)
        return done.sql

    # -- translations found without rendering ------------------------------------------------------
    def _made_key(self, node: Any, source: str) -> str:
        return self.cache.key("made", node.unique_id, source, self.target, self.defaults)

    def made(self, node: Any) -> dict[str, Any] | None:
        """What the last command noted of the node's translation (``made`` of :meth:`translate`): ``m``, the
        hash of what the SQL it translated was made from; ``read``, what that render read."""
        with self._lock:
            found = self.cache.record(f"{node.unique_id} (made)", self._made_key(node, self.of(node)))
        if found is None or not isinstance(found.get("m"), str) or not isinstance(found.get("read"), dict):
            return None
        return found

    def known(self, node: Any, made: dict[str, Any], render: Render) -> str | None:
        """The translation a :meth:`made` record names, while every relation it read has the same columns
        (None: stale, missing or failing; the node is then rendered and translated as usual). The caller
        has checked that the node's SQL would be made from the same inputs."""
        key = made.get("k")
        if not isinstance(key, str):
            return None
        with self._lock:

            def lookup(relation: tuple[str, str, str]) -> Shape:
                return self._lookup(relation, render)

            done = self.cache.translation(node.unique_id, key, lookup)
            if done is None or done.findings:
                return None
            if node.unique_id in self.manifest.nodes:
                self._shapes.setdefault(node.unique_id, self._settled(node, done.shape))
        return done.sql

    def _fixture(self, columns: list[tuple[str, str]]) -> Shape:
        return Shape.written([n for n, _ in columns], [t or None for _, t in columns], self.target)

    def error(self, node: Any, sql: str, source: str, done: Translation) -> DialectError:
        text = self._file_text(node)
        lines = []
        first_line = None
        for finding in done.findings:
            line = file_line(text, sql, finding.line, finding.snippet) if finding.snippet else finding.line
            first_line = first_line or line
            where = f"line {line}: " if line else ""
            shown = f" `{finding.snippet}`" if finding.snippet else ""
            lines.append(f"- {where}{finding.construct}{shown}: {finding.message}")
        label = f"{node.resource_type} {node.name}"
        head = (
            f"{label} is written in {dialect_label(source)} SQL and runs on {dialect_label(self.target)}; "
            f"{'this does' if len(lines) == 1 else 'these do'} not translate:"
        )
        return DialectError(
            "\n".join([head, *lines]),
            path=getattr(node, "original_file_path", None),
            line=first_line,
            source=text,
            node=label,
        )

    def _file_text(self, node: Any) -> str:
        root = Path(getattr(node, "root_path", "") or self.project_root)
        try:
            text = (root / node.original_file_path).read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError, TypeError, ValueError):
            return str(getattr(node, "raw_code", "") or "")
        raw = str(getattr(node, "raw_code", "") or "")
        return text if raw.strip() and raw.strip() in text else raw or text

    # -- relations' columns ----------------------------------------------------------------------
    @property
    def index(self) -> RelationIndex:
        if self._index is None:
            self._index = RelationIndex(self.manifest, *self.defaults)
        return self._index

    def _lookup(self, relation: tuple[str, str, str], render: Render) -> Shape:
        owner = self.index.find(relation)
        return self.shape(owner, render) if owner is not None else UNKNOWN

    def shape(self, unique_id: str, render: Render) -> Shape:
        """What is known of the columns of a node's (or source's) relation."""
        with self._lock:
            found = self._shapes.get(unique_id)
            if found is not None:
                return found
            if unique_id in self._busy:
                return UNKNOWN
            self._busy.add(unique_id)
            try:
                found = self._shape(unique_id, render)
            finally:
                self._busy.discard(unique_id)
            self._shapes[unique_id] = found
            return found

    def _shape(self, unique_id: str, render: Render) -> Shape:
        source = self.manifest.sources.get(unique_id)
        if source is not None:
            return source_shape(source, self.package_dialect(source.package_name) or self.target)
        node = self.manifest.nodes.get(unique_id)
        if node is None:
            return UNKNOWN
        dialect = self.of(node)
        if node.resource_type == "seed":
            return seed_shape(node, self.project_root, dialect)
        contract = contract_shape(node, dialect)
        if contract is not None:
            return contract
        if node.language != "sql":
            return UNKNOWN
        try:
            sql = render(node)
        except ModelkitError:
            return UNKNOWN
        return self._settled(node, self._infer(node, sql, dialect, render))

    def _infer(self, node: Node, sql: str, dialect: str, render: Render) -> Shape:
        """The columns of a node's query (kept between commands, as translations are)."""

        def lookup(relation: tuple[str, str, str]) -> Shape:
            return self._lookup(relation, render)

        owner = f"{node.unique_id} (columns)"
        key = self.cache.key("infer", sql, dialect, self.target, self.defaults)
        found = self.cache.get(owner, key, lookup)
        if found is not None:
            try:
                return Shape.from_json(found["s"])
            except (TypeError, ValueError, KeyError):
                pass
        from modelkit.dialects import translate  # imports sqlglot: only for a node to translate

        recorder = Recorder(lookup)
        shape = translate.infer(sql, dialect, self.target, recorder, self.defaults, self._schemas(translate, dialect))
        self.translated += 1
        self.cache.put(owner, key, {"s": shape.to_json()}, recorder.read)
        return shape

    def _schemas(self, translate: Any, dialect: str) -> Any:
        """The relations' columns as sqlglot schemas, shared by this command's queries in ``dialect``."""
        found = self._sqlglot_schemas.get(dialect)
        if found is None:
            found = self._sqlglot_schemas[dialect] = translate.Schemas(dialect)
        return found

    def save(self) -> None:
        """Keep this command's translations for the next (see :mod:`modelkit.dialects.cache`)."""
        with self._lock:
            self.cache.save()

    def _settled(self, node: Node, shape: Shape) -> Shape:
        """The columns of the relation a node's query builds: a snapshot adds its own, an incremental
        model may keep columns of earlier runs."""
        contract = contract_shape(node, self.of(node))
        if contract is not None:
            return contract
        if not shape.known:
            return UNKNOWN
        if node.resource_type == "snapshot":
            meta = node.config.get("snapshot_meta_column_names") or {}
            return shape.with_columns([str(meta.get(c) or c) for c in SNAPSHOT_COLUMNS])
        if node.materialized not in COMPLETE_MATERIALIZATIONS:
            return shape.incomplete()
        return shape
