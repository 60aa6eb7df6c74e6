"""The documented field constraints shared by models (SKU, client id, plain text, dates)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, ConfigDict, Field

#: Closed models: a typo in a field name is an error, not a silently ignored key.
CLOSED = ConfigDict(strict=True, extra="forbid", frozen=True)
#: Open models keep keys PB documents but we could not read (details, options).
OPEN = ConfigDict(strict=True, extra="allow", frozen=True)

#: Characters a reviewer could not see for what they are: control characters (Unicode
#: category Cc) and the bidi embeddings, overrides and isolates (U+202A-E, U+2066-9).
_HIDDEN = r"\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069"
#: The same rule as a JSON Schema pattern (ECMA-262 escapes, no look-around).
PLAIN_TEXT_PATTERN = f"^[^{_HIDDEN}]*$"
#: A SKU is one segment of PB's URLs (`/products/{sku}`): no `/` either.
SKU_PATTERN = f"^[^/{_HIDDEN}]*$"
_HIDDEN_CHAR = re.compile(f"[{_HIDDEN}]")


def _no_hidden(value: str) -> str:
    found = _HIDDEN_CHAR.search(value)
    if found:
        code = f"U+{ord(found.group()):04X}"
        kind = "a control character" if ord(found.group()) < 0x202A else "a bidi override"
        raise ValueError(
            f"contains {kind} ({code}) at position {found.start() + 1}; reviewers "
            "would not see it in a plan, so remove it"
        )
    return value


def _sku_segment(value: str) -> str:
    _no_hidden(value)
    if "/" in value:
        raise ValueError(f"{value!r} contains '/'; a SKU is part of PB's URLs, so it cannot")
    if value in (".", ".."):
        raise ValueError(f"{value!r} is not a usable SKU: URLs read it as a directory step")
    return value


#: A string shown to reviewers (in plans and messages): no hidden characters.
PlainText = Annotated[
    str,
    AfterValidator(_no_hidden),
    Field(
        json_schema_extra={"pattern": PLAIN_TEXT_PATTERN},
        description="no control characters or bidi overrides",
    ),
]
Sku = Annotated[
    str,
    Field(min_length=1, max_length=30),
    AfterValidator(_sku_segment),
    Field(
        json_schema_extra={"pattern": SKU_PATTERN, "not": {"enum": [".", ".."]}},
        description="SKU, at most 30 characters; no '/', not '.' or '..', "
        "no control characters or bidi overrides",
    ),
]
ClientId = Annotated[
    str,
    Field(min_length=1),
    AfterValidator(_no_hidden),
    Field(
        json_schema_extra={"pattern": PLAIN_TEXT_PATTERN},
        description="PB-assigned client id (no control characters or bidi overrides)",
    ),
]


#: ISO 8601 date-time with seconds and a UTC offset; PB's pages document two spellings.
#: Months, days (per month, 29 in February), hours, minutes and offsets are ranged here so
#: that the JSON Schema (which reuses this pattern) refuses what ``fromisoformat`` refuses;
#: only February 29 of a year that is not a leap year is left to the validator.
DATE_TIME_PATTERN = (
    r"^(?!0000)[0-9]{4}-(?:(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])"
    r"|(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)|02-(?:0[1-9]|1[0-9]|2[0-9]))"
    r"T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\.[0-9]+)?"
    r"(?:Z|[+-](?:[01][0-9]|2[0-3]):?[0-5][0-9])$"
)
_DATE_TIME = re.compile(DATE_TIME_PATTERN)


def _date_time(documented: str, example: str) -> Callable[[str], str]:
    def check(value: str) -> str:
        if _DATE_TIME.match(value):
            try:
                datetime.fromisoformat(value)
                return value
            except ValueError:
                pass
        raise ValueError(
            f"{value!r} is not an ISO 8601 date-time with a UTC offset; write it as "
            f"{documented}, e.g. '{example}'"
        )

    return check


_DATE_TIME_SCHEMA = {"pattern": DATE_TIME_PATTERN}
#: Products' dates: PB documents YYYY-MM-DDThh:mm:ss.sss±hhmm.
ProductDate = Annotated[
    str,
    AfterValidator(_date_time("YYYY-MM-DDThh:mm:ss.sss±hhmm", "2026-01-31T09:30:00.000+0000")),
    Field(json_schema_extra=_DATE_TIME_SCHEMA),
]
#: BOMs' dates: PB documents YYYY-MM-DDThh:mm:ssZ.
BomDate = Annotated[
    str,
    AfterValidator(_date_time("YYYY-MM-DDThh:mm:ssZ", "2026-01-31T09:30:00Z")),
    Field(json_schema_extra=_DATE_TIME_SCHEMA),
]
