"""``api.Column``: dbt's column object, as templates see it (``adapter.get_columns_in_relation``).

It follows dbt-adapters' ``Column`` with dbt-duckdb's integer and float type names, so that
``column.data_type``, ``is_string()``, ``string_size()`` and ``translate_type`` give what they
give under dbt. The engine's own column descriptions stay :class:`~modelkit.adapters.base.ColumnInfo`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, ClassVar

from modelkit.adapters.base import ColumnInfo
from modelkit.core.errors import CompilationError

_STRING_TYPES = frozenset({"text", "character varying", "character", "varchar"})
_FLOAT_TYPES = frozenset({"real", "float", "float4", "float8", "double", "double precision"})
_INTEGER_TYPES = frozenset(
    """tinyint smallint integer bigint hugeint utinyint usmallint uinteger ubigint int1 int2 int4 int8 short int
    signed long smallserial serial bigserial serial2 serial4 serial8""".split()
)
_NUMERIC_TYPES = frozenset({"numeric", "decimal"})


@dataclass
class Column:
    """A column: ``name`` (``column``), ``dtype`` and the size parts of its type."""

    TYPE_LABELS: ClassVar[dict[str, str]] = {"STRING": "TEXT"}

    column: str
    dtype: str
    char_size: int | None = None
    numeric_precision: Any = None
    numeric_scale: Any = None

    @classmethod
    def translate_type(cls, dtype: str) -> str:
        return cls.TYPE_LABELS.get(str(dtype).upper(), dtype)

    @classmethod
    def create(cls, name: str, label_or_dtype: str) -> Column:
        return cls(name, cls.translate_type(label_or_dtype))

    @classmethod
    def string_type(cls, size: int) -> str:
        return f"character varying({size})"

    @classmethod
    def numeric_type(cls, dtype: str, precision: Any, scale: Any) -> str:
        if precision is None or scale is None:
            return dtype
        return f"{dtype}({precision},{scale})"

    @classmethod
    def from_description(cls, name: str, raw_data_type: str) -> Column:
        """``DECIMAL(18,3)`` -> dtype ``DECIMAL``, precision 18, scale 3; ``VARCHAR(20)`` -> char_size 20."""
        match = re.match(r"([^(]+)(\([^)]+\))?$", raw_data_type.strip())
        if match is None:
            raise CompilationError(f'Could not interpret data type "{raw_data_type}"')
        data_type, size_info = match.groups()
        char_size = precision = scale = None
        if size_info is not None:
            parts = [p.strip() for p in size_info[1:-1].split(",")]
            try:
                if len(parts) == 1:
                    char_size = int(parts[0])
                elif len(parts) == 2:
                    precision, scale = int(parts[0]), int(parts[1])
            except ValueError:
                return cls(name, raw_data_type)  # a type with arguments that are not sizes (e.g. a STRUCT)
        return cls(name, data_type.strip(), char_size, precision, scale)

    @classmethod
    def from_info(cls, info: ColumnInfo) -> Column:
        """A relation's or query's column as dbt-duckdb describes it: ``dtype`` is the engine's whole type
        (``DECIMAL(10,2)``, ``STRUCT(a INTEGER)``), with no separate size parts."""
        return cls(info.name, info.data_type)

    @property
    def name(self) -> str:
        return self.column

    @property
    def quoted(self) -> str:
        return f'"{self.column}"'

    @property
    def data_type(self) -> str:
        if self.is_string():
            return self.string_type(self.string_size())
        if self.is_numeric():
            return self.numeric_type(self.dtype, self.numeric_precision, self.numeric_scale)
        return self.dtype

    @property
    def expanded_data_type(self) -> str:
        return self.data_type

    def is_string(self) -> bool:
        return self.dtype.lower() in _STRING_TYPES

    def is_number(self) -> bool:
        return self.is_integer() or self.is_numeric() or self.is_float()

    def is_float(self) -> bool:
        return self.dtype.lower() in _FLOAT_TYPES

    def is_integer(self) -> bool:
        return self.dtype.lower() in _INTEGER_TYPES

    def is_numeric(self) -> bool:
        return self.dtype.lower() in _NUMERIC_TYPES

    def is_struct(self) -> bool:
        return self.dtype.lower().startswith("struct")

    def string_size(self) -> int:
        if not self.is_string():
            raise CompilationError("Called string_size() on non-string field!")
        if self.dtype == "text" or self.char_size is None:
            return 256
        return int(self.char_size)

    def can_expand_to(self, other_column: Column) -> bool:
        if not self.is_string() or not other_column.is_string():
            return False
        return other_column.string_size() > self.string_size()

    def literal(self, value: Any) -> str:
        return f"{value}::{self.data_type}"
