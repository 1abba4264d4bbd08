#!/usr/bin/env python3
"""Write a synthetic dbt-format project of any size, for benchmarks and tests.

    python benchmarks/genproject.py --models N --out DIR [--seed S] [--seed-rows R]

The same N, S and R always give the same files, byte for byte, and building the project always stores the
same data. The project runs with modelkit or with dbt-core and dbt-duckdb, from inside DIR:

    cd DIR && modelkit build --profiles-dir .

Layout of DIR:

    dbt_project.yml   project and profile "bench"; views in staging/ and intermediate/, tables in marts/;
                      vars first_payment_date and high_value_threshold
    profiles.yml      DuckDB file bench.duckdb, relative to DIR, one thread
    seeds/            raw_accounts.csv, raw_merchants.csv, raw_payments.csv: R rows each (default 1,000)
    macros/           cents_to_amount(), amount_band()
    models/docs.md    {% docs %} blocks that the schema YAML refers to
    models/staging/       about 20% of N: a view over one seed each, cycling over the three seeds
    models/intermediate/  about 50%: each reads 1 to 4 earlier payments models (views; tables where a
                          view would inline too many views, and a few more)
    models/marts/         about 30%: tables that nothing else reads
    tests/            one singular data test

A layer of more than 100 models is split into sub-folders (part_01, part_02, ...) of at most 100. Each folder
has a _models.yml documenting about 30% of its models: descriptions, column descriptions and the generic
data tests not_null, unique, accepted_values and relationships (with ``arguments:``). All data tests pass.

The SQL of each kind of model is in genproject_sql.py, the plan of the DAG in genproject_plan.py and the
other files in genproject_files.py; the benchmark harness regenerates its projects when any of these change.

Use it from Python with :func:`generate`.
"""

from __future__ import annotations

import argparse
import random
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from genproject_files import DBT_PROJECT_YML, DOCS_MD, MACROS, PROFILES_YML, schema_yaml, seeds, singular_test
from genproject_plan import LAYERS, MIN_MODELS, PlannedModel, plan_project
from genproject_sql import model_sql

SINGULAR_TEST = "tests/assert_refunds_within_payments.sql"


@dataclass
class GeneratedProject:
    """What :func:`generate` wrote."""

    root: Path
    models: list[PlannedModel]
    data_tests: int  # generic tests in the _models.yml files plus the singular test

    def count(self, layer: str, materialized: str | None = None) -> int:
        """Models of ``layer`` (``"staging"``, ``"intermediate"`` or ``"marts"``), of one materialization if given."""
        return sum(m.layer == layer and (materialized is None or m.materialized == materialized) for m in self.models)

    def summary(self) -> str:
        """One line: models per layer and materialization, and the data tests."""
        counts = Counter((m.layer, m.materialized) for m in self.models)
        parts = [
            f"{layer} {self.count(layer)} ("
            + ", ".join(f"{n} {kind}s" for (lay, kind), n in sorted(counts.items()) if lay == layer)
            + ")"
            for layer in LAYERS
            if self.count(layer)
        ]
        documented = sum(m.documented for m in self.models)
        return f"{len(self.models)} models: {'; '.join(parts)}; {documented} documented, {self.data_tests} data tests"


def stream(seed: int, purpose: str) -> random.Random:
    """An independent random stream per purpose, so that, e.g., the seed rows do not change the DAG."""
    return random.Random(f"genproject/{seed}/{purpose}")


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8", newline="\n")


def generate(models: int, out: Path | str, seed: int = 0, seed_rows: int = 1000) -> GeneratedProject:
    """Write a project of ``models`` models (at least 4) into ``out``, which must be missing or empty.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     project = generate(10, Path(tmp) / "bench", seed_rows=50)
    ...     [project.count(layer) for layer in ("staging", "intermediate", "marts")]
    ...     sorted(p.name for p in (project.root / "seeds").iterdir())
    ...     len((project.root / "seeds" / "raw_payments.csv").read_text().splitlines())
    [3, 4, 3]
    ['raw_accounts.csv', 'raw_merchants.csv', 'raw_payments.csv']
    51
    """
    if models < MIN_MODELS:
        raise ValueError(f"a project needs at least {MIN_MODELS} models (got {models})")
    if seed_rows < 1:
        raise ValueError(f"seeds need at least one row (got {seed_rows})")
    root = Path(out)
    if root.exists() and any(root.iterdir()):
        raise FileExistsError(f"{root} is not empty")

    write(root / "dbt_project.yml", DBT_PROJECT_YML)
    write(root / "profiles.yml", PROFILES_YML)
    for name, text in MACROS.items():
        write(root / "macros" / name, text)
    for name, text in seeds(seed_rows, stream(seed, "seeds")).items():
        write(root / "seeds" / f"{name}.csv", text)

    plan = plan_project(models, stream(seed, "plan"))
    sql_rng = stream(seed, "sql")
    write(root / "models" / "docs.md", DOCS_MD)
    folders: dict[str, list[PlannedModel]] = {}
    for model in plan:
        write(root / "models" / model.folder / f"{model.name}.sql", model_sql(model, sql_rng))
        folders.setdefault(model.folder, []).append(model)

    accounts = next(m.name for m in plan if m.kind == "accounts")
    data_tests = 1
    for folder, members in folders.items():
        text, count = schema_yaml([m for m in members if m.documented], accounts)
        write(root / "models" / folder / "_models.yml", text)
        data_tests += count
    activity = next(m.name for m in plan if m.kind == "activity")
    write(root / SINGULAR_TEST, singular_test(activity))
    return GeneratedProject(root, plan, data_tests)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--models", type=int, required=True, help=f"number of models (at least {MIN_MODELS})")
    parser.add_argument("--out", type=Path, required=True, help="project folder to write (missing or empty)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--seed-rows", type=int, default=1000, help="rows of each seed CSV (default 1000)")
    args = parser.parse_args(argv)
    try:
        project = generate(args.models, args.out, seed=args.seed, seed_rows=args.seed_rows)
    except (ValueError, FileExistsError) as exc:
        parser.error(str(exc))
    print(f"wrote {args.out}: {project.summary()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
