"""Names in Chinese and English: column headers with their units, coded values, titles.

One table for every reader that shows results to people (the command line's tables;
the web can use the same): a column's header says its unit (DRC units: 万吨标准煤,
万吨CO2, 吨标准煤/万元); a coded value (``red``, ``energy_intensity``, ``raw_coal``)
has its Chinese name; a table title is translated by pattern. Machine output (JSON,
CSV) keeps the codes.

Names of carriers, units, products and industries are read from the package's data
(``carriers.csv``, ``units.csv``, ``efficiency_levels.csv``, ``demo_industries.csv``),
so a row added there is named here too.
"""

from __future__ import annotations

import functools
import re

#: Header of each column in English and Chinese, with its unit: column -> (en, zh).
COLUMNS: dict[str, tuple[str, str]] = {
    # the hierarchy and time
    "region": ("region", "地区"),
    "region_code": ("region code", "地区代码"),
    "region_name": ("region name", "地区"),
    "league": ("league", "盟市"),
    "county": ("county", "旗县区"),
    "park": ("park", "园区"),
    "enterprise": ("enterprise", "企业"),
    "enterprise_name": ("enterprise name", "企业名称"),
    "level": ("level", "层级"),
    "name": ("name", "名称"),
    "year": ("year", "年份"),
    "half": ("half", "半年"),
    "quarter": ("quarter", "季度"),
    "month": ("month", "月份"),
    "period": ("period", "统计期"),
    # physical quantities and their conversion
    "carrier": ("carrier", "能源品种"),
    "quantity": ("quantity", "实物量"),
    "unit": ("unit", "计量单位"),
    "use": ("use", "用途"),
    "origin": ("origin", "来源"),
    "ncv_gj_per_t": ("NCV (GJ/t)", "低位发热量(吉焦/吨)"),
    "tce": ("tce", "标准煤(吨标准煤)"),
    "method": ("method", "折算方法"),
    # accounts [tce], [t CO2], GDP
    "energy_tce": ("energy (tce)", "综合能耗(吨标准煤)"),
    "controlled_tce": ("controlled (tce)", "纳入控制能耗(吨标准煤)"),
    "feedstock_tce": ("feedstock (tce)", "原料用能(吨标准煤)"),
    "renewable_tce": ("renewable (tce)", "可再生能源(吨标准煤)"),
    "nonfossil_tce": ("non-fossil (tce)", "非化石能源(吨标准煤)"),
    "self_produced_tce": ("self-produced (tce)", "自产二次能源(吨标准煤)"),
    "supplied_tce": ("supplied (tce)", "外供能源(吨标准煤)"),
    "co2_t": ("CO2 (t)", "二氧化碳(吨)"),
    "co2_combustion_t": ("CO2 of combustion (t)", "燃烧排放二氧化碳(吨)"),
    "co2_electricity_t": ("CO2 of electricity (t)", "电力间接排放二氧化碳(吨)"),
    "co2_heat_t": ("CO2 of heat (t)", "热力间接排放二氧化碳(吨)"),
    "co2_mt": ("CO2 (Mt)", "二氧化碳(百万吨)"),
    "energy_10k_tce": ("energy (10^4 tce)", "综合能耗(万吨标准煤)"),
    "controlled_10k_tce": ("controlled (10^4 tce)", "纳入控制能耗(万吨标准煤)"),
    "gdp_current_10k_yuan": ("GDP, current prices (10^4 yuan)", "地区生产总值(万元,当年价)"),
    "gdp_const_10k_yuan": ("GDP, comparable prices (10^4 yuan)", "可比价地区生产总值(万元)"),
    "gdp_100m_yuan": ("GDP (10^8 yuan)", "地区生产总值(亿元)"),
    "intensity_tce_per_10k_yuan": ("intensity (tce/10^4 yuan)", "能耗强度(吨标准煤/万元)"),
    "controlled_intensity_tce_per_10k_yuan": ("controlled intensity (tce/10^4 yuan)",
                                              "扣除后能耗强度(吨标准煤/万元)"),
    "co2_intensity_t_per_10k_yuan": ("CO2 intensity (t/10^4 yuan)",
                                     "碳排放强度(吨CO2/万元)"),
    "nonfossil_share": ("non-fossil share", "非化石能源比重"),
    # assessment and budget
    "indicator": ("indicator", "指标"),
    "rating": ("rating", "预警等级"),
    "rating_before": ("rating before", "原预警等级"),
    "rating_after": ("rating after", "新预警等级"),
    "value": ("value (in unit)", "数值"),
    "value_before": ("value before (in unit)", "原数值"),
    "value_after": ("value after (in unit)", "新数值"),
    "change": ("change (in unit)", "变化"),
    "basis": ("basis", "口径"),
    "requirement": ("requirement (in unit)", "进度要求"),
    "gap": ("gap (in unit)", "差距"),
    "change_vs_same_period_last_year": ("change vs last year", "比上年同期变化"),
    "plan": ("plan", "规划期"),
    "role": ("role", "指标属性"),
    "rule_set": ("rule set", "考核规则"),
    "exclusions": ("exclusions", "扣除项"),
    "note": ("note", "说明"),
    "horizon": ("horizon", "时段"),
    "last_actual_year": ("last actual year", "最近实际年份"),
    "gdp_growth": ("GDP growth", "GDP增速"),
    "intensity_room_tce": ("intensity room (tce)", "强度目标下用能空间(吨标准煤)"),
    "total_room_tce": ("total room (tce)", "总量目标下用能空间(吨标准煤)"),
    "budget_tce": ("budget (tce)", "剩余用能空间(吨标准煤)"),
    "binding": ("binding", "约束指标"),
    "added_tce": ("added (tce)", "新增能耗(吨标准煤)"),
    "target_value": ("target", "目标值"),
    "target_year": ("target year", "目标年份"),
    "source": ("source", "来源"),
    "official": ("official", "正式发布"),
    # benchmarking and review
    "industry": ("industry", "行业"),
    "product": ("product", "产品"),
    "unit_id": ("unit id", "生产装置"),
    "unit_consumption": ("unit consumption (level unit)", "单位产品能耗"),
    "level_unit": ("level unit", "能效单位"),
    "benchmark": ("benchmark", "标杆水平"),
    "baseline": ("baseline", "基准水平"),
    "quota_limit": ("quota limit", "限额"),
    "class": ("class", "能效分档"),
    "upgrade_deadline": ("upgrade deadline", "改造期限"),
    "capacity": ("capacity", "产能"),
    "capacity_unit": ("capacity unit", "产能单位"),
    "capacity_share": ("capacity share", "产能占比"),
    "output": ("output", "产量"),
    "output_unit": ("output unit", "产量单位"),
    "output_share": ("output share", "产量占比"),
    "unit_code": ("unit code", "生产装置编号"),
    "withdrawal_m3": ("water withdrawal (m3)", "取水量(立方米)"),
    "reused_m3": ("water reused (m3)", "重复利用水量(立方米)"),
    "sector": ("sector", "行业"),
    "gdp_index_prev_year_100": ("GDP index (previous year = 100)", "地区生产总值指数(上年=100)"),
    "industrial_va_current_10k_yuan": ("industrial value added (10^4 yuan)",
                                       "工业增加值(万元)"),
    "units": ("units", "装置数"),
    "units_worse_than_benchmark": ("units worse than benchmark", "未达标杆装置数"),
    "units_worse_than_baseline": ("units worse than baseline", "未达基准装置数"),
    "margin_to_benchmark": ("margin to benchmark", "优于标杆幅度"),
    "rank": ("rank", "排名"),
    "savings_to_benchmark_tce": ("savings to benchmark (tce)", "达标杆节能量(吨标准煤)"),
    "savings_to_baseline_tce": ("savings to baseline (tce)", "达基准节能量(吨标准煤)"),
    "savings_to_benchmark_co2_t": ("savings to benchmark (t CO2)", "达标杆减排量(吨CO2)"),
    "savings_to_baseline_co2_t": ("savings to baseline (t CO2)", "达基准减排量(吨CO2)"),
    "reason": ("reason", "原因"),
    "verdict": ("verdict", "审查结论"),
    "rule": ("rule", "规则"),
    "outcome": ("outcome", "结果"),
    "finding": ("finding", "审查意见"),
    "project_controlled_tce": ("project controlled (tce)", "项目纳入控制能耗(吨标准煤)"),
    "total_increase_pct": ("total increase (%)", "总量增幅(%)"),
    "intensity_before": ("intensity before (tce/10^4 yuan)", "原能耗强度(吨标准煤/万元)"),
    "intensity_after": ("intensity after (tce/10^4 yuan)", "新能耗强度(吨标准煤/万元)"),
    "intensity_change_pct": ("intensity change (%)", "强度变化(%)"),
    "remaining_budget_tce": ("remaining budget (tce)", "剩余用能空间(吨标准煤)"),
    "budget_share": ("budget share", "占用能空间比例"),
    # decomposition and outlook
    "factor": ("factor", "因素"),
    "effect": ("effect", "效应"),
    "share": ("share", "贡献比例"),
    "item": ("item", "项目"),
    "peak_year": ("peak year", "达峰年份"),
    "peak_level": ("peak level", "峰值"),
    "peak_status": ("peak status", "达峰状态"),
    "peak_year_p5": ("peak year p5", "达峰年份(5%分位)"),
    "peak_year_p50": ("peak year p50", "达峰年份(中位数)"),
    "peak_year_p95": ("peak year p95", "达峰年份(95%分位)"),
    "p_peaked_by_end": ("P(peaked by end)", "期末前达峰概率"),
    "peaked_by_end": ("peaked by end", "期末前达峰"),
    "probability_met": ("P(met)", "达标概率"),
    "met": ("met", "是否达标"),
    "draws": ("draws", "抽样次数"),
    "value_from": ("value from", "数值来源"),
    # the store
    "kind": ("kind", "报表类型"),
    "submissions": ("submissions", "报送次数"),
    "entities": ("entities", "报送主体数"),
    "revisions": ("revisions", "版本数"),
    "first_period": ("first period", "最早统计期"),
    "last_period": ("last period", "最近统计期"),
    "last_submitted_at": ("last submitted (UTC)", "最近报送时间(UTC)"),
    "submitted_at": ("submitted (UTC)", "报送时间(UTC)"),
    "changed_at": ("changed (UTC)", "修改时间(UTC)"),
    "submitter": ("submitter", "报送人"),
    "file_name": ("file name", "文件"),
    "file": ("file", "文件"),
    "revision": ("revision", "版本"),
    "current": ("current", "现行版本"),
    "rows": ("rows", "行数"),
    "line": ("line", "文件行号"),
    "enterprises_reporting": ("enterprises reporting", "报送企业数"),
    "enterprises_registered": ("enterprises registered", "登记企业数"),
    "revised": ("revised", "修订企业数"),
    "user": ("user", "用户"),
    "action": ("action", "操作"),
    "table": ("table", "数据表"),
    "key": ("key", "对象"),
    "revision_before": ("revision before", "原版本"),
    "revision_after": ("revision after", "新版本"),
    "submission_id": ("submission id", "报送批次"),
}

#: Columns shown in 10^4 units in tables (DRC units): column -> (en, zh header).
SCALED: dict[str, tuple[str, str]] = {
    "energy_tce": ("energy (10^4 tce)", "综合能耗(万吨标准煤)"),
    "controlled_tce": ("controlled (10^4 tce)", "纳入控制能耗(万吨标准煤)"),
    "feedstock_tce": ("feedstock (10^4 tce)", "原料用能(万吨标准煤)"),
    "renewable_tce": ("renewable (10^4 tce)", "可再生能源(万吨标准煤)"),
    "self_produced_tce": ("self-produced (10^4 tce)", "自产二次能源(万吨标准煤)"),
    "supplied_tce": ("supplied (10^4 tce)", "外供能源(万吨标准煤)"),
    "co2_t": ("CO2 (10^4 t)", "二氧化碳(万吨CO2)"),
    "gdp_const_10k_yuan": ("GDP (10^8 yuan)", "可比价地区生产总值(亿元)"),
}

#: Columns whose values are names, people, files or keys, never codes to translate.
NAME_COLUMNS = frozenset({
    "region", "region_name", "region_code", "league", "county", "park", "enterprise",
    "enterprise_name", "name", "user", "submitter", "file", "file_name", "key", "source",
    "unit_id", "unit_code", "period", "month", "exclusions", "rule_id", "finding",
})

#: Chinese names of coded values (the code is the English name).
VALUES: dict[str, str] = {
    # ratings (发改办环资〔2021〕629号 barometer) and assessment terms
    "red": "红色预警", "yellow": "黄色预警", "green": "绿色", "no_data": "无数据",
    "no_target": "无目标", "exempt": "免予考核", "reported": "仅报告",
    "flexible": "弹性", "supplementary": "补充",
    "energy_intensity": "能耗强度降低", "energy_intensity_reduction": "能耗强度降低",
    "energy_total": "能耗总量", "co2_intensity": "碳排放强度降低",
    "co2_intensity_reduction": "碳排放强度降低", "co2_total": "碳排放总量",
    "co2_peak_year": "碳达峰年份", "energy_peak_year": "能耗达峰年份",
    "nonfossil_share": "非化石能源比重",
    "1 (cut)": "降低率", "1 (reduction vs base year)": "比基年降低率",
    "binding": "约束性", "incentive": "激励性", "expected": "预期性",
    "this_year": "本年度", "plan_end": "规划期末",
    "intensity": "强度", "total": "合计", "incentive_exemption": "激励目标免考总量",
    "14th": "十四五", "15th": "十五五", "13th": "十三五",
    # levels
    "region": "自治区", "league": "盟市", "county": "旗县区", "park": "园区",
    "enterprise": "企业",
    # uses and origins (the codes of dualcontrol.accounting)
    "combustion": "燃料", "feedstock": "原料", "transformation_input": "加工转换投入",
    "supplied": "外供", "purchased": "外购", "self_produced": "自产", "renewable": "可再生",
    # electricity valuation
    "calorific": "当量值", "coal-equivalent": "等价值",
    # benchmarking classes and review
    "benchmark": "达到标杆水平", "between": "标杆与基准之间",
    "below_baseline": "未达基准水平", "below_limit": "超过限额",
    "approve": "通过", "approve_with_conditions": "附条件通过", "reject": "不予通过",
    "pass": "符合", "condition": "附条件",
    "benchmark_required": "须达到标杆水平", "quota_access": "能耗限额准入",
    "unverified_level": "能效水平未核实", "aluminium_environment": "电解铝环保要求",
    "raises_intensity": "推高能耗强度", "budget_exceeded": "超出用能空间",
    "budget_share": "占用能空间比例",
    # decomposition and outlook
    "additive": "加法", "multiplicative": "乘法",
    "peaked": "已达峰", "already_declining": "已处于下降", "not_peaked": "未达峰",
    "scenario model": "情景模型",
    # decomposition factors and summary items
    "activity_10k_yuan": "经济规模", "structure_share": "产业结构",
    "intensity_tce_per_10k_yuan": "能耗强度", "carbon_factor_t_per_tce": "碳排放系数",
    "observed change": "实际变化", "sum of effects": "效应合计",
    "product of effects": "效应乘积", "verdict": "审查结论",
    "unit consumption": "单位产品能耗", "in carrier unit": "折合品种计量单位",
    "tce source": "折标系数来源", "co2 source": "排放因子来源", "carrier": "能源品种",
    "quantity": "实物量", "method": "折算方法",
    "energy_tce": "综合能耗(吨标准煤)", "controlled_tce": "纳入控制能耗(吨标准煤)",
    "co2_t": "二氧化碳(吨)",
    "10^4 tce": "万吨标准煤", "10^4 t CO2": "万吨CO2", "t CO2": "吨CO2",
    # the store
    "energy": "能源消费", "output": "产品产量", "water": "用水", "economic": "经济数据",
    "create": "新建", "revise": "修订", "load": "载入", "demo": "演示数据",
    "energy_reports": "能源消费报表", "production_output": "产品产量报表",
    "water_use": "用水报表", "economic_data": "经济数据报表", "enterprises": "企业名录",
    "True": "是", "False": "否",
    "no national benchmark/baseline level": "无国家标杆/基准水平",
}

#: Texts of values by pattern (notes the library writes), tried after :data:`VALUES`.
VALUE_PATTERNS: tuple[tuple[str, str], ...] = (
    (r"no (\w+) target covering (\S+)", r"无覆盖 \2 年的\1目标"),
)

#: Table titles by pattern, tried in order: (regular expression, Chinese template with
#: \\1, \\2 ... for the groups; a group that is a code is put in Chinese, a missing one
#: is left out).
TITLES: tuple[tuple[str, str], ...] = (
    (r"Barometer (\S+) (\S+), (\S+) (\S+) \(progress path (\S+), barometer scheme (\S+)\)",
     r"\2预警晴雨表(\3; 进度路径 \5, 预警方案 \6)"),
    (r"Barometer (\S+) \(progress path (\S+), barometer scheme (\S+)\)",
     r"\1 预警晴雨表(进度路径 \2, 预警方案 \3)"),
    (r"Barometer", "预警晴雨表"),
    (r"Remaining energy budget \[tce\]", "剩余用能空间[吨标准煤]"),
    (r"Effect of (\S+) tce in (\S+)", r"在 \2 新增 \1 吨标准煤的影响"),
    (r"Energy and CO2 accounts by (\w+) and (\w+) \(GDP at (\d+) prices\)",
     r"能耗与碳排放核算(按\1、\2; GDP按 \3 年价格)"),
    (r"Energy and CO2 accounts by (\w+) and (\w+)", r"能耗与碳排放核算(按\1、\2)"),
    (r"Accounts by league, (\d+)", r"\1 年各盟市能耗与碳排放"),
    (r"Accounts by month(?: in (\S+))?", r"\1 逐月能耗与碳排放"),
    (r"Inner Mongolia trend since (\d+)", r"内蒙古自 \1 年以来趋势"),
    (r"Calibration against published figures", "与公开数据的校准"),
    (r"Conversion", "折算"),
    (r"Reference: (.*)", r"参考数据: \1"),
    (r"LMDI-I (additive|multiplicative) (\d+)->(\d+)(?: of (\w+))?",
     r"LMDI-I 因素分解(\1) \2->\3 \4"),
    (r"LMDI-I (additive|multiplicative) (\d+)->(\d+)(?: of (\w+))? \(index\)",
     r"LMDI-I 因素分解(\1) \2->\3 \4(指数)"),
    (r"Reconciliation with reports(.*)", r"与报表核对\1"),
    (r"Reconciliation", "分解核对"),
    (r"Peak year and level \(central; Monte Carlo percentiles\)",
     "达峰年份与峰值(中心路径; 蒙特卡洛分位数)"),
    (r"(.*): central path \(GDP at constant prices\)", r"\1: 中心路径(GDP为不变价)"),
    (r"CO2 peak-year distribution \((\d+) draws, seed (\d+); years with >= (\S+) %\)",
     r"碳达峰年份分布(\1 次抽样, 随机种子 \2; 概率不低于 \3% 的年份)"),
    (r"Targets \(controlled energy: non-fossil and feedstock excluded\)",
     "目标检查(纳入控制能耗: 扣除非化石能源和原料用能)"),
    (r"Sources of the targets", "目标来源"),
    (r"Production units against the levels", "生产装置能效对标"),
    (r"Class shares by industry and product", "按行业和产品的能效分档占比"),
    (r"Class shares by region", "按地区的能效分档占比"),
    (r"Front runners \(at or better than the benchmark; best (\d+) per product and year\)",
     r"能效领跑者(达到或优于标杆; 每产品每年前 \1 名)"),
    (r"Savings potential per year \(CO2 at (\S+) t/tce for coal; grid factor for "
     r"electricity\)", r"年节能潜力(煤炭按 \1 吨CO2/吨标准煤; 电力按电网排放因子)"),
    (r"Not benchmarked: no national level for the product", "未对标: 该产品无国家能效水平"),
    (r"Review: (.*)", r"节能审查: \1"),
    (r"Reasons", "审查理由"),
    (r"Reasons \(energy-saving review\)", "审查理由(节能审查)"),
    (r"Reasons \(carbon evaluation\)", "评价理由(碳排放评价)"),
    (r"Carbon evaluation 碳排放评价: (\S+)", r"碳排放评价: \1"),
    (r"Carbon budgets (\S+) \(10\^4 t CO2\)", r"碳预算 \1(万吨CO2)"),
    (r"Effect on league and region \(intensity in tce/10k yuan\)",
     "对盟市和全区的影响(强度单位: 吨标准煤/万元)"),
    (r"Quality: flagged readings by fault class", "数据质量: 按故障类型的异常读数"),
    (r"Meters flagged \((\d+); first (\d+)\)", r"异常计量表(共 \1 个; 前 \2 个)"),
    (r"Metered energy by (\w+)", r"在线监测能耗(按\1)"),
    (r"Import", "导入"),
    (r"What the store holds \(times in UTC\)", "数据库内容(时间为UTC)"),
    (r"Audit log, newest (\d+) \(times in UTC\)", r"审计日志, 最近 \1 条(时间为UTC)"),
    (r"(.*): (\w+) revisions(?: in (\S+))? \(times in UTC\)",
     r"\1: \3 \2报表版本(时间为UTC)"),
    (r"(\w+) rows of every revision(?: in (\S+))?", r"\2 \1报表全部版本的数据行"),
    (r"(\w+) rows of the revisions that count(?: in (\S+))?", r"\2 \1报表现行版本的数据行"),
    (r"(.*), (\d+): energy reports by month \(times in UTC\)",
     r"\1, \2 年: 逐月能源报表(时间为UTC)"),
)


def header(column: str, lang: str, *, scaled: bool = False) -> str:
    """Return the header of ``column`` in ``lang`` (``en`` or ``zh``) with its unit."""
    index = 1 if lang == "zh" else 0
    if scaled and column in SCALED:
        return SCALED[column][index]
    if column in COLUMNS:
        return COLUMNS[column][index]
    return column.replace("_", " ")


@functools.cache
def _data_names() -> dict[str, str]:
    """Chinese names of carriers, units, products and industries from the data files."""
    from dualcontrol.reference import load_table

    names: dict[str, str] = {}
    carriers = load_table("carriers")
    names.update(zip(carriers["code"], carriers["name_zh"], strict=True))
    units = load_table("units")
    for code, aliases in zip(units["code"], units["aliases"], strict=True):
        chinese = [a for a in str(aliases).split("|") if re.search(r"[\u4e00-\u9fff]", a)]
        if chinese:
            names[code] = chinese[0]
    levels = load_table("efficiency-levels")
    names.update(zip(levels["product"], levels["name_zh"], strict=False))
    try:
        industries = load_table("demo-industries")
        names.update(zip(industries["industry"], industries["name_zh"], strict=True))
    except Exception:  # a table of the demo; its absence leaves the codes
        pass
    return names


def zh_value(value: str) -> str:
    """Return the Chinese name of a coded value, or the value itself if it has none."""
    if value in VALUES:
        return VALUES[value]
    named = _data_names().get(value)
    if named is not None:
        return named
    for pattern, template in VALUE_PATTERNS:
        match = re.fullmatch(pattern, value)
        if match:
            return _expand(template, match)
    return value


def _zh_word(word: str | None) -> str:
    if word is None:
        return ""
    if word in COLUMNS and word in ("year", "half", "quarter", "month"):
        return COLUMNS[word][1]
    return zh_value(word)


def zh_title(title: str) -> str:
    """Return the Chinese title of a table (by :data:`TITLES`), or the title itself."""
    for pattern, template in TITLES:
        match = re.fullmatch(pattern, title)
        if match:
            return _expand(template, match)
    return title


def _expand(template: str, match: re.Match[str]) -> str:
    """Fill ``template``'s \\1, \\2 ... with the match's groups, codes in Chinese."""
    groups = [_zh_word(g) for g in match.groups()]
    text = re.sub(r"\\(\d)", lambda m: groups[int(m.group(1)) - 1], template)
    return re.sub(r"\s+", " ", text.replace("( ", "(").replace(" )", ")")).strip()


__all__ = ["COLUMNS", "NAME_COLUMNS", "SCALED", "TITLES", "VALUES", "header", "zh_title",
           "zh_value"]
