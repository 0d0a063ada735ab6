"""One store wherever a command runs; commands that only read never create one.

Before, the store was ``./var/dualcontrol.duckdb`` of the current directory: a review
run elsewhere made an empty store there and found no league figures. Now the settings
(:mod:`dualcontrol.settings`) choose one place, and a missing store is exit code 2
naming where it was looked for.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from dualcontrol.cli import app
from dualcontrol.settings import SettingsError, load_settings

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
PROJECT = str(EXAMPLES / "projects" / "ferrosilicon_ulanqab.yaml")
runner = CliRunner()


def test_default_is_the_users_data_folder_not_the_current_directory() -> None:
    settings = load_settings({"HOME": "/home/analyst"})
    assert settings.home == Path("/home/analyst/.local/share/dualcontrol")
    assert settings.db_url == "duckdb:////home/analyst/.local/share/dualcontrol/dualcontrol.duckdb"
    assert settings.store_path == Path("/home/analyst/.local/share/dualcontrol/dualcontrol.duckdb")
    assert settings.log_level == "WARNING"


def test_xdg_data_home_is_used_only_when_absolute() -> None:
    assert load_settings({"HOME": "/h", "XDG_DATA_HOME": "/data"}).home == Path(
        "/data/dualcontrol")
    # the XDG base-directory spec: a relative path is invalid and ignored
    assert load_settings({"HOME": "/h", "XDG_DATA_HOME": "rel"}).home == Path(
        "/h/.local/share/dualcontrol")


def test_environment_overrides_file_overrides_default(tmp_path: Path) -> None:
    config = tmp_path / "config" / "dualcontrol" / "settings.toml"
    config.parent.mkdir(parents=True)
    config.write_text('home = "/srv/dc"\nlog = "info"\n', encoding="utf-8")
    env = {"HOME": "/h", "XDG_CONFIG_HOME": str(tmp_path / "config")}
    from_file = load_settings(env)
    assert from_file.home == Path("/srv/dc")
    assert from_file.db_url == "duckdb:////srv/dc/dualcontrol.duckdb"
    assert from_file.log_level == "INFO"
    assert str(config) in from_file.home_from
    over = load_settings(env | {"DUALCONTROL_HOME": "/other",
                                "DUALCONTROL_DB": "postgresql+psycopg://u:secret@h/db"})
    assert over.home == Path("/other")
    assert over.db_url == "postgresql+psycopg://u:secret@h/db"
    assert over.store_path is None
    assert "secret" not in over.describe_store()
    assert "DUALCONTROL_DB" in over.describe_store()


def test_a_relative_home_is_made_absolute_against_the_directory_it_was_given_in(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert load_settings({"HOME": "/h", "DUALCONTROL_HOME": "var"}).home == tmp_path / "var"


@pytest.mark.parametrize(("text", "message"), [
    ('colour = "red"\n', "unknown key colour; accepted: home, db, log"),
    ("home = 3\n", "home must be a string"),
    ("home = \n", "cannot read the settings file"),
])
def test_a_bad_settings_file_is_an_error(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "s.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SettingsError, match=message):
        load_settings({"HOME": "/h", "DUALCONTROL_CONFIG": str(path)})


def test_a_named_settings_file_must_exist(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="does not exist"):
        load_settings({"HOME": "/h", "DUALCONTROL_CONFIG": str(tmp_path / "none.toml")})


def test_open_store_without_create_refuses_a_missing_file(tmp_path: Path) -> None:
    from dualcontrol.store import StoreMissingError, open_store

    url = f"duckdb:///{tmp_path / 'none.duckdb'}"
    with pytest.raises(StoreMissingError, match=r"none\.duckdb.*dualcontrol demo"):
        open_store(url, create=False)
    assert not (tmp_path / "none.duckdb").exists()


@pytest.mark.postgres
def test_open_store_without_create_refuses_a_database_without_schema() -> None:
    from conftest import drop_pg_schema, make_pg_url, pg_base_url
    from dualcontrol.store import StoreMissingError, open_store
    from dualcontrol.store.migrate import current_revision

    base = pg_base_url()
    if base is None:
        pytest.skip("DUALCONTROL_TEST_PG not set (run scripts/test-services.sh)")
    url, name = make_pg_url(base)
    try:
        with pytest.raises(StoreMissingError, match="no store at"):
            open_store(url, create=False)
        with open_store(url) as made:  # create=True makes the schema
            assert current_revision(made) is not None
        open_store(url, create=False).close()
    finally:
        drop_pg_schema(base, name)


READERS = [
    ["assess", "--year", "2024"],
    ["benchmark", "--year", "2024"],
    ["review", PROJECT],
    ["decompose", "--preset", "energy-by-sector", "--base", "2020", "--target", "2024"],
    ["report", "--period", "2024-Q4"],
]


@pytest.mark.parametrize("args", READERS, ids=lambda a: a[0])
def test_a_reader_without_store_exits_2_and_creates_nothing(
        args: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    work = tmp_path / "elsewhere"
    work.mkdir()
    monkeypatch.chdir(work)
    home = tmp_path / "home"
    monkeypatch.setenv("DUALCONTROL_HOME", str(home))
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    text = " ".join(result.output.split())
    assert f"no store at {home / 'dualcontrol.duckdb'}" in text
    assert "DUALCONTROL_HOME" in text and "dualcontrol demo" in text
    assert not home.exists()
    assert list(work.iterdir()) == []


def test_the_old_place_in_the_current_directory_is_pointed_out(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "var").mkdir()
    (tmp_path / "var" / "dualcontrol.duckdb").write_bytes(b"")
    result = runner.invoke(app, ["assess"])
    assert result.exit_code == 2
    assert "DUALCONTROL_HOME=var" in " ".join(result.output.split())


@pytest.fixture(scope="module")
def home_with_store(tmp_path_factory: pytest.TempPathFactory, small_demo_tables: dict) -> Path:
    """Return a data folder holding a store with the small demo data."""
    from dualcontrol.demo import _load
    from dualcontrol.store import open_store

    home = tmp_path_factory.mktemp("home")
    with open_store(f"duckdb:///{home / 'dualcontrol.duckdb'}") as opened:
        _load(opened, small_demo_tables, "small-demo", 2025)
    return home


def test_the_same_answer_from_any_directory_and_the_store_named(
        home_with_store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DUALCONTROL_HOME", str(home_with_store))
    answers = []
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        monkeypatch.chdir(tmp_path / name)
        result = runner.invoke(app, ["review", PROJECT, "--json"])
        assert result.exit_code == 0, result.output
        answers.append(result.stdout)
        assert f"store: {home_with_store / 'dualcontrol.duckdb'}" in result.stderr
        assert "DUALCONTROL_HOME" in result.stderr
        assert list((tmp_path / name).iterdir()) == []
    assert answers[0] == answers[1]
    assert '"effects": []' not in answers[0]  # the league and region figures were found


def test_one_store_opened_per_command(home_with_store: Path,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """``assess`` reads the store several times; it is opened (and migrated) once."""
    import dualcontrol.store as store_module

    opened: list[str | None] = []
    real = store_module.open_store

    def counting(url: str | None = None, **kwargs: object) -> store_module.Store:
        opened.append(url)
        return real(url, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr("dualcontrol.datasets.open_store", counting)
    monkeypatch.setenv("DUALCONTROL_HOME", str(home_with_store))
    result = runner.invoke(app, ["review", PROJECT])
    assert result.exit_code == 0, result.output
    assert opened == [None]
    assert result.stderr.count("store: ") == 1
