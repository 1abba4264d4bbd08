"""Generic test entries: reading a YAML test entry and naming it as dbt does.

``- accepted_values: {values: [...]}`` becomes a :class:`TestSpec`; its name,
unique id and alias follow dbt-core's generic test builder. Its arguments are
rendered at execution by :mod:`modelkit.render.testargs`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from modelkit.core.errors import ProjectError

if TYPE_CHECKING:
    pass

CONFIG_ARGS = frozenset(
    "severity tags enabled where limit warn_if error_if fail_calc store_failures store_failures_as "
    "meta database schema alias".split()
)
_HASH_LENGTH = 10


# -- naming (dbt-core's generic_test_builders) -------------------------------------------
def synthesize_names(test_type: str, target_name: str, args: Mapping[str, Any]) -> tuple[str, str]:
    """(short name for the alias and file, full name for unique_id and fqn)."""
    flat: list[str] = []
    for key in sorted(args):
        if key == "model":
            continue
        value = args[key]
        parts = (
            list(value.values())
            if isinstance(value, dict)
            else list(value)
            if isinstance(value, (list, tuple))
            else [value]
        )
        flat.extend(str(p) for p in parts)
    unique = "__".join(re.sub("[^0-9a-zA-Z_]+", "_", arg) for arg in flat)
    identifier = f"{test_type}_{target_name}"
    full = f"{identifier}_{unique}"
    if len(full) >= 64:
        return f"{identifier[:30]}_{hashlib.md5(full.encode('utf-8')).hexdigest()}", full
    return full, full


def _hashable(data: Any) -> Any:
    if type(data) is dict:
        return {k: _hashable(data[k]) for k in sorted(data)}
    if type(data) is list:
        return [_hashable(v) for v in data]
    return str(data)


def generic_test_unique_id(package: str, name: str, metadata: Mapping[str, Any]) -> str:
    digest = hashlib.md5((name + repr(_hashable(dict(metadata)))).encode("utf-8")).hexdigest()
    return f"test.{package}.{name}.{digest[-_HASH_LENGTH:]}"


# -- one YAML entry ------------------------------------------------------------------------
@dataclass
class TestSpec:
    __test__ = False

    name: str
    namespace: str | None
    args: dict[str, Any]
    config: dict[str, Any]
    explicit_name: str | None = None
    description: str = ""


def parse_entry(raw: Any, where: str) -> TestSpec:
    """``- unique``, ``- accepted_values: {values: [...]}``, ``- name: x`` + ``test_name: y``..."""
    if isinstance(raw, str):
        name, body = raw, {}
    elif isinstance(raw, Mapping):
        if "test_name" in raw:
            name, body = str(raw["test_name"]), {k: v for k, v in raw.items() if k != "test_name"}
        elif len(raw) == 1:
            name, body = next(iter(raw.items()))
            body = {} if body is None else body
        else:
            raise ProjectError(
                f"A test under {where} must have exactly one key (the test's name), "
                f"or a `test_name`; got {', '.join(map(str, raw))}"
            )
    else:
        raise ProjectError(f"A test under {where} must be a name or a mapping, got {raw!r}")
    if not isinstance(body, Mapping):
        raise ProjectError(f"The arguments of test '{name}' under {where} must be a mapping, got {body!r}")
    body = dict(body)
    namespace = None
    if "." in str(name):
        namespace, name = str(name).split(".", 1)
    explicit = body.pop("name", None)
    description = str(body.pop("description", "") or "")
    config = dict(body.pop("config", None) or {})
    if "arguments" in body:
        args = dict(body.pop("arguments") or {})
        inline = body
    else:
        args, inline = {}, body
    for key, value in inline.items():
        if key in CONFIG_ARGS:
            config.setdefault(key, value)
        else:
            args[key] = value
    return TestSpec(str(name), namespace, args, config, str(explicit) if explicit else None, description)
