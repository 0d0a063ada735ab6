"""Commands of energy-efficiency benchmarking and project review: ``benchmark``, ``review``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import pandas as pd
import typer

from dualcontrol import benchmarking, review
from dualcontrol.cli.app import app
from dualcontrol.cli.output import Lang, emit, frame_records, print_json, user_errors
from dualcontrol.errors import InputError, Problem
from dualcontrol.fileio import read_table
from dualcontrol.numbers import parse_numbers

LangOpt = Annotated[Lang, typer.Option("--lang", help="Language of table headers.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for machines.")]


#: Longest unit list printed as a table; longer lists go to --json.
MAX_UNIT_ROWS = 40


def _production_units(data: Path | None, year: int | None,
                      ) -> tuple[pd.DataFrame, str, pd.DataFrame]:
    """Return the production units, their origin, and the units no level covers.

    With ``--data`` every row must be benchmarkable (an unknown product is an error);
    from the store, units of products without a national level are set aside and listed.
    """
    if data is not None:
        frame = read_table(data)
        return frame, str(data), pd.DataFrame(columns=["industry", "product", "units",
                                                       "reason"])
    from dualcontrol import datasets

    frame = datasets.production_units(year=year)
    if frame.empty:
        raise InputError(Problem("the store has no production units (run `dualcontrol demo` "
                                 "or load output reports), or give --data FILE",
                                 field="--data", accepted=list(benchmarking.REQUIRED_COLUMNS)))
    covered, uncovered = benchmarking.split_by_level(frame)
    return covered, "store", uncovered


@app.command("benchmark")
def benchmark_cmd(
    year: Annotated[int | None, typer.Option(help="Only this year.")] = None,
    industry: Annotated[str | None, typer.Option(help="Only this industry.")] = None,
    data: Annotated[Path | None, typer.Option(
        help="Production-units CSV/XLSX (default: the store).")] = None,
    top: Annotated[int, typer.Option(help="Front runners shown per product and year.")] = 5,
    as_json: JsonOpt = False,
    lang: LangOpt = Lang.en,
) -> None:
    """Benchmark production units against the national benchmark/baseline levels."""
    with user_errors(as_json=as_json):
        frame, name, uncovered = _production_units(data, year)
        if year is not None:
            frame = frame[(parse_numbers(frame["year"])[0] == year).to_numpy()]
        if industry is not None:
            frame = frame[frame["industry"] == industry]
            uncovered = uncovered[uncovered["industry"] == industry]
        if frame.empty:
            raise InputError(Problem("no production units match the filters", file=name,
                                     field="--year/--industry",
                                     value=f"{year}/{industry}"))
        units = benchmarking.benchmark_units(frame, file=None if name == "store" else name)
    shares = benchmarking.class_shares(units)
    by_region = benchmarking.class_shares(units, by=("region",))
    front = benchmarking.front_runners(units)
    savings = benchmarking.savings_potential(units)
    factor, source = benchmarking.co2_per_tce()
    if as_json:
        print_json({
            "source": name,
            "units": frame_records(units), "class_shares": frame_records(shares),
            "class_shares_by_region": frame_records(by_region),
            "front_runners": frame_records(front), "savings": frame_records(savings),
            "not_benchmarked": frame_records(uncovered),
            "co2_t_per_tce": factor, "co2_source": source,
        })
        return
    cols = ["unit_id", "enterprise_name", "region", "product", "year", "unit_consumption",
            "level_unit", "benchmark", "baseline", "quota_limit", "class", "upgrade_deadline"]
    if len(units) <= MAX_UNIT_ROWS:
        emit(units[cols], title="Production units against the levels", lang=lang)
    else:
        typer.echo(f"{len(units):,} production units benchmarked ({name}); "
                   "--json lists every unit.")
    emit(shares, title="Class shares by industry and product", lang=lang)
    emit(by_region, title="Class shares by region", lang=lang)
    emit(front[front["rank"] <= top], title=f"Front runners (at or better than the "
         f"benchmark; best {top} per product and year)", lang=lang)
    emit(savings, title=f"Savings potential per year (CO2 at {factor:.4f} t/tce for coal; "
                        "grid factor for electricity)", lang=lang)
    if len(uncovered):
        emit(uncovered, title="Not benchmarked: no national level for the product",
             lang=lang)


def _store_context(league: str, start_year: int) -> dict | None:
    """Return the league's and region's figures from the store, or None if it is empty."""
    from dualcontrol import datasets
    from dualcontrol.assessment import prepare_accounts
    from dualcontrol.budget import energy_budget

    raw = datasets.assessment_accounts()
    if raw.empty:
        typer.echo("the store has no accounts: no effect on the league and region "
                   "(give --context FILE)", err=True)
        return None
    accounts = prepare_accounts(raw)
    year = review.context_year(accounts, start_year)
    budget = energy_budget(accounts, year=year)
    context = review.context_from_accounts(raw, budget, league, year=year)
    try:
        carbon = review.carbon_budget_context(datasets.carbon_budget_table(),
                                              context["league"]["code"], start_year)
    except InputError as exc:  # e.g. no 2025 CO2: the evaluation says budget unknown
        typer.echo(f"no carbon budget for the league: {exc}", err=True)
        carbon = None
    if carbon is not None:
        context["league"].update(carbon)
    return context


def _emit_carbon(carbon: review.CarbonEvaluation, lang: Lang) -> None:
    """Print the carbon evaluation: CO2, CO2 per unit against the references, budget share."""
    unit = f"t CO2/{carbon.output_unit}"
    rows = [
        {"item": "CO2, energy-related [t/a]", "value": f"{carbon.energy_co2_t:,.0f}"},
        {"item": "CO2, process (stated) [t/a]", "value": f"{carbon.process_co2_t:,.0f}"},
        {"item": "CO2, total [t/a]", "value": f"{carbon.co2_t:,.0f}"},
        {"item": "CO2 per unit (total / energy-related)",
         "value": f"{carbon.intensity_t_per_unit:.3f} / "
                  f"{carbon.energy_intensity_t_per_unit:.3f} {unit}"},
    ]
    rows += [{"item": f"reference {r['level']} ({'published' if r['published'] else 'derived'}"
                      f", {r['scope']})", "value": f"{r['co2_t_per_unit']:.3f} {r['unit']}"}
             for r in carbon.references]
    if carbon.budget is not None:
        b = carbon.budget
        share = b["share_of_remaining"]
        rows.append({"item": f"{b['league']} carbon budget {b['year']}: remaining [t]",
                     "value": f"{b['remaining_co2_t']:,.0f} (project "
                              f"{'-' if share is None else f'{share:.1%}'})"})
    emit(pd.DataFrame(rows), title=f"Carbon evaluation 碳排放评价: {carbon.verdict}", lang=lang)
    emit(pd.DataFrame([{"rule": r.rule, "outcome": r.outcome, "finding": r.text(lang.value)}
                       for r in carbon.reasons]), title="Reasons (carbon evaluation)", lang=lang)


@app.command("review")
def review_cmd(
    file: Annotated[Path, typer.Argument(help="Project file (YAML or JSON).")],
    context: Annotated[Path | None, typer.Option(
        help="YAML/JSON with league and region baseline figures (default: the store's "
             "latest accounts and budget).")] = None,
    report: Annotated[Path | None, typer.Option(help="Write an HTML report here.")] = None,
    as_json: JsonOpt = False,
    lang: LangOpt = Lang.en,
) -> None:
    """Review a proposed project's energy use and give a verdict with reasons."""
    with user_errors(as_json=as_json):
        project = review.load_project(file)
        ctx = (review.read_mapping(context) if context is not None
               else _store_context(project.league, project.start_year))
        result = review.review_project(project, ctx)
    if report is not None:
        report.write_text(review.render_html(result), encoding="utf-8")
    if as_json:
        print_json(result.as_dict())
        return
    carbon = result.carbon
    summary = pd.DataFrame([
        {"item": "verdict (energy-saving review 节能审查)", "value": result.verdict},
        *([{"item": "verdict (carbon evaluation 碳排放评价)", "value": carbon.verdict}]
          if carbon is not None else []),
        {"item": "unit consumption", "value": f"{result.unit_consumption:,.1f} {result.unit}"},
        {"item": f"benchmark / baseline ({result.level_set})",
         "value": f"{result.benchmark:g} / {result.baseline:g} {result.unit}"},
        {"item": "energy_tce", "value": f"{result.energy_tce:,.0f}"},
        {"item": "controlled_tce", "value": f"{result.controlled_tce:,.0f}"},
        {"item": "co2_t", "value": f"{result.co2_t:,.0f}"},
    ])
    emit(summary, title=f"Review: {result.project['name']}", lang=lang)
    reasons = pd.DataFrame([{"rule": r.rule, "outcome": r.outcome, "finding": r.text(lang.value)}
                            for r in result.reasons])
    emit(reasons, title="Reasons (energy-saving review)", lang=lang)
    if carbon is not None:
        _emit_carbon(carbon, lang)
    if result.effects:
        cols = ["level", "name", "year", "project_controlled_tce", "total_increase_pct",
                "intensity_before", "intensity_after", "intensity_change_pct",
                "remaining_budget_tce", "budget_share"]
        emit(pd.DataFrame(result.effects)[cols], title="Effect on league and region "
             "(intensity in tce/10k yuan)", lang=lang)
    if report is not None:
        typer.echo(f"report written to {report}")
