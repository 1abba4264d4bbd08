"""Fetching package contents: git repositories (through the ``git`` executable), tarballs (over HTTP(S)
or from ``file:`` URLs) and hub downloads, into one run's scratch folder (a :class:`Workspace`)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path, PurePosixPath
from types import TracebackType

from modelkit.deps.base import Origin, scrub_secrets
from modelkit.deps.hub import FetchError, Hub, http_get

GIT_HELP = (
    "Make sure git is installed on your machine. More information: https://docs.getdbt.com/docs/package-management"
)


class _GitFailed(Exception):
    def __init__(self, stderr: str) -> None:
        super().__init__(stderr)
        self.stderr = stderr


def _git(args: list[str], cwd: Path, origin: Origin) -> str:
    env = dict(os.environ, GIT_TERMINAL_PROMPT="0", LC_ALL="C")  # fail rather than wait for a password
    try:
        done = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise origin.error(f"The git executable was not found. {GIT_HELP}") from None
    if done.returncode != 0:
        raise _GitFailed(done.stderr.strip() or done.stdout.strip() or f"git {args[0]} failed")
    return done.stdout.strip()


def git_checkout(url: str, revision: str, dest: Path, origin: Origin) -> str:
    """Check ``revision`` (branch, tag, commit or ``HEAD``) of ``url`` out into ``dest``; returns its commit."""
    dest.mkdir(parents=True)
    try:
        _git(["init", "--quiet", "."], dest, origin)
        try:  # a shallow fetch of just that revision: tags win over branches, as in dbt
            _git(["fetch", "--quiet", "--depth", "1", url, revision], dest, origin)
            target = "FETCH_HEAD"
        except _GitFailed:  # e.g. an abbreviated commit: fetch everything, then look it up
            _git(
                ["fetch", "--quiet", url, "+refs/heads/*:refs/remotes/origin/*", "+refs/tags/*:refs/tags/*"],
                dest,
                origin,
            )
            target = _git(["rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}"], dest, origin)
        _git(["checkout", "--quiet", "--detach", target], dest, origin)
        return _git(["rev-parse", "HEAD"], dest, origin)
    except _GitFailed as exc:
        stderr = exc.stderr.split("\nusage: git")[0]
        raise origin.error(f"Error checking out spec='{revision}' for repo {url}\n{stderr}") from None


def _check_members(tar: tarfile.TarFile, url: str, origin: Origin) -> list[tarfile.TarInfo]:
    members = []
    for member in tar.getmembers():
        path = PurePosixPath(member.name)
        if path.is_absolute() or ".." in path.parts:
            raise origin.error(f"Refusing to extract {url}: it holds a path outside its folder ({member.name})")
        if member.issym() or member.islnk():
            link = PurePosixPath(member.linkname)
            target = link if member.islnk() else path.parent / link
            if link.is_absolute() or ".." in PurePosixPath(os.path.normpath(str(target))).parts:
                raise origin.error(f"Refusing to extract {url}: a link points outside its folder ({member.name})")
        if member.isdev():
            continue
        members.append(member)
    return members


def extract_tarball(archive: Path, dest: Path, url: str, label: str, origin: Origin) -> Path:
    """Unpack ``archive`` into ``dest`` and return its single top-level folder (the package)."""
    dest.mkdir(parents=True)
    try:
        with tarfile.open(archive) as tar:
            members = _check_members(tar, url, origin)
            if hasattr(tarfile, "data_filter"):
                tar.extractall(dest, members, filter="data")
            else:  # pragma: no cover - Python without extraction filters
                tar.extractall(dest, members)
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise origin.error(f"Could not extract the package downloaded from {url}: {exc}") from None
    contents = [p for p in dest.iterdir() if not p.name.startswith("._")]
    if len(contents) != 1 or not contents[0].is_dir():
        raise origin.error(
            f"Incorrect structure for package extracted from {url}. "
            f"The extracted package needs to follow the structure {label}/<package_contents>."
        )
    return contents[0]


def link_or_copy(source: Path, dest: Path) -> bool:
    """Point ``dest`` at ``source`` with a symlink (True), or copy it where symlinks are impossible."""
    try:
        os.symlink(source, dest, target_is_directory=True)
        return True
    except (OSError, NotImplementedError):
        shutil.copytree(source, dest, symlinks=True)
        return False


def copy_package(source: Path, dest: Path) -> None:
    shutil.copytree(source, dest, symlinks=True, ignore=shutil.ignore_patterns(".git"))


class Workspace:
    """Scratch space for one run, inside ``parent`` (so staged packages move into place by renaming).

    Downloads and checkouts are cached for the run: a git revision is cloned once, a URL fetched once.
    """

    def __init__(self, parent: Path, hub: Hub | None = None) -> None:
        self.parent = parent
        self.hub = hub or Hub()
        self._dir: Path | None = None
        self._count = 0
        self._git: dict[tuple[str, str], tuple[Path, str]] = {}
        self._tarballs: dict[str, Path] = {}

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    @property
    def dir(self) -> Path:
        if self._dir is None:
            self.parent.mkdir(parents=True, exist_ok=True)
            self._dir = Path(tempfile.mkdtemp(prefix=".modelkit-deps-", dir=self.parent))
        return self._dir

    def new_dir(self, label: str) -> Path:
        """A fresh, not yet existing path in the workspace."""
        self._count += 1
        return self.dir / f"{self._count}-{re.sub(r'[^A-Za-z0-9_.-]', '_', label)[-40:]}"

    def git(self, url: str, revision: str, origin: Origin) -> tuple[Path, str]:
        """The checkout of ``revision`` of ``url`` and its commit sha."""
        cached = self._git.get((url, revision))
        if cached is None:
            folder = self.new_dir("git")
            sha = git_checkout(url, revision, folder, origin)
            cached = (folder, sha)
            self._git[(url, revision)] = self._git[(url, sha)] = cached
        return cached

    def tarball(self, url: str, label: str, origin: Origin) -> Path:
        """The package folder of the tarball at ``url``."""
        if url not in self._tarballs:
            archive = self.new_dir("download")
            try:
                http_get(url, dest=archive)
            except FetchError as exc:
                raise origin.error(f"Could not download {scrub_secrets(url)}: {exc}") from None
            self._tarballs[url] = extract_tarball(archive, self.new_dir("untar"), url, label, origin)
            archive.unlink(missing_ok=True)
        return self._tarballs[url]
