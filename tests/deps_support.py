"""Helpers for the ``deps`` tests: packages on disk, bare git repositories, tarballs, and a local HTTP
server that plays the package hub (it counts the requests it serves). Nothing here reaches the internet."""

from __future__ import annotations

import hashlib
import http.server
import json
import os
import subprocess
import tarfile
import textwrap
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

GIT_ENV = {"GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull, "GIT_TERMINAL_PROMPT": "0"}


def write(root: Path, files: Mapping[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return root


def package_files(
    name: str,
    macro: str | None = None,
    packages: Sequence[Mapping[str, Any]] | None = None,
    require: Any = None,
) -> dict[str, str]:
    """A package's files: dbt_project.yml, one macro ``{name}_hello`` (or ``macro``), packages.yml."""
    project: dict[str, Any] = {"name": name, "version": "1.0.0", "config-version": 2}
    if require is not None:
        project["require-dbt-version"] = require
    files = {
        "dbt_project.yml": yaml.safe_dump(project, sort_keys=False),
        f"macros/{name}.sql": macro or f"{{% macro {name}_hello() %}}'hello from {name}'{{% endmacro %}}\n",
    }
    if packages is not None:
        files["packages.yml"] = yaml.safe_dump({"packages": list(packages)}, sort_keys=False)
    return files


def make_package(folder: Path, name: str, **kwargs: Any) -> Path:
    return write(folder, package_files(name, **kwargs))


def git(*args: str, cwd: Path) -> str:
    done = subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args],
        cwd=cwd,
        env={**os.environ, **GIT_ENV},
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


class GitRepo:
    """A working repository pushed to a bare one; ``url`` is the bare repository's ``file://`` URL."""

    def __init__(self, base: Path, name: str) -> None:
        self.work = base / f"{name}-work"
        self.bare = base / f"{name}.git"
        self.work.mkdir(parents=True)
        git("init", "--quiet", "-b", "main", cwd=self.work)
        git("init", "--quiet", "--bare", "-b", "main", str(self.bare), cwd=base)
        git("remote", "add", "origin", str(self.bare), cwd=self.work)
        self.url = self.bare.as_uri()

    def commit(self, files: Mapping[str, str], message: str = "change", tag: str | None = None) -> str:
        write(self.work, files)
        git("add", "-A", cwd=self.work)
        git("commit", "--quiet", "-m", message, cwd=self.work)
        if tag:
            git("tag", "-a", tag, "-m", tag, cwd=self.work)
        git("push", "--quiet", "--tags", "origin", "HEAD:main", cwd=self.work)
        return git("rev-parse", "HEAD", cwd=self.work)

    def branch(self, name: str, files: Mapping[str, str]) -> str:
        git("checkout", "--quiet", "-b", name, cwd=self.work)
        write(self.work, files)
        git("add", "-A", cwd=self.work)
        git("commit", "--quiet", "-m", f"on {name}", cwd=self.work)
        git("push", "--quiet", "origin", name, cwd=self.work)
        sha = git("rev-parse", "HEAD", cwd=self.work)
        git("checkout", "--quiet", "main", cwd=self.work)
        return sha


def make_tarball(dest: Path, files: Mapping[str, str], top: str | None = "package-1.0.0") -> Path:
    """A .tar.gz of ``files``, under one top-level folder ``top`` (none when None)."""
    source = dest.parent / (dest.name + ".src")
    write(source / (top or ""), files)
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(dest, "w:gz") as tar:
        for child in sorted(source.iterdir()):
            tar.add(child, arcname=child.name)
    return dest


class _Handler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self.server.requests.append(self.path)  # type: ignore[attr-defined]
        super().do_GET()


class HubServer:
    """Serves ``root`` on 127.0.0.1 (ephemeral port) as the package hub: ``api/v1/index.json``,
    ``api/v1/{org}/{name}.json`` and the tarballs; ``requests`` lists the paths asked for."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        handler = lambda *a, **k: _Handler(*a, directory=str(root), **k)  # noqa: E731
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.requests = []  # type: ignore[attr-defined]
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.packages: dict[str, dict[str, Any]] = {}
        self._write_index()

    @property
    def requests(self) -> list[str]:
        return self.server.requests  # type: ignore[attr-defined]

    def __enter__(self) -> HubServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)

    def _write_index(self) -> None:
        api = self.root / "api" / "v1"
        api.mkdir(parents=True, exist_ok=True)
        (api / "index.json").write_text(json.dumps(sorted(self.packages)), encoding="utf-8")

    def publish(
        self,
        package: str,
        version: str,
        files: Mapping[str, str] | None = None,
        *,
        name: str | None = None,
        packages: Sequence[Mapping[str, Any]] = (),
        require_dbt_version: Any = None,
    ) -> str:
        """Publish ``version`` of ``package`` (``org/name``); returns its tarball URL."""
        org, short = package.split("/")
        tar_rel = f"tarballs/{org}/{short}-{version}.tar.gz"
        make_tarball(self.root / tar_rel, files or package_files(name or short), top=f"{short}-{version}")
        return self._publish_entry(package, version, tar_rel, name, packages, require_dbt_version)

    def publish_tarball(
        self, package: str, version: str, tarball: Path, *, name: str, packages: Sequence[Mapping[str, Any]] = ()
    ) -> str:
        """Publish an existing package tarball as ``version`` of ``package``; returns its URL."""
        org, short = package.split("/")
        tar_rel = f"tarballs/{org}/{short}-{version}.tar.gz"
        (self.root / tar_rel).parent.mkdir(parents=True, exist_ok=True)
        (self.root / tar_rel).write_bytes(tarball.read_bytes())
        return self._publish_entry(package, version, tar_rel, name, packages, None)

    def _publish_entry(
        self,
        package: str,
        version: str,
        tar_rel: str,
        name: str | None,
        packages: Sequence[Mapping[str, Any]],
        require_dbt_version: Any,
    ) -> str:
        org, short = package.split("/")
        name = name or short
        sha1 = hashlib.sha1((self.root / tar_rel).read_bytes()).hexdigest()
        meta: dict[str, Any] = {
            "id": f"{package}/{version}",
            "name": name,
            "version": version,
            "published_at": "2024-01-01T00:00:00Z",
            "packages": list(packages),
            "works_with": [],
            "_source": {"url": "", "readme": ""},
            "downloads": {"tarball": self.url + tar_rel, "format": "tgz", "sha1": sha1},
        }
        if require_dbt_version is not None:
            meta["require_dbt_version"] = require_dbt_version
        entry = self.packages.setdefault(package, {"name": name, "namespace": org, "versions": {}})
        entry["versions"][version] = meta
        entry["latest"] = version
        (self.root / "api" / "v1" / org).mkdir(parents=True, exist_ok=True)
        (self.root / "api" / "v1" / f"{package}.json").write_text(json.dumps(entry), encoding="utf-8")
        self._write_index()
        return self.url + tar_rel


def read_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))
