"""YAML reading with file and line in every error."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from modelkit.core import fsio
from modelkit.core.errors import ProjectError

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


_STR = "tag:yaml.org,2002:str"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"
_MERGE = "tag:yaml.org,2002:merge"


class DuplicateKeyError(yaml.YAMLError):
    """A mapping names the same key twice (YAML says keys are unique; PyYAML keeps the last silently)."""

    def __init__(self, key: Any, first: Any, again: Any) -> None:
        super().__init__()
        self.key, self.first, self.again = key, first, again
        self.problem_mark = again
        self.problem = f"duplicate key {key!r} (first at line {first.line + 1}, again at line {again.line + 1})"
        self.context = None


def _check_unique(node: yaml.Node, loader: Any) -> None:
    """Refuse duplicate keys anywhere under ``node`` (for the nodes PyYAML's own constructor builds)."""
    pending = [node]
    visited: set[int] = set()
    while pending:
        current = pending.pop()
        if id(current) in visited:  # an alias points at a node met already (or at one of its ancestors)
            continue
        visited.add(id(current))
        if isinstance(current, yaml.MappingNode):
            first: dict[Any, Any] = {}
            for key_node, value_node in current.value:
                pending.append(value_node)
                if key_node.tag == _MERGE or not isinstance(key_node, yaml.ScalarNode):
                    continue
                key = loader.construct_object(key_node)
                if key in first:
                    raise DuplicateKeyError(key, first[key], key_node.start_mark)
                first[key] = key_node.start_mark
        elif isinstance(current, yaml.SequenceNode):
            pending.extend(current.value)


def _construct(node: yaml.Node, loader: Any) -> Any:
    """Build Python data from a composed node; plain strings, maps and lists skip PyYAML's slower path."""
    tag = node.tag
    if isinstance(node, yaml.ScalarNode):
        if tag == _STR:
            return node.value
        return loader.construct_object(node, deep=True)
    if isinstance(node, yaml.MappingNode) and tag == _MAP:
        result = {}
        marks = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE:
                _check_unique(node, loader)
                return loader.construct_object(node, deep=True)
            key = _construct(key_node, loader)
            try:
                hash(key)
            except TypeError:
                raise yaml.constructor.ConstructorError(
                    "while constructing a mapping", node.start_mark, "found unhashable key", key_node.start_mark
                ) from None
            if key in marks:
                raise DuplicateKeyError(key, marks[key], key_node.start_mark)
            marks[key] = key_node.start_mark
            result[key] = _construct(value_node, loader)
        return result
    if isinstance(node, yaml.SequenceNode) and tag == _SEQ:
        return [_construct(item, loader) for item in node.value]
    _check_unique(node, loader)
    return loader.construct_object(node, deep=True)


def loads(text: str, path: str) -> Any:
    """Parse YAML text; ``path`` names the file in errors."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        return None if node is None else _construct(node, loader)
    except yaml.YAMLError as exc:
        raise _error(exc, path, text) from None
    finally:
        loader.dispose()


def load(path: Path, display: str | None = None) -> Any:
    text = fsio.read_text(path, display or str(path))
    return loads(text, display or str(path))


def dumps(data: Any) -> str:
    return yaml.safe_dump(data, sort_keys=False, default_flow_style=False)
