"""One demo user per role, with random passwords that the demo prints."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass

import pandas as pd

from dualcontrol.web.access import Role, Scope
from dualcontrol.web.security import hash_password
from dualcontrol.web.users import UserRepository, make_user

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Credential:
    """A demo user's name, password, role and scope."""

    username: str
    password: str
    role: Role
    scope: Scope | None


@dataclass(frozen=True)
class DemoUser:
    """A demo account to create: name, role and scope."""

    username: str
    role: Role
    scope: Scope | None = None


def demo_accounts(hierarchy: pd.DataFrame, *, league: str | None = None) -> list[DemoUser]:
    """Return the demo accounts: administrator, a regional analyst for the whole region,
    a league analyst, an enterprise reporter (one firm of that league), reviewer, public.

    ``hierarchy`` has one row per enterprise with its ``region``, ``league`` and
    ``enterprise`` codes; the league defaults to the one with the most enterprises.
    """
    if hierarchy.empty:
        raise ValueError("the data has no enterprises to scope demo users to")
    counts = hierarchy["league"].astype(str).value_counts()
    chosen = league if league is not None else str(counts.index[0])
    firms = hierarchy[hierarchy["league"].astype(str) == chosen].sort_values("enterprise")
    if firms.empty:
        raise ValueError(f"no enterprise in league {chosen!r}")
    region = str(hierarchy["region"].iloc[0])
    return [DemoUser("demo-administrator", Role.administrator),
            DemoUser("demo-region-analyst", Role.analyst, Scope("region", region)),
            DemoUser("demo-league-analyst", Role.analyst, Scope("league", chosen)),
            DemoUser("demo-reporter", Role.reporter,
                     Scope("enterprise", str(firms["enterprise"].iloc[0]))),
            DemoUser("demo-reviewer", Role.reviewer),
            DemoUser("demo-public", Role.public)]


def create_demo_users(users: UserRepository, accounts: list[DemoUser], *,
                      password: str | None = None) -> list[Credential]:
    """Create the demo accounts (or give existing ones a new password); return credentials.

    Each gets a fresh random password unless ``password`` is given, so the printed
    credentials always work.
    """
    created = []
    for account in accounts:
        secret = password or secrets.token_urlsafe(9)
        existing = users.get_user(username=account.username)
        if existing is None:
            users.add_user(user=make_user(account.username, secret, account.role,
                                          scope=account.scope,
                                          display_name=f"Demo {account.role.value}"))
            action = "user_added"
        else:
            users.set_password_hash(username=account.username,
                                    password_hash=hash_password(secret))
            action = "password_reset"
        users.audit(username="demo", action=action, entity="user",
                    entity_key=account.username,
                    after={"role": account.role,
                           "scope": str(account.scope) if account.scope else None})
        created.append(Credential(account.username, secret, account.role, account.scope))
    return created
