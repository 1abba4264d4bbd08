"""Small text helpers shared by every stage: suggestions, plurals, summaries and tables.

>>> did_you_mean("custmers", ["customers", "orders"])
" Did you mean 'customers'?"
>>> pluralize(2, "analysis")
'2 analyses'
>>> print(markdown_table(["id", "name"], [[1, "a"], [22, None]]))
| id | name |
| -- | ---- |
| 1  | a    |
| 22 |      |
"""

from __future__ import annotations

import difflib
import hashlib
from collections import Counter
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from modelkit.core.lazynodes import field_map

if TYPE_CHECKING:
    from modelkit.core.manifest import Manifest


def closest(name: str, candidates: list[str], n: int = 3) -> list[str]:
    return difflib.get_close_matches(name, candidates, n=n, cutoff=0.5)


def did_you_mean(name: str, candidates: list[str]) -> str:
    near = closest(name, candidates)
    if not near:
        return ""
    return " Did you mean " + " or ".join(f"'{c}'" for c in near) + "?"


def pluralize(count: int, word: str) -> str:
    if count == 1:
        return f"{count} {word}"
    if word.endswith("is"):
        return f"{count} {word[:-2]}es"
    if word.endswith("y") and not word.endswith("ey"):
        return f"{count} {word[:-1]}ies"
    return f"{count} {word}s"


def found_summary(manifest: Manifest) -> str:
    counts: dict[str, int] = {}
    for kind, count in Counter(field_map(manifest.nodes, "kind").values()).items():
        label = {"test": "data test", "unit_test": "unit test"}.get(kind, kind)
        counts[label] = counts.get(label, 0) + count
    # dbt's order (its parse order): models, analyses, data tests, seeds, operations, snapshots
    order = {"model": 0, "analysis": 1, "data test": 2, "seed": 3, "operation": 4, "snapshot": 5}
    ranked = sorted(counts.items(), key=lambda kc: order.get(kc[0], len(order)))
    parts = [pluralize(c, k) for k, c in ranked if k != "unit test"]
    # then, as dbt counts them: sources, exposures, metrics, macros, groups, semantic models, saved queries
    for count, label in (
        (len(manifest.sources), "source"),
        (len(manifest.exposures), "exposure"),
        (len(manifest.metrics), "metric"),
        (len(manifest.macros), "macro"),
        (len(manifest.groups), "group"),
        (len(manifest.semantic_models), "semantic model"),
        (len(manifest.saved_queries), "saved query"),
        (counts.get("unit test", 0), "unit test"),
    ):
        if count:
            parts.append(pluralize(count, label))
    return ", ".join(parts)


def markdown_table(columns: Iterable[str], rows: Iterable[Iterable[Any]]) -> str:
    """Rows as the markdown table ``dbt show`` prints."""
    columns = list(columns)
    body = [["" if v is None else str(v) for v in row] for row in rows]
    widths = [max([len(c), *(len(r[i]) for r in body)]) for i, c in enumerate(columns)]
    lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(columns, widths)) + " |"]
    lines.append("| " + " | ".join("-" * w for w in widths) + " |")
    for row in body:
        lines.append("| " + " | ".join(v.ljust(w) for v, w in zip(row, widths)) + " |")
    return "\n".join(lines)


def sql_hash(sql: str) -> str:
    """What the static analysis cache and ``--skip-unchanged`` keep of a compiled SQL: its sha256.

    >>> sql_hash("select 1")[:12]
    '822ae07d4783'
    """
    return hashlib.sha256(sql.encode()).hexdigest()
