# ruff: noqa: F811  (the fixtures of test_web_api are imported, then requested by name)
"""The upload page's replace/merge choice and its confirmation of large energy drops
(issue 19), on the small demo store of the web tests."""

from __future__ import annotations

import hashlib
import re

import pandas as pd

from dualcontrol import datasets
from dualcontrol.revisions import drop_rule
from test_web_api import (  # noqa: F401  (fixtures)
    auth,
    client,
    csrf_of,
    login,
    report_csv,
    world,
)


def _revisions(world, period: str) -> int:
    rows = datasets.energy_reports(world["store"], enterprise=world["own"], revisions="all")
    return int(rows.loc[rows["period"] == period, "revision"].max())


def _month(world, index: int) -> str:
    periods = sorted(datasets.energy_reports(world["store"], enterprise=world["own"])
                     ["period"].unique())
    return periods[index]


def _post(client, body: bytes, **fields: str):
    form = client.get("/upload")
    return client.post("/upload", data={"csrf_token": csrf_of(form.text), **fields},
                       files={"file": ("r.csv", body, "text/csv")})


def test_upload_page_offers_the_cli_choices(world, client) -> None:
    login(client, "reporter")
    page = client.get("/upload")
    assert page.status_code == 200
    for choice in ("refuse", "replace", "merge"):
        assert f'id="partial-{choice}"' in page.text
    assert re.search(r'value="refuse" id="partial-refuse" checked', page.text)


def test_a_partial_correction_is_refused_by_default_and_merged_when_chosen(
        world, client) -> None:
    login(client, "reporter")
    period = _month(world, -3)
    full = pd.read_csv(pd.io.common.BytesIO(report_csv(world, world["own"], period)))
    assert len(full) >= 2
    one = full.iloc[[0]].assign(quantity=full["quantity"].iloc[0] * 1.01)
    body = one.to_csv(index=False).encode()
    before = _revisions(world, period)
    refused = _post(client, body)
    assert refused.status_code == 422 and "partial submission" in refused.text
    assert _revisions(world, period) == before
    merged = _post(client, body, on_partial="merge")
    assert merged.status_code == 200, merged.text
    assert 'id="upload-merged"' in merged.text
    assert _revisions(world, period) == before + 1
    # merged: the other carriers are still there
    latest = datasets.energy_reports(world["store"], enterprise=world["own"])
    assert len(latest[latest["period"] == period]) == len(full)


def test_a_large_energy_drop_is_shown_and_stored_only_once_confirmed(world, client) -> None:
    login(client, "reporter")
    period = _month(world, -5)
    # every quantity / 10: 10% of the stored energy, below the rule's 50%
    assert drop_rule().fraction == 0.5
    body = report_csv(world, world["own"], period, factor=0.1)
    before = _revisions(world, period)
    shown = _post(client, body)
    assert shown.status_code == 409, shown.text
    assert 'id="upload-confirm"' in shown.text and period in shown.text
    assert re.search(r"<td class=\"n\">10%</td>", shown.text)
    assert _revisions(world, period) == before  # nothing stored yet
    digest = hashlib.sha256(body).hexdigest()
    assert f'name="confirm_sha256" value="{digest}"' in shown.text
    # a confirmation of another file does not carry over
    other = report_csv(world, world["own"], period, factor=0.2)
    again = _post(client, other, confirm_sha256=digest)
    assert again.status_code == 409
    confirmed = _post(client, body, confirm_sha256=digest)
    assert confirmed.status_code == 200, confirmed.text
    assert _revisions(world, period) == before + 1


def test_a_small_change_needs_no_confirmation(world, client) -> None:
    login(client, "reporter")
    period = _month(world, -7)
    body = report_csv(world, world["own"], period, factor=0.9)
    answer = _post(client, body)
    assert answer.status_code == 200, answer.text
    assert 'id="upload-confirm"' not in answer.text


def test_an_unknown_choice_is_refused(world, client) -> None:
    login(client, "reporter")
    body = report_csv(world, world["own"], _month(world, -2))
    answer = _post(client, body, on_partial="overwrite")
    assert answer.status_code == 422 and "overwrite" in answer.text


def _api(world, client, body: bytes, **fields: str):
    return client.post("/api/reports", headers=auth(world, "reporter"), data=fields,
                       files={"file": ("r.csv", body, "text/csv")})


def test_the_api_offers_the_same_choice_and_confirmation(world, client) -> None:
    # a partial correction: refused by default (422), merged when asked
    period = _month(world, -4)
    full = pd.read_csv(pd.io.common.BytesIO(report_csv(world, world["own"], period)))
    one = full.iloc[[0]].assign(quantity=full["quantity"].iloc[0] * 1.02)
    body = one.to_csv(index=False).encode()
    before = _revisions(world, period)
    refused = _api(world, client, body)
    assert refused.status_code == 422 and refused.json()["stored"] is False
    assert any("partial submission" in p["message"] for p in refused.json()["problems"])
    merged = _api(world, client, body, on_partial="merge")
    assert merged.status_code == 201, merged.text
    assert _revisions(world, period) == before + 1
    # a drop to 10% of the stored energy (rule: below 50% needs a confirmation): 409
    # with the drops and the file's hash, nothing stored; the same file with the hash
    # is stored, another file with it is not
    period = _month(world, -6)
    body = report_csv(world, world["own"], period, factor=0.1)
    before = _revisions(world, period)
    shown = _api(world, client, body)
    assert shown.status_code == 409, shown.text
    answer = shown.json()
    digest = hashlib.sha256(body).hexdigest()
    assert answer["stored"] is False and answer["confirm_sha256"] == digest
    assert answer["threshold_fraction"] == 0.5
    drop = answer["drops"][0]
    assert drop["period"] == period
    assert abs(drop["fraction"] - 0.1) < 1e-9  # every quantity x 0.1
    assert abs(drop["new_tce"] - 0.1 * drop["stored_tce"]) <= 1e-9 * drop["stored_tce"]
    assert _revisions(world, period) == before
    other = report_csv(world, world["own"], period, factor=0.2)
    assert _api(world, client, other, confirm_sha256=digest).status_code == 409
    confirmed = _api(world, client, body, confirm_sha256=digest)
    assert confirmed.status_code == 201, confirmed.text
    assert _revisions(world, period) == before + 1
    unknown = _api(world, client, body, on_partial="overwrite")
    assert unknown.status_code == 422 and unknown.json()["problems"][0]["value"] == "overwrite"
