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
def _options(
    wide: bool = typer.Option(
        False, "--wide", help="Show every column of the tables, however wide."),
    factor_years: str | None = typer.Option(
        None, "--factor-years", envvar="DUALCONTROL_FACTOR_YEARS",
        help="A year without a published emission factor: 'exact' refuses it (default), "
             "'nearest' takes the nearest published year's and says so once. The demo "
             "store asks for 'nearest'."),
) -> None:
    """Energy-consumption dual control and carbon-peak accounting for a region."""
    from dualcontrol.cli.output import set_wide

    set_wide(wide)
    from dualcontrol.factor_policy import FACTOR_YEAR_POLICIES, set_factor_years

    if factor_years is not None and factor_years not in FACTOR_YEAR_POLICIES:
        raise typer.BadParameter(f"{factor_years!r}; accepted: "
                                 f"{', '.join(FACTOR_YEAR_POLICIES)}",
                                 param_hint="--factor-years")
    set_factor_years(factor_years)
