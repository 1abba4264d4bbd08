"""The plan of a generated benchmark project: its models, their folders, parents and materializations.

Planning is separate from writing files so that the shape of a project can be checked (and tested) without
rendering any SQL. Every random choice comes from the ``random.Random`` handed in, so a plan is a function of
the model count and that generator's seed.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

LAYERS = ("staging", "intermediate", "marts")
STAGING_SHARE = 0.2
MARTS_SHARE = 0.3
MIN_MODELS = 4  # three staging models (one per seed) and one mart
FOLDER_LIMIT = 100  # models per folder, hence per _models.yml
DOCUMENTED_SHARE = 0.3

# Staging models cycle over the seeds; the first three are one of each.
STAGING_KINDS = ("payments", "accounts", "merchants")
# Relative weights of the intermediate and mart model kinds (see genproject_sql.py for their SQL).
INTERMEDIATE_WEIGHTS = {"adjust": 22, "tag": 14, "filter": 10, "merge": 16, "link": 18, "rollup": 8, "running": 12}
MART_WEIGHTS = {"activity": 35, "monthly": 30, "fact": 35}
PARENT_RANGE = {"merge": (2, 4), "link": (2, 3)}  # the other kinds read one payments-shaped model
DIMENSION_OF = {"tag": "accounts", "activity": "accounts", "fact": "merchants"}
NAME_PREFIX = {
    "payments": "stg_payments",
    "accounts": "stg_accounts",
    "merchants": "stg_merchants",
    "adjust": "int_payments_net",
    "tag": "int_payments_tiered",
    "filter": "int_payments_valid",
    "merge": "int_payments_merged",
    "link": "int_payments_linked",
    "rollup": "int_account_rollup",
    "running": "int_payments_smoothed",
    "activity": "dim_account_activity",
    "monthly": "rpt_monthly_payments",
    "fact": "fct_payments",
}

# DuckDB inlines a view into every query that reads it, so a view over views over views expands into one
# query holding all of them. A model's expansion is the number of views that querying it would inline
# (itself included); an intermediate model is made a table when its expansion as a view would pass this.
EXPANSION_LIMIT = 8
EXTRA_TABLE_CHANCE = 0.1  # chance of a table anyway, so that tables appear throughout the DAG
# Parents are mostly picked among the latest payments-shaped models (a deep DAG), sometimes among all of
# them (wide fan-out from early models).
LATEST_PARENT_CHANCE = 0.65
LATEST_WINDOW = 30
TAG_CHOICES = ("finance", "growth", "nightly")


@dataclass
class PlannedModel:
    """One model of the plan."""

    name: str
    layer: str  # one of LAYERS
    kind: str  # a key of NAME_PREFIX
    folder: str  # under models/, e.g. "intermediate" or "intermediate/part_02"
    parents: list[str] = field(default_factory=list)  # payments-shaped models it reads
    dimension: str | None = None  # the stg_accounts_* or stg_merchants_* model it joins, if any
    materialized: str = "view"
    config_call: str | None = None  # a {{ config(...) }} line at the top of its SQL, if any
    documented: bool = False  # has an entry in its folder's _models.yml
    expansion: int = 0  # see EXPANSION_LIMIT; 0 for tables


def layer_sizes(models: int) -> dict[str, int]:
    """How many models each layer gets.

    >>> layer_sizes(40)
    {'staging': 8, 'intermediate': 20, 'marts': 12}
    >>> layer_sizes(4)
    {'staging': 3, 'intermediate': 0, 'marts': 1}
    """
    if models < MIN_MODELS:
        raise ValueError(f"a project needs at least {MIN_MODELS} models (got {models})")
    staging = max(len(STAGING_KINDS), round(models * STAGING_SHARE))
    marts = max(1, round(models * MARTS_SHARE))
    return {"staging": staging, "intermediate": models - staging - marts, "marts": marts}


def folder_of(layer: str, position: int, layer_size: int) -> str:
    """The folder of the ``position``-th model (from 0) of a layer: sub-folders once the layer passes FOLDER_LIMIT.

    >>> folder_of("marts", 5, 80), folder_of("marts", 150, 300)
    ('marts', 'marts/part_02')
    """
    if layer_size <= FOLDER_LIMIT:
        return layer
    return f"{layer}/part_{position // FOLDER_LIMIT + 1:02d}"


def pick(rng: random.Random, weights: dict[str, int]) -> str:
    """A key of ``weights``, drawn with probability proportional to its weight."""
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def pick_parents(rng: random.Random, pool: list[PlannedModel], wanted: int) -> list[PlannedModel]:
    """``wanted`` distinct models of ``pool`` (fewer if it is smaller), in the order they were drawn."""
    chosen: list[PlannedModel] = []
    while len(chosen) < min(wanted, len(pool)):
        if rng.random() < LATEST_PARENT_CHANCE:
            candidate = pool[len(pool) - 1 - rng.randrange(min(LATEST_WINDOW, len(pool)))]
        else:
            candidate = pool[rng.randrange(len(pool))]
        if all(candidate is not other for other in chosen):
            chosen.append(candidate)
    return chosen


class Planner:
    """Builds the plan one layer after the other; each model can only read models planned before it."""

    def __init__(self, models: int, rng: random.Random) -> None:
        self.rng = rng
        self.sizes = layer_sizes(models)
        self.width = len(str(models))
        self.planned: list[PlannedModel] = []
        self.payments: list[PlannedModel] = []  # models with the payments columns, in planning order
        self.dimensions: dict[str, list[PlannedModel]] = {"accounts": [], "merchants": []}

    def add(self, layer: str, kind: str, position: int) -> PlannedModel:
        name = f"{NAME_PREFIX[kind]}_{len(self.planned) + 1:0{self.width}d}"
        model = PlannedModel(name, layer, kind, folder_of(layer, position, self.sizes[layer]))
        self.planned.append(model)
        return model

    def dimension_for(self, model: PlannedModel) -> PlannedModel | None:
        wanted = DIMENSION_OF.get(model.kind)
        if wanted is None:
            return None
        found = self.rng.choice(self.dimensions[wanted])
        model.dimension = found.name
        return found

    def staging(self) -> None:
        for position in range(self.sizes["staging"]):
            kind = STAGING_KINDS[position % len(STAGING_KINDS)]
            model = self.add("staging", kind, position)
            model.expansion = 1
            (self.payments if kind == "payments" else self.dimensions[kind]).append(model)

    def intermediate(self) -> None:
        for position in range(self.sizes["intermediate"]):
            model = self.add("intermediate", pick(self.rng, INTERMEDIATE_WEIGHTS), position)
            low, high = PARENT_RANGE.get(model.kind, (1, 1))
            parents = pick_parents(self.rng, self.payments, self.rng.randint(low, high))
            model.parents = [p.name for p in parents]
            reads = parents + [d for d in [self.dimension_for(model)] if d is not None]
            as_view = 1 + sum(p.expansion for p in reads)
            if as_view > EXPANSION_LIMIT or self.rng.random() < EXTRA_TABLE_CHANCE:
                model.materialized, model.config_call = "table", "{{ config(materialized='table') }}"
            else:
                model.expansion = as_view
            self.payments.append(model)

    def marts(self) -> None:
        inputs = [m for m in self.payments if m.layer == "intermediate"] or self.payments
        for position in range(self.sizes["marts"]):
            # The first mart is always an activity table: the singular test reads it.
            kind = "activity" if position == 0 else pick(self.rng, MART_WEIGHTS)
            model = self.add("marts", kind, position)
            model.materialized = "table"  # from the folder config in dbt_project.yml
            model.parents = [pick_parents(self.rng, inputs, 1)[0].name]
            self.dimension_for(model)
            if self.rng.random() < 0.2:
                model.config_call = f"{{{{ config(tags=['{self.rng.choice(TAG_CHOICES)}']) }}}}"

    def document(self) -> None:
        """Mark about DOCUMENTED_SHARE of every folder's models (at least one) as documented."""
        by_folder: dict[str, list[PlannedModel]] = {}
        for model in self.planned:
            by_folder.setdefault(model.folder, []).append(model)
        for members in by_folder.values():
            for model in self.rng.sample(members, max(1, round(len(members) * DOCUMENTED_SHARE))):
                model.documented = True


def plan_project(models: int, rng: random.Random) -> list[PlannedModel]:
    """The models of a project of ``models`` models, staging first, then intermediate, then marts.

    >>> plan = plan_project(10, random.Random(0))
    >>> [m.layer for m in plan].count("intermediate"), plan[0].name, plan[-1].materialized
    (4, 'stg_payments_01', 'table')
    """
    planner = Planner(models, rng)
    planner.staging()
    planner.intermediate()
    planner.marts()
    planner.document()
    return planner.planned
