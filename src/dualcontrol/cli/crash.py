"""Reports of internal errors: what a user sends when the program itself failed.

A failure of the user's input or of the store is a :class:`~dualcontrol.errors.
DualControlError` (a message, exit code 2). Anything else is a fault of the program:
the command says so in one sentence, writes the traceback with the version, the
command line (secrets hidden) and the platform to a file in the data folder, names that
file, and ends with exit code 1.
"""

from __future__ import annotations

import os
import platform
import sys
import traceback
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

#: Options whose value is never written to a report.
SECRET_OPTIONS = ("--password", "--token", "--secret", "--db")

#: Folder of the reports inside the data folder.
REPORT_FOLDER = "crash-reports"


def hide_secrets(argv: Sequence[str]) -> list[str]:
    """Return the command line with the values of :data:`SECRET_OPTIONS` replaced."""
    shown: list[str] = []
    hide_next = False
    for arg in argv:
        if hide_next:
            shown.append("***")
            hide_next = False
            continue
        name, eq, _ = arg.partition("=")
        if name in SECRET_OPTIONS:
            if eq:
                shown.append(f"{name}=***")
            else:
                shown.append(arg)
                hide_next = True
            continue
        shown.append(arg)
    return shown


def report_text(exc: BaseException, argv: Sequence[str], *, now: datetime) -> str:
    """Return the text of the report of ``exc``."""
    from dualcontrol import __version__

    lines = [
        "dualcontrol internal error report",
        f"time (UTC): {now.isoformat(timespec='seconds')}",
        f"dualcontrol: {__version__}",
        f"python: {sys.version.split()[0]} ({platform.platform()})",
        f"command: {' '.join(hide_secrets(argv))}",
        "",
        *traceback.format_exception(exc),
    ]
    return "\n".join(line.rstrip("\n") for line in lines) + "\n"


def write_report(exc: BaseException, argv: Sequence[str], home: Path,
                 *, now: datetime | None = None) -> Path | None:
    """Write the report of ``exc`` under ``home``; return its path, or None if the
    folder cannot be written (the traceback then goes to stderr)."""
    now = now or datetime.now(UTC)
    folder = home / REPORT_FOLDER
    path = folder / f"{now:%Y%m%dT%H%M%S}-{os.getpid()}.txt"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        path.write_text(report_text(exc, argv, now=now), encoding="utf-8")
    except OSError:
        return None
    return path


def internal_error(exc: BaseException, argv: Sequence[str], home: Path) -> int:
    """Say that the program failed, where its report is, and return exit code 1."""
    path = write_report(exc, argv, home)
    sys.stderr.write(f"internal error: {type(exc).__name__}: {exc}\n"
                     "This is a fault of dualcontrol, not of your data (an import stores "
                     "all of a file or none of it).\n")
    if path is None:
        sys.stderr.write("".join(traceback.format_exception(exc)))
    else:
        sys.stderr.write(f"report: {path} (send it with the steps that led to it)\n")
    return 1
