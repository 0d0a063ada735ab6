"""Passwords, API tokens, signed session cookies, CSRF tokens and the login rate limit.

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
import threading
import time
from collections import defaultdict, deque
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
    """Contents of a page session: user (None when anonymous) and its CSRF token."""

    username: str | None
    csrf: str


class SessionSigner:
    """Signs and checks the session cookie (HMAC-SHA1 by itsdangerous, with timestamp)."""

    def __init__(self, secret_key: str, max_age_s: int) -> None:
        self._serializer = URLSafeTimedSerializer(secret_key, salt="dualcontrol-session")
        self.max_age_s = max_age_s

    def dump(self, session: Session) -> str:
        """Return the signed cookie value of ``session``."""
        return self._serializer.dumps({"u": session.username, "c": session.csrf})

    def load(self, value: str | None) -> Session | None:
        """Return the session in a cookie, or None if it is missing, forged or expired."""
        if not value:
            return None
        try:
            data: Any = self._serializer.loads(value, max_age=self.max_age_s)
        except BadSignature:
            return None
        if not isinstance(data, dict) or not isinstance(data.get("c"), str):
            return None
        return Session(username=data.get("u"), csrf=data["c"])


def new_session(username: str | None = None) -> Session:
    """Return a fresh session with a new CSRF token."""
    return Session(username=username, csrf=secrets.token_urlsafe(24))


def csrf_matches(session: Session | None, submitted: str | None) -> bool:
    """Return True if the submitted form token equals the session's (constant time)."""
    if session is None or not submitted:
        return False
    return hmac.compare_digest(session.csrf, submitted)


class LoginLimiter:
    """Counts failed logins per key (user name, client address) in a sliding window.

    In-process: with several server processes each counts its own failures, so the
    effective limit is the configured one times the number of processes.
    """

    def __init__(self, max_failures: int, window_s: float) -> None:
        self.max_failures = max_failures
        self.window_s = window_s
        self._failures: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def _trim(self, key: str, now: float) -> deque[float]:
        times = self._failures[key]
        while times and now - times[0] > self.window_s:
            times.popleft()
        return times

    def blocked(self, *keys: str) -> bool:
        """Return True if any key has used up its failures in the window."""
        now = time.monotonic()
        with self._lock:
            return any(len(self._trim(k, now)) >= self.max_failures for k in keys)

    def fail(self, *keys: str) -> None:
        """Record one failed login for each key."""
        now = time.monotonic()
        with self._lock:
            for key in keys:
                self._trim(key, now).append(now)

    def reset(self, *keys: str) -> None:
        """Forget the failures of the keys (after a successful login)."""
        with self._lock:
            for key in keys:
                self._failures.pop(key, None)
