"""No run, failed or killed, leaves a table half-written.

A failure anywhere in a node's unit of work (the strategy's statements, a schema
change, an in-transaction post-hook) rolls all of it back. A process killed
with SIGKILL while a node is mid-way leaves every table as before or as after
that node, and the next run succeeds.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest
from conftest import REPO, embedded_db, query, write_files

from modelkit import Project

HEADER = "id,val,updated_at\n"
BEFORE = HEADER + "1,a,2024-01-01\n2,b,2024-01-01\n3,c,2024-01-01\n"
AFTER = HEADER + "1,a,2024-01-01\n2,B,2024-01-02\n4,d,2024-01-02\n"  # changed, new and deleted rows
AFTER_WIDER = "id,val,updated_at,extra\n1,a,2024-01-01,x\n2,B,2024-01-02,y\n4,d,2024-01-02,z\n"
FILTER = "{% if is_incremental() %}where updated_at > (select max(updated_at) from {{ this }}){% endif %}"
SLOW = "{% if var('slow', false) %}select sum(a.range * b.range) from range(2000000) a, range(2000000) b{% endif %}"
FAILING = "{% if var('fail', false) %}select error('post-hook failed'){% endif %}"


def project(tmp_path: Path, post_hook: str) -> Path:
    hook = post_hook.replace('"', '\\"')
    return write_files(
        tmp_path / "p",
        {
            "modelkit.yml": f'name: demo\nseeds:\n  +post-hook: "{hook}"\n',
            "seeds/src.csv": BEFORE,
            "models/a_table.sql": "{{ config(materialized='table') }}select * from {{ ref('src') }}",
            "models/inc_merge.sql": f"""
                {{{{ config(materialized='incremental', incremental_strategy='merge', unique_key='id',
                            on_schema_change='append_new_columns', post_hook="{hook}") }}}}
                select * from {{{{ ref('src') }}}} {FILTER}
            """,
            "models/inc_delete.sql": f"""
                {{{{ config(materialized='incremental', unique_key='id', on_schema_change='sync_all_columns',
                            post_hook="{hook}") }}}}
                select * from {{{{ ref('src') }}}} {FILTER}
            """,
            "models/inc_append.sql": f"""
                {{{{ config(materialized='incremental', incremental_strategy='append', post_hook="{hook}") }}}}
                select * from {{{{ ref('src') }}}} {FILTER}
            """,
            "models/z_after.sql": "{{ config(materialized='table') }}select count(*) as n from {{ ref('inc_merge') }}",
            "snapshots/snap.sql": f"""
                {{% snapshot snap %}}
                {{{{ config(unique_key='id', strategy='check', check_cols='all', hard_deletes='invalidate',
                            post_hook="{hook}") }}}}
                select * from {{{{ ref('src') }}}}
                {{% endsnapshot %}}
            """,
        },
    )


TABLES = ("a_table", "inc_merge", "inc_delete", "inc_append", "z_after", "snap")


def state(root: Path) -> dict[str, tuple]:
    """Every table's columns and rows (the snapshot's timestamps left out)."""
    db = embedded_db(root)
    out = {}
    for table in TABLES:
        cols = [c for (c,) in query(db, f"select column_name from information_schema.columns where table_name = '{table}' order by ordinal_position")]  # fmt: skip
        shown = [c for c in cols if c not in ("dbt_updated_at", "dbt_valid_from", "dbt_valid_to", "dbt_scd_id")]
        listed = ", ".join(f'"{c}"' for c in shown)
        extra = ", dbt_valid_to is null as current" if table == "snap" else ""
        out[table] = (tuple(cols), tuple(query(db, f"select {listed}{extra} from {table} order by all")))
    return out


def leftovers(root: Path) -> list[str]:
    names = query(embedded_db(root), "select table_name from information_schema.tables")
    return sorted(n for (n,) in names if "__dbt" in n)


def build(root: Path, *args: str, full_refresh: bool = False, vars: str | None = None) -> bool:
    p = Project(root, vars=vars)
    return p.seed(full_refresh=full_refresh).success and p.run().success and p.snapshot().success


@pytest.mark.parametrize("target", ["run", "snapshot", "seed"])
def test_a_failing_in_transaction_hook_leaves_every_table_as_before(tmp_path: Path, target: str) -> None:
    root = project(tmp_path, FAILING)
    assert build(root)
    before = state(root)
    (root / "seeds" / "src.csv").write_text(AFTER if target == "seed" else AFTER_WIDER)
    if target != "seed":
        assert Project(root).seed(full_refresh=True).success
        before = state(root)
    else:
        before["src"] = query(embedded_db(root), "select * from src order by id")
    result = getattr(Project(root, vars="{fail: true}"), target)()
    assert not result.success
    failed = [r for r in result.results if r.is_error]
    assert failed and all("post-hook failed" in (r.message or "") for r in failed)
    hooked = [t for t in TABLES if t != "a_table"]  # the table without hooks builds; the others roll back
    assert {t: state(root)[t] for t in hooked} == {t: before[t] for t in hooked}
    if target == "seed":
        assert query(embedded_db(root), "select * from src order by id") == before["src"]
    assert leftovers(root) == []
    assert build(root)  # and the next run succeeds
    assert state(root) != before


def test_failing_strategy_sql_leaves_the_table(project_factory) -> None:
    root = project_factory(
        {
            "models/m.sql": """
                {{ config(materialized='incremental', unique_key='id') }}
                {% if is_incremental() %}select '1' as id union all select 'not a number'
                {% else %}select range::integer as id from range(3){% endif %}
            """
        }
    )
    assert Project(root).run().success
    result = Project(root).run()  # the delete matches row 1, then the insert cannot cast the text
    assert not result.success and result.results[0].status == "error"
    assert query(embedded_db(root), "select id from m order by id") == [(0,), (1,), (2,)]
    assert leftovers(root) == []


def start(root: Path, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "NO_COLOR": "1", "PYTHONUNBUFFERED": "1", "MODELKIT_DUCKDB_THREADS": "1"}
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    return subprocess.Popen(
        [sys.executable, "-m", "modelkit.cli", *args, "--threads", "1", "--vars", "{slow: true}"],
        cwd=root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def kill_when(proc: subprocess.Popen[str], marker: str, settle: float = 1.5) -> str:
    """SIGKILL the process ``settle`` seconds after it prints ``marker`` (while the slow hook runs)."""
    seen = []
    deadline = time.monotonic() + 60
    assert proc.stdout is not None
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        seen.append(line)
        if marker in line:
            time.sleep(settle)
            break
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    output = "".join(seen)
    assert marker in output, output
    assert proc.returncode == -signal.SIGKILL, output
    return output


def test_sigkill_mid_run_leaves_tables_before_or_after(tmp_path: Path) -> None:
    root = project(tmp_path, SLOW)
    assert build(root)
    before = state(root)
    (root / "seeds" / "src.csv").write_text(AFTER_WIDER)
    assert Project(root).seed(full_refresh=True).success
    before = state(root)

    # run: a_table commits, then inc_append is killed inside its post-hook after its insert
    output = kill_when(start(root, "run"), "START sql incremental model main.inc_append")
    assert "OK created sql table model main.a_table" in output
    after_kill = state(root)
    assert after_kill["inc_append"] == before["inc_append"]
    for table in ("inc_delete", "inc_merge", "z_after", "snap"):
        assert after_kill[table] == before[table]
    assert after_kill["a_table"] != before["a_table"]  # committed before the kill
    assert leftovers(root) == []

    # snapshot: killed after its update and insert, inside the post-hook
    kill_when(start(root, "snapshot"), "START snapshot main.snap")
    assert state(root)["snap"] == before["snap"]

    # the next runs succeed and give what an uninterrupted run gives
    assert Project(root).run().success and Project(root).snapshot().success
    final = state(root)
    assert final["inc_merge"][0] == ("id", "val", "updated_at", "extra")
    d1, d2 = date(2024, 1, 1), date(2024, 1, 2)
    assert final["inc_merge"][1] == ((1, "a", d1, None), (2, "B", d2, "y"), (3, "c", d1, None), (4, "d", d2, "z"))
    # append ignores the new column (on_schema_change: ignore) and keeps every version
    assert final["inc_append"][1] == ((1, "a", d1), (2, "B", d2), (2, "b", d1), (3, "c", d1), (4, "d", d2))
    snap_current = [row for row in final["snap"][1] if row[-1]]
    assert [row[0] for row in snap_current] == [1, 2, 4]  # 3 was invalidated; 1 changed ('extra' appeared)
