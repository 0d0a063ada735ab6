"""Passwords, API tokens, signed session cookies and CSRF tokens.

Passwords are hashed with Argon2id (argon2-cffi's defaults, RFC 9106's second
recommended parameter set); API tokens are random 256-bit strings of which only the
SHA-256 digest is stored, so a copy of the database gives no usable token.

References
----------
RFC 9106, Argon2 Memory-Hard Function for Password Hashing (2021).
OWASP Cross-Site Request Forgery Prevention Cheat Sheet (synchroniser token pattern).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from itsdangerous import BadSignature, URLSafeTimedSerializer

logger = logging.getLogger(__name__)

_hasher = PasswordHasher()
#: A valid hash of a random password, verified against when the user does not exist so
#: that a wrong user name takes as long as a wrong password.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    """Return the Argon2id hash of ``password`` (with its salt and parameters)."""
    if len(password) < 8:
        raise ValueError("a password needs at least 8 characters")
    return _hasher.hash(password)


def verify_password(password: str, password_hash: str | None) -> bool:
    """Return True if ``password`` matches ``password_hash`` (None never matches)."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


def new_token() -> str:
    """Return a new random API token (shown once, never stored in clear)."""
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    """Return the SHA-256 hex digest under which a token is stored."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Session:
    """A page session: user (None when anonymous), CSRF token and, once logged in, the
    random session id whose digest names the session's row in the store."""

    username: str | None
    csrf: str
    sid: str | None = None


@dataclass(frozen=True)
class CookieValue:
    """What a session cookie holds: a logged-in session's id, or an anonymous CSRF token."""

    sid: str | None = None
    csrf: str | None = None


class SessionSigner:
    """Signs and checks the session cookie (HMAC by itsdangerous, with timestamp).

    A logged-in visitor's cookie carries only the random session id (the user, CSRF
    token and revocation live in the store); an anonymous visitor's carries the CSRF
    token of the login form, so anonymous page views write nothing.
    """

    def __init__(self, secret_key: str, max_age_s: int) -> None:
        self._serializer = URLSafeTimedSerializer(secret_key, salt="dualcontrol-session-v2")
        self.max_age_s = max_age_s

    def dump(self, session: Session) -> str:
        """Return the signed cookie value of ``session``."""
        if session.sid is not None:
            return self._serializer.dumps({"s": session.sid})
        return self._serializer.dumps({"c": session.csrf})

    def load(self, value: str | None) -> CookieValue | None:
        """Return what a cookie holds, or None if it is missing, forged or expired."""
        if not value:
            return None
        try:
            data: Any = self._serializer.loads(value, max_age=self.max_age_s)
        except BadSignature:
            return None
        if isinstance(data, dict) and isinstance(data.get("s"), str):
            return CookieValue(sid=data["s"])
        if isinstance(data, dict) and isinstance(data.get("c"), str):
            return CookieValue(csrf=data["c"])
        return None


def new_session(username: str | None = None) -> Session:
    """Return a fresh session with a new CSRF token (and a new id if logged in)."""
    sid = secrets.token_urlsafe(32) if username is not None else None
    return Session(username=username, csrf=secrets.token_urlsafe(24), sid=sid)


def csrf_matches(session: Session | None, submitted: str | None) -> bool:
    """Return True if the submitted form token equals the session's (constant time)."""
    if session is None or not submitted:
        return False
    return hmac.compare_digest(session.csrf, submitted)
