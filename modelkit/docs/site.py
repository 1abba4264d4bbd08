"""``target/index.html``: one self-contained file (styles, scripts and data inlined), usable from file://."""

from __future__ import annotations

import json
import re
from importlib import resources
from pathlib import Path
from typing import Any

import orjson

from modelkit.core import fsio

SCRIPTS = ("util.js", "markdown.js", "sql.js", "select.js", "graph.js", "pages.js", "lineage_pages.js", "app.js")
STYLES = ("style.css",)


def _asset(name: str) -> str:
    return resources.files("modelkit").joinpath("docs_site", name).read_text(encoding="utf-8")


# values JSON has no type for (dates, dataclasses) go to ``str``, as with the standard library
_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


def _json(data: Any) -> str:
    """JSON safe inside a <script> element: no '<' can close it or open a comment."""
    try:
        text = orjson.dumps(data, default=str, option=_OPTIONS).decode("utf-8")
    except (TypeError, orjson.JSONEncodeError):  # what orjson refuses (integers beyond 64 bits, ...)
        text = json.dumps(data, separators=(",", ":"), ensure_ascii=False, default=str)
    return text.replace("<", "\\u003c")


def _inline_script(text: str) -> str:
    return text.replace("</script", "<\\/script")


def render(index: dict[str, Any], details: list[dict[str, Any]], lineage: dict[str, Any], chunk: int) -> str:
    """The whole page."""
    blocks = [f'<script type="application/json" id="mk-index">{_json(index)}</script>']
    for n, start in enumerate(range(0, max(len(details), 1), chunk)):
        part = details[start : start + chunk]
        blocks.append(f'<script type="application/json" id="mk-detail-{n}">{_json(part)}</script>')
    blocks.append(f'<script type="application/json" id="mk-lineage">{_json(lineage)}</script>')
    title = f"{index['meta'].get('project', 'modelkit')} · modelkit docs"
    pieces = {
        "{{TITLE}}": _escape(title),
        "/*STYLE*/": "\n".join(_asset(n) for n in STYLES),
        "<!--DATA-->": "\n".join(blocks),
        "/*SCRIPT*/": _inline_script("\n".join(_asset(n) for n in SCRIPTS)),
    }
    # one pass over the template, so that nothing inside the data is taken for a placeholder
    page = re.sub("|".join(map(re.escape, pieces)), lambda m: pieces[m.group(0)], _asset("index.html"))
    return page


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def write(path: Path, html: str) -> None:
    fsio.atomic_write(path, html, scrub=True)
