"""Property files parsed by a forked process while the parser reads the SQL files.

Parsing YAML is the largest single step of a cold parse of a big project (a third
of a second for the 100 property files of a 10,000-model project), and it holds
the GIL, so threads cannot overlap it. On a system with ``fork``, from a process
running a single thread and no database engine (whose own threads Python does not
see), :func:`start` forks a child that parses the files and sends back the data as
JSON, while the parent reads and statically captures the model files. The child
only ever sends data that survives JSON unchanged; any file it could not parse or
send (a syntax error, a date) is parsed again by the parent, which reports errors
as usual. Otherwise, or for little YAML, the parent parses every file itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from modelkit.core import jsonio, yamlio
from modelkit.core.forked import ForkedOutput, compute_forked

MIN_BYTES = 64 * 1024  # less YAML than this parses faster than a fork costs


class YamlChild:
    """A forked process parsing property files; :meth:`results` waits for its data."""

    def __init__(self, forked: ForkedOutput) -> None:
        self._forked = forked

    def results(self) -> dict[str, Any]:
        """Parsed data by file; a file missing here is for the caller to parse."""
        output = self._forked.output()
        if not output:
            return {}
        try:
            data = jsonio.loads(output)
        except ValueError:
            return {}
        return data if isinstance(data, dict) else {}


def start(files: Sequence[tuple[str, str]], *, min_bytes: int | None = None) -> YamlChild | None:
    """Fork a child parsing ``files`` ((path, text) pairs); None when that is not worth it or not safe
    (see :func:`modelkit.core.forked.compute_forked`)."""
    if sum(len(text) for _, text in files) < (MIN_BYTES if min_bytes is None else min_bytes):
        return None

    def work() -> bytes:
        parsed: dict[str, Any] = {}
        for path, text in files:
            try:
                data = yamlio.loads(text, path)
            except Exception:  # noqa: BLE001 - the parent parses this file again and reports the error
                continue
            if jsonio.is_plain(data):
                parsed[path] = data
        return jsonio.dumps(parsed)

    forked = compute_forked(work)
    return YamlChild(forked) if forked is not None else None
