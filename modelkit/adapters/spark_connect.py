"""Spark: opening a session, as a ``type: spark`` profile describes it.

``method: session`` runs Spark in this process through pyspark: ``host`` is the master URL
(``local[2]``, ``spark://host:7077``, ``yarn``, ``k8s://...``; anything else, such as dbt-spark's
customary ``NA``, leaves the master to ``spark-defaults.conf`` / ``MASTER``), with a Hive metastore.
Unless ``server_side_parameters`` name their own, the tables live under ``warehouse_dir`` and the
metastore is an embedded Derby database in ``metastore_dir`` (one process at a time).
``method: connect`` talks to a Spark Connect server at ``host: sc://host:port``.

A process keeps one session per distinct configuration: later adapters with the same profile reuse
it (a JVM starts in seconds, the metastore's first query takes several more), and a profile with
other static settings replaces it. Every failure to open is a :class:`ConnectionFailure` naming the
profile.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from modelkit.core import fsio
from modelkit.core.errors import ConnectionFailure, ProjectError
from modelkit.project.profiles import Target

METHODS = ("session", "connect")
MASTER_PREFIXES = ("local", "spark://", "yarn", "k8s://", "mesos://")
CONNECT_DEFAULT_PORT = 15002
# Spark settings modelkit starts from; a profile's server_side_parameters override them.
DEFAULT_RUNTIME_CONF = {
    "spark.sql.ansi.enabled": "false",  # as dbt-spark, which sets it for Spark 3 and 4 alike
    "spark.sql.sources.partitionOverwriteMode": "dynamic",  # insert_overwrite replaces only the partitions it writes
}
_LOG4J = """\
rootLogger.level = fatal
rootLogger.appenderRef.stderr.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{yy/MM/dd HH:mm:ss} %p %c{1}: %m%n
"""
_lock = threading.Lock()
_sessions: dict[tuple[Any, ...], Any] = {}  # configuration -> the open session (one local session per JVM)


def describe(target: Target) -> str:
    return f"profile '{target.profile_name}' (target '{target.name}')"


def _failure(target: Target, message: str) -> ConnectionFailure:
    origin = target.origin if target.origin != "embedded" else None
    return ConnectionFailure(f"Could not connect to Spark for {describe(target)}: {message}", path=origin)


def method_of(target: Target) -> str:
    method = str(target.credentials.get("method") or "")
    if method not in METHODS:
        supported = ", ".join(METHODS)
        raise ProjectError(
            f"The spark {describe(target)} has method '{method or '(none)'}'; modelkit supports: {supported} "
            "(dbt-spark's thrift, http and odbc are not supported)",
            path=target.origin if target.origin != "embedded" else None,
        )
    return method


def server_side_parameters(target: Target) -> dict[str, str]:
    raw = target.credentials.get("server_side_parameters") or {}
    if not isinstance(raw, dict):
        raise ProjectError(
            f"server_side_parameters of {describe(target)} must be a mapping of Spark settings",
            path=target.origin if target.origin != "embedded" else None,
        )
    return {str(k): str(v).lower() if isinstance(v, bool) else str(v) for k, v in raw.items()}


def open_session(target: Target) -> tuple[Any, str]:
    """The target's Spark session (opened, or reused from this process) and its method."""
    method = method_of(target)
    _quiet_python_logs()
    if method == "connect":
        return _connect(target), method
    return _local(target), method


def _quiet_python_logs() -> None:
    """pyspark logs every failed statement with its JVM stack; modelkit reports the error itself."""
    for name in ("SQLQueryContextLogger", "DataFrameQueryContextLogger"):
        logging.getLogger(name).disabled = True


# -- method: session ------------------------------------------------------------
def master_of(target: Target) -> str | None:
    host = str(target.credentials.get("host") or "").strip()
    return host if host.startswith(MASTER_PREFIXES) else None


def local_conf(target: Target) -> dict[str, str]:
    """The static and runtime settings of a ``method: session`` profile."""
    creds = target.credentials
    user = server_side_parameters(target)
    conf = {"spark.app.name": "modelkit", "spark.ui.showConsoleProgress": "false", **DEFAULT_RUNTIME_CONF}
    conf["spark.sql.catalogImplementation"] = "hive"
    conf["spark.sql.warehouse.dir"] = str(creds["warehouse_dir"])
    metastore = Path(str(creds["metastore_dir"]))
    if "spark.hadoop.hive.metastore.uris" not in user:
        conf["spark.hadoop.javax.jdo.option.ConnectionURL"] = (
            f"jdbc:derby:;databaseName={metastore / 'metastore_db'};create=true"
        )
    java_options = f"-Dderby.system.home={metastore} -Dlog4j2.configurationFile=file:{metastore / 'log4j2.properties'}"
    conf.update(user)
    # the profile's Java options come first; the metastore's home and the quiet logging are added to them
    conf["spark.driver.extraJavaOptions"] = " ".join(
        filter(None, [user.get("spark.driver.extraJavaOptions", ""), java_options])
    )
    return conf


def _check_master(target: Target, master: str) -> None:
    """A standalone master that does not answer fails now, not after Spark's minute of retries."""
    if not master.startswith("spark://"):
        return
    timeout = float(target.credentials.get("connect_timeout") or 10)
    for address in master[len("spark://") :].split(","):
        host, _, port = address.strip().rstrip("/").partition(":")
        _reach(target, host, int(port or 7077), timeout, f"the Spark master {master}")


def _reach(target: Target, host: str, port: int, timeout: float, what: str) -> None:
    try:
        socket.create_connection((host, port), timeout=timeout).close()
    except OSError as exc:
        raise _failure(target, f"{what} is unreachable ({host}:{port}: {exc.strerror or exc})") from None


def _local(target: Target) -> Any:
    from pyspark import SparkConf, SparkContext  # loaded with the session only
    from pyspark.sql import SparkSession  # likewise

    master = master_of(target)
    conf = local_conf(target)
    key = ("session", master, tuple(sorted(conf.items())))
    with _lock:
        session = _sessions.get(key)
        if session is not None and session.sparkContext._jsc is not None:
            return session
        _check_master(target, master or "")
        for old_key, old in list(_sessions.items()):  # one SparkContext per JVM: a different one is stopped
            if old_key[0] == "session":
                old.stop()
                del _sessions[old_key]
        metastore = Path(str(target.credentials["metastore_dir"]))
        fsio.ensure_dir(metastore)
        fsio.ensure_dir(Path(str(target.credentials["warehouse_dir"])))
        (metastore / "log4j2.properties").write_text(_LOG4J, encoding="utf-8")
        if master and master.startswith("local"):  # a local master needs no address other hosts can reach
            os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
        spark_conf = SparkConf()
        for name, value in conf.items():
            spark_conf.set(name, value)
        if master:
            spark_conf.setMaster(master)
        try:
            context = SparkContext.getOrCreate(spark_conf)
            session = SparkSession(context, options=conf)
        except Exception as exc:  # noqa: BLE001 - the JVM failing to start reports many kinds of errors
            raise _failure(target, _start_error(exc, master)) from None
        try:
            session.sql("show schemas").collect()  # the metastore opens here: fail now if another process holds it
        except Exception as exc:  # noqa: BLE001 - pyspark and py4j errors alike
            session.stop()
            raise _failure(target, _metastore_error(exc, metastore)) from None
        _sessions[key] = session
        return session


def _start_error(exc: BaseException, master: str | None) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if "JAVA_GATEWAY_EXITED" in text or "Java gateway process exited" in text:
        return f"the JVM did not start ({text}). Is Java 17 or later installed (JAVA_HOME)?"
    return f"could not start a session with master {master or '(Spark default)'}: {text}"


def _metastore_error(exc: BaseException, metastore: Path) -> str:
    text = str(exc)
    if "XSDB6" in text or "Failed to start database" in text or "another instance of Derby" in text.lower():
        return (
            f"the metastore in {metastore} is in use by another process (an embedded Derby metastore "
            "allows one at a time); wait for it to finish, or give this profile its own metastore_dir"
        )
    first = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
    return f"the metastore in {metastore} could not be opened: {first}"


# -- method: connect ------------------------------------------------------------
def connect_address(target: Target) -> tuple[str, str, int]:
    """(url, host, port) of a ``method: connect`` profile's ``host: sc://host:port``."""
    url = str(target.credentials.get("host") or "").strip()
    if not url.startswith("sc://"):
        raise ProjectError(
            f"The spark {describe(target)} has method 'connect': its host must be a Spark Connect URL "
            f"such as sc://localhost:{CONNECT_DEFAULT_PORT} (got '{url}')",
            path=target.origin if target.origin != "embedded" else None,
        )
    parts = urlsplit(url.split(";", 1)[0].replace("sc://", "http://", 1))
    try:
        port = parts.port or CONNECT_DEFAULT_PORT
    except ValueError:
        raise ProjectError(f"Bad port in the Spark Connect URL {url} of {describe(target)}") from None
    return url, parts.hostname or "localhost", port


def _connect(target: Target) -> Any:
    from pyspark.sql.connect.session import SparkSession as RemoteSession  # the client, checked by the engine's factory

    url, host, port = connect_address(target)
    conf = {**DEFAULT_RUNTIME_CONF, **server_side_parameters(target)}
    key = ("connect", url, tuple(sorted(conf.items())))
    with _lock:
        session = _sessions.get(key)
        if session is not None and not session.is_stopped:
            return session
        timeout = float(target.credentials.get("connect_timeout") or 10)
        _reach(target, host, port, timeout, f"the Spark Connect server {url}")
        try:
            session = RemoteSession.builder.remote(url).config(map=conf).create()
            session.sql("select 1").collect()
        except Exception as exc:  # noqa: BLE001 - grpc and pyspark errors alike
            text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise _failure(target, f"the Spark Connect server {url} refused the session: {text}") from None
        _sessions[key] = session
        return session
