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
