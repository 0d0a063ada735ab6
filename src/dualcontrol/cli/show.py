"""Command ``show``: what the store holds (an enterprise, a region's months, the audit)."""

from __future__ import annotations

from typing import Annotated

import pandas as pd
import typer

from dualcontrol.cli.app import app
from dualcontrol.cli.output import Lang, choices, emit, err_console, print_json, user_errors

show_app = typer.Typer(help="Show what the store holds: an enterprise's reports and "
                            "revisions, a region's months, the audit log.",
                       no_args_is_help=True)
app.add_typer(show_app, name="show")

LangOpt = Annotated[Lang, typer.Option("--lang", help="Language of headers.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for machines.")]
CsvOpt = Annotated[bool, typer.Option("--csv", help="Print CSV.")]
Kind = choices("Kind", ("energy", "output", "water"))


def _minutes(frame: pd.DataFrame) -> pd.DataFrame:
    """Return ``frame`` with its times (``*_at``, UTC) to the minute, for the terminal."""
    out = frame.copy()
    for column in out.columns:
        if str(column).endswith("_at") and len(out):
            out[column] = pd.to_datetime(out[column], utc=True).dt.strftime("%Y-%m-%d %H:%M")
    return out


@show_app.command("store")
def show_store_cmd(as_json: JsonOpt = False, as_csv: CsvOpt = False,
                   lang: LangOpt = Lang.en) -> None:
    """Per report kind: submissions, enterprises, revisions, first and last period."""
    from dualcontrol import inventory
    from dualcontrol.datasets import default_store

    with user_errors(), default_store() as store:
        frame = inventory.contents(store)
    emit(frame if as_json or as_csv else _minutes(frame), as_json=as_json, as_csv=as_csv,
         lang=lang, title="What the store holds (times in UTC)")


@show_app.command("enterprise")
def show_enterprise_cmd(
    enterprise: Annotated[str, typer.Argument(
        help="USCC (unified social credit code) or part of the name.")],
    period: Annotated[str | None, typer.Option(
        help="A year (2024) or a month (2024-07); default: every period.")] = None,
    kind: Annotated[Kind, typer.Option(help="Report kind.")] = Kind.energy,  # type: ignore[attr-defined,valid-type]
    all_revisions: Annotated[bool, typer.Option(
        "--all-revisions", help="Rows of every revision, not only those that count.")]
    = False,
    as_json: JsonOpt = False,
    as_csv: CsvOpt = False,
    lang: LangOpt = Lang.en,
) -> None:
    """An enterprise's stored reports: revisions (who, when, which file) and rows.

    The revision that counts for a month is the latest; --all-revisions lists the rows
    of the older ones too. For energy, the month's accounts (tce, CO2) follow.
    """
    from dualcontrol import inventory
    from dualcontrol.datasets import default_store

    kind_value = str(kind.value)
    with user_errors(), default_store() as store:
        found = inventory.find_enterprise(store, enterprise)
        revisions = inventory.revisions(store, found.uscc, kind=kind_value, period=period)
        rows = inventory.stored_rows(store, found.uscc, kind=kind_value, period=period,
                                     all_revisions=all_revisions)
        months = (inventory.enterprise_months(store, found, period)
                  if kind_value == "energy" and len(rows) else None)
    if as_json:
        from dualcontrol.cli.output import frame_records

        print_json({"enterprise": found.__dict__, "kind": kind_value,
                    "revisions": frame_records(revisions), "rows": frame_records(rows),
                    "accounts": frame_records(months) if months is not None else []})
        return
    if as_csv:
        emit(rows, as_csv=True)
        return
    where = f" in {period}" if period else ""
    title = f"{found.name} ({found.uscc}, {found.industry}, county {found.county_code})"
    if revisions.empty:
        err_console.print(f"{title}: no {kind_value} reports stored{where}", highlight=False)
        return
    emit(_minutes(revisions.drop(columns=["submission_id", "revision_id"])), lang=lang,
         title=f"{title}: {kind_value} revisions{where} (times in UTC)")
    which = "every revision" if all_revisions else "the revisions that count"
    emit(rows if all_revisions else rows.drop(columns=["current"]), lang=lang,
         title=f"{kind_value} rows of {which}{where}")
    if months is not None:
        emit(months, lang=lang, title=f"Accounts by month{where}")


@show_app.command("region")
def show_region_cmd(
    region: Annotated[str, typer.Argument(
        help="Code or name of the region, a league or a county (e.g. 150600, 鄂尔多斯市, "
             "Ordos).")],
    year: Annotated[int | None, typer.Option(help="Year (default: the latest stored).")]
    = None,
    as_json: JsonOpt = False,
    as_csv: CsvOpt = False,
    lang: LangOpt = Lang.en,
) -> None:
    """A region's months: enterprises reporting, revisions, energy and CO2 by month."""
    from dualcontrol import inventory
    from dualcontrol.datasets import default_store

    with user_errors(), default_store() as store:
        found = inventory.find_region(store, region)
        if year is None:
            stored = inventory.contents(store)
            energy = stored[stored["kind"] == "energy"]
            if energy.empty:
                from dualcontrol.errors import InputError, Problem

                raise InputError(Problem("the store holds no energy reports",
                                         field="REGION", value=region))
            year = int(str(energy["last_period"].iloc[0])[:4])
        frame = inventory.region_months(store, found, year)
    emit(frame if as_json or as_csv else _minutes(frame), as_json=as_json, as_csv=as_csv,
         lang=lang, title=f"{found.name_zh} {found.name_en} ({found.code}, {found.level}), "
                          f"{year}: energy reports by month (times in UTC)")


@show_app.command("audit")
def show_audit_cmd(
    user: Annotated[str | None, typer.Option(help="Only changes by this user.")] = None,
    key: Annotated[str | None, typer.Option(
        help="Only keys starting with this: a USCC, 'USCC 2024-07', a user name.")] = None,
    since: Annotated[str | None, typer.Option(help="Only from this date (YYYY-MM-DD, UTC).")]
    = None,
    limit: Annotated[int, typer.Option(help="Most entries, newest first.")] = 50,
    as_json: JsonOpt = False,
    as_csv: CsvOpt = False,
    lang: LangOpt = Lang.en,
) -> None:
    """Who changed what and when: the audit log, newest first."""
    from dualcontrol import inventory
    from dualcontrol.datasets import default_store

    with user_errors(), default_store() as store:
        frame = inventory.audit_trail(store, user=user, key=key, since=since, limit=limit)
    emit(frame if as_json or as_csv else _minutes(frame), as_json=as_json, as_csv=as_csv,
         lang=lang, title=f"Audit log, newest {limit} (times in UTC)")
