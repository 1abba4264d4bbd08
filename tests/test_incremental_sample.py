"""The walkthrough of docs/stateful.md on the sample project: change seeds, re-run, see both work."""

from __future__ import annotations

import shutil
from pathlib import Path

from conftest import SAMPLE_PROJECT, query, run_cli


def test_sample_incremental_model_and_snapshot(tmp_path: Path) -> None:
    root = tmp_path / "sample"
    shutil.copytree(SAMPLE_PROJECT, root, ignore=shutil.ignore_patterns("target"))
    db = root / "target" / "shop.duckdb"
    for command in ("seed", "snapshot", "run"):
        out = run_cli(command, cwd=root)
        assert out.exit_code == 0, out.output
    assert "OK created sql incremental model main.payments_ledger" in out.output
    assert query(db, "select count(*), min(loaded_by), max(loaded_by) from payments_ledger") == [
        (14, "full build", "full build")
    ]
    assert query(db, "select count(*) from customers_snapshot where dbt_valid_to is null") == [(8,)]

    customers = root / "seeds" / "raw_customers.csv"
    lines = customers.read_text().splitlines()
    lines = [line.replace("3,Kathleen,P.", "3,Kathleen,Q.") for line in lines if not line.startswith("8,")]
    customers.write_text("\n".join(lines) + "\n")
    with open(root / "seeds" / "raw_payments.csv", "a") as fh:
        fh.write("15,12,gift_card,400\n")
    for command in ("seed", "snapshot", "run"):
        out = run_cli(command, cwd=root)
        assert out.exit_code == 0, out.output

    assert query(db, "select payment_id, amount, loaded_by from payments_ledger where payment_id >= 14 order by 1") == [
        (14, 5.0, "full build"),
        (15, 4.0, "incremental run"),
    ]
    compiled = (root / "target" / "compiled" / "shop" / "models" / "marts" / "payments_ledger.sql").read_text()
    assert 'where payment_id > (select max(payment_id) from "shop"."main"."payments_ledger")' in compiled
    history = query(
        db,
        "select id, last_name, dbt_valid_to is null from customers_snapshot where id in (3, 8) "
        "order by id, dbt_valid_from",
    )
    assert history == [(3, "P.", False), (3, "Q.", True), (8, "R.", False)]
    assert query(db, "select count(*) from customers_snapshot where dbt_valid_to is null") == [(7,)]

    full = run_cli("run", "--full-refresh", "-s", "payments_ledger", cwd=root)
    assert full.exit_code == 0, full.output
    assert query(db, "select count(*), max(loaded_by) from payments_ledger") == [(15, "full build")]
