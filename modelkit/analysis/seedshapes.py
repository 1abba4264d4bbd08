"""Seeds' shapes kept between commands (``target/modelkit_seed_shapes.json``).

A seed's shape (:func:`modelkit.analysis.shapes.seed_shape`) is its CSV header with the types its
values suggest: reading and sniffing thousands of rows each time a command analyses a query that reads
the seed would cost more than the analysis itself. It is kept under the status of the file (size,
modification and change times, inode), the seed's ``delimiter`` and ``column_types`` and the dialect,
and read again when any of them changed. A file modified within two seconds of being read is not kept
(its times may not tell the next change).
"""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path
from typing import Any

from modelkit import __version__
from modelkit.analysis.shapes import SAMPLE_ROWS, Shape, seed_shape
from modelkit.core import fsio, jsonio
from modelkit.core.errors import ModelkitError
from modelkit.core.manifest import Node

FILE_NAME = "modelkit_seed_shapes.json"
FORMAT = 1
RACY_NS = 2_000_000_000


class SeedShapes:
    """:meth:`shape` is :func:`seed_shape`, answered from the file when the seed is as it was."""

    def __init__(self, target_dir: Path) -> None:
        self.path = target_dir / FILE_NAME
        self.version = f"{FORMAT}/{__version__}/{SAMPLE_ROWS}"
        # key -> [the seed's path, its shape]
        self.entries: dict[str, list[Any]] = jsonio.read_entries(self.path, self.version, "shapes") or {}
        self.used: dict[str, list[Any]] = {}

    def shape(self, node: Node, project_root: Path, dialect: str = "") -> Shape:
        path = str(Path(getattr(node, "root_path", "") or project_root) / node.original_file_path)
        try:
            st = os.stat(path)
        except OSError:
            return seed_shape(node, project_root, dialect)
        status = [path, st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino]
        config = [node.config.get("delimiter"), node.config.get("column_types"), dialect]
        key = hashlib.sha256(jsonio.dumps([status, config])).hexdigest()
        kept = self.entries.get(key)
        if isinstance(kept, list) and len(kept) == 2:
            try:
                found = Shape.from_json(kept[1])
            except (IndexError, TypeError, ValueError):  # a damaged entry: the file is read again
                found = None
            if found is not None:
                self.used[key] = kept
                return found
        made = seed_shape(node, project_root, dialect)
        now = time.time_ns()
        if now - st.st_mtime_ns > RACY_NS and now - st.st_ctime_ns > RACY_NS:
            self.used[key] = [path, made.to_json()]
        return made

    def save(self) -> None:
        """Keep the shapes this command used, and the others' of seeds it did not read (a seed has one)."""
        if not self.used or self.used.keys() <= self.entries.keys():
            return
        read = {entry[0] for entry in self.used.values()}
        kept = {k: v for k, v in self.entries.items() if isinstance(v, list) and v and v[0] not in read}
        try:
            fsio.atomic_write(self.path, jsonio.dumps({"version": self.version, "shapes": {**kept, **self.used}}))
        except ModelkitError:
            pass  # a file that cannot be written is only slower next time
