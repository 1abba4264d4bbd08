"""manifest.json written again from the previous one: the unchanged bytes copied, only the changed entries new.

After an incremental parse only a few nodes differ from the manifest.json the last parse wrote. The writer
records where each node's entry and each top-level section's value lie in the file (a :class:`Layout`); the
next write copies every run of unchanged entries as one :class:`modelkit.core.fsio.FileRange` (in the
kernel, without reading it) and serializes only the entries of :attr:`Reuse.rewrite`.
"""

from __future__ import annotations

import marshal
from array import array
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field

from modelkit.core.fsio import FileRange

Chunk = bytes | FileRange


@dataclass
class Layout:
    """Where a manifest.json's parts are: each node's entry (``"id":{...}``), each section's value."""

    order: list[str] = field(default_factory=list)  # the nodes with an entry, in the file's order
    starts: array = field(default_factory=lambda: array("q"))  # of each entry (-1: not to be reused)
    ends: array = field(default_factory=lambda: array("q"))
    sections: dict[str, tuple[int, int]] = field(default_factory=dict)  # top-level key -> its value

    def add(self, uid: str, start: int, end: int) -> None:
        self.order.append(uid)
        self.starts.append(start)
        self.ends.append(end)

    def dumps(self) -> bytes:
        return marshal.dumps((self.order, self.starts.tobytes(), self.ends.tobytes(), self.sections))

    @classmethod
    def loads(cls, data: bytes) -> Layout:
        order, starts, ends, sections = marshal.loads(data)
        layout = cls(order, array("q"), array("q"), sections)
        layout.starts.frombytes(starts)
        layout.ends.frombytes(ends)
        if not (len(layout.order) == len(layout.starts) == len(layout.ends)):
            raise ValueError("inconsistent manifest layout")
        return layout


@dataclass
class Reuse:
    """The previous manifest.json (open, with its layout) and what changed since it was written."""

    fd: int
    layout: Layout
    rewrite: set[str]  # nodes whose entry is to be written anew (parsed again, or compiled)
    keep_edges: bool  # no node's parents changed: parent_map and child_map are copied as they are

    def section(self, key: str) -> FileRange | None:
        where = self.layout.sections.get(key)
        return FileRange(self.fd, where[0], where[1]) if where is not None else None


def node_entries(
    reuse: Reuse, order: list[str], entry: Callable[[str], bytes], position: int, out: Layout, once: Collection[str]
) -> Iterator[Chunk]:
    """The entries of the nodes ``order`` names, comma-separated (no braces), written from ``position`` on.

    An entry not to be rewritten is copied from the previous file, runs of consecutive ones at once;
    ``entry(uid)`` serializes the others. Those in ``once`` (with compiled code) are written anew, and
    marked in ``out`` (where each entry lands) for the next write not to copy.
    """
    if order == reuse.layout.order:
        return (yield from _same_order(reuse, order, entry, position, out, once))
    return (yield from _any_order(reuse, order, entry, position, out, once))


def _same_order(
    reuse: Reuse, order: list[str], entry: Callable[[str], bytes], position: int, out: Layout, once: Collection[str]
) -> Iterator[Chunk]:
    """:func:`node_entries` when the nodes are those of the previous file, in its order (an edit of a few)."""
    starts, ends = reuse.layout.starts, reuse.layout.ends
    fresh_at = {i for i, start in enumerate(starts) if start < 0} if starts and min(starts) < 0 else set()
    rewrite = [*reuse.rewrite, *once]
    index = {uid: i for i, uid in enumerate(order)} if len(rewrite) > 8 else None
    for uid in rewrite:
        i = index.get(uid, -1) if index is not None else _index_of(order, uid)
        if i >= 0:
            fresh_at.add(i)
    new_starts, new_ends = array("q"), array("q")
    done = 0  # the entries before this index are written
    for i in [*sorted(fresh_at), len(order)]:
        if i > done:  # the unchanged run before it
            if done:
                yield b","
                position += 1
            stop = ends[i - 1] + (1 if i < len(order) else 0)  # with the comma after it, unless the last
            yield FileRange(reuse.fd, starts[done], stop)
            shift = position - starts[done]
            new_starts.extend(_shifted(starts, done, i, shift))
            new_ends.extend(_shifted(ends, done, i, shift))
            position += stop - starts[done]
        elif i and i < len(order):
            yield b","
            position += 1
        if i == len(order):
            break
        data = entry(order[i])
        new_starts.append(-1 if order[i] in once else position)
        new_ends.append(position + len(data))
        position += len(data)
        yield data
        done = i + 1
    out.order, out.starts, out.ends = order, new_starts, new_ends
    return position


def _index_of(order: list[str], uid: str) -> int:
    try:
        return order.index(uid)
    except ValueError:  # not an entry of "nodes" (a unit test, or a node removed)
        return -1


def _shifted(values: array, start: int, end: int, shift: int) -> array:
    if not shift:
        return values[start:end]
    return array("q", [v + shift for v in values[start:end]])


def _any_order(
    reuse: Reuse, order: list[str], entry: Callable[[str], bytes], position: int, out: Layout, once: Collection[str]
) -> Iterator[Chunk]:
    old = reuse.layout
    rewrite = reuse.rewrite
    where = {uid: i for i, uid in enumerate(old.order)}
    starts, ends = old.starts, old.ends
    run_first = run_last = -1  # the run of old entries being copied (indexes into old.order)
    run_at = 0  # where that run starts in the new file
    for j, uid in enumerate(order):
        i = where.get(uid, -1)
        if i >= 0 and (uid in rewrite or uid in once or starts[i] < 0):
            i = -1
        if j:
            if i < 0 or run_last < 0 or i != run_last + 1:
                if run_last >= 0:
                    yield FileRange(reuse.fd, starts[run_first], ends[run_last])
                    run_last = -1
                yield b","
                position += 1
            else:
                position += starts[i] - ends[run_last]  # the comma between them, copied with the run
        if i >= 0:
            if run_last < 0:
                run_first, run_at = i, position
            run_last = i
            start = run_at + starts[i] - starts[run_first]
            end = run_at + ends[i] - starts[run_first]
            out.add(uid, -1 if uid in once else start, end)
            position = end
            continue
        data = entry(uid)
        out.add(uid, -1 if uid in once else position, position + len(data))
        position += len(data)
        yield data
    if run_last >= 0:
        yield FileRange(reuse.fd, starts[run_first], ends[run_last])
    return position
