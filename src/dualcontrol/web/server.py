"""Building and running the web application for the command line and the demo."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import uvicorn
from fastapi import FastAPI

from dualcontrol.web.app import create_app
from dualcontrol.web.data import WebData, examples_data
from dualcontrol.web.demo_users import Credential, create_demo_users, demo_scopes
from dualcontrol.web.settings import WebSettings
from dualcontrol.web.users import MemoryUsers, UserRepository

logger = logging.getLogger(__name__)


@dataclass
class Served:
    """An application ready to serve, with the demo credentials created for it."""

    app: FastAPI
    settings: WebSettings
    credentials: list[Credential]

    @property
    def address(self) -> str:
        """Return the URL the server listens on."""
        return f"http://{self.settings.host}:{self.settings.port}/"


def examples_app(examples: Path, *, settings: WebSettings | None = None,
                 users: UserRepository | None = None) -> Served:
    """Return the dashboard over the example files, with one demo user per role.

    Users live in memory (they vanish when the server stops) unless ``users`` is given.
    """
    settings = settings or WebSettings()
    data: WebData = examples_data(examples)
    users = users or MemoryUsers()
    credentials = create_demo_users(users, demo_scopes(data.hierarchy()))
    sample = examples / "projects" / "ferrosilicon_ulanqab.yaml"
    extras = {"sample_project": sample.read_text("utf-8")} if sample.exists() else {}
    app = create_app(data=data, users=users, settings=settings, extras=extras)
    return Served(app, settings, credentials)


def run(served: Served) -> None:
    """Serve until interrupted (Ctrl-C)."""
    uvicorn.run(served.app, host=served.settings.host, port=served.settings.port,
                log_level="warning")
