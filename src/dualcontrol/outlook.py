"""When energy use and CO2 peak: scenario projections to 2060 with Monte Carlo.

A scenario (YAML, see ``examples/scenarios/``) gives, for one region or for each of
several regions (leagues), a base year's GDP and energy use, a GDP growth path,
the value-added structure by sector, each sector's relative energy intensity and its
yearly improvement, the electricity share of final energy, the non-fossil share of
electricity (wind and solar build-out), the fossil-only grid emission factor, the
non-fossil and feedstock shares of direct fuel use, the CO2 factor of direct fossil
use and carbon capture. Each year ``t`` and draw:

- GDP_t = GDP_0 prod(1 + g) [10^4 yuan, constant prices]
- E_t = E_0 (GDP_t / GDP_0) sum_s S_s,t k_s r_s,t / sum_s S_s,0 k_s [tce]
  (S: value-added share, k: relative intensity, r: cumulative intensity factor)
- electricity E_el = a E [tce, calorific 0.1229 kgce/kWh], direct use E_d = E - E_el
- grid factor f_g = f_fossil (1 - n_el) [t CO2/MWh]
- non-fossil = n_el E_el + n_d E_d; feedstock = q (E_d - n_d E_d)
- CO2 = (E_d (1 - n_d) - feedstock) c_d + E_el / 0.1229e-3 f_g / 1000 - CCS [t]
- controlled energy (the 2024 rule: non-fossil and feedstock excluded from both the
  total and the intensity) = E - non-fossil - feedstock [tce]

Electricity CO2 is counted where it is consumed, at the grid factor (the basis of
the provincial carbon-intensity assessment), not where it is generated. Uncertain
parameters carry a distribution (``normal`` with ``sd``, ``uniform`` with ``low`` and
``high``, ``triangular`` with ``low``, ``value`` as mode, ``high``); the central path
uses ``value``. The Monte Carlo is vectorised over draws and years (NumPy arrays of
shape (draws, years)); :func:`project_region_loop` is a plain-Python reference.

References
----------
NDRC, NBS, NEA (2024). 关于加强绿色电力证书与节能降碳政策衔接大力促进非化石能源消费的通知
(non-fossil energy excluded from total and intensity control), 2024-02-02.
NDRC, NBS (2022). 发改环资〔2022〕803号 (feedstock use excluded), 2022-10-27.
GB/T 2589-2020, Appendix A (electricity 0.1229 kgce/kWh, calorific equivalent).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from dualcontrol.errors import InputError, Problem

logger = logging.getLogger(__name__)

#: Distributions accepted for an uncertain parameter, with their required keys.
DISTRIBUTIONS: dict[str, tuple[str, ...]] = {
    "fixed": ("value",),
    "normal": ("value", "sd"),
    "uniform": ("value", "low", "high"),
    "triangular": ("value", "low", "high"),
}

#: Indicators :func:`check_targets` can evaluate, as in the assessment's targets table.
INDICATORS = ("energy_intensity_reduction", "co2_intensity_reduction",
              "nonfossil_share", "co2_peak_year", "energy_peak_year")

#: Paths each projection returns, with units in the names.
PATHS = ("gdp_const_10k_yuan", "energy_tce", "controlled_tce", "nonfossil_tce",
         "nonfossil_electricity_tce", "feedstock_tce", "electricity_tce", "co2_t",
         "grid_factor_t_per_mwh")


@dataclass(frozen=True)
class Param:
    """One scenario number: a central value and, if uncertain, its distribution."""

    value: float
    dist: str = "fixed"
    sd: float = 0.0
    low: float = 0.0
    high: float = 0.0

    def draw(self, n: int, rng: np.random.Generator | None) -> np.ndarray:
        """Return ``n`` draws (the central value ``n`` times when ``rng`` is None)."""
        if rng is None or self.dist == "fixed":
            return np.full(n, self.value)
        if self.dist == "normal":
            return rng.normal(self.value, self.sd, n)
        if self.dist == "uniform":
            return rng.uniform(self.low, self.high, n)
        if self.low == self.high:
            rng.random(n)  # keep the stream aligned with the non-degenerate case
            return np.full(n, self.value)
        return rng.triangular(self.low, self.value, self.high, n)


Anchors = dict[int, Param]
Segments = list[tuple[int, int, Param]]


@dataclass
class Sector:
    """A sector of the economy in a scenario."""

    name: str
    share: Anchors
    intensity_index: float
    intensity_decline: Segments


@dataclass
class RegionSpec:
    """Parameters of one region (or league) of a scenario."""

    name: str
    gdp_base_10k_yuan: Param
    energy_base_tce: Param
    gdp_growth: Segments
    sectors: list[Sector]
    electricity_share: Anchors
    nonfossil_generation_share: Anchors
    fossil_grid_factor_t_per_mwh: Param
    direct_nonfossil_share: Anchors
    feedstock_share: Anchors
    direct_co2_factor_t_per_tce: Param
    ccs_t: Anchors


@dataclass
class Scenario:
    """A scenario read from YAML: regions, history, targets, provenance."""

    name: str
    base_year: int
    end_year: int
    regions: list[RegionSpec]
    electricity_tce_per_kwh: float
    region_code: str = ""
    history: pd.DataFrame = field(default_factory=pd.DataFrame)
    targets: list[dict[str, Any]] = field(default_factory=list)
    file: str | None = None

    @property
    def years(self) -> np.ndarray:
        """Projection years, base year first [year]."""
        return np.arange(self.base_year, self.end_year + 1)


# -- reading -----------------------------------------------------------------------

class _Reader:
    """Collects every problem of a scenario mapping instead of stopping at the first."""

    def __init__(self, file: str | None) -> None:
        self.file = file
        self.problems: list[Problem] = []

    def fail(self, where: str, message: str, value: Any = None,
             accepted: tuple[str, ...] | list[str] = ()) -> None:
        self.problems.append(Problem(message, file=self.file, field=where, value=value,
                                     accepted=list(accepted)))

    def number(self, raw: Any, where: str) -> float:
        if isinstance(raw, bool) or not isinstance(raw, int | float):
            self.fail(where, "must be a number", raw)
            return 0.0
        return float(raw)

    def param(self, raw: Any, where: str) -> Param:
        if not isinstance(raw, Mapping):
            return Param(self.number(raw, where))
        dist = str(raw.get("dist", "fixed"))
        if dist not in DISTRIBUTIONS:
            self.fail(f"{where}.dist", "unknown distribution", dist, tuple(DISTRIBUTIONS))
            return Param(0.0)
        for key in DISTRIBUTIONS[dist]:
            if key not in raw:
                self.fail(f"{where}.{key}", f"required for dist {dist}")
        value = self.number(raw.get("value", 0.0), f"{where}.value")
        sd = self.number(raw.get("sd", 0.0), f"{where}.sd")
        low = self.number(raw.get("low", value), f"{where}.low")
        high = self.number(raw.get("high", value), f"{where}.high")
        if sd < 0 or not low <= value <= high:
            self.fail(where, "needs sd >= 0 and low <= value <= high", dict(raw))
        return Param(value, dist, sd, low, high)

    def anchors(self, raw: Any, where: str) -> Anchors:
        if isinstance(raw, int | float) and not isinstance(raw, bool):
            return {0: Param(float(raw))}
        if not isinstance(raw, Mapping) or not raw:
            self.fail(where, "must be a number or a mapping year -> value", raw)
            return {0: Param(0.0)}
        out: Anchors = {}
        for year, value in raw.items():
            if not isinstance(year, int):
                self.fail(where, "anchor years must be integers", year)
                continue
            out[year] = self.param(value, f"{where}.{year}")
        return dict(sorted(out.items()))

    def segments(self, raw: Any, where: str) -> Segments:
        if not isinstance(raw, list):
            self.fail(where, "must be a list of {from, to, rate}", raw)
            return []
        out: Segments = []
        for i, seg in enumerate(raw):
            here = f"{where}[{i}]"
            if not isinstance(seg, Mapping) or not {"from", "to", "rate"} <= set(seg):
                self.fail(here, "needs keys from, to, rate", seg)
                continue
            out.append((int(seg["from"]), int(seg["to"]), self.param(seg["rate"],
                                                                       f"{here}.rate")))
        return out


_REGION_KEYS = ("gdp_base_10k_yuan", "energy_base_tce", "gdp_growth", "sectors",
                "electricity_share", "nonfossil_generation_share",
                "fossil_grid_factor_t_per_mwh", "direct_nonfossil_share",
                "feedstock_share", "direct_co2_factor_t_per_tce")


def _region(reader: _Reader, raw: Mapping[str, Any], where: str) -> RegionSpec:
    for key in _REGION_KEYS:
        if key not in raw:
            reader.fail(f"{where}.{key}", "is missing (give it here or in defaults)")
    sectors = []
    for i, sec in enumerate(raw.get("sectors") or []):
        here = f"{where}.sectors[{i}]"
        if not isinstance(sec, Mapping) or "name" not in sec:
            reader.fail(here, "needs name, share, intensity_index, intensity_decline", sec)
            continue
        sectors.append(Sector(
            name=str(sec["name"]),
            share=reader.anchors(sec.get("share"), f"{here}.share"),
            intensity_index=reader.number(sec.get("intensity_index", 1.0),
                                          f"{here}.intensity_index"),
            intensity_decline=reader.segments(sec.get("intensity_decline", []),
                                              f"{here}.intensity_decline"),
        ))
    if not sectors:
        reader.fail(f"{where}.sectors", "at least one sector is needed")
    return RegionSpec(
        name=str(raw.get("name", "region")),
        gdp_base_10k_yuan=reader.param(raw.get("gdp_base_10k_yuan", 0.0),
                                       f"{where}.gdp_base_10k_yuan"),
        energy_base_tce=reader.param(raw.get("energy_base_tce", 0.0),
                                     f"{where}.energy_base_tce"),
        gdp_growth=reader.segments(raw.get("gdp_growth", []), f"{where}.gdp_growth"),
        sectors=sectors,
        electricity_share=reader.anchors(raw.get("electricity_share", 0.0),
                                         f"{where}.electricity_share"),
        nonfossil_generation_share=reader.anchors(
            raw.get("nonfossil_generation_share", 0.0),
            f"{where}.nonfossil_generation_share"),
        fossil_grid_factor_t_per_mwh=reader.param(
            raw.get("fossil_grid_factor_t_per_mwh", 0.0),
            f"{where}.fossil_grid_factor_t_per_mwh"),
        direct_nonfossil_share=reader.anchors(raw.get("direct_nonfossil_share", 0.0),
                                              f"{where}.direct_nonfossil_share"),
        feedstock_share=reader.anchors(raw.get("feedstock_share", 0.0),
                                       f"{where}.feedstock_share"),
        direct_co2_factor_t_per_tce=reader.param(
            raw.get("direct_co2_factor_t_per_tce", 0.0),
            f"{where}.direct_co2_factor_t_per_tce"),
        ccs_t=reader.anchors(raw.get("ccs_t", 0.0), f"{where}.ccs_t"),
    )


def electricity_tce_per_kwh() -> float:
    """Return the calorific-equivalent coefficient of electricity [tce/kWh].

    References
    ----------
    GB/T 2589-2020, Appendix A (0.1229 kgce/kWh), via the ``carriers`` table.
    """
    from dualcontrol.reference import carriers

    return float(carriers()["electricity"].tce_per_unit)


def scenario_from_mapping(raw: Mapping[str, Any], *, file: str | None = None) -> Scenario:
    """Return a :class:`Scenario` from its parsed YAML mapping, validated.

    Raises
    ------
    InputError
        Every missing or malformed entry, with its path in the file.
    """
    reader = _Reader(file)
    if not isinstance(raw, Mapping):
        raise InputError("a scenario file must be a mapping", file=file)
    for key in ("name", "base_year", "end_year", "regions"):
        if key not in raw:
            reader.fail(key, "is missing")
    defaults = raw.get("defaults") or {}
    regions = []
    for i, reg in enumerate(raw.get("regions") or []):
        merged = {**defaults, **(reg if isinstance(reg, Mapping) else {})}
        regions.append(_region(reader, merged, f"regions[{i}]"))
    base, end = int(raw.get("base_year", 0)), int(raw.get("end_year", 0))
    if end <= base:
        reader.fail("end_year", "must be after base_year", end)
    targets = list(raw.get("targets") or [])
    for i, target in enumerate(targets):
        if not isinstance(target, Mapping):
            reader.fail(f"targets[{i}]", "must be a mapping", target)
            continue
        if target.get("indicator") not in INDICATORS:
            reader.fail(f"targets[{i}].indicator", "unknown indicator",
                        target.get("indicator"), INDICATORS)
        if not target.get("source"):
            reader.fail(f"targets[{i}].source", "every target needs its source")
    history = pd.DataFrame(raw.get("history") or [])
    if reader.problems:
        raise InputError(reader.problems)
    return Scenario(name=str(raw["name"]), base_year=base, end_year=end, regions=regions,
                    electricity_tce_per_kwh=float(raw.get("electricity_tce_per_kwh",
                                                          electricity_tce_per_kwh())),
                    region_code=str(raw.get("region_code", "")), history=history,
                    targets=targets, file=file)


def load_scenario(path: str | Path) -> Scenario:
    """Return the scenario in a YAML file (see ``examples/scenarios``)."""
    path = Path(path)
    if not path.exists():
        raise InputError("scenario file not found", file=str(path))
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise InputError(f"not valid YAML: {exc}", file=str(path)) from None
    return scenario_from_mapping(raw, file=str(path))


# -- drawing parameters ----------------------------------------------------------------

@dataclass
class RegionDraws:
    """Drawn parameter values of one region: arrays of shape (draws,) or (draws, years)."""

    gdp_base: np.ndarray
    energy_base: np.ndarray
    growth: np.ndarray
    shares: np.ndarray          # (sectors, draws, years)
    intensity_index: np.ndarray  # (sectors,)
    decline: np.ndarray         # (sectors, draws, years)
    electricity_share: np.ndarray
    nonfossil_generation_share: np.ndarray
    fossil_grid_factor: np.ndarray
    direct_nonfossil_share: np.ndarray
    feedstock_share: np.ndarray
    direct_co2_factor: np.ndarray
    ccs_t: np.ndarray


def _segments(segs: Segments, years: np.ndarray, n: int,
              rng: np.random.Generator | None) -> np.ndarray:
    out = np.zeros((n, len(years)))
    for start, stop, param in segs:
        mask = (years >= start) & (years <= stop) & (years > years[0])
        out[:, mask] = param.draw(n, rng)[:, None]
    return out


def _anchors(anchors: Anchors, years: np.ndarray, n: int,
             rng: np.random.Generator | None) -> np.ndarray:
    points = np.array(list(anchors), dtype=float)
    values = np.stack([p.draw(n, rng) for p in anchors.values()], axis=1)  # (n, A)
    # linear interpolation between anchor years, flat outside, as a weight matrix
    weights = np.stack([np.interp(years, points, np.eye(len(points))[a])
                        for a in range(len(points))])  # (A, Y)
    return values @ weights


def draw_region(spec: RegionSpec, years: np.ndarray, n: int,
                rng: np.random.Generator | None) -> RegionDraws:
    """Return ``n`` draws of a region's parameters (central values when rng is None)."""
    return RegionDraws(
        gdp_base=spec.gdp_base_10k_yuan.draw(n, rng),
        energy_base=spec.energy_base_tce.draw(n, rng),
        growth=_segments(spec.gdp_growth, years, n, rng),
        shares=np.stack([_anchors(s.share, years, n, rng) for s in spec.sectors]),
        intensity_index=np.array([s.intensity_index for s in spec.sectors]),
        decline=np.stack([_segments(s.intensity_decline, years, n, rng)
                          for s in spec.sectors]),
        electricity_share=_anchors(spec.electricity_share, years, n, rng),
        nonfossil_generation_share=_anchors(spec.nonfossil_generation_share, years, n,
                                            rng),
        fossil_grid_factor=spec.fossil_grid_factor_t_per_mwh.draw(n, rng),
        direct_nonfossil_share=_anchors(spec.direct_nonfossil_share, years, n, rng),
        feedstock_share=_anchors(spec.feedstock_share, years, n, rng),
        direct_co2_factor=spec.direct_co2_factor_t_per_tce.draw(n, rng),
        ccs_t=_anchors(spec.ccs_t, years, n, rng),
    )


# -- the model ---------------------------------------------------------------------

def energy_accounts(energy_tce: np.ndarray, *, electricity_share: np.ndarray,
                    nonfossil_generation_share: np.ndarray,
                    fossil_grid_factor_t_per_mwh: np.ndarray,
                    direct_nonfossil_share: np.ndarray, feedstock_share: np.ndarray,
                    direct_co2_factor_t_per_tce: np.ndarray, ccs_t: np.ndarray,
                    tce_per_kwh: float) -> dict[str, np.ndarray]:
    """Return controlled energy, non-fossil, feedstock, grid factor and CO2 of a total.

    Parameters
    ----------
    energy_tce : numpy.ndarray
        Total energy consumption [tce].
    electricity_share : numpy.ndarray
        Electricity in final energy, at the calorific equivalent [-].
    nonfossil_generation_share : numpy.ndarray
        Non-fossil share of the electricity consumed [-].
    fossil_grid_factor_t_per_mwh : numpy.ndarray
        CO2 factor of fossil generation [t CO2/MWh].
    direct_nonfossil_share, feedstock_share : numpy.ndarray
        Non-fossil share of direct (non-electric) use, and feedstock share of direct
        fossil use [-].
    direct_co2_factor_t_per_tce : numpy.ndarray
        CO2 factor of direct fossil combustion [t CO2/tce].
    ccs_t : numpy.ndarray
        CO2 captured and stored [t], at most the direct emissions.
    tce_per_kwh : float
        Electricity coefficient [tce/kWh].

    Returns
    -------
    dict of numpy.ndarray
        ``controlled_tce``, ``electricity_tce``, ``nonfossil_tce``,
        ``nonfossil_electricity_tce`` (at the calorific value), ``feedstock_tce`` [tce],
        ``grid_factor_t_per_mwh`` [t/MWh], ``co2_t`` [t]; broadcast shapes.

    References
    ----------
    发改环资〔2022〕803号 (feedstock); NDRC/NBS/NEA notice of 2024-02-02 (non-fossil);
    MEE/NBS 2022 grid factors (fossil-only 0.8325 kg/kWh national).
    """
    electricity = energy_tce * electricity_share
    direct = energy_tce - electricity
    direct_nonfossil = direct * direct_nonfossil_share
    feedstock = (direct - direct_nonfossil) * feedstock_share
    grid = fossil_grid_factor_t_per_mwh * (1.0 - nonfossil_generation_share)
    co2_direct = (direct - direct_nonfossil - feedstock) * direct_co2_factor_t_per_tce
    co2_electricity = electricity / tce_per_kwh / 1000.0 * grid
    nonfossil = electricity * nonfossil_generation_share + direct_nonfossil
    return {
        "controlled_tce": energy_tce - nonfossil - feedstock,
        "electricity_tce": electricity,
        "nonfossil_tce": nonfossil,
        "nonfossil_electricity_tce": electricity * nonfossil_generation_share,
        "feedstock_tce": feedstock,
        "grid_factor_t_per_mwh": grid,
        "co2_t": co2_direct + co2_electricity - np.minimum(ccs_t, co2_direct),
    }


def project_region(d: RegionDraws, tce_per_kwh: float) -> dict[str, np.ndarray]:
    """Return a region's yearly paths for every draw (vectorised).

    Parameters
    ----------
    d : RegionDraws
        Drawn parameters, arrays of shape (draws,) or (draws, years).
    tce_per_kwh : float
        Electricity coefficient [tce/kWh].

    Returns
    -------
    dict of numpy.ndarray
        Each of :data:`PATHS`, shape (draws, years), units as in the names.
    """
    gdp = d.gdp_base[:, None] * np.cumprod(1.0 + d.growth, axis=1)
    shares = d.shares / d.shares.sum(axis=0)
    intensity = np.cumprod(1.0 - d.decline, axis=2)
    mix = np.einsum("s,sny->ny", d.intensity_index, shares * intensity)
    energy = d.energy_base[:, None] * (gdp / d.gdp_base[:, None]) * mix / mix[:, :1]
    out = energy_accounts(
        energy, electricity_share=d.electricity_share,
        nonfossil_generation_share=d.nonfossil_generation_share,
        fossil_grid_factor_t_per_mwh=d.fossil_grid_factor[:, None],
        direct_nonfossil_share=d.direct_nonfossil_share,
        feedstock_share=d.feedstock_share,
        direct_co2_factor_t_per_tce=d.direct_co2_factor[:, None], ccs_t=d.ccs_t,
        tce_per_kwh=tce_per_kwh)
    return {"gdp_const_10k_yuan": gdp, "energy_tce": energy, **out}


def project_region_loop(d: RegionDraws, tce_per_kwh: float) -> dict[str, np.ndarray]:
    """Return the same as :func:`project_region`, one draw and year at a time.

    A plain-Python reference for checking and timing the vectorised code; it uses
    only float arithmetic on the drawn parameters.
    """
    n, n_years = d.growth.shape
    n_sec = len(d.intensity_index)
    out = {name: np.zeros((n, n_years)) for name in PATHS}
    for j in range(n):
        gdp = float(d.gdp_base[j])
        rel = [1.0] * n_sec
        mix0 = 0.0
        for t in range(n_years):
            gdp *= 1.0 + float(d.growth[j, t])
            total_share = sum(float(d.shares[s, j, t]) for s in range(n_sec))
            mix = 0.0
            for s in range(n_sec):
                rel[s] *= 1.0 - float(d.decline[s, j, t])
                mix += (float(d.intensity_index[s]) * float(d.shares[s, j, t])
                        / total_share * rel[s])
            if t == 0:
                mix0 = mix
            energy = float(d.energy_base[j]) * gdp / float(d.gdp_base[j]) * mix / mix0
            elec = energy * float(d.electricity_share[j, t])
            direct = energy - elec
            dnf = direct * float(d.direct_nonfossil_share[j, t])
            feed = (direct - dnf) * float(d.feedstock_share[j, t])
            ngs = float(d.nonfossil_generation_share[j, t])
            grid = float(d.fossil_grid_factor[j]) * (1.0 - ngs)
            co2_direct = (direct - dnf - feed) * float(d.direct_co2_factor[j])
            co2 = (co2_direct + elec / tce_per_kwh / 1000.0 * grid
                   - min(float(d.ccs_t[j, t]), co2_direct))
            nonfossil = elec * ngs + dnf
            values = {"gdp_const_10k_yuan": gdp, "energy_tce": energy,
                      "controlled_tce": energy - nonfossil - feed,
                      "nonfossil_tce": nonfossil, "feedstock_tce": feed,
                      "nonfossil_electricity_tce": elec * ngs,
                      "electricity_tce": elec, "co2_t": co2,
                      "grid_factor_t_per_mwh": grid}
            for name, value in values.items():
                out[name][j, t] = value
    return out


def peak(path: np.ndarray, years: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return the peak year, peak level and whether the path has peaked, per draw.

    Parameters
    ----------
    path : numpy.ndarray
        Values, shape (..., years) [any unit].
    years : numpy.ndarray
        The years [year].

    Returns
    -------
    tuple of numpy.ndarray
        Year of the (first) maximum [year], the maximum [unit of path], and True where
        the maximum is before the last year (False: still rising or flat to the end).
    """
    idx = np.argmax(path, axis=-1)
    level = np.take_along_axis(path, idx[..., None], axis=-1)[..., 0]
    peaked = (idx < path.shape[-1] - 1) & (path[..., -1] < level)
    return years[idx], level, peaked


# -- measures as wedges ------------------------------------------------------------

@dataclass(frozen=True)
class MeasureEffect:
    """One measure's yearly saving as the outlook counts it (a part of a wedge).

    Parameters
    ----------
    group : str
        The wedge the measure belongs to (measures of one group add up).
    year : int
        First year of the full effect [year]: the year after the deadline (or the
        completion), so a measure finished in 2026 lowers 2027 on.
    energy_tce : float
        Energy saved a year once delivered [tce/a]; it is fossil (controlled) energy, so
        it lowers the total and the controlled energy alike.
    co2_t : float
        CO2 avoided a year once delivered [t CO2/a].
    probability : float
        Probability that the measure is delivered at all [-] (Monte Carlo only).
    delay_years : int
        Longest delay [a]; each draw delays by a whole number of years drawn uniformly
        in 0..delay_years (Monte Carlo only).
    """

    group: str
    year: int
    energy_tce: float
    co2_t: float
    probability: float = 1.0
    delay_years: int = 0


def measure_cuts(measures: Sequence[MeasureEffect], years: np.ndarray, n: int,
                 rng: np.random.Generator | None) -> dict[str, np.ndarray]:
    """Return each group's yearly cut of energy and CO2, per draw.

    Without ``rng`` every measure is delivered as planned (the central path); with it,
    each draw delivers a measure with its probability and after its drawn delay.

    Returns
    -------
    dict of numpy.ndarray
        Group -> array of shape (2, draws, years): energy [tce] and CO2 [t] saved.
    """
    out: dict[str, np.ndarray] = {}
    for m in measures:
        if rng is None:
            delivered = np.ones(n, dtype=bool)
            delay = np.zeros(n, dtype=int)
        else:
            delivered = rng.random(n) < m.probability
            delay = rng.integers(0, m.delay_years + 1, n)
        on = (years[None, :] >= (m.year + delay)[:, None]) & delivered[:, None]
        cut = out.setdefault(m.group, np.zeros((2, n, len(years))))
        cut[0] += on * m.energy_tce
        cut[1] += on * m.co2_t
    return out


def _apply_cuts(paths: dict[str, np.ndarray], cuts: Mapping[str, np.ndarray],
                ) -> dict[str, np.ndarray]:
    """Return the total's paths less the measures' cuts (energy, controlled, CO2)."""
    energy = sum(c[0] for c in cuts.values())
    co2 = sum(c[1] for c in cuts.values())
    return {**paths, "energy_tce": paths["energy_tce"] - energy,
            "controlled_tce": paths["controlled_tce"] - energy,
            "co2_t": paths["co2_t"] - co2}


def central_wedges(scenario: Scenario, measures: Sequence[MeasureEffect]) -> pd.DataFrame:
    """Return each wedge's energy and CO2 saving per year, measures delivered as planned.

    Returns
    -------
    pandas.DataFrame
        ``group``, ``year``, ``energy_tce`` [tce], ``co2_t`` [t CO2].
    """
    years = scenario.years
    frames = [pd.DataFrame({"group": group, "year": years, "energy_tce": cut[0, 0],
                            "co2_t": cut[1, 0]})
              for group, cut in measure_cuts(measures, years, 1, None).items()]
    if not frames:
        return pd.DataFrame(columns=["group", "year", "energy_tce", "co2_t"])
    return pd.concat(frames, ignore_index=True)


# -- running a scenario ------------------------------------------------------------

@dataclass
class Outlook:
    """Central paths and, if drawn, Monte Carlo draws of a scenario.

    ``central`` is a long table (region, year, paths and intensities), the region
    ``total`` being the sum over regions. ``draws`` holds the totals' paths of every
    draw, shape (draws, years); ``peaks`` the peak year of CO2 and energy per draw
    and region.
    """

    scenario: Scenario
    central: pd.DataFrame
    draws: dict[str, np.ndarray] = field(default_factory=dict)
    peaks: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
    seed: int | None = None
    measures: tuple[MeasureEffect, ...] = ()
    wedges: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def n_draws(self) -> int:
        """Number of Monte Carlo draws (0 when only the central path was run)."""
        return len(next(iter(self.draws.values()))) if self.draws else 0


def _with_intensities(frame: pd.DataFrame) -> pd.DataFrame:
    """Add the intensities and the non-fossil share, valued as the statistics value it
    (:func:`nonfossil_share_official`, coal equivalent of each year)."""
    gdp = frame["gdp_const_10k_yuan"]
    years = frame["year"].astype(int)
    factor = years.map({y: coal_equivalent_tce_per_kwh(y)[0] for y in years.unique()})
    return frame.assign(
        intensity_tce_per_10k_yuan=frame["energy_tce"] / gdp,
        controlled_intensity_tce_per_10k_yuan=frame["controlled_tce"] / gdp,
        co2_intensity_t_per_10k_yuan=frame["co2_t"] / gdp,
        nonfossil_share=nonfossil_share_official(
            energy_tce=frame["energy_tce"], nonfossil_tce=frame["nonfossil_tce"],
            nonfossil_electricity_tce=frame["nonfossil_electricity_tce"],
            tce_per_kwh=electricity_tce_per_kwh(),
            coal_equivalent_tce_per_kwh=factor.to_numpy()),
    )


def project(scenario: Scenario, *, n: int = 1, rng: np.random.Generator | None = None,
            loop: bool = False, measures: Sequence[MeasureEffect] = (),
            ) -> dict[str, dict[str, np.ndarray]]:
    """Return paths per region and for the total, shape (n, years) each.

    With ``rng`` None the central values are used (n copies); ``loop`` selects the
    plain-Python reference instead of the vectorised code. ``measures`` lower the
    total's energy, controlled energy and CO2 (:func:`measure_cuts`; drawn after the
    regions' parameters, so without measures the draws are those of before).
    """
    years = scenario.years
    engine = project_region_loop if loop else project_region
    out: dict[str, dict[str, np.ndarray]] = {}
    for spec in scenario.regions:
        d = draw_region(spec, years, n, rng)
        out[spec.name] = engine(d, scenario.electricity_tce_per_kwh)
    total = {k: sum(paths[k] for paths in out.values()) for k in PATHS
             if k != "grid_factor_t_per_mwh"}
    # grid factor of the sum, weighted by electricity consumed
    weighted = [paths["grid_factor_t_per_mwh"] * paths["electricity_tce"]
                for paths in out.values()]
    with np.errstate(invalid="ignore", divide="ignore"):
        total["grid_factor_t_per_mwh"] = sum(weighted) / total["electricity_tce"]
    if len(out) == 1:  # one region: it is the total
        out = {"total": next(iter(out.values()))}
    else:
        out["total"] = total
    if measures:
        out["total"] = _apply_cuts(out["total"], measure_cuts(measures, years, n, rng))
    return out


def central_paths(scenario: Scenario, measures: Sequence[MeasureEffect] = (),
                  ) -> pd.DataFrame:
    """Return the central (deterministic) path of every region and the total."""
    paths = project(scenario, measures=measures)
    frames = []
    for region, values in paths.items():
        frame = pd.DataFrame({k: v[0] for k, v in values.items()})
        frame.insert(0, "year", scenario.years)
        frame.insert(0, "region", region)
        frames.append(frame)
    return _with_intensities(pd.concat(frames, ignore_index=True))


def run(scenario: Scenario, *, draws: int = 0, seed: int = 0,
        chunk: int = 2000, measures: Sequence[MeasureEffect] = ()) -> Outlook:
    """Return the central path and ``draws`` Monte Carlo draws of a scenario.

    Parameters
    ----------
    scenario : Scenario
        The scenario.
    draws : int
        Number of draws; 0 for the central path only.
    seed : int
        Seed of NumPy's default generator (PCG64); same seed, same result.
    chunk : int
        Draws computed at once, to bound memory (does not change the result for a
        given ``chunk``).
    measures : sequence of MeasureEffect
        Measures cutting the total as wedges (none: the outlook of before, unchanged).

    Returns
    -------
    Outlook
        Central table, draws of the totals, peak years per draw and region, and the
        central wedges.
    """
    measures = tuple(measures)
    central = central_paths(scenario, measures)
    wedges = central_wedges(scenario, measures)
    if draws <= 0:
        return Outlook(scenario, central, measures=measures, wedges=wedges)
    rng = np.random.default_rng(seed)
    years = scenario.years
    parts: dict[str, list[np.ndarray]] = {k: [] for k in PATHS}
    peak_parts: dict[str, dict[str, list[np.ndarray]]] = {}
    for start in range(0, draws, chunk):
        n = min(chunk, draws - start)
        paths = project(scenario, n=n, rng=rng, measures=measures)
        for k in PATHS:
            parts[k].append(paths["total"][k])
        for region, values in paths.items():
            slot = peak_parts.setdefault(region, {"co2": [], "energy": [],
                                                  "co2_peaked": [], "energy_peaked": []})
            for name, col in (("co2", "co2_t"), ("energy", "energy_tce")):
                year, _level, peaked = peak(values[col], years)
                slot[name].append(year)
                slot[f"{name}_peaked"].append(peaked)
    logger.info("ran %d draws of %s (seed %d)", draws, scenario.name, seed)
    return Outlook(
        scenario, central,
        draws={k: np.concatenate(v) for k, v in parts.items()},
        peaks={r: {k: np.concatenate(v) for k, v in s.items()}
               for r, s in peak_parts.items()},
        seed=seed, measures=measures, wedges=wedges,
    )


#: What the first year of a path being its maximum means: the path falls from the
#: scenario's start, so its peak lies in the history (or is that year), not ahead.
PEAK_STATUSES: tuple[str, ...] = ("already_declining", "peaked", "not_peaked")


def peak_status(path: np.ndarray) -> str:
    """Return ``already_declining`` (the maximum is the first year and the path falls
    after it), ``peaked`` (a maximum inside the horizon, lower at the end) or
    ``not_peaked`` (still rising or flat at the end)."""
    idx = int(np.argmax(path))
    if idx == len(path) - 1 or path[-1] >= path[idx]:
        return "not_peaked"
    return "already_declining" if idx == 0 else "peaked"


def peak_summary(outlook: Outlook) -> pd.DataFrame:
    """Return peak year and level of CO2 and energy per region, with MC percentiles.

    ``peak_status`` says whether the peak lies ahead (``peaked``), the path already
    falls from the first year (``already_declining``: the first year is not reported
    as the peak year, which is left empty) or has not peaked by the end.
    """
    rows = []
    years = outlook.scenario.years
    for region, frame in outlook.central.groupby("region", sort=False):
        for name, col in (("co2", "co2_t"), ("energy", "energy_tce")):
            values = frame[col].to_numpy()
            year, level, peaked = peak(values, years)
            status = peak_status(values)
            row: dict[str, Any] = {
                "region": region, "quantity": col,
                "peak_year": None if status == "already_declining" else int(year),
                "peak_level": float(level), "peaked_by_end": bool(peaked),
                "peak_status": status}
            if outlook.peaks:
                drawn = outlook.peaks[str(region)]
                ok = drawn[f"{name}_peaked"]
                row["p_peaked_by_end"] = float(ok.mean())
                for q in (5, 50, 95):
                    # draws that never peak count as after the end year
                    y = np.where(ok, drawn[name], outlook.scenario.end_year + 1)
                    row[f"peak_year_p{q}"] = float(np.percentile(y, q, method="lower"))
            rows.append(row)
    out = pd.DataFrame(rows)
    # whole years, and None where the path already declines (not a float NaN)
    out["peak_year"] = pd.Series([r["peak_year"] for r in rows], dtype=object)
    return out


def peak_year_distribution(outlook: Outlook, *, region: str = "total",
                           quantity: str = "co2") -> pd.DataFrame:
    """Return the share of draws peaking in each year (and not by the end year)."""
    drawn = outlook.peaks[region]
    years = np.where(drawn[f"{quantity}_peaked"], drawn[quantity], -1)
    values, counts = np.unique(years, return_counts=True)
    labels = [str(v) if v > 0 else f"not by {outlook.scenario.end_year}" for v in values]
    return pd.DataFrame({"peak_year": labels, "draws": counts,
                         "share": counts / counts.sum()})


# -- targets -----------------------------------------------------------------------

def _history_accounts(scenario: Scenario) -> pd.DataFrame:
    """Return history rows with controlled energy and CO2 computed as in the model."""
    if scenario.history.empty:
        return pd.DataFrame()
    h = scenario.history
    spec = scenario.regions[0]
    need = ["year", "gdp_const_10k_yuan", "energy_tce"]
    missing = [c for c in need if c not in h.columns]
    if missing:
        raise InputError([Problem("history column is missing", file=scenario.file,
                                  field=f"history.{c}") for c in missing])

    def col(name: str, default: float) -> np.ndarray:
        if name in h.columns:
            return h[name].fillna(default).to_numpy(dtype=float)
        return np.full(len(h), default)

    acc = energy_accounts(
        h["energy_tce"].to_numpy(dtype=float),
        electricity_share=col("electricity_share", 0.0),
        nonfossil_generation_share=col("nonfossil_generation_share", 0.0),
        fossil_grid_factor_t_per_mwh=col("fossil_grid_factor_t_per_mwh",
                                         spec.fossil_grid_factor_t_per_mwh.value),
        direct_nonfossil_share=col("direct_nonfossil_share", 0.0),
        feedstock_share=col("feedstock_share", 0.0),
        direct_co2_factor_t_per_tce=col("direct_co2_factor_t_per_tce",
                                        spec.direct_co2_factor_t_per_tce.value),
        ccs_t=col("ccs_t", 0.0), tce_per_kwh=scenario.electricity_tce_per_kwh)
    frame = pd.DataFrame({"year": h["year"].astype(int),
                          "gdp_const_10k_yuan": h["gdp_const_10k_yuan"].astype(float),
                          "energy_tce": h["energy_tce"].astype(float), **acc})
    return frame


def scenario_targets(scenario: Scenario) -> list[dict[str, Any]]:
    """Return the targets to check: the shared targets table's rows for the scenario's
    region (plans ending before the scenario starts left out), and the scenario file's
    ``targets`` block for the indicators the table lacks."""
    try:
        from dualcontrol.reference import TABLES, load_table
    except ImportError:  # pragma: no cover - reference is part of the package
        return scenario.targets
    if "targets" in TABLES and scenario.region_code:
        table = load_table("targets")
        rows = table[(table["region_code"] == scenario.region_code)
                     & table["indicator"].isin(INDICATORS)]
        if len(rows):
            out = []
            for rec in rows.to_dict("records"):
                rec = dict(rec)
                if not str(rec.get("target_value", "")).strip():
                    continue  # a target not yet published (a row kept with its note)
                for key in ("base_year", "target_year"):
                    rec[key] = int(rec[key]) if str(rec.get(key, "")).strip() else None
                rec["target_value"] = float(rec["target_value"])
                # a plan already over before the scenario starts is not checked here
                if rec["target_year"] is None or rec["target_year"] >= scenario.base_year:
                    out.append(rec)
            # the scenario file supplies the indicators the shared table lacks
            shared = {rec["indicator"] for rec in out}
            return out + [t for t in scenario.targets if t.get("indicator") not in shared]
    return scenario.targets


def _value(indicator: str, target: Mapping[str, Any], paths: Mapping[str, np.ndarray],
           history: pd.DataFrame, years: np.ndarray) -> np.ndarray:
    """Return the indicator per draw; paths are (draws, years) totals."""
    def at(col: str, year: int) -> np.ndarray:
        if year >= years[0]:
            if year > years[-1]:
                raise InputError("target year after the scenario's end year",
                                 field="target_year", value=year)
            return paths[col][:, year - years[0]]
        rows = history[history["year"] == year] if len(history) else history
        if not len(rows):
            raise InputError(f"no history row for {year}, needed by a {indicator} target",
                             field="history", value=year)
        return np.full(len(paths[col]), float(rows[col].iloc[0]))

    if indicator in ("co2_peak_year", "energy_peak_year"):
        col = "co2_t" if indicator == "co2_peak_year" else "energy_tce"
        year, _level, peaked = peak(paths[col], years)
        return np.where(peaked, year, np.inf)
    t_year = int(target["target_year"])
    if indicator == "nonfossil_share":
        return nonfossil_share_official(
            energy_tce=at("energy_tce", t_year), nonfossil_tce=at("nonfossil_tce", t_year),
            nonfossil_electricity_tce=at("nonfossil_electricity_tce", t_year),
            tce_per_kwh=electricity_tce_per_kwh(),
            coal_equivalent_tce_per_kwh=coal_equivalent_tce_per_kwh(t_year)[0])
    col = "controlled_tce" if indicator == "energy_intensity_reduction" else "co2_t"
    b_year = int(target["base_year"])
    ratio = ((at(col, t_year) / at("gdp_const_10k_yuan", t_year))
             / (at(col, b_year) / at("gdp_const_10k_yuan", b_year)))
    return 1.0 - ratio


def valuation_rule(indicator: str) -> pd.Series:
    """Return the rule (``electricity_valuation_rules.csv``) valuing electricity for an
    indicator, e.g. the coal-equivalent basis of the non-fossil share."""
    from dualcontrol.reference import load_table

    table = load_table("electricity-valuation-rules")
    rows = table[table["indicator"] == indicator]
    if rows.empty:
        raise InputError(Problem("no electricity valuation rule for the indicator",
                                 field="indicator", value=indicator,
                                 accepted=sorted(table["indicator"])))
    return rows.iloc[0]


def coal_equivalent_tce_per_kwh(year: int) -> tuple[float, int]:
    """Return the coal equivalent of a kWh of non-fossil power in ``year`` [tce/kWh] and
    the year of the coefficient: the supply coal consumption of thermal power of that
    year, or of the latest published year before it (a projection has none of its own).
    """
    from dualcontrol.reference import load_table

    table = load_table("supply-coal-consumption")
    years = table["year"].astype(int)
    published = years[years <= year]
    used = int(published.max()) if len(published) else int(years.min())
    value = float(table.loc[years == used, "gce_per_kwh"].iloc[0])
    return value / 1e6, used


def nonfossil_share_official(*, energy_tce: Any, nonfossil_tce: Any,
                             nonfossil_electricity_tce: Any, tce_per_kwh: float,
                             coal_equivalent_tce_per_kwh: float) -> Any:
    """Return the non-fossil share of energy as the official statistics count it [-].

    Non-fossil electricity is valued at the coal thermal power would have burnt for it
    (NBS; ``electricity_valuation_rules.csv``), in the numerator and in the total:
    ``(N_e * c + N_d) / (E - N_e * q + N_e * c)`` with ``N_e`` the non-fossil
    electricity [kWh], ``q`` its calorific value and ``c`` its coal equivalent
    [tce/kWh], ``N_d`` direct non-fossil use and ``E`` the total [tce, calorific].

    Parameters
    ----------
    energy_tce, nonfossil_tce, nonfossil_electricity_tce :
        Totals at the calorific value [tce] (arrays broadcast).
    tce_per_kwh, coal_equivalent_tce_per_kwh : float
        Calorific value and coal equivalent of a kWh [tce/kWh].
    """
    kwh = np.asarray(nonfossil_electricity_tce) / tce_per_kwh
    direct = np.asarray(nonfossil_tce) - np.asarray(nonfossil_electricity_tce)
    valued = kwh * coal_equivalent_tce_per_kwh
    total = np.asarray(energy_tce) - np.asarray(nonfossil_electricity_tce) + valued
    return (valued + direct) / total


#: Outlook target indicators the assessment rates, and the assessment's name of each.
ASSESSED: dict[str, str] = {"energy_intensity_reduction": "energy_intensity",
                            "co2_intensity_reduction": "co2_intensity"}


def _assessed_value(assessed: pd.DataFrame | None, region_code: str | None,
                    target: Mapping[str, Any]) -> tuple[float, str] | None:
    """Return the assessment's value of an observed target and where it comes from."""
    indicator = ASSESSED.get(str(target["indicator"]))
    if assessed is None or indicator is None or not region_code:
        return None
    hit = assessed[(assessed["region_code"].astype(str) == str(region_code))
                   & (assessed["indicator"] == indicator)
                   & (assessed["period"].astype(str) == str(target["target_year"]))
                   & (assessed["base_year"] == target.get("base_year"))]
    if hit.empty or pd.isna(hit["value"].iloc[0]):
        return None
    row = hit.iloc[0]
    return float(row["value"]), (f"assessment of {row['period']} (the accounts; "
                                 f"{row['progress_rule']}, {row['exclusions'] or 'no'} "
                                 f"exclusions)")


def assess_observed(scenario: Scenario, accounts: pd.DataFrame) -> pd.DataFrame | None:
    """Return :func:`dualcontrol.assessment.progress` of the region for the scenario's
    target years the accounts already cover (None if none), for :func:`check_targets`.

    ``accounts`` are region accounts as the assessment reads them (e.g.
    :func:`dualcontrol.datasets.assessment_accounts`).
    """
    from dualcontrol.assessment import prepare_accounts, progress

    if accounts.empty:
        return None
    prepared = prepare_accounts(accounts)
    covered = set(prepared["year"])
    years = sorted({int(t["target_year"]) for t in scenario_targets(scenario)
                    if t.get("target_year") and int(t["target_year"]) in covered})
    if not years:
        return None
    return pd.concat([progress(prepared, year=y, level="region") for y in years],
                     ignore_index=True)


def check_targets(outlook: Outlook, *, assessed: pd.DataFrame | None = None) -> pd.DataFrame:
    """Return, per target, the central value, whether it is met and the MC probability.

    Reductions are 1 - I_T / I_B with I = energy / GDP at constant prices, energy
    being the controlled energy (non-fossil and feedstock excluded, as in the 2024
    notice); peak years must be at or before the target and followed by a decline.

    ``assessed`` (rows of :func:`dualcontrol.assessment.progress`): a target already
    observed (its target year in the accounts) takes the assessment's value, so the
    outlook and ``assess`` show one figure; ``value_from`` says which was used.
    ``official`` is False for a target the scenario file supplies itself.
    """
    scenario = outlook.scenario
    history = _history_accounts(scenario)
    years = scenario.years
    total = outlook.central[outlook.central["region"] == "total"]
    central = {k: total[k].to_numpy()[None, :] for k in PATHS}
    rows = []
    checked = scenario_targets(scenario)
    official = {id(t) for t in checked if t not in scenario.targets}
    for target in checked:
        indicator = str(target["indicator"])
        goal = float(target["target_value"])
        observed = _assessed_value(assessed, scenario.region_code, target)
        if observed is not None:
            value, value_from = observed
        else:
            value = float(_value(indicator, target, central, history, years)[0])
            value_from = "scenario model"
        row = {"indicator": indicator, "base_year": target.get("base_year"),
               "target_year": target.get("target_year"), "target_value": goal,
               "value": value if np.isfinite(value) else None,
               "met": _met(indicator, value, goal), "value_from": value_from,
               "official": id(target) in official,
               "source": target.get("source", ""), "basis": _basis(indicator, target)}
        if outlook.draws:
            drawn = (np.full(1, value) if observed is not None
                     else _value(indicator, target, outlook.draws, history, years))
            row["probability_met"] = float(np.mean(_met(indicator, drawn, goal)))
        rows.append(row)
    out = pd.DataFrame(rows)
    for key in ("base_year", "target_year"):
        if key in out:
            out[key] = pd.array(out[key], dtype="Int64")
    return out


def _basis(indicator: str, target: Mapping[str, Any]) -> str:
    """Return how the indicator is valued, naming the rule and coefficient used."""
    if indicator != "nonfossil_share":
        return ""
    rule = valuation_rule(indicator)
    factor, year = coal_equivalent_tce_per_kwh(int(target["target_year"]))
    return (f"{rule['rule_id']}: non-fossil power at {factor * 1e6:.1f} gce/kWh "
            f"(supply coal consumption {year})")


def _met(indicator: str, value: Any, goal: float) -> Any:
    if indicator.endswith("peak_year"):
        return np.asarray(value) <= goal if np.ndim(value) else bool(value <= goal)
    return np.asarray(value) >= goal if np.ndim(value) else bool(value >= goal)


#: Targets whose gap a saving can close, and the quantity that closes it.
GAP_QUANTITIES: dict[str, str] = {"energy_intensity_reduction": "controlled_tce",
                                  "co2_intensity_reduction": "co2_t",
                                  "energy_peak_year": "energy_tce",
                                  "co2_peak_year": "co2_t"}


def _path_at(total: pd.DataFrame, history: pd.DataFrame, col: str, year: int) -> float:
    """Return a central total's value in ``year``, from the path or the history."""
    rows = total[total["year"] == year]
    if len(rows):
        return float(rows[col].iloc[0])
    past = history[history["year"] == year] if len(history) else history
    if not len(past):
        raise InputError(f"no path or history row for {year}", field="target_year",
                         value=year)
    return float(past[col].iloc[0])


def target_gap(indicator: str, target: Mapping[str, Any], total: pd.DataFrame,
               history: pd.DataFrame) -> float:
    """Return the saving still needed in the target year to meet a target [tce or t].

    For an intensity reduction ``r`` from base year B to target year T the allowed
    quantity is ``(1 - r) Q_B / GDP_B * GDP_T``; the gap is what the path's ``Q_T``
    exceeds it by (0 when met). For a peak year T it is the largest rise of the
    quantity after T above its level in T (the cut that keeps the path at or below
    its level in T). Savings count one for one: they do not change GDP.

    Parameters
    ----------
    indicator : str
        One of :data:`GAP_QUANTITIES`.
    target : mapping
        The target row (``target_value``, ``base_year``, ``target_year``).
    total : pandas.DataFrame
        A central path of the total (``year``, ``gdp_const_10k_yuan`` and the quantity).
    history : pandas.DataFrame
        History rows, for a base year before the path.

    Returns
    -------
    float
        Saving still needed [tce for energy, t CO2 for CO2]; NaN if the target year
        lies outside the path.
    """
    col = GAP_QUANTITIES[indicator]
    if indicator.endswith("peak_year"):
        year = int(float(target["target_value"]))
        values = total.set_index("year")[col]
        if year not in values.index:
            return float("nan")
        after = values[values.index > year]
        return max(0.0, float(after.max() - values[year])) if len(after) else 0.0
    t_year, b_year = int(target["target_year"]), int(target["base_year"])
    if t_year not in set(total["year"]):
        return float("nan")
    gdp = "gdp_const_10k_yuan"
    allowed = ((1.0 - float(target["target_value"])) * _path_at(total, history, col, b_year)
               / _path_at(total, history, gdp, b_year) * _path_at(total, history, gdp, t_year))
    return max(0.0, _path_at(total, history, col, t_year) - allowed)


def target_gaps(outlook: Outlook) -> pd.DataFrame:
    """Return, per target, the gap without measures, what they cover and what is left.

    ``gap_without_measures`` and ``still_needed`` are :func:`target_gap` on the
    central path without and with the outlook's measures; ``covered_by_measures`` is
    their difference and ``share_covered`` its share of the gap (None where there is no
    gap). Targets a saving cannot close (the non-fossil share) and intensity targets of
    a year not after the base year are left out.
    """
    scenario = outlook.scenario
    history = _history_accounts(scenario)
    with_measures = outlook.central[outlook.central["region"] == "total"]
    without = (central_paths(scenario) if outlook.measures else outlook.central)
    without = without[without["region"] == "total"]
    rows = []
    for target in scenario_targets(scenario):
        indicator = str(target["indicator"])
        if indicator not in GAP_QUANTITIES or not str(target.get("target_value", "")).strip():
            continue
        if not indicator.endswith("peak_year") and int(target["target_year"]) <= \
                scenario.base_year:
            continue  # a target year in the past: no measure can close its gap now
        gap = target_gap(indicator, target, without, history)
        left = target_gap(indicator, target, with_measures, history)
        covered = gap - left
        col = GAP_QUANTITIES[indicator]
        rows.append({"indicator": indicator, "base_year": target.get("base_year"),
                     "target_year": (int(float(target["target_value"]))
                                     if indicator.endswith("peak_year")
                                     else target.get("target_year")),
                     "target_value": float(target["target_value"]), "quantity": col,
                     "unit": "t CO2" if col == "co2_t" else "tce",
                     "gap_without_measures": gap, "covered_by_measures": covered,
                     "share_covered": (min(1.0, covered / gap) if gap > 0 else None),
                     "still_needed": left, "source": target.get("source", "")})
    out = pd.DataFrame(rows, columns=["indicator", "base_year", "target_year",
                                      "target_value", "quantity", "unit",
                                      "gap_without_measures", "covered_by_measures",
                                      "share_covered", "still_needed", "source"])
    for key in ("base_year", "target_year"):
        out[key] = pd.array(out[key], dtype="Int64")
    return out


def chart_wedges(outlook: Outlook, path: str | Path, *, until: int = 2035,
                 quantity: str = "co2_t") -> Path:
    """Write the wedge chart: the path without measures, each group's wedge below it,
    and the path with them, from the base year to ``until``."""
    from dualcontrol import charts

    total = outlook.central[outlook.central["region"] == "total"]
    keep = total["year"] <= until
    years = total["year"][keep].to_numpy()
    scale, unit = (1e4, "10^4 t CO2") if quantity == "co2_t" else (1e4, "10^4 tce")
    with_measures = total[quantity][keep].to_numpy() / scale
    groups: dict[str, np.ndarray] = {}
    for group, part in outlook.wedges.groupby("group", sort=True):
        values = part.set_index("year")[quantity].reindex(years).fillna(0.0).to_numpy()
        groups[str(group)] = values / scale
    baseline = with_measures + sum(groups.values(), np.zeros(len(years)))
    return charts.wedges(path, years=years, baseline=baseline, wedges=groups,
                         title=f"{outlook.scenario.name}: measures as wedges",
                         unit=unit)


def chart_paths(outlook: Outlook, path: str | Path) -> Path:
    """Write the fan chart of energy, controlled energy and CO2 of the total."""
    from dualcontrol import charts

    total = outlook.central[outlook.central["region"] == "total"]
    panels = {}
    for col, label, scale in (("energy_tce", "energy [10^8 tce]", 1e8),
                              ("controlled_tce", "controlled energy [10^8 tce]", 1e8),
                              ("co2_t", "CO2 [10^8 t]", 1e8)):
        drawn = outlook.draws[col] / scale if outlook.draws else None
        panels[label] = (drawn, total[col].to_numpy() / scale)
    peak_targets = {f"{t['indicator']} target": float(t["target_value"])
                    for t in scenario_targets(outlook.scenario)
                    if str(t["indicator"]).endswith("peak_year")}
    n = outlook.n_draws
    title = f"{outlook.scenario.name}" + (f" ({n} draws, seed {outlook.seed})" if n else "")
    return charts.fan(path, years=outlook.scenario.years, panels=panels, title=title,
                      markers=peak_targets)


__all__ = [
    "DISTRIBUTIONS",
    "GAP_QUANTITIES",
    "INDICATORS",
    "PATHS",
    "MeasureEffect",
    "Outlook",
    "Param",
    "RegionSpec",
    "Scenario",
    "Sector",
    "central_paths",
    "central_wedges",
    "chart_paths",
    "chart_wedges",
    "check_targets",
    "draw_region",
    "energy_accounts",
    "load_scenario",
    "measure_cuts",
    "peak",
    "peak_summary",
    "peak_year_distribution",
    "project",
    "project_region",
    "project_region_loop",
    "run",
    "scenario_from_mapping",
    "target_gap",
    "target_gaps",
]

