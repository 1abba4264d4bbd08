"""The commands beyond building: ``source freshness``, ``ls``, ``show``, ``debug``, ``clean``, ``deps``, ``init``, ``docs``.

They register on the Typer apps of :mod:`modelkit.cli.main`, which imports this module.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from modelkit.cli.app import (
    Colors,
    Debug,
    Exclude,
    ExcludeResourceTypes,
    Profile,
    ProfilesDir,
    ProjectDir,
    Quiet,
    ResourceTypes,
    Select,
    SelectorName,
    Target,
    Threads,
    Vars,
    app,
    docs_app,
    guard,
    make_reporter,
    open_project,
    with_state_options,
)
from modelkit.core.text import markdown_table

source_app = typer.Typer(help="Commands about sources.", no_args_is_help=True)
app.add_typer(source_app, name="source")


@source_app.command("freshness")
def source_freshness(
    project_dir: ProjectDir = Path("."),
    profiles_dir: ProfilesDir = None,
    target: Target = None,
    profile: Profile = None,
    vars: Vars = None,
    select: Select = None,
    exclude: Exclude = None,
    output: Annotated[
        Optional[Path], typer.Option("--output", "-o", help="Where to write the results (default target/sources.json).")
    ] = None,
    debug: Debug = False,
    use_colors: Colors = None,
    quiet: Quiet = False,
) -> None:
    """Check how recently each source table was loaded (loaded_at_field + freshness)."""
    from modelkit.cli.freshness import freshness_command

    reporter = make_reporter(use_colors, quiet, project_dir)
    run = guard(
        lambda: freshness_command(
            open_project(project_dir, profiles_dir, target, profile, vars, None, reporter),
            reporter,
            select,
            exclude,
            output,
        ),
        debug,
    )
    if run is not None and not run.success:
        raise typer.Exit(1)


LS_RESOURCES = ("exposure", "metric", "semantic_model", "saved_query")
LS_KEYS = ("name", "resource_type", "package_name", "original_file_path", "unique_id", "alias", "config", "tags",
           "depends_on", "source_name")  # fmt: skip


def ls_line(item: dict[str, Any], output: str, keys: Optional[list[str]]) -> str:
    """One line of ``ls`` in dbt's forms: selector (default), name, path or json (``--output-keys``)."""
    kind = item["resource_type"]
    if output == "json":
        wanted = [k for v in keys or () for k in v.replace(",", " ").split()]
        if not wanted and kind in LS_RESOURCES:  # dbt lists these keys in their manifest order
            wanted = [k for k in item if k in LS_KEYS]
        return json.dumps({k: item[k] for k in wanted or LS_KEYS if k in item}, default=str)
    if output == "name":  # dbt's search_name: versioned models and sources qualified
        if item["resource_type"] == "source":
            return f"{item['source_name']}.{item['name']}"
        if item.get("version") is not None:
            return f"{item['name']}.v{item['version']}"
        return str(item["name"])
    if output == "path":
        return str(item["original_file_path"])
    if kind == "source":
        return f"source:{item['package_name']}.{item['source_name']}.{item['name']}"
    if kind in LS_RESOURCES:
        return f"{kind}:{item['package_name']}.{item['name']}"
    if kind == "unit_test":
        return f"unit_test:{item['package_name']}.{item['name']}"
    return ".".join(item["fqn"])


@with_state_options
def ls(
    project_dir: ProjectDir = Path("."),
    profiles_dir: ProfilesDir = None,
    target: Target = None,
    profile: Profile = None,
    vars: Vars = None,
    select: Select = None,
    exclude: Exclude = None,
    selector: SelectorName = None,
    resource_type: ResourceTypes = None,
    exclude_resource_type: ExcludeResourceTypes = None,
    output: Annotated[str, typer.Option("--output", "-o", help="name, path, json or selector.")] = "selector",
    output_keys: Annotated[
        Optional[list[str]], typer.Option("--output-keys", help="With --output json: the keys to print.")
    ] = None,
    debug: Debug = False,
    state_flags: Optional[dict[str, Any]] = None,
) -> None:
    """List the selected nodes."""
    from modelkit.cli.building import resource_kinds

    reporter = make_reporter(False, quiet=True, project_dir=project_dir)

    def go() -> None:
        project = open_project(project_dir, profiles_dir, target, profile, vars, None, reporter, state_flags)
        items = project.ls(
            select or (),
            exclude or (),
            resource_kinds(resource_type),
            exclude_resource_types=resource_kinds(exclude_resource_type),
            selector=selector,
        )
        for item in items:
            reporter.print_out("ListCmdOut", ls_line(item, output, output_keys))

    if output not in ("json", "name", "path", "selector"):
        reporter.error(f"--output must be one of name, path, json, selector (got {output!r})")
        raise typer.Exit(2)
    guard(go, debug)


app.command("ls")(ls)
app.command("list", help="List the selected nodes (same as ls).")(ls)


@app.command()
@with_state_options
def show(
    project_dir: ProjectDir = Path("."),
    profiles_dir: ProfilesDir = None,
    target: Target = None,
    profile: Profile = None,
    vars: Vars = None,
    select: Select = None,
    inline: Annotated[Optional[str], typer.Option("--inline", help="Preview this SQL.")] = None,
    limit: Annotated[int, typer.Option("--limit", help="Rows to show (-1: all).")] = 5,
    debug: Debug = False,
    use_colors: Colors = None,
    quiet: Quiet = False,
    state_flags: Optional[dict[str, Any]] = None,
) -> None:
    """Preview the first rows of a model or of an inline query."""
    from modelkit.core.errors import UsageError

    reporter = make_reporter(use_colors, quiet, project_dir)

    def go() -> None:
        if not inline and not select:
            raise UsageError("Pass a model with --select NAME or a query with --inline 'select ...'")
        project = open_project(project_dir, profiles_dir, target, profile, vars, None, reporter, state_flags)

        what = inline if inline else select[0]  # type: ignore[index]
        columns, rows = project.show(what, limit=limit, inline=bool(inline))
        reporter.line("Previewing inline node:" if inline else f"Previewing node '{what}':")
        table = markdown_table(columns, rows)
        reporter.print_out("ShowNode", table, {"node_name": "inline_query" if inline else what, "preview": table,
                                               "is_inline": bool(inline)})  # fmt: skip

    guard(go, debug)


@app.command()
def debug(
    project_dir: ProjectDir = Path("."),
    profiles_dir: ProfilesDir = None,
    target: Target = None,
    profile: Profile = None,
    vars: Vars = None,
    connection: Annotated[
        bool, typer.Option("--connection", help="Check the connection alone, skipping the other checks.")
    ] = False,
    debug_flag: Debug = False,
) -> None:
    """Check the profile, the project file, git and the connection, as dbt debug does."""
    from modelkit import __version__
    from modelkit.api.debugging import run_debug
    from modelkit.core.secrets import scrub
    from modelkit.project.project import parse_vars

    if not Path(project_dir).is_dir():
        typer.echo(f"Error: Invalid value for '--project-dir': Path '{project_dir}' does not exist.", err=True)
        raise typer.Exit(2)
    reporter = make_reporter(None)
    ok = guard(
        lambda: run_debug(
            lambda line: reporter.line(scrub(line)),
            project_dir,
            profiles_dir=profiles_dir,
            target=target,
            profile=profile,
            cli_vars=parse_vars(vars),
            connection_only=connection,
            version=__version__,
        ),
        debug_flag,
    )
    if not ok:
        raise typer.Exit(1)


@app.command()
def clean(project_dir: ProjectDir = Path("."), debug: Debug = False) -> None:
    """Delete the project's clean-targets (target/ by default)."""
    from modelkit.api.project import Project

    removed = guard(lambda: Project(project_dir).clean(), debug)
    for rel in removed or []:
        print(f"Cleaned {rel}/")
    print("Finished cleaning all paths.")


@app.command()
def deps(
    project_dir: ProjectDir = Path("."),
    profiles_dir: ProfilesDir = None,
    target: Target = None,
    profile: Profile = None,
    vars: Vars = None,
    upgrade: Annotated[bool, typer.Option("--upgrade", help="Resolve again, to the newest versions allowed.")] = False,
    add_package: Annotated[Optional[str], typer.Option("--add-package", help="Add NAME@VERSION first.")] = None,
    source: Annotated[str, typer.Option("--source", help="Source of --add-package: hub, git or local.")] = "hub",
    lock: Annotated[bool, typer.Option("--lock", help="Write package-lock.yml without installing.")] = False,
    debug: Debug = False,
    use_colors: Colors = None,
    quiet: Quiet = False,
) -> None:
    """Install the packages of packages.yml into dbt_packages/, pinned in package-lock.yml.

    ``--target`` / ``--profile`` are accepted (orchestrators pass them to every command) and not used.
    """
    from modelkit.deps import run_deps
    from modelkit.project.project import parse_vars

    log = make_reporter(use_colors, quiet, project_dir).line
    guard(lambda: run_deps(project_dir, cli_vars=parse_vars(vars), upgrade=upgrade, add_package=add_package,
                            source=source, lock_only=lock, log=log), debug)  # fmt: skip


@app.command()
def init(
    name: Annotated[str, typer.Argument(help="Name of the new project (and its folder).")], debug: Debug = False
) -> None:
    """Create a new project folder with an example model, ready to run."""
    from modelkit.project.scaffold import create_project

    path = guard(lambda: create_project(Path.cwd(), name), debug)
    print(f"Created project '{name}' in {path}")
    print(f"Next: cd {name} && modelkit run")


@docs_app.command("generate")
def docs_generate(
    project_dir: ProjectDir = Path("."),
    profiles_dir: ProfilesDir = None,
    target: Target = None,
    profile: Profile = None,
    vars: Vars = None,
    threads: Threads = None,
    select: Select = None,
    exclude: Exclude = None,
    compile: Annotated[
        bool,
        typer.Option("--compile/--no-compile", help="Compile the project first (default), or reuse target/compiled/."),
    ] = True,
    empty_catalog: Annotated[
        bool, typer.Option("--empty-catalog", help="Do not query the database: catalog.json lists no relation.")
    ] = False,
    debug: Debug = False,
    use_colors: Colors = None,
    quiet: Quiet = False,
) -> None:
    """Write target/manifest.json, target/catalog.json and the site target/index.html."""
    reporter = make_reporter(use_colors, quiet, project_dir)

    def go() -> Any:
        from modelkit.docs.build import GenerateOptions, generate_docs

        project = open_project(project_dir, profiles_dir, target, profile, vars, threads, reporter)
        options = GenerateOptions(tuple(select or ()), tuple(exclude or ()), compile, empty_catalog, threads)
        with project.session("generate") as session:
            reporter.header(session.manifest, session.adapter_info())  # connected later, on the catalog's thread
            for term in session.unmatched(select):
                reporter.line(f"The selection criterion '{term}' does not match any enabled nodes", style="yellow")
            reporter.line("")
            reporter.line(f"Concurrency: {threads or session.target.threads} threads (target='{session.target.name}')")
            reporter.line("")
            return generate_docs(session, options, reporter.line)

    result = guard(go, debug)
    if result is None:
        return
    if result.compiled_from == "none":
        reporter.line("No compiled SQL under target/compiled/: run `modelkit compile` for SQL and column lineage")
    if result.columns:
        resolved = result.columns - result.unresolved_columns
        reporter.line(f"Column lineage: {resolved} of {result.columns} columns resolved")
    reporter.line(f"Site written to {result.index_path.resolve()} (open it, or run `modelkit docs serve`)")


@docs_app.command("serve")
def docs_serve(
    project_dir: ProjectDir = Path("."),
    profiles_dir: ProfilesDir = None,
    target: Target = None,
    profile: Profile = None,
    port: Annotated[int, typer.Option("--port", help="Port to listen on (0: any free port).", min=0, max=65535)] = 8080,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    browser: Annotated[bool, typer.Option("--browser/--no-browser", help="Open the site in a web browser.")] = False,
    debug: Debug = False,
) -> None:
    """Serve the generated site (target/index.html) on http://HOST:PORT/ until Ctrl-C."""
    from modelkit.docs.serve import serve

    # --profiles-dir, --target and --profile are accepted as by every command (and dbt's docs serve);
    # serving the site needs no connection.
    del profiles_dir, target, profile

    def ready(url: str) -> None:
        print(f"Serving docs at {url}", flush=True)
        print("Press Ctrl+C to exit.", flush=True)
        if browser:
            import webbrowser

            webbrowser.open(url)

    def go() -> None:
        from modelkit.project.project import load_project

        serve(load_project(project_dir).target_dir, host, port, ready, lambda m: print(m, file=sys.stderr))

    guard(go, debug)
