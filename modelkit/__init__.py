"""modelkit: Jinja-templated SQL models, built in dependency order."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
# The dbt-core version whose user-facing contract (CLI, logs, artifacts) modelkit follows.
DBT_COMPAT_VERSION = "1.11.0"
__all__ = ["Project", "ModelkitError", "__version__"]

if TYPE_CHECKING:
    from modelkit.api.project import Project
    from modelkit.core.errors import ModelkitError


def __getattr__(name: str) -> Any:  # imports stay lazy so the CLI starts fast
    if name == "Project":
        from modelkit.api.project import Project

        return Project
    if name == "ModelkitError":
        from modelkit.core.errors import ModelkitError

        return ModelkitError
    raise AttributeError(name)
