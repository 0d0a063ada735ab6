"""Users, API tokens, page sessions and the audit log behind a small repository interface.

:class:`MemoryUsers` keeps them in memory (unit tests of the access rules);
:class:`dualcontrol.web.store_users.StoreUsers` keeps them in the store's ``users``,
``api_tokens``, ``web_sessions`` and ``audit_log`` tables. The web layer only talks to
:class:`UserRepository`.
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Protocol

from dualcontrol.web.access import Principal, Role, Scope, check_role_scope
from dualcontrol.web.security import hash_password

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class User:
    """A user account (the password only as its Argon2 hash)."""

    username: str
    role: Role
    scope: Scope | None = None
    display_name: str | None = None
    password_hash: str | None = None
    active: bool = True

    @property
    def principal(self) -> Principal:
        """Return who this user is for the access checks."""
        return Principal(self.username, self.role, self.scope)


@dataclass(frozen=True)
class AuditEntry:
    """One line of the audit log."""

    at: datetime
    username: str
    action: str
    entity: str
    entity_key: str
    before: str | None = None
    after: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """Return the entry as a JSON-ready mapping."""
        return {"at": self.at.isoformat(), "username": self.username, "action": self.action,
                "entity": self.entity, "entity_key": self.entity_key,
                "before": self.before, "after": self.after}


@dataclass(frozen=True)
class StoredSession:
    """A logged-in page session as stored: only the SHA-256 digest of its random id."""

    digest: str
    username: str
    csrf: str
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    revoked: bool = False
    client: str | None = None

    @property
    def key(self) -> str:
        """Return the short public name of the session (a prefix of its digest)."""
        return self.digest[:16]

    def live(self, now: datetime) -> bool:
        """Return True if the session is neither revoked nor expired at ``now``."""
        return not self.revoked and now < self.expires_at

    def as_dict(self) -> dict[str, Any]:
        """Return the session as a JSON-ready mapping (never the digest in full)."""
        return {"key": self.key, "username": self.username,
                "created_at": self.created_at.isoformat(),
                "last_seen_at": self.last_seen_at.isoformat(),
                "expires_at": self.expires_at.isoformat(), "revoked": self.revoked,
                "client": self.client}


class UserRepository(Protocol):
    """Storage of users, tokens and the audit log."""

    def get_user(self, *, username: str) -> User | None:
        """Return the user or None."""

    def add_user(self, *, user: User) -> None:
        """Store a new user; ValueError if the name is taken."""

    def set_password_hash(self, *, username: str, password_hash: str) -> None:
        """Replace a user's password hash."""

    def list_users(self) -> list[User]:
        """Return every user."""

    def add_token(self, *, username: str, digest: str, expires_at: datetime) -> None:
        """Store the digest of a new API token."""

    def find_token(self, *, digest: str) -> tuple[str, datetime] | None:
        """Return (username, expiry) of a token digest, or None."""

    def set_active(self, *, username: str, active: bool) -> None:
        """Activate or deactivate a user."""

    def revoke_tokens(self, *, username: str) -> int:
        """Delete every API token of a user; return how many there were."""

    def add_session(self, *, session: StoredSession) -> None:
        """Store a new page session."""

    def find_session(self, *, digest: str) -> StoredSession | None:
        """Return the session of a digest (live or not), or None."""

    def touch_session(self, *, digest: str, at: datetime) -> None:
        """Record that the session was used at ``at``."""

    def list_sessions(self, *, username: str) -> list[StoredSession]:
        """Return a user's sessions, newest first."""

    def revoke_sessions(self, *, username: str, key: str | None = None) -> int:
        """Revoke a user's live sessions (only the one whose key is ``key`` if given);
        return how many were revoked."""

    def audit(self, *, username: str, action: str, entity: str, entity_key: str,
              before: Any = None, after: Any = None) -> None:
        """Append an entry to the audit log."""

    def audit_entries(self, *, limit: int = 200) -> list[AuditEntry]:
        """Return the newest audit entries, newest first."""


def to_json(value: Any) -> str | None:
    """Return ``value`` as JSON text for the audit log (None stays None)."""
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, default=str, sort_keys=True)


def make_user(username: str, password: str | None, role: Role | str, *,
              scope: Scope | str | None = None, display_name: str | None = None) -> User:
    """Return a validated new user with its password hashed."""
    role = Role(role)
    if isinstance(scope, str):
        scope = Scope.parse(scope)
    check_role_scope(role, scope)
    name = username.strip()
    if not name or len(name) > 64 or any(c.isspace() for c in name):
        raise ValueError("a user name is 1-64 characters without spaces")
    return User(username=name, role=role, scope=scope, display_name=display_name,
                password_hash=hash_password(password) if password else None)


@dataclass
class MemoryUsers:
    """A :class:`UserRepository` in memory."""

    users: dict[str, User] = field(default_factory=dict)
    tokens: dict[str, tuple[str, datetime]] = field(default_factory=dict)
    sessions: dict[str, StoredSession] = field(default_factory=dict)
    log: list[AuditEntry] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def get_user(self, *, username: str) -> User | None:
        """Return the user or None."""
        return self.users.get(username)

    def add_user(self, *, user: User) -> None:
        """Store a new user; ValueError if the name is taken."""
        with self._lock:
            if user.username in self.users:
                raise ValueError(f"user {user.username!r} exists")
            self.users[user.username] = replace(user)

    def set_password_hash(self, *, username: str, password_hash: str) -> None:
        """Replace a user's password hash."""
        with self._lock:
            self.users[username] = replace(self.users[username], password_hash=password_hash)

    def list_users(self) -> list[User]:
        """Return every user, sorted by name."""
        return sorted(self.users.values(), key=lambda u: u.username)

    def add_token(self, *, username: str, digest: str, expires_at: datetime) -> None:
        """Store the digest of a new API token."""
        self.tokens[digest] = (username, expires_at)

    def find_token(self, *, digest: str) -> tuple[str, datetime] | None:
        """Return (username, expiry) of a token digest, or None."""
        return self.tokens.get(digest)

    def set_active(self, *, username: str, active: bool) -> None:
        """Activate or deactivate a user."""
        with self._lock:
            self.users[username] = replace(self.users[username], active=active)

    def revoke_tokens(self, *, username: str) -> int:
        """Delete every API token of a user; return how many there were."""
        with self._lock:
            mine = [d for d, (name, _) in self.tokens.items() if name == username]
            for digest in mine:
                del self.tokens[digest]
        return len(mine)

    def add_session(self, *, session: StoredSession) -> None:
        """Store a new page session."""
        with self._lock:
            self.sessions[session.digest] = session

    def find_session(self, *, digest: str) -> StoredSession | None:
        """Return the session of a digest (live or not), or None."""
        return self.sessions.get(digest)

    def touch_session(self, *, digest: str, at: datetime) -> None:
        """Record that the session was used at ``at``."""
        with self._lock:
            if digest in self.sessions:
                self.sessions[digest] = replace(self.sessions[digest], last_seen_at=at)

    def list_sessions(self, *, username: str) -> list[StoredSession]:
        """Return a user's sessions, newest first."""
        mine = [s for s in self.sessions.values() if s.username == username]
        return sorted(mine, key=lambda s: s.created_at, reverse=True)

    def revoke_sessions(self, *, username: str, key: str | None = None) -> int:
        """Revoke a user's live sessions (only the one of ``key`` if given); return how many."""
        now = datetime.now(UTC)
        with self._lock:
            chosen = [s for s in self.sessions.values() if s.username == username
                      and s.live(now) and (key is None or s.key == key)]
            for session in chosen:
                self.sessions[session.digest] = replace(session, revoked=True)
        return len(chosen)

    def audit(self, *, username: str, action: str, entity: str, entity_key: str,
              before: Any = None, after: Any = None) -> None:
        """Append an entry to the audit log."""
        with self._lock:
            self.log.append(AuditEntry(datetime.now(UTC), username, action, entity,
                                       str(entity_key), to_json(before), to_json(after)))

    def audit_entries(self, *, limit: int = 200) -> list[AuditEntry]:
        """Return the newest audit entries, newest first."""
        return list(reversed(self.log[-limit:]))
