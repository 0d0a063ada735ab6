"""Why an aggregate changed: LMDI-I index decomposition analysis.

An energy-related aggregate ``V`` is a sum over sub-categories ``i`` (sectors,
leagues, carriers) of a product of ``n`` factors::

    V = sum_i V_i = sum_i x_1,i * x_2,i * ... * x_n,i

e.g. energy = activity x structure x intensity, or CO2 = activity x structure x
intensity x fuel mix x emission factor. LMDI-I splits the change of ``V`` between
two years into one effect per factor, with no residual (perfect decomposition):

- additive:       V^T - V^0 = sum_k dV_k,
  dV_k = sum_i L(V_i^T, V_i^0) ln(x_k,i^T / x_k,i^0)
- multiplicative: V^T / V^0 = prod_k D_k,
  ln D_k = sum_i [L(V_i^T, V_i^0) / L(V^T, V^0)] ln(x_k,i^T / x_k,i^0)

with the logarithmic mean L(a, b) = (a - b) / (ln a - ln b), L(a, a) = a.

Zero values use the analytical limits of the LMDI terms (Ang & Liu 2007), not the
substitution of a small number:

- L(a, 0) = L(0, a) = 0, so a sub-category that is zero in both years contributes
  nothing, and factors that are positive in both years contribute nothing where
  V_i is zero in one year (L(V_i^T, 0) ln(x^T/x^0) -> 0);
- where V_i^0 = 0 < V_i^T, the factor(s) that are zero in year 0 receive the whole
  change V_i^T (shared equally if several factors are zero, the limit of the
  small-value strategy with one common delta); symmetrically V_i^T = 0 < V_i^0
  gives -V_i^0 to the factor(s) that are zero in year T.

Missing rows or values are not guessed: they are an input error naming the
sub-category and year, since only the user knows which factor is zero.

References
----------
Ang, B.W. (2004). Decomposition analysis for policymaking in energy: which is the
preferred method? Energy Policy 32: 1131-1139.
Ang, B.W. (2005). The LMDI approach to decomposition analysis: a practical guide.
Energy Policy 33: 867-871.
Ang, B.W., Liu, N. (2007). Handling zero values in the logarithmic mean Divisia index
decomposition approach. Energy Policy 35: 238-246.
Ang, B.W. (2015). LMDI decomposition approach: a guide for implementation. Energy
Policy 86: 233-238.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np
import pandas as pd

from dualcontrol.errors import InputError, Problem

logger = logging.getLogger(__name__)


class Mode(StrEnum):
    """Form of the decomposition."""

    additive = "additive"
    multiplicative = "multiplicative"


def logarithmic_mean(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Return the logarithmic mean L(a, b) element-wise, with its limits.

    Parameters
    ----------
    a, b : array_like
        Non-negative values [any unit, the same for both].

    Returns
    -------
    numpy.ndarray
        ``(a - b) / (ln a - ln b)``; ``a`` where ``a == b``; 0 where either is 0.

    References
    ----------
    Ang (2004), Energy Policy 32: 1131-1139; Ang & Liu (2007), Energy Policy 35:
    238-246 (L(a, 0) = 0).
    """
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    out = np.zeros(np.broadcast(a, b).shape)
    a, b = np.broadcast_arrays(a, b)
    pos = (a > 0) & (b > 0)
    equal = pos & np.isclose(a, b, rtol=1e-12, atol=0.0)
    diff = pos & ~equal
    out[equal] = a[equal]
    out[diff] = (a[diff] - b[diff]) / (np.log(a[diff]) - np.log(b[diff]))
    return out


def lmdi_terms(x0: np.ndarray, xT: np.ndarray) -> np.ndarray:
    """Return the additive LMDI-I effect of each factor in each sub-category.

    Parameters
    ----------
    x0, xT : numpy.ndarray
        Factor values in year 0 and year T, shape (sub-categories, factors);
        non-negative [unit of each factor].

    Returns
    -------
    numpy.ndarray
        dV_k,i, shape (sub-categories, factors) [unit of the aggregate]; each row sums
        exactly to V_i^T - V_i^0, zero values by the analytical limits.

    References
    ----------
    Ang (2005), Energy Policy 33: 867-871, eq. (5); Ang & Liu (2007), Energy Policy
    35: 238-246.
    """
    x0 = np.asarray(x0, dtype=float)
    xT = np.asarray(xT, dtype=float)
    v0 = np.prod(x0, axis=1)
    vT = np.prod(xT, axis=1)
    weight = logarithmic_mean(vT, v0)
    terms = np.zeros_like(x0)
    both = (v0 > 0) & (vT > 0)
    terms[both] = weight[both, None] * np.log(xT[both] / x0[both])
    # V_i zero in exactly one year: the limit gives the whole change to the
    # factor(s) that are zero in that year, and 0 to every other factor.
    for mask, zero_side, change in (
        ((v0 == 0) & (vT > 0), x0, vT),
        ((vT == 0) & (v0 > 0), xT, -v0),
    ):
        if mask.any():
            zeros = zero_side[mask] == 0
            terms[mask] = zeros * (change[mask] / zeros.sum(axis=1))[:, None]
    return terms


@dataclass
class Decomposition:
    """Result of one LMDI-I decomposition between two years (or a chain of them).

    ``effects`` has one row per factor: ``factor`` and ``effect`` (additive: in the
    aggregate's unit; multiplicative: an index, ratio of T to 0). ``by_subcategory``
    has the same per sub-category. ``periods`` has one row per factor and
    consecutive period when chained.
    """

    mode: Mode
    base: int
    target: int
    factors: list[str]
    value_base: float
    value_target: float
    effects: pd.DataFrame
    by_subcategory: pd.DataFrame
    periods: pd.DataFrame = field(default_factory=pd.DataFrame)
    chained: bool = False

    @property
    def observed(self) -> float:
        """Observed change: V^T - V^0 (additive) or V^T / V^0 (multiplicative)."""
        if self.mode == Mode.additive:
            return self.value_target - self.value_base
        return self.value_target / self.value_base

    @property
    def total(self) -> float:
        """Sum (additive) or product (multiplicative) of the factor effects."""
        values = self.effects["effect"].to_numpy()
        return float(values.sum() if self.mode == Mode.additive else values.prod())


def _factor_table(frame: pd.DataFrame, *, by: str, factors: Sequence[str],
                  years: Sequence[int], file: str | None) -> dict[int, pd.DataFrame]:
    """Return, per year, the factor values indexed by sub-category (validated)."""
    problems: list[Problem] = []
    missing_cols = [c for c in [by, "year", *factors] if c not in frame.columns]
    if missing_cols:
        raise InputError([Problem("column is missing", file=file, field=c,
                                  accepted=list(frame.columns)) for c in missing_cols])
    data = frame.reset_index(drop=True)
    values = data[list(factors)].apply(pd.to_numeric, errors="coerce")
    for column in factors:
        bad = values[column].isna() | (values[column] < 0)
        for idx in data.index[bad]:
            problems.append(Problem("factor value must be a number >= 0 (write 0 for a "
                                    "zero, not a blank)", file=file, row=int(idx) + 2,
                                    field=column, value=data.at[idx, column]))
    years_col = pd.to_numeric(data["year"], errors="coerce")
    dup = data.assign(year=years_col).duplicated([by, "year"], keep="first")
    for idx in data.index[dup]:
        problems.append(Problem("duplicate sub-category and year", file=file,
                                row=int(idx) + 2, field=by, value=data.at[idx, by]))
    present = set(years_col.dropna().astype(int))
    for year in years:
        if year not in present:
            problems.append(Problem(f"no rows for year {year}", file=file, field="year",
                                    value=year, accepted=[str(y) for y in sorted(present)]))
    if problems:
        raise InputError(problems)
    data = data.assign(year=years_col.astype(int))
    data[list(factors)] = values
    subcats = list(dict.fromkeys(data.loc[data["year"].isin(years), by]))
    out: dict[int, pd.DataFrame] = {}
    for year in years:
        table = data[data["year"] == year].set_index(by)[list(factors)]
        absent = [s for s in subcats if s not in table.index]
        problems.extend(Problem(f"sub-category has no row in {year}; add the row with "
                                "0 for the factor that is zero", file=file, field=by,
                                value=s) for s in absent)
        out[year] = table.reindex(subcats)
    if problems:
        raise InputError(problems)
    return out


def _pair(x0: pd.DataFrame, xT: pd.DataFrame, factors: list[str],
          mode: Mode) -> tuple[pd.DataFrame, float, float]:
    """Return per-sub-category effects between two factor tables, and V^0, V^T."""
    terms = lmdi_terms(x0.to_numpy(), xT.to_numpy())
    v0 = float(np.prod(x0.to_numpy(), axis=1).sum())
    vT = float(np.prod(xT.to_numpy(), axis=1).sum())
    if mode == Mode.multiplicative:
        if v0 <= 0 or vT <= 0:
            raise InputError("multiplicative decomposition needs a positive aggregate in "
                             "both years; use --mode additive", value=f"{v0:g} -> {vT:g}")
        terms = terms / float(logarithmic_mean(np.array(vT), np.array(v0)))
    table = pd.DataFrame(terms, index=x0.index, columns=factors)
    return table, v0, vT


def lmdi(frame: pd.DataFrame, *, factors: Sequence[str], by: str, base: int,
         target: int, mode: Mode | str = Mode.additive, chained: bool = False,
         file: str | None = None) -> Decomposition:
    """Return the LMDI-I decomposition of an aggregate's change from base to target.

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per sub-category and year: column ``by``, ``year``, and one column
        per factor; the aggregate is the sum over sub-categories of the product of
        the factors [unit of the aggregate = product of the factors' units].
    factors : sequence of str
        Factor columns, in the order effects are reported.
    by : str
        Sub-category column (sector, league, carrier).
    base, target : int
        Years 0 and T [year].
    mode : {"additive", "multiplicative"}
        Additive effects are in the aggregate's unit and sum to V^T - V^0;
        multiplicative effects are indices [-] whose product is V^T / V^0.
    chained : bool
        Decompose each consecutive pair of years between base and target and add
        (multiply) the effects; all years in between must be present.
    file : str, optional
        Name of the data file, for error messages.

    Returns
    -------
    Decomposition
        Effects per factor and per sub-category, totals and the observed change.

    Raises
    ------
    InputError
        Missing columns, years or sub-category rows; blank, negative or non-numeric
        factor values; a non-positive aggregate in multiplicative mode.

    References
    ----------
    Ang (2005), Energy Policy 33: 867-871, Table 1 (LMDI-I formulae); Ang & Liu
    (2007), Energy Policy 35: 238-246 (zero values).
    """
    mode = Mode(mode)
    factors = list(factors)
    if not factors:
        raise InputError("at least one factor column is needed", field="factors")
    if target == base:
        raise InputError("target year equals base year", field="target", value=target)
    step = 1 if target > base else -1
    years = list(range(base, target + step, step)) if chained else [base, target]
    tables = _factor_table(frame, by=by, factors=factors, years=years, file=file)
    combine = np.add if mode == Mode.additive else np.multiply
    per_sub: pd.DataFrame | None = None
    period_rows = []
    for y0, y1 in itertools.pairwise(years):
        table, _, _ = _pair(tables[y0], tables[y1], factors, mode)
        if mode == Mode.multiplicative:
            table = np.exp(table)
        per_sub = table if per_sub is None else combine(per_sub, table)
        agg = table.sum() if mode == Mode.additive else table.prod()
        period_rows += [{"base": y0, "target": y1, "factor": f, "effect": float(agg[f])}
                        for f in factors]
    assert per_sub is not None
    v_base = float(np.prod(tables[base].to_numpy(), axis=1).sum())
    v_target = float(np.prod(tables[target].to_numpy(), axis=1).sum())
    agg = per_sub.sum() if mode == Mode.additive else per_sub.prod()
    effects = pd.DataFrame({"factor": factors, "effect": [float(agg[f]) for f in factors]})
    by_sub = per_sub.reset_index().melt(id_vars=by, var_name="factor", value_name="effect")
    logger.debug("LMDI %s %s->%s over %d sub-categories", mode.value, base, target,
                 len(per_sub))
    return Decomposition(mode=mode, base=base, target=target, factors=factors,
                         value_base=v_base, value_target=v_target, effects=effects,
                         by_subcategory=by_sub, periods=pd.DataFrame(period_rows),
                         chained=chained)


def first_text_column(frame: pd.DataFrame) -> str:
    """Return the name of the first non-numeric column other than ``year``."""
    for column in frame.columns:
        if column != "year" and not pd.api.types.is_numeric_dtype(frame[column]):
            return str(column)
    raise InputError("no text column to use as sub-category; name one with --by",
                     field="by", accepted=[str(c) for c in frame.columns])


def numeric_factor_columns(frame: pd.DataFrame, by: str) -> list[str]:
    """Return the numeric columns other than ``year`` and ``by``: the default factors."""
    return [str(c) for c in frame.columns
            if c not in ("year", by) and pd.api.types.is_numeric_dtype(frame[c])]


# -- presets: factor tables built from accounting columns -------------------------

def energy_by_sector_factors(frame: pd.DataFrame) -> pd.DataFrame:
    """Return activity, structure and intensity factors of energy use by sector.

    E = sum_i Q * (Q_i / Q) * (E_i / Q_i).

    Parameters
    ----------
    frame : pandas.DataFrame
        Columns ``sector``, ``year``, ``value_added_10k_yuan`` [10^4 yuan, constant
        prices], ``energy_tce`` [tce].

    Returns
    -------
    pandas.DataFrame
        ``sector``, ``year``, ``activity_10k_yuan`` [10^4 yuan], ``structure_share``
        [-], ``intensity_tce_per_10k_yuan`` [tce/10^4 yuan]; their product is
        ``energy_tce``.

    References
    ----------
    Ang (2005), Energy Policy 33: 867-871, section 3 (the three-factor energy case).
    """
    _need(frame, ["sector", "year", "value_added_10k_yuan", "energy_tce"])
    q = frame["value_added_10k_yuan"].astype(float)
    total = q.groupby(frame["year"]).transform("sum")
    return pd.DataFrame({
        "sector": frame["sector"], "year": frame["year"],
        "activity_10k_yuan": total,
        "structure_share": q / total,
        "intensity_tce_per_10k_yuan": _ratio(frame["energy_tce"].astype(float), q),
    }).reset_index(drop=True)


def co2_kaya_factors(frame: pd.DataFrame) -> pd.DataFrame:
    """Return activity, structure, intensity and carbon-factor effects' factors of CO2.

    C = sum_i Q * (Q_i / Q) * (E_i / Q_i) * (C_i / E_i).

    Parameters
    ----------
    frame : pandas.DataFrame
        Columns ``sector``, ``year``, ``value_added_10k_yuan`` [10^4 yuan, constant
        prices], ``energy_tce`` [tce], ``co2_t`` [t].

    Returns
    -------
    pandas.DataFrame
        The factors of :func:`energy_by_sector_factors` plus ``carbon_factor_t_per_tce``
        [t CO2/tce] (fuel mix and emission factors together); the product is ``co2_t``.

    References
    ----------
    Ang (2005), Energy Policy 33: 867-871; Kaya identity as in Ang (2015), Energy
    Policy 86: 233-238.
    """
    _need(frame, ["sector", "year", "value_added_10k_yuan", "energy_tce", "co2_t"])
    out = energy_by_sector_factors(frame)
    out["carbon_factor_t_per_tce"] = _ratio(frame["co2_t"].astype(float).to_numpy(),
                                            frame["energy_tce"].astype(float).to_numpy())
    return out


#: Named presets: function building the factor table, and the aggregate it explains.
PRESETS = {
    "energy-by-sector": (energy_by_sector_factors, "energy_tce"),
    "co2-kaya": (co2_kaya_factors, "co2_t"),
}


def _ratio(num: pd.Series | np.ndarray, den: pd.Series | np.ndarray) -> np.ndarray:
    """Return num/den, with 0/0 = 0 (a sector with neither output nor use)."""
    num = np.asarray(num, dtype=float)
    den = np.asarray(den, dtype=float)
    out = np.zeros_like(num)
    np.divide(num, den, out=out, where=den != 0)
    if np.any((den == 0) & (num != 0)):
        raise InputError("energy or CO2 without value added (or CO2 without energy) "
                         "cannot be written as a product of factors")
    return out


def _need(frame: pd.DataFrame, columns: list[str]) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InputError([Problem("column is missing", field=c,
                                  accepted=[str(x) for x in frame.columns])
                          for c in missing])
