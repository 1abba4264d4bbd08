"""``modelkit lsp``: the Language Server for editors (needs the ``lsp`` extra: pygls)."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from modelkit.cli.app import ProfilesDir, app


@app.command()
def lsp(
    project_dir: Annotated[
        Optional[str],
        typer.Option("--project-dir", help="The project (default: the editor's workspace folder)."),
    ] = None,
    profiles_dir: ProfilesDir = None,
) -> None:
    """Serve the Language Server Protocol on stdin/stdout: diagnostics, definitions, hovers, completions."""
    try:
        from modelkit.lsp.server import serve  # pygls: an optional extra, and slow to import
    except ImportError as exc:
        typer.echo(f"modelkit lsp needs pygls: pip install 'modelkit[lsp]' ({exc})", err=True)
        raise typer.Exit(2) from None
    serve(project_dir, str(profiles_dir) if profiles_dir else None)
