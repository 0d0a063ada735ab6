"""Column labels, value names and number formats of pages and bulletins: one place for all.

Every table of a page takes its header from :func:`label` and its cells from
:func:`cell` (the Jinja macro ``table`` in ``_macros.html`` calls them), so a column is
named and formatted the same on every page, in Chinese or English.

Figures are shown in the units a development-and-reform commission publishes:

- energy [tce] in 万吨标准煤 (10^4 tce),
- CO2 [t] in 万吨CO2 (10^4 t CO2),
- energy intensity [tce / 10^4 yuan] in 吨标准煤/万元 (unchanged),
- GDP [10^4 yuan] in 亿元 (10^8 yuan),
- fractions (reductions, shares) in per cent,

with thousands separators (:func:`format_number`). The stored and downloaded tables keep
their base units (tce, t, 10^4 yuan); only the page shows the scaled figure.
"""

from __future__ import annotations

import math
import numbers
import re
from dataclasses import dataclass
from functools import cache
from typing import Any


@dataclass(frozen=True)
class Kind:
    """A kind of figure: the stored value divided by ``divisor`` with ``digits`` decimals."""

    divisor: float
    digits: int
    unit_en: str
    unit_zh: str
    percent: bool = False


KINDS: dict[str, Kind] = {
    "tce": Kind(1e4, 2, "10⁴ tce", "万吨标准煤"),
    "co2": Kind(1e4, 2, "10⁴ t CO2", "万吨CO2"),
    "intensity": Kind(1.0, 4, "tce/10⁴ yuan", "吨标准煤/万元"),
    "co2_intensity": Kind(1.0, 4, "t CO2/10⁴ yuan", "吨CO2/万元"),
    "gdp": Kind(1e4, 2, "10⁸ yuan", "亿元"),
    "fraction": Kind(0.01, 2, "%", "%", percent=True),
    "pct": Kind(1.0, 1, "%", "%", percent=True),
    "number": Kind(1.0, 2, "", ""),
    "unit_consumption": Kind(1.0, 1, "", ""),
    "count": Kind(1.0, 0, "", ""),
}


@dataclass(frozen=True)
class Column:
    """A column: its English and Chinese label and the kind of its values (None: text)."""

    en: str
    zh: str
    kind: str | None = None


def _c(en: str, zh: str, kind: str | None = None) -> Column:
    return Column(en, zh, kind)


#: Every column a page shows. Keys are the field names of the library's tables.
COLUMNS: dict[str, Column] = {
    # places
    "region": _c("Region", "地区"), "region_code": _c("Code", "代码"),
    "region_name": _c("Region", "地区"), "name": _c("Name", "名称"),
    "league": _c("League or city", "盟市"), "county": _c("County", "旗县区"),
    "park": _c("Park", "园区"), "enterprise": _c("Enterprise", "企业"),
    "enterprise_name": _c("Enterprise", "企业名称"), "level": _c("Level", "层级"),
    "uscc": _c("Credit code", "统一社会信用代码"),
    # time
    "year": _c("Year", "年份"), "month": _c("Month", "月份"), "quarter": _c("Quarter", "季度"),
    "period": _c("Period", "统计期"), "base_year": _c("Base year", "基年"),
    "target_year": _c("Target year", "目标年"), "last_actual_year": _c("Last year observed",
                                                                       "最近实际年份"),
    # accounts
    "energy_tce": _c("Energy consumption", "能源消费量", "tce"),
    "controlled_tce": _c("Energy under control", "纳入控制的能耗", "tce"),
    "feedstock_tce": _c("Feedstock use", "原料用能", "tce"),
    "renewable_tce": _c("Renewable energy", "可再生能源", "tce"),
    "nonfossil_tce": _c("Non-fossil energy", "非化石能源", "tce"),
    "self_produced_tce": _c("Self-produced energy", "自产能源", "tce"),
    "supplied_tce": _c("Energy supplied", "外购能源", "tce"),
    "co2_t": _c("CO2 emissions", "二氧化碳排放量", "co2"),
    "co2_combustion_t": _c("CO2 from combustion", "燃烧排放", "co2"),
    "co2_electricity_t": _c("CO2 of electricity", "电力间接排放", "co2"),
    "co2_heat_t": _c("CO2 of heat", "热力间接排放", "co2"),
    "gdp_current_10k_yuan": _c("GDP (current prices)", "地区生产总值（当年价）", "gdp"),
    "gdp_const_10k_yuan": _c("GDP (constant prices)", "地区生产总值（可比价）", "gdp"),
    "gdp_base_year": _c("Price base year", "可比价基年"),
    "intensity_tce_per_10k_yuan": _c("Energy intensity", "能耗强度", "intensity"),
    "controlled_intensity_tce_per_10k_yuan": _c("Controlled energy intensity",
                                                "控制口径能耗强度", "intensity"),
    "co2_intensity_t_per_10k_yuan": _c("CO2 intensity", "碳排放强度", "co2_intensity"),
    "carrier": _c("Energy carrier", "能源品种"), "quantity": _c("Quantity", "实物量", "number"),
    "unit": _c("Unit", "计量单位"), "use": _c("Use", "用途"), "origin": _c("Origin", "来源"),
    # barometer
    "indicator": _c("Indicator", "指标"), "rating": _c("Rating", "预警等级"),
    "plan": _c("Plan", "规划期"), "kind": _c("Target kind", "目标性质"),
    "target_value": _c("Target", "目标值"),
    "value": _c("Achieved", "完成值"), "requirement": _c("Required by now", "进度要求"),
    "gap": _c("Gap", "差距"), "shortfall_fraction": _c("Shortfall (of requirement)",
                                                     "差距占要求比例", "fraction"),
    "change_vs_base": _c("Change since base year", "较基年变化", "fraction"),
    "change_vs_same_period_last_year": _c("Change on a year earlier", "同比变化", "fraction"),
    "rule_id": _c("Rule", "规则"), "role": _c("Role under the rule set", "指标属性"),
    "target_source": _c("Target document", "目标来源"),
    "note": _c("Note", "说明"), "exclusions": _c("Deductions applied", "扣除规则"),
    "feedstock_deducted_tce": _c("Feedstock deducted", "扣除原料用能", "tce"),
    "renewable_increment_deducted_tce": _c("Renewable increment deducted",
                                           "扣除新增可再生能源", "tce"),
    "nonfossil_deducted_tce": _c("Non-fossil deducted", "扣除非化石能源", "tce"),
    "barometer_scheme": _c("Barometer scheme", "晴雨表方案"),
    "progress_rule": _c("Progress rule", "进度规则"), "progress_path": _c("Progress path",
                                                                      "进度路径"),
    # budget
    "horizon": _c("Horizon", "期限"), "gdp_growth": _c("GDP growth", "GDP增速", "fraction"),
    "intensity_allowed_tce": _c("Allowed by intensity", "强度目标允许能耗", "tce"),
    "total_allowed_tce": _c("Allowed by total", "总量目标允许能耗", "tce"),
    "energy_for_intensity_tce": _c("Energy (intensity basis)", "强度口径能耗", "tce"),
    "energy_for_total_tce": _c("Energy (total basis)", "总量口径能耗", "tce"),
    "intensity_room_tce": _c("Room under intensity", "强度目标剩余空间", "tce"),
    "total_room_tce": _c("Room under total", "总量目标剩余空间", "tce"),
    "incentive_room_tce": _c("Room under incentive target", "激励目标剩余空间", "tce"),
    "budget_tce": _c("Remaining energy budget", "剩余用能空间", "tce"),
    "binding": _c("Binding limit", "约束指标"), "gdp_growth_basis": _c("GDP growth basis",
                                                                      "增速依据"),
    # benchmarking
    "unit_id": _c("Production unit", "生产单元"), "product": _c("Product", "产品"),
    "industry": _c("Industry", "行业"),
    "unit_consumption": _c("Unit consumption", "单位产品能耗", "unit_consumption"),
    "level_unit": _c("Unit of the levels", "能耗单位"), "level_set": _c("Level set", "能效标准"),
    "benchmark": _c("Benchmark level", "标杆水平", "unit_consumption"),
    "baseline": _c("Baseline level", "基准水平", "unit_consumption"),
    "quota_limit": _c("Quota limit", "限额值", "unit_consumption"),
    "class": _c("Class", "能效等级"), "upgrade_deadline": _c("Upgrade deadline", "改造期限"),
    "rank": _c("Rank", "排名"), "units": _c("Units", "单元数", "count"),
    "margin_to_benchmark": _c("Margin to benchmark", "优于标杆幅度", "unit_consumption"),
    "capacity_share": _c("Share of capacity", "产能占比", "fraction"),
    "output_share": _c("Share of output", "产量占比", "fraction"),
    "savings_tce": _c("Savings potential", "节能潜力", "tce"),
    "units_worse_than_baseline": _c("Units worse than the baseline", "未达基准水平的单元",
                                    "count"),
    "units_worse_than_benchmark": _c("Units worse than the benchmark", "未达标杆水平的单元",
                                     "count"),
    "savings_to_benchmark_tce": _c("Savings at the benchmark", "达标杆节能量", "tce"),
    "savings_to_baseline_tce": _c("Savings at the baseline", "达基准节能量", "tce"),
    "savings_to_benchmark_co2_t": _c("CO2 cut at the benchmark", "达标杆减排量", "co2"),
    "savings_to_baseline_co2_t": _c("CO2 cut at the baseline", "达基准减排量", "co2"),
    "peak_status": _c("Peak status", "达峰状态"),
    "peaked_by_end": _c("Peaked by the end", "期末前达峰"),
    "peak_year": _c("Peak year", "达峰年份"), "peak_level": _c("Peak level", "峰值"),
    "p_peaked_by_end": _c("Probability of peaking by the end", "期末前达峰概率", "fraction"),
    "peak_year_p5": _c("Peak year (5th percentile)", "达峰年份（5%分位）"),
    "peak_year_p50": _c("Peak year (median)", "达峰年份（中位数）"),
    "peak_year_p95": _c("Peak year (95th percentile)", "达峰年份（95%分位）"),
    # review and outlook
    "project_controlled_tce": _c("Project's controlled energy", "项目纳入控制能耗", "tce"),
    "total_increase_pct": _c("Increase of the total (%)", "总量增幅（%）", "number"),
    "intensity_before": _c("Intensity before", "项目前能耗强度", "intensity"),
    "intensity_after": _c("Intensity after", "项目后能耗强度", "intensity"),
    "intensity_change_pct": _c("Intensity change (%)", "强度变化（%）", "number"),
    "budget_share": _c("Share of the remaining budget", "占剩余用能空间比例", "fraction"),
    "factor": _c("Factor", "因素"), "effect": _c("Effect", "影响", "tce"),
    "source": _c("Source", "来源"), "edition": _c("Edition", "版本"),
    "verified": _c("Verified", "已核实"), "document": _c("Document", "文件"),
    "document_number": _c("Document number", "文号"), "condition": _c("Condition", "条件"),
    "threshold_fraction_of_target": _c("Threshold (of target)", "阈值（占目标比例）",
                                       "fraction"),
    "level_zh": _c("Warning level", "预警级别"), "precedence": _c("Precedence", "优先级"),
    "indicator_group": _c("Indicator group", "指标类别"), "scheme": _c("Scheme", "方案"),
    "deduction": _c("Deduction", "扣除项"), "date": _c("Date", "日期"),
    "first_assessment_year": _c("First year", "起始年"),
    "last_assessment_year": _c("Last year", "终止年"),
    "submission": _c("Submission", "报送批次"), "submitted_at": _c("Submitted", "报送时间"),
    "rows": _c("Rows", "行数", "count"),
    "status": _c("Status", "状态"), "measures": _c("Measures", "措施数", "count"),
    "overdue": _c("Overdue", "逾期数", "count"),
    "effect_tce": _c("Savings a year", "年节能量", "tce"),
    "effect_co2_t": _c("CO2 cut a year", "年减排量", "co2"),
    "effect_water_m3": _c("Water saved a year (m³)", "年节水量（立方米）", "count"),
    "energy_tce_change_pct": _c("Energy, change on a year earlier", "能源消费量同比", "pct"),
    "co2_t_change_pct": _c("CO2, change on a year earlier", "二氧化碳排放量同比", "pct"),
    "applied": _c("Applied", "适用"), "path": _c("Path", "路径"),
}

#: Names of coded values (ratings, indicators, classes ...), English and Chinese.
VALUES: dict[str, tuple[str, str]] = {
    # ratings of the barometer
    "red": ("red: first-level warning", "红色 · 一级预警"),
    "yellow": ("yellow: second-level warning", "黄色 · 二级预警"),
    "green": ("green: on track", "绿色 · 进展顺利"),
    "exempt": ("exempt", "免予考核"), "no_target": ("no target", "无目标"),
    "reported": ("reported, not rated", "仅报告"),
    "supplementary": ("supplementary", "辅助指标"), "flexible": ("flexible", "弹性指标"),
    "co2_total": ("Total CO2 emissions", "碳排放总量"),
    "no_data": ("no data", "无数据"), "withheld": ("not shown", "不予显示"),
    # indicators
    "energy_intensity": ("Energy intensity reduction", "能耗强度降低"),
    "energy_total": ("Total energy consumption", "能源消费总量"),
    "co2_intensity": ("CO2 intensity reduction", "碳排放强度降低"),
    # levels and horizons
    "region": ("region", "自治区"), "league": ("league or city", "盟市"),
    "county": ("county", "旗县区"), "park": ("park", "园区"), "enterprise": ("enterprise", "企业"),
    "this_year": ("this year", "本年度"), "plan_end": ("to the end of the plan", "至规划期末"),
    # what binds the budget
    "intensity": ("intensity target", "强度目标"), "total": ("total target", "总量目标"),
    "incentive_exemption": ("incentive target (total exempt)", "激励目标（总量免考）"),
    # kinds of target
    "binding": ("binding", "约束性"), "incentive": ("incentive", "激励性"),
    "expected": ("expected", "预期性"),
    # benchmark classes (dualcontrol.benchmarking.CLASSES)
    "benchmark": ("at or better than the benchmark", "达到标杆水平"),
    "between": ("between benchmark and baseline", "介于标杆与基准之间"),
    "below_baseline": ("worse than the baseline", "未达基准水平"),
    "below_limit": ("worse than the quota limit", "未达限额标准"),
    # review verdicts and outcomes (dualcontrol.review.VERDICTS)
    "approve": ("approve", "同意"), "approve_with_conditions": ("approve with conditions",
                                                                "有条件同意"),
    "reject": ("reject", "不予同意"), "condition": ("condition", "附加条件"),
    "note": ("note", "提示"),
    "pass": ("pass", "通过"),
    # conditions of the barometer's rules (barometer_rules.csv, total_exemption_rules.csv)
    "shortfall_above": ("shortfall above the threshold", "差距超过阈值"),
    "shortfall_up_to": ("shortfall up to the threshold", "差距在阈值以内"),
    "on_track": ("requirement met", "达到进度要求"), "rising": ("intensity rising on a year "
                                                              "earlier", "强度同比不降反升"),
    "incentive_intensity_met": ("incentive intensity target met", "达到激励强度目标"),
    "linear": ("linear (k/n of the plan's target)", "线性进度（逐年均衡）"),
    # deductions (exclusion_rules.csv)
    "feedstock": ("feedstock use", "原料用能"), "nonfossil": ("non-fossil energy", "非化石能源"),
    "renewable_increment": ("renewable increment", "新增可再生能源"),
    # target indicators (targets.csv)
    "energy_intensity_reduction": ("energy intensity reduction", "能耗强度降低率"),
    "energy_total_cap_tce": ("cap on total energy", "能源消费总量上限"),
    "energy_total_increment_tce": ("increment of total energy", "能源消费增量"),
    "co2_intensity_reduction": ("CO2 intensity reduction", "碳排放强度降低率"),
    # factors of the decomposition and scenarios of the outlook (examples/)
    "activity_10k_yuan": ("activity (value added)", "经济规模效应"),
    "structure_share": ("structure", "产业结构效应"),
    "intensity_tce_per_10k_yuan": ("intensity", "能耗强度效应"),
    "baseline": ("baseline", "基准情景"), "policy": ("policy", "政策情景"),
    "enhanced": ("enhanced", "强化情景"),
    # quantities of the outlook's peak table
    "co2_t": ("CO2 emissions", "二氧化碳排放"), "energy_tce": ("energy consumption", "能源消费"),
    # uses and origins of energy (dualcontrol.review.USES, ORIGINS)
    "combustion": ("combustion (fuel)", "燃料"), "purchased": ("purchased", "外购"),
    "renewable": ("renewable (green power)", "可再生（绿电）"),
    # plans
    "13th": ("13th plan", "“十三五”"), "14th": ("14th plan", "“十四五”"),
    "15th": ("15th plan", "“十五五”"),
}

#: Columns whose values are coded (looked up in :data:`VALUES`, carriers by name).
CODED: frozenset[str] = frozenset({
    "rating", "role", "indicator", "level", "horizon", "binding", "kind", "class", "verdict",
    "outcome", "plan", "carrier", "condition", "deduction", "path", "product", "industry",
    "scenario", "factor", "quantity", "use", "origin"})


@cache
def _carriers() -> dict[str, tuple[str, str]]:
    from dualcontrol.reference import carriers

    return {code: (c.name_en, c.name_zh) for code, c in carriers().items()}


@cache
def _products() -> dict[str, tuple[str, str]]:
    """Names of products (efficiency_levels.csv) and industries (demo_industries.csv)."""
    from dualcontrol.reference import load_table

    out: dict[str, tuple[str, str]] = {}
    levels = load_table("efficiency-levels").drop_duplicates("product")
    for row in levels.itertuples():
        out[row.product] = (row.name_en, row.name_zh)
    for row in load_table("demo-industries").drop_duplicates("industry").itertuples():
        out.setdefault(row.industry, (row.industry.replace("_", " "), row.name_zh))
    return out


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or \
        (hasattr(value, "__class__") and value.__class__.__name__ == "NAType")


def value_name(value: Any, lang: str, column: str | None = None) -> str:
    """Return the name of a coded value (a rating, indicator, carrier ...) in ``lang``."""
    if _missing(value):
        return "–"
    text = str(value)
    index = 1 if lang == "zh" else 0
    if column == "carrier" or (column is None and text in _carriers()):
        pair = _carriers().get(text)
        if pair:
            return pair[index]
    if column in ("product", "industry"):
        pair = _products().get(text)
        if pair:
            return pair[index]
    pair = VALUES.get(text)
    return pair[index] if pair else text


def format_number(value: float, digits: int) -> str:
    """Return ``value`` with thousands separators and ``digits`` decimals (``–`` if NaN)."""
    if _missing(value):
        return "–"
    return f"{float(value):,.{digits}f}"


def scaled(value: Any, kind: str) -> float | None:
    """Return a stored figure in the unit the page shows it in (None if missing)."""
    if _missing(value) or isinstance(value, bool) or not isinstance(value, numbers.Real):
        return None
    return float(value) / KINDS[kind].divisor


def show(value: Any, kind: str) -> str:
    """Return a stored figure of ``kind`` as the page shows it (scaled, separators)."""
    number = scaled(value, kind)
    if number is None:
        return "–"
    k = KINDS[kind]
    return format_number(number, k.digits) + ("%" if k.percent else "")


def unit(kind: str | None, lang: str) -> str:
    """Return the unit a figure of ``kind`` is shown in ('' when none)."""
    if kind is None:
        return ""
    k = KINDS[kind]
    return "" if k.percent else (k.unit_zh if lang == "zh" else k.unit_en)


def label(column: str, lang: str, *, with_unit: bool = True) -> str:
    """Return the header of ``column`` in ``lang``, with its unit in brackets."""
    found = COLUMNS.get(column)
    if found is None:
        return column.replace("_", " ")
    text = found.zh if lang == "zh" else found.en
    shown_unit = unit(found.kind, lang) if with_unit else ""
    if found.kind is not None and KINDS[found.kind].percent and with_unit:
        shown_unit = "%"
    if not shown_unit:
        return text
    return f"{text}（{shown_unit}）" if lang == "zh" else f"{text} ({shown_unit})"


def kind_of(column: str) -> str | None:
    """Return the kind of figure of ``column`` (None for text)."""
    found = COLUMNS.get(column)
    return found.kind if found else None


#: Columns shown as whole numbers without separators (years, months, codes).
_PLAIN_INTEGERS = ("year", "month", "quarter", "rank", "base_year", "target_year",
                   "peak_year", "peak_year_p5", "peak_year_p50", "peak_year_p95",
                   "first_assessment_year", "last_assessment_year", "gdp_base_year",
                   "last_actual_year", "precedence")


def cell(column: str, value: Any, lang: str) -> str:
    """Return a table cell's text: a figure scaled and separated, a code named, or text."""
    if _missing(value):
        return "–"
    if isinstance(value, bool):
        return ("是" if value else "否") if lang == "zh" else ("yes" if value else "no")
    if column == "verified" and str(value).lower() in ("true", "false"):
        return cell(column, str(value).lower() == "true", lang)
    if column in _PLAIN_INTEGERS:
        try:
            return str(int(value))
        except (TypeError, ValueError):
            return str(value)
    kind = kind_of(column)
    if kind is not None and isinstance(value, numbers.Real):
        return show(value, kind)
    if column in CODED:
        return value_name(value, lang, column)
    if column == "note":
        return note_text(value, lang)
    if isinstance(value, numbers.Real) and not isinstance(value, numbers.Integral):
        return format_number(float(value), 2)
    return str(value)


#: The notes the assessment and the budget write (dualcontrol.assessment, .budget), in
#: Chinese: (pattern of the English note, Chinese with the pattern's groups).
NOTES_ZH: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), zh) for pattern, zh in (
        (r"^no (\w+) target covering (\d{4})$", "无覆盖{1}年的{0}目标"),
        (r"^total exempt \((.+?)\): intensity reduction ([-\d.]+) meets the incentive "
         r"target's requirement ([-\d.]+) for (\d{4})$",
         "总量免予考核（{0}）：能耗强度降低{1}，达到激励目标{3}年进度要求{2}"),
        (r"^no data for (\d{4}): rise not checked$", "缺少{0}年数据，未检查强度是否不降反升"),
        (r"^the (\w+) plan's (\w+) target is not published \((.+?)\): (.*)$",
         "{0}{1}目标尚未公布（{2}）：{3}"),
        (r"^no total target: intensity alone limits the budget$",
         "无总量目标：仅强度目标约束用能空间"),
        (r"^the total is exempt while the incentive intensity target is met$",
         "达到激励目标期间总量免予考核"),
        (r"^no annual data$", "无年度数据"),
        (r"^no data for base year (\d{4})$", "缺少基年{0}年数据"),
        (r"^no GDP growth known: give a forecast$", "GDP增速未知：请给出预测"),
    ))


def note_text(note: Any, lang: str) -> str:
    """Return a note of the assessment or budget in ``lang`` (Chinese for the known
    sentences; others as written). Parts joined by ``; `` are translated one by one."""
    if _missing(note) or not str(note):
        return ""
    if lang != "zh":
        return str(note)
    parts, known = [], False
    for part in str(note).split("; "):
        for pattern, zh in NOTES_ZH:
            found = pattern.match(part)
            if found:
                groups = [_note_group(g, lang) for g in found.groups()]
                parts.append(zh.format(*groups))
                known = True
                break
        else:
            parts.append(part)
    return "；".join(parts) if known else str(note)


def _note_group(text: str, lang: str) -> str:
    if re.fullmatch(r"-?\d+\.\d+", text):  # a reduction written as a fraction
        return show(float(text), "fraction")
    return value_name(text, lang) if text in VALUES else text


#: What each rule of the energy-saving review checks (review_rules.csv), in Chinese;
#: the page shows it above the review's own sentence (which carries the figures).
REVIEW_RULES_ZH: dict[str, str] = {
    "benchmark_required": "新建、扩建项目须达到能效标杆水平（发改产业〔2021〕1464号）",
    "quota_access": "新建装置须达到单位产品能耗限额标准的准入值",
    "budget_exceeded": "项目纳入控制的能耗不得超过所在盟市剩余用能空间",
    "budget_share": "项目占所在盟市剩余用能空间比例超过阈值的，开工前须落实等量或减量替代",
    "raises_intensity": "项目能耗强度高于所在盟市的，将推高盟市能耗强度",
    "unverified_level": "所用能效标准数值尚未核实，须对照原文确认",
    "aluminium_environment": "电解铝项目须符合产业与环保政策的附加要求",
    "value_added": "未提供设计增加值：以产值代替，会高估新增GDP、低估对强度的影响",
}


def review_rule_text(rule: str, lang: str) -> str:
    """Return what a review rule checks in Chinese ('' in English or when unknown)."""
    return REVIEW_RULES_ZH.get(rule, "") if lang == "zh" else ""


def sort_key(value: Any) -> str:
    """Return the value a client-side sort compares (the raw number, or the text)."""
    if _missing(value):
        return ""
    if isinstance(value, bool):
        return str(int(value))
    return repr(float(value)) if isinstance(value, numbers.Real) else str(value)


def indicator_figure(value: Any, unit_text: str | None) -> str:
    """Return a barometer figure (a reduction or a total) as the page shows it.

    The barometer's ``unit`` is ``tce`` for totals and ``1 (reduction vs base year)``
    for intensities (a fraction, shown in per cent).
    """
    if unit_text == "tce":
        return show(value, "tce")
    if unit_text in ("t CO2", "t"):
        return show(value, "co2")
    return show(value, "fraction")


def jinja_globals() -> dict[str, Any]:
    """Return the functions the templates call (added to the Jinja environment)."""
    return {"col_label": label, "col_cell": cell, "col_sort": sort_key, "col_kind": kind_of,
            "value_name": value_name, "show": show, "unit_of": unit,
            "indicator_figure": indicator_figure, "note_text": note_text,
            "review_rule_text": review_rule_text}
