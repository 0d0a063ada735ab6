"""What went wrong with the store, in words: locks, lost servers, full disks, damage.

The database drivers raise their own exceptions (``duckdb.IOException``,
``psycopg.OperationalError``, SQLAlchemy's wrappers of both) whose text is meant for
developers. :func:`store_error` turns the ones a user can meet into a
:class:`StoreError` saying what happened, that nothing of the command was stored
(every write is one transaction, rolled back when it fails) and what to do; the CLI
prints it with exit code 2 and the web answers 503 with ``Retry-After`` when trying
again can help.

The classification is by PostgreSQL's SQLSTATE (PostgreSQL 15 manual, Appendix A,
"PostgreSQL Error Codes") and, for DuckDB, which has no codes, by the text of its
``IOException`` and ``TransactionException`` messages (DuckDB 1.x/2.0).
"""

from __future__ import annotations

import errno
import re

from dualcontrol.errors import DualControlError

#: What the user can do after each failure (the last sentence of every message).
NOTHING_STORED = "nothing of this command was stored (its transaction was rolled back)"


class StoreError(DualControlError, RuntimeError):
    """The store cannot be opened or used (locked file, unreachable server, full disk).

    ``retry_after_s`` is how long to wait before trying again when that can help
    (a lock, a restart, a concurrent change), otherwise None.
    """

    reason = "store"

    def __init__(self, message: str, *, retry_after_s: float | None = None) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s

    def as_dict(self) -> dict[str, object]:
        """Return the error as a JSON-ready mapping (``--json`` and the API)."""
        return {"error": str(self), "reason": self.reason, "retry_after_s": self.retry_after_s}


class StoreLockedError(StoreError):
    """Another process holds the embedded store's file lock (an import, the web server)."""

    reason = "locked"


class StoreUnavailableError(StoreError):
    """The PostgreSQL server went away (restart, network) or cannot be reached."""

    reason = "unavailable"


class StoreFullError(StoreError):
    """The disk (or a file-size limit) ran out while writing."""

    reason = "full"


class StoreDamagedError(StoreError):
    """The store file is truncated or corrupt."""

    reason = "damaged"


class StoreConflictError(StoreError):
    """A concurrent command changed the same rows (unique key, serialisation failure)."""

    reason = "conflict"


class StoreValueError(StoreError):
    """A value does not fit its column (too long for it), refused by the server."""

    reason = "value"


_LOCK = ("could not set lock", "conflicting lock", "unique file handle conflict")
_FULL = ("no space left on device", "file too large", "disk full", "disk quota exceeded",
         "could not extend file", "could not write to file")
_DAMAGED = ("could not read enough bytes", "not a valid duckdb database", "corrupt",
            "checksum", "invalid block", "failed to read database header",
            "the file is not a valid", "serialization error")
_CONFLICT = ("conflict on", "write-write conflict", "transaction conflict")
_PID = re.compile(r"PID (\d+)")


def _sqlstate(exc: BaseException) -> str | None:
    code = getattr(exc, "sqlstate", None) or getattr(exc, "pgcode", None)
    return str(code) if code else None


def _cause(exc: BaseException) -> BaseException:
    """Return the driver's exception inside SQLAlchemy's wrapper (or ``exc`` itself)."""
    return getattr(exc, "orig", None) or exc


def store_error(exc: BaseException, *, where: str = "the store",
                lock_wait_s: float | None = None) -> StoreError | None:
    """Return the :class:`StoreError` that explains ``exc``, or None if it is not one.

    Parameters
    ----------
    exc : BaseException
        What the driver, SQLAlchemy or the operating system raised.
    where : str
        The store's name in the message (its file or server).
    lock_wait_s : float, optional
        How long the command waited for a lock before giving up [s].
    """
    if isinstance(exc, StoreError):
        return exc
    cause = _cause(exc)
    text = str(cause).lower()
    state = _sqlstate(cause)
    module = type(cause).__module__ or ""
    is_driver = module.startswith(("duckdb", "_duckdb", "psycopg", "sqlalchemy")) or \
        exc is not cause
    if isinstance(cause, OSError) and not is_driver:
        if cause.errno in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT):
            return StoreFullError(f"the disk is full while writing ({cause.strerror}); "
                                  f"{NOTHING_STORED}. Free some space and run it again.")
        return None
    if not is_driver:
        return None
    if any(s in text for s in _LOCK):
        pid = _PID.search(str(cause))
        holder = f"process {pid.group(1)}" if pid else "another process"
        waited = f" after waiting {lock_wait_s:g} s" if lock_wait_s else ""
        return StoreLockedError(
            f"{where} is in use by {holder} (an import, the web server or another command "
            f"holds its lock); gave up{waited}; {NOTHING_STORED}. Run it again when that "
            "process has finished, or wait longer with DUALCONTROL_LOCK_WAIT_S=SECONDS.",
            retry_after_s=10.0)
    if state == "53100" or any(s in text for s in _FULL):
        return StoreFullError(
            f"the disk holding {where} is full (or a file-size limit was reached); "
            f"{NOTHING_STORED}. Free some space and run it again.")
    if (state and state.startswith(("08", "57P"))) or (
            module.startswith("psycopg") and type(cause).__name__ == "OperationalError"
            and not state) or getattr(exc, "connection_invalidated", False):
        return StoreUnavailableError(
            f"lost the connection to {where} (the server restarted, stopped or cannot be "
            f"reached: {str(cause).strip().splitlines()[0] if str(cause).strip() else state}); "
            f"{NOTHING_STORED}. Run it again once the server is up.", retry_after_s=5.0)
    if state in ("23505", "40001", "40P01") or any(s in text for s in _CONFLICT):
        return StoreConflictError(
            f"another command changed the same rows of {where} at the same time; "
            f"{NOTHING_STORED}. Run it again.", retry_after_s=1.0)
    if state == "22001":
        return StoreValueError(
            f"a value is longer than its column in {where} allows "
            f"({str(cause).strip().splitlines()[0]}); {NOTHING_STORED}.")
    if any(s in text for s in _DAMAGED) and "duckdb" in module:
        return StoreDamagedError(
            f"{where} is damaged (truncated or corrupt: {str(cause).strip().splitlines()[0]}); "
            "it cannot be read. Restore it from a backup (copy the file aside first); "
            "nothing was changed by this command.")
    return None


__all__ = ["NOTHING_STORED", "StoreConflictError", "StoreDamagedError", "StoreError",
           "StoreFullError", "StoreLockedError", "StoreUnavailableError", "StoreValueError",
           "store_error"]
