"""JSON for artifacts and caches: orjson where it can, the standard library where it cannot.

orjson encodes the 50 MB ``manifest.json`` of a 10,000-model project about seven times faster than
``json``. It refuses a few values that ``json`` accepts (integers beyond 64 bits, for instance); those
fall back to ``json`` with the same output shape.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import orjson

from modelkit.core import fsio

_OPTIONS = orjson.OPT_NON_STR_KEYS


def _default(value: Any) -> Any:
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=str)
    return str(value)


def dumps(data: Any) -> bytes:
    """Compact JSON as UTF-8 bytes; values JSON has no type for are written as strings."""
    try:
        return orjson.dumps(data, default=_default, option=_OPTIONS)
    except (TypeError, orjson.JSONEncodeError):
        return json.dumps(data, default=_default, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


_STRICT = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_SUBCLASS


def is_plain(data: Any) -> bool:
    """Whether ``data`` survives a trip through JSON unchanged (dicts with string keys, lists, scalars)."""
    try:
        return orjson.loads(orjson.dumps(data, option=_STRICT)) == data
    except (TypeError, orjson.JSONEncodeError):
        return False


def loads(data: bytes | str) -> Any:
    return orjson.loads(data)


def read(path: Path) -> Any:
    """The JSON in ``path``; raises OSError or ValueError (orjson.JSONDecodeError is one)."""
    with open(path, "rb") as fh:
        return orjson.loads(fh.read())


def write(path: Path, data: Any, *, spare: bool = False) -> None:
    """Write ``data`` to ``path`` atomically (a temporary file renamed over it; with ``spare``, a large
    file through its spare copy: see :func:`modelkit.core.fsio.atomic_write`)."""
    fsio.atomic_write(path, dumps(data), spare=spare)


def read_entries(path: Path, version: Any, key: str = "entries") -> dict[str, Any] | None:
    """The ``key`` mapping of a JSON file a cache keeps between commands (``{"version": ..., key: {...}}``),
    when the file is there, readable and of this ``version``; else None (the cache starts empty)."""
    try:
        data = loads(path.read_bytes())
    except (OSError, ValueError):
        return None
    if isinstance(data, dict) and data.get("version") == version and isinstance(data.get(key), dict):
        return data[key]  # type: ignore[no-any-return]
    return None
