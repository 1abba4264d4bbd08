"""Secret values kept out of what modelkit shows and writes.

As in dbt, the value of every environment variable whose name starts with ``DBT_ENV_SECRET`` (or
``MODELKIT_SECRET``) is replaced by ``*****`` in error messages, console lines and the artifacts
(``manifest.json``, ``run_results.json``, ``sources.json``, ``catalog.json``, the docs site). The
SQL sent to the database and the compiled files under ``target/compiled/`` keep the real value.
"""

from __future__ import annotations

import json
import os

PREFIXES = ("DBT_ENV_SECRET", "MODELKIT_SECRET")
MASK = "*****"


def values() -> list[str]:
    """The secret values set now, longest first (so that a secret holding another is masked whole)."""
    found = {v for k, v in os.environ.items() if k.startswith(PREFIXES) and v.strip()}
    return sorted(found, key=len, reverse=True)


def scrub(text: str) -> str:
    """``text`` with every secret value replaced by ``*****``."""
    for secret in values():
        text = text.replace(secret, MASK)
    return text


def scrub_bytes(data: bytes) -> bytes:
    """UTF-8 (or JSON) bytes with every secret value, raw or JSON-escaped, replaced by ``*****``."""
    for secret in values():
        raw = secret.encode("utf-8")
        data = data.replace(raw, MASK.encode())
        escaped = json.dumps(secret, ensure_ascii=False)[1:-1].encode("utf-8")
        if escaped != raw:
            data = data.replace(escaped, MASK.encode())
    return data
