"""Conversion of a physical quantity of an energy carrier to tce and CO2.

Two official methods value electricity in standard coal (GB/T 2589-2020):

- ``calorific`` (当量值, calorific equivalent): 1 kWh = 3.6 MJ = 0.1229 kgce;
- ``coal-equivalent`` (等价值): the coal burnt to generate it, i.e. the year's
  national average supply coal consumption of thermal power [gce/kWh].

Every other carrier has one coefficient, its net calorific value over 29.3076 GJ/tce.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

from dualcontrol.errors import InputError, Problem
from dualcontrol.reference import (
    Carrier,
    electricity_factor_rule,
    grid_factor,
    grid_factors,
    heat_factor,
    load_table,
    quantity_in_carrier_unit,
    resolve_carrier,
    resolve_unit,
    supply_coal_consumption,
)


class Method(StrEnum):
    """How electricity is valued in standard coal."""

    calorific = "calorific"
    coal_equivalent = "coal-equivalent"


def tce_coefficient(carrier: Carrier, method: Method = Method.calorific,
                    year: int | None = None) -> tuple[float, str]:
    """Return the standard-coal coefficient of ``carrier`` [tce / unit] and its source.

    References
    ----------
    GB/T 2589-2020, Appendix A; for the coal-equivalent method, the CEC's national
    average supply coal consumption of the year.
    """
    if carrier.code == "electricity" and Method(method) == Method.coal_equivalent:
        if year is None:
            years = load_table("supply-coal-consumption")["year"].tolist()
            raise InputError(Problem("the coal-equivalent method needs a year", field="year",
                                     accepted=years))
        factor = supply_coal_consumption(year, exact=True)
        # gce/kWh -> tce/kWh
        return factor.value / 1e6, f"{factor.source} ({factor.year}: {factor.value} gce/kWh)"
    return carrier.tce_per_unit, f"{carrier.source}; {carrier.edition}"


def latest_factor_year() -> int:
    """Return the latest year with a national grid emission factor."""
    table = load_table("grid-factors")
    return int(table.loc[table["grid"] == "national", "year"].astype(int).max())


def co2_coefficient(carrier: Carrier, year: int | None = None,
                    grid: str | None = None, *, latest_for_future: bool = False,
                    ) -> tuple[float, str, int | None]:
    """Return the CO2 factor of ``carrier`` [t CO2 / unit], its source and factor year.

    Fuels have a fixed combustion factor; electricity takes the grid's factor and heat
    the heat factor of ``year`` (a year without a published factor: see
    :func:`dualcontrol.reference.grid_factor`; the year used is returned). Without
    ``grid`` the grid is the one the rule of the year names
    (``electricity_factor_rules.csv``: Inner Mongolia's provincial factor), and the
    source says which rule. With ``latest_for_future`` a year after the latest
    published one takes the latest (a project not yet running can only be valued at
    the factors published when it is reviewed), and the source says so.
    """
    if carrier.co2_t_per_unit is not None:
        return carrier.co2_t_per_unit, carrier.co2_source, None
    wanted = latest_factor_year() if year is None else year
    if carrier.code == "electricity":
        rule = ""
        if grid is None:
            chosen = electricity_factor_rule(wanted)
            grid, rule = str(chosen["grid"]), f"rule {chosen['rule_id']}; "
        latest = int(grid_factors(grid)["year"].astype(int).max())
        note = ""
        if year is None:
            wanted = latest  # no year asked: the latest published for the rule's grid
        elif latest_for_future and wanted > latest:
            wanted, note = latest, f"; latest published, for {year}"
        factor = grid_factor(wanted, grid)
        return (factor.value / 1000.0,
                f"{factor.source} ({rule}{grid}, {factor.year}{note})", factor.year)
    factor = heat_factor(wanted)
    return factor.value, f"{factor.source} ({factor.year})", factor.year


@dataclass
class Conversion:
    """One quantity converted, with every coefficient and its source."""

    carrier: str
    carrier_zh: str
    quantity: float
    unit: str
    quantity_in_carrier_unit: float
    carrier_unit: str
    method: str
    year: int | None
    tce: float
    co2_t: float
    tce_per_unit: float
    co2_t_per_unit: float
    co2_factor_year: int | None
    sources: dict[str, str] = field(default_factory=dict)
    verified: bool = True

    def as_dict(self) -> dict[str, Any]:
        """Return the conversion as a JSON-ready mapping."""
        return asdict(self)


def convert(quantity: float, unit: str, carrier: str, *,
            method: Method | str = Method.calorific, year: int | None = None,
            grid: str | None = None) -> Conversion:
    """Return ``quantity`` ``unit`` of ``carrier`` in tce and t CO2.

    Parameters
    ----------
    quantity : float
        Physical quantity [``unit``]; must be finite and not negative.
    unit : str
        Unit, e.g. ``t``, ``万吨``, ``10^4 m3``, ``kWh``, ``GJ``.
    carrier : str
        Carrier code, English or Chinese name (``raw_coal``, ``原煤``).
    method : {'calorific', 'coal-equivalent'}
        Valuation of electricity (GB/T 2589-2020).
    year : int, optional
        Year of the coal-equivalent coefficient and of the grid/heat CO2 factor.
    grid : str, optional
        Grid whose emission factor applies to electricity; by default the one of the
        year's rule (``electricity_factor_rules.csv``).

    Returns
    -------
    Conversion
        ``tce`` [tce] and ``co2_t`` [t CO2], with the coefficients and sources used.
    """
    method = Method(method)
    if not quantity >= 0 or quantity == float("inf"):
        raise InputError(Problem("quantity must be a finite number >= 0", field="quantity",
                                 value=quantity))
    resolved = resolve_carrier(carrier)
    own = quantity_in_carrier_unit(quantity, resolve_unit(unit), resolved)
    tce_per_unit, tce_source = tce_coefficient(resolved, method, year)
    co2_per_unit, co2_source, factor_year = co2_coefficient(resolved, year, grid)
    return Conversion(
        carrier=resolved.code,
        carrier_zh=resolved.name_zh,
        quantity=quantity,
        unit=resolve_unit(unit).code,
        quantity_in_carrier_unit=own,
        carrier_unit=resolved.unit,
        method=method.value,
        year=year,
        tce=own * tce_per_unit,
        co2_t=own * co2_per_unit,
        tce_per_unit=tce_per_unit,
        co2_t_per_unit=co2_per_unit,
        co2_factor_year=factor_year,
        sources={"tce": tce_source, "co2": co2_source},
        verified=resolved.verified,
    )
