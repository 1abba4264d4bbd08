"""Objects exposed to templates besides ref/source/config: tables, exceptions, modules."""

from __future__ import annotations

import datetime
import hashlib
import itertools
import json
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import yaml

from modelkit.adapters.base import QueryResult
from modelkit.core.errors import CompilationError, DatabaseError


class Row(tuple):
    """A result row: index it by position or by column name."""

    _names: dict[str, int]

    def __new__(cls, values: Iterable[Any], names: dict[str, int]) -> Row:
        row = super().__new__(cls, values)
        row._names = names
        return row

    def __getitem__(self, key: Any) -> Any:  # type: ignore[override]
        if isinstance(key, str):
            return tuple.__getitem__(self, self._names[key])
        return tuple.__getitem__(self, key)

    def get(self, key: str, default: Any = None) -> Any:
        index = self._names.get(key)
        return default if index is None else tuple.__getitem__(self, index)

    def keys(self) -> list[str]:
        return list(self._names)

    def values(self) -> list[Any]:
        return list(self)

    def items(self) -> list[tuple[str, Any]]:
        return list(zip(self._names, self))

    def dict(self) -> dict[str, Any]:
        return dict(zip(self._names, self))


class TableColumn:
    def __init__(self, name: str, data_type: str, values: list[Any]) -> None:
        self.name = name
        self.data_type = data_type
        self._values = values

    def values(self) -> list[Any]:
        return list(self._values)

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)


class Table:
    """A small stand-in for the agate table dbt's ``run_query`` returns."""

    def __init__(self, columns: Sequence[str], types: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        self.column_names = tuple(columns)
        self.column_types = tuple(types)
        names = {n: i for i, n in enumerate(self.column_names)}
        self.rows = [Row(r, names) for r in rows]
        self.columns = [
            TableColumn(n, t, [r[i] for r in rows])
            for i, (n, t) in enumerate(zip(self.column_names, self.column_types))
        ]

    @classmethod
    def from_result(cls, result: QueryResult) -> Table:
        return cls(result.columns, result.types, result.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self.rows)

    def __getitem__(self, index: int) -> Row:
        return self.rows[index]

    def __bool__(self) -> bool:
        return True

    def print_table(self, max_rows: int = 20, **_: Any) -> None:
        print(" | ".join(self.column_names))
        for row in self.rows[:max_rows]:
            print(" | ".join(str(v) for v in row))

    def to_dicts(self) -> list[dict[str, Any]]:
        return [row.dict() for row in self.rows]


class Exceptions:
    """The ``exceptions`` namespace."""

    def __init__(self, warn: Callable[[str], None]) -> None:
        self._warn = warn

    def raise_compiler_error(self, msg: str, node: Any = None) -> None:
        raise CompilationError(str(msg))

    def raise_database_error(self, msg: str) -> None:
        raise DatabaseError(str(msg))

    def raise_not_implemented(self, msg: str) -> None:
        raise CompilationError(f"Not implemented: {msg}")

    def raise_fail_fast_error(self, msg: str, node: Any = None) -> None:
        raise CompilationError(str(msg))

    def column_type_missing(self, column_names: Any) -> None:
        raise CompilationError(f"Contracted models require data_type to be defined for each column: {column_names}")

    def warn(self, msg: str, node: Any = None) -> str:
        self._warn(str(msg))
        return ""


class Modules:
    datetime = datetime
    re = re
    itertools = itertools
    json = json

    @property
    def pytz(self) -> Any:
        try:
            import pytz  # type: ignore[import-not-found]
        except ImportError:  # pragma: no cover - optional
            raise CompilationError("modules.pytz needs the pytz package (pip install pytz)") from None
        return pytz


def fromjson(value: str, default: Any = None) -> Any:
    try:
        return json.loads(value)
    except (TypeError, ValueError):
        return default


def tojson(value: Any, default: Any = None, sort_keys: bool = False) -> Any:
    try:
        return json.dumps(value, sort_keys=sort_keys, default=str)
    except (TypeError, ValueError):
        return default


def fromyaml(value: str, default: Any = None) -> Any:
    try:
        return yaml.safe_load(value)
    except yaml.YAMLError:
        return default


def toyaml(value: Any, default: Any = None, sort_keys: bool = False) -> Any:
    try:
        return yaml.safe_dump(value, sort_keys=sort_keys)
    except yaml.YAMLError:
        return default


def as_set(value: Any, default: Any = None) -> Any:
    try:
        return set(value)
    except TypeError:
        return default


def local_md5(value: str) -> str:
    return hashlib.md5(str(value).encode("utf-8")).hexdigest()


def try_or_compiler_error(message_if_exception: str, func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    try:
        return func(*args, **kwargs)
    except Exception:  # noqa: BLE001 - the documented behaviour
        raise CompilationError(message_if_exception) from None


BASE_GLOBALS: dict[str, Any] = {
    "modules": Modules(),
    "fromjson": fromjson,
    "tojson": tojson,
    "fromyaml": fromyaml,
    "toyaml": toyaml,
    "zip": lambda *args, default=None: list(zip(*args)),
    "set": as_set,
    "local_md5": local_md5,
    "try_or_compiler_error": try_or_compiler_error,
    "dbt_version": "1.11.0",
}
