"""`modelkit docs serve`: the site over HTTP on this machine."""

from __future__ import annotations

import subprocess
import sys
import threading
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from conftest import run_cli

from modelkit.docs.serve import make_server, url_of


@pytest.fixture
def documented(project_factory) -> Path:
    root = project_factory({"models/a.sql": "select 1 as id"})
    assert run_cli("run", cwd=root).exit_code == 0
    assert run_cli("docs", "generate", cwd=root).exit_code == 0
    return root


def fetch(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, b""


def test_serves_the_site_and_its_artifacts_only(documented: Path) -> None:
    server = make_server(documented / "target", "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        base = url_of(server)
        assert base.startswith("http://127.0.0.1:")
        status, body = fetch(base)
        assert status == 200 and b'id="mk-index"' in body
        assert fetch(base + "index.html")[0] == 200
        assert fetch(base + "catalog.json")[0] == 200
        assert fetch(base + "manifest.json")[0] == 200
        # the database file sits in target/ too, and is not served
        assert (documented / "target" / "demo.duckdb").exists()
        assert fetch(base + "demo.duckdb")[0] == 404
        assert fetch(base + "../modelkit.yml")[0] == 404
    finally:
        server.shutdown()
        server.server_close()


def test_cli_prints_the_url_and_serves(documented: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "modelkit.cli", "docs", "serve", "--port", "0", "--host", "127.0.0.1"],
        cwd=documented,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("Serving docs at http://127.0.0.1:"), line
        url = line.split(" at ", 1)[1].strip()
        status, body = fetch(url)
        assert status == 200 and b"modelkit docs" in body
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_without_a_generated_site_it_says_what_to_do(project_factory) -> None:
    root = project_factory({"models/a.sql": "select 1 as id"})
    result = run_cli("docs", "serve", "--port", "0", cwd=root)
    assert result.exit_code == 2
    assert "run `modelkit docs generate` first" in result.output
    assert "Traceback" not in result.output


def test_a_port_in_use_is_a_usage_error(documented: Path) -> None:
    first = make_server(documented / "target", "127.0.0.1", 0)
    try:
        port = first.server_address[1]
        result = run_cli("docs", "serve", "--port", str(port), cwd=documented)
        assert result.exit_code == 2
        assert f"Cannot serve on 127.0.0.1:{port}" in result.output
    finally:
        first.server_close()


def raw_get(base: str, path: str) -> tuple[int, bytes]:
    """GET ``path`` exactly as written (no client-side normalisation)."""
    import http.client
    from urllib.parse import urlsplit

    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        conn.putrequest("GET", path, skip_host=False, skip_accept_encoding=True)
        conn.endheaders()
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


@pytest.mark.parametrize(
    "path",
    [
        "/../modelkit.yml",
        "/..%2fmodelkit.yml",
        "/..%2f..%2f..%2f..%2f..%2f..%2fetc/passwd",
        "/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        "//etc/passwd",
        "/etc/passwd",
        "/index.html/../../modelkit.yml",
        "/..\\modelkit.yml",
        "/demo.duckdb",
        "/compiled/demo/models/a.sql",
        "/%2fetc%2fpasswd",
    ],
)
def test_serves_nothing_outside_the_site(documented: Path, path: str) -> None:
    server = make_server(documented / "target", "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        status, body = raw_get(url_of(server), path)
        assert status == 404, (path, status)
        assert b"root:" not in body and b"name: demo" not in body
    finally:
        server.shutdown()
        server.server_close()


def test_listens_on_localhost_unless_told_otherwise(documented: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "modelkit.cli", "docs", "serve", "--port", "0", "--profiles-dir", str(documented)],
        cwd=documented,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("Serving docs at http://127.0.0.1:"), line
    finally:
        proc.terminate()
        proc.wait(timeout=10)
