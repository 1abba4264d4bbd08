"""Connecting to PostgreSQL: a dbt-postgres profile's fields as libpq parameters, and errors naming the profile.

A profile names ``host``, ``port``, ``user``, ``password`` (or ``pass``), ``dbname`` (or ``database``),
``schema`` and optionally ``sslmode`` (with ``sslcert``, ``sslkey``, ``sslrootcert``), ``keepalives_idle``,
``connect_timeout`` (default 10 seconds), ``search_path``, ``role``, ``application_name`` and ``retries``
(default 1: one more attempt after a failed connection, as dbt-postgres). A value of the wrong kind (a
port that is no number, an ``sslmode`` libpq does not know) is a :class:`ProjectError` naming the field.
dbt-postgres's ``autocommit`` is accepted and changes nothing: modelkit's connections autocommit outside
the transactions it opens itself.
"""

from __future__ import annotations

import re
import time
from typing import Any

import psycopg

from modelkit.core.errors import ConnectionFailure, ProjectError
from modelkit.project.profiles import Target

REQUIRED = ("host", "user", "dbname", "schema")
SSLMODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")
_PLAIN_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*")
COUNTS = ("port", "connect_timeout", "keepalives_idle", "retries")  # whole numbers, 0 or more


def _profile(target: Target) -> str:
    where = f" in {target.origin}" if target.origin != "embedded" else ""
    return f"profile '{target.profile_name}' (target '{target.name}'{where})"


def check_profile(target: Target) -> None:
    """The fields dbt-postgres requires are there (``dbname`` may be spelled ``database``)."""
    creds = target.credentials
    missing = [
        key for key in REQUIRED if creds.get(key) in (None, "") and not (key == "dbname" and creds.get("database"))
    ]
    if missing:
        raise ConnectionFailure(
            f"The {_profile(target)} is a postgres profile without {', '.join(repr(m) for m in missing)}: "
            "a postgres output needs host, user, dbname and schema (and usually port and password).",
            path=target.origin if target.origin != "embedded" else None,
        )
    for key in COUNTS:
        _count(target, key)
    sslmode = creds.get("sslmode")
    if sslmode not in (None, "") and str(sslmode) not in SSLMODES:
        raise _invalid(target, "sslmode", sslmode, f"one of {', '.join(SSLMODES)}")
    for key in ("role", "search_path", "sslcert", "sslkey", "sslrootcert", "application_name"):
        if isinstance(creds.get(key), (dict, list, bool)):
            raise _invalid(target, key, creds[key], "a string")


def _count(target: Target, key: str) -> int | None:
    """The integer value of ``key`` (None when absent), or a ProjectError naming the field."""
    value = target.credentials.get(key)
    if value in (None, ""):
        return None
    if isinstance(value, bool) or not (isinstance(value, int) or (isinstance(value, str) and value.strip().isdigit())):
        raise _invalid(target, key, value, "a whole number (0 or more)")
    number = int(value)
    if number < 0 or (key == "port" and not 0 < number < 65536):
        raise _invalid(target, key, value, "a port number (1-65535)" if key == "port" else "0 or more")
    return number


def _invalid(target: Target, key: str, value: Any, expected: str) -> ProjectError:
    return ProjectError(
        f"The {_profile(target)} sets {key}: {value!r}; it must be {expected}.",
        path=target.origin if target.origin != "embedded" else None,
    )


def connect_kwargs(target: Target) -> dict[str, Any]:
    """libpq keyword parameters for the target's profile."""
    creds = target.credentials
    password = creds.get("password", creds.get("pass"))
    kwargs: dict[str, Any] = {
        "host": str(creds.get("host")),
        "port": _count(target, "port") or 5432,
        "user": str(creds.get("user")),
        "dbname": str(creds.get("dbname") or creds.get("database")),
        "connect_timeout": 10 if _count(target, "connect_timeout") is None else _count(target, "connect_timeout"),
        "application_name": str(creds.get("application_name") or "modelkit"),
    }
    if password not in (None, ""):
        kwargs["password"] = str(password)
    if _count(target, "keepalives_idle"):  # 0 means the system's default; libpq rejects it as a socket option
        kwargs["keepalives_idle"] = _count(target, "keepalives_idle")
    for key in ("sslmode", "sslcert", "sslkey", "sslrootcert"):
        if creds.get(key):
            kwargs[key] = str(creds[key])
    search_path = creds.get("search_path")
    if search_path:
        kwargs["options"] = "-c search_path=" + str(search_path).replace(" ", "\\ ")
    return kwargs


def connect(target: Target) -> psycopg.Connection[Any]:
    """A new autocommitting connection (``role`` set), or a ConnectionFailure naming the profile.

    Statements outside ``adapter.transaction()`` commit as they run, as dbt's ``adapter.commit()``
    expects; a unit of work opens its own transaction. None is prepared on the server.
    """
    kwargs = connect_kwargs(target)
    retries = _count(target, "retries")
    retries = 1 if retries is None else retries
    attempt = 0
    while True:
        try:
            # no statement is prepared on the server: each model's DDL is sent once, and a DROP or ALTER
            # (every model's swap renames) would make psycopg deallocate them all again (as psycopg2, which
            # dbt-postgres uses, modelkit sends every statement as written)
            connection = psycopg.connect(autocommit=True, prepare_threshold=None, **kwargs)
            break
        except psycopg.OperationalError as exc:
            attempt += 1
            if attempt > retries:
                raise connection_error(target, kwargs, exc) from None
            time.sleep(attempt * attempt)  # dbt-postgres's back-off: 1 s, then 4 s, ...
    role = target.credentials.get("role")
    if role:
        try:
            connection.execute(f"set role {role_identifier(str(role))}")
        except psycopg.Error as exc:
            connection.close()
            raise ConnectionFailure(
                f"Connected with the {_profile(target)}, but could not set role '{role}': {_text(exc)}",
                path=target.origin if target.origin != "embedded" else None,
            ) from None
    return connection


def role_identifier(role: str) -> str:
    """The role as ``set role`` names it: dbt-postgres writes it unquoted, so a plain name is folded to
    lower case; any other name is quoted as it is.

    >>> role_identifier("Transformer"), role_identifier("data-team"), role_identifier('a"b')
    ('"transformer"', '"data-team"', '"a""b"')
    """
    name = role.lower() if _PLAIN_NAME.fullmatch(role) else role
    return '"' + name.replace('"', '""') + '"'


def connection_error(target: Target, kwargs: dict[str, Any], exc: BaseException) -> ConnectionFailure:
    text = _text(exc)
    where = f"{kwargs['user']}@{kwargs['host']}:{kwargs['port']}/{kwargs['dbname']}"
    hint = ""
    lowered = text.lower()
    if "password authentication failed" in lowered or "no password supplied" in lowered:
        hint = "\nCheck the profile's user and password (often `password: \"{{ env_var('...') }}\"`)."
    elif "does not exist" in lowered and "database" in lowered:
        hint = "\nCheck the profile's dbname: the database must exist on the server."
    elif "connection refused" in lowered or "timeout expired" in lowered or "could not translate" in lowered:
        hint = "\nCheck that the server runs and that host and port are right."
    return ConnectionFailure(
        f"Could not connect to PostgreSQL with the {_profile(target)} as {where}:\n{text}{hint}",
        path=target.origin if target.origin != "embedded" else None,
    )


def _text(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.removeprefix("connection failed: ")
