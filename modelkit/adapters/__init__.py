"""Engines behind one small protocol. ``get_adapter(target)`` picks the module."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import ProjectError

if TYPE_CHECKING:
    from ..profiles import Target
    from .base import Adapter


def get_adapter(target: Target) -> Adapter:
    if target.type == "duckdb":
        from .duckdb import DuckDBAdapter

        return DuckDBAdapter(target)
    raise ProjectError(f"Unsupported adapter type '{target.type}' (supported: duckdb)", path=target.origin)
