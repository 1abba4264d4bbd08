"""The state flags of a command, as given (what they name is read by :mod:`modelkit.graph.state`,
:mod:`modelkit.parse.stateload` and, for ``--state-git``, :mod:`modelkit.api.stategit`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class StateOptions:
    """dbt's state flags: ``--state``, ``--defer``, ``--defer-state``, ``--favor-state``, and ``--state-git``."""

    state: str | Path | None = None
    state_git: str | None = None
    defer: bool = False
    defer_state: str | Path | None = None
    favor_state: bool = False
