"""Adapters: every engine behind one protocol (:class:`modelkit.adapters.base.Adapter`).

``base`` holds the protocol, the capability set and the shared data shapes, ``sql`` the SQL
snippets that tests and contracts ask of an engine, ``stateful`` the incremental and snapshot SQL
engines of the common dialect share, and each engine is a module or a few (``duckdb*``,
``postgres*``, ``spark*``). Adapters import only :mod:`modelkit.core` and :mod:`modelkit.project`.
:data:`ENGINES` maps a profile's ``type`` to the function that opens it; an engine module is
imported only when a target uses it, since each loads its database driver.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from modelkit.adapters.base import Capability
from modelkit.core.errors import ConnectionFailure, ProjectError
from modelkit.core.text import did_you_mean

if TYPE_CHECKING:
    from modelkit.adapters.base import Adapter
    from modelkit.project.profiles import Target


def _duckdb(target: Target) -> Adapter:
    from modelkit.adapters.duckdb import DuckDBAdapter  # imports the duckdb driver: only for duckdb targets

    return DuckDBAdapter(target)


def _postgres(target: Target) -> Adapter:
    try:
        from modelkit.adapters.postgres import PostgresAdapter  # imports psycopg: only for postgres targets
    except ImportError as exc:
        if (exc.name or "").split(".")[0] != "psycopg":
            raise
        raise missing_driver(target, "psycopg (3.1 or later)", "postgres") from None
    return PostgresAdapter(target)


def _spark(target: Target) -> Adapter:
    try:
        import pyspark  # noqa: F401 - the driver, checked before anything starts
    except ImportError:
        raise missing_driver(target, "pyspark (4.0)", "spark") from None
    if target.credentials.get("method") == "connect":
        try:
            import pyspark.sql.connect.session  # noqa: F401 - the Spark Connect client needs pyspark[connect]'s packages
        except ImportError:
            raise missing_driver(target, "pyspark's Spark Connect client (pyspark[connect])", "spark") from None
    from modelkit.adapters.spark import SparkAdapter  # the adapter module itself: only for spark targets

    return SparkAdapter(target)


ENGINES: dict[str, Callable[[Target], Adapter]] = {"duckdb": _duckdb, "postgres": _postgres, "spark": _spark}

# What rendering must know of an engine before connecting to it (``--empty`` compiles without a
# connection): the capabilities its adapter declares that change the SQL templates produce.
RENDER_CAPABILITIES: dict[str, frozenset[Capability]] = {
    "duckdb": frozenset(),
    "postgres": frozenset({Capability.SUBQUERY_ALIAS}),
    "spark": frozenset(),
}
# How an engine quotes identifiers, also known before connecting: relations in templates (``ref``,
# ``source``, ``this``) render with it. Engines not listed quote with double quotes.
IDENTIFIER_QUOTES: dict[str, str] = {"spark": "`"}


# The SQL dialect each engine speaks, as sqlglot names it: a model written in another dialect (the
# project's ``dialect:``, a model's ``+dialect``) is translated into this one when it is compiled.
SQL_DIALECTS: dict[str, str] = {"duckdb": "duckdb", "postgres": "postgres", "spark": "spark"}


def render_capabilities(adapter_type: str) -> frozenset[Capability]:
    return RENDER_CAPABILITIES.get(adapter_type, frozenset())


def identifier_quote(adapter_type: str) -> str:
    """The character the engine of a profile ``type`` quotes identifiers with.

    >>> identifier_quote("spark"), identifier_quote("duckdb")
    ('`', '"')
    """
    return IDENTIFIER_QUOTES.get(adapter_type, '"')


def sql_dialect(adapter_type: str) -> str:
    """The SQL dialect (sqlglot's name) the engine of a profile ``type`` speaks.

    >>> sql_dialect("postgres"), sql_dialect("duckdb")
    ('postgres', 'duckdb')
    """
    return SQL_DIALECTS.get(adapter_type, adapter_type)


def missing_driver(target: Target, driver: str, extra: str) -> ConnectionFailure:
    """The engine's driver is not installed: one paragraph naming the profile and the extra to install."""
    where = f" in {target.origin}" if target.origin != "embedded" else ""
    return ConnectionFailure(
        f"The profile '{target.profile_name}' (target '{target.name}'{where}) has type: {target.type}, which "
        f"needs the driver {driver}; it is not installed in this Python environment. Install modelkit with "
        f"its {extra} extra: pip install 'modelkit[{extra}]'",
        path=target.origin if target.origin != "embedded" else None,
    )


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
