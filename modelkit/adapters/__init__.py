"""Adapters: every engine behind one protocol (:class:`modelkit.adapters.base.Adapter`).

``base`` holds the protocol, the capability set and the shared data shapes, ``sql`` the SQL
snippets that tests and contracts ask of an engine, and each engine is one module (``duckdb``,
``spark``).
Adapters import only :mod:`modelkit.core` and :mod:`modelkit.project`. :data:`ENGINES` maps a
profile's ``type`` to the function that opens it; an engine module is imported only when a target
uses it, since each loads its database driver.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from modelkit.core.errors import ProjectError
from modelkit.core.text import did_you_mean

if TYPE_CHECKING:
    from modelkit.adapters.base import Adapter
    from modelkit.project.profiles import Target


def _duckdb(target: Target) -> Adapter:
    from modelkit.adapters.duckdb import DuckDBAdapter  # imports the duckdb driver: only for duckdb targets

    return DuckDBAdapter(target)


def _spark(target: Target) -> Adapter:
    from modelkit.adapters.spark import SparkAdapter  # pyspark itself loads only when the session opens

    return SparkAdapter(target)


ENGINES: dict[str, Callable[[Target], Adapter]] = {"duckdb": _duckdb, "spark": _spark}

# How an engine quotes identifiers, known without loading its module: relations in templates
# (``ref``, ``source``, ``this``) render with it. Engines not listed quote with double quotes.
IDENTIFIER_QUOTES: dict[str, str] = {"spark": "`"}


def identifier_quote(engine_type: str) -> str:
    """The character the engine of a profile ``type`` quotes identifiers with.

    >>> identifier_quote("spark"), identifier_quote("duckdb")
    ('`', '"')
    """
    return IDENTIFIER_QUOTES.get(engine_type, '"')


def get_adapter(target: Target) -> Adapter:
    """The adapter for the target's ``type`` (not yet connected)."""
    engine = ENGINES.get(target.type)
    if engine is None:
        supported = ", ".join(sorted(ENGINES))
        raise ProjectError(
            f"Unsupported adapter type '{target.type}' (supported: {supported})."
            + did_you_mean(target.type, sorted(ENGINES)),
            path=target.origin,
        )
    return engine(target)
