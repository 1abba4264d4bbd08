"""A project as an editor sees it: the files on disk with the open documents' unsaved text over them.

The project is mirrored into a private folder (files copied when their size or time changes, the open
documents written as the editor holds them), and that copy is parsed, compiled and analysed by the
library exactly as ``modelkit compile`` would; incremental parsing keeps it quick after an edit.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from modelkit.analysis.shapes import Shape
from modelkit.analysis.static import Diagnostic
from modelkit.api.analysis import ANALYSED, read_only, start_analysis, static_shapes
from modelkit.api.session import Session
from modelkit.core import jsonio
from modelkit.core.errors import ModelkitError
from modelkit.core.manifest import Manifest

SKIPPED_DIRS = frozenset({"target", "logs", "node_modules", "__pycache__"})  # and hidden folders


@dataclass
class Problem:
    """One diagnostic: a project-relative file, a 1-based line (None: the file as a whole)."""

    path: str
    line: int | None
    message: str
    severity: str  # error | warn | info
    code: str = ""


@dataclass
class Check:
    """What one parse, compile and analysis of the project found."""

    manifest: Manifest | None = None  # after a failed parse, the last one that succeeded
    problems: list[Problem] = field(default_factory=list)
    shapes: dict[str, Shape] = field(default_factory=dict)  # unique_id -> columns known before anything runs
    catalog: dict[str, dict[str, str]] = field(default_factory=dict)  # unique_id -> column -> type


class Workspace:
    """The project at ``root`` with ``open`` documents (project-relative path -> text) laid over it."""

    def __init__(self, root: str | Path, profiles_dir: str | Path | None = None) -> None:
        self.root = Path(root).resolve()
        self.profiles_dir = profiles_dir
        self._tmp = tempfile.TemporaryDirectory(prefix="modelkit-lsp-")
        self.mirror = Path(self._tmp.name) / self.root.name
        self.open: dict[str, str] = {}
        self.last = Check()

    def close(self) -> None:
        self._tmp.cleanup()

    def relative(self, path: str | Path) -> str | None:
        """``path`` relative to the project (None outside it); mirror paths map back to the project."""
        p = Path(path)
        if not p.is_absolute():
            return p.as_posix()
        for base in (self.root, self.mirror):
            try:
                return p.resolve().relative_to(base.resolve()).as_posix()
            except ValueError:
                continue
        return None

    def sync(self) -> None:
        """Bring the mirror up to date with the disk, then write the open documents over it."""
        seen: set[str] = set()
        for folder, dirs, files in os.walk(self.root):
            dirs[:] = [d for d in dirs if d not in SKIPPED_DIRS and not d.startswith(".")]
            rel_dir = Path(folder).relative_to(self.root)
            for name in files:
                rel = (rel_dir / name).as_posix()
                seen.add(rel)
                if rel in self.open:
                    continue
                src, dst = Path(folder) / name, self.mirror / rel
                try:
                    st, dt = src.stat(), dst.stat() if dst.exists() else None
                    if dt is None or (st.st_size, st.st_mtime_ns) != (dt.st_size, dt.st_mtime_ns):
                        dst.parent.mkdir(parents=True, exist_ok=True)
                        shutil.copy2(src, dst)
                except OSError:
                    continue  # a file that vanished while being read: the next check sees it gone
        for rel, text in self.open.items():
            dst = self.mirror / rel
            seen.add(rel)
            data = text.encode("utf-8")
            if not dst.exists() or dst.read_bytes() != data:
                dst.parent.mkdir(parents=True, exist_ok=True)
                dst.write_bytes(data)
        for folder, dirs, files in os.walk(self.mirror):
            dirs[:] = [d for d in dirs if d not in SKIPPED_DIRS and not d.startswith(".")]
            rel_dir = Path(folder).relative_to(self.mirror)
            for name in files:
                if (rel_dir / name).as_posix() not in seen:
                    (Path(folder) / name).unlink(missing_ok=True)

    def check(self) -> Check:
        """Parse, compile and analyse the project; the open documents' models are analysed."""
        self.sync()
        result = Check(catalog=self._catalog())
        try:
            with Session(self.mirror, which="compile", profiles_dir=self._profiles(), partial_parse=True) as session:
                result.manifest = manifest = session.manifest
                chosen = [
                    uid
                    for uid, node in manifest.nodes.items()
                    if node.resource_type in ANALYSED and node.original_file_path in self.open
                ]
                if chosen:
                    with read_only(session):
                        pipeline = start_analysis(session, chosen, worker=False)
                        report = pipeline.finish() if pipeline is not None else None
                    if report is not None:
                        result.problems += [self._problem(d) for d in report.diagnostics if d.path]
                    result.shapes = static_shapes(session, chosen)
        except ModelkitError as exc:
            result.problems.append(self._error(exc))
        if result.manifest is None:  # mid-edit text that does not parse: look things up in the last good one
            result.manifest, result.shapes = self.last.manifest, self.last.shapes
        self.last = result
        return result

    def _profiles(self) -> str | Path | None:
        if self.profiles_dir is not None:
            return self.profiles_dir
        if os.environ.get("MODELKIT_PROFILES_DIR") or os.environ.get("DBT_PROFILES_DIR"):
            return None
        # profiles.yml beside the project (copied into the mirror) or in ~/.dbt, as the command line finds it
        return self.root if (self.root / "profiles.yml").exists() else None

    def _problem(self, d: Diagnostic) -> Problem:
        return Problem(self.relative(d.path or "") or "", d.line, d.message, d.severity, d.code)

    def _error(self, exc: ModelkitError) -> Problem:
        path = self.relative(exc.path) if exc.path else None
        if path is None:  # an error of the project as a whole: shown on its project file
            path = next((n for n in ("dbt_project.yml", "modelkit.yml") if (self.root / n).exists()), "dbt_project.yml")
        return Problem(path, exc.line, exc.message, "error", type(exc).__name__)

    def _catalog(self) -> dict[str, dict[str, str]]:
        """Column types from target/catalog.json (``docs generate``), when the project has one."""
        path = self.root / "target" / "catalog.json"
        if not path.exists():
            return {}
        try:
            data: Any = jsonio.read(path)
            found: dict[str, dict[str, str]] = {}
            for group in ("nodes", "sources"):
                for uid, entry in (data.get(group) or {}).items():
                    cols = entry.get("columns") or {}
                    found[uid] = {c.get("name", k): c.get("type") or "" for k, c in cols.items()}
            return found
        except (OSError, ValueError, AttributeError, TypeError):
            return {}
