"""A column lineage worker (see lineage_pool): the context, then batches of jobs until None, on stdin;
the results of each batch, on stdout, as soon as it is done."""

from __future__ import annotations

import pickle
import sys

from modelkit.analysis.lineage import analyse


def main() -> None:
    source, sink = sys.stdin.buffer, sys.stdout.buffer
    try:
        ctx = pickle.load(source)
    except EOFError:  # the caller went away
        return
    while True:
        try:
            batch = pickle.load(source)
        except EOFError:
            return
        if batch is None:
            break
        done = {uid: analyse(ctx, sql, parents) for uid, sql, parents in batch}
        pickle.dump(done, sink, protocol=pickle.HIGHEST_PROTOCOL)
        sink.flush()


if __name__ == "__main__":
    main()
