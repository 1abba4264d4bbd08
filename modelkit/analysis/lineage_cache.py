"""A cache of column lineage between runs of ``docs generate`` (``target/lineage_cache.json``).

An entry is reused only when the compiled SQL, the node's parents and the columns of every relation
the query names are what they were when it was computed; anything else is analysed again.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import orjson

from modelkit import __version__
from modelkit.analysis.lineage import ColumnLineage, Job, LineageContext, NodeLineage, Upstream
from modelkit.core import fsio, jsonio
from modelkit.core.packages import installed_version

FILE_NAME = "lineage_cache.json"
FORMAT = 5  # bump when the shape of an entry (or of its keys) changes; 5: upstream columns in a stable order


def _version(ctx: LineageContext) -> str:
    # sqlglot's version from its package metadata: importing sqlglot (~0.2 s) is not needed when every entry is reused
    sqlglot = installed_version("sqlglot") or "?"
    return f"{FORMAT}/{__version__}/{sqlglot}/{ctx.dialect}/{ctx.default_database}/{ctx.default_schema}".lower()


def _digest(*parts: Any) -> str:
    return hashlib.sha256(orjson.dumps(parts, default=str, option=orjson.OPT_SORT_KEYS)).hexdigest()


class LineageCache:
    def __init__(self, target_dir: Path, ctx: LineageContext) -> None:
        self.path = target_dir / FILE_NAME
        self.ctx = ctx
        self.version = _version(ctx)
        self.entries: dict[str, dict[str, Any]] = jsonio.read_entries(self.path, self.version) or {}
        self.hits = 0
        self.added: set[str] = set()  # keys of the entries put in this run
        self._keys: dict[str, tuple[list[str], str]] = {}  # compiled SQL -> (its parents, its key)

    def _key(self, sql: str, parents: list[str]) -> str:
        known = self._keys.get(sql)
        if known is not None and known[0] == parents:
            return known[1]
        lowered = sql.lower()
        ephemerals = sorted((name, uid) for name, uid in self.ctx.ephemerals.items() if name in lowered)
        key = _digest(sql, sorted(parents), ephemerals)
        self._keys[sql] = (parents, key)
        return key

    def _tables(self, tables: list[Any]) -> str:
        return _digest(
            [
                (list(key), sorted(self.ctx.columns.get(tuple(key), {})), self.ctx.nodes.get(tuple(key)))
                for key in tables
            ]
        )

    def get(self, job: Job) -> NodeLineage | None:
        uid, sql, parents = job
        entry = self.entries.get(self._key(sql, parents))
        if entry is None or entry["tables_digest"] != self._tables(entry["lineage"]["tables"]):
            return None
        self.hits += 1
        return lineage_from_dict(entry["lineage"])

    def put(self, job: Job, found: NodeLineage) -> None:
        uid, sql, parents = job
        key = self._key(sql, parents)
        self.added.add(key)
        self.entries[key] = {
            "node": uid,
            "tables_digest": self._tables(found.tables),
            "lineage": lineage_to_dict(found),
        }

    def export(self, jobs: list[Job]) -> dict[str, Any]:
        """What another process's cache needs to take over these jobs (see :meth:`merge`): the key each
        was looked up under, and of each entry put in this run, its node and its tables' digest (the
        lineage itself travels apart, by node)."""
        keys = [self._key(sql, parents) for _, sql, parents in jobs]
        put = {
            k: (self.entries[k]["node"], self.entries[k]["tables_digest"])
            for k in dict.fromkeys(keys)
            if k in self.added
        }
        return {"keys": keys, "put": put}

    def merge(self, jobs: list[Job], exported: dict[str, Any], lineage: dict[str, dict[str, Any]]) -> None:
        """Take over what :meth:`export` gave for the same jobs; ``lineage``: each node's, as a dict."""
        for (_, sql, parents), key in zip(jobs, exported.get("keys", [])):
            self._keys[sql] = (parents, key)
        for key, (uid, digest) in exported.get("put", {}).items():
            self.entries[key] = {"node": uid, "tables_digest": digest, "lineage": lineage[uid]}
            self.added.add(key)

    def save(self, keep: list[Job]) -> None:
        """Write the cache with the entries of these jobs only (others are stale)."""
        wanted = {self._key(sql, parents) for _, sql, parents in keep}
        entries = {k: v for k, v in self.entries.items() if k in wanted}
        fsio.atomic_write(self.path, orjson.dumps({"version": self.version, "entries": entries}))


def lineage_to_dict(found: NodeLineage) -> dict[str, Any]:
    return {
        "columns": found.columns,
        "lineage": {
            name: [c.status, [[u.unique_id, u.relation, u.column, u.how] for u in c.upstream], c.reason]
            for name, c in found.lineage.items()
        },
        "error": found.error,
        "tables": [list(t) for t in found.tables],
    }


def lineage_from_dict(data: dict[str, Any]) -> NodeLineage:
    return NodeLineage(
        columns=list(data["columns"]),
        lineage={
            name: ColumnLineage(status, [Upstream(*u) for u in upstream], reason)
            for name, (status, upstream, reason) in data["lineage"].items()
        },
        error=data.get("error"),
        tables=[tuple(t) for t in data.get("tables", [])],
    )
