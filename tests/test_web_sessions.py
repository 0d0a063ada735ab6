"""Server-side page sessions (:mod:`dualcontrol.web.sessions`) on the in-memory repository."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dualcontrol.web.security import CookieValue, SessionSigner, new_session, token_digest
from dualcontrol.web.sessions import (
    TOUCH_INTERVAL_S,
    end_everything,
    end_session,
    resolve_session,
    start_session,
)
from dualcontrol.web.users import MemoryUsers, make_user

T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


@pytest.fixture
def users() -> MemoryUsers:
    repo = MemoryUsers()
    repo.add_user(user=make_user("ana", "long enough pw", "reviewer"))
    return repo


def cookie_of(session) -> CookieValue:
    return CookieValue(sid=session.sid)


def test_session_stored_by_digest_and_resolved(users) -> None:
    session = start_session(users, username="ana", client="10.0.0.1", max_age_s=3600, now=T0)
    assert session.sid and list(users.sessions) == [token_digest(session.sid)]
    found = resolve_session(users, cookie_of(session), now=T0 + timedelta(minutes=5))
    assert found is not None and found.username == "ana" and found.csrf == session.csrf
    stored = users.find_session(digest=token_digest(session.sid))
    assert stored is not None and stored.client == "10.0.0.1"
    assert stored.last_seen_at == T0 + timedelta(minutes=5)  # touched after the interval


def test_last_seen_written_at_most_once_a_minute(users) -> None:
    session = start_session(users, username="ana", client="a", max_age_s=3600, now=T0)
    resolve_session(users, cookie_of(session), now=T0 + timedelta(seconds=TOUCH_INTERVAL_S / 2))
    assert users.find_session(digest=token_digest(session.sid)).last_seen_at == T0


def test_expired_session_resolves_to_none(users) -> None:
    session = start_session(users, username="ana", client="a", max_age_s=60, now=T0)
    assert resolve_session(users, cookie_of(session), now=T0 + timedelta(seconds=61)) is None


def test_ending_one_session_leaves_the_others(users) -> None:
    first = start_session(users, username="ana", client="a", max_age_s=3600)
    second = start_session(users, username="ana", client="b", max_age_s=3600)
    assert end_session(users, first)
    assert resolve_session(users, cookie_of(first)) is None
    assert resolve_session(users, cookie_of(second)) is not None
    assert not end_session(users, first)  # already revoked


def test_end_everything_revokes_sessions_and_deletes_tokens(users) -> None:
    sessions = [start_session(users, username="ana", client="a", max_age_s=3600) for _ in range(2)]
    users.add_token(username="ana", digest="d" * 64, expires_at=T0 + timedelta(days=1))
    assert end_everything(users, username="ana") == (2, 1)
    assert all(resolve_session(users, cookie_of(s)) is None for s in sessions)
    assert users.find_token(digest="d" * 64) is None


def test_anonymous_cookie_carries_only_the_csrf_token() -> None:
    signer = SessionSigner("a-secret-of-the-test-1234", 3600)
    anonymous = new_session()
    loaded = signer.load(signer.dump(anonymous))
    assert loaded == CookieValue(csrf=anonymous.csrf)
    logged_in = new_session("ana")
    assert signer.load(signer.dump(logged_in)) == CookieValue(sid=logged_in.sid)
    assert "ana" not in signer.dump(logged_in)
    assert signer.load(signer.dump(logged_in) + "x") is None
