"""Domain exceptions that say which file, row and field were wrong and what is accepted."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any


class DualControlError(Exception):
    """Base class of every error dualcontrol raises on purpose."""


@dataclass
class Problem:
    """One thing wrong with one value of the input.

    ``row`` is the 1-based data row as a spreadsheet user counts it (the header is
    row 1, so the first data row is row 2) or ``None`` for a whole-file problem.
    """

    message: str
    file: str | None = None
    row: int | None = None
    field: str | None = None
    value: Any = None
    accepted: Sequence[str] = ()

    def __str__(self) -> str:
        where = []
        if self.file:
            where.append(str(self.file))
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.field:
            where.append(f"field '{self.field}'")
        text = ", ".join(where)
        text = f"{text}: {self.message}" if text else self.message
        if self.value is not None and self.value != "":
            text += f" (got {self.value!r})"
        if self.accepted:
            shown = list(self.accepted)
            more = "" if len(shown) <= 40 else f", ... ({len(shown) - 40} more)"
            text += "; accepted: " + ", ".join(str(a) for a in shown[:40]) + more
        return text

    def as_dict(self) -> dict[str, Any]:
        """Return the problem as a JSON-serialisable mapping."""
        return {
            "file": self.file,
            "row": self.row,
            "field": self.field,
            "value": None if self.value is None else str(self.value),
            "message": self.message,
            "accepted": [str(a) for a in self.accepted],
        }


class InputError(DualControlError, ValueError):
    """Bad input: carries every :class:`Problem` found, not only the first."""

    def __init__(self, problems: Problem | str | Iterable[Problem], **kwargs: Any) -> None:
        if isinstance(problems, str):
            problems = [Problem(problems, **kwargs)]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.problems: list[Problem] = list(problems)
        super().__init__(self._text())

    def _text(self) -> str:
        if len(self.problems) == 1:
            return str(self.problems[0])
        head = f"{len(self.problems)} problems:"
        return "\n".join([head, *(f"  - {p}" for p in self.problems[:200])])


class ReferenceDataError(DualControlError, LookupError):
    """A reference table lacks the row asked for, or a shipped data file is malformed."""



def require_columns(columns: Iterable[str], needed: Sequence[str], *, file: str | None = None,
                    accepted: Sequence[str] | None = None) -> None:
    """Raise :class:`InputError` naming every column of ``needed`` missing from ``columns``."""
    present = set(columns)
    missing = [c for c in needed if c not in present]
    if missing:
        raise InputError([Problem("required column is missing", file=file, field=c,
                                  accepted=list(accepted if accepted is not None else needed))
                          for c in missing])


def spreadsheet_rows(frame: Any, first_row: int = 2) -> Any:
    """Return a copy of a DataFrame indexed by spreadsheet row (header = row 1)."""
    import pandas as pd

    data = frame.reset_index(drop=True).copy()
    data.index = pd.RangeIndex(first_row, first_row + len(data))
    return data
