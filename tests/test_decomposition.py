"""Tests of the LMDI-I decomposition (dualcontrol.decomposition)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from dualcontrol.cli import app
from dualcontrol.decomposition import (
    co2_kaya_factors,
    energy_by_sector_factors,
    lmdi,
    lmdi_terms,
    logarithmic_mean,
)
from dualcontrol.errors import InputError

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "decomposition"


def two_sector_frame() -> pd.DataFrame:
    """Two sectors, three factors (activity Q, structure S_i, intensity I_i).

    The layout is Ang (2005)'s two-sector energy example (Energy Policy 33: 867-871,
    section 3, E = sum_i Q S_i I_i); the printed numbers of the paper could not be
    read in the stored copies, so the inputs below are our own and the expected
    effects are worked by hand in ``test_hand_worked_two_sector_example``.
    """
    return pd.DataFrame({
        "sector": ["s1", "s2", "s1", "s2"],
        "year": [0, 0, 1, 1],
        "Q": [100.0, 100.0, 150.0, 150.0],
        "S": [0.6, 0.4, 0.5, 0.5],
        "I": [2.0, 0.5, 1.8, 0.6],
    })


def test_hand_worked_two_sector_example():
    # Step 1, sector energy E_i = Q S_i I_i:
    #   year 0: E1 = 100*0.6*2.0 = 120, E2 = 100*0.4*0.5 = 20, V0 = 140
    #   year T: E1 = 150*0.5*1.8 = 135, E2 = 150*0.5*0.6 = 45, VT = 180, dV = 40
    # Step 2, weights L(E_i^T, E_i^0):
    #   w1 = (135-120)/ln(135/120) = 15/0.1177830 = 127.3528
    #   w2 = (45-20)/ln(45/20)    = 25/0.8109302 = 30.82879
    # Step 3, effects dV_k = sum_i w_i ln(x_k,i^T/x_k,i^0):
    #   activity  = (w1+w2) ln(1.5)                 = 158.1817*0.4054651 =  64.1371
    #   structure = w1 ln(0.5/0.6) + w2 ln(0.5/0.4) = -23.2192 + 6.8793  = -16.3399
    #   intensity = w1 ln(0.9) + w2 ln(1.2)         = -13.4180 + 5.6208  =  -7.7972
    #   sum = 64.1371 - 16.3399 - 7.7972 = 40.0000 = dV
    expected = {"Q": 64.1371, "S": -16.3399, "I": -7.7972}
    result = lmdi(two_sector_frame(), factors=["Q", "S", "I"], by="sector", base=0,
                  target=1)
    got = dict(zip(result.effects["factor"], result.effects["effect"], strict=True))
    for factor, value in expected.items():
        # hand values are rounded to 4 decimals
        assert got[factor] == pytest.approx(value, abs=1e-3)
    assert result.total == pytest.approx(40.0, abs=1e-9)
    assert result.observed == pytest.approx(40.0)


def test_hand_worked_multiplicative():
    # L(VT, V0) = (180-140)/ln(180/140) = 40/0.2513144 = 159.1632
    # ln D_k = dV_k / L(VT, V0) (same weights as additive, Ang 2005 eq. 4):
    #   D_Q = exp(64.1371/159.1632) = exp(0.402965) = 1.496254
    #   D_S = exp(-16.3399/159.1632) = exp(-0.102661) = 0.902432
    #   D_I = exp(-7.7972/159.1632) = exp(-0.048989) = 0.952192
    #   product = 1.285714 = 180/140
    expected = {"Q": 1.496254, "S": 0.902432, "I": 0.952192}
    result = lmdi(two_sector_frame(), factors=["Q", "S", "I"], by="sector", base=0,
                  target=1, mode="multiplicative")
    got = dict(zip(result.effects["factor"], result.effects["effect"], strict=True))
    for factor, value in expected.items():
        assert got[factor] == pytest.approx(value, abs=2e-6)
    assert result.total == pytest.approx(180 / 140, rel=1e-12)


def test_logarithmic_mean_limits():
    assert logarithmic_mean(np.array(2.0), np.array(2.0)) == pytest.approx(2.0)
    assert logarithmic_mean(np.array(5.0), np.array(0.0)) == 0.0
    assert logarithmic_mean(np.array(0.0), np.array(0.0)) == 0.0
    assert logarithmic_mean(np.array(1.0), np.array(math.e)) == pytest.approx(
        (math.e - 1.0) / 1.0)


def test_zero_in_base_year_goes_to_the_zero_factor():
    # Ang & Liu (2007): V_i^0 = 0 < V_i^T. Row s2 is a new sector: structure share
    # 0 -> 0.2. Its whole V_i^T = 10*0.2*3 = 6 goes to the structure factor, and the
    # activity and intensity terms of s2 tend to L(6, 0) ln(.) = 0.
    terms = lmdi_terms(np.array([[10.0, 0.0, 3.0]]), np.array([[10.0, 0.2, 3.0]]))
    assert terms.tolist() == [[0.0, 6.0, 0.0]]
    # The zero factor need not be constant elsewhere: activity also grows.
    terms = lmdi_terms(np.array([[10.0, 0.0, 3.0]]), np.array([[20.0, 0.2, 4.0]]))
    assert terms.tolist() == [[0.0, 16.0, 0.0]]


def test_zero_in_target_year_and_both_years():
    # V_i^T = 0 < V_i^0: the factor zero in T takes -V_i^0 = -(2*5) = -10.
    terms = lmdi_terms(np.array([[2.0, 5.0], [0.0, 1.0]]),
                       np.array([[3.0, 0.0], [0.0, 7.0]]))
    assert terms.tolist() == [[0.0, -10.0], [0.0, 0.0]]
    # two factors zero in year 0: the limit of one common small delta splits the
    # change equally (L(V, d^2) ln(x/d) -> V/2 as d -> 0).
    terms = lmdi_terms(np.array([[0.0, 0.0, 2.0]]), np.array([[1.0, 4.0, 2.0]]))
    assert terms.tolist() == [[4.0, 4.0, 0.0]]


def test_small_delta_substitution_converges_to_the_limit():
    # the analytical limit is what the small-value strategy tends to (Ang & Liu 2007)
    x0 = np.array([[10.0, 0.0, 3.0], [5.0, 1.0, 2.0]])
    xT = np.array([[12.0, 0.2, 2.5], [6.0, 0.8, 2.0]])
    exact = lmdi_terms(x0, xT)
    delta = lmdi_terms(np.where(x0 == 0, 1e-30, x0), xT)
    assert np.allclose(exact, delta, atol=0.15)
    assert exact.sum() == pytest.approx(np.prod(xT, 1).sum() - np.prod(x0, 1).sum())


def test_zero_subcategory_in_frame_is_exact():
    frame = pd.DataFrame({
        "sector": ["a", "b", "a", "b"], "year": [2015, 2015, 2020, 2020],
        "q": [10.0, 10.0, 12.0, 12.0], "s": [1.0, 0.0, 0.5, 0.5], "i": [2.0, 3.0, 2.0, 3.0],
    })
    result = lmdi(frame, factors=["q", "s", "i"], by="sector", base=2015, target=2020)
    assert result.total == pytest.approx(result.observed, abs=1e-12)
    assert result.observed == pytest.approx(12 * 0.5 * 2 + 12 * 0.5 * 3 - 20)


def test_one_factor_change_gets_the_whole_change():
    frame = two_sector_frame()
    frame.loc[frame.year == 1, ["Q", "S"]] = [[100.0, 0.6], [100.0, 0.4]]
    for mode in ("additive", "multiplicative"):
        result = lmdi(frame, factors=["Q", "S", "I"], by="sector", base=0, target=1,
                      mode=mode)
        eff = dict(zip(result.effects["factor"], result.effects["effect"], strict=True))
        neutral = 0.0 if mode == "additive" else 1.0
        assert eff["Q"] == pytest.approx(neutral, abs=1e-12)
        assert eff["S"] == pytest.approx(neutral, abs=1e-12)
        assert eff["I"] == pytest.approx(result.observed, rel=1e-12)


positive = st.floats(min_value=1e-3, max_value=1e3, allow_nan=False)
nonneg = st.one_of(st.just(0.0), positive)


@st.composite
def factor_frames(draw, values=positive):
    n_sub = draw(st.integers(1, 5))
    n_fac = draw(st.integers(1, 5))
    years = [2015, 2016, 2017]
    rows = []
    for year in years:
        for i in range(n_sub):
            rows.append({"sub": f"s{i}", "year": year,
                         **{f"x{k}": draw(values) for k in range(n_fac)}})
    return pd.DataFrame(rows), [f"x{k}" for k in range(n_fac)]


@settings(max_examples=80, deadline=None)
@given(factor_frames(values=nonneg), st.booleans())
def test_perfect_decomposition_additive(case, chained):
    frame, factors = case
    result = lmdi(frame, factors=factors, by="sub", base=2015, target=2017,
                  chained=chained)
    # rounding scales with the largest sub-category value of any year in the chain
    scale = max(1.0, float(frame[factors].prod(axis=1).max()))
    assert result.total == pytest.approx(result.observed, abs=1e-9 * scale)
    # per sub-category effects add up to the factor effects
    per_factor = result.by_subcategory.groupby("factor")["effect"].sum()
    for factor, effect in zip(result.effects["factor"], result.effects["effect"],
                              strict=True):
        assert per_factor[factor] == pytest.approx(effect, abs=1e-9 * scale)


@settings(max_examples=80, deadline=None)
@given(factor_frames(), st.booleans())
def test_perfect_decomposition_multiplicative(case, chained):
    frame, factors = case
    result = lmdi(frame, factors=factors, by="sub", base=2015, target=2017,
                  mode="multiplicative", chained=chained)
    assert result.total == pytest.approx(result.observed, rel=1e-9)


@settings(max_examples=60, deadline=None)
@given(factor_frames(), st.sampled_from(["additive", "multiplicative"]))
def test_time_reversal(case, mode):
    frame, factors = case
    fwd = lmdi(frame, factors=factors, by="sub", base=2015, target=2017, mode=mode)
    back = lmdi(frame, factors=factors, by="sub", base=2017, target=2015, mode=mode)
    f = fwd.effects["effect"].to_numpy()
    b = back.effects["effect"].to_numpy()
    if mode == "additive":
        assert np.allclose(f, -b, atol=1e-9 * max(1.0, fwd.value_base))
    else:
        assert np.allclose(f * b, 1.0, rtol=1e-9)


def test_missing_row_and_blank_value_are_input_errors():
    frame = two_sector_frame().iloc[:3]
    with pytest.raises(InputError, match="no row in 1"):
        lmdi(frame, factors=["Q", "S", "I"], by="sector", base=0, target=1)
    frame = two_sector_frame()
    frame.loc[2, "I"] = np.nan
    with pytest.raises(InputError, match=r"row 4.*field 'I'"):
        lmdi(frame, factors=["Q", "S", "I"], by="sector", base=0, target=1)


def test_presets_rebuild_the_aggregate():
    data = pd.read_csv(EXAMPLES / "energy_by_sector_sample.csv")
    table = energy_by_sector_factors(data)
    product = table[["activity_10k_yuan", "structure_share",
                     "intensity_tce_per_10k_yuan"]].prod(axis=1)
    assert np.allclose(product, data["energy_tce"])
    data["co2_t"] = data["energy_tce"] * np.linspace(2.0, 2.6, len(data))
    kaya = co2_kaya_factors(data)
    assert np.allclose(kaya.drop(columns=["sector", "year"]).prod(axis=1), data["co2_t"])


def test_cli_json_reconciles_with_observed(tmp_path):
    runner = CliRunner()
    chart = tmp_path / "w.png"
    res = runner.invoke(app, ["decompose", str(EXAMPLES / "energy_by_sector_sample.csv"),
                              "--preset", "energy-by-sector", "--base", "2015",
                              "--target", "2020", "--json", "--chart", str(chart)])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    data = pd.read_csv(EXAMPLES / "energy_by_sector_sample.csv")
    observed = (data.loc[data.year == 2020, "energy_tce"].sum()
                - data.loc[data.year == 2015, "energy_tce"].sum())
    assert out["observed"] == pytest.approx(observed)
    assert sum(e["effect"] for e in out["effects"]) == pytest.approx(observed, rel=1e-12)
    assert {e["factor"] for e in out["effects"]} == {
        "activity_10k_yuan", "structure_share", "intensity_tce_per_10k_yuan"}
    assert chart.stat().st_size > 1000


def test_cli_errors_are_messages(tmp_path, monkeypatch):
    monkeypatch.setenv("DUALCONTROL_DB", f"duckdb:///{tmp_path / 'empty.duckdb'}")
    runner = CliRunner()
    res = runner.invoke(app, ["decompose", str(EXAMPLES / "energy_by_sector_factors.csv"),
                              "--factors", "nope"])
    assert res.exit_code == 2
    assert "nope" in res.output
    res = runner.invoke(app, ["decompose", "--preset", "co2-kaya"])
    assert res.exit_code == 2
    assert "store" in res.output
