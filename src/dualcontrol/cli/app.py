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


@app.callback()
def _options(wide: bool = typer.Option(
        False, "--wide", help="Show every column of the tables, however wide.")) -> None:
    """Energy-consumption dual control and carbon-peak accounting for a region."""
    from dualcontrol.cli.output import set_wide

    set_wide(wide)
