"""The Typer application every command module adds its commands to."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="dualcontrol",
    help="Energy-consumption dual control and carbon-peak accounting for a region.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
