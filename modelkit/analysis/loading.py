"""sqlglot, imported once and one thread at a time.

sqlglot takes ~0.2 s to import, so the analysis imports it only when it reads SQL; and threads that
import its modules at the same moment (unit tests run on several) can deadlock on its circular
imports. Every entry point that reads SQL calls :func:`load_sqlglot` first.
"""

from __future__ import annotations

import threading
from functools import cache
from typing import Any

_IMPORTING = threading.Lock()


def load_sqlglot() -> None:
    with _IMPORTING:
        # sqlglot takes ~0.2 s to import: loaded only when SQL is analysed
        import sqlglot.lineage  # noqa: F401, I001 - the modules are what is wanted here
        import sqlglot.optimizer.qualify  # noqa: F401 - (lazy, as above)
        import sqlglot.optimizer.scope  # noqa: F401 - (lazy, as above)


def warm(dialect: str) -> None:
    """Import what checking a query in ``dialect`` imports (the dialect's tokenizer, parser and
    generator are loaded by sqlglot when first used), by reading and writing a trivial query: a worker
    process started ahead of its first job does this while the caller is still busy."""
    load_sqlglot()
    import sqlglot  # sqlglot takes ~0.2 s to import: loaded only when SQL is analysed

    try:
        sqlglot.parse_one("select 1 as a", dialect=dialect or None).sql(dialect=dialect or None)
    except ValueError:  # a dialect sqlglot does not know: the first job reports it, as without warming
        return


@cache
def expressions() -> Any:
    """``sqlglot.expressions``, loaded once (an import statement per call costs, called per column)."""
    load_sqlglot()
    from sqlglot import exp  # sqlglot takes ~0.2 s to import: loaded only when SQL is analysed

    return exp
