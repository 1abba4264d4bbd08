"""YAML reading with file and line in every error."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from .errors import ProjectError

try:  # the C loader is several times faster
    _Loader: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - libyaml missing
    _Loader = yaml.SafeLoader


def _error(exc: yaml.YAMLError, path: str, text: str) -> ProjectError:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    line = mark.line + 1 if mark is not None else None
    problem = getattr(exc, "problem", None) or str(exc)
    context = getattr(exc, "context", None)
    message = f"Invalid YAML: {problem}" + (f" ({context})" if context else "")
    return ProjectError(message, path=path, line=line, source=text)


def loads(text: str, path: str) -> Any:
    """Parse YAML text; ``path`` names the file in errors."""
    try:
        return yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        raise _error(exc, path, text) from None


def load(path: Path, display: str | None = None) -> Any:
    text = path.read_text(encoding="utf-8")
    return loads(text, display or str(path))


def dumps(data: Any) -> str:
    return yaml.safe_dump(data, sort_keys=False, default_flow_style=False)
