"""``config`` in a template: ``config(...)`` records a node's settings at parse time; ``config.get`` reads them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from modelkit.core.errors import CompilationError

MISSING = object()


class ConfigCapture(Protocol):
    """Where a parse-time render records what ``config(...)`` set."""

    config: dict[str, Any]


def _check_hook_keys(config: Mapping[str, Any]) -> None:
    """dbt's ConflictingConfigKeysError: one config() call naming a hook both ways."""
    for old in ("pre_hook", "post_hook"):
        new = old.replace("_", "-")
        if old in config and new in config:
            raise CompilationError(f'Invalid config, has conflicting keys "{old}" and "{new}"')


class ConfigAccessor:
    """``config(...)`` in a template, plus ``config.get`` / ``config.require``."""

    def __init__(self, node_config: dict[str, Any], capture: ConfigCapture | None) -> None:
        self._config = node_config
        self._capture = capture

    def __call__(self, *args: Any, **kwargs: Any) -> str:
        if self._capture is not None:
            for arg in args:
                if isinstance(arg, Mapping):
                    _check_hook_keys(arg)
                    self._capture.config.update(arg)
            self._capture.config.update(kwargs)
        return ""

    def _value(self, key: str) -> Any:
        if self._capture is not None and key in self._capture.config:
            return self._capture.config[key]
        return self._config.get(key, MISSING)

    def get(self, key: str, default: Any = None, validator: Any = None) -> Any:
        value = self._value(key)
        value = default if value is MISSING or value is None else value
        if validator is not None and default is not None:
            validator(value)
        return value

    def require(self, key: str, validator: Any = None) -> Any:
        value = self._value(key)
        if value is MISSING or value is None:
            raise CompilationError(f"Required config '{key}' is missing")
        if validator is not None:
            validator(value)
        return value

    def _meta(self) -> Mapping[str, Any]:
        meta = self._value("meta")
        return meta if isinstance(meta, Mapping) else {}

    def meta_get(self, key: str, default: Any = None, validator: Any = None) -> Any:
        value = self._meta().get(key, default)
        if validator is not None and default is not None:
            validator(value)
        return value

    def meta_require(self, key: str, validator: Any = None) -> Any:
        if key not in self._meta():
            raise CompilationError(f"Required config '{key}' is missing from meta")
        value = self._meta()[key]
        if validator is not None:
            validator(value)
        return value

    def set(self, key: str, value: Any) -> str:
        """``config.set(key, value)``: as ``config(key=value)``, recorded at parse time (``set_sql_header``)."""
        return self(**{key: value})

    def _persist_docs(self) -> Mapping[str, Any]:
        value = self.get("persist_docs", {})
        if not isinstance(value, Mapping):
            raise CompilationError(
                f"Invalid value provided for 'persist_docs'. Expected dict but received {type(value)}"
            )
        return value

    def persist_relation_docs(self) -> bool:
        return bool(self._persist_docs().get("relation", False))

    def persist_column_docs(self) -> bool:
        return bool(self._persist_docs().get("columns", False))
