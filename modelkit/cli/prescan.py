"""The scan of the project's files a command's parse starts with, taken by a forked process while this one
imports the parser (``parse``, ``compile`` and the commands that run nodes).

Whether anything changed since the last parse is known from the status (size, times, inode) of every
file the parse reads: one ``stat`` per file, tens of milliseconds in a project of ten thousand models.
The command starts a forked copy of itself that loads the project's configuration as the command will
and takes that scan, while the command imports what parsing needs; the command then takes the scan if
the child's configuration is its own (the same key, see :func:`modelkit.parse.state.key`), else scans
itself. Nothing is read from the project before the scan is taken, as when the command scans.
"""

from __future__ import annotations

import marshal
from pathlib import Path
from typing import Any

from modelkit.core.forked import ForkedOutput, compute_forked


class Prescan:
    """The forked scan: :meth:`files` takes it (for the configuration ``key``), :meth:`close` ends it."""

    def __init__(self, forked: ForkedOutput) -> None:
        self._forked = forked

    def files(self, key: str) -> dict[str, list[int]] | None:
        """The files' status by path, when the child's configuration has this key; else None."""
        data = self._forked.output()
        if not data:
            return None
        try:
            found_key, files = marshal.loads(data)
        except (EOFError, ValueError, TypeError):
            return None
        return files if found_key == key and isinstance(files, dict) else None

    def close(self) -> None:
        self._forked.close()


def start(
    project_dir: Path,
    profiles_dir: Path | None,
    target: str | None,
    profile: str | None,
    vars: str | None,
    threads: int | None = None,
) -> Prescan | None:
    """Start the scan (None where this process cannot fork, see :func:`modelkit.core.forked.fork_safe`)."""

    def work() -> bytes:
        # (imported in the forked process only: this one imports them later, with the parser)
        from modelkit.parse import state
        from modelkit.project.profiles import load_target
        from modelkit.project.project import load_project, parse_vars

        cli_vars: dict[str, Any] = parse_vars(vars)
        project = load_project(project_dir, cli_vars)
        found = load_target(
            project, profiles_dir=profiles_dir, target=target, profile=profile, threads=threads, cli_vars=cli_vars
        )
        project = project.with_target(found.to_context())
        return marshal.dumps((state.key(project, found, cli_vars), state.scan(project)))

    forked = compute_forked(work)
    return Prescan(forked) if forked is not None else None
