"""``modelkit init NAME``: a new, working project without questions asked."""

from __future__ import annotations

from pathlib import Path

from modelkit.core.errors import ProjectError, UsageError

FILES = {
    "modelkit.yml": """\
name: {name}
version: "1.0.0"

# No profile: modelkit builds into an embedded DuckDB file, target/{name}.duckdb.
# To use a profiles.yml connection instead, add:  profile: {name}

models:
  {name}:
    example:
      +materialized: view
""",
    "models/example/my_first_model.sql": """\
{{{{ config(materialized='table') }}}}

select 1 as id, 'first' as label
union all
select 2 as id, 'second' as label
""",
    "models/example/my_second_model.sql": """\
select id, upper(label) as label
from {{{{ ref('my_first_model') }}}}
where id = 1
""",
    "models/example/schema.yml": """\
version: 2

models:
  - name: my_first_model
    description: A starter table with two rows.
    columns:
      - name: id
        description: The primary key.
  - name: my_second_model
    description: A view over my_first_model.
""",
    "seeds/.gitkeep": "",
    "macros/.gitkeep": "",
    "tests/.gitkeep": "",
    "analyses/.gitkeep": "",
    "snapshots/.gitkeep": "",
    ".gitignore": "target/\nlogs/\n",
    "README.md": """\
# {name}

A modelkit project. Build it with `modelkit run`; list its nodes with `modelkit ls`.
""",
}


def create_project(parent: Path, name: str) -> Path:
    if not name or not name.replace("_", "a").isalnum() or name[0].isdigit():
        raise UsageError(f"Project name {name!r} must be letters, digits and underscores, not starting with a digit")
    root = parent / name
    if root.exists():
        raise ProjectError(f"{root} already exists; choose another name or remove it")
    for rel, text in FILES.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text.format(name=name), encoding="utf-8")
    return root
