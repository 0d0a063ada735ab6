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
                           "report", "show", "monitor"})


def _say_store(store: Any) -> None:
    from dualcontrol.cli.output import err_console
    from dualcontrol.store import describe

    err_console.print(f"store: {describe(store.url)}", highlight=False)


@app.callback()
def _options(ctx: typer.Context, wide: bool = typer.Option(
        False, "--wide", help="Show every column of the tables, however wide.")) -> None:
    """Energy-consumption dual control and carbon-peak accounting for a region."""
    from dualcontrol.cli.output import set_wide

    set_wide(wide)
    if ctx.invoked_subcommand in STORE_READERS:
        from dualcontrol import datasets

        ctx.with_resource(datasets.store_session(on_open=_say_store))
