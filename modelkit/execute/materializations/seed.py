"""Seeds: CSV files loaded natively by the engine, all-or-nothing, with located errors.

The engine's reader loads the file (no row-by-row inserts). A file it cannot read
is checked here, in Python, to name the file and line that is wrong: a row with
too many or too few fields, or a quoted field that never closes.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import TYPE_CHECKING

from modelkit.adapters.base import CsvReadError
from modelkit.core.errors import DatabaseError
from modelkit.execute.materializations.base import Build, options_of, unit_of_work

if TYPE_CHECKING:
    from modelkit.adapters.base import QueryResult


def seed_path(build: Build) -> Path:
    return Path(getattr(build.node, "root_path", "")) / build.node.original_file_path


def load_seed(build: Build) -> QueryResult:
    node, adapter = build.node, build.adapter
    config = node.config
    path = seed_path(build)
    delimiter = str(config.get("delimiter") or ",")
    quote_columns = config.get("quote_columns")
    translate = build.data_type or str
    overrides = dict(build.seed_types() if build.seed_types is not None else {})
    overrides.update({str(k): translate(str(v)) for k, v in (config.get("column_types") or {}).items()})
    problem = find_csv_problem(path, delimiter, header_only=True)
    if problem is not None:
        raise DatabaseError(f"Malformed CSV {node.original_file_path}, {problem}")
    # The first try infers types from a sample; a value the sample did not foresee
    # (a letter deep in a numeric column) makes a second try read the whole file.
    for sample_all in (False, True):
        try:
            columns = adapter.describe_csv(path, column_types=overrides, delimiter=delimiter, sample_all=sample_all)
            types = {c.name: c.data_type for c in columns}
            with unit_of_work(build, node.relation.with_type("table")):
                return adapter.load_csv(
                    node.relation.with_type("table"),
                    path,
                    column_types=types,
                    delimiter=delimiter,
                    quote_columns=True if quote_columns is None else bool(quote_columns),
                    full_refresh=build.full_refresh,
                    options=options_of(node),
                )
        except DatabaseError as exc:
            problem = find_csv_problem(path, delimiter)
            if problem is not None:
                raise DatabaseError(f"Malformed CSV {node.original_file_path}, {problem}") from None
            if not isinstance(exc, CsvReadError):
                raise
            if not sample_all:
                continue
            if exc.line:
                first = exc.message.strip().splitlines()[0]
                raise DatabaseError(
                    f"Could not load {node.original_file_path}, line {exc.line}: {first}\n{exc.message}"
                ) from None
            raise
    raise AssertionError("unreachable")  # pragma: no cover


def find_csv_problem(path: Path, delimiter: str = ",", header_only: bool = False) -> str | None:
    """``"line N: ..."`` for the first row that does not fit the header, else None."""
    try:
        handle = open(path, encoding="utf-8-sig", newline="")
    except OSError as exc:
        return f"cannot be read: {exc.strerror}"
    with handle:
        reader = csv.reader(handle, delimiter=delimiter, strict=True)
        start = 1
        try:
            header = next(reader, None)
            if header is None:
                return "line 1: the file is empty (a seed needs at least a header row)"
            if len(set(header)) != len(header):
                dupes = sorted({h for h in header if header.count(h) > 1})
                return f"line 1: duplicate column names in the header: {', '.join(dupes)}"
            start = reader.line_num + 1
            if header_only:
                return None
            for row in reader:
                if row and len(row) != len(header):
                    return (
                        f"line {start}: expected {len(header)} fields (as in the header), found {len(row)}"
                        f" (delimiter {delimiter!r})"
                    )
                start = reader.line_num + 1
        except csv.Error as exc:
            return f"line {start}: {exc}"
        except UnicodeDecodeError:
            return f"line {start}: not valid UTF-8 text"
    return None
