"""``statement``, ``run_query``, ``load_result``, ``store_result`` and ``store_raw_result``.

As dbt's ``statement`` macro: at parse time the block is not even rendered; at execution it runs
through ``adapter.execute`` and its result is kept under its name, for ``load_result`` to read once
(``main`` any number of times).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from modelkit.core.errors import CompilationError
from modelkit.render.jinja_objects import AdapterResponse, Table


class Statements:
    """The statement results of one render, and the functions templates use to make and read them."""

    def __init__(self, execute: bool, run: Callable[..., tuple[AdapterResponse, Table]]) -> None:
        self._execute = execute
        self._run = run  # adapter.execute(sql, auto_begin=..., fetch=...)
        self.results: dict[str, dict[str, Any] | None] = {}

    def statement(
        self,
        name: str | None = None,
        fetch_result: bool = False,
        auto_begin: bool = True,
        language: str = "sql",
        caller: Any = None,
    ) -> str:
        if not self._execute or caller is None:
            return ""
        compiled_code = str(caller())
        if language != "sql":
            raise CompilationError("statement macro didn't get supported language")
        response, table = self._run(compiled_code, auto_begin=auto_begin, fetch=fetch_result)
        if name is not None:
            self.store_result(name, response=response, agate_table=table)
        return ""

    def run_query(self, sql: str) -> Table | None:
        if not self._execute:
            return None
        response, table = self._run(str(sql), auto_begin=False, fetch=True)
        return table

    def load_result(self, name: str) -> dict[str, Any] | None:
        if name not in self.results:
            return None
        if name == "main":
            return self.results["main"]
        result = self.results[name]
        if result is None:
            raise CompilationError(f"The 'statement' result named '{name}' has already been loaded into a variable")
        self.results[name] = None
        return result

    def store_result(self, name: str, response: Any = None, agate_table: Table | None = None) -> str:
        table = agate_table if agate_table is not None else Table([], [], [])
        data = table.as_matrix() if isinstance(table, Table) else [list(row) for row in table]
        self.results[name] = _AttrDict(response=response, data=data, table=table)
        return ""

    def store_raw_result(
        self,
        name: str,
        message: str | None = None,
        code: str | None = None,
        rows_affected: int | None = None,
        agate_table: Table | None = None,
    ) -> str:
        response = AdapterResponse(message or "", code=code, rows_affected=rows_affected)
        return self.store_result(name, response, agate_table)


class _AttrDict(dict):
    """A result: ``result['table']`` or ``result.table``."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None
