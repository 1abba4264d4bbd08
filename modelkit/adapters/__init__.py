"""Engines behind one small protocol. ``get_adapter(target)`` picks the module."""

from __future__ import annotations

from typing import TYPE_CHECKING

from modelkit.core.errors import ProjectError

if TYPE_CHECKING:
    from modelkit.adapters.base import Adapter
    from modelkit.project.profiles import Target


def get_adapter(target: Target) -> Adapter:
    if target.type == "duckdb":
        from modelkit.adapters.duckdb import DuckDBAdapter

        return DuckDBAdapter(target)
    raise ProjectError(f"Unsupported adapter type '{target.type}' (supported: duckdb)", path=target.origin)
