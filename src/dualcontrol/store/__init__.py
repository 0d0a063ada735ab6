"""The persistent store: an embedded DuckDB file by default, PostgreSQL by URL.

``open_store()`` opens the store of the installation's settings
(:mod:`dualcontrol.settings`): ``DUALCONTROL_DB`` (for example
``postgresql+psycopg://user@host/db``), or the DuckDB file ``dualcontrol.duckdb`` in the
data folder (``$DUALCONTROL_HOME``, else the user's data folder
``~/.local/share/dualcontrol``), never one in the current directory. Readers open it
with ``create=False``: a missing store is a :class:`StoreMissingError` error saying where it
was looked for, not a new empty store. The schema is brought up to date with Alembic
each time a store is opened, so an upgrade keeps the data.

DuckDB lets one process at a time open a file for writing. Connections here are not
pooled on DuckDB: each operation opens the file, waits for another process's lock
(up to ``lock_timeout_s``), and closes it afterwards, so the next command is never
locked out.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa
from alembic.ddl.impl import DefaultImpl
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import NullPool, StaticPool

from dualcontrol.settings import HOME_ENV, URL_ENV, load_settings
from dualcontrol.store import schema
from dualcontrol.store.faults import (
    StoreConflictError,
    StoreDamagedError,
    StoreError,
    StoreFullError,
    StoreLockedError,
    StoreUnavailableError,
    store_error,
)

logger = logging.getLogger(__name__)

#: Environment variable of how long to wait for another process's lock [s].
LOCK_WAIT_ENV = "DUALCONTROL_LOCK_WAIT_S"


class DuckDBImpl(DefaultImpl):
    """Alembic's DDL implementation for DuckDB (transactional DDL like PostgreSQL)."""

    __dialect__ = "duckdb"
    transactional_ddl = True


class StoreMissingError(StoreError):
    """A command that only reads found no store where the settings point."""


def data_home() -> Path:
    """Return the installation's data folder (:attr:`dualcontrol.settings.Settings.home`).

    It holds the embedded store and the web server's secret key.
    """
    return load_settings().home


def default_url() -> str:
    """Return the database URL: ``$DUALCONTROL_DB`` or the embedded DuckDB file."""
    return load_settings().db_url


def describe(url: str | None = None) -> str:
    """Return where the store of ``url`` (default: the settings') is, and what chose it."""
    settings = load_settings()
    if url is None or url == settings.db_url:
        return settings.describe_store()
    parsed = sa.make_url(url)
    if parsed.get_backend_name() == "duckdb":
        return str(parsed.database)
    return parsed.render_as_string(hide_password=True)


#: The embedded store's place before the data folder was settled: ``./var``.
OLD_DEFAULT = Path("var") / "dualcontrol.duckdb"


def missing_message(url: str | None = None) -> str:
    """Return the message of a store not found: where it looked and how to build one."""
    text = (f"no store at {describe(url)}; build one with `dualcontrol demo --no-serve` "
            "(the demo data) or `dualcontrol ingest FILE`")
    where = sa.make_url(url or default_url())
    if (where.get_backend_name() == "duckdb" and OLD_DEFAULT.is_file()
            and Path(where.database or "").resolve() != OLD_DEFAULT.resolve()):
        text += (f". {OLD_DEFAULT} in the current directory is a store of the old default "
                 f"place: {HOME_ENV}=var (or {URL_ENV}=duckdb:///{OLD_DEFAULT.as_posix()}) "
                 "reads it")
    return text


@dataclass
class Store:
    """An open store: its URL, SQLAlchemy engine and backend name."""

    url: str
    engine: Engine
    backend: str
    path: Path | None = None
    #: the DuckDB engine's lock wait [s], read at each connection (None on PostgreSQL)
    lock_wait: dict[str, float] | None = field(default=None, repr=False)
    _closed: bool = field(default=False, repr=False)

    @property
    def is_duckdb(self) -> bool:
        """True for the embedded DuckDB store."""
        return self.backend == "duckdb"

    @property
    def lock_timeout_s(self) -> float | None:
        """How long a connection waits for another process's lock [s] (DuckDB)."""
        return None if self.lock_wait is None else self.lock_wait["s"]

    @lock_timeout_s.setter
    def lock_timeout_s(self, seconds: float) -> None:
        if self.lock_wait is not None:
            self.lock_wait["s"] = float(seconds)

    @property
    def where(self) -> str:
        """The store's name in messages: its file or its server (without password)."""
        if self.path is not None:
            return f"the store {self.path}"
        return f"the store {sa.make_url(self.url).render_as_string(hide_password=True)}"

    def explain(self, exc: BaseException) -> StoreError | None:
        """Return the :class:`StoreError` explaining a driver failure, or None."""
        return store_error(exc, where=self.where,
                           lock_wait_s=self.lock_timeout_s)

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """Yield a connection inside one transaction (committed on success).

        A lock held too long, a lost server, a full disk or a damaged file raise a
        :class:`StoreError` (the transaction is rolled back).
        """
        with self._faults_explained(), self.engine.begin() as conn:
            yield conn

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        """Yield a connection for reading (driver failures as :class:`StoreError`)."""
        with self._faults_explained(), self.engine.connect() as conn:
            yield conn

    @contextmanager
    def _faults_explained(self) -> Iterator[None]:
        """Raise a driver failure the store can explain as its :class:`StoreError`."""
        try:
            yield
        except (sa.exc.DBAPIError, OSError, *_driver_errors()) as exc:
            explained = self.explain(exc)
            if explained is None:
                raise
            raise explained from exc

    def read_sql(self, query: sa.Executable | str, params: dict[str, Any] | None = None,
                 ) -> pd.DataFrame:
        """Return the result of a query as a DataFrame.

        A read is tried once more after a lost connection (a server restart), since
        reading twice changes nothing.
        """
        if isinstance(query, str):
            query = sa.text(query)
        for attempt in (1, 2):
            try:
                with self.connect() as conn:
                    result = conn.execute(query, params or {})
                    return pd.DataFrame(result.fetchall(), columns=list(result.keys()))
            except StoreUnavailableError:
                if attempt == 2:
                    raise
                logger.warning("%s: connection lost, reading again once", self.where)
                time.sleep(0.5)
        raise AssertionError("unreachable")

    def close(self) -> None:
        """Close every connection, releasing the DuckDB file lock."""
        if not self._closed:
            self.engine.dispose()
            self._closed = True

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _driver_errors() -> tuple[type[BaseException], ...]:
    """Exceptions of the drivers themselves (raised through the raw connection)."""
    found: list[type[BaseException]] = []
    try:
        import duckdb

        found.append(duckdb.Error)
    except ImportError:  # pragma: no cover - duckdb is a dependency
        pass
    try:
        import psycopg

        found.append(psycopg.Error)
    except ImportError:  # pragma: no cover - psycopg is a dependency
        pass
    return tuple(found)


def lock_wait_s(default: float = 60.0) -> float:
    """Return how long to wait for another process's lock: ``$DUALCONTROL_LOCK_WAIT_S``."""
    text = os.environ.get(LOCK_WAIT_ENV, "").strip()
    try:
        value = float(text) if text else default
    except ValueError:
        raise StoreError(f"{LOCK_WAIT_ENV}={text!r} is not a number of seconds") from None
    return max(value, 0.0)


def _is_lock_error(exc: BaseException) -> bool:
    text = str(exc).lower()
    return ("could not set lock" in text or "conflicting lock" in text
            or "unique file handle conflict" in text)


# DuckDB keeps one database instance per file and process; two threads attaching the
# same file at the same moment collide ("unique file handle conflict"), so opening
# connections is serialised within the process (other processes wait on the file lock).
_CONNECT_LOCK = threading.Lock()


def _duckdb_engine(url: sa.URL, lock_wait: dict[str, float], *, hold: bool = False,
                  ) -> Engine:
    path = url.database
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    # NullPool: every operation opens the file and closes it (other processes get in
    # between); StaticPool: one connection kept until close() (one command's reads)
    engine = sa.create_engine(url, poolclass=StaticPool if hold else NullPool)

    @sa.event.listens_for(engine, "do_connect")
    def _wait_for_lock(dialect: Any, conn_rec: Any, cargs: Any, cparams: Any) -> Any:
        lock_timeout_s = lock_wait["s"]
        deadline = time.monotonic() + lock_timeout_s
        delay = 0.02
        told = False
        while True:
            try:
                with _CONNECT_LOCK:
                    return dialect.connect(*cargs, **cparams)
            except Exception as exc:
                if not _is_lock_error(exc) or time.monotonic() > deadline:
                    raise
                if not told and delay > 0.2:
                    logger.warning("%s is locked by another process; waiting up to %g s "
                                   "(%s)", path, lock_timeout_s, LOCK_WAIT_ENV)
                    told = True
                time.sleep(delay)
                delay = min(delay * 1.5, 0.5)

    @sa.event.listens_for(engine, "connect")
    def _quiet(dbapi_connection: Any, connection_record: Any) -> None:
        # DuckDB draws progress bars on the terminal for long queries
        dbapi_connection.execute("SET enable_progress_bar = false")

    return engine


def _has_schema(engine: Engine) -> bool:
    """True if the database holds a dualcontrol schema (Alembic's version table)."""
    with engine.connect() as conn:
        return sa.inspect(conn).has_table("alembic_version")


def open_store(url: str | None = None, *, upgrade: bool = True, create: bool = True,
               hold: bool = False, lock_timeout_s: float | None = None) -> Store:
    """Return an open store at ``url`` (default :func:`default_url`), migrated to head.

    Parameters
    ----------
    url : str, optional
        SQLAlchemy URL: ``duckdb:///path/file.duckdb`` or
        ``postgresql+psycopg://user:password@host:port/database``.
    upgrade : bool
        Run the Alembic migrations up to the newest revision.
    create : bool
        Make the store if it does not exist (a new DuckDB file, the schema on an empty
        server database). With False, a missing store raises :class:`StoreMissingError`
        naming where it was looked for: what commands that only read use.
    hold : bool
        Keep one DuckDB connection open until :meth:`Store.close` instead of opening
        the file for each operation: for one command's many reads (each open costs
        tens of milliseconds), not for a server, since it holds the file's lock.
    lock_timeout_s : float, optional
        How long to wait for another process's lock on a DuckDB file [s]
        (default :func:`lock_wait_s`: ``$DUALCONTROL_LOCK_WAIT_S`` or 60).

    Raises
    ------
    StoreError
        When the store is locked, unreachable, damaged or its disk is full.
    """
    if lock_timeout_s is None:
        lock_timeout_s = lock_wait_s()
    text = url or default_url()
    parsed = sa.make_url(text)
    backend = parsed.get_backend_name()
    lock_wait = {"s": float(lock_timeout_s)} if backend == "duckdb" else None
    if backend == "duckdb":
        path = Path(parsed.database) if parsed.database not in (None, ":memory:") else None
        if not create and path is not None and not path.is_file():
            raise StoreMissingError(missing_message(url))
        assert lock_wait is not None
        engine = _duckdb_engine(parsed, lock_wait, hold=hold)
    elif backend == "postgresql":
        engine = sa.create_engine(parsed, pool_pre_ping=True)
        path = None
        if not create and not _has_schema(engine):
            engine.dispose()
            raise StoreMissingError(missing_message(url))
    else:
        raise StoreError(f"unsupported database URL {parsed.render_as_string()!r}; "
                         "accepted: duckdb:///FILE or postgresql+psycopg://...")
    store = Store(url=text, engine=engine, backend=backend, path=path, lock_wait=lock_wait)
    if upgrade:
        try:
            from dualcontrol.store.migrate import upgrade_to_head

            upgrade_to_head(store)
        except Exception as exc:
            store.close()
            explained = store.explain(exc)
            if explained is None:
                raise
            raise explained from exc
    return store


__all__ = ["HOME_ENV", "LOCK_WAIT_ENV", "URL_ENV", "Store", "StoreConflictError",
           "StoreDamagedError", "StoreError", "StoreFullError", "StoreLockedError",
           "StoreMissingError", "StoreUnavailableError", "data_home", "default_url",
           "describe", "lock_wait_s", "missing_message", "open_store", "schema"]
