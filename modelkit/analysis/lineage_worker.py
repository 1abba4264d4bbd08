"""A column lineage worker: the context, then batches of jobs until None, on stdin; the results of each
batch, on stdout, as soon as it is done (see lineage_pool). Sent ``("chain", context, cache folder)``
first instead, it runs a chain of nodes the database lacks (see lineage_chain)."""

from __future__ import annotations

import gc
import pickle
import sys

from modelkit.analysis.lineage import analyse
from modelkit.analysis.lineage_chain import serve
from modelkit.analysis.loading import load_sqlglot


def main() -> None:
    source, sink = sys.stdin.buffer, sys.stdout.buffer
    if "--chain" in sys.argv[1:]:  # started ahead of its work: sqlglot is loaded while the caller gets ready
        load_sqlglot()
    try:
        ctx = pickle.load(source)
    except EOFError:  # the caller went away
        return
    # What was loaded so far (sqlglot, the context) lives to the end: kept out of the collector's passes,
    # which also come less often (an analysis makes many short-lived objects, and some cyclic garbage);
    # at 5,000 models, a fifth less time for a chain, with the same peak memory
    gc.freeze()
    gc.set_threshold(50_000, 10, 10)
    if isinstance(ctx, tuple) and ctx and ctx[0] == "chain":
        try:
            serve(ctx[1], ctx[2], source, sink)
        except EOFError:
            pass
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
