"""The Typer application every command module adds its commands to."""

from __future__ import annotations

from typing import Any

import typer

app = typer.Typer(
    name="dualcontrol",
    help="Energy-consumption dual control and carbon-peak accounting for a region.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

#: Commands that read the store: one store per command, opened on the first read (never
#: created), its place said once on stderr.
STORE_READERS = frozenset({"assess", "benchmark", "review", "decompose", "outlook",
                           "report", "show", "monitor", "measures"})


def _say_store(store: Any) -> None:
    from dualcontrol.cli.output import err_console
    from dualcontrol.store import describe

    err_console.print(f"store: {describe(store.url)}", highlight=False)


@app.callback()
def _options(
    ctx: typer.Context,
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
    if ctx.invoked_subcommand in STORE_READERS:
        from dualcontrol import datasets

        ctx.with_resource(datasets.store_session(on_open=_say_store))
