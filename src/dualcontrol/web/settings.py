"""Settings of the web server, read once from the environment (``DUALCONTROL_WEB_*``).

The secret key that signs cookies is ``DUALCONTROL_WEB_SECRET_KEY`` when set; otherwise
a random key made on the first start and kept in the data folder
(``$DUALCONTROL_HOME/web_secret_key``, file mode 0600), so every installation has its
own. The development secret shipped in this file is public and is refused unless the
server only listens on the loopback interface.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import secrets
from pathlib import Path
from typing import Literal

from pydantic import model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

logger = logging.getLogger(__name__)

#: The secret shipped for development; refused unless bound to loopback in development.
DEVELOPMENT_SECRET = "dev-only-change-me"
#: Name of the file of the installation's secret key, in the data folder.
SECRET_FILE_NAME = "web_secret_key"


def is_loopback(host: str) -> bool:
    """Return True if ``host`` is a loopback address (127.0.0.0/8, ::1) or localhost."""
    name = host.strip().strip("[]").lower()
    if name in ("localhost", "localhost.localdomain") or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def installation_secret(folder: Path) -> str:
    """Return the secret key kept in ``folder``, creating it (mode 0600) on first use.

    The key is 256 random bits, URL-safe base64. The file is created exclusively, so
    two servers starting at once agree on one key.
    """
    path = folder / SECRET_FILE_NAME
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        try:
            handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process made it first: use theirs
        else:
            with os.fdopen(handle, "w", encoding="ascii") as out:
                out.write(secrets.token_urlsafe(32) + "\n")
            logger.info("created the web secret key %s", path)
    secret = path.read_text(encoding="ascii").strip()
    if len(secret) < 16:
        raise ValueError(
            f"the secret key in {path} is shorter than 16 characters; delete "
            "the file to have a new one made"
        )
    return secret


def _data_home() -> Path:
    from dualcontrol.store import data_home

    return data_home()


class WebSettings(BaseSettings):
    """Web server settings.

    Without ``secret_key`` the installation's key in the data folder is used (made on
    first start). The development secret is refused outside ``environment=
    "development"`` and on any address but loopback; outside development, cookies are
    marked ``Secure`` in production (sent over HTTPS only).
    """

    model_config = SettingsConfigDict(env_prefix="DUALCONTROL_WEB_", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    #: Key signing the cookies; empty: the installation's key in the data folder.
    secret_key: str = ""
    host: str = "127.0.0.1"
    port: int = 8000
    #: Lifetime of a page session [s].
    session_max_age_s: int = 8 * 3600
    #: Lifetime of an API bearer token [s].
    token_max_age_s: int = 24 * 3600
    #: Failed logins of one user name from one address before the back-off starts.
    login_max_failures: int = 5
    #: Failed logins of any user names from one address allowed in the window.
    login_max_failures_per_address: int = 50
    #: Window of the per-address limit, and how long failures are remembered [s].
    login_window_s: int = 900
    #: First wait once a (user name, address) pair has used its failures [s]; doubles.
    login_backoff_s: float = 1.0
    #: Longest wait of the back-off [s].
    login_backoff_max_s: float = 900.0
    #: Largest accepted request body, counted as it arrives [bytes].
    max_upload_bytes: int = 50 * 1024 * 1024
    #: PDF renders (Chromium processes) running at once.
    pdf_max_running: int = 1
    #: PDF requests allowed to wait for a render; more get 503.
    pdf_max_waiting: int = 2
    #: Longest wait of a PDF request for its turn [s].
    pdf_wait_s: float = 60.0
    session_cookie: str = "dualcontrol_session"
    #: Keep results until the store changes and look sessions up in memory (False: the
    #: behaviour before, read from the store on every request; the load test's baseline).
    cache_results: bool = True
    #: Longest time users and sessions read from the store are used before reading
    #: them again [s]: how soon another server process's revocation takes effect.
    session_refresh_s: float = 2.0
    #: On a database server, how long the store's version read is trusted [s]: how
    #: soon another process's import shows (on DuckDB the file's change is seen at once).
    version_poll_s: float = 1.0
    #: Keep computed tables on disk (in the data folder), so a restart reads them.
    results_on_disk: bool = True

    @model_validator(mode="after")
    def _check_secret(self) -> WebSettings:
        if not self.secret_key:
            self.secret_key = installation_secret(_data_home())
        if self.secret_key == DEVELOPMENT_SECRET:
            if self.environment != "development":
                raise ValueError(
                    "DUALCONTROL_WEB_SECRET_KEY must not be the development "
                    "secret outside development (it is public)"
                )
            if not is_loopback(self.host):
                raise ValueError(
                    f"the development secret is public: refused on {self.host}; "
                    "unset DUALCONTROL_WEB_SECRET_KEY (a random key is kept in "
                    "the data folder) or set it to a secret of your own"
                )
        if len(self.secret_key) < 16:
            raise ValueError("DUALCONTROL_WEB_SECRET_KEY must have at least 16 characters")
        return self

    @property
    def secure_cookies(self) -> bool:
        """True when cookies must only travel over HTTPS."""
        return self.environment == "production"
