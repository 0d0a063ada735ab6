"""Who may read or do what: one access table, and the one function that applies it.

The model is data. :data:`ACCESS` gives, for each *profile* (a role, and for analysts
the level of their scope), the *kinds of data* it may read or the things it may do,
each with the levels of the region hierarchy it covers and whether rows are limited to
the user's scope (its subtree). :data:`ROUTES` says which kinds each page and API route
serves. Every route asks :func:`permit` (through ``dualcontrol.web.deps.allow``), and
filters rows with :func:`within_scope`; the menus show a page only if :func:`may`
allows its kind; the README's table is :func:`markdown_table` (a test compares them).

Rules the table keeps: what the public may read, every logged-in role may read too;
named enterprises' figures (accounts, benchmark positions, front runners) are never
public; a scoped user reads its own subtree and nothing of a neighbour's beyond the
published yearly region and league totals.

A refused request raises :class:`AccessDeniedError`; the routes turn it into 401 for
anonymous visitors (logging in may help) and 403 for users, logged in the audit log.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
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


class Data(StrEnum):
    """Kinds of data a route reads, or things it does."""

    site = "site"
    published = "published"
    analysis = "analysis"
    benchmark_summary = "benchmark_summary"
    bulletin = "bulletin"
    accounts = "accounts"
    assessment = "assessment"
    budget = "budget"
    benchmarks = "benchmarks"
    front_runners = "front_runners"
    pdf = "pdf"
    reviews = "reviews"
    carbon_budget = "carbon_budget"
    pipeline = "pipeline"
    pipeline_edit = "pipeline_edit"
    uploads = "uploads"
    users = "users"
    audit = "audit"
    measures = "measures"


#: What each kind of data is (the README's first column).
DATA_MEANING: dict[Data, str] = {
    Data.site: "login, logout, API token, API reference, static files",
    Data.published: "yearly accounts of the region and leagues (and a league's energy mix)",
    Data.analysis: "LMDI decomposition and CO2 outlook of the region",
    Data.benchmark_summary: "benchmark class shares and savings potential (no names)",
    Data.bulletin: "the published quarterly bulletin (page, HTML, XLSX)",
    Data.accounts: "monthly and quarterly accounts; county, park and enterprise accounts",
    Data.assessment: "the barometer (ratings, values, requirements; the overview's tiles)",
    Data.budget: "the remaining energy budget",
    Data.benchmarks: "benchmark positions of named production units",
    Data.front_runners: "the front-runner list (named units and their unit consumption)",
    Data.pdf: "the bulletin as PDF (each starts a Chromium)",
    Data.reviews: "energy-saving review of a project in a league",
    Data.carbon_budget: "carbon budgets of the region and leagues, net of the pipeline",
    Data.pipeline: "the project pipeline (reviewed to in operation) of a league",
    Data.pipeline_edit: "adding projects to the pipeline and moving them on",
    Data.uploads: "uploading enterprise energy reports",
    Data.users: "users, their sessions and tokens",
    Data.audit: "the audit log",
    Data.measures: "the 1+N+X measures registry (owners, deadlines, effects, overdue; "
                   "names enterprises) and its wedges",
}


class Within(StrEnum):
    """Which rows of a granted kind a user reads."""

    all = "all"
    scope = "scope"


@dataclass(frozen=True)
class Grant:
    """Permission to read or do one kind: at ``levels`` (empty: no level), rows ``within``."""

    levels: tuple[str, ...] = ()
    within: Within = Within.all

    def __str__(self) -> str:
        levels = (f"{self.levels[0]}-{self.levels[-1]}" if len(self.levels) > 2
                  else ", ".join(self.levels)) or "yes"
        return levels + (" (own scope)" if self.within == Within.scope else "")


def _below(level: str) -> tuple[str, ...]:
    return LEVELS[LEVELS.index(level):]


def _scoped(*levels: str) -> Grant:
    return Grant(levels, Within.scope)


#: What everyone may read, logged in or not.
PUBLIC: dict[Data, Grant] = {
    Data.site: Grant(),
    Data.published: Grant(PUBLISHED_LEVELS),
    Data.analysis: Grant(("region",)),
    Data.benchmark_summary: Grant(PUBLISHED_LEVELS),
    Data.bulletin: Grant(PUBLISHED_LEVELS),
}


def _analyst(level: str) -> dict[Data, Grant]:
    """An analyst scoped at ``level``: its subtree, at its level and below."""
    assessed = tuple(lv for lv in _below(level) if lv in PUBLISHED_LEVELS)
    out = {**PUBLIC,
           Data.accounts: _scoped(*_below(level)),
           Data.benchmarks: _scoped("enterprise"),
           Data.front_runners: _scoped("enterprise"),
           Data.pdf: Grant(PUBLISHED_LEVELS),
           Data.uploads: _scoped("enterprise")}
    if assessed:  # the barometer and budget exist for the region and leagues only
        out |= {Data.assessment: _scoped(*assessed), Data.budget: _scoped(*assessed),
                Data.reviews: _scoped("league"), Data.measures: _scoped(*assessed),
                Data.carbon_budget: _scoped(*assessed),
                Data.pipeline: _scoped("league")}
    return out


#: Profiles: a role, and for analysts the level of their scope.
PROFILES: tuple[str, ...] = ("anonymous", "public", "reporter", "analyst@region",
                             "analyst@league", "analyst@county", "analyst@park", "reviewer",
                             "administrator")

#: The access model: for each profile, the kinds it may read or do, where, and how far.
#: Every figure and document of the region, unscoped (the reviewer's reading).
READ_ALL: dict[Data, Grant] = {**PUBLIC,
                               Data.accounts: Grant(LEVELS),
                               Data.assessment: Grant(PUBLISHED_LEVELS),
                               Data.budget: Grant(PUBLISHED_LEVELS),
                               Data.benchmarks: Grant(("enterprise",)),
                               Data.front_runners: Grant(("enterprise",)),
                               Data.pdf: Grant(PUBLISHED_LEVELS),
                               Data.reviews: Grant(("league",)),
                               Data.measures: Grant(PUBLISHED_LEVELS),
                               Data.carbon_budget: Grant(PUBLISHED_LEVELS),
                               Data.pipeline: Grant(("league",)),
                               Data.pipeline_edit: Grant(("league",))}

ACCESS: dict[str, dict[Data, Grant]] = {
    "anonymous": PUBLIC,
    "public": PUBLIC,
    "reporter": {**PUBLIC,
                 Data.accounts: _scoped("enterprise"),
                 Data.benchmarks: _scoped("enterprise"),
                 Data.front_runners: _scoped("enterprise"),
                 Data.uploads: _scoped("enterprise")},
    "analyst@region": _analyst("region"),
    "analyst@league": _analyst("league"),
    "analyst@county": _analyst("county"),
    "analyst@park": _analyst("park"),
    "reviewer": READ_ALL,
    # everything a reviewer reads, and uploads, users and the audit log
    "administrator": {**READ_ALL,
                      Data.uploads: Grant(("enterprise",)),
                      Data.users: Grant(),
                      Data.audit: Grant()},
}

#: The kinds each route serves ("METHOD path" as FastAPI declares it).
ROUTES: dict[str, tuple[Data, ...]] = {
    "GET /openapi.json": (Data.site,),
    "GET /docs": (Data.site,),
    "GET /static/plotly.min.js": (Data.site,),
    "GET /static": (Data.site,),
    "GET /login": (Data.site,),
    "POST /login": (Data.site,),
    "POST /logout": (Data.site,),
    "POST /api/token": (Data.site,),
    "GET /": (Data.published, Data.assessment, Data.budget),
    "GET /league/{key}": (Data.published, Data.accounts, Data.benchmarks),
    "GET /enterprise/{key}": (Data.accounts, Data.benchmarks),
    "GET /api/accounts": (Data.published, Data.accounts),
    "GET /api/accounts/{level}/{key}": (Data.published, Data.accounts),
    "GET /api/assessment/barometer": (Data.assessment,),
    "GET /api/assessment/budget": (Data.budget,),
    "GET /api/assessment/ledgers": (Data.assessment,),
    "GET /api/benchmarks/units": (Data.benchmarks,),
    "GET /api/benchmarks/{table}": (Data.benchmark_summary, Data.front_runners),
    "GET /benchmarking": (Data.benchmark_summary, Data.front_runners, Data.benchmarks),
    "GET /api/decomposition": (Data.analysis,),
    "GET /api/outlook": (Data.analysis,),
    "GET /api/outlook/{scenario}/{table}": (Data.analysis,),
    "GET /outlook": (Data.analysis,),
    "GET /bulletin": (Data.bulletin, Data.pdf),
    "POST /api/reports": (Data.uploads,),
    "GET /upload": (Data.uploads,),
    "POST /upload": (Data.uploads,),
    "POST /api/reviews": (Data.reviews,),
    "GET /review": (Data.reviews,),
    "POST /review": (Data.reviews,),
    "GET /api/carbon/budgets": (Data.carbon_budget,),
    "GET /api/projects": (Data.pipeline,),
    "POST /api/projects": (Data.pipeline_edit,),
    "POST /api/projects/{code}/status": (Data.pipeline_edit,),
    "GET /carbon": (Data.carbon_budget, Data.pipeline),
    "GET /api/users": (Data.users,),
    "POST /api/users": (Data.users,),
    "PATCH /api/users/{username}": (Data.users,),
    "GET /api/users/{username}/sessions": (Data.users,),
    "DELETE /api/users/{username}/sessions": (Data.users,),
    "GET /api/audit": (Data.audit,),
    "GET /api/measures/{table}": (Data.measures,),
    "GET /measures": (Data.measures,),
}

#: The menu: path, label key of :mod:`dualcontrol.web.i18n`, and the kind it needs.
MENU: tuple[tuple[str, str, Data], ...] = (
    ("/", "overview", Data.published),
    ("/benchmarking", "benchmarking", Data.benchmark_summary),
    ("/outlook", "outlook", Data.analysis),
    ("/measures", "measures", Data.measures),
    ("/upload", "upload", Data.uploads),
    ("/review", "review", Data.reviews),
    ("/carbon", "carbon_budgets", Data.carbon_budget),
    ("/bulletin", "bulletin", Data.bulletin),
    ("/docs", "api", Data.site),
)

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


def profile_of(principal: Principal) -> str:
    """Return the principal's row of :data:`ACCESS` (e.g. ``analyst@league``)."""
    if principal.is_anonymous:
        return "anonymous"
    if principal.role == Role.analyst and principal.scope is not None:
        return f"analyst@{principal.scope.level}"
    return str(principal.role)


def permit(principal: Principal, data: Data, *, level: str | None = None,
           node: Mapping[str, str] | None = None) -> Grant:
    """Return the principal's grant on ``data``, or raise :class:`AccessDeniedError`.

    ``level`` is the level of the table or node asked for; ``node`` maps the levels of
    one node (its ancestors and itself, e.g. ``{"region": "150000", "league": "150600"}``)
    and is checked against the principal's scope.
    """
    grant = ACCESS[profile_of(principal)].get(data)
    who = f"{principal.username} ({profile_of(principal)})"
    if grant is None:
        raise AccessDeniedError(f"{who} may not read or do: {DATA_MEANING[data]}")
    if level is not None and grant.levels and level not in grant.levels:
        raise AccessDeniedError(f"{who} may read {data} at {', '.join(grant.levels)} only,"
                                f" not {level}")
    scope = principal.scope
    if node is not None and grant.within == Within.scope and scope is not None and \
            node.get(scope.level) != scope.key:
        shown = ", ".join(f"{k}:{v}" for k, v in node.items())
        raise AccessDeniedError(f"{who} is scoped to {scope} and may not read {shown}")
    return grant


def may(principal: Principal, data: Data, *, level: str | None = None,
        node: Mapping[str, str] | None = None) -> bool:
    """Return True if :func:`permit` allows it (for optional parts of pages and menus)."""
    try:
        permit(principal, data, level=level, node=node)
    except AccessDeniedError:
        return False
    return True


def within_scope(principal: Principal, grant: Grant, frame: pd.DataFrame) -> pd.DataFrame:
    """Return the rows of ``frame`` the grant lets the principal see.

    ``frame`` has a column per hierarchy level it knows; rows outside the principal's
    scope are dropped (all rows when the scope's level is not a column: the grant's
    levels keep such tables from scoped users).
    """
    scope = principal.scope
    if grant.within == Within.all or scope is None or scope.level == "region":
        return frame  # the installation holds one region
    if scope.level not in frame:
        return frame.iloc[0:0]
    return frame[frame[scope.level].astype(str) == scope.key]


def outside_scope(principal: Principal, grant: Grant, frame: pd.DataFrame) -> pd.DataFrame:
    """Return the rows of ``frame`` outside the principal's scope (the complement)."""
    return frame.drop(within_scope(principal, grant, frame).index)


def markdown_table() -> str:
    """Return :data:`ACCESS` as a Markdown table: kinds by profile (the README's)."""
    head = "| data | " + " | ".join(PROFILES) + " |"
    rule = "|---" * (len(PROFILES) + 1) + "|"
    rows = [f"| `{data}`: {DATA_MEANING[data]} | "
            + " | ".join(str(ACCESS[p][data]) if data in ACCESS[p] else "—" for p in PROFILES)
            + " |" for data in Data]
    return "\n".join([head, rule, *rows])


def route_table() -> str:
    """Return :data:`ROUTES` as a Markdown table (the README's)."""
    rows = [f"| `{route}` | {', '.join(f'`{d}`' for d in kinds)} |"
            for route, kinds in ROUTES.items()]
    return "\n".join(["| route | data |", "|---|---|", *rows])
