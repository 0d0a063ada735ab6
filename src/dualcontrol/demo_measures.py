"""The demo's measures registry: the generated measures and a few illustrative ones.

``dualcontrol demo`` stores, as the demo user, the upgrade or exit measure of every
demo production unit below the baseline in the latest year (from the benchmarking
register) and the illustrative "1+N+X" rows of ``data/demo_measures.csv`` (one
overall document, sector plans, a few sector measures, each marked demo in its
source: none is an official commitment).
"""

from __future__ import annotations

import logging

import pandas as pd

from dualcontrol import benchmarking, datasets, measures
from dualcontrol.reference import load_table
from dualcontrol.store import Store
from dualcontrol.store.measures import SaveResult, known_ids, save_measures

logger = logging.getLogger(__name__)


def illustrative() -> pd.DataFrame:
    """Return the illustrative registry rows of ``data/demo_measures.csv``, checked."""
    table = load_table("demo-measures")
    rows = measures.parse_measures(table.drop(columns=["edition"]),
                                   file="demo_measures.csv")
    measures.check_parents(rows, file="demo_measures.csv")
    return rows


def generated(store: Store) -> pd.DataFrame:
    """Return the measures generated from the store's latest production-unit figures."""
    last = datasets.read_frame(store, "SELECT MAX(CAST(SUBSTR(period, 1, 4) AS INTEGER)) AS y "
                                      "FROM production_output")["y"].iloc[0]
    if last is None or pd.isna(last):
        return measures.empty_registry()
    covered, _ = benchmarking.split_by_level(datasets.production_units(store, year=int(last)))
    return measures.generate_from_units(benchmarking.benchmark_units(covered))


def load_demo_measures(store: Store, *, user: str) -> SaveResult | None:
    """Store the demo's measures unless the store has a registry already (None then)."""
    if known_ids(store):
        return None
    rows = pd.concat([illustrative(), generated(store)], ignore_index=True)
    result = save_measures(store, rows, user=user, file_name="demo")
    logger.info("demo measures: %d stored", result.created)
    return result
