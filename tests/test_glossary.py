"""Chinese in the command line: every coded value, header and title the tables show.

With ``--lang zh`` the tables name ratings, indicators, carriers, units, classes and
verdicts in Chinese, headers carry DRC units (万吨标准煤, 万吨CO2, 吨标准煤/万元), and
titles are Chinese; JSON keeps the codes.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from typer.testing import CliRunner

from dualcontrol.cli import app
from dualcontrol.glossary import COLUMNS, SCALED, header, zh_title, zh_value

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
CJK = re.compile(r"[\u4e00-\u9fff]")
runner = CliRunner()


def test_every_code_of_the_library_has_a_chinese_name() -> None:
    from dualcontrol import accounting, assessment, benchmarking, outlook, review
    from dualcontrol.reference import carriers, load_table

    codes = [*assessment.RATINGS, *assessment.ROLES, *assessment.INDICATORS,
             *outlook.INDICATORS,
             *benchmarking.CLASSES, *review.VERDICTS, *outlook.PEAK_STATUSES,
             *accounting.USES, *accounting.ORIGINS, *accounting.LEVELS,
             *carriers(), *load_table("units")["code"]]
    missing = [c for c in codes if not CJK.search(zh_value(c))]
    assert missing == []


def test_drc_units_in_the_scaled_headers() -> None:
    assert header("energy_tce", "zh", scaled=True) == "综合能耗(万吨标准煤)"
    assert header("co2_t", "zh", scaled=True) == "二氧化碳(万吨CO2)"
    assert header("intensity_tce_per_10k_yuan", "zh") == "能耗强度(吨标准煤/万元)"
    assert all(CJK.search(zh) and "(" in zh for _en, zh in SCALED.values())


def test_an_unknown_value_or_title_is_left_as_it_is() -> None:
    assert zh_value("150600") == "150600"
    assert zh_title("Something new") == "Something new"
    assert zh_title("Barometer 2024-Q3 (progress path linear_14th, barometer scheme "
                    "629_2021)") == "2024-Q3 预警晴雨表(进度路径 linear_14th, 预警方案 629_2021)"


def test_names_and_people_are_not_translated(capsys: pytest.CaptureFixture[str]) -> None:
    from dualcontrol.cli.output import Lang, print_frame

    frame = pd.DataFrame({"user": ["demo"], "table": ["demo"], "rating": ["red"],
                          "current": [True]})
    print_frame(frame, title="Audit log, newest 1 (times in UTC)", lang=Lang.zh)
    out = capsys.readouterr().out
    assert "审计日志" in out and "用户" in out
    assert "demo" in out  # the user called demo keeps the name
    assert "演示数据" in out and "红色预警" in out and "是" in out


@pytest.fixture(scope="module")
def store_url(tmp_path_factory: pytest.TempPathFactory, small_demo_tables: dict) -> str:
    from dualcontrol.demo import _load
    from dualcontrol.store import open_store

    url = f"duckdb:///{tmp_path_factory.mktemp('zh') / 's.duckdb'}"
    with open_store(url) as opened:
        _load(opened, small_demo_tables, "small-demo", 2025)
    return url


COMMANDS = [
    ["assess", "--year", "2024"],
    ["assess", "--year", "2024", "--add-tce", "100000", "--in", "150600"],
    ["benchmark", "--year", "2024"],
    ["review", str(EXAMPLES / "projects" / "ferrosilicon_ulanqab.yaml")],
    ["decompose", "--preset", "energy-by-sector", "--base", "2020", "--target", "2024"],
    ["decompose", str(EXAMPLES / "decomposition" / "energy_by_sector_factors.csv"),
     "--mode", "multiplicative"],
    ["outlook", str(EXAMPLES / "scenarios" / "inner_mongolia_policy.yaml"), "--draws", "50"],
    ["account", str(EXAMPLES / "energy_use.csv"), "--gdp", str(EXAMPLES / "gdp.csv"),
     "--by", "league"],
    ["convert", "1", "t", "raw_coal"],
    ["show", "store"],
    ["show", "region", "150600"],
    ["show", "audit", "--limit", "5"],
]


@pytest.fixture(scope="module")
def printed(store_url: str) -> list[dict[str, Any]]:
    """Run the commands in Chinese; return each table as the terminal got it."""
    import dualcontrol.cli.output as output

    tables: list[dict[str, Any]] = []
    real = output.print_frame

    def keep(frame: pd.DataFrame, **kwargs: Any) -> None:
        tables.append({"frame": frame.copy(), "title": kwargs.get("title")})
        real(frame, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DUALCONTROL_DB", store_url)
        # the examples are of 2023-2024, without a published Inner Mongolia factor
        patch.setenv("DUALCONTROL_FACTOR_YEARS", "nearest")
        patch.setenv("COLUMNS", "100")
        patch.setattr(output, "print_frame", keep)
        for args in COMMANDS:
            result = runner.invoke(app, [*args, "--lang", "zh"])
            assert result.exit_code == 0, f"{args}: {result.output}"
            tables[-1]["stdout"] = result.stdout
    return tables


def test_every_title_is_chinese(printed: list[dict[str, Any]]) -> None:
    untranslated = [t["title"] for t in printed if t["title"] and zh_title(t["title"]) ==
                    t["title"]]
    assert untranslated == []


def test_every_header_has_a_chinese_name(printed: list[dict[str, Any]]) -> None:
    columns = {str(c) for t in printed for c in t["frame"].columns}
    assert sorted(c for c in columns if c not in COLUMNS) == []
    assert all(CJK.search(header(c, "zh")) for c in columns)


def test_assess_in_chinese(printed: list[dict[str, Any]]) -> None:
    (barometer,) = [t for t in printed if (t["title"] or "").startswith("Barometer")][:1]
    out = " ".join(t.get("stdout", "") for t in printed if "stdout" in t)
    ratings = set(barometer["frame"]["rating"])
    assert ratings  # the small store rates the leagues
    for rating in ratings:
        assert zh_value(rating) in out
    assert "预警晴雨表" in out and "能耗总量" in out and "指标" in out
    for word in ("energy_intensity", "energy_total", "no_target", "this_year", "plan_end"):
        assert word not in out, word


def test_json_keeps_the_codes(store_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DUALCONTROL_DB", store_url)
    result = runner.invoke(app, ["assess", "--year", "2024", "--json", "--lang", "zh"])
    assert result.exit_code == 0, result.output
    records = json.loads(result.stdout)
    assert {r["indicator"] for r in records} <= {"energy_intensity", "energy_total",
                                                 "co2_intensity"}
