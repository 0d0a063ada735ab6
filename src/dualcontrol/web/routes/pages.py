"""Server-rendered pages: overview, league and enterprise."""

from __future__ import annotations

import csv
from functools import cache
from importlib import resources

import pandas as pd
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response

from dualcontrol.regions import REGION_CODE
from dualcontrol.web import figures
from dualcontrol.web.access import Data, Principal, may, permit, within_scope
from dualcontrol.web.deps import Ctx, CurrentPrincipal, WebContext, allow, render
from dualcontrol.web.i18n import translator
from dualcontrol.web.routes.accounts import accounts_kind, lineage, node_accounts
from dualcontrol.web.routes.assessment import scoped
from dualcontrol.web.routes.benchmarks import with_places

router = APIRouter(include_in_schema=False)


@cache
def tiles() -> tuple[dict[str, str], ...]:
    """Return the 12 leagues and cities with their tile position (west to east)."""
    text = resources.files("dualcontrol.web").joinpath("tiles.csv").read_text("utf-8")
    return tuple(csv.DictReader(text.splitlines()))


def latest_year(table: pd.DataFrame) -> int | None:
    """Return the last year of a table (None when empty)."""
    return int(table["year"].max()) if len(table) else None


#: The barometer indicators that may colour the tiles: the first one binding under the
#: year's rule set (energy intensity to 2025, CO2 intensity from 2026).
TILE_INDICATORS = ("energy_intensity", "co2_intensity")


def tile_map(ctx: WebContext, principal: Principal, year: int | None, lang: str,
             ) -> list[dict[str, object]]:
    """Return the tiles of the barometer with the rating of intensity of each league.

    Leagues whose barometer the principal may not read are ``withheld``: grey, no figure.
    """
    ratings: dict[str, dict[str, object]] = {}
    if year is not None and may(principal, Data.assessment):
        barometer = scoped(principal, permit(principal, Data.assessment),
                           ctx.data.barometer(year=year))
        binding = barometer[barometer["indicator"].isin(TILE_INDICATORS)
                            & (barometer["role"] == "binding")]["indicator"]
        shown = binding.iloc[0] if len(binding) else TILE_INDICATORS[0]
        intensity = barometer[barometer["indicator"] == shown]
        for row in intensity.to_dict("records"):
            ratings[str(row["region_code"])] = row
    out = []
    for tile in tiles():
        shown = may(principal, Data.assessment,
                    node={"region": REGION_CODE, "league": tile["code"]})
        found = ratings.get(tile["code"]) or {}
        rating = str(found.get("rating") or "no_data") if shown else "withheld"
        out.append({**tile, "name": tile["name_zh"] if lang == "zh" else tile["name_en"],
                    "rating": rating, "colour": figures.RATING_COLOURS.get(rating, "#9e9e9e"),
                    "value": found.get("value"), "requirement": found.get("requirement")})
    return out


#: Columns of the remaining-budget table on the overview.
BUDGET_COLUMNS = ["region_code", "region_name", "year", "budget_tce", "binding",
                  "intensity_room_tce", "total_room_tce"]


@router.get("/")
def overview(request: Request, ctx: Ctx, principal: CurrentPrincipal) -> Response:
    """Region totals, intensity of the leagues, the barometer tile map, the budget."""
    allow(ctx, request, principal, Data.published)
    lang = request.query_params.get("lang") or request.cookies.get("lang") or "zh"
    t = translator(lang)
    leagues = ctx.data.accounts(level="league")
    year = latest_year(leagues)
    region = ctx.data.accounts(level="region")
    charts = {}
    if len(region):
        charts["region"] = ctx.data.memo(("chart-region", lang), lambda: figures.lines(
            region, x="year", series={"energy_tce": t("energy_trend"),
                                      "controlled_tce": "controlled_tce"},
            title=t("energy_trend"), y_title="tce", div_id="chart-region"))
    if "intensity_tce_per_10k_yuan" in leagues and len(leagues):  # published: every league
        charts["intensity"] = ctx.data.memo(("chart-intensity", lang), lambda: figures.lines(
            leagues, x="year", series={"intensity_tce_per_10k_yuan": "intensity"},
            group="name", title=t("intensity_trend"), y_title="tce/10^4 yuan",
            div_id="chart-intensity"))
    budget = None
    if year is not None and may(principal, Data.budget):
        table = scoped(principal, permit(principal, Data.budget), ctx.data.budget(year=year))
        budget = table[table["horizon"] == "plan_end"][BUDGET_COLUMNS].to_dict("records")
    latest = leagues[leagues["year"] == year] if year is not None else leagues
    return render(request, ctx, principal, "overview.html", year=year,
                  region=region.to_dict("records"), leagues=latest.to_dict("records"),
                  charts=charts, tiles=tile_map(ctx, principal, year, lang), budget=budget)


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
    lang = request.query_params.get("lang") or request.cookies.get("lang") or "zh"
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
    memo = ctx.data.memo  # charts drawn once per store version (access checked above)
    charts = {
        "trend": memo((level, key, lang, "trend"), lambda: figures.lines(
            trend, x="period", series={"energy_tce": "energy_tce",
                                       "controlled_tce": "controlled_tce"},
            title=t("energy_trend"), y_title="tce", div_id="chart-trend")),
        "co2": memo((level, key, lang, "co2"), lambda: figures.bars(
            trend["period"].tolist(), trend["co2_t"].tolist(),
            title=t("co2"), y_title="t CO2", div_id="chart-co2")),
    }
    if year is not None:
        mix = ctx.data.energy_mix(level=level, key=key, year=year)
        charts["mix"] = memo((level, key, lang, "mix", year), lambda: figures.pie(
            mix["carrier"].tolist(), mix["energy_tce"].tolist(),
            title=f"{t('energy_mix')} {year}", div_id="chart-mix"))
    children = None
    if level == "league" and may(principal, Data.accounts, level="enterprise"):
        ent = ctx.data.accounts(level="enterprise")
        ent = within_scope(principal, permit(principal, Data.accounts),
                           ent[ent["league"].astype(str) == key])
        children = ent[ent["year"] == year].to_dict("records") if year is not None else []
    names = ctx.data.names()
    return render(request, ctx, principal, "node.html", level=level, key=key,
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
