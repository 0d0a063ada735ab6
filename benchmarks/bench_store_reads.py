"""Reading the store: the accounts behind ``assess`` against one hand-written query.

Measured in one run on the same store (the configured one if it holds energy reports,
else the demo built into a temporary folder, ~30 s), median of RUNS:

- baseline: one hand query summing the latest energy quantities by league, year and
  carrier (what :func:`dualcontrol.datasets.energy_rows` hands to the accounting);
- the same query without the latest-revision filter (what keeping the current
  revisions apart from the superseded ones could approach);
- ``energy_rows`` by league;
- ``assessment_accounts`` (region and leagues, the reads behind ``assess``), with a
  store that opens the file for every query (before) and one that holds one
  connection for the command (now: the CLI's store session);
- ``open_store`` with the migration check and region sync.

Usage: python benchmarks/bench_store_reads.py
"""

from __future__ import annotations

import logging
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

RUNS = 3

HAND_QUERY = """
    SELECT g.league_code, SUBSTR(e.period, 1, 4) AS year, e.carrier, e.unit, e.use,
           e.origin, SUM(e.quantity) AS quantity
    FROM energy_reports e
    JOIN enterprises n ON n.uscc = e.enterprise_uscc
    JOIN regions g ON g.code = n.county_code
    WHERE e.revision_id IN (SELECT MAX(id) FROM report_revisions WHERE kind = 'energy'
                            GROUP BY entity, period)
    GROUP BY g.league_code, SUBSTR(e.period, 1, 4), e.carrier, e.unit, e.use, e.origin"""

NO_FILTER_QUERY = HAND_QUERY.split("WHERE")[0] + "GROUP BY" + HAND_QUERY.split("GROUP BY")[-1]


def median_s(fn: Callable[[], Any]) -> float:
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def store_url() -> str:
    """Return the URL of a store with the demo's energy reports."""
    from dualcontrol.store import StoreMissingError, default_url, open_store

    try:
        with open_store(create=False) as store:
            rows = store.read_sql("SELECT COUNT(*) AS n FROM energy_reports")["n"].iloc[0]
        if rows > 100_000:
            return default_url()
    except StoreMissingError:
        pass
    from dualcontrol.demo import build_demo

    folder = Path(tempfile.mkdtemp(prefix="bench-store-"))
    url = f"duckdb:///{(folder / 'demo.duckdb').as_posix()}"
    print(f"building the demo store in {folder} ...", file=sys.stderr)
    build_demo(seed=2025, url=url)
    return url


def main() -> None:
    logging.getLogger("dualcontrol").setLevel(logging.ERROR)
    from dualcontrol import datasets
    from dualcontrol.store import open_store

    url = store_url()
    with open_store(url) as held_probe:
        rows = int(held_probe.read_sql("SELECT COUNT(*) AS n FROM energy_reports")["n"][0])
    print(f"store {url}: {rows:,} energy report rows; median of {RUNS} runs")

    per_query = open_store(url)  # NullPool: the file is opened for every query
    held = open_store(url, hold=True)  # one connection for the command
    try:
        datasets.read_frame(held, "SELECT 1")
        base = median_s(lambda: datasets.read_frame(held, HAND_QUERY))
        unfiltered = median_s(lambda: datasets.read_frame(held, NO_FILTER_QUERY))
        rows_s = median_s(lambda: datasets.energy_rows(held, level="league"))
        before = median_s(lambda: datasets.assessment_accounts(per_query))
        after = median_s(lambda: datasets.assessment_accounts(held))
    finally:
        per_query.close()
        held.close()
    opened = median_s(lambda: open_store(url).close())
    connect = median_s(lambda: open_store(url, upgrade=False).read_sql("SELECT 1"))

    def line(name: str, seconds: float) -> None:
        print(f"{name:<58} {seconds:7.3f} s  {seconds / base:6.1f}x baseline")

    line("hand query: latest quantities by league-year-carrier", base)
    line("the same without the latest-revision filter", unfiltered)
    line("datasets.energy_rows(level='league')", rows_s)
    line("assessment_accounts, file opened per query (before)", before)
    line("assessment_accounts, one held connection (now)", after)
    line("open_store: migration check and region sync", opened)
    line("one query on a newly opened file (connect cost)", connect)


if __name__ == "__main__":
    main()
