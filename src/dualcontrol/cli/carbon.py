"""Commands of carbon dual control: ``carbon-budget`` and the project ``pipeline``."""

from __future__ import annotations

import getpass
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer

from dualcontrol.cli.app import app
from dualcontrol.cli.output import Lang, choices, emit, frame_records, print_json, user_errors
from dualcontrol.errors import InputError, Problem
from dualcontrol.pipeline import STATUSES

pipeline_app = typer.Typer(help="The project pipeline: reviewed -> approved -> under "
                                "construction -> in operation (and rejected, withdrawn).",
                           no_args_is_help=True)
app.add_typer(pipeline_app, name="pipeline")

LangOpt = Annotated[Lang, typer.Option("--lang", help="Language of table headers.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for machines.")]
BudgetLevel = choices("BudgetLevel", ("league", "county", "park"))
Status = choices("Status", STATUSES)

#: Budget columns in 万吨CO2 (10^4 t CO2): column -> (English, Chinese header).
TEN_K_T: dict[str, tuple[str, str]] = {
    "budget_co2_t": ("budget (10^4 t CO2)", "碳预算(万吨CO2)"),
    "actual_co2_t": ("actual (10^4 t CO2)", "实际排放(万吨CO2)"),
    "reserved_co2_t": ("reserved (10^4 t CO2)", "项目预留(万吨CO2)"),
    "remaining_co2_t": ("remaining (10^4 t CO2)", "剩余(万吨CO2)"),
}
OTHER: dict[str, tuple[str, str]] = {
    "region": ("region", "地区"), "period": ("period", "年度"), "rule_id": ("rule", "分配规则"),
    "share": ("share of parent", "占上级比例"), "actual_basis": ("actual from", "实际值来源"),
    "note": ("note", "说明"),
}


def budget_view(frame: pd.DataFrame, lang: Lang) -> pd.DataFrame:
    """Return the budget rows for the terminal: 万吨CO2, headers in ``lang``."""
    zh = lang == Lang.zh
    out = pd.DataFrame({"region": frame["region_name"].astype(str), "period": frame["period"],
                        "rule_id": frame["rule_id"], "share": frame["share"]})
    for column, (en, cn) in TEN_K_T.items():
        out[cn if zh else en] = frame[column] / 1e4
    out["actual_basis"] = frame["actual_basis"]
    out["note"] = frame["note"]
    return out.rename(columns={k: (cn if zh else en) for k, (en, cn) in OTHER.items()})


def _day(text: str | None, option: str) -> date:
    if text is None:
        return date.today()
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InputError(Problem("not a date", field=option, value=text,
                                 accepted=["YYYY-MM-DD"])) from None


@app.command("carbon-budget")
def carbon_budget_cmd(
    year: Annotated[int, typer.Option(help="Budget year shown beside 2026-2030.")] = 2026,
    level: Annotated[BudgetLevel, typer.Option(  # type: ignore[valid-type]
        help="Allocate down to this level (league is quick; county and park read more).")]
    = "league",
    rule: Annotated[str | None, typer.Option(
        help="League allocation rule of carbon_budget_rules.csv (default: the default row), "
             "e.g. league_base_emissions.")] = None,
    gdp_growth: Annotated[float | None, typer.Option(
        "--gdp-growth", help="Real GDP growth assumed, 0.05 = 5% (default: observed "
                             "2024-2025).")] = None,
    as_of: Annotated[str | None, typer.Option(
        "--as-of", help="Day the pipeline is read on, YYYY-MM-DD (default: today).")] = None,
    as_json: JsonOpt = False,
    lang: LangOpt = Lang.en,
) -> None:
    """Show the carbon budgets of the region and leagues for a year and to 2030 (万吨CO2).

    Budget from the 15th-plan CO2-intensity target (base 2025) and the GDP growth
    assumed, allocated by the rules of carbon_budget_rules.csv; reserved = the annual
    CO2 of projects approved but not yet running; remaining = budget - actual -
    reserved.
    """
    from dualcontrol import datasets
    from dualcontrol.carbon_budget import TO_2030, YEARS

    with user_errors():
        if year not in YEARS:
            raise InputError(Problem("no carbon budget for this year", field="--year",
                                     value=year, accepted=[str(y) for y in YEARS]))
        wanted = {"league": ("region", "league"), "county": ("region", "league", "county"),
                  "park": ("region", "league", "county", "park")}[str(level.value)]
        table = datasets.carbon_budget_table(
            levels=wanted, gdp_growth=gdp_growth, rules={"league": rule} if rule else None,
            as_of=_day(as_of, "--as-of"))
    if as_json:
        print_json(frame_records(table))
        return
    region = table[(table["level"] == "region") & (table["period"] == str(year))].iloc[0]
    verified = str(region["target_verified"]).lower() == "true"
    typer.echo(f"Region target: {region['target_source']} "
               f"({'verified' if verified else 'NOT verified'}); GDP growth assumed "
               f"{region['gdp_growth']:.2%} ({region['gdp_growth_basis']}); progress path "
               f"{region['progress_rule']}.")
    for period in (str(year), TO_2030):
        shown = table[table["period"] == period]
        emit(budget_view(shown, lang), lang=lang,
             title=(f"碳预算 {period}（万吨CO2）" if lang == Lang.zh
                    else f"Carbon budgets {period} (10^4 t CO2)"))
    typer.echo("Reserved: projects approved or under construction (their annual CO2 from the "
               "year of approval); in operation their CO2 is in the actuals, so no project "
               "counts twice.")


def _user(user: str | None) -> str:
    return user or f"cli:{getpass.getuser()}"


def _league_code(text: str) -> str:
    from dualcontrol.regions import regions, resolve_region

    try:
        area = resolve_region(text)
    except InputError:
        area = None
    if area is None or area["level"] != "league":
        table = regions()
        leagues = table[table["level"] == "league"]
        raise InputError(Problem("not a league or city", field="--league", value=text,
                                 accepted=[f"{c} ({n})" for c, n in
                                           zip(leagues["code"], leagues["name_en"],
                                               strict=True)]))
    return str(area["code"])


def _project_view(frame: pd.DataFrame) -> pd.DataFrame:
    from dualcontrol.pipeline import DATE_COLUMNS

    cols = ["code", "name", "league_code", "county_code", "park_code", "status",
            "energy_tce", "co2_t", *DATE_COLUMNS.values()]
    return frame[cols]


@pipeline_app.command("list")
def pipeline_list_cmd(
    status: Annotated[Status | None, typer.Option(  # type: ignore[valid-type]
        help="Only projects in this state.")] = None,
    league: Annotated[str | None, typer.Option(help="Only this league (code or name).")]
    = None,
    as_json: JsonOpt = False,
    lang: LangOpt = Lang.en,
) -> None:
    """List the projects of the pipeline with their state and dates."""
    from dualcontrol.store import open_store
    from dualcontrol.store.projects import list_projects

    with user_errors():
        code = _league_code(league) if league else None
        with open_store() as store:
            frame = list_projects(store, status=status.value if status else None,
                                  league_code=code)
    if as_json:
        print_json(frame_records(frame))
        return
    emit(_project_view(frame), lang=lang, title=f"Project pipeline ({len(frame)} projects; "
                                                "design energy and CO2 per year)")


@pipeline_app.command("add")
def pipeline_add_cmd(
    code: Annotated[str, typer.Option(help="Project code, unique.")],
    review_file: Annotated[Path | None, typer.Option(
        "--review", help="Project file (YAML/JSON) of `dualcontrol review`: name, league, "
                         "industry, product, energy and CO2 (energy and stated process) "
                         "are taken from its review.")] = None,
    name: Annotated[str | None, typer.Option(help="Project name.")] = None,
    league: Annotated[str | None, typer.Option(help="League (code or name).")] = None,
    energy_tce: Annotated[float | None, typer.Option(
        "--energy-tce", help="Design energy [tce/a].")] = None,
    co2_t: Annotated[float | None, typer.Option(
        "--co2-t", help="Design CO2, energy and process [t/a].")] = None,
    county: Annotated[str | None, typer.Option(help="County code.")] = None,
    park: Annotated[str | None, typer.Option(help="Park code.")] = None,
    industry: Annotated[str | None, typer.Option(help="Industry.")] = None,
    product: Annotated[str | None, typer.Option(help="Product code.")] = None,
    reviewed_on: Annotated[str | None, typer.Option(
        "--reviewed-on", help="Day of the review, YYYY-MM-DD (default: today).")] = None,
    user: Annotated[str | None, typer.Option(help="User recorded in the audit log.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Add a reviewed project to the pipeline (audited); figures given or from its review."""
    from dualcontrol.store import open_store
    from dualcontrol.store.projects import add_project

    with user_errors():
        source = "dualcontrol pipeline add"
        if review_file is not None:
            from dualcontrol import review

            project = review.load_project(review_file)
            result = review.review_project(project)
            assert result.carbon is not None
            name = name or project.name
            league = league or project.league
            industry = industry or project.industry
            product = product or str(result.project["product"])
            energy_tce = result.energy_tce if energy_tce is None else energy_tce
            co2_t = result.carbon.co2_t if co2_t is None else co2_t
            source = f"review of {review_file}"
        missing = [Problem("give it, or --review FILE", field=f"--{k.replace('_', '-')}")
                   for k, v in (("name", name), ("league", league),
                                ("energy_tce", energy_tce), ("co2_t", co2_t)) if v is None]
        if missing:
            raise InputError(missing)
        assert league is not None and name is not None
        with open_store() as store:
            row = add_project(store, code=code, name=name, league_code=_league_code(league),
                              county_code=county, park_code=park,
                              energy_tce=float(energy_tce or 0.0), co2_t=float(co2_t or 0.0),
                              reviewed_on=_day(reviewed_on, "--reviewed-on"),
                              username=_user(user), industry=industry, product=product,
                              source=source)
    _done(row, as_json)


@pipeline_app.command("move")
def pipeline_move_cmd(
    code: Annotated[str, typer.Argument(help="Project code.")],
    status: Annotated[Status, typer.Argument(help="New state.")],  # type: ignore[valid-type]
    on: Annotated[str | None, typer.Option(help="Day of the step, YYYY-MM-DD (default: "
                                                "today).")] = None,
    note: Annotated[str | None, typer.Option(help="Note (e.g. the approval number).")]
    = None,
    user: Annotated[str | None, typer.Option(help="User recorded in the audit log.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Move a project to its next state; an illegal move is refused (exit code 2)."""
    from dualcontrol.store import open_store
    from dualcontrol.store.projects import transition

    with user_errors(), open_store() as store:
        row = transition(store, code=code, status=status.value, on=_day(on, "--on"),
                         username=_user(user), note=note)
    _done(row, as_json)


def _done(row: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print_json(row)
        return
    typer.echo(f"{row['code']}: {row['status']} ({row['name']}, league {row['league_code']}, "
               f"{row['co2_t']:,.0f} t CO2/a)")
