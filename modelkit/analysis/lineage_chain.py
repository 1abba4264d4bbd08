"""Column lineage of the nodes the database lacks, in dependency order, on a worker process.

A node that is not built (ephemeral, or not run yet) has no columns in the catalog: its children read
the columns its own query yields. So these nodes are analysed one after the other, each recording its
columns for the next (:class:`Chain`). That chain cannot be split, but it need not hold up the caller:
:class:`ChainRunner` feeds it to one worker process (``python -m modelkit.analysis.lineage_worker``)
while the caller compiles the next nodes, then takes back what the worker found and recorded. A worker
that fails costs only time: the caller then runs the whole chain itself, from the same start.
"""

from __future__ import annotations

import pickle
import queue
import re
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from modelkit.analysis.lineage import Key, LineageContext, NodeLineage
from modelkit.analysis.lineage_cache import LineageCache, lineage_from_dict, lineage_to_dict
from modelkit.analysis.queryshapes import ShapeCache

_MADE_UP = re.compile(r"_col_\d+")  # names sqlglot gives unnamed expressions; the database names them otherwise
BATCH = 50  # links per message to the worker

# How a node is recorded for its children: ("ephemeral", its CTE name, the columns the database
# described for its query, or None), ("relation", its relation's key), or ("none",) (an analysis).
Record = tuple[Any, ...]
Link = tuple[str, str, list[str], Record]  # unique_id, compiled SQL, parents, how it is recorded
Column = tuple[str, "str | None"]


@dataclass
class ChainResult:
    found: dict[str, tuple[NodeLineage, list[Column]]] = field(default_factory=dict)  # lineage, columns
    recorded: list[tuple[str, Any, str, dict[str, str]]] = field(default_factory=list)  # replayed on a context
    cache: dict[str, Any] = field(default_factory=dict)  # LineageCache.export() of the chain's queries
    shapes: dict[Any, Any] = field(default_factory=dict)  # ShapeCache.done


class Chain:
    """Each link analysed (or found in the cache), then recorded in the context for the next ones."""

    def __init__(self, ctx: LineageContext, cache: LineageCache | None, shapes: ShapeCache | None = None) -> None:
        self.ctx = ctx
        self.cache = cache
        self.shapes = shapes if shapes is not None else ShapeCache()
        self.result = ChainResult()

    def add(self, link: Link) -> None:
        uid, sql, parents, record = link
        job = (uid, sql, parents)
        found = self.cache.get(job) if self.cache is not None else None
        if found is None:
            found = self.shapes.analyse(self.ctx, sql, parents)
            if self.cache is not None:
                self.cache.put(job, found)
        columns: list[Column] = [(name, None) for name in found.columns if not _MADE_UP.fullmatch(name) or name in sql]
        if record[0] == "ephemeral":
            columns = record[2] or columns
        names = {name: dtype or "" for name, dtype in columns}
        entry = (record[0], record[1] if len(record) > 1 else None, uid, names)
        record_in(self.ctx, entry)
        self.result.recorded.append(entry)
        self.result.found[uid] = (found, columns)

    def finish(self, jobs: list[tuple[str, str, list[str]]]) -> ChainResult:
        if self.cache is not None:
            self.result.cache = self.cache.export(jobs)
        self.result.shapes = self.shapes.done
        return self.result


def record_in(ctx: LineageContext, entry: tuple[str, Any, str, dict[str, str]]) -> None:
    """Make a node readable by its children in ``ctx``: its columns, under its relation (or CTE name)."""
    kind, name, uid, names = entry
    if kind == "ephemeral":
        ctx.add_ephemeral(name, uid, names)
    elif kind == "relation":
        key: Key = tuple(name)  # type: ignore[assignment]
        ctx.add_relation(key, uid, names)


class ChainRunner:
    """A :class:`Chain` on a worker process (``worker``) or, failing that or without it, in this one.

    ``finish`` returns what the chain found and recorded; the caller's context, cache and shapes are
    left as they were until then, and brought to the chain's end state by it.
    """

    def __init__(
        self,
        ctx: LineageContext,
        cache: LineageCache | None,
        shapes: ShapeCache,
        *,
        worker: bool,
        cache_dir: Path | None,
        process: subprocess.Popen[bytes] | None = None,  # a worker started ahead (see spawn)
    ) -> None:
        self.ctx = ctx
        self.cache = cache
        self.shapes = shapes
        self.links: list[Link] = []
        self._pending: list[Link] = []
        self._proc: subprocess.Popen[bytes] | None = None
        self.process: subprocess.Popen[bytes] | None = None  # the worker, if one was started
        self._out: queue.Queue[Any] = queue.Queue()  # messages for the worker, written by a thread of their own
        self._reply: list[Any] = []
        self._threads: list[threading.Thread] = []
        if process is not None and not worker:
            dismiss(process)
        if worker:
            self._proc = process or spawn()
            if self._proc is not None:
                self.process = self._proc
                self._out.put(("chain", ctx, str(cache_dir) if cache_dir is not None and cache is not None else None))
                for target in (self._write, self._read):
                    thread = threading.Thread(target=target, name="modelkit-lineage-chain", daemon=True)
                    thread.start()
                    self._threads.append(thread)

    def _write(self) -> None:
        """Send each message as it comes (a full pipe blocks this thread, never the caller)."""
        assert self._proc is not None and self._proc.stdin is not None
        stdin = self._proc.stdin
        try:
            while True:
                message = self._out.get()
                pickle.dump(message, stdin, protocol=pickle.HIGHEST_PROTOCOL)
                stdin.flush()
                if message is None:
                    break
        except (OSError, ValueError):
            pass
        try:
            stdin.close()
        except OSError:
            pass

    def _read(self) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        try:
            self._reply.append(pickle.load(self._proc.stdout))
        except Exception:  # noqa: BLE001 - no answer: the chain is run here
            pass

    def add(self, link: Link) -> None:
        self.links.append(link)
        if self._proc is None:
            return
        self._pending.append(link)
        if len(self._pending) >= BATCH:
            self._out.put(self._pending)
            self._pending = []

    def send(self) -> None:
        """Send the links added since the last full batch (the worker need not wait for more)."""
        if self._proc is not None and self._pending:
            self._out.put(self._pending)
            self._pending = []

    def cancel(self) -> None:
        """Stop the worker without waiting for it (the caller failed)."""
        proc, self._proc = self._proc, None
        if proc is not None:
            proc.kill()
            self._out.put(None)
            proc.wait()

    def _wait(self) -> Any:
        proc, self._proc = self._proc, None
        assert proc is not None
        if self._pending:
            self._out.put(self._pending)
            self._pending = []
        self._out.put(None)
        for thread in self._threads:
            thread.join()
        if proc.stdout is not None:
            proc.stdout.close()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        return self._reply[0] if self._reply else None

    def finish(self) -> ChainResult:
        jobs = [(uid, sql, parents) for uid, sql, parents, _ in self.links]
        result: ChainResult | None = None
        dicts: dict[str, dict[str, Any]] = {}  # each node's lineage as the worker sent it
        if self._proc is not None:
            reply = self._wait()
            if isinstance(reply, dict) and [uid for uid, *_ in reply.get("found", ())] == [u for u, *_ in self.links]:
                dicts = {uid: data for uid, data, _ in reply["found"]}
                result = ChainResult(
                    {uid: (lineage_from_dict(data), columns) for uid, data, columns in reply["found"]},
                    reply["recorded"],
                    reply["cache"],
                    reply["shapes"],
                )
        if result is None:  # no worker, or it failed: the whole chain here, on the caller's own state
            chain = Chain(self.ctx, self.cache, self.shapes)
            for link in self.links:
                chain.add(link)
            return chain.finish(jobs)
        for entry in result.recorded:
            record_in(self.ctx, entry)
        if self.cache is not None:
            self.cache.merge(jobs, result.cache, dicts)
        self.shapes.done.update(result.shapes)
        return result


def spawn() -> subprocess.Popen[bytes] | None:
    """A worker process for a chain, started ahead (it loads sqlglot while the caller gets ready); or None."""
    try:
        return subprocess.Popen(
            [sys.executable, "-m", "modelkit.analysis.lineage_worker", "--chain"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,  # a failing worker only leaves the chain to this process
        )
    except OSError:
        return None


def dismiss(process: subprocess.Popen[bytes], kill: bool = False) -> None:
    """Let a worker that is not needed go (it ends when its input closes), without waiting for it."""
    if kill:
        process.kill()
    for stream in (process.stdin, process.stdout):
        try:
            if stream is not None:
                stream.close()
        except OSError:
            pass
    threading.Thread(target=process.wait, name="modelkit-lineage-chain", daemon=True).start()


def serve(ctx: LineageContext, cache_dir: str | None, source: Any, sink: Any) -> None:
    """The worker's side: links in batches on ``source`` until None, then the :class:`ChainResult` on ``sink``."""
    cache = LineageCache(Path(cache_dir), ctx) if cache_dir is not None else None
    chain = Chain(ctx, cache)
    links: list[Link] = []
    while True:
        batch = pickle.load(source)
        if batch is None:
            break
        for link in batch:
            chain.add(link)
        links.extend(batch)
    result = chain.finish([(uid, sql, parents) for uid, sql, parents, _ in links])
    # plain data: unpickling thousands of dataclasses costs the caller more than building them anew
    reply = {
        "found": [(uid, lineage_to_dict(found), columns) for uid, (found, columns) in result.found.items()],
        "recorded": result.recorded,
        "cache": result.cache,
        "shapes": result.shapes,
    }
    pickle.dump(reply, sink, protocol=pickle.HIGHEST_PROTOCOL)
    sink.flush()
