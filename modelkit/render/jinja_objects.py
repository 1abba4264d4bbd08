"""Query results in templates: agate-like tables and rows, and the adapter's response."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from modelkit.adapters.base import QueryResult


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

    def values_distinct(self) -> list[Any]:
        return list(dict.fromkeys(self._values))

    def values_without_nulls(self) -> list[Any]:
        return [v for v in self._values if v is not None]

    def __iter__(self) -> Iterator[Any]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __getitem__(self, index: int) -> Any:
        return self._values[index]


class Columns(list):
    """``table.columns``: by position (``columns[0]``) or by name (``columns['id']``), as agate's."""

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            for column in self:
                if column.name == key:
                    return column
            raise KeyError(key)
        return list.__getitem__(self, key)

    def get(self, key: str, default: Any = None) -> Any:
        try:
            return self[key]
        except KeyError:
            return default

    def keys(self) -> list[str]:
        return [c.name for c in self]

    def values(self) -> list[Any]:
        return list(self)

    def items(self) -> list[tuple[str, Any]]:
        return [(c.name, c) for c in self]

    def dict(self) -> dict[str, Any]:
        return dict(self.items())


class Table:
    """A small stand-in for the agate table dbt's ``run_query`` returns."""

    def __init__(self, columns: Sequence[str], types: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        self.column_names = tuple(columns)
        self.column_types = tuple(types)
        names = {n: i for i, n in enumerate(self.column_names)}
        self.rows = [Row(r, names) for r in rows]
        self.columns = Columns(
            TableColumn(n, t, [r[i] for r in rows])
            for i, (n, t) in enumerate(zip(self.column_names, self.column_types))
        )

    @classmethod
    def from_result(cls, result: QueryResult) -> Table:
        return cls(result.columns, result.types, result.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self) -> Iterator[Row]:
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

    def as_matrix(self) -> list[list[Any]]:
        return [list(row) for row in self.rows]

    def limit(self, count: int) -> Table:
        return Table(self.column_names, self.column_types, self.rows[: int(count)])

    def select(self, names: Sequence[str]) -> Table:
        picked = [self.column_names.index(n) for n in names]
        return Table(
            [self.column_names[i] for i in picked],
            [self.column_types[i] for i in picked],
            [[row[i] for i in picked] for row in self.rows],
        )


class AdapterResponse(dict):
    """What a statement returns: renders as its message; ``code`` and ``rows_affected`` as in dbt."""

    def __init__(self, message: str = "", code: str | None = None, rows_affected: int | None = None) -> None:
        super().__init__(_message=message, code=code if code is not None else message, rows_affected=rows_affected)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):  # `response._message` is read as a key, as from a plain dict
            raise AttributeError(name)
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    def __str__(self) -> str:
        return str(self["_message"])
