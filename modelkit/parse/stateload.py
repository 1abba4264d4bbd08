"""Reading a comparison state from disk: ``<dir>/manifest.json`` and ``<dir>/run_results.json``.

Either file may come from dbt or from modelkit; only what state selection, deferral and ``retry`` need
is read from them. Schema versions are checked as dbt checks them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from modelkit.core.errors import StateError
from modelkit.graph.state import PreviousState

MANIFEST_VERSIONS = range(7, 13)  # manifest v7 (raw_code) .. v12: what dbt 1.11 reads, from dbt 1.3 on
RUN_RESULTS_VERSIONS = range(4, 7)
SCHEMA_URL = "https://schemas.getdbt.com/dbt/{kind}/v{version}.json"


def _schema_version(url: Any) -> int | None:
    text = str(url or "")
    stem = text.rsplit("/", 1)[-1]
    if stem.startswith("v") and stem.endswith(".json") and stem[1:-5].isdigit():
        return int(stem[1:-5])
    return None


def read_artifact(path: Path, kind: str, versions: range) -> dict[str, Any]:
    """An artifact's JSON, its ``metadata.dbt_schema_version`` checked (dbt's message when incompatible)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise StateError(f'Could not read {path.name} at "{path}" as JSON: {exc}', path=path) from None
    if not isinstance(data, dict):
        raise StateError(f'Could not read {path.name} at "{path}": expected a JSON object', path=path)
    found = (data.get("metadata") or {}).get("dbt_schema_version")
    if _schema_version(found) not in versions or kind not in str(found):
        expected = SCHEMA_URL.format(kind=kind, version=versions[-1])
        shown = f'"{found}"' if found is not None else "nothing"
        raise StateError(
            f'Expected a schema version of "{expected}" in {path}, but found {shown}. '
            "Are you running with a different version of dbt?",
            path=path,
        )
    return data


def result_statuses(path: Path) -> dict[str, str] | None:
    """unique_id -> status of a run_results.json (None when there is no such file)."""
    if not path.is_file():
        return None
    data = read_artifact(path, "run-results", RUN_RESULTS_VERSIONS)
    return {r["unique_id"]: str(r.get("status")) for r in data.get("results") or [] if "unique_id" in r}


def resolve_dir(folder: str | Path, project_root: Path) -> Path:
    """A state folder as dbt finds it: relative to the project root unless absolute."""
    path = Path(folder)
    return path if path.is_absolute() else project_root / path


def load_state_dir(folder: str | Path, project_root: Path, flag: str = "--state") -> PreviousState:
    """The comparison state in ``folder`` (``flag`` names where it came from, for errors)."""
    path = resolve_dir(folder, project_root)
    if not path.is_dir():
        raise StateError(f"The {flag} folder '{folder}' does not exist (looked for {path})", path=str(folder))
    manifest_path = path / "manifest.json"
    results = result_statuses(path / "run_results.json")
    if not manifest_path.is_file():
        if results is None:
            raise StateError(
                f"The {flag} folder '{folder}' has no manifest.json (nor run_results.json): pass the folder "
                "of a previous run's artifacts (its target/ folder, saved)",
                path=str(manifest_path),
            )
        return PreviousState(str(folder), results=results, has_manifest=False)
    manifest = read_artifact(manifest_path, "manifest", MANIFEST_VERSIONS)
    return PreviousState.from_manifest(manifest, str(folder), results)
