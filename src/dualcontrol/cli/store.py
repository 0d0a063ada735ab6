"""Commands of the store: ``template``, ``ingest``, ``demo`` and ``db upgrade``."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import pandas as pd
import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn

from dualcontrol.cli.app import app
from dualcontrol.cli.output import Lang, console, emit, err_console, print_json, user_errors

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from dualcontrol.ingest import IngestResult
    from dualcontrol.store import Store

db_app = typer.Typer(help="Manage the store (schema migrations).", no_args_is_help=True)
app.add_typer(db_app, name="db")

LangOpt = Annotated[Lang, typer.Option("--lang", help="Language of headers.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for machines.")]


@app.command("template")
def template_cmd(
    kind: Annotated[str, typer.Argument(help="energy, output, water or economic.")],
    output: Annotated[Path | None, typer.Option("--output", "-o",
                                                help="File to write.")] = None,
    lang: LangOpt = Lang.zh,
    fmt: Annotated[str, typer.Option("--format", help="csv or xlsx.")] = "csv",
    example: Annotated[bool, typer.Option(
        "--example/--no-example", help="Row 2 shows an example (the import refuses it "
        "until it is deleted).")] = True,
) -> None:
    """Write a report template: headers (Chinese or English), an example row and, in
    XLSX, drop-down lists of the accepted values."""
    from dualcontrol.report_templates import column_notes, template_headers, write_template

    with user_errors():
        path = write_template(kind, output or Path(f"{kind}-template.{fmt}"),
                              lang=lang.value, fmt=fmt, example=example)
        notes = column_notes(kind, lang.value)
        headers = template_headers(kind, lang.value)
    err_console.print(f"wrote {path}", highlight=False)
    if example:
        err_console.print("row 2 is an example: delete it before submitting (the import "
                          "refuses it)", highlight=False)
    for header, note in zip(headers, notes.values(), strict=True):
        err_console.print(f"  {header}: {note}", highlight=False)


@contextmanager
def _checking_store() -> Iterator[tuple[Store, str]]:
    """Yield a store whose every transaction is rolled back, and a note on which it is.

    It is the configured store when there is one (so partial months and unchanged
    periods are judged against what is stored), else an empty temporary one; either
    way nothing is kept.
    """
    from dualcontrol.store import Store, StoreMissingError, describe, open_store

    @contextmanager
    def rolled_back(self: Store) -> Iterator[Connection]:
        with self.engine.connect() as conn:
            transaction = conn.begin()
            try:
                yield conn
            finally:
                transaction.rollback()

    class Rehearsal(Store):
        begin = rolled_back  # type: ignore[assignment]

    with ExitStack() as stack:
        try:
            real = open_store(create=False)
            note = describe(real.url)
        except StoreMissingError:
            folder = Path(stack.enter_context(tempfile.TemporaryDirectory()))
            real = open_store(f"duckdb:///{(folder / 'check.duckdb').as_posix()}")
            note = f"an empty store (none at {describe()})"
        stack.callback(real.close)
        fields = {f: getattr(real, f) for f in ("url", "engine", "backend", "path")}
        yield Rehearsal(**fields), note


@app.command("ingest")
def ingest_cmd(
    file: Annotated[Path, typer.Argument(help="CSV (UTF-8, GB18030/GBK) or XLSX file.")],
    kind: Annotated[str, typer.Option("--kind", help="energy, output, water, economic.")] = (
        "energy"),
    skip_invalid: Annotated[bool, typer.Option(
        "--skip-invalid", help="Store valid rows; write rejected rows beside the file.")] = False,
    replace: Annotated[bool, typer.Option(
        "--replace", help="A period with fewer rows than stored becomes exactly the rows "
        "sent (the others are dropped).")] = False,
    merge: Annotated[bool, typer.Option(
        "--merge", help="Replace only the rows sent (same carrier, use and origin); keep "
        "the period's other stored rows.")] = False,
    check: Annotated[bool, typer.Option(
        "--check", help="Validate only: every check of an import against the store, "
        "nothing stored (exit 0 valid, 2 not).")] = False,
    user: Annotated[str | None, typer.Option("--user", help="Who submits.")] = None,
    wait: Annotated[float | None, typer.Option(
        "--wait", help="Seconds to wait for another process's lock on the embedded store "
        "(default $DUALCONTROL_LOCK_WAIT_S or 60).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Validate a report file and store it as new revisions (all or nothing).

    A file with fewer rows of an enterprise-month than stored is refused, naming the
    rows it would drop, unless --replace or --merge says what it means. With --check
    the same checks run and nothing is stored.
    """
    from dualcontrol.errors import InputError, Problem
    from dualcontrol.ingest import ingest_file
    from dualcontrol.store import describe, open_store

    with user_errors(as_json=as_json):
        if replace and merge:
            raise InputError(Problem("give --replace or --merge, not both",
                                     field="--replace/--merge",
                                     accepted=["--replace", "--merge"]))
        if check and skip_invalid:
            raise InputError(Problem("--check stores nothing: it reports every invalid row "
                                     "instead of setting months aside", field="--check",
                                     value="--skip-invalid", accepted=["--check",
                                                                       "--skip-invalid"]))
        on_partial = "replace" if replace else "merge" if merge else "refuse"
        with ExitStack() as stack:
            if check:
                store, note = stack.enter_context(_checking_store())
                err_console.print(f"check against: {note}; nothing is stored",
                                  highlight=False)
            else:
                store = open_store(lock_timeout_s=wait)
                stack.callback(store.close)
                err_console.print(f"store: {describe(store.url)}", highlight=False)
            size = file.stat().st_size if file.exists() else 0
            show = size > 5_000_000 and not as_json
            with Progress("[progress.description]{task.description}", BarColumn(),
                          DownloadColumn(), TimeRemainingColumn(), console=err_console,
                          disable=not show, transient=True) as bar:
                task = bar.add_task(f"ingest {file.name}", total=size or None)
                result = ingest_file(store, file, kind, skip_invalid=skip_invalid,
                                     on_partial=on_partial, user=user,
                                     progress=lambda done, total: bar.update(
                                         task, completed=done, total=total))
    if check:
        _print_check(result, as_json=as_json)
        return
    if as_json:
        print_json(result.as_dict())
    else:
        summary = pd.DataFrame([{"item": k, "value": v} for k, v in result.as_dict().items()
                                if k not in ("problems", "content_sha256")])
        emit(summary, title="Import")
        if not result.changed and result.new_enterprises == 0:
            console.print("nothing changed: every period is as already stored")
        if result.merged_rows:
            console.print(f"merged: {result.merged_rows} stored rows kept beside the rows "
                          "sent (they appear with negative line numbers)")
        if result.partial_replaced:
            console.print(f"replaced: {result.partial_replaced} periods now hold only the "
                          "rows sent")
        if result.months_set_aside:
            console.print(f"set aside: {result.months_set_aside} periods with an invalid row "
                          f"are stored not at all; their rows are in {result.rejected_file}")
        for problem in result.problems[:50]:
            err_console.print(f"rejected: {problem}", highlight=False)
    if result.rows_rejected:
        raise typer.Exit(code=1)


def _print_check(result: IngestResult, *, as_json: bool) -> None:
    """Print what an import of a valid file would do (nothing was stored)."""
    would = {"file": result.file, "kind": result.kind, "valid": True,
             "rows_read": result.rows_read, "revisions_it_would_create":
             result.revisions_created, "rows_it_would_store": result.rows_stored,
             "unchanged_periods": result.unchanged_periods,
             "new_enterprises": result.new_enterprises, "merged_rows": result.merged_rows,
             "encoding": result.encoding, "stored": False}
    if as_json:
        print_json(would)
        return
    console.print(f"{result.file}: valid ({result.rows_read:,} rows); an import would "
                  f"create {result.revisions_created:,} revisions ({result.rows_stored:,} "
                  f"rows), leave {result.unchanged_periods:,} periods as stored and register "
                  f"{result.new_enterprises:,} new enterprises. Nothing was stored.",
                  highlight=False)


@app.command("demo")
def demo_cmd(
    seed: Annotated[int, typer.Option("--seed", help="Random seed of the dataset.")] = 2025,
    no_serve: Annotated[bool, typer.Option("--no-serve",
                                           help="Do not start the dashboard.")] = False,
    lang: LangOpt = Lang.en,
) -> None:
    """Build the Inner Mongolia demo dataset in the store and print its accounts."""
    from dualcontrol import demo

    started = time.perf_counter()
    with user_errors():
        summary = demo.build_demo(seed=seed)
        league, trend = demo.demo_accounts(summary.url)
    emit(league, title=f"Accounts by league, {summary.latest_year}", lang=lang)
    emit(trend, title="Inner Mongolia trend since 2015", lang=lang)
    emit(summary.calibration, title="Calibration against published figures", lang=lang)
    err_console.print(f"demo built in {summary.seconds:.1f} s ({summary.energy_rows:,} energy "
                      f"report rows, {summary.enterprises:,} enterprises); total "
                      f"{time.perf_counter() - started:.1f} s; store {summary.url}")
    if not no_serve:
        demo.serve_dashboard(summary.url)


@db_app.command("upgrade")
def db_upgrade_cmd() -> None:
    """Migrate the store's schema to the newest version and read every table back.

    Migrating is also done on every open; here every table is then read in full, so
    a truncated or corrupt store file is reported as damaged (exit 2), not healthy.
    """
    from dualcontrol.store import describe, open_store
    from dualcontrol.store.integrity import check_integrity
    from dualcontrol.store.migrate import current_revision

    with user_errors():
        store = open_store()
        try:
            revision = current_revision(store)
            report = check_integrity(store)
        finally:
            store.close()
    console.print(f"{describe(store.url)}: schema at {revision}; {len(report.tables)} tables, "
                  f"{report.rows:,} rows read back in full")


@db_app.command("check")
def db_check_cmd(as_json: JsonOpt = False) -> None:
    """Read every table back and verify the audit log's hash chain.

    Exit 0 when the store is whole and no audit row was changed, deleted or added
    outside dualcontrol; exit 2 naming each break otherwise. The chain's head hash is
    printed: noted elsewhere, it shows later that the history was not rewritten.
    """
    from dualcontrol.store import default_url, open_store
    from dualcontrol.store.audit import verify_chain
    from dualcontrol.store.integrity import check_integrity

    with user_errors(as_json=as_json):
        store = open_store()
        try:
            report = check_integrity(store)
            with store.connect() as conn:
                chain = verify_chain(conn)
        finally:
            store.close()
    if as_json:
        print_json({"ok": chain.intact, "store": default_url(), "tables": len(report.tables),
                    "rows": report.rows, "audit_rows": chain.rows,
                    "audit_head_seq": chain.head_seq, "audit_head_hash": chain.head_hash,
                    "problems": chain.problems})
    else:
        console.print(f"{default_url()}: {len(report.tables)} tables, {report.rows:,} rows "
                      f"read back in full; audit chain of {chain.rows:,} rows, head "
                      f"{chain.head_seq} {chain.head_hash}")
        for problem in chain.problems:
            err_console.print(f"audit: {problem}", highlight=False)
    if not chain.intact:
        if not as_json:
            err_console.print("error: the audit log was altered outside dualcontrol",
                              highlight=False)
        raise typer.Exit(code=2)
