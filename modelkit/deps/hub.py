"""HTTP downloads and the package hub's JSON index.

The hub serves ``api/v1/index.json`` (every package name, ``org/name``) and ``api/v1/{org}/{name}.json``:
``{"name": ..., "namespace": ..., "latest": ..., "versions": {"1.1.1": {"name": ..., "packages": [...],
"downloads": {"tarball": URL}, "require_dbt_version": [...]}}}``. Its base URL is
``https://hub.getdbt.com/`` unless ``DBT_PACKAGE_HUB_URL`` says otherwise.
"""

from __future__ import annotations

import difflib
import json
import os
import shutil
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from modelkit.deps.base import Origin

DEFAULT_HUB_URL = "https://hub.getdbt.com/"
_RETRY_DELAYS = (0.5, 1.5)


class FetchError(Exception):
    """A URL could not be read (``status`` is the HTTP status when there was one)."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


def hub_url(env: Mapping[str, str] | None = None) -> str:
    env = os.environ if env is None else env
    url = env.get("DBT_PACKAGE_HUB_URL") or DEFAULT_HUB_URL
    return url if url.endswith("/") else url + "/"


def _transient(exc: BaseException) -> bool:
    if isinstance(exc, urllib.error.HTTPError):
        return exc.code >= 500 or exc.code == 429
    reason = getattr(exc, "reason", exc)
    return isinstance(reason, (TimeoutError, socket.timeout, ConnectionResetError))


def _open(url: str, timeout: float) -> Any:
    request = urllib.request.Request(url, headers={"User-Agent": "modelkit-deps"})
    return urllib.request.urlopen(request, timeout=timeout)


def http_get(url: str, dest: Path | None = None, timeout: float = 30.0) -> bytes:
    """The body at ``url`` (written to ``dest`` instead when given); transient failures are retried."""
    for attempt in range(len(_RETRY_DELAYS) + 1):
        try:
            with _open(url, timeout) as response:
                if dest is None:
                    return response.read()
                with dest.open("wb") as handle:
                    shutil.copyfileobj(response, handle)
                return b""
        except (urllib.error.URLError, OSError, ValueError) as exc:
            if attempt < len(_RETRY_DELAYS) and _transient(exc):
                time.sleep(_RETRY_DELAYS[attempt])
                continue
            if isinstance(exc, urllib.error.HTTPError):
                raise FetchError(f"HTTP {exc.code} {exc.reason}", exc.code) from None
            reason = getattr(exc, "reason", None) or exc
            raise FetchError(str(reason) or type(reason).__name__) from None
    raise AssertionError("unreachable")  # pragma: no cover


class Hub:
    """One run's view of the hub: the index and each package's versions, each fetched at most once."""

    def __init__(self, base_url: str | None = None) -> None:
        self.base_url = base_url or hub_url()
        self._index: list[str] | None = None
        self._packages: dict[str, dict[str, Any]] = {}

    def _get_json(self, path: str, origin: Origin) -> Any:
        url = f"{self.base_url}api/v1/{path}.json"
        try:
            body = http_get(url)
        except FetchError as exc:
            raise origin.error(f"Could not reach the package hub at {url}: {exc}") from None
        try:
            return json.loads(body)
        except ValueError:
            raise origin.error(f"The package hub answered {url} with something that is not JSON") from None

    def index(self, origin: Origin) -> list[str]:
        if self._index is None:
            data = self._get_json("index", origin)
            if not isinstance(data, list):
                raise origin.error(f"The package hub's index ({self.base_url}api/v1/index.json) is not a list")
            self._index = [str(name) for name in data]
        return self._index

    def check_known(self, package: str, origin: Origin) -> None:
        names = self.index(origin)
        if package in names:
            return
        message = f"Package {package} was not found in the package index"
        close = difflib.get_close_matches(package, names, n=3, cutoff=0.6)
        short = package.rsplit("/", 1)[-1].replace("-", "_").lower()
        same_name = [n for n in names if n.rsplit("/", 1)[-1].replace("-", "_").lower() == short]
        suggestions = list(dict.fromkeys(same_name + close))[:3]
        if suggestions:
            message += ". Did you mean " + " or ".join(suggestions) + "?"
        raise origin.error(message)

    def versions(self, package: str, origin: Origin) -> dict[str, dict[str, Any]]:
        """``{version: metadata}`` of a hub package (an error naming close names when it is unknown)."""
        if package not in self._packages:
            self.check_known(package, origin)
            data = self._get_json(package, origin)
            versions = data.get("versions") if isinstance(data, Mapping) else None
            if not isinstance(versions, Mapping):
                raise origin.error(f"The package hub's entry for {package} has no `versions` mapping")
            clean: dict[str, dict[str, Any]] = {}
            for version, meta in versions.items():
                tarball = meta.get("downloads", {}).get("tarball") if isinstance(meta, Mapping) else None
                if not isinstance(tarball, str):
                    raise origin.error(f"The package hub's entry for {package} {version} has no downloads.tarball URL")
                clean[str(version)] = dict(meta)
            self._packages[package] = clean
        return self._packages[package]
