"""The demo's 2026 project pipeline: ``data/demo_projects.csv`` replayed into the store.

Each project is added as reviewed and moved through its dated steps with the store's
own audited functions (:mod:`dualcontrol.store.projects`), so the demo's pipeline obeys
the same rules as a reviewer's. The projects are illustrative, not real filings.
"""

from __future__ import annotations

import logging
from datetime import date

import pandas as pd

from dualcontrol.errors import InputError, Problem
from dualcontrol.pipeline import DATE_COLUMNS
from dualcontrol.reference import load_table
from dualcontrol.store import Store
from dualcontrol.store.projects import add_project, list_projects, transition

logger = logging.getLogger(__name__)

#: User the demo's pipeline steps are recorded under.
DEMO_REVIEWER = "demo-pipeline"


def demo_projects() -> pd.DataFrame:
    """Return the demo projects of ``demo_projects.csv`` (dates as ``datetime.date``)."""
    table = load_table("demo-projects").copy()
    for column in DATE_COLUMNS.values():
        table[column] = [date.fromisoformat(v) if v else None for v in table[column]]
    return table


def steps(project: pd.Series) -> list[tuple[str, date]]:
    """Return the project's dated steps after review, in order.

    Raises
    ------
    InputError
        If the last step is not the project's ``status`` (the file contradicts itself).
    """
    dated = sorted((d, s) for s, c in DATE_COLUMNS.items()
                   if s != "reviewed" and (d := project[c]) is not None)
    moves = [(s, d) for d, s in dated]
    last = moves[-1][0] if moves else "reviewed"
    if last != project["status"]:
        raise InputError(Problem("the dates end in another state than the status",
                                 file="demo_projects.csv", field="status",
                                 value=project["status"], accepted=[last]))
    return moves


def load_demo_projects(store: Store) -> int:
    """Add the demo projects the store does not hold yet; return how many were added."""
    held = set(list_projects(store)["code"])
    parks = set(store.read_sql("SELECT code FROM parks")["code"])
    added = 0
    for _, p in demo_projects().iterrows():
        if p["code"] in held:
            continue
        moves = steps(p)
        park = p["park_code"] if p["park_code"] in parks else None  # parks of another seed
        add_project(store, code=p["code"], name=p["name"], league_code=p["league_code"],
                    county_code=p["county_code"] or None, park_code=park,
                    energy_tce=float(p["energy_tce"]), co2_t=float(p["co2_t"]),
                    reviewed_on=p["reviewed_on"], username=DEMO_REVIEWER,
                    industry=p["industry"] or None, product=p["product"] or None,
                    source=f"{p['source']} ({p['edition']})", note=p["note"])
        for status, on in moves:
            transition(store, code=p["code"], status=status, on=on, username=DEMO_REVIEWER)
        added += 1
    logger.info("demo pipeline: %d projects added", added)
    return added
