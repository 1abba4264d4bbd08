"""Macros across packages: dispatch and its search order, overrides of package and built-in macros, naming."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import run_cli, write_files
from packages_support import TWO_PACKAGES, make_projects, package_project

from modelkit import Project

GREETING = "select {{ acme.greet() }} as greeting\n"


def compiled(root: Path, name: str) -> str:
    uid = next(
        uid for uid in json.loads((root / "target" / "manifest.json").read_text())["nodes"] if uid.endswith("." + name)
    )
    return Project(root).compile(select=[name])[uid]


def test_dispatch_search_order(tmp_path: Path) -> None:
    beta = {
        "dbt_project.yml": package_project("beta"),
        "macros/greet.sql": "{% macro default__greet() %}'hello from beta'{% endmacro %}\n",
    }
    root = make_projects(
        tmp_path,
        root={
            "packages.yml": TWO_PACKAGES,
            "models/greeting.sql": GREETING,
            "macros/greet.sql": "{% macro default__greet() %}'hello from demo'{% endmacro %}\n",
        },
        others={"beta": beta},
    )
    assert run_cli("parse", "--project-dir", str(root)).exit_code == 0
    # no dispatch config: the root project, then the macro's namespace (a package) are searched
    assert compiled(root, "greeting") == "select 'hello from demo' as greeting\n"
    assert "'hello from demo' as greeting" in compiled(root, "acme_summary")  # the package's own node too
    for order, expected in ((["acme"], "acme"), (["beta", "acme"], "beta"), (["demo", "acme"], "demo")):
        project = f"name: demo\nprofile: demo\ndispatch:\n  - macro_namespace: acme\n    search_order: {order}\n"
        write_files(root, {"dbt_project.yml": project})
        assert compiled(root, "greeting") == f"select 'hello from {expected}' as greeting\n"
    write_files(root, {"macros/greet.sql": "", "models/greeting.sql": "{{ adapter.dispatch('nothing', 'acme')() }}"})
    out = run_cli("compile", "-s", "greeting", "--project-dir", str(root))
    assert out.exit_code != 0
    assert "In dispatch: No macro named 'nothing' found within namespace: 'acme'" in out.output
    assert "Searched for: 'demo.duckdb__nothing', 'demo.default__nothing'" in out.output


def test_root_overrides_of_package_and_built_in_macros(tmp_path: Path) -> None:
    root = make_projects(
        tmp_path,
        root={
            "macros/overrides.sql": """
                {% macro type_string() %}text{% endmacro %}
                {% macro acme_double(x) %}({{ x }} * 3){% endmacro %}
            """,
            "models/casts.sql": "select cast(1 as {{ type_string() }}) as a, cast(1 as {{ dbt.type_string() }}) as b\n",
            "models/doubles.sql": "select {{ acme_double(2) }} as mine, {{ acme.acme_double(2) }} as theirs\n",
        },
        acme={"models/acme_casts.sql": "select cast(1 as {{ type_string() }}) as a, {{ acme_double(1) }} as d\n"},
    )
    assert run_cli("parse", "--project-dir", str(root)).exit_code == 0
    # the root project's macro wins over the built-in, for its nodes and a package's; dbt.x is the built-in
    assert compiled(root, "casts") == "select cast(1 as text) as a, cast(1 as TEXT) as b\n"  # dbt-duckdb: TEXT
    assert compiled(root, "acme_casts") == "select cast(1 as text) as a, (1 * 2) as d\n"
    # a package's node calls its own package's macro first; the root project's namesake serves the root
    assert compiled(root, "doubles") == "select (2 * 3) as mine, (2 * 2) as theirs\n"


def test_a_package_macro_is_not_found_without_its_namespace(tmp_path: Path) -> None:
    root = make_projects(tmp_path, root={"models/report.sql": "select {{ acme_double(2) }} as four\n"})
    out = run_cli("compile", "-s", "report", "--project-dir", str(root))
    assert out.exit_code != 0
    assert "'acme_double' is undefined" in out.output


def test_package_nodes_are_named_by_the_root_project_s_naming_macros_or_their_own(tmp_path: Path) -> None:
    naming = "{% macro generate_schema_name(custom_schema_name, node) %}{{ custom_schema_name or target.schema }}{% endmacro %}"
    root = make_projects(tmp_path, root={"macros/naming.sql": naming})
    assert run_cli("parse", "--project-dir", str(root)).exit_code == 0
    nodes = json.loads((root / "target" / "manifest.json").read_text())["nodes"]
    assert nodes["model.acme.acme_summary"]["schema"] == "acme"  # `+schema: acme` from the root, its macro
    assert nodes["seed.acme.acme_raw_orders"]["schema"] == "acme_seeds"
    assert nodes["model.demo.report"]["schema"] == "main"
    own = "{% macro generate_schema_name(custom_schema_name, node) %}acme_{{ node.name }}{% endmacro %}"
    write_files(tmp_path / "acme", {"macros/naming.sql": own})
    assert run_cli("parse", "--project-dir", str(root)).exit_code == 0
    nodes = json.loads((root / "target" / "manifest.json").read_text())["nodes"]
    assert nodes["model.acme.acme_summary"]["schema"] == "acme_acme_summary"  # the package's own, for its nodes
    assert nodes["model.demo.report"]["schema"] == "main"


def test_run_operation_finds_a_package_macro_by_its_bare_name(tmp_path: Path) -> None:
    # as `dbt run-operation generate_source` runs codegen's macro: the root project's macro of that name
    # first, else an installed package's, called in its own package (its unqualified calls resolve there)
    root = make_projects(
        tmp_path,
        root={"macros/ops.sql": "{% macro shout() %}{{ print('root shout') }}{% endmacro %}"},
        acme={
            "macros/ops.sql": """
                {% macro acme_report(n) %}{{ print('acme says ' ~ acme_double(n)) }}{% endmacro %}
                {% macro shout() %}{{ print('acme shout') }}{% endmacro %}
            """
        },
    )
    args = ("--project-dir", str(root), "--profiles-dir", str(root))
    out = run_cli("run-operation", "acme_report", "--args", "{n: 4}", *args)
    assert out.exit_code == 0, out.output
    assert "acme says (4 * 2)" in out.output
    results = json.loads((root / "target" / "run_results.json").read_text())["results"]
    assert [r["unique_id"] for r in results] == ["macro.acme.acme_report"]
    out = run_cli("run-operation", "shout", *args)
    assert "root shout" in out.output and "acme shout" not in out.output
    assert "acme shout" in run_cli("run-operation", "acme.shout", *args).output
    out = run_cli("run-operation", "acme_nothing", *args)
    assert out.exit_code == 2 and "could not find a macro with the name 'acme_nothing'" in out.output
