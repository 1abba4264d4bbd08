"""What the macro files of installed packages hold, remembered between parses.

Finding the macros of a file means parsing it with Jinja: for dbt_utils and dbt_expectations together,
about half a second on every parse that starts without ``target/``. Installed packages do not change
between ``deps`` runs, so what was found in each of their files is kept in one small file in the
packages folder (``dbt_packages/.modelkit-macros.json``; dbt ignores files there), by the file's content
hash. A file whose hash differs is parsed again, so an edited package is never read stale. The index
lives outside ``target/`` because it describes ``dbt_packages/``, not one parse.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict
from pathlib import Path
from typing import Any

from modelkit.core import fsio, jsonio
from modelkit.core.errors import FileSystemError
from modelkit.core.manifest import Macro
from modelkit.render.macros import discover

INDEX_NAME = ".modelkit-macros.json"
VERSION = 1


class MacroIndex:
    """The macros found in each package file (keyed by its path from the root project), by content hash."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / INDEX_NAME
        self.changed = False
        self.seen: set[str] = set()
        try:
            data = jsonio.loads(self.path.read_bytes()) if self.path.is_file() else {}
        except (OSError, ValueError):
            data = {}  # unreadable or corrupt: everything is found again and the index rewritten
        files = data.get("files") if isinstance(data, dict) and data.get("version") == VERSION else None
        self.files: dict[str, Any] = files if isinstance(files, dict) else {}

    def macros(self, text: str, path: str, package: str, original: str | None) -> list[Macro]:
        """The macros of one package file: remembered when its content and package are the same, else found."""
        self.seen.add(path)
        sha = hashlib.sha256(text.encode("utf-8")).hexdigest()
        entry = self.files.get(path)
        if isinstance(entry, dict) and entry.get("sha256") == sha and entry.get("package") == package:
            try:
                return [Macro(**macro) for macro in entry["macros"]]
            except (TypeError, KeyError):
                pass  # written by another version of modelkit: found again below
        found = discover(text, path, package, original)
        self.files[path] = {"sha256": sha, "package": package, "macros": [asdict(m) for m in found]}
        self.changed = True
        return found

    def save(self) -> None:
        """Write the index if anything was found again or a file is gone (best effort)."""
        gone = set(self.files) - self.seen
        if not (self.changed or gone) or not self.path.parent.is_dir():
            return
        for path in gone:
            del self.files[path]
        try:
            fsio.atomic_write(self.path, jsonio.dumps({"version": VERSION, "files": self.files}))
        except (OSError, FileSystemError):
            pass  # a read-only packages folder only costs speed on the next parse
