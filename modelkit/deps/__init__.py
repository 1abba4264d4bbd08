"""dbt's ``deps`` command: install the packages a project lists in ``packages.yml`` (or
``dependencies.yml``) into its ``packages-install-path`` (``dbt_packages/``). Packages come from a
local folder (symlinked), a git repository (any branch, tag or commit, optionally a subdirectory), a
tarball URL, or the dbt package hub (version ranges, resolved through the hub's JSON index at
``DBT_PACKAGE_HUB_URL``). Dependencies of dependencies are resolved too, version ranges intersected
across every package that asks; the result is pinned in ``package-lock.yml`` (dbt's layout and hash),
which later runs install from without resolving again. Installation is all or nothing: packages are
staged next to the install folder and renamed into place once every one of them is ready.
"""

from __future__ import annotations

from modelkit.deps.base import DBT_VERSION, DepsError
from modelkit.deps.command import DepsResult, run_deps

__all__ = ["DBT_VERSION", "DepsError", "DepsResult", "run_deps"]
