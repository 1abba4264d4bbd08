"""ENGINES.md from the figures benchmarks/engines.py collected."""

from __future__ import annotations

import statistics
from typing import Any

TARGET_RATIO = 1.3


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def wall(row: dict[str, Any] | None) -> float | None:
    return _median([s[0] for s in row["samples"]]) if row and not row["failed"] else None


def cpu(row: dict[str, Any] | None) -> float | None:
    return _median([s[1] for s in row["samples"]]) if row and not row["failed"] else None


def statements_seconds(row: dict[str, Any] | None) -> float | None:
    """Median time of the floor's statements alone (connecting / opening the session not included)."""
    return _median([f[2] for f in row["floor"]]) if row and row["floor"] else None


def phase(row: dict[str, Any] | None) -> float | None:
    """Median time spent on the models: a tool's node phase (run_results.json), the floor's statements."""
    if row and row["floor"]:
        return statements_seconds(row)
    values = [v for v in (row or {}).get("node_phase", []) if v is not None]
    return _median(values) if row and not row["failed"] else None


def statement_count(row: dict[str, Any] | None) -> int | None:
    return row["floor"][0][1] if row and row["floor"] else None


def _s(value: float | None, digits: int = 2) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def _ratio(num: float | None, den: float | None) -> str:
    return "—" if num is None or not den else f"{num / den:.2f}×"


def _table(rows: dict[str, Any], floor_key: str) -> list[str]:
    floor = rows.get(floor_key)
    base, base_sql = wall(floor), statements_seconds(floor)
    out = [
        "| row | wall s (median) | CPU s, client processes | models phase s | runs | ÷ floor wall | "
        "models phase ÷ floor statements |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in rows.values():
        if row["failed"]:
            out.append(f"| {row['label']} | failed: {row['failed']} | | | | | |")
            continue
        count = f" ({statement_count(row)} statements)" if row["floor"] else ""
        out.append(
            f"| {row['label']}{count} | {_s(wall(row))} | {_s(cpu(row))} | {_s(phase(row))} | {len(row['samples'])} "
            f"| {_ratio(wall(row), base)} | {_ratio(phase(row), base_sql)} |"
        )
    return out


def _postgres(pg: dict[str, Any]) -> list[str]:
    rows = pg["rows"]
    floor_key = f"pg_floor_t{pg['threads']}_same"
    mk, floor = wall(rows.get("pg_mk_warm")), wall(rows.get(floor_key))
    verdict = "—"
    if mk and floor:
        ratio = mk / floor
        verdict = f"**{ratio:.2f}×** ({'within' if ratio <= TARGET_RATIO else 'above'} the {TARGET_RATIO}× target)"
    return [
        f"## PostgreSQL {pg['server']}: {pg['models']} models, `run --threads {pg['threads']}`",
        "",
        *_run(pg),
        f"modelkit (translated, target/ kept) ÷ floor ({pg['threads']} threads, same DDL), wall: {verdict}. "
        'Where modelkit\'s time goes: [PROFILE.md](PROFILE.md), "run on PostgreSQL".',
        "",
        *_table(rows, floor_key),
        "",
    ]


def _spark(sp: dict[str, Any]) -> list[str]:
    rows = sp["rows"]
    floor = rows.get("spark_floor_same")
    count = statement_count(floor)
    lines = [
        f"## Spark `local[2]`: {sp['models']} models, `run --threads {sp['threads']}`",
        "",
        *_run(sp),
    ]
    for key in ("spark_mk_warm",):
        mk, base = wall(rows.get(key)), wall(floor)
        if mk and base and count:
            lines.append(
                f"- {rows[key]['label']}: per-statement overhead, whole processes (modelkit − floor wall) ÷ "
                f"{count} statements = **{(mk - base) / count * 1000:.0f} ms**"
            )
        mk_cpu, base_cpu = cpu(rows.get(key)), cpu(floor)
        if mk_cpu is not None and base_cpu is not None and count:
            lines.append(
                f"- {rows[key]['label']}: per-statement overhead, CPU of the process trees, JVM included "
                f"(modelkit − floor) ÷ {count} statements = **{(mk_cpu - base_cpu) / count * 1000:.0f} ms**"
            )
        mk_phase, base_phase = phase(rows.get(key)), statements_seconds(floor)
        if mk_phase and base_phase and count:
            lines.append(
                f"- {rows[key]['label']}: per-statement overhead, models only (node phase − floor statements) ÷ "
                f"{count} statements = **{(mk_phase - base_phase) / count * 1000:.0f} ms**"
            )
    open_s = _median([f[3] for f in floor["floor"]]) if floor and floor["floor"] else None
    lines += ["", f"The floor's session start (JVM and metastore): {_s(open_s)} s of its wall time.", ""]
    return [*lines, *_table(rows, "spark_floor_same"), ""]


def _run(section: dict[str, Any]) -> list[str]:
    run = section["run"]
    load = [", ".join(f"{v:.2f}" for v in run[k]) for k in ("load_before", "load_after")]
    versions = ", ".join(f"{k} {v}" for k, v in section["versions"].items())
    return [
        f"- Run: {run['started']}, {run['minutes']:.1f} minutes: `{run['command']}`",
        f"- Load average (1, 5, 15 min): {load[0]} before, {load[1]} after",
        f"- Versions: {versions}",
        "",
    ]


def postgres_ratio(data: dict[str, Any]) -> tuple[float, float, float] | None:
    """(modelkit wall, floor wall, ratio) of the PostgreSQL target row, if it was measured."""
    pg = data.get("postgres")
    if not pg:
        return None
    rows = pg["rows"]
    mk, floor = wall(rows.get("pg_mk_warm")), wall(rows.get(f"pg_floor_t{pg['threads']}_same"))
    return (mk, floor, mk / floor) if mk and floor else None


def sections(data: dict[str, Any]) -> list[str]:
    """The engine sections, one heading level down (for a report that includes them)."""
    lines = (_postgres(data["postgres"]) if "postgres" in data else []) + (
        _spark(data["spark"]) if "spark" in data else []
    )
    return ["#" + line if line.startswith("## ") else line for line in lines]


def render(data: dict[str, Any]) -> str:
    lines = [
        "# Engine benchmarks",
        "",
        "modelkit `run` on PostgreSQL and on Spark next to the *engine floor*: the same compiled SQL (from",
        "modelkit's own `target/manifest.json`) sent straight through psycopg or pyspark, in dependency order.",
        'Written by `benchmarks/engines.py`; see benchmarks/README.md ("Engines") for how it measures.',
        "",
        f"Machine: {data['machine']}.",
        "",
    ]
    if "postgres" in data:
        lines += _postgres(data["postgres"])
    if "spark" in data:
        lines += _spark(data["spark"])
    return "\n".join(lines).rstrip() + "\n"
