"""``modelkit lsp`` driven through the Language Server Protocol by a real client (pygls) over stdio."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import make_project

pytest.importorskip("pygls")

from lsprotocol import types  # noqa: E402
from pygls.lsp.client import LanguageClient  # noqa: E402

REPORT = """\
select
    p.id,
    {{ shout('p.name') }} as loud
from {{ ref('stg_people') }} as p
join {{ source('raw', 'events') }} as e on e.person_id = p.id
"""

FILES = {
    "seeds/people.csv": "id,name\n1,ann\n2,bob\n",
    "models/staging/stg_people.sql": "select id, name from {{ ref('people') }}\n",
    "models/report.sql": REPORT,
    "macros/helpers.sql": "-- helpers\n\n{% macro shout(x) %}upper({{ x }}){% endmacro %}\n",
    "models/docs.md": "intro\n\n{% docs people_doc %}\nOne row per person.\n{% enddocs %}\n",
    "models/schema.yml": """\
        version: 2
        sources:
          - name: raw
            schema: main
            tables:
              - name: other
              - name: events
                columns:
                  - name: person_id
                    data_type: integer
                  - name: kind
        models:
          - name: stg_people
            description: '{{ doc("people_doc") }}'
            columns:
              - name: id
                data_type: bigint
    """,
}


class Client:
    """A language client with the server's published diagnostics by document."""

    def __init__(self) -> None:
        self.client = LanguageClient("modelkit-tests", "1")
        self.diagnostics: dict[str, list[list[types.Diagnostic]]] = {}

        @self.client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        def published(params: types.PublishDiagnosticsParams) -> None:
            self.diagnostics.setdefault(params.uri, []).append(params.diagnostics)

    async def next_diagnostics(self, uri: str, seen: int, timeout: float = 60) -> list[types.Diagnostic]:
        """The first diagnostics of ``uri`` published after the ``seen`` ones already received."""
        end = time.monotonic() + timeout
        while len(self.diagnostics.get(uri, [])) <= seen:
            if time.monotonic() > end:
                raise AssertionError(f"no diagnostics for {uri} within {timeout}s: {self.diagnostics}")
            await asyncio.sleep(0.05)
        return list(self.diagnostics[uri][seen])

    async def next_nonempty(self, uri: str, seen: int, timeout: float = 60) -> list[types.Diagnostic]:
        """The first non-empty diagnostics of ``uri`` published after the ``seen`` ones (a check that began
        before an edit may still publish its own result first)."""
        return await self.next_where(uri, seen, bool, timeout)

    async def next_empty(self, uri: str, seen: int, timeout: float = 60) -> list[types.Diagnostic]:
        """The first empty diagnostics of ``uri`` published after the ``seen`` ones: its problems cleared."""
        return await self.next_where(uri, seen, lambda found: not found, timeout)

    async def next_where(self, uri: str, seen: int, wanted, timeout: float) -> list[types.Diagnostic]:
        end = time.monotonic() + timeout
        while True:
            published = self.diagnostics.get(uri, [])[seen:]
            found = next((list(d) for d in published if wanted(d)), None)
            if found is not None:
                return found
            if time.monotonic() > end:
                raise AssertionError(f"no diagnostics for {uri} within {timeout}s: {self.diagnostics}")
            await asyncio.sleep(0.05)

    def count(self, uri: str) -> int:
        return len(self.diagnostics.get(uri, []))


def position(text: str, needle: str, offset: int = 0) -> types.Position:
    index = text.index(needle) + offset
    line = text.count("\n", 0, index)
    return types.Position(line=line, character=index - (text.rfind("\n", 0, index) + 1))


async def session(root: Path) -> None:
    c = Client()
    client = c.client
    await client.start_io(sys.executable, "-m", "modelkit.cli", "lsp")
    try:
        await client.initialize_async(
            types.InitializeParams(capabilities=types.ClientCapabilities(), root_uri=root.as_uri())
        )
        client.initialized(types.InitializedParams())
        report = root / "models" / "report.sql"
        uri = report.as_uri()
        doc = types.TextDocumentIdentifier(uri=uri)

        # the editor's unsaved text, not the file on disk, is what is checked: a misspelt column
        typo = REPORT.replace("p.id,", "p.id,\n    p.nme,")
        seen = c.count(uri)
        client.text_document_did_open(
            types.DidOpenTextDocumentParams(
                text_document=types.TextDocumentItem(uri=uri, language_id="sql", version=1, text=typo)
            )
        )
        found = await c.next_nonempty(uri, seen)
        assert [(d.range.start.line, d.severity) for d in found] == [(2, types.DiagnosticSeverity.Warning)], found
        assert "nme" in found[0].message and "Did you mean 'name'" in found[0].message
        assert report.read_text() == REPORT  # the file on disk is untouched

        # fixed as the user types: the diagnostics are cleared
        version = 2
        seen = c.count(uri)
        change = types.TextDocumentContentChangeWholeDocument(text=REPORT)
        client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version), content_changes=[change]
            )
        )
        assert await c.next_empty(uri, seen) == []

        # a ref() to no model is the parse error, at its line
        broken = REPORT.replace("ref('stg_people')", "ref('stg_peeple')")
        seen = c.count(uri)
        change = types.TextDocumentContentChangeWholeDocument(text=broken)
        client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=3), content_changes=[change]
            )
        )
        found = await c.next_nonempty(uri, seen)
        assert len(found) == 1 and found[0].range.start.line == 3, found
        assert "stg_peeple" in found[0].message and "stg_people" in found[0].message  # with its suggestion
        seen = c.count(uri)
        change = types.TextDocumentContentChangeWholeDocument(text=REPORT)
        client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=4), content_changes=[change]
            )
        )
        assert await c.next_empty(uri, seen) == []

        # go to definition: ref(), source(), a macro, doc()
        cases = [
            (REPORT, "stg_people", "models/staging/stg_people.sql", 0),
            (REPORT, "'events'", "models/schema.yml", 6),
            (REPORT, "shout", "macros/helpers.sql", 2),
        ]
        for text, needle, path, line in cases:
            where = await client.text_document_definition_async(
                types.DefinitionParams(text_document=doc, position=position(text, needle, 1))
            )
            assert isinstance(where, types.Location), (needle, where)
            assert (where.uri, where.range.start.line) == ((root / path).as_uri(), line), (needle, where)
        yml = root / "models" / "schema.yml"
        yml_text = yml.read_text()
        client.text_document_did_open(
            types.DidOpenTextDocumentParams(
                text_document=types.TextDocumentItem(uri=yml.as_uri(), language_id="yaml", version=1, text=yml_text)
            )
        )
        where = await client.text_document_definition_async(
            types.DefinitionParams(
                text_document=types.TextDocumentIdentifier(uri=yml.as_uri()),
                position=position(yml_text, "people_doc", 2),
            )
        )
        assert isinstance(where, types.Location)
        assert (where.uri, where.range.start.line) == ((root / "models" / "docs.md").as_uri(), 2)

        # a property file's unsaved text is checked too: its syntax error at its line, then fixed
        seen = c.count(yml.as_uri())
        client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=yml.as_uri(), version=2),
                content_changes=[
                    types.TextDocumentContentChangeWholeDocument(text=yml_text.replace("bigint", "big: int"))
                ],
            )
        )
        found = await c.next_nonempty(yml.as_uri(), seen)
        assert [d.range.start.line for d in found] == [position(yml_text, "bigint").line], found
        seen = c.count(yml.as_uri())
        client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=yml.as_uri(), version=3),
                content_changes=[types.TextDocumentContentChangeWholeDocument(text=yml_text)],
            )
        )
        assert await c.next_empty(yml.as_uri(), seen) == []

        # hover: the relation, its columns and types (YAML's data_type; the seed's own for the rest)
        hover = await client.text_document_hover_async(
            types.HoverParams(text_document=doc, position=position(REPORT, "stg_people", 2))
        )
        assert hover is not None
        text = hover.contents.value
        assert "model.demo.stg_people" in text and "One row per person." in text
        assert "| id | bigint |" in text and "| name |" in text
        hover = await client.text_document_hover_async(
            types.HoverParams(text_document=doc, position=position(REPORT, "'events'", 1))
        )
        assert "source.demo.raw.events" in hover.contents.value and "| person_id | integer |" in hover.contents.value

        # completion: model names in ref(', sources in source(', tables, and columns after an alias
        async def complete(text: str, needle: str, offset: int) -> list[str]:
            seen = c.count(uri)
            client.text_document_did_change(
                types.DidChangeTextDocumentParams(
                    text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=9),
                    content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)],
                )
            )
            await c.next_diagnostics(uri, seen)  # the check of this text is done
            result = await client.text_document_completion_async(
                types.CompletionParams(text_document=doc, position=position(text, needle, offset))
            )
            items = result.items if isinstance(result, types.CompletionList) else result
            return sorted(i.label for i in items)

        assert await complete(REPORT.replace("ref('stg_people')", "ref('st"), "ref('st", 7) == [
            "people",
            "report",
            "stg_people",
        ]
        assert await complete(REPORT.replace("source('raw', 'events')", "source('"), "source('", 8) == ["raw"]
        assert await complete(REPORT.replace("'events')", "'ev"), "'ev", 3) == ["events", "other"]
        assert await complete(REPORT.replace("p.id,", "p.,"), "p.,", 2) == ["id", "name"]

        # closed without saving: the file on disk is what counts again, and it is fine
        seen = c.count(uri)
        client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=10),
                content_changes=[types.TextDocumentContentChangeWholeDocument(text=typo)],
            )
        )
        assert len(await c.next_nonempty(uri, seen)) == 1
        seen = c.count(uri)
        client.text_document_did_close(types.DidCloseTextDocumentParams(text_document=doc))
        assert await c.next_empty(uri, seen) == []

        await client.shutdown_async(None)
        client.exit(None)
    finally:
        server = getattr(client, "_server", None)
        if server is not None and server.returncode is None:
            await asyncio.sleep(0.5)  # time to exit after `exit`
            if server.returncode is None:
                server.kill()  # a failed assertion left it running
        await client.stop()


def test_lsp_over_stdio(tmp_path: Path) -> None:
    root = make_project(tmp_path / "demo", FILES)
    asyncio.run(asyncio.wait_for(session(root), 240))


def test_help_does_not_load_the_server() -> None:
    """pygls is imported by ``modelkit lsp`` alone: the command line starts without it."""
    code = "import sys; from modelkit.cli.main import app; print(sorted(m for m in sys.modules if 'pygls' in m))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
    out = subprocess.run(
        [sys.executable, "-m", "modelkit.cli", "lsp", "--help"], capture_output=True, text=True, check=True
    ).stdout
    assert "Language Server Protocol" in out
