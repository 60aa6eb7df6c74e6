"""Dates on the wire: parse any ISO 8601 form, emit each page's documented pattern."""

from __future__ import annotations

import functools
import math
import re
from datetime import UTC, date, datetime, timedelta

_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# Python 3.11 parses "+hh:mm" and "Z"; PB's products pages write "+hhmm" (no colon).
_BASIC_OFFSET = re.compile(r"([+-])(\d{2})(\d{2})$")


@functools.lru_cache(maxsize=65536)  # the same stamps are rendered again on every read
def format_product_date(ts: float) -> str:
    """``YYYY-MM-DDThh:mm:ss.sss±hhmm`` in UTC (contract §5)."""
    seconds, millis = divmod(math.floor(ts * 1000 + 0.01), 1000)
    moment = datetime.fromtimestamp(seconds, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{millis:03d}+0000"


@functools.lru_cache(maxsize=65536)
def format_bom_date(ts: float) -> str:
    """``YYYY-MM-DDThh:mm:ssZ`` in UTC (contract §7.1)."""
    return datetime.fromtimestamp(math.floor(ts + 1e-5), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def next_stamp(now: float, previous: float | None, resolution: float, monotonic: bool) -> float:
    """``now`` truncated to the output resolution; after ``previous`` when monotonic."""
    stamp = math.floor(now / resolution + 0.01) * resolution
    if monotonic and previous is not None and stamp < previous + resolution:
        return previous + resolution
    return stamp


def parse_instant(text: str) -> float | None:
    """Epoch seconds of an ISO 8601 date or date-time (naive = UTC); None if unparsable."""
    moment = _parse(text)
    return None if moment is None else moment.timestamp()


def parse_range_end(text: str) -> float | None:
    """Like parse_instant, but a bare date means the end of that day (inclusive range)."""
    moment = _parse(text)
    if moment is None:
        return None
    if _DATE_ONLY.match(text.strip()):
        return (moment + timedelta(days=1)).timestamp() - 1e-6
    return moment.timestamp()


def months_before(ts: float, months: int) -> float:
    """The instant ``months`` calendar months before ``ts`` (day clamped to month end)."""
    moment = datetime.fromtimestamp(ts, UTC)
    total = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(total, 12)
    day = min(moment.day, _days_in_month(year, month + 1))
    return moment.replace(year=year, month=month + 1, day=day).timestamp()


def _days_in_month(year: int, month: int) -> int:
    nxt = date(year + (month == 12), month % 12 + 1, 1)
    return (nxt - timedelta(days=1)).day


def _parse(text: str) -> datetime | None:
    if not isinstance(text, str) or not text.strip():
        return None
    cleaned = _BASIC_OFFSET.sub(r"\1\2:\3", text.strip()) if "T" in text else text.strip()
    try:
        moment = datetime.fromisoformat(cleaned)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
