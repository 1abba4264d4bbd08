"""CLI: the ``modelkit`` command.

Typer commands that parse arguments, call :mod:`modelkit.api`, print dbt-style lines through the
console reporter (``output``) and decide the exit code: 0 success, 1 a node failed, 2 a usage or
project error. Nothing outside this package imports typer or prints.
"""
