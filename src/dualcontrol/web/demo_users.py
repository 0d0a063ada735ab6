"""One user per role for the demo, with random passwords that the demo prints."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass

import pandas as pd

from dualcontrol.web.access import Role, Scope
from dualcontrol.web.users import UserRepository, make_user

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Credential:
    """A demo user's name, password, role and scope."""

    username: str
    password: str
    role: Role
    scope: Scope | None


def demo_scopes(hierarchy: pd.DataFrame, *, league: str | None = None) -> dict[Role, Scope]:
    """Return the scope of the demo analyst (a league) and reporter (one of its firms)."""
    if hierarchy.empty:
        raise ValueError("the data has no enterprises to scope demo users to")
    chosen = league if league is not None else str(hierarchy["league"].iloc[0])
    firms = hierarchy[hierarchy["league"].astype(str) == chosen]
    if firms.empty:
        raise ValueError(f"no enterprise in league {chosen!r}")
    return {Role.analyst: Scope("league", chosen),
            Role.reporter: Scope("enterprise", str(firms["enterprise"].iloc[0]))}


def create_demo_users(users: UserRepository, scopes: dict[Role, Scope], *,
                      password: str | None = None) -> list[Credential]:
    """Create ``demo-<role>`` for every role and return the credentials.

    Each gets a fresh random password unless ``password`` is given; an existing demo
    user is left as it is (its password is not shown again).
    """
    created = []
    for role in Role:
        username = f"demo-{role.value}"
        if users.get_user(username=username) is not None:
            logger.info("demo user %s exists; kept", username)
            continue
        secret = password or secrets.token_urlsafe(9)
        scope = scopes.get(role)
        users.add_user(user=make_user(username, secret, role, scope=scope,
                                      display_name=f"Demo {role.value}"))
        users.audit(username="demo", action="user_added", entity="user", entity_key=username,
                    after={"role": role, "scope": str(scope) if scope else None})
        created.append(Credential(username, secret, role, scope))
    return created
