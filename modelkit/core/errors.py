"""Errors raised by modelkit.

One root exception, :class:`ModelkitError`, and a few subclasses. Errors that
point at a file carry its path, the line and a short excerpt with the line
highlighted. Exit codes are decided by the CLI, not here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from modelkit.core.secrets import scrub


class ModelkitError(Exception):
    """Root of every error modelkit raises on purpose."""

    kind = "Error"

    def __init__(
        self,
        message: str,
        *,
        path: str | Path | None = None,
        line: int | None = None,
        source: str | None = None,
        node: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.path = str(path) if path is not None else None
        self.line = line
        self.source = source
        self.node = node
        # where the failing template was called from, innermost first: "models/a.sql:3" (a macro's callers)
        self.called_from: list[str] = []

    @property
    def location(self) -> str:
        if self.path is None:
            return ""
        return f"{self.path}:{self.line}" if self.line else self.path

    def excerpt(self, context: int = 2) -> str:
        """The lines around ``line`` with the faulty one marked by ``>``."""
        if self.source is None or not self.line:
            return ""
        lines = self.source.splitlines()
        start = max(self.line - 1 - context, 0)
        end = min(self.line + context, len(lines))
        width = len(str(end))
        out = []
        for number in range(start + 1, end + 1):
            mark = ">" if number == self.line else " "
            out.append(f"{mark} {number:>{width}} | {lines[number - 1]}")
        return "\n".join(out)

    def __str__(self) -> str:
        head = self.kind
        if self.node:
            head += f" in {self.node}"
        if self.location:
            head += f" ({self.location})"
        text = f"{head}\n  " + self.message.replace("\n", "\n  ")
        for caller in self.called_from:
            text += f"\n  > called from {caller}"
        excerpt = self.excerpt()
        if excerpt:
            text += "\n\n" + excerpt
        return scrub(text)


class ProjectError(ModelkitError):
    """A problem with the project's files: missing, malformed or inconsistent."""

    kind = "Parsing Error"


class AccessError(ProjectError):
    """A ``ref()`` to a model its access does not allow from the referring node (dbt's DbtReferenceError):
    a ``private`` model outside its group, a ``protected`` one outside its package (``scope`` names which)."""

    def __init__(self, unique_id: str, ref_unique_id: str, access: str, scope: str, **where: Any) -> None:
        self.unique_id, self.ref_unique_id, self.access, self.scope = unique_id, ref_unique_id, access, scope
        scope_type = "group" if access == "private" else "package"
        super().__init__(
            f"Node {unique_id} attempted to reference node {ref_unique_id}, which is not allowed because "
            f"the referenced node is {access} to the '{scope}' {scope_type}.",
            **where,
        )


class CompilationError(ModelkitError):
    """A template failed to render, or a reference could not be resolved."""

    kind = "Compilation Error"


class StaticAnalysisError(CompilationError):
    """Static analysis of the compiled SQL found errors before anything ran; one located error each."""

    def __init__(self, errors: list[CompilationError]) -> None:
        first = errors[0]
        super().__init__(first.message, path=first.path, line=first.line, source=first.source, node=first.node)
        self.errors = list(errors)

    def __str__(self) -> str:
        count = len(self.errors)
        tail = (
            f"Static analysis found {count} error{'s' if count != 1 else ''} before anything ran. "
            "Fix the SQL, or set static_analysis: off on the model to skip its analysis."
        )
        return "\n\n".join([*(CompilationError.__str__(e) for e in self.errors), tail])


class StatementRefused(CompilationError):
    """A template asked the database to run a statement while it was compiled ahead of a run, for static
    analysis, where only reading metadata is allowed."""


class DependencyError(CompilationError):
    """A ref or source names nothing, or the graph has a cycle."""


class DialectError(CompilationError):
    """A node's SQL, written in one dialect, holds constructs that do not translate into the target's."""


class DialectErrors(CompilationError):
    """Every node whose SQL does not translate, found before anything ran; one located error each."""

    def __init__(self, errors: list[DialectError], target: str) -> None:
        first = errors[0]
        super().__init__(first.message, path=first.path, line=first.line, source=first.source, node=first.node)
        self.errors = list(errors)
        self.target = target

    def __str__(self) -> str:
        count = len(self.errors)
        tail = (
            f"{count} node{'s' if count != 1 else ''} hold{'s' if count == 1 else ''} SQL that does not translate "
            f"into {self.target}; nothing ran. Write those constructs so that they translate, or write the "
            f"node in {self.target} and set `+dialect` on it."
        )
        return "\n\n".join([*(CompilationError.__str__(e) for e in self.errors), tail])


class SelectionError(ModelkitError):
    """A selector expression could not be parsed."""

    kind = "Selection Error"


class DatabaseError(ModelkitError):
    """The engine rejected a statement."""

    kind = "Runtime Error"


class ConfigRuntimeError(ModelkitError):
    """A node's configuration asks for something the engine cannot do (dbt's DbtRuntimeError)."""

    kind = "Runtime Error"


class FileSystemError(ModelkitError):
    """A file or folder could not be read or written: a full disk, no permission, a file in the way."""

    kind = "File Error"


class ConnectionFailure(ModelkitError):
    """The database could not be opened: locked by another process, not a database file, unreachable."""

    kind = "Connection Error"


class UsageError(ModelkitError):
    """Bad command-line input."""

    kind = "Usage Error"


class StateError(ModelkitError):
    """A comparison state (``--state``, ``--state-git``, run results for ``retry``) is missing or unreadable."""

    kind = "Runtime Error"
