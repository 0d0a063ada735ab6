"""An internal error ends with exit code 1, one sentence and a report file."""

from __future__ import annotations

import sys
from datetime import UTC, datetime

import pytest

import dualcontrol.cli as cli
from dualcontrol.cli.crash import hide_secrets, report_text


def test_an_internal_error_is_said_and_reported(monkeypatch, tmp_path, capsys) -> None:
    def boom() -> None:
        raise ZeroDivisionError("division by zero in a test")

    monkeypatch.setenv("DUALCONTROL_HOME", str(tmp_path))
    monkeypatch.setattr(cli, "app", boom)
    monkeypatch.setattr(sys, "argv", ["dualcontrol", "web", "--password", "hunter2"])
    with pytest.raises(SystemExit) as ended:
        cli.main()
    assert ended.value.code == 1
    err = capsys.readouterr().err
    assert "internal error: ZeroDivisionError: division by zero in a test" in err
    reports = list((tmp_path / "crash-reports").glob("*.txt"))
    assert len(reports) == 1 and f"report: {reports[0]}" in err
    text = reports[0].read_text(encoding="utf-8")
    assert "ZeroDivisionError" in text and "in boom" in text  # the traceback
    assert "web --password ***" in text and "hunter2" not in text


def test_a_user_error_stays_exit_2_without_a_report(monkeypatch, tmp_path, capsys) -> None:
    from dualcontrol.errors import InputError, Problem

    def refuse() -> None:
        raise InputError(Problem("bad value", field="x", value="1,5"))

    monkeypatch.setenv("DUALCONTROL_HOME", str(tmp_path))
    monkeypatch.setattr(cli, "app", refuse)
    with pytest.raises(SystemExit) as ended:
        cli.main()
    assert ended.value.code == 2
    assert "internal error" not in capsys.readouterr().err
    assert not (tmp_path / "crash-reports").exists()


def test_secrets_are_hidden_in_both_spellings() -> None:
    assert hide_secrets(["x", "--db=postgresql://u:pw@h/d", "--token", "abc", "--year",
                         "2025"]) == ["x", "--db=***", "--token", "***", "--year", "2025"]
    text = report_text(ValueError("v"), ["dualcontrol", "assess"],
                       now=datetime(2026, 12, 2, tzinfo=UTC))
    assert text.startswith("dualcontrol internal error report\ntime (UTC): 2026-12-02T00:00")
