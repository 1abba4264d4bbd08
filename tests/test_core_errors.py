"""Bad projects fail with a clear message naming the file (and line), exit 2, no traceback."""

from __future__ import annotations

import pytest
from conftest import run_cli

CASES = [
    (
        "unknown_ref",
        {"models/orders.sql": "select 1 as id", "models/b.sql": "select *\nfrom {{ ref('ordrs') }}"},
        ["models/b.sql:2", "depends on a node named 'ordrs' which was not found", "Did you mean 'orders'?"],
    ),
    (
        "unknown_source",
        {
            "models/s.yml": "sources:\n  - name: raw\n    tables: [{name: events}]\n",
            "models/b.sql": "select * from {{ source('raw', 'event') }}",
        },
        ["models/b.sql:1", "source named 'raw.event' which was not found", "Did you mean 'raw.events'?"],
    ),
    (
        "cycle",
        {
            "models/a.sql": "select * from {{ ref('c') }}",
            "models/b.sql": "select * from {{ ref('a') }}",
            "models/c.sql": "select * from {{ ref('b') }}",
        },
        ["Found a cycle: a -> b -> c -> a"],
    ),
    (
        "duplicate_name",
        {"models/x/dup.sql": "select 1", "models/y/dup.sql": "select 2"},
        ['found two models with the name "dup"', "models/x/dup.sql", "models/y/dup.sql"],
    ),
    (
        "ref_to_disabled",
        {"models/off.sql": "{{ config(enabled=false) }}select 1", "models/b.sql": "select * from {{ ref('off') }}"},
        ["depends on a node named 'off' which is disabled", "models/b.sql:1"],
    ),
    (
        "jinja_syntax",
        {"models/a.sql": "select 1\nfrom x\n{% if %}\n"},
        ["models/a.sql:3", "Jinja syntax error"],
    ),
    (
        "unclosed_block",
        {"models/a.sql": "{% for i in range(3) %}\nselect {{ i }}\n"},
        ["models/a.sql", "Jinja syntax error", "endfor"],
    ),
    (
        "macro_syntax",
        {"macros/m.sql": "{% macro broken( %}x{% endmacro %}", "models/a.sql": "select 1"},
        ["macros/m.sql:1", "Jinja syntax error"],
    ),
    (
        "missing_env_var",
        {"models/a.sql": "select '{{ env_var('MK_SURELY_NOT_SET_ANYWHERE') }}'"},
        ["Env var required but not provided: 'MK_SURELY_NOT_SET_ANYWHERE'", "models/a.sql"],
    ),
    (
        "secret_env_var",
        {"models/a.sql": "select '{{ env_var('DBT_ENV_SECRET_TOKEN', 'x') }}'"},
        ["Secret env vars are allowed only in profiles.yml"],
    ),
]


@pytest.mark.parametrize(("case", "files", "expected"), CASES, ids=[c[0] for c in CASES])
def test_project_errors(project_factory, case: str, files: dict[str, str], expected: list[str]) -> None:
    root = project_factory(files)
    out = run_cli("run", cwd=root)
    assert out.exit_code == 2, out.output
    for text in expected:
        assert text in out.output, f"{text!r} not in:\n{out.output}"
    assert "Traceback" not in out.output
