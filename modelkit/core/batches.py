"""Time windows of microbatch incremental models, as dbt computes them.

A microbatch model is built one ``batch_size`` window (hour, day, month, year) at a time. Windows
start at batch boundaries in UTC:

>>> from datetime import datetime, timezone
>>> t = datetime(2024, 9, 17, 16, 6, tzinfo=timezone.utc)
>>> truncate(t, "day"), offset(t, "month", -1), ceiling(t, "hour")
(datetime.datetime(2024, 9, 17, 0, 0, tzinfo=datetime.timezone.utc), \
datetime.datetime(2024, 8, 1, 0, 0, tzinfo=datetime.timezone.utc), \
datetime.datetime(2024, 9, 17, 17, 0, tzinfo=datetime.timezone.utc))
>>> [(s.day, e.day) for s, e in windows(truncate(t, "day"), ceiling(t, "day"), "day")]
[(17, 18)]
"""

from __future__ import annotations

import datetime as dt
from typing import Any

BATCH_SIZES = ("hour", "day", "month", "year")
Window = tuple[dt.datetime, dt.datetime]


def as_utc(value: Any) -> dt.datetime:
    """A datetime, date or ISO string (``begin``, ``--event-time-start``) as an aware UTC datetime."""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        value = dt.datetime(value.year, value.month, value.day)
    if not isinstance(value, dt.datetime):
        raise ValueError(f"not a date or timestamp: {value!r}")
    return value.replace(tzinfo=dt.timezone.utc) if value.tzinfo is None else value.astimezone(dt.timezone.utc)


def truncate(t: dt.datetime, size: str) -> dt.datetime:
    """The start of the window holding ``t``."""
    if size == "hour":
        return t.replace(minute=0, second=0, microsecond=0)
    if size == "day":
        return t.replace(hour=0, minute=0, second=0, microsecond=0)
    if size == "month":
        return t.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    if size == "year":
        return t.replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0)
    raise ValueError(f"batch_size must be one of {', '.join(BATCH_SIZES)}, got {size!r}")


def offset(t: dt.datetime, size: str, count: int) -> dt.datetime:
    """The window start ``count`` windows after (before, when negative) the window holding ``t``."""
    start = truncate(t, size)
    if size == "hour":
        return start + dt.timedelta(hours=count)
    if size == "day":
        return start + dt.timedelta(days=count)
    if size == "month":
        months = start.year * 12 + start.month - 1 + count
        return start.replace(year=months // 12, month=months % 12 + 1)
    return start.replace(year=start.year + count)


def ceiling(t: dt.datetime, size: str) -> dt.datetime:
    """``t`` itself on a window boundary, else the start of the next window."""
    start = truncate(t, size)
    return start if start == t else offset(start, size, 1)


def windows(start: dt.datetime, end: dt.datetime, size: str) -> list[Window]:
    """Consecutive windows from ``start`` up to ``end`` (the last one ends exactly at ``end``)."""
    found = [(start, offset(start, size, 1))]
    while found[-1][1] < end:
        found.append((found[-1][1], offset(found[-1][1], size, 1)))
    found[-1] = (found[-1][0], end)
    return found


def plan(
    config: dict[str, Any],
    *,
    incremental: bool,
    now: dt.datetime,
    event_time_start: dt.datetime | None = None,
    event_time_end: dt.datetime | None = None,
) -> list[Window]:
    """The windows one run builds: from ``begin`` on a first build, else the last ``lookback`` windows and now's.

    ``--event-time-start`` / ``--event-time-end`` bound the run explicitly.
    """
    size = str(config.get("batch_size") or "")
    if size not in BATCH_SIZES:
        raise ValueError(f"needs a batch_size config, one of {', '.join(BATCH_SIZES)}")
    end = ceiling(event_time_end or now, size)
    if event_time_start is not None:
        start = truncate(event_time_start, size)
    elif not incremental:
        if not config.get("begin"):
            raise ValueError("needs a begin config (when its data starts) for its first build")
        start = truncate(as_utc(config["begin"]), size)
    else:
        lookback = int(config.get("lookback", 1) if config.get("lookback") is not None else 1)
        if end == truncate(end, size):
            lookback += 1  # the end is a boundary: the last window is the one before it
        start = offset(end, size, -lookback)
    return windows(start, max(end, offset(start, size, 1)), size)


def shift(t: dt.datetime, size: str, count: int) -> dt.datetime:
    """``t`` moved by ``count`` hours, days, months or years, not truncated (a month's last day is kept
    within the shorter month), as dbt's ``offset_timestamp`` moves a sample window's start."""
    if size == "hour":
        return t + dt.timedelta(hours=count)
    if size == "day":
        return t + dt.timedelta(days=count)
    months = t.year * 12 + t.month - 1 + (count if size == "month" else 12 * count)
    year, month = months // 12, months % 12 + 1
    following = dt.date(year + month // 12, month % 12 + 1, 1)
    return t.replace(year=year, month=month, day=min(t.day, (following - dt.timedelta(days=1)).day))


def sample_window(spec: Any, now: dt.datetime) -> Window:
    """dbt's ``--sample`` window: ``"N grain"`` back from ``now``, or a mapping of ``start`` / ``end``.

    >>> now = dt.datetime(2025, 3, 31, 12, tzinfo=dt.timezone.utc)
    >>> [t.isoformat() for t in sample_window("1 month", now)]
    ['2025-02-28T12:00:00+00:00', '2025-03-31T12:00:00+00:00']
    >>> sample_window({"start": dt.date(2025, 1, 1), "end": "2025-01-02"}, now)[1].isoformat()
    '2025-01-02T00:00:00+00:00'
    """
    if isinstance(spec, dict):
        if "start" not in spec or "end" not in spec:
            raise ValueError("a sample window mapping needs both `start` and `end`")
        return as_utc(spec["start"]), as_utc(spec["end"])
    parts = str(spec).split(" ")
    if len(parts) != 2:
        raise ValueError(f"Cannot load SAMPLE_WINDOW from '{spec}'. Must be of form 'DAYS_INT GRAIN_SIZE'.")
    try:
        count = int(parts[0])
    except ValueError:
        raise ValueError(f"Unable to convert '{parts[0]}' to an integer.") from None
    size = parts[1].lower().rstrip("s")
    if size not in BATCH_SIZES:
        valid = [*BATCH_SIZES, *(f"{s}s" for s in BATCH_SIZES)]
        raise ValueError(f"Invalid grain size '{parts[1]}'. Must be one of {valid}.")
    end = as_utc(now)
    return shift(end, size, -count), end
