"""Users, API tokens, page sessions and the audit log in the store (``users``,
``api_tokens``, ``web_sessions``, ``audit_log``).

Every call opens a short-lived connection (on DuckDB the file is not held between
requests, so command-line imports can run while the server is up).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from dualcontrol.store import Store, open_store, schema
from dualcontrol.store.audit import seal_pending
from dualcontrol.store.faults import StoreConflictError
from dualcontrol.web.access import Role, Scope
from dualcontrol.web.users import AuditEntry, StoredSession, User, to_json

logger = logging.getLogger(__name__)

_USERS = schema.users
_TOKENS = schema.api_tokens
_AUDIT = schema.audit_log
_SESSIONS = schema.web_sessions


def _aware(value: datetime) -> datetime:
    """Return ``value`` as an aware UTC datetime (DuckDB may hand back naive UTC)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _user(row: Any) -> User:
    scope = Scope(row.scope_level, row.scope_key) if row.scope_level else None
    return User(username=row.username, role=Role(row.role), scope=scope,
                display_name=row.display_name, password_hash=row.password_hash,
                active=row.active is not False)


def _session(row: Any) -> StoredSession:
    return StoredSession(digest=row.digest, username=row.username, csrf=row.csrf,
                         created_at=_aware(row.created_at),
                         last_seen_at=_aware(row.last_seen_at),
                         expires_at=_aware(row.expires_at), revoked=bool(row.revoked),
                         client=row.client)


@dataclass
class StoreUsers:
    """A :class:`~dualcontrol.web.users.UserRepository` on the store."""

    store: Store

    def get_user(self, *, username: str) -> User | None:
        """Return the user or None."""
        with self.store.connect() as conn:
            row = conn.execute(sa.select(_USERS).where(_USERS.c.username == username)).first()
        return None if row is None else _user(row)

    def add_user(self, *, user: User) -> None:
        """Store a new user; ValueError if the name is taken."""
        with self.store.begin() as conn:
            taken = conn.execute(sa.select(sa.func.count()).select_from(_USERS)
                                 .where(_USERS.c.username == user.username)).scalar_one()
            if taken:
                raise ValueError(f"user {user.username!r} exists")
            conn.execute(_USERS.insert().values(
                username=user.username, display_name=user.display_name,
                password_hash=user.password_hash, role=user.role.value,
                created_at=datetime.now(UTC), active=user.active,
                scope_level=user.scope.level if user.scope else None,
                scope_key=user.scope.key if user.scope else None))

    def set_password_hash(self, *, username: str, password_hash: str) -> None:
        """Replace a user's password hash (the demo resets its users' passwords)."""
        with self.store.begin() as conn:
            conn.execute(_USERS.update().where(_USERS.c.username == username)
                         .values(password_hash=password_hash))

    def list_users(self) -> list[User]:
        """Return every user, sorted by name."""
        with self.store.connect() as conn:
            rows = conn.execute(sa.select(_USERS).order_by(_USERS.c.username)).all()
        return [_user(r) for r in rows]

    def add_token(self, *, username: str, digest: str, expires_at: datetime) -> None:
        """Store the digest of a new API token."""
        with self.store.begin() as conn:
            conn.execute(_TOKENS.insert().values(digest=digest, username=username,
                                                 created_at=datetime.now(UTC),
                                                 expires_at=expires_at))

    def find_token(self, *, digest: str) -> tuple[str, datetime] | None:
        """Return (username, expiry) of a token digest, or None."""
        with self.store.connect() as conn:
            row = conn.execute(sa.select(_TOKENS.c.username, _TOKENS.c.expires_at)
                               .where(_TOKENS.c.digest == digest)).first()
        return None if row is None else (row.username, _aware(row.expires_at))

    def set_active(self, *, username: str, active: bool) -> None:
        """Activate or deactivate a user."""
        with self.store.begin() as conn:
            conn.execute(_USERS.update().where(_USERS.c.username == username)
                         .values(active=active))

    def revoke_tokens(self, *, username: str) -> int:
        """Delete every API token of a user; return how many there were."""
        with self.store.begin() as conn:
            done = conn.execute(_TOKENS.delete().where(_TOKENS.c.username == username))
        return int(done.rowcount or 0)

    def add_session(self, *, session: StoredSession) -> None:
        """Store a new page session."""
        with self.store.begin() as conn:
            conn.execute(_SESSIONS.insert().values(
                digest=session.digest, username=session.username, csrf=session.csrf,
                created_at=session.created_at, last_seen_at=session.last_seen_at,
                expires_at=session.expires_at, revoked=session.revoked,
                client=(session.client or "")[:64] or None))

    def find_session(self, *, digest: str) -> StoredSession | None:
        """Return the session of a digest (live or not), or None."""
        with self.store.connect() as conn:
            row = conn.execute(sa.select(_SESSIONS).where(_SESSIONS.c.digest == digest)).first()
        return None if row is None else _session(row)

    def touch_session(self, *, digest: str, at: datetime) -> None:
        """Record that the session was used at ``at``."""
        with self.store.begin() as conn:
            conn.execute(_SESSIONS.update().where(_SESSIONS.c.digest == digest)
                         .values(last_seen_at=at))

    def touch_sessions(self, *, seen: dict[str, datetime]) -> None:
        """Record the last-seen time of many sessions (digest -> time) in one transaction."""
        if not seen:
            return
        with self.store.begin() as conn:
            conn.execute(_SESSIONS.update().where(_SESSIONS.c.digest == sa.bindparam("d"))
                         .values(last_seen_at=sa.bindparam("at")),
                         [{"d": digest, "at": at} for digest, at in seen.items()])

    def list_sessions(self, *, username: str) -> list[StoredSession]:
        """Return a user's sessions, newest first."""
        with self.store.connect() as conn:
            rows = conn.execute(sa.select(_SESSIONS).where(_SESSIONS.c.username == username)
                                .order_by(_SESSIONS.c.created_at.desc())).all()
        return [_session(r) for r in rows]

    def revoke_sessions(self, *, username: str, key: str | None = None) -> int:
        """Revoke a user's live sessions (only the one of ``key`` if given); return how many."""
        query = _SESSIONS.update().where(
            _SESSIONS.c.username == username, _SESSIONS.c.revoked.is_(False),
            _SESSIONS.c.expires_at > datetime.now(UTC))
        if key is not None:
            query = query.where(_SESSIONS.c.digest.startswith(key, autoescape=True))
        with self.store.begin() as conn:
            done = conn.execute(query.values(revoked=True))
        return int(done.rowcount or 0)

    def snapshot(self, *, now: datetime) -> tuple[list[User], list[StoredSession],
                                                  dict[str, tuple[str, datetime]]]:
        """Return every user, every session and API token not expired at ``now``
        (one connection: what :class:`~dualcontrol.web.cached_users.CachedUsers` keeps)."""
        with self.store.connect() as conn:
            users = conn.execute(sa.select(_USERS).order_by(_USERS.c.username)).all()
            sessions = conn.execute(sa.select(_SESSIONS)
                                    .where(_SESSIONS.c.expires_at > now)).all()
            tokens = conn.execute(sa.select(_TOKENS.c.digest, _TOKENS.c.username,
                                            _TOKENS.c.expires_at)
                                  .where(_TOKENS.c.expires_at > now)).all()
        return ([_user(r) for r in users], [_session(r) for r in sessions],
                {r.digest: (r.username, _aware(r.expires_at)) for r in tokens})

    def audit(self, *, username: str, action: str, entity: str, entity_key: str,
              before: Any = None, after: Any = None) -> None:
        """Append an entry to the store's audit log (sealed into its hash chain).

        On the embedded store a concurrent writer may reach the chain's head first;
        the entry is then written again (nothing of the refused attempt was stored).
        """
        for attempt in range(3):
            try:
                with self.store.begin() as conn:
                    conn.execute(_AUDIT.insert().values(
                        changed_at=datetime.now(UTC), username=username[:64],
                        action=action[:32], entity=entity[:64], entity_key=str(entity_key),
                        before_json=to_json(before), after_json=to_json(after)))
                    seal_pending(conn)
                return
            except StoreConflictError:
                if attempt == 2:
                    raise

    def audit_entries(self, *, limit: int = 200) -> list[AuditEntry]:
        """Return the newest audit entries, newest first."""
        with self.store.connect() as conn:
            rows = conn.execute(sa.select(_AUDIT).order_by(_AUDIT.c.id.desc()).limit(limit)).all()
        return [AuditEntry(_aware(r.changed_at), r.username, r.action, r.entity, r.entity_key,
                           r.before_json, r.after_json) for r in rows]


def open_store_users(url: str | None = None) -> StoreUsers:
    """Return the users of the store at ``url`` (default: the configured store)."""
    return StoreUsers(open_store(url))
