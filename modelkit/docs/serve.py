"""``modelkit docs serve``: the generated site over HTTP on this machine (standard library only)."""

from __future__ import annotations

import functools
import socket
from collections.abc import Callable
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from modelkit.core.errors import ProjectError, UsageError

# Only the site and the artifacts it is built from: target/ also holds the database file.
SERVED = ("index.html", "manifest.json", "catalog.json", "run_results.json")


class DocsHandler(SimpleHTTPRequestHandler):
    def __init__(self, *args: Any, log: Callable[[str], None] | None = None, **kwargs: Any) -> None:
        self._log = log
        super().__init__(*args, **kwargs)

    def send_head(self) -> Any:
        path = self.path.split("?", 1)[0].split("#", 1)[0]
        if path in ("", "/"):
            self.path = "/index.html"
        elif path.lstrip("/") not in SERVED:
            self.send_error(404, "Not found")
            return None
        return super().send_head()

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        if self._log is not None:
            self._log(format % args)


class _IPv6Server(ThreadingHTTPServer):
    address_family = socket.AF_INET6


def make_server(
    directory: Path, host: str = "127.0.0.1", port: int = 8080, log: Callable[[str], None] | None = None
) -> ThreadingHTTPServer:
    """A server for ``directory`` (the target folder); port 0 picks a free port."""
    if not (directory / "index.html").is_file():
        raise ProjectError(
            f"No documentation site in {directory}: run `modelkit docs generate` first", path=directory / "index.html"
        )
    handler = functools.partial(DocsHandler, directory=str(directory), log=log)
    server_class = _IPv6Server if ":" in host else ThreadingHTTPServer
    try:
        return server_class((host, port), handler)
    except OSError as exc:
        raise UsageError(f"Cannot serve on {host}:{port}: {exc.strerror or exc}. Try another --port.") from None


def url_of(server: ThreadingHTTPServer) -> str:
    host, port = server.server_address[:2]
    shown = f"[{host}]" if ":" in str(host) else host
    return f"http://{shown}:{port}/"


def serve(directory: Path, host: str, port: int, on_ready: Callable[[str], None], log: Callable[[str], None]) -> None:
    """Serve until interrupted (Ctrl-C ends it normally)."""
    server = make_server(directory, host, port, log)
    with server:
        on_ready(url_of(server))
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
