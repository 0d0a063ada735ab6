"""What the pages and the API read and write, behind one interface.

:class:`FrameData` serves energy-use rows and GDP held in memory (the shipped
examples, or any CSV/XLSX files): it calls :func:`dualcontrol.accounting.accounts` and
the analysis modules, and keeps uploaded reports as revisions. The store-backed
provider calls the same library functions on the store. Nothing here computes a
result of its own: it selects, calls and returns tables.
"""

from __future__ import annotations

import logging
import tempfile
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import ibis
import pandas as pd

from dualcontrol import accounting
from dualcontrol.accounting import LEVELS
from dualcontrol.errors import InputError, Problem
from dualcontrol.fileio import read_table

logger = logging.getLogger(__name__)

#: Files accepted as uploads.
UPLOAD_SUFFIXES: tuple[str, ...] = (".csv", ".txt", ".xlsx")
#: Ratings of the barometer, in the order of the legend.
RATINGS: tuple[str, ...] = ("red", "yellow", "green", "no_data")
BAROMETER_COLUMNS = ["region", "indicator", "value", "requirement", "gap", "rating"]


class WebData(Protocol):
    """The data the web layer shows; every table is a DataFrame with canonical columns."""

    def accounts(self, *, level: str, grain: str = "year") -> pd.DataFrame:
        """Return the accounts by ``level`` and ``grain`` (with the levels above)."""

    def hierarchy(self) -> pd.DataFrame:
        """Return one row per enterprise with its region, league, county and park."""

    def energy_mix(self, *, level: str, key: str, year: int) -> pd.DataFrame:
        """Return energy [tce] and CO2 [t] by carrier of one node and year."""

    def barometer(self, *, year: int) -> pd.DataFrame:
        """Return the ratings (``region``, ``indicator``, ``value``, ``requirement``,
        ``gap``, ``rating``) of the leagues for ``year``; empty when unassessed."""

    def validate_energy(self, *, frame: pd.DataFrame, file_name: str) -> pd.DataFrame:
        """Return the validated rows of an uploaded energy report (InputError if bad)."""

    def store_energy(self, *, rows: pd.DataFrame, file_name: str, username: str,
                     ) -> dict[str, Any]:
        """Store validated rows as new revisions and return a summary."""

    def production_units(self) -> pd.DataFrame | None:
        """Return production units with output and energy (benchmarking input) or None."""

    def scenarios(self) -> dict[str, Path]:
        """Return the outlook scenario files by name."""

    def decomposition_input(self) -> DecompositionInput | None:
        """Return the table the decomposition page explains, or None."""

    def review_context(self) -> dict[str, Any] | None:
        """Return league and region baseline figures for project reviews, or None."""


@dataclass(frozen=True)
class DecompositionInput:
    """A factor table for :func:`dualcontrol.decomposition.lmdi` and its years."""

    frame: pd.DataFrame
    by: str
    factors: tuple[str, ...]
    base: int
    target: int
    label: str


def read_upload(content: bytes, file_name: str) -> pd.DataFrame:
    """Return the table in uploaded bytes (CSV in UTF-8/GB18030, or XLSX)."""
    suffix = Path(file_name).suffix.lower()
    if suffix not in UPLOAD_SUFFIXES:
        raise InputError(Problem("unsupported file type", file=file_name, value=suffix,
                                 accepted=list(UPLOAD_SUFFIXES)))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"upload{suffix}"
        path.write_bytes(content)
        try:
            return read_table(path)
        except InputError as exc:
            for problem in exc.problems:
                problem.file = file_name
            raise


@dataclass
class FrameData:
    """A :class:`WebData` over energy-use rows and GDP held in memory.

    Uploaded reports replace the rows of the same enterprise and period (a new
    revision); the replaced rows are kept in ``revisions``.
    """

    energy: pd.DataFrame
    gdp: pd.DataFrame | None = None
    units: pd.DataFrame | None = None
    scenario_files: dict[str, Path] = field(default_factory=dict)
    decomposition: DecompositionInput | None = None
    context: dict[str, Any] | None = None
    revisions: list[dict[str, Any]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _cache: dict[tuple[str, str], pd.DataFrame] = field(default_factory=dict, repr=False)
    _rows: pd.DataFrame | None = field(default=None, repr=False)

    @classmethod
    def from_files(cls, energy: str | Path, gdp: str | Path | None = None) -> FrameData:
        """Return the provider over an energy-use file and an optional GDP file."""
        return cls(energy=read_table(energy), gdp=read_table(gdp) if gdp else None)

    def fork(self) -> FrameData:
        """Return an independent copy that shares nothing mutable but reuses the cache."""
        with self._lock:
            return FrameData(energy=self.energy.copy(),
                             gdp=None if self.gdp is None else self.gdp.copy(),
                             units=self.units, scenario_files=dict(self.scenario_files),
                             decomposition=self.decomposition, context=self.context,
                             revisions=list(self.revisions), _cache=dict(self._cache),
                             _rows=self._rows)

    def _prepared(self) -> pd.DataFrame:
        if self._rows is None:
            self._rows = accounting.prepare_energy_rows(self.energy)
        return self._rows

    def accounts(self, *, level: str, grain: str = "year") -> pd.DataFrame:
        """Return :func:`dualcontrol.accounting.accounts` by ``level`` and ``grain``."""
        key = (level, grain)
        with self._lock:
            if key not in self._cache:
                self._cache[key] = accounting.accounts(self.energy, self.gdp, level=level,
                                                       grain=grain)
            return self._cache[key].copy()

    def hierarchy(self) -> pd.DataFrame:
        """Return one row per enterprise with the levels above it."""
        rows = self._prepared()
        return rows[[lv for lv in LEVELS if lv in rows]].drop_duplicates().reset_index(
            drop=True)

    def energy_mix(self, *, level: str, key: str, year: int) -> pd.DataFrame:
        """Return energy [tce] and CO2 [t] by carrier of node ``level:key`` in ``year``."""
        rows = self._prepared()
        rows = rows[(rows[level].astype(str) == key) & (rows["year"] == year)]
        if rows.empty:
            return pd.DataFrame(columns=["carrier", "energy_tce", "co2_t"])
        coefficients = accounting.coefficient_table([year],
                                                    carrier_codes=rows["carrier"].unique())
        table = accounting.account_rows(ibis.memtable(rows), ibis.memtable(coefficients))
        by_carrier = (table.group_by("carrier")
                      .aggregate(energy_tce=table.energy_tce.sum(), co2_t=table.co2_t.sum())
                      .order_by(ibis.desc("energy_tce")))
        return ibis.duckdb.connect().execute(by_carrier)

    def barometer(self, *, year: int) -> pd.DataFrame:
        """Return the barometer of the leagues (empty: the example data has no targets)."""
        return pd.DataFrame(columns=BAROMETER_COLUMNS)

    def validate_energy(self, *, frame: pd.DataFrame, file_name: str) -> pd.DataFrame:
        """Return ``frame`` once the accounting core has validated every row."""
        accounting.prepare_energy_rows(frame, file=file_name)
        return frame

    def store_energy(self, *, rows: pd.DataFrame, file_name: str, username: str,
                     ) -> dict[str, Any]:
        """Replace the rows of the uploaded enterprises and periods; return a summary."""
        keys = set(zip(rows["enterprise"].astype(str), rows["period"].astype(str),
                       strict=True))
        with self._lock:
            current = self.energy
            hit = pd.Series([(e, p) in keys for e, p in zip(
                current["enterprise"].astype(str), current["period"].astype(str),
                strict=True)], index=current.index, dtype=bool)
            replaced = current[hit]
            self.revisions.append({"at": datetime.now(UTC).isoformat(), "user": username,
                                   "file": file_name, "replaced_rows": len(replaced),
                                   "rows": len(rows)})
            self.energy = pd.concat([current[~hit], rows[current.columns.intersection(
                rows.columns)]], ignore_index=True)
            self._cache.clear()
            self._rows = None
        return {"file": file_name, "rows_stored": len(rows), "rows_replaced": len(replaced),
                "periods": sorted({p for _, p in keys}),
                "enterprises": sorted({e for e, _ in keys})}

    def production_units(self) -> pd.DataFrame | None:
        """Return the production units (benchmarking input) or None."""
        return None if self.units is None else self.units.copy()

    def scenarios(self) -> dict[str, Path]:
        """Return the outlook scenario files by name."""
        return dict(self.scenario_files)

    def decomposition_input(self) -> DecompositionInput | None:
        """Return the factor table of the decomposition page, or None."""
        return self.decomposition

    def review_context(self) -> dict[str, Any] | None:
        """Return the baseline figures for project reviews, or None."""
        return self.context


def examples_data(examples: Path) -> FrameData:
    """Return the provider over the example files shipped under ``examples/``."""
    def optional(path: Path) -> Path | None:
        return path if path.exists() else None

    data = FrameData.from_files(examples / "energy_use.csv", optional(examples / "gdp.csv"))
    units = optional(examples / "production_units.csv")
    data.units = read_table(units) if units else None
    scenarios = examples / "scenarios"
    if scenarios.is_dir():
        data.scenario_files = {p.stem.removeprefix("inner_mongolia_"): p
                               for p in sorted(scenarios.glob("*.yaml"))}
    factors = optional(examples / "decomposition" / "energy_by_sector_factors.csv")
    if factors:
        frame = read_table(factors)
        names = tuple(c for c in frame.columns if c not in ("sector", "year"))
        frame = frame.astype({"year": "int64", **{c: "float64" for c in names}})
        data.decomposition = DecompositionInput(frame, "sector", names, 2015, 2020,
                                                factors.name)
    context = optional(examples / "projects" / "context_2024.yaml")
    if context:
        from dualcontrol.review import read_mapping

        data.context = read_mapping(context)
    return data
