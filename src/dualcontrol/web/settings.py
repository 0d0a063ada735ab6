"""Settings of the web server, read once from the environment (``DUALCONTROL_WEB_*``)."""

from __future__ import annotations

import logging
from typing import Literal

from pydantic import model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

logger = logging.getLogger(__name__)

#: The secret shipped for development; refused in any other environment.
DEVELOPMENT_SECRET = "dev-only-change-me"


class WebSettings(BaseSettings):
    """Web server settings.

    Outside ``environment="development"`` the default secret key is refused, and
    cookies are marked ``Secure`` (sent over HTTPS only).
    """

    model_config = SettingsConfigDict(env_prefix="DUALCONTROL_WEB_", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    secret_key: str = DEVELOPMENT_SECRET
    host: str = "127.0.0.1"
    port: int = 8000
    #: Lifetime of a page session [s].
    session_max_age_s: int = 8 * 3600
    #: Lifetime of an API bearer token [s].
    token_max_age_s: int = 24 * 3600
    #: Failed logins allowed per user name and per client address in the window.
    login_max_failures: int = 5
    #: Window of the login rate limit [s].
    login_window_s: int = 300
    #: Largest accepted upload [bytes].
    max_upload_bytes: int = 50 * 1024 * 1024
    session_cookie: str = "dualcontrol_session"

    @model_validator(mode="after")
    def _refuse_default_secret(self) -> WebSettings:
        if self.environment != "development" and self.secret_key == DEVELOPMENT_SECRET:
            raise ValueError("DUALCONTROL_WEB_SECRET_KEY must be set outside development "
                             "(the default secret is public)")
        if len(self.secret_key) < 16:
            raise ValueError("DUALCONTROL_WEB_SECRET_KEY must have at least 16 characters")
        return self

    @property
    def secure_cookies(self) -> bool:
        """True when cookies must only travel over HTTPS."""
        return self.environment == "production"
