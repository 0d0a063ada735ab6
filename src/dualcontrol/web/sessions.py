"""Page sessions kept in the store: started at login, looked up on each request, ended
by logout, by an administrator or by deactivating the user.

The cookie holds a random 256-bit session id; the store holds only its SHA-256 digest
(as for API tokens), with the user, the CSRF token, the times and a revoked flag. So a
copy of an old cookie is worth nothing once the session is revoked, and a copy of the
database gives no usable cookie.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from dualcontrol.web.security import CookieValue, Session, new_session, token_digest
from dualcontrol.web.users import StoredSession, UserRepository

logger = logging.getLogger(__name__)

#: How often the last-seen time of a session is written at most [s].
TOUCH_INTERVAL_S = 60.0


def start_session(
    users: UserRepository,
    *,
    username: str,
    client: str,
    max_age_s: int,
    now: datetime | None = None,
) -> Session:
    """Return a new logged-in session of ``username``, stored for ``max_age_s`` [s]."""
    now = now or datetime.now(UTC)
    session = new_session(username)
    assert session.sid is not None
    users.add_session(
        session=StoredSession(
            digest=token_digest(session.sid),
            username=username,
            csrf=session.csrf,
            created_at=now,
            last_seen_at=now,
            expires_at=now + timedelta(seconds=max_age_s),
            client=client,
        )
    )
    return session


def resolve_session(
    users: UserRepository, cookie: CookieValue | None, *, now: datetime | None = None
) -> Session | None:
    """Return the session a cookie stands for, or None (no cookie, revoked or expired).

    An anonymous cookie gives an anonymous session with its CSRF token; a logged-in
    one is looked up in the store, and its last-seen time refreshed now and then.
    """
    if cookie is None:
        return None
    if cookie.sid is None:
        return Session(username=None, csrf=cookie.csrf or "")
    now = now or datetime.now(UTC)
    stored = users.find_session(digest=token_digest(cookie.sid))
    if stored is None or not stored.live(now):
        return None
    if (now - stored.last_seen_at).total_seconds() > TOUCH_INTERVAL_S:
        users.touch_session(digest=stored.digest, at=now)
    return Session(username=stored.username, csrf=stored.csrf, sid=cookie.sid)


def end_session(users: UserRepository, session: Session | None) -> bool:
    """Revoke a logged-in session; return True if one was revoked."""
    if session is None or session.sid is None or session.username is None:
        return False
    key = token_digest(session.sid)[:16]
    return users.revoke_sessions(username=session.username, key=key) > 0


def end_everything(users: UserRepository, *, username: str) -> tuple[int, int]:
    """Revoke every session and delete every API token of a user; return both counts."""
    return (users.revoke_sessions(username=username), users.revoke_tokens(username=username))
