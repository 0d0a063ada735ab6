"""The error answers of the API as they really are, declared in its OpenAPI schema.

Every HTTP error of the API is ``{"detail": "..."}``; a request that does not fit the
parameters is a 422 ``{"detail": [{"field": ..., "message": ...}]}``; an upload or a
project with bad rows or fields is a 422 listing every problem. :data:`ERRORS` is
declared for every route, the others by the routes that give them.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, RootModel

from dualcontrol.web.tables import XLSX_TYPE


class HTTPErrorOut(BaseModel):
    """An HTTP error: what went wrong, in words."""

    detail: str


class FieldErrorOut(BaseModel):
    """One parameter of a request that does not fit (``query.year``, ``body.role``)."""

    field: str
    message: str


class ValidationErrorOut(BaseModel):
    """A request whose parameters do not fit: one entry per field."""

    detail: list[FieldErrorOut]


class ProblemOut(BaseModel):
    """A problem of an input file or body (:class:`dualcontrol.errors.Problem`)."""

    file: str | None
    row: int | None
    field: str | None
    value: str | None
    message: str
    accepted: list[str]


class UploadRejectedOut(BaseModel):
    """An upload with bad rows: nothing stored, every problem listed."""

    stored: bool
    problems: list[ProblemOut]


class DropOut(BaseModel):
    """An enterprise-month the upload would replace with much less energy [tce]."""

    enterprise: str
    period: str
    stored_tce: float
    new_tce: float
    fraction: float


class UploadNeedsConfirmationOut(BaseModel):
    """An upload that would replace enterprise-months with much less energy: nothing
    stored; send the same file again with ``confirm_sha256`` to store it."""

    stored: bool
    confirm_sha256: str
    threshold_fraction: float
    drops: list[DropOut]
    problems: list[ProblemOut]


class ProjectRejectedOut(BaseModel):
    """A project with bad fields: every problem listed."""

    problems: list[ProblemOut]


class Unprocessable(RootModel[ValidationErrorOut | HTTPErrorOut]):
    """A 422: parameters that do not fit, or a refused value explained in words."""


class UploadUnprocessable(RootModel[UploadRejectedOut | ValidationErrorOut]):
    """A 422 of an upload: bad rows, or a request without a file."""


class ProjectUnprocessable(RootModel[ProjectRejectedOut | ValidationErrorOut]):
    """A 422 of a review: bad fields of the project, or a body that is not a mapping."""


def _error(description: str) -> dict[str, Any]:
    return {"model": HTTPErrorOut, "description": description}


#: The errors every route may answer.
ERRORS: dict[int | str, dict[str, Any]] = {
    401: _error("Not logged in where logging in is needed, or a bad bearer token"),
    403: _error("Refused by the access model"),
    404: _error("No such node, table or scenario"),
    413: _error("Request body over the limit"),
    422: {"model": Unprocessable, "description": "Parameters that do not fit"},
}
#: A table answer: JSON records, or a CSV or XLSX download (``format``).
TABLE: dict[int | str, dict[str, Any]] = {
    200: {"description": "The table", "content": {"text/csv": {}, XLSX_TYPE: {}}}
}
#: Too many failed logins.
LIMITED: dict[int | str, dict[str, Any]] = {429: _error("Too many failed logins: retry later")}
#: The bulletin: a page, HTML, PDF or XLSX; its errors on a page are HTML pages.
BULLETIN: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The bulletin",
        "content": {"text/html": {}, "application/pdf": {}, XLSX_TYPE: {}},
    },
    **{status: {**answer, "content": {"text/html": {}}} for status, answer in ERRORS.items()},
    503: {**_error("PDF renderer busy: retry later"), "content": {"text/html": {}}},
}
