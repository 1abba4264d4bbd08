"""The examples in modelkit's docstrings run as tests, so that they stay true."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import modelkit

MODULES = sorted(
    info.name
    for info in pkgutil.walk_packages(modelkit.__path__, "modelkit.")
    if not info.name.endswith(("__main__", "lineage_worker"))
)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(name)
    failed, _ = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False)
    assert failed == 0, f"{failed} docstring example(s) of {name} failed (run python -m doctest -v on it)"
