"""A throwaway PostgreSQL server for the tests marked ``postgres``.

``MODELKIT_PG_DSN`` (a libpq connection string or URL) points the tests at a server that is already
running; without it, :func:`start_server` runs ``initdb`` into a temporary folder and starts
``postgres`` on 127.0.0.1 at a free port, tuned for tests (no fsync, no full-page writes, no
synchronous commit, trust authentication). One server serves a whole pytest process (each
pytest-xdist worker starts its own) and :meth:`Server.stop` ends it at the end of the session.

PostgreSQL refuses to run as root: under root the server runs as the system user ``modelkit-pg``
(created when missing, else ``nobody``), owning its data folder. The server is the direct child of
the test process and is told to quit if that process dies, so a killed test run leaves no server
behind.
"""

from __future__ import annotations

import ctypes
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

DSN_ENV = "MODELKIT_PG_DSN"
SERVER_USER = "modelkit-pg"
PASSWORD_USER = "modelkit_password"  # the one role that must give its password (scram-sha-256)
START_TIMEOUT = 60.0
_PR_SET_PDEATHSIG = 1


def find_binaries() -> Path | None:
    """The folder holding ``initdb`` and ``postgres``: on PATH, else Debian's /usr/lib/postgresql/<n>/bin."""
    initdb = shutil.which("initdb")
    if initdb:
        folder = Path(os.path.realpath(initdb)).parent
        if (folder / "postgres").exists():
            return folder
    for folder in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_version_key, reverse=True):
        if Path(folder, "initdb").exists() and Path(folder, "postgres").exists():
            return Path(folder)
    return None


def _version_key(folder: str) -> int:
    name = Path(folder).parent.name
    return int(name) if name.isdigit() else 0


def _server_user() -> pwd.struct_passwd | None:
    """The unprivileged account the server runs as when the tests run as root (None: not root)."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(SERVER_USER)
    except KeyError:
        pass
    useradd = shutil.which("useradd") or "/usr/sbin/useradd"
    if os.path.exists(useradd):  # a concurrent worker may create it first: then this one fails harmlessly
        subprocess.run(
            [useradd, "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", SERVER_USER],
            capture_output=True,
            check=False,
        )
    try:
        return pwd.getpwnam(SERVER_USER)
    except KeyError:
        return pwd.getpwnam("nobody")


def _die_with_parent() -> None:  # pragma: no cover - runs in the forked child
    """Ask Linux to send the server SIGQUIT (immediate shutdown) when the test process exits."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGQUIT)
    except OSError:
        pass


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    """A running server (or one given by ``MODELKIT_PG_DSN``): how to connect and how to stop it."""

    host: str
    port: int
    user: str
    dbname: str
    password: str = ""
    folder: Path | None = None  # the temporary cluster; None for an external server
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def dsn(self) -> str:
        password = f" password={self.password}" if self.password else ""
        return f"host={self.host} port={self.port} user={self.user} dbname={self.dbname}{password}"

    def connect(self, dbname: str | None = None, autocommit: bool = True):  # -> psycopg.Connection
        import psycopg  # the optional driver: imported only by the tests that use a server

        return psycopg.connect(
            host=self.host,
            port=self.port,
            user=self.user,
            dbname=dbname or self.dbname,
            password=self.password or None,
            autocommit=autocommit,
        )

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # fast shutdown: disconnect clients, exit cleanly
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.process = None
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None


def external_server(dsn: str) -> Server:
    """The server ``MODELKIT_PG_DSN`` names."""
    import psycopg  # the optional driver: imported only by the tests that use a server

    info = psycopg.conninfo.conninfo_to_dict(dsn)
    return Server(
        host=str(info.get("host") or "127.0.0.1"),
        port=int(info.get("port") or 5432),
        user=str(info.get("user") or os.environ.get("USER") or "postgres"),
        dbname=str(info.get("dbname") or "postgres"),
        password=str(info.get("password") or ""),
    )


def _remove_stale(prefix: str, min_age: float = 600.0) -> None:
    """Delete the clusters of earlier test runs whose server is gone (a run killed before its clean-up)."""
    now = time.time()
    for folder in glob.glob(os.path.join(tempfile.gettempdir(), prefix + "*")):
        try:
            if now - os.path.getmtime(folder) < min_age:
                continue  # perhaps another run's server, still starting
            pid_file = Path(folder, "data", "postmaster.pid")
            if pid_file.exists():
                pid = int(pid_file.read_text().split()[0])
                try:
                    os.kill(pid, 0)
                    continue  # its server still runs
                except ProcessLookupError:
                    pass
                except PermissionError:
                    continue
        except (OSError, ValueError, IndexError):
            continue
        shutil.rmtree(folder, ignore_errors=True)


def start_server(binaries: Path, *, ssl: Path | None = None, hba: str = "") -> Server:
    """initdb into a new temporary folder and start a server on a free port of 127.0.0.1.

    With ``ssl`` (a folder holding ``server.crt``, ``server.key`` and ``ca.crt``) the server has SSL on and
    those files; ``hba`` lines come first in pg_hba.conf.
    """
    _remove_stale("modelkit-pg-")
    account = _server_user()
    folder = Path(tempfile.mkdtemp(prefix="modelkit-pg-"))
    data = folder / "data"
    as_user: dict[str, int] = {}
    if account is not None:
        os.chown(folder, account.pw_uid, account.pw_gid)
        as_user = {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []}
    superuser = "modelkit"
    env = {**os.environ, "LC_ALL": "C", "TZ": "UTC"}
    env.pop("PGDATA", None)
    init = subprocess.run(
        [
            str(binaries / "initdb"),
            "-D",
            str(data),
            "-U",
            superuser,
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C",
            "--no-sync",
        ],
        capture_output=True,
        env=env,
        cwd=folder,
        check=False,
        **as_user,
    )
    if init.returncode != 0:
        shutil.rmtree(folder, ignore_errors=True)
        raise RuntimeError(f"initdb failed ({init.returncode}):\n{init.stdout.decode()}\n{init.stderr.decode()}")
    hba_file = data / "pg_hba.conf"  # trust, except for the account the wrong-password test uses
    hba_file.write_text(hba + f"host all {PASSWORD_USER} 127.0.0.1/32 scram-sha-256\n" + hba_file.read_text())
    settings: list[str] = []
    if ssl is not None:
        for name in ("server.crt", "server.key", "ca.crt"):
            shutil.copy(ssl / name, data / name)
            (data / name).chmod(0o600)
            if account is not None:
                os.chown(data / name, account.pw_uid, account.pw_gid)
        settings = ["ssl=on", "ssl_cert_file=server.crt", "ssl_key_file=server.key", "ssl_ca_file=ca.crt"]
    log = folder / "server.log"
    last_error = ""
    for _attempt in range(5):  # another process may take the free port between choosing and binding it
        port = free_port()
        with open(log, "wb") as out:
            process = subprocess.Popen(
                [
                    str(binaries / "postgres"),
                    "-D",
                    str(data),
                    "-p",
                    str(port),
                    "-c",
                    "listen_addresses=127.0.0.1",
                    "-c",
                    "unix_socket_directories=",
                    "-c",
                    "fsync=off",
                    "-c",
                    "full_page_writes=off",
                    "-c",
                    "synchronous_commit=off",
                    "-c",
                    "max_connections=50",
                    "-c",
                    "shared_buffers=32MB",
                    "-c",
                    "timezone=UTC",
                    *[arg for setting in settings for arg in ("-c", setting)],
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=folder,
                preexec_fn=_die_with_parent,
                **as_user,
            )
        server = Server("127.0.0.1", port, superuser, "postgres", folder=folder, process=process)
        if _wait_ready(server):
            return server
        last_error = log.read_text(errors="replace")
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
    shutil.rmtree(folder, ignore_errors=True)
    raise RuntimeError(f"the PostgreSQL server did not start:\n{last_error}")


def _wait_ready(server: Server) -> bool:
    import psycopg  # the optional driver: imported only by the tests that use a server

    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if server.process is not None and server.process.poll() is not None:
            return False
        try:
            with server.connect() as con:
                con.execute("select 1")
            return True
        except psycopg.OperationalError:
            time.sleep(0.05)
    return False


def create_database(server: Server, name: str) -> None:
    """A new, empty database ``name`` (dropped first if a previous run left it)."""
    with server.connect() as con:
        con.execute(f'drop database if exists "{name}" with (force)')
        con.execute(f'create database "{name}"')


def profile_output(server: Server, dbname: str, schema: str = "main", threads: int = 4) -> dict[str, object]:
    """A ``profiles.yml`` output for ``dbname`` on the server, as dbt-postgres reads it."""
    output: dict[str, object] = {
        "type": "postgres",
        "host": server.host,
        "port": server.port,
        "user": server.user,
        "password": server.password or "",
        "dbname": dbname,
        "schema": schema,
        "threads": threads,
    }
    return output
