"""The installation's settings: where the store is, how much to log.

One object, :class:`Settings`, read by the command line, the web server and the store
from the environment and, below it, an optional settings file:

============================  ======================  ===================================
setting                       environment             settings file key
============================  ======================  ===================================
data folder (store, secrets)  ``DUALCONTROL_HOME``    ``home``
store URL                     ``DUALCONTROL_DB``      ``db``
log level                     ``DUALCONTROL_LOG``     ``log``
============================  ======================  ===================================

The settings file is TOML, ``$DUALCONTROL_CONFIG`` or
``$XDG_CONFIG_HOME/dualcontrol/settings.toml`` (``~/.config/dualcontrol/settings.toml``).
Without either, the data folder is the user's data folder,
``$XDG_DATA_HOME/dualcontrol`` (``~/.local/share/dualcontrol``; ``%LOCALAPPDATA%\\dualcontrol``
on Windows), never the current directory, so a command gives the same answer wherever
it is run. The store is the DuckDB file ``dualcontrol.duckdb`` in the data folder unless
``db`` names another (``postgresql+psycopg://user@host/db``).

Nothing here imports the rest of the package; reading the settings changes nothing.
"""

from __future__ import annotations

import os
import sys
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from dualcontrol.errors import DualControlError

#: Environment variable of the data folder.
HOME_ENV = "DUALCONTROL_HOME"
#: Environment variable of the store's URL.
URL_ENV = "DUALCONTROL_DB"
#: Environment variable of the log level.
LOG_ENV = "DUALCONTROL_LOG"
#: Environment variable naming the settings file.
CONFIG_ENV = "DUALCONTROL_CONFIG"
#: File name of the embedded store in the data folder.
STORE_FILE = "dualcontrol.duckdb"
#: Keys accepted in the settings file.
FILE_KEYS = ("home", "db", "log")


class SettingsError(DualControlError, ValueError):
    """The settings file cannot be read or holds an unknown key."""


def user_data_folder(environ: Mapping[str, str]) -> Path:
    """Return the user's data folder for dualcontrol (XDG base directories)."""
    if sys.platform == "win32" and environ.get("LOCALAPPDATA"):
        return Path(environ["LOCALAPPDATA"]) / "dualcontrol"
    base = environ.get("XDG_DATA_HOME", "").strip()
    if not base or not Path(base).is_absolute():  # the XDG spec ignores relative paths
        base = str(Path(environ.get("HOME") or Path.home()) / ".local" / "share")
    return Path(base) / "dualcontrol"


def settings_file(environ: Mapping[str, str]) -> Path:
    """Return the path of the settings file (which need not exist)."""
    named = environ.get(CONFIG_ENV, "").strip()
    if named:
        return Path(named).expanduser()
    base = environ.get("XDG_CONFIG_HOME", "").strip()
    if not base or not Path(base).is_absolute():
        base = str(Path(environ.get("HOME") or Path.home()) / ".config")
    return Path(base) / "dualcontrol" / "settings.toml"


def _read_file(path: Path, *, required: bool) -> dict[str, str]:
    if not path.is_file():
        if required:
            raise SettingsError(f"settings file {path} (from {CONFIG_ENV}) does not exist")
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise SettingsError(f"cannot read the settings file {path}: {exc}") from None
    unknown = sorted(set(data) - set(FILE_KEYS))
    if unknown:
        raise SettingsError(f"settings file {path}: unknown key {', '.join(unknown)}; "
                            f"accepted: {', '.join(FILE_KEYS)}")
    bad = [k for k, v in data.items() if not isinstance(v, str)]
    if bad:
        raise SettingsError(f"settings file {path}: {', '.join(bad)} must be a string")
    return {k: v.strip() for k, v in data.items()}


@dataclass(frozen=True)
class Settings:
    """Where the installation keeps its data, and how it logs.

    Attributes
    ----------
    home : Path
        The data folder: the embedded store and the web server's secret key.
    db_url : str
        SQLAlchemy URL of the store.
    log_level : str
        Level of the log messages printed (``WARNING`` by default).
    home_from, db_from : str
        Where ``home`` and ``db_url`` came from (an environment variable, the settings
        file or the default), for messages that say where a store was looked for.
    """

    home: Path
    db_url: str
    log_level: str = "WARNING"
    home_from: str = "default"
    db_from: str = "default"

    @property
    def store_path(self) -> Path | None:
        """The embedded store's file, or None when the store is a server."""
        prefix = "duckdb:///"
        if self.db_url.startswith(prefix) and self.db_url != f"{prefix}:memory:":
            return Path(self.db_url.removeprefix(prefix))
        return None

    def describe_store(self) -> str:
        """Return the store's location and what chose it, e.g. for a line on stderr."""
        if self.db_from != "default":
            where = self.store_path or _hide_password(self.db_url)
            return f"{where} ({self.db_from})"
        if self.home_from == "default":
            return (f"{self.store_path} (the user's data folder; {HOME_ENV} or {URL_ENV} "
                    "choose another)")
        return f"{self.store_path} (data folder from {self.home_from})"


def _hide_password(url: str) -> str:
    head, sep, tail = url.partition("://")
    if sep and "@" in tail:
        auth, _, rest = tail.rpartition("@")
        if ":" in auth:
            return f"{head}://{auth.split(':', 1)[0]}:***@{rest}"
    return url


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Return the settings of ``environ`` (default: the process environment).

    The environment overrides the settings file, which overrides the defaults.
    """
    env = os.environ if environ is None else environ
    named = bool(env.get(CONFIG_ENV, "").strip())
    path = settings_file(env)
    from_file = _read_file(path, required=named)
    file_label = f"settings file {path}"

    def pick(env_name: str, key: str) -> tuple[str, str]:
        value = env.get(env_name, "").strip()
        if value:
            return value, env_name
        if from_file.get(key):
            return from_file[key], file_label
        return "", "default"

    home_text, home_from = pick(HOME_ENV, "home")
    if home_text:
        home = Path(os.path.abspath(Path(home_text).expanduser()))
    else:
        home = user_data_folder(env)
    db_url, db_from = pick(URL_ENV, "db")
    if not db_url:
        db_url = f"duckdb:///{(home / STORE_FILE).as_posix()}"
    log_level, _ = pick(LOG_ENV, "log")
    return Settings(home=home, db_url=db_url, log_level=(log_level or "WARNING").upper(),
                    home_from=home_from, db_from=db_from)


__all__ = ["Settings", "SettingsError", "load_settings", "settings_file", "user_data_folder"]
