"""Every option of every command either works or exits 2 naming the option and value.

The commands and options are read from the Typer app, so a new option is walked too:
an option with choices is run with each choice and with a wrong one; a number or time
with text; a free-text option must be listed in BAD (a value the command must refuse)
or FREE (any text is acceptable), so whoever adds one decides which.
"""

from __future__ import annotations

import enum
import types
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from dualcontrol.cli import app

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
runner = CliRunner()

#: Commands run for real, with the arguments that make a valid call ({tmp}: a folder).
BASE: dict[str, list[str]] = {
    "convert": ["1", "t", "raw_coal"],
    "reference": ["carriers"],
    "account": [str(EXAMPLES / "energy_use.csv")],
    "decompose": [str(EXAMPLES / "decomposition" / "energy_by_sector_factors.csv")],
    "outlook": [str(EXAMPLES / "scenarios" / "inner_mongolia_policy.yaml"), "--draws", "0"],
    "assess": [],
    "benchmark": ["--data", str(EXAMPLES / "production_units.csv")],
    "review": [str(EXAMPLES / "projects" / "ferrosilicon_ulanqab.yaml"), "--context",
               str(EXAMPLES / "projects" / "context_2024.yaml")],
    "monitor": ["{tmp}/meters", "--month", "2024-07", "--as-of", "2025-01-01T00:00:00"],
    "template": ["energy", "--output", "{tmp}/t.csv"],
    "report": ["--period", "2024-Q4", "--out", "{tmp}/b.html"],
    "synth meters": ["{tmp}/synth", "--units", "2", "--meters", "1", "--days", "1", "--csv"],
    "carbon-budget": [],
    "pipeline list": [],
    "show store": [],
    "show enterprise": ["{uscc}"],
    "show region": ["150600"],
    "show audit": [],
    "measures list": [],
    "measures export": ["{tmp}/measures.xlsx"],
    "measures generate": [],
    "measures progress": [],
    "measures wedges": [str(EXAMPLES / "scenarios" / "inner_mongolia_policy.yaml"),
                        "--draws", "0"],
}
#: Commands only parsed: they serve, prompt, take minutes or change the store.
PARSE_ONLY = {"demo", "serve", "ingest", "user add", "db upgrade", "db check", "pipeline add",
              "pipeline move", "measures import"}
#: Choices not run here (they need Java and Spark: tests/test_monitoring_pipeline.py).
SKIP_CHOICES = {("monitor", "--engine", "spark")}
#: Values a command must refuse with exit code 2, per (command, option).
BAD: dict[tuple[str, str], str] = {
    ("convert", "--grid"): "atlantis",
    ("account", "--grid"): "atlantis",
    ("decompose", "--by"): "no_such_column",
    ("decompose", "--factors"): "no_such_factor",
    ("decompose", "--preset"): "no-such-preset",
    ("outlook", "--years"): "twenty-thirty",
    ("assess", "--period"): "2024-Q9",
    ("assess", "--plan"): "99th",
    ("assess", "--in"): "999999",
    ("assess", "--region"): "999999",
    ("benchmark", "--industry"): "no such industry",
    ("monitor", "--month"): "2024-13",
    ("monitor", "--memory-limit"): "lots",
    ("template", "--format"): "docx",
    ("report", "--period"): "2024-Q9",
    ("synth meters", "--month"): "2024-13",
    ("ingest", "--kind"): "bogus",
    ("user add", "--role"): "emperor",
    ("user add", "--scope"): "galaxy:1",
    ("carbon-budget", "--rule"): "league_by_population",
    ("carbon-budget", "--as-of"): "2026-13-01",
    ("pipeline list", "--league"): "Atlantis",
    ("show enterprise", "--period"): "July",
    ("show audit", "--since"): "yesterday",
    ("measures list", "--status"): "bogus",
    ("measures list", "--level"): "bogus",
    ("measures list", "--as-of"): "yesterday",
    ("measures progress", "--as-of"): "yesterday",
}
#: Options that take any text.
FREE = {("ingest", "--user"), ("serve", "--host"), ("user add", "--password"),
        ("monitor", "--master"),  # --master: read by --engine spark only
        ("show audit", "--user"), ("show audit", "--key"),  # filters: no match, no rows
        ("measures import", "--user"), ("measures generate", "--user")}
# the pipeline's writes are parse-only here; their bad values: tests/test_cli_carbon.py
FREE |= {("pipeline add", opt) for opt in (
    "--code", "--name", "--league", "--county", "--park", "--industry", "--product",
    "--reviewed-on", "--user")} | {("pipeline move", opt) for opt in ("--on", "--note",
                                                                       "--user")}


def commands() -> Iterator[tuple[str, Any]]:
    """Yield (name, click command) of every command, sub-commands included."""
    def walk(cmd: Any, path: list[str]) -> Iterator[tuple[str, Any]]:
        if hasattr(cmd, "commands"):
            for name, sub in cmd.commands.items():
                yield from walk(sub, [*path, name])
        else:
            yield " ".join(path), cmd
    yield from walk(typer.main.get_command(app), [])


def bare(annotation: Any) -> Any:
    """Return the type of an option without ``| None``."""
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        return next(a for a in typing.get_args(annotation) if a is not type(None))
    return annotation


def options(command: Any) -> Iterator[tuple[str, Any]]:
    for param in command.params:
        if param.param_type_name == "option" and not getattr(param, "is_flag", False) \
                and param.opts[0] != "--help":
            yield param.opts[0], bare(param.type_descriptor.annotation)


def cases() -> Iterator[Any]:
    for name, command in commands():
        for opt, kind in options(command):
            if isinstance(kind, type) and issubclass(kind, enum.Enum):
                yield pytest.param(name, opt, "bogus-choice", 2, id=f"{name} {opt} bogus")
                if name in PARSE_ONLY:
                    continue
                for member in kind:
                    if (name, opt, member.value) not in SKIP_CHOICES:
                        yield pytest.param(name, opt, member.value, 0,
                                           id=f"{name} {opt} {member.value}")
            elif kind in (int, float) or getattr(kind, "__name__", "") == "datetime":
                yield pytest.param(name, opt, "not-a-number", 2, id=f"{name} {opt} text")
            elif kind is str and (name, opt) in BAD:
                yield pytest.param(name, opt, BAD[name, opt], 2, id=f"{name} {opt} bad")


def test_every_text_option_is_classified() -> None:
    text = {(name, opt) for name, command in commands() for opt, kind in options(command)
            if kind is str}
    assert text - set(BAD) - FREE == set(), "add these options to BAD or FREE"
    assert set(BAD) | FREE <= text, "BAD or FREE name an option that is gone"
    assert set(BASE) | PARSE_ONLY == {name for name, _ in commands()}


@pytest.fixture(scope="module")
def store_url(tmp_path_factory: pytest.TempPathFactory, small_demo_tables: dict) -> str:
    """Return the URL of an embedded store with the small demo data (options do not
    depend on the backend: tests/test_store.py covers PostgreSQL)."""
    from dualcontrol.demo import _load
    from dualcontrol.store import open_store

    url = f"duckdb:///{tmp_path_factory.mktemp('store') / 's.duckdb'}"
    with open_store(url) as opened:
        _load(opened, small_demo_tables, "small-demo", 2025)
    return url


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("cli")
    made = runner.invoke(app, ["synth", "meters", str(tmp / "meters"), "--units", "2",
                               "--meters", "1", "--days", "1", "--csv"])
    assert made.exit_code == 0, made.output
    return tmp


@pytest.fixture(scope="module")
def uscc(small_demo_tables: dict) -> str:
    """Return the USCC of an enterprise of the small demo store."""
    return str(small_demo_tables["enterprises"]["uscc"].iloc[0])


def arguments(name: str, folder: Path, uscc: str) -> list[str]:
    return [a.replace("{tmp}", str(folder)).replace("{uscc}", uscc)
            for a in BASE.get(name, [])]


@pytest.mark.parametrize(("name", "opt", "value", "expected"), list(cases()))
def test_option(name: str, opt: str, value: str, expected: int, folder: Path,
                store_url: str, uscc: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DUALCONTROL_DB", store_url)
    monkeypatch.setenv("DUALCONTROL_HOME", str(folder))
    # the examples are of 2023-2024, without a published Inner Mongolia factor
    monkeypatch.setenv("DUALCONTROL_FACTOR_YEARS", "nearest")
    args = arguments(name, folder, uscc)
    if name == "user add":
        args = ["someone", "--password", "a long enough password", "--role", "analyst"]
    if name == "ingest":
        args = [str(EXAMPLES / "energy_use.csv")]
    result = runner.invoke(app, [*name.split(), *args, opt, value])
    assert result.exception is None or isinstance(result.exception, SystemExit), \
        f"traceback: {result.exception!r}\n{result.output}"
    if expected == 0:
        assert result.exit_code in (0, 2), result.output
    else:
        assert result.exit_code == 2, result.output
        # the message names the option (or its field) and the value given; Typer's own
        # message for a number does not repeat the value
        output = " ".join(result.output.split())
        named = (opt, opt.lstrip("-"), opt.lstrip("-").replace("-", "_"))
        assert any(n in output for n in named), result.output
        assert value in output or value == "not-a-number", result.output


@pytest.mark.parametrize("name", sorted(BASE))
def test_base_call_works(name: str, folder: Path, store_url: str, uscc: str,
                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DUALCONTROL_DB", store_url)
    monkeypatch.setenv("DUALCONTROL_HOME", str(folder))
    # the examples are of 2023-2024, without a published Inner Mongolia factor
    monkeypatch.setenv("DUALCONTROL_FACTOR_YEARS", "nearest")
    args = arguments(name, folder, uscc)
    result = runner.invoke(app, [*name.split(), *args])
    assert result.exit_code == 0, f"{result.exception!r}\n{result.output}"
