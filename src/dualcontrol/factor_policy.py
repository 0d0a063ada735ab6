"""What a year without a published emission factor does: refused, or the nearest year's.

The interfaces set the choice (``--factor-years``, ``DUALCONTROL_FACTOR_YEARS``, the demo
store's); :mod:`dualcontrol.reference` applies it. Kept apart from the reference tables so
that the command line can set it without loading them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from dualcontrol.errors import InputError, Problem

#: What to do for a year without a published factor: ``exact`` refuses (the default),
#: ``nearest`` takes the nearest published year's factor and says so once.
FACTOR_YEAR_POLICIES = ("exact", "nearest")

_policy_default: str | None = None
_default_reason = "as asked"
_policy_block: ContextVar[str | None] = ContextVar("factor_years", default=None)
_policy_reason: ContextVar[str] = ContextVar("factor_years_reason", default="")


def _checked_policy(policy: str) -> str:
    if policy not in FACTOR_YEAR_POLICIES:
        raise InputError(Problem("unknown policy for years without a published factor",
                                 field="factor_years", value=policy,
                                 accepted=list(FACTOR_YEAR_POLICIES)))
    return policy


def set_factor_years(policy: str | None, *, reason: str = "as asked") -> None:
    """Set, for the process, what a year without a published factor does.

    Called by the interfaces from their option or setting (``--factor-years``,
    ``DUALCONTROL_FACTOR_YEARS``) or the store's (the demo's); ``None`` leaves the
    choice unmade (``exact``). ``reason`` (who asked) is said with the warning.
    """
    global _policy_default, _default_reason
    _policy_default = None if policy is None else _checked_policy(policy)
    _default_reason = reason


@contextmanager
def factor_years(policy: str, *, reason: str = "as asked") -> Iterator[None]:
    """Use ``policy`` for the years without a published factor inside the block;
    ``reason`` (who asked) is said with the one-line warning."""
    token = _policy_block.set(_checked_policy(policy))
    why = _policy_reason.set(reason)
    try:
        yield
    finally:
        _policy_block.reset(token)
        _policy_reason.reset(why)


def factor_year_policy() -> str:
    """Return the policy in force: the block's, else the process's, else ``exact``."""
    return _policy_block.get() or _policy_default or "exact"


def policy_reason() -> str:
    """Return who asked for the policy in force (said with the one-line warning)."""
    return _policy_reason.get() if _policy_block.get() else _default_reason


def factor_years_chosen() -> bool:
    """True if a policy was chosen for the process or the block (not the default)."""
    return (_policy_block.get() or _policy_default) is not None
