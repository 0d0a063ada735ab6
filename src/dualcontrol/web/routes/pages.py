"""Server-rendered pages: overview, league and enterprise."""

from __future__ import annotations

from typing import Any

import pandas as pd
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response

from dualcontrol.labels import KINDS, value_name
from dualcontrol.labels import kind_of as col_kind
from dualcontrol.labels import label as col_label
from dualcontrol.labels import unit as unit_of
from dualcontrol.regions import REGION_CODE
from dualcontrol.web import figures, headline
from dualcontrol.web.access import Data, Principal, may, permit, within_scope
from dualcontrol.web.deps import Ctx, CurrentPrincipal, WebContext, allow, render
from dualcontrol.web.i18n import pick_lang, translator
from dualcontrol.web.routes.accounts import accounts_kind, lineage, node_accounts
from dualcontrol.web.routes.assessment import scoped
from dualcontrol.web.routes.benchmarks import with_places

router = APIRouter(include_in_schema=False)


def latest_year(table: pd.DataFrame) -> int | None:
    """Return the last year of a table (None when empty)."""
    return int(table["year"].max()) if len(table) else None


def page_lang(request: Request) -> str:
    """Return the page's language (the query's, else the cookie's, else Chinese)."""
    return pick_lang(request.query_params.get("lang"), request.cookies.get("lang"))


def place_names(ctx: WebContext, lang: str) -> dict[str, str]:
    """Return the names of the region and leagues in ``lang`` (others as stored)."""
    names = dict(ctx.data.names())
    if lang != "zh":
        names[REGION_CODE] = "Inner Mongolia"
        for english in ctx.data.leagues():
            code = ctx.data.league_key(english)
            if code is not None:
                names[code] = english
    return names


def barometer_view(ctx: WebContext, principal: Principal, year: int | None, lang: str,
                   ) -> tuple[list[dict[str, Any]], tuple[str, ...], str]:
    """Return the headline rows (region, then leagues) of ``year`` the principal may see,
    the year's indicators (binding first) and the one the map shows by default (the
    first binding under the year's rule set: energy intensity to 2025, CO2 intensity
    from 2026).

    Places whose barometer the principal may not read are ``withheld``: no figure.
    """
    names = ctx.data.names()
    leagues = ctx.data.accounts(level="league")
    codes = sorted({str(c) for c in leagues["league"].unique()})
    shown = {REGION_CODE: may(principal, Data.assessment, node={"region": REGION_CODE})}
    shown |= {code: may(principal, Data.assessment,
                        node={"region": REGION_CODE, "league": code}) for code in codes}
    table = pd.DataFrame(columns=["region_code", "indicator"])
    if year is not None and any(shown.values()):
        table = scoped(principal, permit(principal, Data.assessment),
                       ctx.data.barometer(year=year))
    indicators = headline.indicators_of(table)
    rows = headline.status_rows(table, names, lang, shown, place_names(ctx, lang), indicators)
    return rows, indicators, headline.map_indicator(table)


#: Columns of the remaining-budget table on the overview.
BUDGET_COLUMNS = ["region_name", "horizon", "budget_tce", "binding", "intensity_room_tce",
                  "total_room_tce", "energy_for_total_tce", "gdp_growth"]
#: Columns of the region's and leagues' tables on the overview.
REGION_COLUMNS = ["year", "energy_tce", "controlled_tce", "feedstock_tce", "renewable_tce",
                  "co2_t", "gdp_const_10k_yuan", "intensity_tce_per_10k_yuan"]
LEAGUE_COLUMNS = ["name", "energy_tce", "controlled_tce", "co2_t", "gdp_const_10k_yuan",
                  "intensity_tce_per_10k_yuan", "co2_intensity_t_per_10k_yuan"]


@router.get("/")
def overview(request: Request, ctx: Ctx, principal: CurrentPrincipal,
             indicator: str | None = None) -> Response:
    """The headline (every indicator, region and leagues), the map, the budget, totals."""
    allow(ctx, request, principal, Data.published)
    lang = page_lang(request)
    t = translator(lang)
    leagues = ctx.data.accounts(level="league")
    year = latest_year(leagues)
    region = ctx.data.accounts(level="region")
    charts = {}
    if len(region):
        charts["region"] = ctx.data.memo(("chart-region", lang), lambda: figures.lines(
            scale(region, ["energy_tce", "controlled_tce"]), x="year",
            series={"energy_tce": col_label("energy_tce", lang, with_unit=False),
                    "controlled_tce": col_label("controlled_tce", lang, with_unit=False)},
            title=t("energy_trend"), y_title=unit_of("tce", lang), div_id="chart-region"))
    if "intensity_tce_per_10k_yuan" in leagues and len(leagues):  # published: every league
        charts["intensity"] = ctx.data.memo(("chart-intensity", lang), lambda: figures.lines(
            leagues, x="year", series={"intensity_tce_per_10k_yuan": "intensity"},
            group="name", title=t("intensity_trend"), y_title=unit_of("intensity", lang),
            div_id="chart-intensity"))
    budget = None
    if year is not None and may(principal, Data.budget):
        table = scoped(principal, permit(principal, Data.budget), ctx.data.budget(year=year))
        budget = table[BUDGET_COLUMNS].to_dict("records")
    rows, indicators, default = barometer_view(ctx, principal, year, lang)
    if indicator not in indicators:
        indicator = default
    latest = leagues[leagues["year"] == year] if year is not None else leagues
    return render(request, ctx, principal, "overview.html", year=year,
                  region=region.to_dict("records"), leagues=latest.to_dict("records"),
                  charts=charts, budget=budget, headline=rows,
                  indicators=indicators, indicator=indicator,
                  counts=headline.counts(rows), ratings=headline.RATINGS,
                  rated=may(principal, Data.assessment),
                  map_data=headline.map_series(rows, indicator, lang, figures.RATING_COLOURS),
                  region_columns=REGION_COLUMNS, league_columns=LEAGUE_COLUMNS)


def scale(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Return ``frame`` with ``columns`` in the units the pages show (charts)."""
    out = frame.copy()
    for column in columns:
        kind = col_kind(column)
        if kind is not None and column in out:
            out[column] = out[column] / KINDS[kind].divisor
    return out


@router.get("/league/{key}")
def league_page(request: Request, ctx: Ctx, principal: CurrentPrincipal,
                key: str) -> Response:
    """One league: trend, intensity, energy mix, CO2 and its enterprises."""
    return _node_page(request, ctx, principal, "league", key)


@router.get("/enterprise/{key}")
def enterprise_page(request: Request, ctx: Ctx, principal: CurrentPrincipal,
                    key: str) -> Response:
    """One enterprise: monthly trend, energy mix, CO2."""
    return _node_page(request, ctx, principal, "enterprise", key)


def _node_page(request: Request, ctx: WebContext, principal: Principal, level: str,
               key: str) -> Response:
    kind = accounts_kind(level, "year")  # a league page is published, an enterprise's not
    allow(ctx, request, principal, kind, level=level)  # before saying whether it exists
    ancestors = lineage(ctx, level, key)
    if ancestors is None:
        raise HTTPException(404, f"no {level} {key!r}")
    allow(ctx, request, principal, kind, level=level, node={**ancestors, level: key})
    lang = page_lang(request)
    t = translator(lang)
    yearly = node_accounts(ctx, level, key, "year")
    grain = "month" if level == "enterprise" else "year"
    trend = node_accounts(ctx, level, key, grain)
    if grain == "month":
        trend["period"] = trend["year"].astype(str) + "-" + trend["month"].astype(
            "Int64").astype(str).str.zfill(2)
    else:
        trend["period"] = trend["year"].astype(str)
    year = latest_year(yearly)
    trend = scale(trend, ["energy_tce", "controlled_tce", "co2_t"])
    memo = ctx.data.memo  # charts drawn once per store version (access checked above)
    charts = {
        "trend": memo((level, key, lang, "trend"), lambda: figures.lines(
            trend, x="period",
            series={c: col_label(c, lang, with_unit=False)
                    for c in ("energy_tce", "controlled_tce")},
            title=t("energy_trend"), y_title=unit_of("tce", lang), div_id="chart-trend")),
        "co2": memo((level, key, lang, "co2"), lambda: figures.bars(
            trend["period"].tolist(), trend["co2_t"].tolist(),
            title=t("co2"), y_title=unit_of("co2", lang), div_id="chart-co2")),
    }
    if year is not None:
        mix = ctx.data.energy_mix(level=level, key=key, year=year)
        charts["mix"] = memo((level, key, lang, "mix", year), lambda: figures.pie(
            [value_name(c, lang, "carrier") for c in mix["carrier"]],
            mix["energy_tce"].tolist(),
            title=f"{t('energy_mix')} {year}", div_id="chart-mix"))
    names = ctx.data.names()
    children = None
    if level == "league" and may(principal, Data.accounts, level="enterprise"):
        ent = ctx.data.accounts(level="enterprise")
        ent = within_scope(principal, permit(principal, Data.accounts),
                           ent[ent["league"].astype(str) == key])
        ent = ent[ent["year"] == year] if year is not None else ent.iloc[0:0]
        ent = ent.assign(county=ent["county"].map(lambda c: names.get(c, c)),
                         park=ent["park"].map(lambda c: names.get(c, "–")))
        children = ent.sort_values("controlled_tce", ascending=False).to_dict("records")
    status, indicators = None, ()
    if level == "league":  # the league's ratings, each linking to why it has it
        found, indicators, _ = barometer_view(ctx, principal, year, lang)
        rows = [r for r in found if r["code"] == key]
        if rows and any(c["rating"] != "withheld" for c in rows[0]["cells"].values()):
            status = rows[0]
    return render(request, ctx, principal, "node.html", level=level, key=key, status=status,
                  indicators=indicators,
                  name=names.get(key, key),
                  ancestors={lv: (code, names.get(code, code)) for lv, code in ancestors.items()},
                  yearly=yearly.to_dict("records"), charts=charts, children=children,
                  units=unit_positions(ctx, principal, level, key))


#: Columns of the benchmark position table of a league or enterprise page.
UNIT_COLUMNS = ["unit_id", "enterprise_name", "product", "unit_consumption", "level_unit",
                "benchmark", "baseline", "class"]


def unit_positions(ctx: WebContext, principal: Principal, level: str, key: str,
                   ) -> list[dict[str, object]] | None:
    """Return the benchmark position of each production unit of a league or enterprise."""
    if not may(principal, Data.benchmarks):
        return None
    units = ctx.data.unit_benchmarks()
    if units is None:
        return None
    column = "region" if level == "league" else "enterprise_code"
    mine = units[units[column].astype(str) == key]
    mine = within_scope(principal, permit(principal, Data.benchmarks), with_places(ctx, mine))
    return mine[[c for c in UNIT_COLUMNS if c in mine]].to_dict("records")


#: Figures of a barometer row shown on the why page, in order.
WHY_FIGURES = ("period", "plan", "kind", "base_year", "target_year", "target_value", "value",
               "requirement", "gap", "shortfall_fraction", "change_vs_base",
               "change_vs_same_period_last_year", "feedstock_deducted_tce",
               "renewable_increment_deducted_tce", "nonfossil_deducted_tce",
               "barometer_scheme", "progress_rule", "target_source")
#: Columns of the yearly accounts behind a rating.
WHY_ACCOUNTS = ["year", "energy_tce", "controlled_tce", "feedstock_tce", "nonfossil_tce",
                "gdp_const_10k_yuan", "intensity_tce_per_10k_yuan", "co2_t",
                "co2_intensity_t_per_10k_yuan"]
#: Columns of the enterprises (the reported rows summed) behind a league's figures.
WHY_ENTERPRISES = ["name", "county", "energy_tce", "controlled_tce", "co2_t"]


@router.get("/why/{key}/{indicator}")
def why_page(request: Request, ctx: Ctx, principal: CurrentPrincipal, key: str,
             indicator: str) -> Response:
    """Why a place has its rating: the figures, rule rows, documents and input rows."""
    allow(ctx, request, principal, Data.assessment)
    code = REGION_CODE if key == REGION_CODE else ctx.data.league_key(key)
    if code is None or indicator not in headline.INDICATORS:
        raise HTTPException(404, f"no rating of {key!r} on {indicator!r}")
    node = {"region": REGION_CODE} | ({} if code == REGION_CODE else {"league": code})
    allow(ctx, request, principal, Data.assessment, node=node)
    lang = page_lang(request)
    year = latest_year(ctx.data.accounts(level="league"))
    table = ctx.data.barometer(year=year) if year is not None else pd.DataFrame()
    found = table[(table["region_code"].astype(str) == code)
                  & (table["indicator"] == indicator)] if len(table) else table
    if found.empty:
        raise HTTPException(404, f"no rating of {key!r} on {indicator!r}")
    row = found.iloc[0].to_dict()
    names = ctx.data.names()
    name = place_names(ctx, lang).get(code, code)
    level = "region" if code == REGION_CODE else "league"
    accounts = node_accounts(ctx, level, code, "year")
    base = row.get("base_year")
    if base is not None and base == base:
        accounts = accounts[accounts["year"] >= int(base)]
    inputs = None
    input_level = "league" if level == "region" else "enterprise"
    if may(principal, Data.accounts, level=input_level) and year is not None:
        rows = ctx.data.accounts(level=input_level)
        rows = rows[rows["year"] == year]
        if level == "league":
            rows = rows[rows["league"].astype(str) == code]
        rows = within_scope(principal, permit(principal, Data.accounts), rows)
        inputs = rows.sort_values("controlled_tce", ascending=False)
        inputs = inputs.assign(key=inputs[input_level].astype(str),
                               county=inputs["county"].map(names) if "county" in inputs
                               else None).to_dict("records")
    others = [i for i in headline.indicators_of(table) if i != indicator]
    return render(request, ctx, principal, "why.html", code=code, name=name, level=level,
                  others=others,
                  indicator=indicator, year=year, row=row, figures=WHY_FIGURES,
                  text=headline.sentence(row, lang, name=name),
                  rules=headline.rule_rows(row, year),
                  accounts=accounts.to_dict("records"), account_columns=WHY_ACCOUNTS,
                  inputs=inputs, input_level=input_level,
                  input_columns=WHY_ENTERPRISES if input_level == "enterprise"
                  else ["name", "energy_tce", "controlled_tce", "co2_t"])
