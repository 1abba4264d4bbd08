"""Opening a DuckDB file: waiting for (or naming) the process that holds its lock, and located errors."""

from __future__ import annotations

import os
import re
import time

import duckdb

from modelkit.core.errors import ConnectionFailure

LOCK_TIMEOUT_ENV = "MODELKIT_LOCK_TIMEOUT"
_LOCK_HOLDER = re.compile(r"Conflicting lock is held in (?P<program>.*?) \(PID (?P<pid>\d+)\)")


def connect(path: str, config: dict[str, str]) -> duckdb.DuckDBPyConnection:
    """Open ``path``; a file locked by another process is waited for up to ``$MODELKIT_LOCK_TIMEOUT``
    seconds (default 0: fail at once), then reported with the process that holds it."""
    try:
        timeout = float(os.environ.get(LOCK_TIMEOUT_ENV) or 0)
    except ValueError:
        timeout = 0.0
    deadline = time.monotonic() + timeout
    while True:
        try:
            return duckdb.connect(path, config=config)
        except duckdb.Error as exc:
            text = str(exc).strip()
            holder = _LOCK_HOLDER.search(text)
            if holder is not None and time.monotonic() < deadline:
                time.sleep(min(0.2, max(deadline - time.monotonic(), 0.01)))
                continue
            raise connection_error(path, text, holder, timeout) from None


def connection_error(path: str, text: str, holder: re.Match[str] | None, timeout: float) -> ConnectionFailure:
    if holder is not None:
        waited = f" (waited {timeout:g}s)" if timeout else ""
        return ConnectionFailure(
            f"The database file {path} is in use by another process{waited}: PID {holder['pid']} "
            f"({holder['program']}). DuckDB lets one process write to a file at a time: wait for that one to "
            f"finish, or set {LOCK_TIMEOUT_ENV}=SECONDS to wait for it.\n{text}",
            path=path,
        )
    if "not a valid DuckDB database" in text:
        return ConnectionFailure(f"{path} is not a DuckDB database file.\n{text}", path=path)
    return ConnectionFailure(f"Could not open the DuckDB database {path}.\n{text}", path=path)
