"""What the pages and the API read and write: the store, through :mod:`dualcontrol.datasets`.

:class:`StoreData` reads the configured store (``DUALCONTROL_DB``, or the embedded
DuckDB file), calls the library (accounts, assessment, budget, benchmarking) and
hands the tables to the routes; uploads go through :func:`dualcontrol.ingest.ingest_file`
(the same validation, revisions and audit as ``dualcontrol ingest``). Nothing here
computes a result of its own: it selects, calls and returns tables.

Results are cached per *store version* (the newest submission and revision,
:mod:`dualcontrol.web.results`): an upload here invalidates them at once, a
command-line import while the server runs makes the next request read the new data.
Every store access opens a short-lived connection, so the server never holds the
DuckDB file between requests.
"""

from __future__ import annotations

import hashlib
import logging
import re
import tempfile
from collections.abc import Callable
from dataclasses import InitVar, dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import ibis
import pandas as pd

from dualcontrol import accounting, benchmarking, datasets
from dualcontrol.assessment import (
    compare_rule_sets,
    months_available,
    prepare_accounts,
    progress,
)
from dualcontrol.budget import energy_budget
from dualcontrol.errors import InputError, Problem
from dualcontrol.fileio import read_table, xlsx_limits
from dualcontrol.ingest import ingest_file, map_headers
from dualcontrol.regions import REGION_CODE
from dualcontrol.revisions import refuse_large_drops
from dualcontrol.store import Store
from dualcontrol.web.results import ResultCache, StoreVersion, read_version

logger = logging.getLogger(__name__)

LEVELS = datasets.LEVELS
#: Files accepted as uploads.
UPLOAD_SUFFIXES: tuple[str, ...] = (".csv", ".txt", ".xlsx")
#: Ratings of the barometer, in the order of the legend.
RATINGS: tuple[str, ...] = ("red", "yellow", "green", "no_data")

T = TypeVar("T")


@dataclass(frozen=True)
class DecompositionInput:
    """A factor table for :func:`dualcontrol.decomposition.lmdi` and its years."""

    frame: pd.DataFrame
    by: str
    factors: tuple[str, ...]
    base: int
    target: int
    label: str


@dataclass
class StoreData:
    """The web layer's data: the store, plus optional scenario/project input files.

    Parameters
    ----------
    store : Store
        The open store (its engine opens a connection per operation).
    inputs : Path, optional
        Directory with ``scenarios/*.yaml``, ``decomposition/*.csv`` and
        ``projects/context_2024.yaml`` (the shipped ``examples/``): inputs that are
        not reports and so do not live in the store.
    """

    store: Store
    inputs: Path | None = None
    #: False: the behaviour before the result cache (the load test's baseline): the
    #: version read from the store at every use, no chart or node result kept.
    cache: InitVar[bool] = True
    #: On a database server (no file to watch), how long a version read is trusted [s]
    #: (0: read at every use; the server trusts it a second).
    version_poll_s: InitVar[float] = 0.0
    _versions: StoreVersion = field(init=False, repr=False)
    _cache: ResultCache = field(init=False, repr=False)

    def __post_init__(self, cache: bool, version_poll_s: float) -> None:
        self._versions = StoreVersion(self.store, poll_s=version_poll_s)
        self._cache = ResultCache(self._versions.current if cache else self.version,
                                  max_bounded=1024 if cache else 0)

    # ------------------------------------------------------------------ caching
    def version(self) -> object:
        """Return the store's data version, read now (:func:`results.read_version`)."""
        return read_version(self.store)

    def current_version(self) -> object:
        """Return the store's data version, read again only if the store may have changed."""
        return self._versions.current()

    def results_key(self) -> tuple[object, int]:
        """Return what the kept results belong to: the store's version, and how often
        they were dropped by hand (answers kept elsewhere are keyed by it)."""
        return (self._versions.current(), self._cache.cleared)

    def changed(self) -> None:
        """Say that this process changed the store's data: the next request reads it anew."""
        self._versions.forget()

    @property
    def results(self) -> ResultCache:
        """Return the cache of results (to keep on disk, or to count computations)."""
        return self._cache

    def _cached(self, key: tuple[Any, ...], make: Callable[[], T], *,
                bounded: bool = False) -> T:
        def computed() -> T:
            datasets.apply_store_factor_years(self.store)  # the demo store's choice
            return make()
        return self._cache.get(key, computed, bounded=bounded)

    def memo(self, key: tuple[Any, ...], make: Callable[[], T]) -> T:
        """Return ``make()`` computed once per store version (a page's chart, say).

        ``key`` must name everything the result depends on besides the data (the
        node, the language); at most :attr:`ResultCache.max_bounded` such results are
        kept. The caller checks access before: the result is shared by every visitor.
        """
        return self._cache.get(("memo", *key), make, bounded=True)

    # ---------------------------------------------------------------- hierarchy
    def hierarchy(self) -> pd.DataFrame:
        """Return one row per enterprise with its region, league, county and park codes."""
        return self._cached(("hierarchy",), lambda: datasets.read_frame(self.store, f"""
            SELECT '{REGION_CODE}' AS region, g.league_code AS league,
                   n.county_code AS county,
                   COALESCE(n.park_code, n.county_code || '-none') AS park,
                   n.uscc AS enterprise, n.name AS enterprise_name, n.industry
            FROM enterprises n JOIN regions g ON g.code = n.county_code
            ORDER BY n.uscc""").astype({"region": str}))

    def names(self) -> dict[str, str]:
        """Return the display name of every region, park and enterprise code (Chinese)."""
        def make() -> dict[str, str]:
            frame = datasets.read_frame(self.store, """
                SELECT code, name_zh AS name FROM regions
                UNION ALL SELECT code, name_zh FROM parks
                UNION ALL SELECT uscc, name FROM enterprises""")
            return dict(zip(frame["code"], frame["name"], strict=True))
        return self._cached(("names",), make)

    def league_key(self, text: str) -> str | None:
        """Return the code of a league or city given by code, Chinese or English name."""
        frame = self._cached(("leagues",), lambda: datasets.read_frame(
            self.store, "SELECT code, name_zh, name_en FROM regions WHERE level = 'league'"))
        wanted = str(text).strip().lower()
        for row in frame.itertuples():
            if wanted in (row.code, row.name_zh.lower(), row.name_en.lower()) or \
                    row.name_en.lower().startswith(wanted + " "):
                return str(row.code)
        return None

    def leagues(self) -> list[str]:
        """Return the English names of the leagues and cities."""
        frame = self._cached(("leagues",), lambda: datasets.read_frame(
            self.store, "SELECT code, name_zh, name_en FROM regions WHERE level = 'league'"))
        return frame["name_en"].tolist()

    # ----------------------------------------------------------------- accounts
    def _with_levels(self, frame: pd.DataFrame, level: str) -> pd.DataFrame:
        """Rename ``region_code`` to ``level`` and add the codes of the levels above."""
        out = frame.rename(columns={"region_code": level, "region_name": "name"})
        above = [lv for lv in LEVELS[: LEVELS.index(level)]]
        if above:
            links = self.hierarchy()[[*above, level]].drop_duplicates(level)
            out = out.merge(links, on=level, how="left")
        out = out[[*above, level, *[c for c in out.columns if c not in (*above, level)]]]
        return out.drop(columns=["level"], errors="ignore").reset_index(drop=True)

    def accounts(self, *, level: str, grain: str = "year") -> pd.DataFrame:
        """Return :func:`dualcontrol.datasets.region_accounts` with the hierarchy columns."""
        return self._cached(("accounts", level, grain), lambda: self._with_levels(
            datasets.region_accounts(self.store, level=level, grain=grain), level)).copy()

    def node_accounts(self, *, level: str, key: str, grain: str = "year") -> pd.DataFrame:
        """Return the accounts of one node; an enterprise's are computed from its rows."""
        if level != "enterprise" or grain == "year":
            table = self.accounts(level=level, grain=grain)
            return table[table[level].astype(str) == key].reset_index(drop=True)

        def make() -> pd.DataFrame:
            rows = self._enterprise_rows(key)
            if rows.empty:
                return pd.DataFrame(columns=["enterprise", "year", "energy_tce", "co2_t"])
            return accounting.accounts(rows, level="enterprise", grain=grain)
        return self._cached(("node_accounts", level, key, grain), make, bounded=True).copy()

    def _enterprise_rows(self, key: str, year: int | None = None) -> pd.DataFrame:
        """Return the latest energy rows of one enterprise in the accounting core's columns."""
        raw = datasets.energy_reports(self.store, enterprise=key,
                                      years=[year] if year else None)
        rows = raw.rename(columns={"enterprise_uscc": "enterprise", "league_code": "league",
                                   "county_code": "county", "park_code": "park"})
        rows["region"] = REGION_CODE
        rows["park"] = rows["park"].fillna(rows["county"] + "-none")
        rows.insert(0, "row", range(1, len(rows) + 1))
        return rows[["row", *LEVELS, "period", "carrier", "quantity", "unit", "use", "origin"]]

    def energy_mix(self, *, level: str, key: str, year: int) -> pd.DataFrame:
        """Return energy [tce] and CO2 [t] by carrier of node ``level:key`` in ``year``."""
        return self._cached(("energy_mix", level, key, year),
                            lambda: self._energy_mix(level=level, key=key, year=year),
                            bounded=True).copy()

    def _energy_mix(self, *, level: str, key: str, year: int) -> pd.DataFrame:
        if level == "enterprise":
            rows = self._enterprise_rows(key, year)
        else:
            rows = datasets.energy_rows(self.store, level=level, years=[year])
            rows = rows[rows[level].astype(str) == key]
        if rows.empty:
            return pd.DataFrame(columns=["carrier", "energy_tce", "co2_t"])
        prepared = accounting.prepare_energy_rows(rows)
        datasets.apply_store_factor_years(self.store)
        coefficients = accounting.coefficient_table(
            [year], carrier_codes=prepared["carrier"].unique())
        table = accounting.account_rows(ibis.memtable(prepared), ibis.memtable(coefficients))
        by_carrier = (table.group_by("carrier")
                      .aggregate(energy_tce=table.energy_tce.sum(), co2_t=table.co2_t.sum())
                      .order_by(ibis.desc("energy_tce")))
        return ibis.duckdb.connect().execute(by_carrier)

    # --------------------------------------------------------------- assessment
    def _assessable(self) -> pd.DataFrame:
        return self._cached(("assessable",),
                            lambda: prepare_accounts(self._assessment_accounts()))

    def _assessment_accounts(self) -> pd.DataFrame:
        return self._cached(("assessment_accounts",),
                            lambda: datasets.assessment_accounts(self.store))

    def observed_assessment(self, scenario: Any) -> pd.DataFrame | None:
        """Return the assessment of a scenario's target years the accounts cover
        (:func:`dualcontrol.outlook.assess_observed`), so the outlook shows the
        assessed figure of a target already observed."""
        from dualcontrol.outlook import assess_observed

        return assess_observed(scenario, self._assessment_accounts())

    def _period_accounts(self) -> pd.DataFrame:
        """Return the prepared accounts with the cumulative periods (year to date)."""
        return self._cached(("period_accounts",), lambda: prepare_accounts(
            datasets.assessment_accounts(self.store, periods=True)))

    def ledgers(self, *, region_code: str, year: int) -> pd.DataFrame:
        """Return :func:`dualcontrol.assessment.compare_rule_sets` of one region for
        ``year`` (the months reported so far in the current year)."""
        def make() -> pd.DataFrame:
            data = self._period_accounts()
            return compare_rule_sets(data, year=year, months=months_available(data, year),
                                     region_code=region_code)
        return self._cached(("ledgers", region_code, year), make).copy()

    def barometer(self, *, year: int) -> pd.DataFrame:
        """Return :func:`dualcontrol.assessment.progress` of region and leagues for ``year``
        (the current year on the months reported so far, e.g. 1-10月).

        ``region`` holds the display name, ``region_code`` the code.
        """
        def make() -> pd.DataFrame:
            data = self._period_accounts()
            out = progress(data, year=year, months=months_available(data, year))
            out.insert(0, "region", out["region_name"].astype(str))
            return out
        return self._cached(("barometer", year), make).copy()

    def budget(self, *, year: int) -> pd.DataFrame:
        """Return :func:`dualcontrol.budget.energy_budget` of region and leagues [tce]."""
        return self._cached(("budget", year), lambda: energy_budget(
            self._assessable(), year=year)).copy()

    # ------------------------------------------------------------- benchmarking
    def production_units(self) -> pd.DataFrame | None:
        """Return production units with output and energy of the latest year, or None."""
        def make() -> pd.DataFrame:
            years = datasets.read_frame(self.store, """
                SELECT MAX(CAST(SUBSTR(period, 1, 4) AS INTEGER)) AS y FROM production_output""")
            year = years["y"].iloc[0]
            if year is None or pd.isna(year):
                return pd.DataFrame()
            return datasets.production_units(self.store, year=int(year))
        frame = self._cached(("units",), make)
        return None if frame.empty else frame.copy()

    def unit_benchmarks(self) -> pd.DataFrame | None:
        """Return :func:`dualcontrol.benchmarking.benchmark_units` of the latest year."""
        def make() -> pd.DataFrame:
            units = self.production_units()
            if units is None:
                return pd.DataFrame()
            # products without a published benchmark level (e.g. data centres) are not rated
            known = units["product"].isin(benchmarking.supported_products())
            if not known.all():
                logger.info("%d production units have products without benchmark levels",
                            int((~known).sum()))
            units = units[known].reset_index(drop=True)
            return pd.DataFrame() if units.empty else benchmarking.benchmark_units(units)
        frame = self._cached(("benchmarks",), make)
        return None if frame.empty else frame.copy()

    # ------------------------------------------------------------------ uploads
    def upload_enterprises(self, path: Path, file_name: str) -> pd.DataFrame:
        """Return one row per enterprise of an upload with every level above it.

        Known enterprises take their place in the store's hierarchy; new ones (the
        import registers them) the league of the county code the file gives.
        """
        frame = read_table(path, xlsx_limits("web"))
        names = map_headers(list(frame.columns), "energy", file_name)
        frame.columns = [n or f"_{i}" for i, n in enumerate(names)]
        given = frame[["uscc", "region_code"]].drop_duplicates("uscc").rename(
            columns={"uscc": "enterprise", "region_code": "county"})
        known = self.hierarchy()
        found = given[["enterprise"]].merge(known, on="enterprise", how="inner")
        new = given[~given["enterprise"].isin(known["enterprise"])]
        if len(new):
            counties = datasets.read_frame(self.store, "SELECT code, league_code FROM regions")
            new = new.assign(region=REGION_CODE, league=new["county"].map(
                dict(zip(counties["code"], counties["league_code"], strict=True))),
                park=new["county"] + "-none")
        return pd.concat([found, new], ignore_index=True)[list(LEVELS)].astype(str)

    def submit_energy(self, *, content: bytes, file_name: str, username: str,
                      check: Callable[[pd.DataFrame], None], on_partial: str = "refuse",
                      confirm_drops: bool = False,
                      confirmed_sha256: str | None = None) -> dict[str, Any]:
        """Validate and store an uploaded energy report through :func:`ingest_file`.

        ``check`` is called with the upload's enterprises (their hierarchy) before
        anything is stored and raises to refuse. ``on_partial`` is the CLI's
        ``--replace``/``--merge`` choice. With ``confirm_drops``, enterprise-months the
        upload would replace with much less energy (``revision_rules.csv``) are refused
        with :class:`~dualcontrol.revisions.LargeDropError` unless ``confirmed_sha256``
        is the file's hash. Raises InputError with every problem of the file (nothing
        stored).
        """
        suffix = Path(file_name).suffix.lower()
        if suffix not in UPLOAD_SUFFIXES:
            raise InputError(Problem("unsupported file type", file=file_name, value=suffix,
                                     accepted=list(UPLOAD_SUFFIXES)))
        safe = re.sub(r"[^\w.\-]+", "_", Path(file_name).name) or f"upload{suffix}"
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / safe
            path.write_bytes(content)
            try:
                check(self.upload_enterprises(path, file_name))
                # the web's own XLSX limits: what an upload may unpack to, not only its
                # packed size (data/file_limits.csv)
                digest = hashlib.sha256(content).hexdigest()

                def drops(conn: Any, submission_id: int) -> None:
                    refuse_large_drops(conn, submission_id, content_sha256=digest,
                                       confirmed_sha256=confirmed_sha256, file=file_name)

                result = ingest_file(self.store, path, "energy", user=username,
                                     limits=xlsx_limits("web"), on_partial=on_partial,
                                     before_commit=drops if confirm_drops else None)
            except InputError as exc:
                for problem in exc.problems:
                    problem.file = file_name
                raise
            finally:
                self.changed()
        summary = result.as_dict()
        summary["file"] = file_name
        return summary

    # ---------------------------------------------------- inputs outside the store
    def scenarios(self) -> dict[str, Path]:
        """Return the outlook scenario files by name."""
        folder = self.inputs / "scenarios" if self.inputs else None
        if folder is None or not folder.is_dir():
            return {}
        return {p.stem.removeprefix("inner_mongolia_"): p for p in sorted(folder.glob("*.yaml"))}

    def decomposition_input(self) -> DecompositionInput | None:
        """Return the factor table of the decomposition page, or None."""
        path = self.inputs / "decomposition" / "energy_by_sector_factors.csv" \
            if self.inputs else None
        if path is None or not path.exists():
            return None
        frame = read_table(path)
        names = tuple(c for c in frame.columns if c not in ("sector", "year"))
        frame = frame.astype({"year": "int64", **{c: "float64" for c in names}})
        return DecompositionInput(frame, "sector", names, 2015, 2020, path.name)

    def review_context(self, league: str, start_year: int) -> dict[str, Any] | None:
        """Return the league's and region's figures for a project review, or None.

        From the store's accounts and budget, as ``dualcontrol review`` does without
        ``--context``; None when the store holds no accounts.
        """
        from dualcontrol.review import context_from_accounts, context_year

        raw = self._assessment_accounts()
        if raw.empty:
            return None
        year = context_year(self._assessable(), start_year)
        context = context_from_accounts(raw, self.budget(year=year), league, year=year)
        from dualcontrol.review import carbon_budget_context

        try:
            carbon = carbon_budget_context(self.carbon_budgets(), context["league"]["code"],
                                           start_year)
        except InputError as exc:  # e.g. no 2025 CO2: the evaluation says budget unknown
            logger.info("no carbon budget for the review: %s", exc)
            carbon = None
        if carbon is not None:
            context["league"].update(carbon)
        return context

    # ------------------------------------------------ carbon budgets and pipeline
    def carbon_budgets(self) -> pd.DataFrame:
        """Return the carbon budgets of the region and leagues 2026-2030, net of the
        pipeline as it stands (:func:`dualcontrol.carbon_budget.carbon_budgets`)."""
        from dualcontrol.carbon_budget import carbon_budgets

        levels = ("region", "league")
        accounts, actuals = self._cached(
            ("carbon_accounts",), lambda: datasets.carbon_accounts(self.store, levels=levels))
        if accounts.empty:
            return pd.DataFrame()
        # the pipeline is read on every call: its changes are not submissions
        return carbon_budgets(accounts, actuals=actuals, projects=self.projects(),
                              levels=levels)

    def projects(self, *, status: str | None = None,
                 league_code: str | None = None) -> pd.DataFrame:
        """Return the project pipeline (:func:`dualcontrol.store.projects.list_projects`)."""
        from dualcontrol.store.projects import list_projects

        return list_projects(self.store, status=status, league_code=league_code)

    def add_project(self, **fields: Any) -> dict[str, Any]:
        """Store a reviewed project (:func:`dualcontrol.store.projects.add_project`)."""
        from dualcontrol.store.projects import add_project

        return add_project(self.store, **fields)

    def move_project(self, **fields: Any) -> dict[str, Any]:
        """Move a project to a new state (:func:`dualcontrol.store.projects.transition`)."""
        from dualcontrol.store.projects import transition

        return transition(self.store, **fields)

    def sample_project(self) -> str:
        """Return the text of the sample project shown in the review form ('' if none)."""
        path = self.inputs / "projects" / "ferrosilicon_ulanqab.yaml" if self.inputs else None
        return path.read_text("utf-8") if path is not None and path.exists() else ""

    # --------------------------------------------------------- measures (issue 22)
    def measures(self) -> pd.DataFrame:
        """Return the measures registry (latest revisions; not cached: the registry
        changes without a submission)."""
        from dualcontrol.store.measures import load_measures

        return load_measures(self.store)

    def unit_history(self) -> pd.DataFrame:
        """Return the production units of every year (the accounts of realised savings)."""
        return self._cached(("unit_history",),
                            lambda: datasets.production_units(self.store)).copy()


#: The web layer's data interface (one implementation: the store).
WebData = StoreData
