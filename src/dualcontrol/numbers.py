"""The one grammar of numbers in the files people submit, and their plausible ranges.

A number cell is, after surrounding spaces are stripped and full-width characters
(``１２３``, ``，``, ``．``, ``－``) are turned into ASCII: an optional sign, digits
either plain (``1200``) or grouped by thousands with commas in groups of exactly three
(``1,200``, ``1,234,567.5``), one optional decimal point with digits, and, for
numbers that Excel writes in scientific notation, an optional exponent after ungrouped
digits (``1.5E+12``). Anything else is refused, never guessed: ``1,5`` may be the
European 1.5 or a typo for 15, so it is an error, not 15. ``inf`` and ``nan`` are not
numbers here.

Each field then has a plausible range (``data/number_ranges.csv``): a quantity is
>= 0 and below 10^12 in its unit, a GDP index (previous year = 100) lies in 50-200.
A value outside is refused with the range, so a typing slip of a few orders of
magnitude cannot reach the accounts.
"""

from __future__ import annotations

import logging
import math
import re
from dataclasses import dataclass
from functools import cache

import numpy as np
import pandas as pd

from dualcontrol.errors import Problem, ReferenceDataError
from dualcontrol.reference import load_table

logger = logging.getLogger(__name__)

#: Full-width and typographic characters a number may be typed with, and their ASCII.
_TO_ASCII = str.maketrans({
    **{chr(0xFF10 + d): str(d) for d in range(10)},
    "\uff0c": ",", "\uff0e": ".", "\uff0b": "+", "\uff0d": "-", "\u2212": "-",
})

#: The grammar: sign, plain or thousands-grouped digits, fraction, exponent (ungrouped).
NUMBER_RE = re.compile(
    r"[+-]?(?:"
    r"[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]+)?"          # 1,234,567.5
    r"|(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"  # 1200, 0.5, .5, 1.5E+12
    r")")

#: Examples of the forms accepted, for error messages.
ACCEPTED_FORMS = ["1200", "1,200", "1,234,567.5", "0.25", "１２３ (full-width)",
                  "1.5E+06"]


def clean_number_text(text: str) -> str:
    """Return ``text`` with full-width characters in ASCII and surrounding spaces removed."""
    return str(text).translate(_TO_ASCII).strip()


def parse_number(text: str) -> float | None:
    """Return the number written in ``text``, or None for a blank cell.

    Raises
    ------
    ValueError
        If ``text`` is not a number of the grammar (see the module docstring), or is
        too large to be a finite float.
    """
    cleaned = clean_number_text(text)
    if cleaned == "":
        return None
    if NUMBER_RE.fullmatch(cleaned) is None:
        raise ValueError(f"not a number: {text!r}")
    value = float(cleaned.replace(",", ""))
    if not math.isfinite(value):
        raise ValueError(f"number too large: {text!r}")
    return value + 0.0  # -0 is 0


def parse_numbers(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Return the numbers of a column of text (NaN where blank or bad) and a bad mask.

    Vectorised form of :func:`parse_number`: ``bad`` is True where a non-blank cell
    is not a number of the grammar or overflows to infinity.
    """
    cleaned = values.fillna("").astype(str).str.translate(_TO_ASCII).str.strip()
    blank = cleaned == ""
    good_form = cleaned.str.fullmatch(NUMBER_RE.pattern)
    numbers = pd.to_numeric(cleaned.where(good_form & ~blank).str.replace(",", "",
                                                                           regex=False),
                            errors="coerce").astype(float)
    bad = ~blank & (numbers.isna() | np.isinf(numbers))
    numbers = numbers.where(~bad) + 0.0
    return numbers, bad


@dataclass(frozen=True)
class Range:
    """The plausible range of one number field of one kind of report."""

    kind: str
    field: str
    minimum: float
    minimum_inclusive: bool
    maximum: float
    maximum_inclusive: bool
    unit: str

    def contains(self, values: pd.Series) -> pd.Series:
        """Return True where a value lies in the range (NaN counts as inside)."""
        low = values >= self.minimum if self.minimum_inclusive else values > self.minimum
        high = values <= self.maximum if self.maximum_inclusive else values < self.maximum
        return values.isna() | (low & high)

    def text(self) -> str:
        """Return the range as people read it: ``>= 0 and < 1e+12 [10^4 yuan]``."""
        low = f"{'>=' if self.minimum_inclusive else '>'} {self.minimum:g}"
        high = f"{'<=' if self.maximum_inclusive else '<'} {self.maximum:g}"
        return f"{low} and {high} [{self.unit}]"


@cache
def ranges() -> dict[tuple[str, str], Range]:
    """Return the plausible range of every number field, keyed by (kind, field).

    References
    ----------
    ``data/number_ranges.csv`` (each row names its reason in ``source``).
    """
    out: dict[tuple[str, str], Range] = {}
    for _, r in load_table("number-ranges").iterrows():
        key = (r["kind"], r["field"])
        if key in out:
            raise ReferenceDataError(f"number_ranges.csv: {key} given twice")
        out[key] = Range(r["kind"], r["field"], float(r["minimum"]),
                         r["minimum_inclusive"].strip().lower() == "true",
                         float(r["maximum"]),
                         r["maximum_inclusive"].strip().lower() == "true", r["unit"])
    return out


def range_of(kind: str, field: str) -> Range:
    """Return the plausible range of ``field`` in reports of ``kind``.

    Raises
    ------
    ReferenceDataError
        If the table has no row for it (every number field must have one).
    """
    try:
        return ranges()[(kind, field)]
    except KeyError:
        raise ReferenceDataError(f"number_ranges.csv has no row for {kind} {field}") from None


def number_problems(values: pd.Series, kind: str, field: str, *, file: str | None,
                    rows: np.ndarray, required: bool,
                    ) -> tuple[pd.Series, list[tuple[int, Problem]]]:
    """Return the numbers of a text column and the problems of its cells.

    Parameters
    ----------
    values : Series
        The cells as text, in file order.
    kind, field : str
        Which range applies (:func:`range_of`).
    file : str, optional
        The file, named in the problems.
    rows : ndarray
        Spreadsheet row of each cell.
    required : bool
        A blank cell is a problem.

    Returns
    -------
    numbers : Series
        The values, NaN where blank or refused.
    problems : list of (position, Problem)
    """
    values = values.reset_index(drop=True)
    numbers, bad = parse_numbers(values)
    limits = range_of(kind, field)
    problems: list[tuple[int, Problem]] = []
    for i in np.flatnonzero(bad.to_numpy()):
        problems.append((int(i), Problem(
            "not a number: digits with an optional sign and decimal point; commas only "
            "between groups of three digits", file=file, row=int(rows[i]), field=field,
            value=values.iloc[i], accepted=ACCEPTED_FORMS)))
    outside = ~limits.contains(numbers)
    for i in np.flatnonzero(outside.to_numpy()):
        problems.append((int(i), Problem(
            f"outside the plausible range {limits.text()}", file=file, row=int(rows[i]),
            field=field, value=values.iloc[i], accepted=[limits.text()])))
    if required:
        blank = values.fillna("").astype(str).str.strip() == ""
        for i in np.flatnonzero(blank.to_numpy()):
            problems.append((int(i), Problem("value is empty", file=file, row=int(rows[i]),
                                             field=field)))
    return numbers.where(~outside), problems
