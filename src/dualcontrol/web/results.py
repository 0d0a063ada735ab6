"""Results of the web layer computed once per store version and kept until the store changes.

The pages and the API read the same few tables (accounts by level, the barometer, the
budget): computing them takes seconds on a store of a million report rows, so
:class:`ResultCache` keeps each one until the store's *version* changes. The version is
the newest submission and report revision (:meth:`StoreVersion.read`), which every
import writes (:func:`dualcontrol.ingest.ingest_file`), so figures are never older than
the data: an upload through the web invalidates the cache at once, an import by the
command line (another process) is seen at the next request.

Checking the version must be cheap, since every request does it. On DuckDB the store
is one file (and its write-ahead log): :class:`StoreVersion` compares their size and
modification time (``os.stat``, microseconds) with those seen when it last read the
version, and reads the version again (one short query) only when they differ, or at
least every ``max_age_s``. On a database server there is no file to look at: the version
is read again at most every ``poll_s``.

One computation per key runs at a time: when 200 visitors open the overview of a store
just imported, one computes the accounts and the others wait for its result.

Tables of the whole store can be kept on disk (:meth:`ResultCache.save`, parquet files
in a folder named after the store's version and the code), so a restarted server, or a
second server process, reads them in a fraction of a second instead of computing them.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

import pandas as pd

from dualcontrol import datasets
from dualcontrol.store import Store

logger = logging.getLogger(__name__)

T = TypeVar("T")
Key = tuple[Hashable, ...]

#: The store's version: newest submission id, its time, newest revision id (None: empty).
VERSION_SQL = """
    SELECT (SELECT MAX(id) FROM submissions) AS submission,
           (SELECT CAST(MAX(submitted_at) AS VARCHAR) FROM submissions) AS submitted_at,
           (SELECT MAX(id) FROM report_revisions) AS revision"""


def read_version(store: Store) -> tuple[object, ...] | None:
    """Return the store's data version: (newest submission id, its time, newest revision
    id), or None for a store without any submission.

    Every import writes a submission and its revisions in one transaction, so the
    version changes with every change of the reported data; the time tells apart two
    stores built separately whose ids happen to agree.
    """
    frame = datasets.read_frame(store, VERSION_SQL)
    if frame.empty:
        return None
    row = frame.iloc[0]
    values = tuple(None if v is None or pd.isna(v) else v for v in row.tolist())
    if values[0] is None:
        return None
    return (int(values[0]), str(values[1]), None if values[2] is None else int(values[2]))


def _file_signature(path: Path) -> tuple[int, int, int] | None:
    try:
        stat = os.stat(path)
    except FileNotFoundError:
        return None
    return (stat.st_ino, stat.st_size, stat.st_mtime_ns)


@dataclass
class StoreVersion:
    """The store's version, read again only when the store may have changed.

    Parameters
    ----------
    store : Store
        The store.
    max_age_s : float
        Longest time a version read is trusted on DuckDB without a change of the file [s].
    poll_s : float
        Longest time a version read is trusted on a database server [s].
    """

    store: Store
    max_age_s: float = 30.0
    poll_s: float = 1.0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _known: tuple[object, object, float] | None = field(default=None, repr=False)
    _forgotten: int = field(default=0, repr=False)

    def signature(self) -> object:
        """Return what identifies the store's files now (None on a database server)."""
        path = self.store.path
        if path is None:
            return None
        return (_file_signature(path), _file_signature(path.with_name(path.name + ".wal")))

    def _trusted(self, signature: object, now: float) -> tuple[bool, object]:
        known = self._known
        if known is None:
            return False, None
        seen, version, at = known
        if signature is None:
            return now - at < self.poll_s, version
        return signature == seen and now - at < self.max_age_s, version

    def current(self) -> object:
        """Return the store's version, reading it only if the store may have changed.

        One thread reads it; the others that found the same change wait for its read.
        """
        now = time.monotonic()
        signature = self.signature()  # before reading: a later change is seen next time
        trusted, version = self._trusted(signature, now)
        if trusted:
            return version
        with self._lock:
            trusted, version = self._trusted(signature, now)
            if trusted:  # read by another thread meanwhile
                return version
            forgotten = self._forgotten
            version = read_version(self.store)
            if forgotten == self._forgotten:  # else a write here may have come after the read
                self._known = (signature, version, time.monotonic() if signature is None else now)
        return version

    def forget(self) -> None:
        """Make the next :meth:`current` read the version (after a write of this process)."""
        self._forgotten += 1
        self._known = None


@dataclass
class _Pending:
    """A computation under way: the others wait for ``done``."""

    done: threading.Event = field(default_factory=threading.Event)


class ResultCache:
    """Results by key, valid for one store version; one computation per key at a time.

    ``version`` returns the store's version (cheaply: :meth:`StoreVersion.current`).
    Whole-store tables are kept until the version changes; results of one node (a
    league's chart, an enterprise's months; ``bounded=True``) are kept up to
    ``max_bounded`` entries, least recently used dropped first.
    """

    def __init__(self, version: Callable[[], object], *, max_bounded: int = 1024) -> None:
        self._version_of = version
        self.max_bounded = max_bounded
        self._lock = threading.Lock()
        self._version: object = None
        self._tables: dict[Key, Any] = {}
        self._bounded: OrderedDict[Key, Any] = OrderedDict()
        self._pending: dict[Key, _Pending] = {}
        self.computed = 0  #: computations run (for tests and the load test's report)
        self.cleared = 0  #: times :meth:`clear` dropped every result

    @property
    def version(self) -> object:
        """Return the version the kept results belong to."""
        return self._version

    def _roll(self, version: object) -> None:
        """Drop every result if ``version`` is not the one they belong to (under the lock)."""
        if version != self._version:
            self._tables.clear()
            self._bounded.clear()
            self._version = version

    def get(self, key: Key, make: Callable[[], T], *, bounded: bool = False) -> T:
        """Return the result of ``key`` for the store's current version, computing it once."""
        version = self._version_of()
        while True:
            with self._lock:
                self._roll(version)
                if key in self._tables:
                    return self._tables[key]
                if key in self._bounded:
                    self._bounded.move_to_end(key)
                    return self._bounded[key]
                pending = self._pending.get(key)
                mine = pending is None
                if mine:
                    pending = self._pending[key] = _Pending()
            assert pending is not None
            if not mine:
                pending.done.wait()
                continue  # its result is kept now (or it failed: compute it here)
            try:
                value = make()
                with self._lock:
                    self.computed += 1
                    if self._version == version:
                        self._keep(key, value, bounded=bounded)
                return value
            finally:
                with self._lock:
                    if self._pending.get(key) is pending:
                        del self._pending[key]
                pending.done.set()

    def _keep(self, key: Key, value: Any, *, bounded: bool) -> None:
        if not bounded:
            self._tables[key] = value
            return
        self._bounded[key] = value
        while len(self._bounded) > self.max_bounded:
            self._bounded.popitem(last=False)

    def clear(self) -> None:
        """Drop every kept result (after a change of the store that is not an import)."""
        with self._lock:
            self._tables.clear()
            self._bounded.clear()
            self.cleared += 1

    def __contains__(self, key: object) -> bool:
        with self._lock:
            return key in self._tables or key in self._bounded

    def __iter__(self) -> Iterator[Key]:
        with self._lock:
            return iter([*self._tables, *self._bounded])

    def __len__(self) -> int:
        with self._lock:
            return len(self._tables) + len(self._bounded)

    # ------------------------------------------------------------------ on disk
    def save(self, folder: Path) -> int:
        """Write the whole-store tables of the current version to ``folder`` (parquet).

        Written to a new folder renamed into place, so a reader never sees half of
        it; tables parquet cannot hold are left out. Returns how many were written.
        """
        with self._lock:
            tables = {
                k: v
                for k, v in self._tables.items()
                if isinstance(v, pd.DataFrame) and all(type(p) in (str, int) for p in k)
            }
        if folder.exists():
            return 0
        folder.parent.mkdir(parents=True, exist_ok=True)
        partial = folder.with_name(f"{folder.name}.partial-{os.getpid()}")
        partial.mkdir(parents=True, exist_ok=True)
        written = 0
        try:
            for key, frame in tables.items():
                name = "~".join(f"{type(p).__name__[0]}{p}" for p in key)
                try:
                    frame.to_parquet(partial / f"{name}.parquet", index=False)
                    written += 1
                except Exception as exc:  # an object column parquet cannot hold
                    logger.info("result %s not kept on disk: %s", key, exc)
            try:
                partial.rename(folder)
            except OSError:  # another process wrote it first
                shutil.rmtree(partial, ignore_errors=True)
        except BaseException:
            shutil.rmtree(partial, ignore_errors=True)
            raise
        return written

    def load(self, folder: Path) -> int:
        """Read the tables written by :meth:`save` for the current version; return how many."""
        if not folder.is_dir():
            return 0
        version = self._version_of()
        loaded: dict[Key, pd.DataFrame] = {}
        for path in sorted(folder.glob("*.parquet")):
            key = tuple(int(p[1:]) if p[0] == "i" else p[1:] for p in path.stem.split("~"))
            loaded[key] = pd.read_parquet(path)
        with self._lock:
            self._roll(version)
            for key, frame in loaded.items():
                self._tables.setdefault(key, frame)
        return len(loaded)


def code_fingerprint() -> str:
    """Return a digest of the package's code and reference data (whatever changes a result)."""
    digest = hashlib.sha256()
    root = resources.files("dualcontrol")
    for path in sorted(Path(str(root)).rglob("*")):
        if path.suffix in (".py", ".csv", ".yaml") and "__pycache__" not in path.parts:
            digest.update(path.relative_to(Path(str(root))).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def results_folder(root: Path, store: Store, version: object, code: str) -> Path:
    """Return the folder of the tables of ``store`` at ``version`` computed by ``code``."""
    store_key = hashlib.sha256(store.url.encode()).hexdigest()[:12]
    version_key = hashlib.sha256(f"{version!r}|{code}".encode()).hexdigest()[:20]
    return root / f"{store_key}-{version_key}"


def drop_other_versions(folder: Path) -> None:
    """Delete the kept tables of the same store at other versions."""
    prefix = folder.name.split("-")[0] + "-"
    for other in folder.parent.glob(prefix + "*"):
        if other != folder and other.is_dir() and ".partial-" not in other.name:
            shutil.rmtree(other, ignore_errors=True)
