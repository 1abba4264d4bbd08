"""Translations kept between commands (``target/dialect_translations.json``).

A translation depends on the SQL as rendered, the dialects it is read in and written in, the target's
database and schema (what unqualified relations are), and the columns of every relation it read
while it was typed. An entry is found by a hash of all but the last (with modelkit's and sqlglot's
versions) and reused only while each relation it read has the columns it had, by the digest of its
:class:`~modelkit.dialects.shapes.Shape`. A run with nothing changed thus translates nothing, and
needs no sqlglot: the entries hold the SQL written for the target, the constructs that do not
translate (a cached failure is still reported) and the columns of the result, which the queries
reading it are checked against in turn.

A model whose render was pure (see :mod:`modelkit.render.inputs`) also has its translation noted by
a hash of what its SQL was made from: the next ``run`` or ``build`` whose hash is the same finds the
translation (still checked against the columns it read) without rendering the model at all.

A file that cannot be read, or was written by another version of modelkit, of sqlglot or of this
package's rules, is ignored and written again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

from modelkit import __version__
from modelkit.core import fsio, jsonio
from modelkit.core.errors import ModelkitError
from modelkit.core.packages import installed_version
from modelkit.dialects.results import Translation
from modelkit.dialects.shapes import Shape

SQLGLOT_VERSION = installed_version("sqlglot")  # read without importing sqlglot: a warm run never needs it
FILE_NAME = "dialect_translations.json"
FORMAT = 1  # bump when the shape of an entry (or of its key) changes

Key = tuple[str, str, str]
Lookup = Callable[[Key], Shape]


def digest(*parts: Any) -> str:
    return hashlib.sha256(jsonio.dumps(parts)).hexdigest()


class Recorder:
    """A lookup that notes what it answered: the relations a translation read, and their columns."""

    def __init__(self, lookup: Lookup) -> None:
        self.lookup = lookup
        self.read: dict[Key, str] = {}

    def __call__(self, key: Key) -> Shape:
        shape = self.lookup(key)
        self.read[key] = shape.digest
        return shape


@lru_cache(maxsize=1)
def rules_digest() -> str:
    """A hash of this package's source: a translation made by other rules (modelkit's version aside, as
    while it is being worked on) is not reused."""
    found = hashlib.sha256()
    for path in sorted(Path(__file__).parent.glob("*.py")):
        try:
            found.update(path.name.encode() + b"\0" + path.read_bytes())
        except OSError:
            found.update(path.name.encode())
    return found.hexdigest()[:16]


class TranslationCache:
    """The translations of earlier commands, by :meth:`key`; ``hits`` and ``misses`` count this one's."""

    def __init__(self, target_dir: Path | None) -> None:
        self.path = target_dir / FILE_NAME if target_dir is not None else None
        self.version = f"{FORMAT}/{__version__}/{SQLGLOT_VERSION}/{rules_digest()}"
        self.entries: dict[str, dict[str, Any]] = {}
        self.used: dict[str, dict[str, Any]] = {}
        self.touched: set[str] = set()  # the nodes whose translations this command looked for
        self.hits = 0
        self.misses = 0
        self.written = False  # an entry was made (or made again) in this command
        if self.path is None:
            return
        self.entries = jsonio.read_entries(self.path, self.version) or {}

    def key(self, *parts: Any) -> str:
        return digest(*parts)

    def _valid(self, entry: Any, lookup: Lookup) -> bool:
        if not isinstance(entry, dict) or not isinstance(entry.get("r"), list):
            return False
        for database, schema, name, known in entry["r"]:
            if lookup((database, schema, name)).digest != known:
                return False
        return True

    def get(self, node: str, key: str, lookup: Lookup) -> dict[str, Any] | None:
        """The value kept under ``key`` if every relation it read still has the same columns."""
        self.touched.add(node)
        entry = self.entries.get(key)
        try:
            valid = entry is not None and self._valid(entry, lookup) and isinstance(entry.get("v"), dict)
        except (TypeError, ValueError, KeyError, AttributeError):
            valid = False
        if not valid:
            self.misses += 1
            return None
        self.hits += 1
        self.used[key] = entry  # type: ignore[assignment]
        return entry["v"]  # type: ignore[index]

    def put(self, node: str, key: str, value: dict[str, Any], read: dict[Key, str]) -> None:
        self.touched.add(node)
        self.written = True
        self.used[key] = {"n": node, "v": value, "r": [[*k, d] for k, d in read.items()]}

    def record(self, node: str, key: str) -> dict[str, Any] | None:
        """The value kept under ``key`` with no relation to check (kept for the next command too); not
        counted as a hit or a miss."""
        self.touched.add(node)
        entry = self.entries.get(key)
        if not isinstance(entry, dict) or not isinstance(entry.get("v"), dict):
            return None
        self.used[key] = entry
        return entry["v"]

    def keep(self, node: str, key: str, value: dict[str, Any]) -> None:
        """Keep ``value`` under ``key`` (no relation read); the file is written again only if it changes."""
        self.touched.add(node)
        entry = self.entries.get(key)
        if isinstance(entry, dict) and entry.get("n") == node and entry.get("v") == value:
            self.used[key] = entry
            return
        self.put(node, key, value, {})

    def translation(self, node: str, key: str, lookup: Lookup) -> Translation | None:
        """:meth:`get` for a translation (None when missing, stale or unreadable)."""
        found = self.get(node, key, lookup)
        if found is None:
            return None
        try:
            return Translation.from_json(found)
        except (TypeError, ValueError, KeyError):
            self.hits -= 1
            self.misses += 1
            self.used.pop(key, None)
            return None

    def save(self) -> None:
        """Write this command's entries and those of nodes it did not look at; nothing when nothing changed."""
        if self.path is None or not self.used:
            return
        kept = {k: v for k, v in self.entries.items() if isinstance(v, dict) and v.get("n") not in self.touched}
        entries = {**kept, **self.used}
        if not self.written and entries.keys() == self.entries.keys():
            return
        try:
            fsio.atomic_write(self.path, jsonio.dumps({"version": self.version, "entries": entries}))
        except ModelkitError:
            return  # a cache that cannot be written is only slower next time
        self.entries = entries
        self.written = False
