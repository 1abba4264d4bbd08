"""A column lineage worker: reads (context, jobs) pickled on stdin, writes the results pickled on stdout."""

from __future__ import annotations

import pickle
import sys

from modelkit.docs.lineage import analyse


def main() -> None:
    ctx, jobs = pickle.load(sys.stdin.buffer)
    done = {uid: analyse(ctx, sql, parents) for uid, sql, parents in jobs}
    sys.stdout.buffer.write(pickle.dumps(done, protocol=pickle.HIGHEST_PROTOCOL))


if __name__ == "__main__":
    main()
