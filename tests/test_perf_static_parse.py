"""The static fast path of parsing gives exactly what rendering gives, and knows when to step aside."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import SAMPLE_PROJECT
from genproject import generate

from modelkit.api.session import Session
from modelkit.parse.parser import parse_project
from modelkit.render.capture import static_capture


def _summary(manifest) -> dict:
    return {
        uid: (n.refs, n.sources, n.config, n.depends_on_nodes, n.depends_on_macros, n.schema, n.alias)
        for uid, n in manifest.nodes.items()
    }


def _both(root: Path) -> tuple[dict, dict]:
    fast = _summary(parse_project(Session(root).renderer, static=True))
    slow = _summary(parse_project(Session(root).renderer, static=False))
    return fast, slow


def test_sample_project_static_equals_rendered() -> None:
    fast, slow = _both(SAMPLE_PROJECT)
    assert fast == slow


def test_generated_project_static_equals_rendered(tmp_path: Path) -> None:
    generate(300, tmp_path / "gen", seed_rows=10)
    fast, slow = _both(tmp_path / "gen")
    assert len(fast) >= 300
    assert fast == slow


@pytest.fixture
def renderer(project_factory):
    root = project_factory(
        {
            "macros/m.sql": """
                {% macro pure(x) %}round({{ x }}, 2){% endmacro %}
                {% macro nested(x) %}{{ pure(x) }}{% endmacro %}
                {% macro sneaky() %}{{ ref('a') }}{% endmacro %}
                {% macro indirect() %}{{ sneaky() }}{% endmacro %}
                {% macro logs() %}{{ log('hi', info=True) }}{% endmacro %}
            """,
            "models/a.sql": "select 1",
        }
    )
    session = Session(root)
    parse_project(session.renderer)
    return session.renderer


STATIC = [
    ("select 1", [], [], {}),
    ("select * from {{ ref('a') }}", ["a"], [], {}),
    (
        "{{ config(materialized='table', tags=['x'], enabled=true) }}select 1",
        [],
        [],
        {"materialized": "table", "tags": ["x"], "enabled": True},
    ),
    ("{# a {{ ref('hidden') }} comment #}select {{ source('s', 't') }}", [], [["s", "t"]], {}),
    ("select {{ pure('x') }}, {{ nested('y') }}, {{ var('v', 3) }}, '{{ this }}', '{{ target.schema }}'", [], [], {}),
    ("{{- ref('pkg', 'b') -}}", ["b"], [], {}),
]


@pytest.mark.parametrize(("sql", "refs", "sources", "config"), STATIC)
def test_static_cases(renderer, sql: str, refs: list[str], sources: list[list[str]], config: dict) -> None:
    found = static_capture(sql, renderer)
    assert found is not None
    capture, _ = found
    assert [r["name"] for r in capture.refs] == refs
    assert capture.sources == sources and capture.config == config


NOT_STATIC = [
    "{% if true %}select 1{% endif %}",
    "select {{ sneaky() }}",
    "select {{ indirect() }}",
    "select {{ logs() }}",
    "select {{ env_var('X', 'y') }}",
    "select {{ ref(name) }}",
    "select {{ 'a' | upper }}",
    "select {{ ref('a') ~ '' }}",
    "select {{ unknown_function() }}",
    "{{ config(materialized=var('m')) }}select 1",
    "select {{ run_query('select 1') }}",
]


@pytest.mark.parametrize("sql", NOT_STATIC)
def test_falls_back_to_rendering(renderer, sql: str) -> None:
    assert static_capture(sql, renderer) is None


def _compile_all(root: Path, static: bool) -> dict[str, str]:
    from modelkit.render.compiler import Compiler

    with Session(root) as session:
        compiler = Compiler(session.renderer, session.manifest, static=static)
        session.adapter  # noqa: B018 - run_query needs the connection
        return {uid: compiler.compile(n) for uid, n in session.manifest.nodes.items() if n.resource_type == "model"}


def test_generated_project_static_render_equals_jinja(tmp_path: Path) -> None:
    generate(200, tmp_path / "gen", seed_rows=10)
    assert _compile_all(tmp_path / "gen", True) == _compile_all(tmp_path / "gen", False)


RENDER_CASES = {
    "plain": "select 1",
    "ref": "select * from {{ ref('a') }} where x = 1",
    "strip_before": "select\n   {{- ref('a') }} as t",
    "strip_after": "select {{ ref('a') -}}   \n  , 1",
    "both": "a\n\n{{- var('v', 'x') -}}\n\nb",
    "comment": "select 1 {# note {{ ref('zzz') }} #} as x",
    "config": "{{ config(materialized='view') }}\nselect 2",
    "macro": "select {{ pure('amount') }}, {{ nested('x') }} from t",
    "attr": "select '{{ this.identifier }}', '{{ target.schema }}'",
    "none_var": "select {{ var('nothing', none) }}",
    "trailing_newline": "select 1\n",
}


@pytest.mark.parametrize("name", list(RENDER_CASES))
def test_static_render_matches_jinja(project_factory, name: str) -> None:
    files = {
        "macros/m.sql": "{% macro pure(x) %}round({{ x }}, 2){% endmacro %}{% macro nested(x) %}{{ pure(x) }}{% endmacro %}",
        "models/a.sql": "select 1 as x",
        "models/probe.sql": RENDER_CASES[name],
    }
    root = project_factory(files)
    fast = _compile_all(root, True)["model.demo.probe"]
    slow = _compile_all(root, False)["model.demo.probe"]
    assert fast == slow


EXPRESSIONS = [
    "ref('a')",
    'ref("a")',
    "source('raw', 'x')",
    "source( 'raw' , \"x\" )",
    "ref('a b-c.d')",
    "ref('pkg', 'a')",
    "ref('a', version=2)",
    "x('')",
    "ref('a\\'b')",
    "ref('a\\\\')",
    "get_where_subquery(ref('x'))",
    "ref('a'",
    "ref('a')  ",
    "ref('é')",
    "config(materialized='table')",
    "get_where_subquery(source('raw', \"x\"))",
    "f(g(h('x')))",
    "f(ref('a'), 1)",
    "f(x.y('a'))",
]


@pytest.mark.parametrize("body", EXPRESSIONS)
def test_expression_fast_path_builds_the_same_tree(body: str) -> None:
    import ast

    from modelkit.render.staticeval import parse_expression

    try:
        expected = ast.dump(ast.parse(body, mode="eval").body)
    except SyntaxError:
        with pytest.raises(SyntaxError):
            parse_expression(body)
        return
    assert ast.dump(parse_expression(body)) == expected
