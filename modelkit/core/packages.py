"""Installed packages' versions, read from their ``.dist-info`` folders' names.

``importlib.metadata.version`` imports the ``email`` package and parses the package's whole METADATA
file (about 20 ms at start-up, for a figure the folder's name already holds); it is asked only when no
such folder is found (an egg, a zip on ``sys.path``).
"""

from __future__ import annotations

import os
import re
import sys
from functools import cache


def _normalized(name: str) -> str:
    """A distribution's name as its ``.dist-info`` folder spells it (PEP 427)."""
    return re.sub(r"[-_.]+", "_", name).lower()


@cache
def installed_version(name: str) -> str:
    """The version of an installed distribution, or '' when it is not installed.

    >>> installed_version("no-such-distribution-here")
    ''
    >>> installed_version("sqlglot") != ""
    True
    """
    wanted = _normalized(name)
    for entry in sys.path:
        try:
            names = os.listdir(entry or ".")
        except OSError:  # not a folder (a zip archive) or gone: metadata below finds those
            continue
        for folder in names:
            if folder.endswith(".dist-info") and "-" in folder:
                dist, _, version = folder[: -len(".dist-info")].partition("-")
                if _normalized(dist) == wanted:
                    return version
    return _from_metadata(name)


def _from_metadata(name: str) -> str:
    # importlib.metadata costs ~20 ms to import: only for what no .dist-info folder names
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return ""
