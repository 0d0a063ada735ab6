"""Users, page sessions and API tokens looked up in memory, written through to the store.

Every request asks who its cookie or token belongs to. Asking the store each time costs
a connection per lookup (tens of milliseconds on DuckDB, which opens the file), so
:class:`CachedUsers` keeps the users, the sessions and the tokens that have not expired
in memory, and reads them all again, in one connection, every ``refresh_s`` seconds.

Revocation stays immediate where it is done: a logout, an administrator's revocation,
a deactivation or a new password through this process is written to the store and
makes the next lookup wait for a fresh read. A change made by another process (a
second server process, the command line) is seen within ``refresh_s``. A lookup that
misses (a session started in another process since the last read) asks the store.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from dualcontrol.store import Store
from dualcontrol.web.store_users import StoreUsers
from dualcontrol.web.users import AuditEntry, StoredSession, User

logger = logging.getLogger(__name__)


@dataclass
class _Known:
    """What was read from the store at ``at``, after the writes counted by ``generation``."""

    users: dict[str, User]
    sessions: dict[str, StoredSession]
    tokens: dict[str, tuple[str, datetime]]
    at: float
    generation: int


class CachedUsers:
    """A :class:`~dualcontrol.web.users.UserRepository` on ``inner`` that looks up in memory.

    Parameters
    ----------
    inner : StoreUsers
        The users in the store (every write goes there first).
    refresh_s : float
        Longest time a read of the store is used before reading again [s]; the delay
        before this process sees a revocation made by another one.
    flush_s : float
        How often the last-seen times are written, with a read [s] (they are kept to
        the minute: :data:`dualcontrol.web.sessions.TOUCH_INTERVAL_S`).
    background : bool
        Read again in a background thread, so no request waits for it (tests: False).
    clock : callable
        Monotonic clock [s] (tests).
    """

    def __init__(
        self,
        inner: StoreUsers,
        *,
        refresh_s: float = 2.0,
        flush_s: float = 30.0,
        background: bool = True,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.inner = inner
        self.refresh_s = refresh_s
        self.flush_s = flush_s
        self.background = background
        self.clock = clock
        self._known: _Known | None = None
        self._generation = 0
        self._lock = threading.Lock()
        self._reading = threading.Lock()
        self._seen: dict[str, datetime] = {}
        self._flushed_at = clock()
        self.reads = 0  #: reads of the whole table (tests)

    @property
    def store(self) -> Store:
        """Return the store the users are kept in."""
        return self.inner.store

    # ------------------------------------------------------------------ reading
    def _fresh(self, known: _Known | None) -> bool:
        return (
            known is not None
            and known.generation == self._generation
            and self.clock() - known.at < self.refresh_s
        )

    def _current(self) -> _Known:
        """Return what is known, reading the store again if it is too old or changed here.

        Changed here (a revocation, say): the lookup waits for the new read. Only old:
        one thread reads again (in the background, unless ``background`` is False)
        while the lookups go on with what is known.
        """
        known = self._known
        if self._fresh(known):
            assert known is not None
            return known
        changed_here = known is None or known.generation != self._generation
        if not self._reading.acquire(blocking=changed_here):
            assert known is not None
            return known
        if changed_here or not self.background:
            try:
                return self._read()
            finally:
                self._reading.release()
        assert known is not None

        def read_then_release() -> None:
            try:
                self._read()
            except Exception:
                logger.exception("reading the users and sessions failed")
            finally:
                self._reading.release()

        threading.Thread(target=read_then_release, daemon=True, name="users").start()
        return known

    def _read(self) -> _Known:
        """Read the users, sessions and tokens (the caller holds ``_reading``)."""
        known = self._known
        if self._fresh(known):
            assert known is not None
            return known
        generation = self._generation
        if self.clock() - self._flushed_at >= self.flush_s:
            self.flush()
        users, sessions, tokens = self.inner.snapshot(now=datetime.now(UTC))
        self.reads += 1
        with self._lock:  # last-seen times not written yet
            pending = dict(self._seen)
        known = _Known(
            users={u.username: u for u in users},
            sessions={
                s.digest: replace(s, last_seen_at=pending[s.digest]) if s.digest in pending else s
                for s in sessions
            },
            tokens=dict(tokens),
            at=self.clock(),
            generation=generation,
        )
        self._known = known
        return known

    def _changed(self) -> None:
        """Make the next lookup read the store again (after a write here)."""
        with self._lock:
            self._generation += 1

    def _lookup(self, table: str, key: str, ask: Callable[[], Any]) -> Any:
        """Return ``key`` of one of the known tables (``users``, ``tokens``,
        ``sessions``), asking the store with ``ask`` on a miss and remembering a find."""
        known = self._current()
        found = getattr(known, table).get(key)
        if found is None:
            found = ask()
            if found is not None:
                getattr(known, table)[key] = found
        return found

    def get_user(self, *, username: str) -> User | None:
        """Return the user or None."""
        found: User | None = self._lookup(
            "users", username, lambda: self.inner.get_user(username=username))
        return found

    def find_token(self, *, digest: str) -> tuple[str, datetime] | None:
        """Return (username, expiry) of a token digest, or None."""
        found: tuple[str, datetime] | None = self._lookup(
            "tokens", digest, lambda: self.inner.find_token(digest=digest))
        return found

    def find_session(self, *, digest: str) -> StoredSession | None:
        """Return the session of a digest (live or not), or None."""
        found: StoredSession | None = self._lookup(
            "sessions", digest, lambda: self.inner.find_session(digest=digest))
        return found

    # ------------------------------------------------- writing, then remembering
    def touch_session(self, *, digest: str, at: datetime) -> None:
        """Record that the session was used at ``at`` (written with the others at the
        next read of the store: one transaction every ``refresh_s`` rather than one
        per session and minute)."""
        with self._lock:
            self._seen[digest] = at
        known = self._known
        if known is not None and digest in known.sessions:
            known.sessions[digest] = replace(known.sessions[digest], last_seen_at=at)

    def flush(self) -> None:
        """Write the last-seen times recorded since the last write."""
        with self._lock:
            seen, self._seen = self._seen, {}
            self._flushed_at = self.clock()
        try:
            self.inner.touch_sessions(seen=seen)
        except Exception:  # a last-seen time is not worth a failed request
            logger.exception("writing the last-seen time of %d sessions failed", len(seen))

    def add_session(self, *, session: StoredSession) -> None:
        """Store a new page session."""
        self.inner.add_session(session=session)
        known = self._known
        if known is not None:
            known.sessions[session.digest] = session

    def add_token(self, *, username: str, digest: str, expires_at: datetime) -> None:
        """Store the digest of a new API token."""
        self.inner.add_token(username=username, digest=digest, expires_at=expires_at)
        known = self._known
        if known is not None:
            known.tokens[digest] = (username, expires_at)

    def add_user(self, *, user: User) -> None:
        """Store a new user; ValueError if the name is taken."""
        self.inner.add_user(user=user)
        self._changed()

    def set_password_hash(self, *, username: str, password_hash: str) -> None:
        """Replace a user's password hash."""
        try:
            self.inner.set_password_hash(username=username, password_hash=password_hash)
        finally:
            self._changed()

    def set_active(self, *, username: str, active: bool) -> None:
        """Activate or deactivate a user."""
        try:
            self.inner.set_active(username=username, active=active)
        finally:
            self._changed()

    def revoke_tokens(self, *, username: str) -> int:
        """Delete every API token of a user; return how many there were."""
        try:
            return self.inner.revoke_tokens(username=username)
        finally:
            self._changed()

    def revoke_sessions(self, *, username: str, key: str | None = None) -> int:
        """Revoke a user's live sessions (only the one of ``key`` if given); return how many."""
        try:
            return self.inner.revoke_sessions(username=username, key=key)
        finally:
            self._changed()

    # ------------------------------------------------------- read from the store
    def list_users(self) -> list[User]:
        """Return every user, sorted by name (from the store)."""
        return self.inner.list_users()

    def list_sessions(self, *, username: str) -> list[StoredSession]:
        """Return a user's sessions, newest first (from the store)."""
        self.flush()
        return self.inner.list_sessions(username=username)

    def audit(
        self,
        *,
        username: str,
        action: str,
        entity: str,
        entity_key: str,
        before: Any = None,
        after: Any = None,
    ) -> None:
        """Append an entry to the audit log."""
        self.inner.audit(
            username=username,
            action=action,
            entity=entity,
            entity_key=entity_key,
            before=before,
            after=after,
        )

    def audit_entries(self, *, limit: int = 200) -> list[AuditEntry]:
        """Return the newest audit entries, newest first (from the store)."""
        return self.inner.audit_entries(limit=limit)
