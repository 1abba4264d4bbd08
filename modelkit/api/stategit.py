"""``--state-git REV``: the project as committed at a git revision, parsed into a comparison state.

The revision's files are read from git's objects (``git ls-tree`` and ``git cat-file --batch``) into a
temporary folder, never by checking out the working tree; that copy is parsed with the same profile,
target and vars as the current command, so its relation names are those the revision builds in this
target (what ``--defer`` needs). Installed packages, which are not committed, are the current ones.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

from modelkit.artifacts.writer import manifest_dict
from modelkit.core.errors import StateError
from modelkit.core.manifest import Manifest
from modelkit.graph.state import PreviousState


def _git(root: Path, *args: str, data: bytes | None = None) -> bytes:
    try:
        done = subprocess.run(["git", "-C", str(root), *args], input=data, capture_output=True, check=False)
    except OSError as exc:
        raise StateError(f"--state-git needs git, which could not be run: {exc}") from None
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip()
        raise StateError(f"--state-git: git {args[0]} failed in {root}: {message}")
    return done.stdout


def _commit(root: Path, rev: str) -> str:
    """The commit ``rev`` names; a clear error when it names none."""
    if _git(root, "rev-parse", "--is-inside-work-tree").strip() != b"true":
        raise StateError(f"--state-git: the project folder {root} is not inside a git work tree")
    done = subprocess.run(
        ["git", "-C", str(root), "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}"],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0 or not done.stdout.strip():
        raise StateError(f"--state-git: '{rev}' is not a git revision of the repository holding {root}")
    return done.stdout.decode().strip()


def _blobs(root: Path, commit: str, prefix: str) -> list[tuple[str, str, str]]:
    """(mode, sha, path relative to the project) of each file of the project folder at ``commit``."""
    args = ["ls-tree", "-r", "-z", "--full-tree", commit]
    if prefix:
        args += ["--", prefix]
    found = []
    for entry in _git(root, *args).split(b"\0"):
        if not entry:
            continue
        meta, _, path = entry.partition(b"\t")
        mode, kind, sha = meta.decode().split()
        rel = path.decode("utf-8", "surrogateescape")
        if kind == "blob" and rel.startswith(prefix):
            found.append((mode, sha, rel[len(prefix) :]))
    return found


def export_revision(root: Path, rev: str, dest: Path) -> str:
    """Write the project folder (``root``) as committed at ``rev`` under ``dest``; returns the commit."""
    commit = _commit(root, rev)
    prefix = _git(root, "rev-parse", "--show-prefix").decode().strip()
    files = _blobs(root, commit, prefix)
    if not files:
        raise StateError(f"--state-git: the project folder has no files at revision '{rev}'")
    contents = _git(root, "cat-file", "--batch", data="".join(f"{sha}\n" for _, sha, _ in files).encode())
    pos = 0
    for mode, _sha, rel in files:
        header_end = contents.index(b"\n", pos)
        size = int(contents[pos:header_end].split()[2])
        body = contents[header_end + 1 : header_end + 1 + size]
        pos = header_end + 1 + size + 1
        path = dest / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if mode == "120000":  # a symbolic link: its target is the blob's text
            os.symlink(body.decode("utf-8", "surrogateescape"), path)
        else:
            path.write_bytes(body)
    return commit


def git_state(
    root: Path, rev: str, parse: Callable[[Path], Manifest], packages_dir: str, adapter_type: str = "duckdb"
) -> PreviousState:
    """The comparison state of ``--state-git rev``: ``parse`` reads the exported copy of the project."""
    with tempfile.TemporaryDirectory(prefix="modelkit-state-") as tmp:
        dest = Path(tmp) / "project"
        dest.mkdir()
        commit = export_revision(root, rev, dest)
        installed = root / packages_dir
        if installed.is_dir() and not (dest / packages_dir).exists():
            os.symlink(installed, dest / packages_dir, target_is_directory=True)
        manifest = parse(dest)
        data = manifest_dict(manifest, f"git:{commit}", adapter_type=adapter_type)
    return PreviousState.from_manifest(data, f"git revision {rev}")
