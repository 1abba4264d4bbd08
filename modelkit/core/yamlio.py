"""YAML reading with file and line in every error."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

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


def _construct(node: yaml.Node, loader: Any) -> Any:
    """Build Python data from a composed node; plain strings, maps and lists skip PyYAML's slower path."""
    tag = node.tag
    if isinstance(node, yaml.ScalarNode):
        if tag == _STR:
            return node.value
        return loader.construct_object(node, deep=True)
    if isinstance(node, yaml.MappingNode) and tag == _MAP:
        result = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE:
                return loader.construct_object(node, deep=True)
            key = _construct(key_node, loader)
            try:
                hash(key)
            except TypeError:
                raise yaml.constructor.ConstructorError(
                    "while constructing a mapping", node.start_mark, "found unhashable key", key_node.start_mark
                ) from None
            result[key] = _construct(value_node, loader)
        return result
    if isinstance(node, yaml.SequenceNode) and tag == _SEQ:
        return [_construct(item, loader) for item in node.value]
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
    text = path.read_text(encoding="utf-8")
    return loads(text, display or str(path))


def dumps(data: Any) -> str:
    return yaml.safe_dump(data, sort_keys=False, default_flow_style=False)
