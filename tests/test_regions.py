"""Tests of the region hierarchy (GB/T 2260) and USCC check characters (GB 32100-2015)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dualcontrol.errors import InputError
from dualcontrol.regions import (
    USCC_ALPHABET,
    counties,
    is_valid_uscc,
    leagues,
    make_uscc,
    region,
    regions,
    uscc_check_character,
    uscc_in_region,
    uscc_problem,
)

# Codes printed on business licences of well-known companies (public registration
# records); their check characters were computed by the registration authorities.
PUBLISHED_USCC = [
    "914403001922038216",  # Huawei Technologies Co., Ltd.
    "9144030071526726XG",  # Shenzhen Tencent Computer Systems Co., Ltd.
    "91330100716105852F",  # Alibaba (China) Co., Ltd.
    "91350100M000100Y43",  # example code used in GB 32100-2015 explanations
]


@pytest.mark.parametrize("code", PUBLISHED_USCC)
def test_published_codes_are_valid(code: str) -> None:
    assert uscc_problem(code) is None


def test_check_character_by_hand() -> None:
    # GB 32100-2015: C18 = 31 - (sum C_i W_i mod 31), W_i = 3^(i-1) mod 31.
    # For 91350100M000100Y4: values 9,1,3,5,0,1,0,0,M=21,0,0,0,1,0,0,Y=30,4 and weights
    # 1,3,9,27,19,26,16,17,20,29,25,13,8,24,10,30,28 give
    # 9+3+27+135+0+26+0+0+420+0+0+0+8+0+0+900+112 = 1640; 1640 mod 31 = 28;
    # 31 - 28 = 3 -> '3'.
    assert uscc_check_character("91350100M000100Y4") == "3"


@pytest.mark.parametrize(("code", "why"), [
    ("914403001922038217", "wrong check character"),
    ("91440300192203821", "18 characters"),
    ("9144030019220382I6", "not used"),
    ("91ABCDEF1922038216", "six-digit"),
])
def test_bad_codes_are_refused_with_reason(code: str, why: str) -> None:
    assert why in (uscc_problem(code) or "")


@given(office=st.sampled_from(["150000", "150600", "150621", "152921"]),
       serial=st.integers(min_value=0, max_value=99_999_999))
def test_generated_codes_are_valid(office: str, serial: int) -> None:
    assert is_valid_uscc(make_uscc(office, serial))


@given(serial=st.integers(min_value=0, max_value=99_999_999),
       position=st.integers(min_value=0, max_value=17),
       replacement=st.sampled_from(list(USCC_ALPHABET)))
def test_any_single_substitution_is_detected(serial: int, position: int,
                                             replacement: str) -> None:
    # weights are non-zero mod the prime 31, so one changed character always changes
    # the weighted sum mod 31
    code = make_uscc("150602", serial)
    changed = code[:position] + replacement + code[position + 1:]
    if changed != code and changed[2:8].isdigit():
        assert not is_valid_uscc(changed)


def test_hierarchy_counts() -> None:
    # Inner Mongolia: 12 leagues and cities, 103 county-level divisions (MCA list)
    assert len(leagues()) == 12
    assert len(counties()) == 103
    assert region("150100")["name_zh"] == "呼和浩特市"
    assert region("150603")["name_zh"] == "康巴什区"


def test_every_county_sits_under_its_league() -> None:
    table = regions()
    for row in counties().itertuples():
        assert row.code[:4] + "00" == row.league_code or row.code[:4] == row.league_code[:4]
        assert row.parent_code in set(table["code"])
    assert table["source"].str.len().gt(0).all()


def test_unknown_region_lists_accepted() -> None:
    with pytest.raises(InputError) as info:
        region("159999")
    assert "150100 (呼和浩特市)" in info.value.problems[0].accepted


def test_uscc_office_must_cover_the_county() -> None:
    assert uscc_in_region(make_uscc("150621", 1), "150621")
    assert uscc_in_region(make_uscc("150600", 1), "150621")
    assert uscc_in_region(make_uscc("150000", 1), "150621")
    assert not uscc_in_region(make_uscc("150200", 1), "150621")
