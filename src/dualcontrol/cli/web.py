"""Commands of the web layer: ``serve``, ``user add`` and ``report`` (the bulletin)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from dualcontrol.cli.app import app
from dualcontrol.cli.output import console, print_json, user_errors
from dualcontrol.errors import DualControlError, InputError, Problem

if TYPE_CHECKING:
    from dualcontrol.web.demo_users import Credential

InputsOpt = Annotated[Path, typer.Option(
    "--inputs", help="Directory of inputs that are not reports: outlook scenarios/, "
                     "decomposition/ factors, projects/ review context.")]
DEFAULT_INPUTS = Path("examples")

user_app = typer.Typer(help="Manage the users of the web server.", no_args_is_help=True)
app.add_typer(user_app, name="user")


class BulletinFormat(StrEnum):
    """Output formats of the bulletin."""

    html = "html"
    pdf = "pdf"
    xlsx = "xlsx"


def print_credentials(address: str, credentials: list[Credential]) -> None:
    """Print the dashboard's address and the demo users' credentials."""
    table = Table(title=f"Dashboard: {address}", header_style="bold")
    for column in ("user", "password", "role", "scope"):
        table.add_column(column)
    for c in credentials:
        table.add_row(c.username, c.password, c.role.value, str(c.scope or "-"))
    console.print(table)


@app.command("serve")
def serve_cmd(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8000,
    inputs: InputsOpt = DEFAULT_INPUTS,
    demo_users: Annotated[bool, typer.Option(
        "--demo-users", help="Create one demo user per role (new passwords) and print them.")]
    = False,
    no_cache: Annotated[bool, typer.Option(
        "--no-cache", help="Read the store on every request instead of keeping results "
                           "until it changes (slow; for comparison).")] = False,
) -> None:
    """Serve the dashboard and the REST API on the configured store (OpenAPI at /docs).

    Results are computed once per store version and kept (in memory, and in the data
    folder for the next start); an upload or an import makes the next request read
    the new data.
    """
    from dualcontrol.web.server import run, store_app
    from dualcontrol.web.settings import WebSettings

    with user_errors():
        try:
            settings = WebSettings(host=host, port=port,
                                   **({"cache_results": False} if no_cache else {}))
        except ValueError as exc:
            raise DualControlError(str(exc)) from None
        served = store_app(settings=settings, inputs=inputs, demo_users=demo_users)
    if served.credentials:
        print_credentials(served.address, served.credentials)
    else:
        typer.echo(f"Dashboard: {served.address} (users: dualcontrol user add)")
    run(served)


@user_app.command("add")
def user_add_cmd(
    username: Annotated[str, typer.Argument(help="User name.")],
    role: Annotated[str, typer.Option(help="administrator, analyst, reporter, reviewer or "
                                           "public.")],
    scope: Annotated[str | None, typer.Option(help="LEVEL:CODE, e.g. league:150600 (Ordos analyst) "
                                                   "or enterprise:USCC (reporter).")] = None,
    password: Annotated[str | None, typer.Option(
        prompt=True, hide_input=True, confirmation_prompt=True,
        help="Password (asked for when not given).")] = None,
) -> None:
    """Create a user in the store (password stored as an Argon2 hash)."""
    from dualcontrol.web.access import Role
    from dualcontrol.web.users import make_user

    with user_errors():
        roles = [r.value for r in Role]
        if role not in roles:
            raise InputError(Problem("unknown role", field="--role", value=role,
                                     accepted=roles))
        try:
            user = make_user(username, password, role, scope=scope)
        except ValueError as exc:
            raise DualControlError(str(exc)) from None
        from dualcontrol.web.store_users import open_store_users

        users = open_store_users()
        try:
            users.add_user(user=user)
            users.audit(username=_os_user(), action="user_added", entity="user",
                        entity_key=user.username,
                        after={"role": user.role,
                               "scope": str(user.scope) if user.scope else None})
        except ValueError as exc:
            raise DualControlError(str(exc)) from None
        finally:
            users.store.close()
    typer.echo(f"user {user.username} added ({user.role}"
               f"{', ' + str(user.scope) if user.scope else ''})")


def _os_user() -> str:
    import getpass

    try:
        return f"cli:{getpass.getuser()}"
    except OSError:
        return "cli"


@app.command("report")
def report_cmd(
    period: Annotated[str, typer.Option(help="Quarter, e.g. 2024-Q4.")],
    format: Annotated[BulletinFormat, typer.Option("--format", help="html, pdf or xlsx.")] = (
        BulletinFormat.html),
    out: Annotated[Path | None, typer.Option(help="Output file (default "
                                                  "bulletin_PERIOD.FORMAT).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the bulletin's numbers "
                                                         "as JSON too.")] = False,
) -> None:
    """Write the quarterly dual-control bulletin (barometer, accounts, charts, commentary)."""
    from dualcontrol import bulletin as bulletin_mod
    from dualcontrol.store import open_store
    from dualcontrol.web.data import StoreData
    from dualcontrol.web.routes.bulletin import make_bulletin_from

    with user_errors():
        with open_store() as store:
            result = make_bulletin_from(StoreData(store), period)
        target = out or Path(f"bulletin_{result.label}.{format.value}")
        if format == BulletinFormat.html:
            target.write_text(bulletin_mod.render_html(result), encoding="utf-8")
        elif format == BulletinFormat.pdf:
            bulletin_mod.write_pdf(result, target)
        else:
            bulletin_mod.write_xlsx(result, target)
    if as_json:
        print_json(bulletin_mod.as_dict(result))
    else:
        for line in result.commentary:
            typer.echo(line)
    typer.echo(f"bulletin written to {target}", err=as_json)
