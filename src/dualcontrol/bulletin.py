"""The quarterly dual-control bulletin: barometer, accounts, charts and commentary.

:func:`bulletin` gathers the numbers of a quarter (cumulative from January, as the
dual-control progress is assessed) and writes the commentary from them;
:func:`render_html`, :func:`write_xlsx` and :func:`write_pdf` format it. The PDF is
Chromium's print of the HTML (``chromium --headless --print-to-pdf``), so it needs the
``chromium`` package but no network.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd
from jinja2 import Environment, FileSystemLoader, select_autoescape

from dualcontrol import labels
from dualcontrol.accounting import parse_period
from dualcontrol.errors import DualControlError, InputError, Problem
from dualcontrol.exports import neutralise_formulas

logger = logging.getLogger(__name__)

#: Measures summed in the bulletin [tce, t CO2].
BULLETIN_MEASURES: tuple[str, ...] = ("energy_tce", "controlled_tce", "feedstock_tce",
                                      "renewable_tce", "co2_t")
CHROMIUM_CANDIDATES: tuple[str, ...] = ("/usr/bin/chromium", "chromium", "chromium-browser")


@dataclass
class Bulletin:
    """The numbers and words of one quarter's bulletin."""

    year: int
    quarter: int
    leagues: pd.DataFrame
    region: pd.DataFrame
    barometer: pd.DataFrame
    commentary: list[str] = field(default_factory=list)
    #: The same sentences in Chinese (the published bulletin's language).
    commentary_zh: list[str] = field(default_factory=list)
    #: the 1+N+X measures by level and status (:func:`dualcontrol.measures.summary`)
    measures: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: the carbon budgets of the region and leagues for the year (:func:`carbon_section`)
    carbon: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def label(self) -> str:
        """Return the period as written: ``2024-Q4``."""
        return f"{self.year}-Q{self.quarter}"


def parse_quarter(text: str) -> tuple[int, int]:
    """Return (year, quarter) of a period written ``2024-Q4``."""
    period = parse_period(text, field="--period")
    if period.grain != "quarter":
        raise InputError(Problem("the bulletin is quarterly", field="--period", value=text,
                                 accepted=["YYYY-Q1", "YYYY-Q2", "YYYY-Q3", "YYYY-Q4"]))
    assert period.quarter is not None
    return period.year, period.quarter


def year_to_date(quarterly: pd.DataFrame, *, level: str, year: int,
                 quarter: int) -> pd.DataFrame:
    """Return sums from January to the end of ``quarter`` of ``year`` and a year before.

    Parameters
    ----------
    quarterly : DataFrame
        Accounts by ``level`` and quarter (:func:`dualcontrol.accounting.accounts`).

    Returns
    -------
    DataFrame
        One row per ``level`` value: the measures of this year to date, the same of
        last year (``*_prev``) and the change ``*_change_pct`` [%].
    """
    keep = [m for m in BULLETIN_MEASURES if m in quarterly.columns]
    cumulative = quarterly[quarterly["quarter"] <= quarter]
    now = cumulative[cumulative["year"] == year].groupby(level)[keep].sum()
    before = cumulative[cumulative["year"] == year - 1].groupby(level)[keep].sum()
    if now.empty:
        raise InputError(Problem("no data for the period", field="--period",
                                 value=f"{year}-Q{quarter}",
                                 accepted=sorted({f"{y}-Qn" for y in quarterly["year"]})))
    out = now.join(before.add_suffix("_prev"), how="left")
    for measure in keep:
        out[f"{measure}_change_pct"] = (out[measure] / out[f"{measure}_prev"] - 1.0) * 100.0
    return out.reset_index()


def commentary(region: pd.DataFrame, leagues: pd.DataFrame, barometer: pd.DataFrame,
               label: str) -> list[str]:
    """Return sentences stating what the numbers of the bulletin show."""
    lines = []
    row = region.iloc[0]
    change = row.get("energy_tce_change_pct")
    text = (f"From January to the end of {label}, the region used "
            f"{row['energy_tce'] / 1e4:,.1f} 万tce of energy "
            f"({row['controlled_tce'] / 1e4:,.1f} 万tce counted against the cap after the "
            f"feedstock and renewable deductions) and emitted {row['co2_t'] / 1e4:,.1f} 万t CO2")
    if pd.notna(change):
        co2 = row.get("co2_t_change_pct")
        text += (f"; energy use {'rose' if change >= 0 else 'fell'} {abs(change):.1f} % and "
                 f"CO2 {'rose' if co2 >= 0 else 'fell'} {abs(co2):.1f} % on the same period "
                 "of last year")
    lines.append(text + ".")
    ranked = leagues.sort_values("energy_tce", ascending=False)
    top = ranked.iloc[0]
    share = top["energy_tce"] / leagues["energy_tce"].sum() * 100.0
    lines.append(f"{top.iloc[0]} used the most energy, {share:.1f} % of the total of the "
                 "leagues and cities reported.")
    if "energy_tce_change_pct" in leagues and leagues["energy_tce_change_pct"].notna().any():
        fastest = leagues.loc[leagues["energy_tce_change_pct"].idxmax()]
        lines.append(f"Energy use grew fastest in {fastest.iloc[0]} "
                     f"({fastest['energy_tce_change_pct']:+.1f} %).")
    if barometer.empty:
        lines.append("No barometer rating is available for this period (no assessment "
                     "targets in the data).")
    else:
        for rating, words in (("red", "first-level warning (red)"),
                              ("yellow", "second-level warning (yellow)")):
            rated = barometer[barometer["rating"] == rating]
            if len(rated):
                names = ", ".join(sorted(f"{r} ({i})" for r, i in
                                         zip(rated["region"], rated["indicator"],
                                             strict=True)))
                lines.append(f"{len(rated)} ratings at {words}: {names}.")
        green = int((barometer["rating"] == "green").sum())
        rated = int(barometer["rating"].isin(["green", "yellow", "red"]).sum())
        lines.append(f"{green} of {rated} ratings are on track (green); indicators only "
                     "reported under the year's rule set, or without a target, are not "
                     "counted.")
    return lines


#: Columns of the bulletin's carbon-budget section [t CO2].
CARBON_COLUMNS: tuple[str, ...] = ("region_code", "region_name", "level", "budget_co2_t",
                                   "actual_co2_t", "reserved_co2_t", "remaining_co2_t",
                                   "actual_basis", "rule_id")


def carbon_section(budgets: pd.DataFrame, year: int,
                   ) -> tuple[pd.DataFrame, list[str], list[str]]:
    """Return the carbon budgets of the region and leagues for ``year``, and the
    sentences saying them in English and in Chinese.

    ``budgets`` is :func:`dualcontrol.carbon_budget.carbon_budgets` output (the one
    figure every interface shows); remaining = budget - actual - reserved [t CO2].
    """
    rows = budgets[(budgets["period"].astype(str) == str(year))
                   & budgets["level"].isin(["region", "league"])]
    table = rows[[c for c in CARBON_COLUMNS if c in rows.columns]].reset_index(drop=True)
    if table.empty:
        return table, [], []
    region = table[table["level"] == "region"]
    en: list[str] = []
    zh: list[str] = []
    if len(region):
        r = region.iloc[0]
        budget, actual = r["budget_co2_t"] / 1e4, r["actual_co2_t"] / 1e4
        reserved, remaining = r["reserved_co2_t"] / 1e4, r["remaining_co2_t"] / 1e4
        en.append(f"Carbon budget {year}: {budget:,.1f} 万t CO2 for the region; "
                  f"{actual:,.1f} 万t expected ({r['actual_basis']}), {reserved:,.1f} 万t "
                  f"reserved by approved projects, {remaining:,.1f} 万t remaining.")
        zh.append(f"{year}年全区碳预算{budget:,.1f}万吨二氧化碳；预计排放{actual:,.1f}万吨"
                  f"（{r['actual_basis']}），已批复项目预留{reserved:,.1f}万吨，"
                  f"剩余{remaining:,.1f}万吨。")
    over = table[(table["level"] == "league") & (table["remaining_co2_t"] < 0)]
    if len(over):
        names = sorted(over["region_name"].astype(str))
        en.append(f"{len(over)} leagues overdraw their carbon budget: {', '.join(names)}.")
        zh.append(f"{len(over)}个盟市碳预算超支：{'、'.join(names)}。")
    return table, en, zh


def commentary_zh(region: pd.DataFrame, leagues: pd.DataFrame, barometer: pd.DataFrame,
                  year: int, quarter: int) -> list[str]:
    """Return the sentences of :func:`commentary` in Chinese, in 万吨标准煤 and 万吨CO2.

    The same figures as the English sentences: energy and CO2 of the region from January
    to the end of the quarter and their change on the same period of last year, the
    league using the most energy and its share, the fastest growth, and the ratings.
    """
    lines = []
    row = region.iloc[0]
    change = row.get("energy_tce_change_pct")
    text = (f"{year}年1—{quarter * 3}月，全区能源消费量{row['energy_tce'] / 1e4:,.1f}万吨标准煤"
            f"（扣除原料用能和可再生能源后纳入控制的能耗{row['controlled_tce'] / 1e4:,.1f}"
            f"万吨标准煤），二氧化碳排放量{row['co2_t'] / 1e4:,.1f}万吨")
    if pd.notna(change):
        co2 = row.get("co2_t_change_pct")
        text += (f"；能源消费量同比{'增长' if change >= 0 else '下降'}{abs(change):.1f}%，"
                 f"二氧化碳排放量同比{'增长' if co2 >= 0 else '下降'}{abs(co2):.1f}%")
    lines.append(text + "。")
    ranked = leagues.sort_values("energy_tce", ascending=False)
    top = ranked.iloc[0]
    share = top["energy_tce"] / leagues["energy_tce"].sum() * 100.0
    lines.append(f"{top.iloc[0]}能源消费量最大，占各盟市合计的{share:.1f}%。")
    if "energy_tce_change_pct" in leagues and leagues["energy_tce_change_pct"].notna().any():
        fastest = leagues.loc[leagues["energy_tce_change_pct"].idxmax()]
        lines.append(f"{fastest.iloc[0]}能源消费量增长最快（同比"
                     f"{fastest['energy_tce_change_pct']:+.1f}%）。")
    indicators = {"energy_intensity": "能耗强度", "energy_total": "能源消费总量",
                  "co2_intensity": "碳排放强度"}
    if barometer.empty:
        lines.append("本期无晴雨表评估结果（数据中无考核目标）。")
    else:
        for rating, words in (("red", "一级预警（红色）"), ("yellow", "二级预警（黄色）")):
            rated = barometer[barometer["rating"] == rating]
            if len(rated):
                names = "、".join(sorted(f"{r}（{indicators.get(i, i)}）" for r, i in
                                        zip(rated["region"], rated["indicator"],
                                            strict=True)))
                lines.append(f"{len(rated)}项评估为{words}：{names}。")
        green = int((barometer["rating"] == "green").sum())
        lines.append(f"{len(barometer)}项评估中{green}项进展顺利（绿色）。")
    return lines


def bulletin(quarterly_leagues: pd.DataFrame, quarterly_region: pd.DataFrame,
             barometer: pd.DataFrame, period: str,
             measures: pd.DataFrame | None = None,
             carbon_budgets: pd.DataFrame | None = None) -> Bulletin:
    """Return the bulletin of ``period`` (``YYYY-Qn``) from quarterly accounts.

    Parameters
    ----------
    quarterly_leagues, quarterly_region : DataFrame
        Accounts by league and by region, grain quarter.
    barometer : DataFrame
        The assessment's ratings (``region``, ``indicator``, ``value``,
        ``requirement``, ``gap``, ``rating``); may be empty.
    measures : DataFrame, optional
        The measures registry; its section (no enterprise named) is as of the
        quarter's last day (:func:`dualcontrol.measures.bulletin_section`).
    carbon_budgets : DataFrame, optional
        :func:`dualcontrol.carbon_budget.carbon_budgets` (15th plan); the section shows
        the region's and leagues' budgets of the year (:func:`carbon_section`).
    """
    year, quarter = parse_quarter(period)
    leagues = year_to_date(quarterly_leagues, level="league", year=year, quarter=quarter)
    region = year_to_date(quarterly_region, level="region", year=year, quarter=quarter)
    result = Bulletin(year, quarter, leagues, region, barometer.reset_index(drop=True))
    result.commentary = commentary(region, leagues, result.barometer, result.label)
    result.commentary_zh = commentary_zh(region, leagues, result.barometer, year, quarter)
    if measures is not None and len(measures):
        import datetime as dt

        from dualcontrol.measures import bulletin_section

        end = dt.date(year, 3 * quarter, 1) + dt.timedelta(days=31)
        table, lines, lines_zh = bulletin_section(measures, end - dt.timedelta(days=end.day))
        result.measures = table
        result.commentary += lines
        result.commentary_zh += lines_zh
    if carbon_budgets is not None and len(carbon_budgets):
        result.carbon, lines, lines_zh = carbon_section(carbon_budgets, year)
        result.commentary += lines
        result.commentary_zh += lines_zh
    return result


def _charts(b: Bulletin, *, inline_js: bool, lang: str = "en") -> list[str]:
    import plotly.graph_objects as go

    zh = lang == "zh"
    tce, co2 = labels.KINDS["tce"].divisor, labels.KINDS["co2"].divisor
    previous = b.leagues.get("energy_tce_prev")
    figs = []
    fig = go.Figure([go.Bar(name=f"{b.year - 1}", x=b.leagues["league"],
                            y=None if previous is None else previous / tce),
                     go.Bar(name=f"{b.year}", x=b.leagues["league"],
                            y=b.leagues["energy_tce"] / tce)])
    fig.update_layout(title=(f"1—{b.quarter * 3}月能源消费量" if zh
                             else f"Energy use January to Q{b.quarter}"),
                      yaxis_title=labels.unit("tce", lang), barmode="group")
    figs.append(fig)
    fig = go.Figure(go.Bar(x=b.leagues["league"], y=b.leagues["co2_t"] / co2))
    fig.update_layout(title=(f"1—{b.quarter * 3}月二氧化碳排放量" if zh
                             else f"CO2 January to Q{b.quarter}"),
                      yaxis_title=labels.unit("co2", lang))
    figs.append(fig)
    html = []
    for i, fig in enumerate(figs):
        fig.update_layout(height=330, margin={"l": 50, "r": 20, "t": 50, "b": 40},
                          template="plotly_white")
        html.append(fig.to_html(full_html=False, include_plotlyjs=(inline_js and i == 0),
                                div_id=f"bulletin-chart-{i}", config={"displaylogo": False,
                                                                      "staticPlot": True}))
    return html


def render_html(b: Bulletin, *, inline_js: bool = True, lang: str = "zh") -> str:
    """Return the bulletin as an A4 HTML page (self-contained when ``inline_js``).

    ``lang`` ``zh`` (the published bulletin) or ``en``: headings, column labels, rating
    names and commentary in that language, figures in 万吨标准煤 and 万吨CO2
    (:mod:`dualcontrol.labels`).
    """
    env = Environment(loader=FileSystemLoader(str(resources.files("dualcontrol.web")
                                                  .joinpath("templates"))),
                      autoescape=select_autoescape(["html"]))
    env.globals.update(labels.jinja_globals())
    return env.get_template("bulletin_document.html").render(
        b=b, charts=_charts(b, inline_js=inline_js, lang=lang), lang=lang,
        commentary=b.commentary_zh if lang == "zh" else b.commentary,
        leagues=b.leagues.to_dict("records"), region=b.region.to_dict("records"),
        barometer=b.barometer.to_dict("records"), measures=b.measures.to_dict("records"),
        carbon=b.carbon.to_dict("records"), inline_js=inline_js)


def write_xlsx(b: Bulletin, path: str | Path) -> Path:
    """Write the bulletin's tables and commentary to an XLSX workbook.

    Text that a spreadsheet would run as a formula (a league or enterprise name
    beginning with ``=``, say) is written inert, see :mod:`dualcontrol.exports`.
    """
    path = Path(path)
    sheets = {"commentary": pd.DataFrame({"commentary": b.commentary}),
              "barometer": b.barometer, "region": b.region, "leagues": b.leagues}
    if len(b.measures):
        sheets["measures"] = b.measures
    if len(b.carbon):
        sheets["carbon_budgets"] = b.carbon
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        for name, table in sheets.items():
            neutralise_formulas(table).to_excel(writer, sheet_name=name, index=False)
    return path


def find_chromium() -> str:
    """Return the path of a Chromium executable, or raise if there is none."""
    for candidate in CHROMIUM_CANDIDATES:
        found = shutil.which(candidate)
        if found:
            return found
    raise DualControlError("PDF output needs Chromium (Debian: apt-get install chromium)")


def write_pdf(b: Bulletin, path: str | Path, *, timeout_s: float = 120.0,
              lang: str = "zh") -> Path:
    """Write the bulletin as an A4 PDF: Chromium prints the self-contained HTML, offline.

    The Chinese text needs a CJK font (``fonts-noto-cjk``, installed by
    ``scripts/test-services.sh``); Chromium embeds it in the PDF.
    """
    path = Path(path).resolve()
    chromium = find_chromium()
    with tempfile.TemporaryDirectory() as tmp:
        page = Path(tmp) / "bulletin.html"
        page.write_text(render_html(b, inline_js=True, lang=lang), encoding="utf-8")
        command = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                   "--no-first-run", "--disable-background-networking",
                   "--disable-component-update", "--disable-sync", "--no-pdf-header-footer",
                   f"--user-data-dir={tmp}/profile", "--virtual-time-budget=10000",
                   f"--print-to-pdf={path}", page.as_uri()]
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout_s,
                              check=False)
    if done.returncode != 0 or not path.exists() or path.stat().st_size == 0:
        raise DualControlError(f"Chromium could not print the PDF: {done.stderr[-500:]}")
    return path


def as_dict(b: Bulletin) -> dict[str, Any]:
    """Return the bulletin as JSON-ready data."""
    from dualcontrol.exports import frame_records

    return {"period": b.label, "commentary": b.commentary,
            "barometer": frame_records(b.barometer), "region": frame_records(b.region),
            "leagues": frame_records(b.leagues), "measures": frame_records(b.measures),
            "carbon_budgets": frame_records(b.carbon)}


__all__ = ["Bulletin", "bulletin", "render_html", "write_pdf", "write_xlsx"]
