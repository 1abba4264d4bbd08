"""Unit test data: fixture rows (dict, CSV, files) and the expected/actual diff."""

from __future__ import annotations

import csv
import io
import textwrap
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from modelkit.core.errors import CompilationError

if TYPE_CHECKING:
    from modelkit.project.project import ProjectConfig


def fixture_rows(rows: Any, fmt: str) -> list[dict[str, Any]]:
    """Rows as dicts: YAML mappings as they are, CSV text parsed (empty cells are NULL)."""
    if rows is None:
        return []
    if fmt == "csv":
        text = textwrap.dedent(str(rows)).strip()
        if not text:
            return []
        reader = csv.DictReader(io.StringIO(text))
        return [
            {k.strip(): (None if v is None or v.strip() == "" else v.strip()) for k, v in r.items()} for r in reader
        ]
    return [dict(r) for r in rows]


def load_fixture(project: ProjectConfig, name: str, fmt: str) -> str:
    """Text of ``fixtures/<name>.csv`` (or ``.sql``) under the project's test paths."""
    suffix = ".sql" if fmt == "sql" else ".csv"
    for folder in project.test_paths:
        base = project.root / folder / "fixtures"
        for path in sorted(base.rglob(name + suffix)) if base.is_dir() else []:
            return path.read_text(encoding="utf-8")
    where = ", ".join(f"{folder}/fixtures/" for folder in project.test_paths)
    raise CompilationError(f"Fixture '{name}{suffix}' not found (looked under {where})")


def _key(value: Any) -> Any:
    try:
        hash(value)
        return value
    except TypeError:
        return repr(value)


def multiset_equal(expected: Sequence[Sequence[Any]], actual: Sequence[Sequence[Any]]) -> bool:
    return Counter(tuple(map(_key, r)) for r in expected) == Counter(tuple(map(_key, r)) for r in actual)


def _show(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _sort_key(row: Sequence[Any]) -> tuple[Any, ...]:
    return tuple((v is None, _show(v)) for v in row)


def diff_table(columns: Sequence[str], expected: Sequence[Sequence[Any]], actual: Sequence[Sequence[Any]]) -> str:
    """A daff-style diff: ``---`` expected only, ``+++`` actual only, ``→`` changed cells (``old→new``)."""
    left = Counter(tuple(map(_key, r)) for r in expected)
    right = Counter(tuple(map(_key, r)) for r in actual)
    same = left & right
    only_expected = sorted((left - same).elements(), key=_sort_key)
    only_actual = sorted((right - same).elements(), key=_sort_key)
    lines: list[tuple[str, list[str], tuple[Any, ...]]] = []
    for row in same.elements():
        lines.append(("", [_show(v) for v in row], _sort_key(row)))
    unmatched: list[tuple[Any, ...]] = []
    for row in only_expected:  # pair rows sharing their first column: shown as changed cells
        partner = next((a for a in only_actual if columns and a[0] == row[0]), None)
        if partner is None:
            unmatched.append(row)
            continue
        only_actual.remove(partner)
        cells = [_show(e) if e == a else f"{_show(e)}→{_show(a)}" for e, a in zip(row, partner)]
        lines.append(("→", cells, _sort_key(row)))
    lines += [("---", [_show(v) for v in row], _sort_key(row)) for row in unmatched]
    lines += [("+++", [_show(v) for v in row], _sort_key(row)) for row in only_actual]
    lines.sort(key=lambda line: line[2])
    table = [["@@", *columns]] + [[marker, *cells] for marker, cells, _ in lines]
    widths = [max(len(r[i]) for r in table) for i in range(len(table[0]))]
    widths[0] = max(widths[0], 3)
    out = []
    for row in table:
        cells = [c.ljust(w) if i < len(row) - 1 else c for i, (c, w) in enumerate(zip(row, widths))]
        out.append(",".join(cells))
    return "\n".join(out)
