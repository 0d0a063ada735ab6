"""Command-line interface: ``dualcontrol COMMAND``.

Each module below adds its commands to :data:`dualcontrol.cli.app.app`; importing it
here is what registers it.
"""

from __future__ import annotations

import logging
import sys

from dualcontrol.cli import (
    accounts,  # noqa: F401  (registers commands)
    analysis,  # noqa: F401  (registers commands)
    assess,  # noqa: F401  (registers commands)
    carbon,  # noqa: F401  (registers commands)
    efficiency,  # noqa: F401  (registers commands)
    measures,  # noqa: F401  (registers commands)
    monitor,  # noqa: F401  (registers commands)
    show,  # noqa: F401  (registers commands)
    store,  # noqa: F401  (registers commands)
    web,  # noqa: F401  (registers commands)
)
from dualcontrol.cli.app import app
from dualcontrol.errors import DualControlError


def main() -> None:
    """Run the command line."""
    from dualcontrol.settings import SettingsError, load_settings

    try:
        level = load_settings().log_level
    except SettingsError as exc:
        sys.stderr.write(f"error: {exc}\n")
        raise SystemExit(2) from None
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    try:
        app()
    except DualControlError as exc:  # a command without its own user_errors()
        sys.stderr.write(f"error: {exc}\n")
        raise SystemExit(2) from None
    except Exception as exc:  # a fault of the program: say so, keep a report
        from dualcontrol.cli.crash import internal_error

        raise SystemExit(internal_error(exc, sys.argv, load_settings().home)) from None


__all__ = ["app", "main"]
