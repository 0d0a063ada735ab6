"""Commands of the analyses: ``decompose`` (LMDI) and ``outlook`` (scenarios to 2060)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer

from dualcontrol.cli.app import app
from dualcontrol.cli.output import Lang, emit, frame_records, print_json, user_errors
from dualcontrol.decomposition import (
    PRESETS,
    Decomposition,
    Mode,
    first_text_column,
    lmdi,
    numeric_factor_columns,
)
from dualcontrol.errors import InputError, Problem

LangOpt = Annotated[Lang, typer.Option("--lang", help="Language of table headers.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for machines.")]
ChartOpt = Annotated[Path | None, typer.Option("--chart", help="Write a PNG chart here.")]


def _read_csv(path: Path) -> pd.DataFrame:
    if not path.exists():
        raise InputError("file not found", file=str(path))
    try:
        return pd.read_csv(path)
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise InputError(f"cannot read CSV: {exc}", file=str(path)) from None


def _preset_frame(preset: str, data: Path | None, base: int,
                  ) -> tuple[pd.DataFrame, list[str], str]:
    """Return the factor table of a preset, from DATA or from the store.

    From the store the sectors are the enterprises' industries with their value added
    at ``base``-year prices (:func:`dualcontrol.datasets.sector_accounts`).
    """
    if preset not in PRESETS:
        raise InputError("unknown preset", field="--preset", value=preset,
                         accepted=list(PRESETS))
    build, _aggregate = PRESETS[preset]
    if data is None:
        from dualcontrol import datasets

        sectors = datasets.sector_accounts(base_year=base)
        if sectors.empty:
            raise InputError("the store has no sector accounts (run `dualcontrol demo` or "
                             "load energy and economic reports), or pass DATA",
                             field="--preset", value=preset)
        source = sectors.drop(columns="value_added_10k_yuan").rename(
            columns={"value_added_const_10k_yuan": "value_added_10k_yuan"})
        table = build(source.dropna(subset=["value_added_10k_yuan"]))
        factors = [c for c in table.columns if c not in ("sector", "year")]
        return table, factors, "sector"
    source = _read_csv(data)
    try:
        table = build(source)
    except InputError as exc:
        for problem in exc.problems:
            problem.file = str(data)
        raise
    factors = [c for c in table.columns if c not in ("sector", "year")]
    return table, factors, "sector"


def _decomposition_json(result: Decomposition, by: str) -> dict[str, Any]:
    return {
        "mode": result.mode.value,
        "base": result.base,
        "target": result.target,
        "chained": result.chained,
        "aggregate_base": result.value_base,
        "aggregate_target": result.value_target,
        "effects": frame_records(result.effects),
        "total": result.total,
        "observed": result.observed,
        "by": by,
        "by_subcategory": frame_records(result.by_subcategory),
        "periods": frame_records(result.periods) if result.chained else [],
    }


@app.command("decompose")
def decompose_cmd(
    data: Annotated[Path | None, typer.Argument(
        help="CSV: one row per sub-category and year; a sub-category column, year, "
             "one column per factor (their product is the aggregate).")] = None,
    base: Annotated[int, typer.Option(help="Base year (year 0).")] = 2015,
    target: Annotated[int, typer.Option(help="Target year (year T).")] = 2020,
    by: Annotated[str | None, typer.Option(
        help="Sub-category column; default: the first text column.")] = None,
    factors: Annotated[str | None, typer.Option(
        help="Comma-separated factor columns; default: every numeric column.")] = None,
    mode: Annotated[Mode, typer.Option(help="additive or multiplicative.")] = Mode.additive,
    chained: Annotated[bool, typer.Option(
        "--chained", help="Chain year-by-year decompositions.")] = False,
    preset: Annotated[str | None, typer.Option(
        help=f"Build the factors from accounting columns: {', '.join(PRESETS)}.")] = None,
    as_json: JsonOpt = False,
    chart: ChartOpt = None,
    lang: LangOpt = Lang.en,
) -> None:
    """Explain the change of an aggregate by factor (LMDI-I), exactly to the observed."""
    with user_errors(as_json=as_json):
        if preset is not None:
            frame, factor_list, by_col = _preset_frame(preset, data, base)
        else:
            if data is None:
                raise InputError("give DATA (a CSV) or --preset", field="DATA")
            frame = _read_csv(data)
            by_col = by or first_text_column(frame)
            factor_list = numeric_factor_columns(frame, by_col)
        if by is not None and preset is None:
            by_col = by
        if factors:
            factor_list = [f.strip() for f in factors.split(",") if f.strip()]
            unknown = [f for f in factor_list if f not in frame.columns]
            if unknown:
                raise InputError([Problem("no such factor column", field="--factors",
                                          value=f, accepted=list(map(str, frame.columns)))
                                  for f in unknown])
        result = lmdi(frame, factors=factor_list, by=by_col, base=base, target=target,
                      mode=mode, chained=chained, file=str(data) if data else None)
    if chart is not None:
        _decomposition_chart(result, chart)
    if as_json:
        print_json(_decomposition_json(result, by_col))
        return
    unit = "" if mode == Mode.additive else " (index)"
    what = f" of {PRESETS[preset][1]}" if preset is not None else ""
    emit(result.effects, title=f"LMDI-I {mode.value} {base}->{target}{what}{unit}", lang=lang)
    word = "sum" if mode == Mode.additive else "product"
    summary = pd.DataFrame([
        {"item": f"aggregate {base}", "value": result.value_base},
        {"item": f"aggregate {target}", "value": result.value_target},
        {"item": f"{word} of effects", "value": result.total},
        {"item": "observed change", "value": result.observed},
    ])
    emit(summary, title="Reconciliation", lang=lang)


def _decomposition_chart(result: Decomposition, path: Path) -> None:
    from dualcontrol import charts

    if result.mode == Mode.additive:
        charts.waterfall(path, start_label=str(result.base), start=result.value_base,
                         steps=result.factors, values=result.effects["effect"].tolist(),
                         end_label=str(result.target),
                         title=f"LMDI-I decomposition {result.base}-{result.target}")
    else:
        charts.effect_bars(path, labels=result.factors,
                           values=result.effects["effect"].tolist(), reference=1.0,
                           title=f"LMDI-I multiplicative {result.base}-{result.target}",
                           unit="index (T/0)")


def _assessed(spec: Any) -> pd.DataFrame | None:
    """Return the assessment of the scenario's observed target years from the store, or
    None when there is no store (a missing store is not made; a line on stderr says so)."""
    from dualcontrol import datasets, outlook
    from dualcontrol.store import StoreMissingError

    try:
        accounts = datasets.assessment_accounts()
    except StoreMissingError as exc:
        typer.echo(f"not checked against observed years: {exc}", err=True)
        return None
    return outlook.assess_observed(spec, accounts)


@app.command("outlook")
def outlook_cmd(
    scenario: Annotated[Path, typer.Argument(help="Scenario YAML (examples/scenarios).")],
    draws: Annotated[int, typer.Option(help="Monte Carlo draws (0: central only).")] = (
        10000),
    seed: Annotated[int, typer.Option(help="Seed of the random generator.")] = 0,
    years: Annotated[str, typer.Option(
        help="Comma-separated years to print in the path table.")] = (
        "2025,2030,2035,2040,2045,2050,2055,2060"),
    as_json: JsonOpt = False,
    chart: ChartOpt = None,
    lang: LangOpt = Lang.en,
) -> None:
    """Project GDP, energy and CO2 to 2060; peak years with their Monte Carlo spread."""
    from dualcontrol import outlook

    with user_errors(as_json=as_json):
        spec = outlook.load_scenario(scenario)
        if draws < 0:
            raise InputError("draws must be >= 0", field="--draws", value=draws)
        result = outlook.run(spec, draws=draws, seed=seed)
        peaks = outlook.peak_summary(result)
        checks = outlook.check_targets(result, assessed=_assessed(spec))
        try:
            shown = [int(y) for y in years.split(",") if y.strip()]
        except ValueError:
            raise InputError(Problem("years must be whole numbers separated by commas",
                                     field="--years", value=years,
                                     accepted=["2030,2060"])) from None
    if chart is not None:
        outlook.chart_paths(result, chart)
    distribution = (outlook.peak_year_distribution(result) if result.draws
                    else pd.DataFrame())
    if as_json:
        print_json({
            "scenario": spec.name, "file": str(scenario), "draws": result.n_draws,
            "seed": seed if result.draws else None,
            "paths": frame_records(result.central),
            "peaks": frame_records(peaks),
            "co2_peak_year_distribution": frame_records(distribution),
            "targets": frame_records(checks),
        })
        return
    rows = result.central[result.central["year"].isin([spec.base_year, *shown])]
    table = pd.DataFrame({  # readable units for the terminal; --json keeps base units
        "region": rows["region"], "year": rows["year"],
        "gdp_100m_yuan": rows["gdp_const_10k_yuan"] / 1e4,
        "energy_10k_tce": rows["energy_tce"] / 1e4,
        "controlled_10k_tce": rows["controlled_tce"] / 1e4,
        "co2_mt": rows["co2_t"] / 1e6,
        "intensity_tce_per_10k_yuan": rows["intensity_tce_per_10k_yuan"],
        "nonfossil_share": rows["nonfossil_share"],
    })
    emit(table, title=f"{spec.name}: central path (GDP at constant prices)", lang=lang)
    emit(peaks, title="Peak year and level (central; Monte Carlo percentiles)", lang=lang)
    if len(distribution):
        emit(distribution[distribution["share"] >= 0.005],
             title=f"CO2 peak-year distribution ({result.n_draws} draws, seed {seed}; "
                   "years with >= 0.5 %)", lang=lang)
    if len(checks):
        shown = [c for c in ("indicator", "target_year", "target_value", "value", "met",
                             "probability_met", "value_from") if c in checks]
        emit(checks[shown], title="Targets (controlled energy: "
             "non-fossil and feedstock excluded)", lang=lang)
        emit(checks[["indicator", "official", "source", "basis"]],
             title="Sources of the targets", lang=lang)
