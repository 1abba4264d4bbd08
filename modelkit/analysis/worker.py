"""The static analysis worker (see :mod:`modelkit.analysis.pipeline`).

Its argument, when given, is the dialect of the SQL it checks: it imports what that needs at once.
On stdin: the project's relations, then jobs (checked in the order they come, each recording its
query's columns for the next) and the columns of nodes the caller settled itself, until None. On
stdout: ``(unique_id, QueryCheck)`` per job, or ``(unique_id, (message, traceback))`` when the
analysis itself failed.
"""

from __future__ import annotations

import pickle
import sys

from modelkit.analysis.loading import warm
from modelkit.analysis.static import check, failure, settled_shape


def main() -> None:
    source, sink = sys.stdin.buffer, sys.stdout.buffer
    if len(sys.argv) > 1:  # the dialect of the SQL it will read: imported before the first job comes
        warm(sys.argv[1])
    relations = None
    while True:
        try:
            message = pickle.load(source)
        except (EOFError, OSError):
            return
        if message is None:
            return
        kind = message[0]
        if kind == "relations":
            relations = message[1]
        elif kind == "settle" and relations is not None and message[2] is not None:
            relations.set_shape(message[1], message[2])
        elif kind == "job" and relations is not None:
            job = message[1]
            try:
                found = check(job, relations)
                result: object = found
                relations.set_shape(job.unique_id, settled_shape(job.recipe, found))
            except Exception as exc:  # noqa: BLE001 - reported as the node's "not analysed"
                result = failure(exc)
                relations.set_shape(job.unique_id, settled_shape(job.recipe, None))
            pickle.dump((job.unique_id, result), sink, protocol=pickle.HIGHEST_PROTOCOL)
            sink.flush()


if __name__ == "__main__":
    main()
