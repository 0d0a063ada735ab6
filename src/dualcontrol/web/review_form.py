"""The project review form: fields instead of a YAML box, and a project file to upload.

The form's fields are the project file's (``examples/projects/*.yaml``, read by
:func:`dualcontrol.review.parse_project`): :func:`project_from_form` turns them into that
mapping, numbers parsed by :func:`dualcontrol.numbers.parse_number` (the strict grammar);
:func:`form_from_project` fills the fields from a project (the sample, or an uploaded
file). The review itself is :func:`dualcontrol.review.review_project`, as for the API.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from typing import Any

import yaml

from dualcontrol.errors import InputError, Problem
from dualcontrol.numbers import parse_number
from dualcontrol.reference import carriers, load_table
from dualcontrol.review import ORIGINS, USES

#: Energy rows the form offers (blank rows are skipped).
ENERGY_ROWS = 6
#: Scalar fields of the form: form name -> (project key path, a number?).
FIELDS: dict[str, tuple[tuple[str, ...], bool]] = {
    "name": (("name",), False),
    "product": (("product",), False),
    "capacity": (("capacity",), True),
    "capacity_unit": (("capacity_unit",), False),
    "league": (("location", "league"), False),
    "start_year": (("start_year",), True),
    "output_quantity": (("design_output", "quantity"), True),
    "output_unit": (("design_output", "unit"), False),
    "output_value_10k_yuan": (("design_output_value_10k_yuan",), True),
    "value_added_10k_yuan": (("design_value_added_10k_yuan",), True),
}
#: Columns of an energy row.
ENERGY_FIELDS: tuple[str, ...] = ("carrier", "quantity", "unit", "use", "origin")
#: Project files accepted as uploads.
PROJECT_SUFFIXES: tuple[str, ...] = (".yaml", ".yml", ".json")


@cache
def products() -> tuple[tuple[str, str, str, str], ...]:
    """Return (code, English name, Chinese name, industry) of every product with levels."""
    table = load_table("efficiency-levels").drop_duplicates("product")
    return tuple((r.product, r.name_en, r.name_zh, r.industry) for r in table.itertuples())


def carrier_choices() -> list[tuple[str, str, str, str]]:
    """Return (code, English name, Chinese name, unit) of every energy carrier."""
    return [(c.code, c.name_en, c.name_zh, c.unit) for c in carriers().values()]


def choices() -> dict[str, Any]:
    """Return the form's drop-down lists."""
    return {"products": products(), "carriers": carrier_choices(), "uses": USES,
            "origins": ORIGINS, "energy_rows": ENERGY_ROWS}


def _number(text: str, field: str, problems: list[Problem]) -> float | int | None:
    try:
        value = parse_number(text)
    except ValueError as exc:
        problems.append(Problem(str(exc), file="form", field=field, value=text))
        return None
    if value is not None and field == "start_year":
        if value != int(value):
            problems.append(Problem("must be a year", file="form", field=field, value=text))
            return None
        return int(value)
    return value


def project_from_form(form: Mapping[str, str]) -> dict[str, Any]:
    """Return the project mapping written in the form's fields.

    Blank fields are left out (the review then names them as missing); a number not of
    the strict grammar raises InputError naming the field. The product's industry is
    the one ``efficiency_levels.csv`` gives it.
    """
    problems: list[Problem] = []
    project: dict[str, Any] = {}
    for name, (path, numeric) in FIELDS.items():
        text = str(form.get(name, "")).strip()
        if not text:
            continue
        value: Any = _number(text, name, problems) if numeric else text
        if value is None:
            continue
        target = project
        for key in path[:-1]:
            target = target.setdefault(key, {})
        target[path[-1]] = value
    industry = {code: ind for code, _, _, ind in products()}.get(project.get("product", ""))
    if industry:
        project["industry"] = industry
    energy = []
    for i in range(ENERGY_ROWS):
        row = {f: str(form.get(f"energy_{i}_{f}", "")).strip() for f in ENERGY_FIELDS}
        if not row["carrier"] and not row["quantity"]:
            continue
        quantity = _number(row["quantity"], f"energy[{i}].quantity", problems)
        energy.append({**{k: v for k, v in row.items() if v and k != "quantity"},
                       "quantity": quantity})
    if energy:
        project["energy"] = energy
    if problems:
        raise InputError(problems)
    return project


def form_from_project(project: Mapping[str, Any]) -> dict[str, str]:
    """Return the form's field values for a project mapping (for showing it again)."""
    out: dict[str, str] = {}
    for name, (path, _) in FIELDS.items():
        value: Any = project
        for key in path:
            value = value.get(key) if isinstance(value, Mapping) else None
        if value is not None:
            out[name] = f"{value:g}" if isinstance(value, float) else str(value)
    items = project.get("energy") if isinstance(project.get("energy"), list) else []
    for i, item in enumerate(items[:ENERGY_ROWS]):
        if isinstance(item, Mapping):
            for field in ENERGY_FIELDS:
                value = item.get(field)
                if value is not None:
                    out[f"energy_{i}_{field}"] = (f"{value:g}" if isinstance(value, float)
                                                  else str(value))
    return out


def project_from_file(content: bytes, file_name: str) -> dict[str, Any]:
    """Return the project mapping of an uploaded YAML or JSON project file.

    Raises InputError naming the file when it is not UTF-8, not YAML/JSON, or not a
    mapping.
    """
    suffix = "." + file_name.rsplit(".", 1)[-1].lower() if "." in file_name else ""
    if suffix not in PROJECT_SUFFIXES:
        raise InputError(Problem("unsupported project file type", file=file_name,
                                 value=suffix, accepted=list(PROJECT_SUFFIXES)))
    try:
        text = content.decode("utf-8-sig")
        data = json.loads(text) if suffix == ".json" else yaml.safe_load(text)
    except (UnicodeDecodeError, json.JSONDecodeError, yaml.YAMLError) as exc:
        raise InputError(Problem(f"not a readable project file: {exc}",
                                 file=file_name)) from None
    if not isinstance(data, dict):
        raise InputError(Problem("the project must be a mapping of fields", file=file_name))
    return data
