"""Static analysis results kept between commands (``target/static_analysis.json``).

An entry is found by the hash of the node's compiled SQL (:func:`sql_hash`), its dependencies and its
own relation, and reused only while every relation the query read has the columns (and the owners) it
had, and every name it could not find is still not a relation of the project. Anything else is
analysed again. Keyed by the SQL's hash, an entry is found without the SQL itself for a model whose
SQL hash is known without rendering it (see :meth:`modelkit.execute.fingerprints.BuildState.reusable_sql`).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from modelkit import __version__
from modelkit.analysis.findings import Finding, QueryCheck
from modelkit.analysis.relations import Key, Relations
from modelkit.analysis.shapes import Shape
from modelkit.core import fsio, jsonio
from modelkit.core.errors import ModelkitError
from modelkit.core.packages import installed_version
from modelkit.core.text import sql_hash

SQLGLOT_VERSION = installed_version("sqlglot")  # read without importing sqlglot: a warm run never needs it
FILE_NAME = "static_analysis.json"
FORMAT = 4  # bump when the shape of an entry (or of its key) changes
# An entry is kept as [unique_id, its JSON text]: a command reads the file whole, and parses only the entries
# it looks up (a compile of one model in a large project reads thousands and needs a handful).


def _digest(*parts: Any) -> str:
    return hashlib.sha256(jsonio.dumps(parts)).hexdigest()


class AnalysisCache:
    def __init__(self, target_dir: Path, relations: Relations) -> None:
        self.path = target_dir / FILE_NAME
        self.relations = relations
        self.version = "/".join(
            str(p)
            for p in (FORMAT, __version__, SQLGLOT_VERSION, relations.dialect, relations.database, relations.schema)
        )
        self.entries: dict[str, list[str]] = jsonio.read_entries(self.path, self.version) or {}
        self.used: dict[str, list[str]] = {}
        self.touched: set[str] = set()  # nodes analysed (or found) in this run
        self.hits = 0
        self.changed = False  # an entry was analysed (again): the file is written
        # each relation's part of the entries' table digests, kept while its shape (object) and owner stay
        self._parts: dict[Key, tuple[Shape | None, list[str] | None, bytes]] = {}

    def _key(self, uid: str, digest: str, parents: frozenset[str], self_key: Key | None) -> str:
        return _digest(uid, digest, sorted(parents), list(self_key) if self_key else None)

    def _tables(self, tables: list[Key]) -> str:
        """The digest of what the relations ``tables`` look like now (columns and owner): each relation's
        part is serialized once for as long as it stays the same (many queries read the same relations)."""
        return hashlib.sha256(b"[[" + b",".join(self._part(key) for key in tables) + b"]]").hexdigest()

    def _part(self, key: Key) -> bytes:
        relations = self.relations
        shape = relations.shapes[key] if key in relations.shapes else None
        owner = relations.owners.get(key)
        kept = self._parts.get(key)
        if kept is not None and kept[0] is shape and kept[1] == owner:
            return kept[2]
        part = jsonio.dumps([list(key), shape.to_json() if shape is not None else None, owner])
        self._parts[key] = (shape, None if owner is None else list(owner), part)  # (owners grow in place)
        return part

    def get(self, uid: str, sql: str, parents: frozenset[str], self_key: Key | None) -> QueryCheck | None:
        return self.get_hashed(uid, sql_hash(sql), parents, self_key)

    def get_hashed(self, uid: str, digest: str, parents: frozenset[str], self_key: Key | None) -> QueryCheck | None:
        """:meth:`get`, given the hash of the SQL (:func:`sql_hash`) instead of the SQL."""
        key = self._key(uid, digest, parents, self_key)
        kept = self.entries.get(key)
        if kept is None:
            return None
        try:
            entry = jsonio.loads(kept[1])
        except (ValueError, TypeError, IndexError):  # a damaged entry: analysed again
            return None
        tables = [tuple(t) for t in entry["t"]]
        if entry["d"] != self._tables(tables):  # type: ignore[arg-type]
            return None
        if any(self.relations.find(*missing) for missing in entry["m"]):
            return None
        self.hits += 1
        self.used[key] = kept
        self.touched.add(uid)
        return QueryCheck([Finding.from_json(f) for f in entry["f"]], Shape.from_json(entry["s"]), tables)  # type: ignore[arg-type]

    def put(self, uid: str, sql: str, parents: frozenset[str], self_key: Key | None, found: QueryCheck) -> None:
        key = self._key(uid, sql_hash(sql), parents, self_key)
        self.touched.add(uid)
        entry = {
            "f": [f.to_json() for f in found.findings],
            "s": found.shape.to_json(),
            "t": [list(t) for t in found.tables],
            "d": self._tables(found.tables),
            "m": [list(m) for m in found.missing],
        }
        self.used[key] = [uid, jsonio.dumps(entry).decode()]
        self.changed = True

    def save(self) -> None:
        """Write this run's entries and those of nodes it did not analyse; nothing when nothing changed."""
        kept = {k: v for k, v in self.entries.items() if isinstance(v, list) and v and v[0] not in self.touched}
        entries = {**kept, **self.used}
        if not self.changed and entries.keys() == self.entries.keys():
            return
        try:
            fsio.atomic_write(self.path, jsonio.dumps({"version": self.version, "entries": entries}))
        except ModelkitError:
            pass  # a cache that cannot be written is only slower next time
