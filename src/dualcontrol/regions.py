"""Administrative divisions of Inner Mongolia (GB/T 2260) and enterprise codes (GB 32100).

The region hierarchy is data (``data/regions.csv``): the autonomous region, its 12
leagues and cities (盟市) and their 103 banners, counties and districts (旗县区), each
with its six-digit administrative division code. Enterprises are identified by the
18-character unified social credit code (统一社会信用代码), whose last character is a
check character computed as in GB 32100-2015.
"""

from __future__ import annotations

import logging
from functools import cache

import pandas as pd

from dualcontrol.errors import InputError, Problem
from dualcontrol.reference import HOME_REGION, load_table

logger = logging.getLogger(__name__)

#: The code character set of GB 32100-2015 (digits and capitals without I, O, S, V, Z).
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"

#: Weights W_i = 3^(i-1) mod 31 of the 17 leading characters (GB 32100-2015, 5.1).
USCC_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))

#: Code of the autonomous region (one definition: :data:`dualcontrol.reference.HOME_REGION`).
REGION_CODE = HOME_REGION


@cache
def regions() -> pd.DataFrame:
    """Return the region hierarchy: code, names, level, parent and league of each division.

    References
    ----------
    GB/T 2260 Codes for the administrative divisions of the People's Republic of China;
    Ministry of Civil Affairs list of county-level and higher divisions.
    """
    frame = load_table("regions").copy()
    return frame


def leagues() -> pd.DataFrame:
    """Return the 12 leagues and cities (盟市) of Inner Mongolia."""
    frame = regions()
    return frame[frame["level"] == "league"].reset_index(drop=True)


def counties() -> pd.DataFrame:
    """Return the banners, counties and districts (旗县区) with their league codes."""
    frame = regions()
    return frame[frame["level"] == "county"].reset_index(drop=True)


@cache
def _by_code() -> dict[str, dict[str, str]]:
    return {row["code"]: row for row in regions().to_dict("records")}


def region(code: str) -> dict[str, str]:
    """Return the row of the division with administrative code ``code``.

    Raises
    ------
    InputError
        If the code is not one of Inner Mongolia's divisions.
    """
    found = _by_code().get(str(code).strip())
    if found is None:
        raise InputError(Problem("unknown administrative division code (GB/T 2260)",
                                 field="region_code", value=code,
                                 accepted=[f"{c} ({r['name_zh']})"
                                           for c, r in _by_code().items()]))
    return found


def resolve_region(name_or_code: str) -> dict[str, str]:
    """Return the division named by its code, Chinese name or English name."""
    text = str(name_or_code).strip()
    if text in _by_code():
        return _by_code()[text]
    for row in _by_code().values():
        if text in (row["name_zh"], row["name_en"]) or text.lower() == row["name_en"].lower():
            return row
    return region(text)  # raises with the accepted list


def uscc_check_character(first17: str) -> str:
    """Return the check character of a unified social credit code's first 17 characters.

    The check character is C18 = 31 - (sum_i C_i * W_i mod 31), with W_i = 3^(i-1) mod
    31 and characters valued by their position in the code alphabet; a result of 31
    is written as '0'.

    References
    ----------
    GB 32100-2015 Coding rule of the unified social credit identifier for legal
    entities and other organizations, clause 5 and Appendix B.
    """
    if len(first17) != 17:
        raise ValueError("a unified social credit code has 17 characters before the check")
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(first17, USCC_WEIGHTS,
                                                               strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def uscc_problem(code: str) -> str | None:
    """Return why ``code`` is not a valid unified social credit code, or None if it is.

    References
    ----------
    GB 32100-2015, clauses 4 (structure: registration authority, organisation
    category, six-digit division code of the registering office, nine-character
    organisation code, check character) and 5 (check character).
    """
    text = str(code).strip().upper()
    if len(text) != 18:
        return f"a unified social credit code has 18 characters, this one {len(text)}"
    bad = sorted({c for c in text if c not in USCC_ALPHABET})
    if bad:
        return (f"characters {', '.join(bad)} are not used in unified social credit codes "
                f"(GB 32100-2015 excludes I, O, S, V, Z)")
    if not text[2:8].isdigit():
        return "characters 3-8 must be the six-digit administrative division code"
    expected = uscc_check_character(text[:17])
    if text[17] != expected:
        return f"wrong check character '{text[17]}' (GB 32100-2015 gives '{expected}')"
    return None


def is_valid_uscc(code: str) -> bool:
    """Return True if ``code`` is a well-formed USCC with the right check character."""
    return uscc_problem(code) is None


def uscc_in_region(code: str, county_code: str) -> bool:
    """Return True if the code's registering office covers the given county.

    The registering office (characters 3-8) must be the county itself, its league or
    city, or the autonomous region.
    """
    office = str(code).strip().upper()[2:8]
    county = str(county_code)
    return office in (county, county[:4] + "00", REGION_CODE)


def make_uscc(office_code: str, serial: int, *, authority: str = "9",
              category: str = "1") -> str:
    """Return a valid USCC for a registering office and serial number (for test data).

    The nine-character organisation code part gets its own check digit per
    GB 11714-1997 so the code is well formed throughout.
    """
    body = f"{serial:08d}"[-8:]
    weights = (3, 7, 9, 10, 5, 8, 4, 2)
    check = 11 - sum(int(c) * w for c, w in zip(body, weights, strict=True)) % 11
    org = body + ("X" if check == 10 else "0" if check == 11 else str(check))
    first17 = f"{authority}{category}{office_code}{org}"
    return first17 + uscc_check_character(first17)
