"""Who may do what: roles, the region scope of a user, and the checks every route makes.

Pure functions with no HTTP in them: a refused action raises :class:`AccessDeniedError`,
which the routes turn into a 403 answer and an audit-log entry.

Roles
-----
administrator
    Everything, including user management and the audit log.
analyst
    Regional analyst: reads every level *inside* a subtree of the region hierarchy
    (``scope``: a region, league, county or park); a league analyst sees that league
    and what lies below it, never a neighbour and never the region's total.
reporter
    Enterprise reporter: reads and uploads the reports of its own enterprise
    (``scope`` = the enterprise), and reads the published aggregates.
reviewer
    Reads everything and reviews projects.
public
    Published aggregates only: region and league totals by year.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import StrEnum

import pandas as pd

from dualcontrol.errors import DualControlError

logger = logging.getLogger(__name__)

#: Levels of the region hierarchy, coarsest first (as in :mod:`dualcontrol.accounting`).
LEVELS: tuple[str, ...] = ("region", "league", "county", "park", "enterprise")
#: Levels whose yearly totals are published to everyone.
PUBLISHED_LEVELS: tuple[str, ...] = ("region", "league")


class Role(StrEnum):
    """Roles of users."""

    administrator = "administrator"
    analyst = "analyst"
    reporter = "reporter"
    reviewer = "reviewer"
    public = "public"


class Action(StrEnum):
    """Things a user can try to do."""

    read = "read"
    upload = "upload"
    review = "review"
    manage_users = "manage_users"
    read_audit = "read_audit"
    render_pdf = "render_pdf"


#: Which role may attempt which action at all (the scope check comes after).
PERMISSIONS: dict[Role, frozenset[Action]] = {
    Role.administrator: frozenset(Action),
    Role.analyst: frozenset({Action.read, Action.upload, Action.review, Action.render_pdf}),
    Role.reporter: frozenset({Action.read, Action.upload}),
    Role.reviewer: frozenset({Action.read, Action.review, Action.render_pdf}),
    Role.public: frozenset({Action.read}),
}

#: Roles that need a scope, and the levels their scope may be at.
SCOPED_ROLES: dict[Role, tuple[str, ...]] = {
    Role.analyst: ("region", "league", "county", "park"),
    Role.reporter: ("enterprise",),
}


class AccessDeniedError(DualControlError, PermissionError):
    """The principal may not do this; ``reason`` says why (shown and logged)."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


@dataclass(frozen=True)
class Scope:
    """A node of the region hierarchy: its level and its key (name or code)."""

    level: str
    key: str

    def __str__(self) -> str:
        return f"{self.level}:{self.key}"

    @classmethod
    def parse(cls, text: str) -> Scope:
        """Return the scope written as ``level:key`` (e.g. ``league:Ordos``)."""
        level, sep, key = text.partition(":")
        if not sep or level not in LEVELS or not key.strip():
            raise ValueError(f"scope must be LEVEL:KEY with LEVEL one of {', '.join(LEVELS)}"
                             f" (got {text!r})")
        return cls(level, key.strip())


@dataclass(frozen=True)
class Principal:
    """The user behind a request (anonymous visitors are ``public``)."""

    username: str
    role: Role
    scope: Scope | None = None

    @property
    def is_anonymous(self) -> bool:
        """True for a visitor who has not logged in."""
        return self.username == ANONYMOUS.username


ANONYMOUS = Principal("anonymous", Role.public)


def check_role_scope(role: Role, scope: Scope | None) -> None:
    """Raise ValueError unless ``scope`` fits ``role`` (used when creating users)."""
    allowed = SCOPED_ROLES.get(role)
    if allowed is None:
        if scope is not None:
            raise ValueError(f"role {role} takes no scope")
        return
    if scope is None or scope.level not in allowed:
        raise ValueError(f"role {role} needs a scope at level {' or '.join(allowed)}")


def require(principal: Principal, action: Action) -> None:
    """Raise :class:`AccessDeniedError` unless the principal's role allows ``action``."""
    if action not in PERMISSIONS[principal.role]:
        raise AccessDeniedError(f"role {principal.role} may not {action}")


def _depth(level: str) -> int:
    if level not in LEVELS:
        raise ValueError(f"unknown level {level!r}; accepted: {', '.join(LEVELS)}")
    return LEVELS.index(level)


def check_level(principal: Principal, level: str, grain: str = "year") -> None:
    """Raise :class:`AccessDeniedError` unless the principal may read tables at ``level``.

    A scoped user may read its own level and the levels below it (rows are then
    filtered to its subtree); a coarser level would reveal other subtrees' data.
    """
    require(principal, Action.read)
    role = principal.role
    if role in (Role.administrator, Role.reviewer):
        return
    if role == Role.analyst:
        assert principal.scope is not None
        if _depth(level) < _depth(principal.scope.level):
            raise AccessDeniedError(f"{principal.username} is scoped to {principal.scope} and "
                               f"may not read {level} totals")
        return
    if role == Role.reporter and level == "enterprise":
        return
    if level not in PUBLISHED_LEVELS or grain != "year":
        raise AccessDeniedError(f"role {role} may read published aggregates only "
                           f"({', '.join(PUBLISHED_LEVELS)} by year), not {level} by {grain}")


def visible_rows(principal: Principal, frame: pd.DataFrame, level: str) -> pd.DataFrame:
    """Return the rows of a ``level`` table the principal may see (after check_level)."""
    scope = principal.scope
    if principal.role == Role.analyst and scope is not None and scope.level != "region":
        return frame[frame[scope.level].astype(str) == scope.key]
    if principal.role == Role.reporter and level == "enterprise" and scope is not None:
        return frame[frame["enterprise"].astype(str) == scope.key]
    return frame


def check_node(principal: Principal, level: str, key: str, *,
               lineage: dict[str, str] | None = None) -> None:
    """Raise :class:`AccessDeniedError` unless the principal may read node ``level:key``.

    ``lineage`` maps each coarser level to the node's ancestor at that level (for
    example ``{"region": "Inner Mongolia", "league": "Ordos"}`` for a county), so a
    scoped user can be checked against its subtree.
    """
    check_level(principal, level)
    scope = principal.scope
    if scope is None or principal.role not in SCOPED_ROLES:
        return
    if scope.level == "region" and principal.role == Role.analyst:
        return
    ancestors = dict(lineage or {})
    ancestors[level] = key
    if ancestors.get(scope.level) != scope.key:
        raise AccessDeniedError(f"{principal.username} is scoped to {scope} and may not read "
                           f"{level} {key!r}")


def check_upload(principal: Principal, enterprises: pd.DataFrame) -> None:
    """Raise :class:`AccessDeniedError` unless every row's enterprise is within scope.

    ``enterprises`` has one row per enterprise in the upload with its hierarchy columns.
    """
    require(principal, Action.upload)
    scope = principal.scope
    if principal.role == Role.administrator or scope is None:
        return
    if scope.level == "region":
        return
    column = enterprises[scope.level].astype(str) if scope.level in enterprises else None
    outside = enterprises if column is None else enterprises[column != scope.key]
    if len(outside):
        names = ", ".join(sorted(outside["enterprise"].astype(str).unique())[:5])
        raise AccessDeniedError(f"{principal.username} is scoped to {scope} and may not submit "
                           f"reports of {names}")
