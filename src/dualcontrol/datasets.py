"""Analysis-ready tables from the store, for the assessment, benchmarking, LMDI and web.

Every function takes an open :class:`~dualcontrol.store.Store` (or None: the
default store, that of the command's :func:`store_session` or else opened and closed by
the call; a missing store is an error, never created) and returns a pandas DataFrame with
units in its column names. Only the latest revision of each entity-period counts.
The energy accounts are computed by :mod:`dualcontrol.accounting` (the store only
sums physical quantities by carrier before handing them over, which is exact
because the conversion is linear).
"""

from __future__ import annotations

import functools
import logging
import re
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

import pandas as pd
import sqlalchemy as sa

from dualcontrol.accounting import accounts, gdp_chain_problems
from dualcontrol.conversion import Method
from dualcontrol.errors import InputError, Problem
from dualcontrol.factor_policy import factor_years_chosen, set_factor_years
from dualcontrol.store import Store, open_store, schema

logger = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])


class _Session:
    """The default store shared by the reads of one command (see :func:`store_session`)."""

    def __init__(self, on_open: Callable[[Store], None] | None) -> None:
        self.on_open = on_open
        self.store: Store | None = None
        self.lock = threading.Lock()

    def get(self) -> Store:
        with self.lock:
            if self.store is None:
                self.store = open_store(create=False, hold=True)
                if self.on_open is not None:
                    self.on_open(self.store)
            return self.store


_session: _Session | None = None


@contextmanager
def store_session(on_open: Callable[[Store], None] | None = None) -> Iterator[None]:
    """Within the block, reads without a store share one default store.

    The store is opened (never created, migrated once) on the first read, with one
    connection held until the end of the block (``hold=True``), and closed then;
    ``on_open`` is called with it once, e.g. to say which store is read. The command
    line wraps each command that reads the store in one session.
    """
    global _session
    previous, _session = _session, _Session(on_open)
    try:
        yield
    finally:
        current, _session = _session, previous
        if current is not None and current.store is not None:
            current.store.close()


@contextmanager
def default_store() -> Iterator[Store]:
    """Yield the default store for reading: the session's, or one opened for the block.

    A missing store raises :class:`~dualcontrol.store.StoreMissingError` (it is not created).
    """
    if _session is not None:
        yield _session.get()
        return
    opened = open_store(create=False)
    try:
        yield opened
    finally:
        opened.close()


#: The submitter of the demo's rows (:mod:`dualcontrol.demo`).
DEMO_USER = "demo"


def holds_demo(store: Store) -> bool:
    """True if the store holds the demo's submissions."""
    subs = schema.submissions
    with store.connect() as conn:
        return conn.execute(sa.select(subs.c.id).where(subs.c.submitter == DEMO_USER)
                            .limit(1)).first() is not None


def apply_store_factor_years(store: Store) -> None:
    """Apply the demo's choice for years without a published emission factor.

    The demo's years (2015-2026) reach beyond the published factors (Inner Mongolia's
    provincial factor: 2022 only), so a store holding the demo asks, for the process
    that reads it, for the nearest published year's factor, said once on stderr. A
    choice made by the user (``--factor-years``, ``DUALCONTROL_FACTOR_YEARS``) stands;
    any other store keeps the default: a year without a factor is an error.
    """
    if not factor_years_chosen() and holds_demo(store):
        set_factor_years("nearest", reason="as the demo store asks")


def uses_store(func: F) -> F:
    """Let ``func(store=None, ...)`` read the default store (:func:`default_store`), and
    apply the store's choice for years without a published factor."""

    @functools.wraps(func)
    def wrapper(store: Store | None = None, *args: Any, **kwargs: Any) -> Any:
        if store is not None:
            apply_store_factor_years(store)
            return func(store, *args, **kwargs)
        with default_store() as opened:
            apply_store_factor_years(opened)
            return func(opened, *args, **kwargs)

    return wrapper  # type: ignore[return-value]

LEVELS = ("region", "league", "county", "park", "enterprise")
GRAINS = ("year", "quarter", "month")


def latest_revisions_sql(kind: str) -> str:
    """Return SQL selecting the ids of the latest revision of every entity-period."""
    return f"""
        SELECT id FROM (
            SELECT id, ROW_NUMBER() OVER (PARTITION BY entity, period ORDER BY id DESC) AS rn
            FROM report_revisions WHERE kind = '{kind}') ranked
        WHERE rn = 1"""


def read_frame(store: Store, sql: str, params: dict[str, Any] | None = None) -> pd.DataFrame:
    """Return a query's result as a DataFrame (DuckDB's columnar fetch where possible)."""
    params = params or {}
    with store.connect() as conn:
        if store.is_duckdb:
            raw = conn.connection.dbapi_connection
            text = re.sub(r"(?<!:):([a-z_][a-z0-9_]*)", r"$\1", sql)
            used = {k: v for k, v in params.items() if f"${k}" in text}
            return raw.execute(text, used).df() if used else raw.execute(text).df()
        result = conn.execute(sa.text(sql), params)
        return pd.DataFrame(result.fetchall(), columns=list(result.keys()))


def exact_sum(store: Store, expr: str) -> str:
    """Return SQL summing ``expr`` exactly, so the total does not depend on row order.

    A database adds doubles in the order it happens to read rows (parallel workers,
    synchronised scans), so two reads of one store can differ in the last bits and two
    interfaces would show two values of one figure. Summed as decimals (10 places on
    the embedded store, arbitrary precision on PostgreSQL) the result is the same on
    every read; it is returned as a double.
    """
    if store.is_duckdb:
        return f"CAST(SUM(CAST({expr} AS DECIMAL(38, 10))) AS DOUBLE)"
    return f"CAST(SUM(CAST({expr} AS NUMERIC)) AS DOUBLE PRECISION)"


def _year_filter(column: str, years: Sequence[int] | None) -> str:
    if not years:
        return ""
    listed = ", ".join(str(int(y)) for y in years)
    return f" AND CAST(SUBSTR({column}, 1, 4) AS INTEGER) IN ({listed})"


@uses_store
def energy_reports(store: Store, *, years: Sequence[int] | None = None,
                   enterprise: str | None = None, revisions: str = "latest") -> pd.DataFrame:
    """Return energy report rows with their enterprise, park, county and league.

    Parameters
    ----------
    years : sequence of int, optional
        Only these years.
    enterprise : str, optional
        Only this USCC.
    revisions : str
        ``latest`` (what counts) or ``all`` (every revision, with ``revision``
        numbers 1, 2, ... per enterprise and month).

    Returns
    -------
    DataFrame
        ``enterprise_uscc``, ``enterprise_name``, ``industry``, ``park_code``,
        ``county_code``, ``league_code``, ``period`` (YYYY-MM), ``carrier``,
        ``quantity`` [unit], ``unit``, ``use``, ``origin``, ``ncv_gj_per_t`` (measured
        net calorific value [GJ/t], NaN = the carrier's default), ``revision_id``,
        ``revision``, ``submitted_at`` (UTC), ``submitter``.
    """
    where = "1 = 1"
    if revisions == "latest":
        where = f"e.revision_id IN ({latest_revisions_sql('energy')})"
    elif revisions != "all":
        raise InputError(Problem("unknown revisions choice", field="revisions",
                                 value=revisions, accepted=["latest", "all"]))
    where += _year_filter("e.period", years)
    params: dict[str, Any] = {}
    if enterprise:
        where += " AND e.enterprise_uscc = :uscc"
        params["uscc"] = enterprise
    sql = f"""
        SELECT e.enterprise_uscc, n.name AS enterprise_name, n.industry, n.park_code,
               n.county_code, g.league_code, e.period, e.carrier, e.quantity, e.unit,
               e.use, e.origin, e.ncv_gj_per_t, e.revision_id, r.revision, s.submitted_at,
               s.submitter
        FROM energy_reports e
        JOIN enterprises n ON n.uscc = e.enterprise_uscc
        JOIN regions g ON g.code = n.county_code
        JOIN (SELECT id, submission_id, ROW_NUMBER() OVER (
                  PARTITION BY entity, period ORDER BY id) AS revision
              FROM report_revisions WHERE kind = 'energy') r ON r.id = e.revision_id
        JOIN submissions s ON s.id = r.submission_id
        WHERE {where}
        ORDER BY e.enterprise_uscc, e.period, e.revision_id, e.line"""
    return read_frame(store, sql, params)


@uses_store
def monthly_report_rows(store: Store, month: str) -> pd.DataFrame:
    """Return the latest energy reports of one month as the accounting core reads them.

    Parameters
    ----------
    month : str
        ``YYYY-MM``.

    Returns
    -------
    DataFrame
        ``enterprise`` (USCC), ``period``, ``carrier``, ``quantity`` [unit], ``unit``,
        ``use``, ``origin``: the rows :func:`dualcontrol.monitoring.pipeline.monitor`
        reconciles metered energy with.
    """
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", str(month)):
        raise InputError(Problem("month must be YYYY-MM", field="month", value=month))
    frame = energy_reports(store, years=[int(month[:4])])
    frame = frame[frame["period"] == month]
    return frame.rename(columns={"enterprise_uscc": "enterprise"})[
        ["enterprise", "period", "carrier", "quantity", "unit", "use", "origin"]
    ].reset_index(drop=True)


def _level_columns(level: str) -> dict[str, str]:
    """SQL expression of each hierarchy column down to ``level``."""
    exprs = {"region": "'150000'", "league": "g.league_code", "county": "n.county_code",
             "park": "COALESCE(n.park_code, n.county_code || '-none')",
             "enterprise": "n.uscc"}
    return {lv: exprs[lv] for lv in LEVELS[: LEVELS.index(level) + 1]}


@uses_store
def energy_rows(store: Store, *, level: str = "league", grain: str = "year",
                years: Sequence[int] | None = None) -> pd.DataFrame:
    """Return latest energy quantities summed by ``level``, period and carrier.

    The columns are those :func:`dualcontrol.accounting.accounts` reads (``row``,
    the hierarchy columns, ``enterprise``, ``period``, ``carrier``, ``quantity``,
    ``unit``, ``use``, ``origin``); ``enterprise`` holds the level's code when the
    level is above the enterprise.
    """
    if level not in LEVELS:
        raise InputError(Problem("unknown level", field="level", value=level, accepted=LEVELS))
    if grain not in GRAINS:
        raise InputError(Problem("unknown grain", field="grain", value=grain, accepted=GRAINS))
    cols = _level_columns(level)
    period = "SUBSTR(e.period, 1, 4)" if grain == "year" else "e.period"
    select = ", ".join(f"{expr} AS {name}" for name, expr in cols.items())
    groups = "".join(f"{v}, " for v in cols.values() if not v.startswith("'"))
    qty = exact_sum(store, "e.quantity")
    sql = f"""
        SELECT {select}, {period} AS period, e.carrier, e.unit, e.use, e.origin,
               {qty} AS quantity,
               {exact_sum(store, "e.quantity * e.ncv_gj_per_t")} / NULLIF({qty}, 0)
                   AS ncv_gj_per_t
        FROM energy_reports e
        JOIN enterprises n ON n.uscc = e.enterprise_uscc
        JOIN regions g ON g.code = n.county_code
        WHERE e.revision_id IN ({latest_revisions_sql('energy')}){_year_filter('e.period', years)}
        GROUP BY {groups}{period}, e.carrier, e.unit, e.use, e.origin,
                 e.ncv_gj_per_t IS NULL"""
    frame = read_frame(store, sql)
    if "enterprise" not in frame:
        frame["enterprise"] = frame[level]
    frame = frame.sort_values([*cols, "period", "carrier", "use", "origin"]).reset_index(
        drop=True)
    frame.insert(0, "row", range(1, len(frame) + 1))
    return frame


@uses_store
def economic_data(store: Store, *, sector: str | None = "total") -> pd.DataFrame:
    """Return the latest economic data: region, year, sector, GDP, index, industrial VA.

    Columns ``region_code``, ``year``, ``sector``, ``gdp_current_10k_yuan`` [10^4
    yuan, current prices], ``gdp_index_prev_year_100`` [previous year = 100],
    ``industrial_va_current_10k_yuan`` [10^4 yuan]. Whole years only (periods
    ``YYYY``); the cumulative quarters are :func:`economic_ytd`.
    """
    where = f"revision_id IN ({latest_revisions_sql('economic')})"
    if sector is not None:
        where += " AND sector = :sector"
    frame = read_frame(store, f"""
        SELECT region_code, CAST(period AS INTEGER) AS year, sector, gdp_current_10k_yuan,
               gdp_index_prev_year_100, industrial_va_current_10k_yuan
        FROM economic_data WHERE {where} AND LENGTH(period) = 4
        ORDER BY region_code, year, sector""",
        {"sector": sector} if sector is not None else {})
    return frame


@uses_store
def economic_ytd(store: Store) -> pd.DataFrame:
    """Return the latest year-to-date GDP of the region and leagues (periods ``YYYY-Qn``).

    Columns ``region_code``, ``year``, ``months`` (3, 6, 9: cumulative from January),
    ``gdp_current_10k_yuan`` [10^4 yuan, current prices, cumulative] and
    ``gdp_index_prev_year_100`` [same months of the previous year = 100].
    """
    frame = read_frame(store, f"""
        SELECT region_code, period, gdp_current_10k_yuan, gdp_index_prev_year_100
        FROM economic_data
        WHERE revision_id IN ({latest_revisions_sql('economic')}) AND sector = 'total'
          AND period LIKE '____-Q_'
        ORDER BY region_code, period""")
    frame.insert(1, "year", frame["period"].str[:4].astype(int))
    frame.insert(2, "months", 3 * frame["period"].str[-1].astype(int))
    return frame.drop(columns=["period"])


@uses_store
def months_reported(store: Store) -> dict[int, int]:
    """Return the last month with energy reports of each year (12 for a complete year)."""
    frame = read_frame(store, """
        SELECT CAST(SUBSTR(period, 1, 4) AS INTEGER) AS year,
               MAX(CAST(SUBSTR(period, 6, 2) AS INTEGER)) AS month
        FROM energy_reports GROUP BY CAST(SUBSTR(period, 1, 4) AS INTEGER)""")
    return {int(y): int(m) for y, m in zip(frame["year"], frame["month"], strict=True)}


def _gdp_frame(store: Store, level: str) -> pd.DataFrame | None:
    if level not in ("region", "league"):
        return None
    gdp = economic_data(store)
    codes = read_frame(store, "SELECT code, level FROM regions")
    wanted = set(codes.loc[codes["level"] == level, "code"])
    gdp = gdp[gdp["region_code"].isin(wanted)].dropna(subset=["gdp_current_10k_yuan"])
    if gdp.empty:
        return None
    gdp = gdp.sort_values(["region_code", "year"]).rename(columns={"region_code": "area"})
    # only the first year of a chain may lack its index (it is never multiplied in)
    first = ~gdp["area"].duplicated(keep="first")
    lacking = gdp["gdp_index_prev_year_100"].isna() & ~first
    problems = [Problem(f"the stored economic data of {area} has no GDP volume index for "
                        f"{year}; ingest it (template economic) to chain comparable GDP",
                        field="gdp_index_prev_year_100", value=year)
                for area, year in gdp.loc[lacking, ["area", "year"]].itertuples(index=False)]
    problems += gdp_chain_problems(gdp)
    if problems:
        raise InputError(problems)
    gdp["gdp_index_prev_year_100"] = gdp["gdp_index_prev_year_100"].fillna(100.0)
    return gdp[["area", "year", "gdp_current_10k_yuan", "gdp_index_prev_year_100"]]


@uses_store
def region_accounts(store: Store, level: str = "league", grain: str = "year",
                    years: Sequence[int] | None = None, *,
                    method: Method | str = Method.calorific,
                    base_year: int | None = None) -> pd.DataFrame:
    """Return energy and CO2 accounts of the store by region level and period.

    Parameters
    ----------
    store : Store
        The open store.
    level : str
        ``region``, ``league``, ``county``, ``park`` or ``enterprise``.
    grain : str
        ``year``, ``quarter`` or ``month``.
    years : sequence of int, optional
        Only these years.
    method : str
        Electricity valuation: ``calorific`` or ``coal-equivalent``.
    base_year : int, optional
        Price base of comparable GDP (default: the first year in the data).

    Returns
    -------
    DataFrame
        ``region_code``, ``region_name``, ``level``, ``year`` (+ ``quarter`` or
        ``month``), ``energy_tce``, ``feedstock_tce``, ``renewable_tce``,
        ``nonfossil_tce``, ``controlled_tce``, ``co2_t``, ``gdp_current_10k_yuan``,
        ``gdp_const_10k_yuan`` (for region and league by year), and the intensities
        the accounting core adds.

    References
    ----------
    See :mod:`dualcontrol.accounting` for the rules (发改环资〔2022〕803号 and the
    2022-11-16 renewable notice).
    """
    rows = energy_rows(store, level=level, grain="year" if grain == "year" else "month",
                       years=years)
    if rows.empty:
        return pd.DataFrame(columns=["region_code", "region_name", "level", "year",
                                     "energy_tce", "controlled_tce", "co2_t"])
    gdp = _gdp_frame(store, level) if grain == "year" else None
    if gdp is not None and years:
        keep = set(years) | {base_year or min(years)}
        gdp = gdp[gdp["year"].isin(keep | set(range(min(keep), max(keep) + 1)))]
    out = accounts(rows, gdp, level=level, grain=grain, method=method,
                   base_year=base_year if base_year is not None else
                   (min(years) if years else None))
    out = out.rename(columns={level: "region_code"})
    names = _names(store, level)
    out.insert(1, "region_name", out["region_code"].map(names).fillna(out["region_code"]))
    out.insert(2, "level", level)
    # non-fossil here is renewable energy; nuclear is not used in the region
    out["nonfossil_tce"] = out["renewable_tce"]
    drop = [c for c in LEVELS if c in out.columns and c != "region_code"]
    drop += [c for c in ("half", "rows") if c in out.columns]
    if grain == "year":
        drop += [c for c in ("quarter", "month") if c in out.columns]
    elif grain == "quarter":
        drop += [c for c in ("month",) if c in out.columns]
    return out.drop(columns=drop).reset_index(drop=True)


def _names(store: Store, level: str) -> dict[str, str]:
    if level in ("region", "league", "county"):
        frame = read_frame(store, "SELECT code, name_zh FROM regions")
    elif level == "park":
        frame = read_frame(store, "SELECT code, name_zh FROM parks")
    else:
        frame = read_frame(store, "SELECT uscc AS code, name AS name_zh FROM enterprises")
    return dict(zip(frame["code"], frame["name_zh"], strict=True))


@uses_store
def production_units(store: Store, year: int | None = None) -> pd.DataFrame:
    """Return production units with yearly output, energy [tce] and electricity [kWh].

    Energy is the energy the enterprise consumed (calorific method), before the energy
    it supplied to others is taken off (a power plant's coal, not its coal less the
    electricity it sent out: the sent-out electricity is its product), shared among its
    units in proportion to output when an enterprise has several units of different
    products; ``electricity_kwh`` (consumed, not sent out) likewise.

    Returns
    -------
    DataFrame
        ``unit_id``, ``enterprise_code``, ``enterprise_name``, ``region`` (league
        code), ``industry``, ``product``, ``year``, ``capacity``, ``capacity_unit``,
        ``output``, ``output_unit``, ``energy_tce``, ``electricity_kwh``.
    """
    where = f" AND CAST(SUBSTR(o.period, 1, 4) AS INTEGER) = {int(year)}" if year else ""
    units = read_frame(store, f"""
        SELECT u.id AS unit_id, u.enterprise_uscc AS enterprise_code, n.name AS enterprise_name,
               g.league_code AS region, u.industry, u.product,
               CAST(SUBSTR(o.period, 1, 4) AS INTEGER) AS year, u.capacity, u.capacity_unit,
               {exact_sum(store, "o.output")} AS output, o.output_unit
        FROM production_units u
        JOIN enterprises n ON n.uscc = u.enterprise_uscc
        JOIN regions g ON g.code = n.county_code
        JOIN production_output o ON o.enterprise_uscc = u.enterprise_uscc
             AND o.unit_code = u.unit_code
             AND o.revision_id IN ({latest_revisions_sql('output')})
        WHERE 1 = 1{where}
        GROUP BY u.id, u.enterprise_uscc, n.name, g.league_code, u.industry, u.product,
                 CAST(SUBSTR(o.period, 1, 4) AS INTEGER), u.capacity, u.capacity_unit,
                 o.output_unit
        ORDER BY u.id, year""")
    units = output_in_one_unit(units)
    energy = region_accounts(store, level="enterprise", years=[year] if year else None)
    energy = energy.rename(columns={"region_code": "enterprise_code"})
    energy = energy.assign(energy_tce=energy["energy_tce"] + energy.get("supplied_tce", 0.0))[
        ["enterprise_code", "year", "energy_tce"]]
    only_year = _year_filter("e.period", [year] if year else None)
    kwh = ("e.quantity * CASE e.unit WHEN 'kWh' THEN 1 WHEN '10^4 kWh' THEN 1e4 "
           "WHEN '10^8 kWh' THEN 1e8 WHEN 'MWh' THEN 1e3 ELSE NULL END")
    elec = read_frame(store, f"""
        SELECT e.enterprise_uscc AS enterprise_code,
               CAST(SUBSTR(e.period, 1, 4) AS INTEGER) AS year,
               {exact_sum(store, kwh)} AS electricity_kwh
        FROM energy_reports e
        WHERE e.carrier = 'electricity' AND e.use <> 'supplied'
          AND e.revision_id IN ({latest_revisions_sql('energy')}){only_year}
        GROUP BY e.enterprise_uscc, CAST(SUBSTR(e.period, 1, 4) AS INTEGER)""")
    out = units.merge(energy, on=["enterprise_code", "year"], how="left")
    out = out.merge(elec, on=["enterprise_code", "year"], how="left")
    share = out["output"] / out.groupby(["enterprise_code", "year"])["output"].transform("sum")
    out["energy_tce"] = out["energy_tce"] * share
    out["electricity_kwh"] = out["electricity_kwh"].fillna(0.0) * share
    return out


def output_in_one_unit(frame: pd.DataFrame) -> pd.DataFrame:
    """Return one row per production unit and year with its output in one unit.

    ``frame`` has one row per unit, year and ``output_unit`` (the months of a year may
    be reported in different units: MWh one month, 万千瓦时 the next). Where a unit-year
    has one output unit it is kept; where it has several of one dimension, each sum is
    converted to the dimension's base unit (``data/units.csv``, ``to_base``) before
    they are added, and the row says that unit. Units of different dimensions (t and
    MWh) cannot be added and are refused.

    Raises
    ------
    InputError
        Naming the enterprise, unit, year and units, for output in units that are
        unknown or of different dimensions.
    """
    from dualcontrol.reference import resolve_unit

    if frame.empty:
        return frame
    keys = [c for c in frame.columns if c not in ("output", "output_unit")]
    counts = frame.groupby(keys, dropna=False)["output_unit"].transform("nunique")
    single = frame[counts == 1]
    mixed = frame[counts > 1]
    if mixed.empty:
        return frame.reset_index(drop=True)
    problems: list[Problem] = []
    resolved = {u: resolve_unit(u, field="output_unit") for u in mixed["output_unit"].unique()}
    mixed = mixed.assign(
        _given=mixed["output_unit"],
        output=mixed["output"] * mixed["output_unit"].map(lambda u: resolved[u].to_base),
        output_unit=mixed["output_unit"].map(lambda u: resolved[u].base_unit),
        _dimension=mixed["output_unit"].map(lambda u: resolved[u].dimension))
    dims = mixed.groupby(keys, dropna=False)["_dimension"].transform("nunique")
    clash = mixed[dims > 1]
    for _, group in clash.groupby(keys, dropna=False, sort=False):
        rec = group.iloc[0]
        given = sorted(group["_given"].astype(str))
        problems.append(Problem(
            f"output of unit {rec.get('unit_id')} of {rec.get('enterprise_code')} in "
            f"{rec.get('year')} is reported in units of different dimensions, which cannot "
            "be added", field="output_unit", value=", ".join(given),
            accepted=["one dimension per production unit (units.csv)"]))
    if problems:
        raise InputError(problems)
    combined = mixed.groupby(keys, dropna=False, as_index=False).agg(
        output=("output", "sum"), output_unit=("output_unit", "first"))
    return pd.concat([single, combined], ignore_index=True).sort_values(
        ["unit_id", "year"]).reset_index(drop=True)


def regional_deflator(gdp: pd.DataFrame, base_year: int | None = None) -> pd.Series:
    """Return the implicit GDP deflator of each year, base year = 1 [-].

    Parameters
    ----------
    gdp : DataFrame
        One region's ``year``, ``gdp_current_10k_yuan`` [10^4 yuan] and
        ``gdp_index_prev_year_100`` [previous year = 100], consecutive years.
    base_year : int, optional
        Price base (default: the first year).

    Returns
    -------
    Series
        Indexed by year: current-price GDP over GDP at ``base_year`` prices, where the
        latter chains the volume index from the base year (forwards and backwards).

    References
    ----------
    NBS, 中国统计年鉴, explanatory notes on GDP at comparable prices (chained indices).
    """
    frame = gdp.sort_values("year").set_index("year")
    years = list(frame.index)
    base = years[0] if base_year is None else int(base_year)
    if base not in frame.index:
        raise InputError(Problem("no GDP for the price base year", field="base_year",
                                 value=base, accepted=[int(y) for y in years]))
    volume = {base: 1.0}
    for year in years[years.index(base) + 1:]:
        volume[year] = volume[year - 1] * frame.at[year, "gdp_index_prev_year_100"] / 100
    for year in reversed(years[:years.index(base)]):
        volume[year] = volume[year + 1] / (frame.at[year + 1, "gdp_index_prev_year_100"] / 100)
    const = pd.Series(volume) * frame.at[base, "gdp_current_10k_yuan"]
    return (frame["gdp_current_10k_yuan"] / const).rename("deflator")


@uses_store
def sector_accounts(store: Store, *, base_year: int | None = None) -> pd.DataFrame:
    """Return value added, energy and CO2 by industry (sector) and year, region-wide.

    Columns ``sector``, ``year``, ``value_added_10k_yuan`` [10^4 yuan, current
    prices], ``value_added_const_10k_yuan`` [10^4 yuan at ``base_year`` prices: the
    store has no volume index by sector, so the region's implicit GDP deflator
    (:func:`regional_deflator`) deflates every sector], ``energy_tce``, ``co2_t``
    (0 where a sector has value added but no reported energy that year).
    """
    columns = ["sector", "year", "value_added_10k_yuan", "value_added_const_10k_yuan",
               "energy_tce", "co2_t"]
    rows = energy_rows(store, level="enterprise")
    if rows.empty:
        return pd.DataFrame(columns=columns)
    industry = read_frame(store, "SELECT uscc AS enterprise, industry FROM enterprises")
    rows = rows.merge(industry, on="enterprise", how="left")
    rows["park"] = rows["industry"]  # roll up by industry through the park level
    acc = accounts(rows.drop(columns=["industry"]), None, level="park", grain="year")
    acc = acc.groupby(["park", "year"], as_index=False)[["energy_tce", "co2_t"]].sum()
    acc = acc.rename(columns={"park": "sector"})
    econ = economic_data(store, sector=None)
    econ = econ[econ["region_code"] == "150000"]
    va = econ[econ["sector"] != "total"].rename(
        columns={"gdp_current_10k_yuan": "value_added_10k_yuan"})[
        ["sector", "year", "value_added_10k_yuan"]]
    total = econ[econ["sector"] == "total"].dropna(subset=["gdp_current_10k_yuan"])
    if len(total):
        total = total.assign(gdp_index_prev_year_100=total["gdp_index_prev_year_100"]
                             .fillna(100.0))
        deflator = regional_deflator(total, base_year)
        va["value_added_const_10k_yuan"] = (va["value_added_10k_yuan"]
                                            / va["year"].map(deflator))
    else:
        va["value_added_const_10k_yuan"] = float("nan")
    out = va.merge(acc, on=["sector", "year"], how="outer").sort_values(
        ["sector", "year"]).reset_index(drop=True)
    has_va = out["value_added_10k_yuan"].notna()
    out.loc[has_va, ["energy_tce", "co2_t"]] = out.loc[has_va, ["energy_tce", "co2_t"]].fillna(
        0.0)
    return out[columns]


@uses_store
def assessment_accounts(store: Store, *, levels: Sequence[str] = ("region", "league"),
                        base_year: int | None = None, periods: bool = False) -> pd.DataFrame:
    """Return the accounts of several levels in one frame, for the assessment.

    The yearly rows of :func:`region_accounts` of each level (default: the region and
    its leagues) with the same price base, ready for
    :func:`dualcontrol.assessment.prepare_accounts`. A year whose energy reports stop
    before December (the current year) has no yearly row: it is not a year's total.

    With ``periods``, also one row per region and cumulative period from January
    (``period`` ``YYYY-MM``, months 1-11, and ``YYYY-Qn`` for 3, 6, 9 months) where
    every month of it is reported, with year-to-date GDP at comparable prices
    (:func:`year_to_date_accounts`).
    """
    frames = [region_accounts(store, level=lv, base_year=base_year) for lv in levels]
    frames = [f for f in frames if len(f)]
    if not frames:
        return pd.DataFrame(columns=["region_code", "region_name", "level", "year",
                                     "energy_tce", "gdp_const_10k_yuan"])
    yearly = pd.concat(frames, ignore_index=True)
    reported = months_reported(store)
    partial = sorted(y for y, m in reported.items() if m < 12)
    if partial:
        logger.info("years with reports only to a month before December, not yearly "
                    "totals: %s", partial)
        yearly = yearly[~yearly["year"].isin(partial)].reset_index(drop=True)
    if not periods:
        return yearly
    ytd = year_to_date_accounts(store, levels=levels, yearly=yearly)
    return pd.concat([yearly, ytd], ignore_index=True)


@uses_store
def year_to_date_accounts(store: Store, *, levels: Sequence[str] = ("region", "league"),
                          yearly: pd.DataFrame) -> pd.DataFrame:
    """Return cumulative-from-January accounts (1-11 months) of each region, with GDP.

    Energy, deductions and CO2 are the sums of the months (only where every month of
    the period is reported). GDP is the stored year-to-date GDP (``YYYY-Qn`` rows of
    the economic data, :func:`economic_ytd`) at the comparable prices of ``yearly``
    (:func:`dualcontrol.accounting.ytd_gdp_comparable`). A period that ends between
    quarter ends (1-10月) takes the GDP of the last quarter within it (前三季度),
    pro-rated by months, so its growth over the same months of the year before is
    that quarter's published growth; ``gdp_note`` says so. Before the first quarter
    ends there is no GDP (no data).
    """
    from dualcontrol.accounting import ytd_gdp_comparable

    sums = ["energy_tce", "feedstock_tce", "renewable_tce", "nonfossil_tce", "co2_t"]
    frames = []
    for lv in levels:
        monthly = region_accounts(store, level=lv, grain="month")
        if monthly.empty:
            continue
        monthly = monthly.sort_values(["region_code", "year", "month"])
        keep = ["region_code", "region_name", "level", "year", "month"]
        monthly = monthly[[c for c in keep + sums if c in monthly.columns]].copy()
        grouped = monthly.groupby(["region_code", "year"])
        for column in sums:
            if column in monthly.columns:
                monthly[column] = grouped[column].cumsum()
        # a period counts only when all of its months are there
        monthly = monthly[grouped.cumcount() + 1 == monthly["month"]]
        frames.append(monthly[monthly["month"] < 12])
    if not frames:
        return pd.DataFrame(columns=["region_code", "year", "period"])
    ytd = pd.concat(frames, ignore_index=True).rename(columns={"month": "months"})
    gdp = economic_ytd(store)
    gdp = gdp[gdp["region_code"].isin(set(ytd["region_code"]))]
    deflator = {(str(c), int(y)): float(cur) / float(const) for c, y, cur, const in
                yearly[["region_code", "year", "gdp_current_10k_yuan", "gdp_const_10k_yuan"]]
                .dropna().itertuples(index=False) if const > 0}
    const = ytd_gdp_comparable(gdp.rename(columns={"region_code": "area"}), deflator)
    quarter = {(str(a), int(y), int(m)): v for a, y, m, v in
               const[["area", "year", "months", "gdp_const_10k_yuan"]].itertuples(index=False)}
    gdp_const, notes, labels = [], [], []
    for code, year, months in ytd[["region_code", "year", "months"]].itertuples(index=False):
        q = int(months) // 3
        value = quarter.get((str(code), int(year), 3 * q), float("nan")) if q else float("nan")
        gdp_const.append(value * months / (3 * q) if q else float("nan"))
        notes.append("" if months % 3 == 0 or not q else
                     f"GDP: {year}-Q{q} year to date pro-rated to {months} months (no "
                     f"monthly GDP; its growth over {year - 1}-Q{q} stands for 1-{months}月)")
        labels.append(f"{year}-Q{months // 3}" if months % 3 == 0 and months != 6 else
                      f"{year}-H1" if months == 6 else f"{year}-{int(months):02d}")
    return ytd.assign(period=labels, gdp_const_10k_yuan=gdp_const, gdp_note=notes)


@uses_store
def water_use(store: Store) -> pd.DataFrame:
    """Return yearly water withdrawal [m3] by league with industrial value added.

    Columns ``region_code``, ``region_name``, ``year``, ``withdrawal_m3``,
    ``reused_m3``, ``industrial_va_current_10k_yuan`` (region-wide row only) and
    ``water_intensity_m3_per_10k_yuan`` where value added is known.
    """
    frame = read_frame(store, f"""
        SELECT g.league_code AS region_code, CAST(SUBSTR(w.period, 1, 4) AS INTEGER) AS year,
               {exact_sum(store, "w.withdrawal_m3")} AS withdrawal_m3,
               {exact_sum(store, "w.reused_m3")} AS reused_m3
        FROM water_use w JOIN enterprises n ON n.uscc = w.enterprise_uscc
        JOIN regions g ON g.code = n.county_code
        WHERE w.revision_id IN ({latest_revisions_sql('water')})
        GROUP BY g.league_code, CAST(SUBSTR(w.period, 1, 4) AS INTEGER)""")
    total = frame.groupby("year", as_index=False)[["withdrawal_m3", "reused_m3"]].sum()
    total["region_code"] = "150000"
    frame = pd.concat([frame, total], ignore_index=True)
    va = economic_data(store)[["region_code", "year", "industrial_va_current_10k_yuan"]]
    frame = frame.merge(va, on=["region_code", "year"], how="left")
    frame["water_intensity_m3_per_10k_yuan"] = (frame["withdrawal_m3"]
                                                / frame["industrial_va_current_10k_yuan"])
    frame.insert(1, "region_name", frame["region_code"].map(_names(store, "league")))
    return frame.sort_values(["region_code", "year"]).reset_index(drop=True)


@uses_store
def green_registry(store: Store) -> pd.DataFrame:
    """Return the green-manufacturing registry with each entry's league."""
    return read_frame(store, """
        SELECT r.id, r.category, r.name, r.enterprise_uscc, r.region_code, g.league_code,
               r.level, r.batch_year, r.source
        FROM green_registry r LEFT JOIN regions g ON g.code = r.region_code
        ORDER BY r.category, r.batch_year, r.id""")


@uses_store
def carbon_accounts(store: Store, *, levels: Sequence[str] = ("region", "league", "county",
                                                              "park"),
                    ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return the yearly accounts and the cumulative CO2 the carbon budgets read.

    Returns
    -------
    (DataFrame, DataFrame)
        Yearly accounts of every level (``region_code``, ``region_name``, ``level``,
        ``parent_code`` — a park's county —, ``year``, ``co2_t`` [t CO2],
        ``gdp_const_10k_yuan`` for the region and leagues); and the cumulative CO2
        from January (``region_code``, ``year``, ``months``, ``co2_t``) of the last
        closed year and the year in progress after it, for the actuals of that year.
    """
    yearly = [assessment_accounts(store, levels=[lv for lv in levels
                                                 if lv in ("region", "league")])]
    # the closed years: those of the region's yearly accounts (a year still being
    # reported has no yearly row there); counties' and parks' partial years are dropped
    closed_last = int(yearly[0]["year"].max()) if len(yearly[0]) else None
    yearly += [region_accounts(store, level=lv) for lv in levels
               if lv in ("county", "park")]
    frame = pd.concat([f for f in yearly if len(f)], ignore_index=True)
    if closed_last is not None:
        frame = frame[frame["year"] <= closed_last].reset_index(drop=True)
    parks = read_frame(store, "SELECT code, county_code FROM parks")
    county_of = dict(zip(parks["code"], parks["county_code"], strict=True))
    codes = frame["region_code"].astype(str)
    frame["parent_code"] = [
        county_of.get(c, c.split("-")[0]) if lv == "park"
        else (None if c.endswith("0000") else c[:2] + "0000" if c.endswith("00")
              else c[:4] + "00")
        for c, lv in zip(codes, frame["level"], strict=True)]
    last = int(frame["year"].max()) if len(frame) else 0
    # the last closed year and the year in progress after it (its months so far)
    monthly = [region_accounts(store, level=lv, grain="month", years=[last, last + 1])
               for lv in levels]
    months = pd.concat([m for m in monthly if len(m)], ignore_index=True)
    if months.empty:
        return frame, pd.DataFrame(columns=["region_code", "year", "months", "co2_t"])
    months = months.sort_values(["region_code", "year", "month"])
    months["months"] = months["month"].astype(int)
    months["co2_t"] = months.groupby(["region_code", "year"])["co2_t"].cumsum()
    # cumulative only over an unbroken run of months from January
    months = months[months.groupby(["region_code", "year"]).cumcount() + 1
                    == months["months"]]
    cumulative = months[["region_code", "year", "months", "co2_t"]]
    closed = frame.loc[frame["year"] < last, ["region_code", "year", "co2_t"]].assign(
        months=12)
    return frame, pd.concat([closed, cumulative], ignore_index=True)


@uses_store
def carbon_budget_table(store: Store, *, levels: Sequence[str] = ("region", "league"),
                        gdp_growth: float | None = None, rules: dict[str, str] | None = None,
                        as_of: Any = None) -> pd.DataFrame:
    """Return :func:`dualcontrol.carbon_budget.carbon_budgets` of the store's accounts,
    net of the store's project pipeline (the one figure every interface shows)."""
    from dualcontrol.carbon_budget import carbon_budgets
    from dualcontrol.store.projects import list_projects

    accounts, actuals = carbon_accounts(store, levels=levels)
    if accounts.empty:
        raise InputError(Problem("the store has no energy accounts (run `dualcontrol demo` or "
                                 "ingest reports)", field="store"))
    return carbon_budgets(accounts, actuals=actuals, projects=list_projects(store),
                          levels=levels, gdp_growth=gdp_growth, rules=rules, as_of=as_of)
