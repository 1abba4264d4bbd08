"""What every part of ``deps`` shares: the error type, where an entry came from, Jinja rendering of the
packages file, and scrubbing of secret values out of messages."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from jinja2 import TemplateError
from jinja2.sandbox import SandboxedEnvironment

from modelkit.core.errors import ProjectError
from modelkit.project.project import env_var

SECRET_PREFIX = "DBT_ENV_SECRET_"
# The dbt version modelkit is compatible with: what ``require-dbt-version`` and the hub's
# ``require_dbt_version`` are checked against.
DBT_VERSION = "1.11.0"


class DepsError(ProjectError):
    """A package could not be resolved, fetched or installed."""

    kind = "Dependency Error"


@dataclass(frozen=True)
class Origin:
    """Where a package entry came from.

    ``path``/``line``/``source`` locate the entry of the root project's packages file that the
    requirement comes through (for a dependency of a dependency, the root entry that pulled it in);
    ``chain`` names the packages in between, nearest last.
    """

    path: str | None
    line: int | None
    source: str | None = None
    chain: tuple[str, ...] = ()
    detail: str = ""

    @property
    def requested_by(self) -> str:
        return f"package '{self.chain[-1]}'" if self.chain else "the root project"

    def describe(self) -> str:
        """``the root project (packages.yml line 3)`` or ``package 'a' (its packages.yml line 2)``."""
        where = self.detail or (f"{self.path} line {self.line}" if self.path and self.line else self.path or "")
        return f"{self.requested_by} ({where})" if where else self.requested_by

    def error(self, message: str) -> DepsError:
        if self.chain:
            message += "\n(required through " + " -> ".join(self.chain) + ")"
        return DepsError(scrub_secrets(message), path=self.path, line=self.line, source=self.source)


def secret_values(env: Mapping[str, str] | None = None) -> list[str]:
    env = os.environ if env is None else env
    return [value for key, value in env.items() if key.startswith(SECRET_PREFIX) and value.strip()]


def scrub_secrets(text: str, env: Mapping[str, str] | None = None) -> str:
    """``text`` with the value of every ``DBT_ENV_SECRET_*`` variable replaced by ``*****``."""
    for value in secret_values(env):
        text = text.replace(value, "*****")
    return text


def has_jinja(value: Any) -> bool:
    if isinstance(value, str):
        return "{{" in value or "{%" in value
    if isinstance(value, Mapping):
        return any(has_jinja(v) for v in value.values())
    if isinstance(value, list):
        return any(has_jinja(v) for v in value)
    return False


class Renderer:
    """Renders ``{{ env_var(...) }}`` and ``{{ var(...) }}`` in the values of a packages file.

    As in dbt's packages context, ``DBT_ENV_SECRET_*`` variables may be read here.
    """

    def __init__(self, cli_vars: Mapping[str, Any] | None = None) -> None:
        self.cli_vars = dict(cli_vars or {})
        self.env = SandboxedEnvironment()
        self.env.globals.update(env_var=env_var, var=self._var, dbt_version=DBT_VERSION)

    def _var(self, name: str, default: Any = None) -> Any:
        if name in self.cli_vars:
            return self.cli_vars[name]
        if default is None:
            raise ProjectError(f"Required var '{name}' not found: in packages.yml only --vars are available")
        return default

    def render(self, value: Any, origin: Origin | None = None) -> Any:
        if isinstance(value, str):
            if not has_jinja(value):
                return value
            try:
                return self.env.from_string(value).render()
            except ProjectError as exc:
                raise _located(exc.message, origin) from None
            except TemplateError as exc:
                raise _located(f"Could not render {value!r}: {exc}", origin) from None
        if isinstance(value, Mapping):
            return {k: self.render(v, origin) for k, v in value.items()}
        if isinstance(value, list):
            return [self.render(v, origin) for v in value]
        return value


def _located(message: str, origin: Origin | None) -> ProjectError:
    if origin is None:
        return DepsError(scrub_secrets(message))
    return origin.error(message)
