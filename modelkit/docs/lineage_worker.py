"""A column lineage worker (see lineage_pool): context, then job batches until None, on stdin."""

from __future__ import annotations

import pickle
import sys

from modelkit.docs.lineage import NodeLineage, analyse


def main() -> None:
    source = sys.stdin.buffer
    ctx = pickle.load(source)
    done: dict[str, NodeLineage] = {}
    while True:
        batch = pickle.load(source)
        if batch is None:
            break
        for uid, sql, parents in batch:
            done[uid] = analyse(ctx, sql, parents)
    sys.stdout.buffer.write(pickle.dumps(done, protocol=pickle.HIGHEST_PROTOCOL))


if __name__ == "__main__":
    main()
