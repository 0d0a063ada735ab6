"""Benchmark: accounting roll-up of 12 M energy rows to every level, three ways.

50,000 enterprises x 12 months x 20 carrier rows (the 18 carriers of the reference
table, plus coal and gas used as feedstock) = 12 M rows, rolled up to region, league,
county, park and enterprise by year, with tce, CO2 and, where GDP exists (region,
league, county), the intensities:

1. dualcontrol: :func:`dualcontrol.accounting.account_rows`, ``rollup_levels`` (one
   scan to the finest level, coarser levels summed from it) and ``with_intensity``
   (Ibis) on DuckDB;
2. hand-written DuckDB SQL: the same per-level queries written by hand, and one single
   query with GROUPING SETS for all levels (the practical limit);
3. straightforward pandas: merge, vectorised columns, groupby per level.

Every method runs in its own process (peak memory is that process's maximum RSS,
data included), after an untimed warm-up run on 100 enterprises in that process; the
results are compared to dualcontrol's to 1e-9 relative.

    python benchmarks/bench_accounting_rollup.py [--scale 1.0] [--threads 2]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
from _measure import run_apart

LEVELS = ("region", "league", "county", "park", "enterprise")
GDP_LEVELS = ("region", "league", "county")
YEAR = 2023
FEEDSTOCK = ("raw_coal", "natural_gas")


def make_rows(n_enterprises: int, seed: int = 0) -> pd.DataFrame:
    """Return prepared energy rows (the accounting core's columns) for one year."""
    from dualcontrol.reference import carriers

    codes = list(carriers())
    combos = [(c, "combustion") for c in codes] + [(c, "feedstock") for c in FEEDSTOCK]
    rng = np.random.default_rng(seed)
    n = n_enterprises * 12 * len(combos)
    ent = np.repeat(np.arange(n_enterprises), 12 * len(combos))
    month = np.tile(np.repeat(np.arange(1, 13), len(combos)), n_enterprises)
    combo = np.tile(np.arange(len(combos)), n_enterprises * 12)
    park = ent // 50
    county = park // 10
    league = county % 12
    origin_pick = rng.random(n)
    frame = pd.DataFrame({
        "region": "内蒙古自治区",
        "league": pd.Categorical.from_codes(league, [f"L{i:02d}" for i in range(12)]),
        "county": pd.Categorical.from_codes(county, [f"C{i:04d}" for i in
                                                     range(county.max() + 1)]),
        "park": pd.Categorical.from_codes(park, [f"P{i:05d}" for i in range(park.max() + 1)]),
        "enterprise": pd.Categorical.from_codes(ent, [f"E{i:06d}" for i in
                                                      range(n_enterprises)]),
        "year": np.int64(YEAR),
        "half": ((month - 1) // 6 + 1).astype("int64"),
        "quarter": ((month - 1) // 3 + 1).astype("int64"),
        "month": month.astype("int64"),
        "carrier": np.array([c for c, _ in combos])[combo],
        "quantity_carrier_unit": rng.lognormal(5, 1.5, n),
        "use": np.array([u for _, u in combos])[combo],
        "origin": np.where(origin_pick < 0.05, "renewable",
                           np.where(origin_pick < 0.1, "self_produced", "purchased")),
    })
    for c in ("region", "league", "county", "park", "enterprise"):
        frame[c] = frame[c].astype(str)
    return frame


def make_gdp(rows: pd.DataFrame) -> pd.DataFrame:
    """Return GDP at comparable prices per area (region, league, county) and year."""
    rng = np.random.default_rng(1)
    areas = pd.unique(pd.concat([rows[lv].drop_duplicates() for lv in GDP_LEVELS]))
    gdp = rng.uniform(1e6, 5e7, len(areas))
    return pd.DataFrame({"area": areas, "year": np.int64(YEAR), "gdp_current_10k_yuan": gdp,
                         "gdp_const_10k_yuan": gdp * 0.97, "gdp_base_year": np.int64(2020)})


def coefficients() -> pd.DataFrame:
    from dualcontrol.accounting import coefficient_table

    return coefficient_table([YEAR])


MEASURES_SQL = """
  sum(energy) AS energy_tce, sum(feedstock_tce) AS feedstock_tce,
  sum(renewable_tce) AS renewable_tce, sum(energy - feedstock_tce - renewable_tce)
  AS controlled_tce, sum(self_produced_tce) AS self_produced_tce, sum(co2) AS co2_t,
  sum(CASE WHEN secondary THEN 0.0 ELSE co2 END) AS co2_combustion_t,
  sum(CASE WHEN carrier = 'electricity' THEN co2 ELSE 0.0 END) AS co2_electricity_t,
  sum(CASE WHEN carrier = 'heat' THEN co2 ELSE 0.0 END) AS co2_heat_t"""

ROW_SQL = """
WITH j AS (
  SELECT r.*, c.tce_per_unit, c.co2_t_per_unit, c.category = 'secondary' AS secondary,
         r.quantity_carrier_unit * c.tce_per_unit AS gross,
         r.origin = 'self_produced' AND c.category = 'secondary' AS self_sec,
         r.origin = 'renewable' AS renew,
         r.use = 'feedstock' AND c.fossil_family IN ('coal', 'oil', 'gas') AS feed
  FROM rows r LEFT JOIN coef c ON r.carrier = c.carrier AND r.year = c.year
), a AS (
  SELECT *, CASE WHEN self_sec THEN 0.0 ELSE gross END AS energy,
         CASE WHEN feed AND NOT self_sec THEN gross ELSE 0.0 END AS feedstock_tce,
         CASE WHEN renew AND NOT self_sec THEN gross ELSE 0.0 END AS renewable_tce,
         CASE WHEN self_sec THEN gross ELSE 0.0 END AS self_produced_tce,
         CASE WHEN NOT renew AND NOT self_sec AND NOT feed
              THEN quantity_carrier_unit * co2_t_per_unit ELSE 0.0 END AS co2
  FROM j
)"""


def sql_per_level(level: str) -> str:
    keys = ", ".join((*LEVELS[:LEVELS.index(level) + 1], "year"))
    body = f"{ROW_SQL}, s AS (SELECT {keys}, count(*) AS rows, {MEASURES_SQL} FROM a " \
           f"GROUP BY {keys})"
    if level in GDP_LEVELS:
        return body + f""" SELECT s.*, g.gdp_const_10k_yuan,
          s.energy_tce / g.gdp_const_10k_yuan AS intensity_tce_per_10k_yuan,
          s.controlled_tce / g.gdp_const_10k_yuan AS controlled_intensity_tce_per_10k_yuan,
          s.co2_t / g.gdp_const_10k_yuan AS co2_intensity_t_per_10k_yuan
          FROM s LEFT JOIN gdp g ON s.{level} = g.area AND s.year = g.year"""
    return body + " SELECT * FROM s"


def sql_grouping_sets() -> str:
    sets = ", ".join("(" + ", ".join((*LEVELS[:i + 1], "year")) + ")"
                     for i in range(len(LEVELS)))
    return f"""{ROW_SQL}, s AS (
      SELECT {", ".join(LEVELS)}, year, count(*) AS rows, {MEASURES_SQL}
      FROM a GROUP BY GROUPING SETS ({sets}))
    SELECT s.*, g.gdp_const_10k_yuan,
      s.energy_tce / g.gdp_const_10k_yuan AS intensity_tce_per_10k_yuan,
      s.controlled_tce / g.gdp_const_10k_yuan AS controlled_intensity_tce_per_10k_yuan,
      s.co2_t / g.gdp_const_10k_yuan AS co2_intensity_t_per_10k_yuan
    FROM s LEFT JOIN gdp g ON g.year = s.year AND g.area = CASE
      WHEN s.park IS NOT NULL THEN NULL WHEN s.county IS NOT NULL THEN s.county
      WHEN s.league IS NOT NULL THEN s.league ELSE s.region END"""


def _duckdb(threads: int, rows: pd.DataFrame):
    import duckdb

    con = duckdb.connect()
    con.execute(f"SET threads = {threads}")
    con.register("rows_df", rows)
    con.execute("CREATE TABLE rows AS SELECT * FROM rows_df")
    con.unregister("rows_df")
    con.register("coef", coefficients())
    con.register("gdp", make_gdp(rows))
    return con


def run_dualcontrol(n: int, threads: int) -> tuple[float, dict[str, pd.DataFrame]]:
    import ibis

    from dualcontrol.accounting import account_rows, rollup_levels, with_intensity

    rows = make_rows(n)
    raw = _duckdb(threads, rows)
    gdp_frame = make_gdp(rows)
    del rows
    con = ibis.duckdb.from_connection(raw)
    table = con.table("rows")
    coef = con.create_table("coef_t", coefficients())
    gdp = con.create_table("gdp_t", gdp_frame)
    start = time.perf_counter()
    accounted = account_rows(table, coef)
    out = {}
    for level, rolled in rollup_levels(accounted, LEVELS, "year").items():
        if level in GDP_LEVELS:
            rolled = with_intensity(rolled, gdp, level)
        out[level] = con.execute(rolled)
    return time.perf_counter() - start, out


def _prepared(n: int, threads: int):
    """Return a DuckDB connection holding ``n`` enterprises' rows, and the clock's start."""
    con = _duckdb(threads, make_rows(n))
    return con, time.perf_counter()


def run_sql(n: int, threads: int) -> tuple[float, dict[str, pd.DataFrame]]:
    con, start = _prepared(n, threads)
    out = {level: con.execute(sql_per_level(level)).df() for level in LEVELS}
    return time.perf_counter() - start, out


def run_sql_one_query(n: int, threads: int) -> tuple[float, dict[str, pd.DataFrame]]:
    con, start = _prepared(n, threads)
    every = con.execute(sql_grouping_sets()).df()
    out = {}
    for i, level in enumerate(LEVELS):
        pick = every[level].notna()
        if i + 1 < len(LEVELS):
            pick &= every[LEVELS[i + 1]].isna()
        out[level] = every[pick].drop(columns=list(LEVELS[i + 1:]))
    return time.perf_counter() - start, out


def run_pandas(n: int, threads: int) -> tuple[float, dict[str, pd.DataFrame]]:
    rows = make_rows(n)
    coef = coefficients()
    gdp = make_gdp(rows)
    start = time.perf_counter()
    j = rows.merge(coef, on=["carrier", "year"], how="left")
    gross = j["quantity_carrier_unit"] * j["tce_per_unit"]
    secondary = j["category"] == "secondary"
    self_sec = (j["origin"] == "self_produced") & secondary
    renew = j["origin"] == "renewable"
    feed = (j["use"] == "feedstock") & j["fossil_family"].isin(["coal", "oil", "gas"])
    co2 = (j["quantity_carrier_unit"] * j["co2_t_per_unit"]).where(~renew & ~self_sec & ~feed,
                                                                   0.0)
    j["energy_tce"] = gross.where(~self_sec, 0.0)
    j["feedstock_tce"] = gross.where(feed & ~self_sec, 0.0)
    j["renewable_tce"] = gross.where(renew & ~self_sec, 0.0)
    j["controlled_tce"] = j["energy_tce"] - j["feedstock_tce"] - j["renewable_tce"]
    j["self_produced_tce"] = gross.where(self_sec, 0.0)
    j["co2_t"] = co2
    j["co2_combustion_t"] = co2.where(~secondary, 0.0)
    j["co2_electricity_t"] = co2.where(j["carrier"] == "electricity", 0.0)
    j["co2_heat_t"] = co2.where(j["carrier"] == "heat", 0.0)
    measures = ["energy_tce", "feedstock_tce", "renewable_tce", "controlled_tce",
                "self_produced_tce", "co2_t", "co2_combustion_t", "co2_electricity_t",
                "co2_heat_t"]
    out = {}
    for level in LEVELS:
        keys = [*LEVELS[: LEVELS.index(level) + 1], "year"]
        g = j.groupby(keys, sort=False, observed=True)
        s = g[measures].sum()
        s.insert(0, "rows", g.size())
        s = s.reset_index()
        if level in GDP_LEVELS:
            s = s.merge(gdp[["area", "year", "gdp_const_10k_yuan"]],
                        left_on=[level, "year"], right_on=["area", "year"], how="left")
            s["intensity_tce_per_10k_yuan"] = s["energy_tce"] / s["gdp_const_10k_yuan"]
            s["controlled_intensity_tce_per_10k_yuan"] = (s["controlled_tce"]
                                                          / s["gdp_const_10k_yuan"])
            s["co2_intensity_t_per_10k_yuan"] = s["co2_t"] / s["gdp_const_10k_yuan"]
        out[level] = s
    return time.perf_counter() - start, out


def _warm_run(name: str, n: int, threads: int) -> tuple[float, dict[str, pd.DataFrame]]:
    """Run method ``name`` once on 100 enterprises (untimed), then on ``n``.

    The first run pays the process's one-time costs (imports, Ibis and SQL compiler
    set-up, DuckDB's first allocations), so the timed run measures what a running
    service pays for each roll-up; every method gets the same warm-up.
    """
    method = globals()[f"run_{name}"]
    method(100, threads)
    return method(n, threads)


def measure(name: str, n: int, threads: int) -> tuple[float, float, dict]:
    """Return seconds, peak memory [GiB] and the outputs of method ``name``."""
    (seconds, out), peak = run_apart(_warm_run, name, n, threads, context="fork")
    return seconds, peak, out


def compare(reference: dict, other: dict, name: str) -> None:
    """Raise AssertionError unless ``other`` has the reference's numbers at every level."""
    columns = ["rows", "energy_tce", "controlled_tce", "feedstock_tce", "renewable_tce",
               "co2_t", "co2_electricity_t"]
    for level in LEVELS:
        keys = [*LEVELS[: LEVELS.index(level) + 1], "year"]
        cols = columns + (["intensity_tce_per_10k_yuan",
                           "co2_intensity_t_per_10k_yuan"] if level in GDP_LEVELS else [])
        a = reference[level].sort_values(keys).reset_index(drop=True)
        b = other[level].sort_values(keys).reset_index(drop=True)
        assert len(a) == len(b), (name, level, len(a), len(b))
        for c in cols:
            np.testing.assert_allclose(b[c].to_numpy(float), a[c].to_numpy(float),
                                       rtol=1e-9, err_msg=f"{name} {level} {c}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=float, default=1.0,
                        help="fraction of 50,000 enterprises (1.0 = 12 M rows)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    n = max(100, int(50_000 * args.scale))
    rows = n * 12 * 20
    print(f"accounting roll-up: {n:,} enterprises x 12 months x 20 carriers = {rows:,} rows; "
          f"levels {', '.join(LEVELS)}; DuckDB threads {args.threads}")
    results = {}
    for name in ("dualcontrol", "sql", "sql_one_query", "pandas"):
        best = None
        for _ in range(args.repeat):
            seconds, peak, out = measure(name, n, args.threads)
            if best is None or seconds < best[0]:
                best = (seconds, peak, out)
        results[name] = best
        print(f"  {name:14s} {best[0]:8.2f} s  {rows / best[0] / 1e6:7.1f} M rows/s  "
              f"peak {best[1]:.2f} GiB")
    reference = results["dualcontrol"][2]
    for name in ("sql", "sql_one_query", "pandas"):
        compare(reference, results[name][2], name)
    print("  results match (rtol 1e-9) at every level")
    d = results["dualcontrol"][0]
    one = results["sql_one_query"][0]
    print(f"  dualcontrol / hand SQL per level : {d / results['sql'][0]:.2f}x")
    print(f"  dualcontrol / one SQL query      : {d / one:.2f}x (goal <= 1.25)")
    print(f"  pandas / dualcontrol             : {results['pandas'][0] / d:.1f}x "
          f"(goal >= 15)")
    print(f"  pandas / one SQL query           : {results['pandas'][0] / one:.1f}x")


if __name__ == "__main__":
    main()
