"""Wire dates: any ISO 8601 form in, each page's documented pattern out."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from reconcile.sandbox.dates import (
    format_bom_date,
    format_product_date,
    months_before,
    next_stamp,
    parse_instant,
    parse_range_end,
)

NOON = datetime(2024, 3, 1, 12, 0, tzinfo=UTC).timestamp()


class TestParse:
    @pytest.mark.parametrize(
        "text",
        [
            "2024-03-01T12:00:00Z",
            "2024-03-01T12:00:00.000Z",
            "2024-03-01T12:00:00.000+0000",
            "2024-03-01T13:00:00.000+0100",
            "2024-03-01T07:00:00-05:00",
            "2024-03-01T12:00:00",
        ],
    )
    def test_iso_8601_variants_parse_to_one_instant(self, text: str) -> None:
        """Z, ±hhmm, ±hh:mm, fractions and naive (UTC) forms are all understood."""
        assert parse_instant(text) == NOON

    @pytest.mark.parametrize("text", ["", "soon", "2024-02-30", "12:00", "2024-03-01T25:00:00Z"])
    def test_garbage_is_none(self, text: str) -> None:
        """Unparsable text gives None, never an exception."""
        assert parse_instant(text) is None

    def test_a_bare_end_date_covers_the_whole_day(self) -> None:
        """As the upper bound of a range, a date means the end of that day."""
        end = parse_range_end("2024-03-01")
        assert end is not None and NOON < end < NOON + 12 * 3600
        assert parse_range_end("2024-03-01T12:00:00Z") == NOON


class TestFormat:
    def test_products_have_milliseconds_and_a_colonless_offset(self) -> None:
        """Products: YYYY-MM-DDThh:mm:ss.sss+0000."""
        assert format_product_date(NOON + 0.123) == "2024-03-01T12:00:00.123+0000"

    def test_boms_have_seconds_and_z(self) -> None:
        """BOMs: YYYY-MM-DDThh:mm:ssZ."""
        assert format_bom_date(NOON + 0.9) == "2024-03-01T12:00:00Z"

    def test_formatting_round_trips(self) -> None:
        """What the emulator prints, it parses back to the same instant."""
        assert parse_instant(format_product_date(NOON + 0.5)) == NOON + 0.5


class TestStamps:
    def test_monotonic_stamps_always_advance(self) -> None:
        """A stamp within the resolution of the previous one is pushed past it."""
        first = next_stamp(NOON, None, 0.001, monotonic=True)
        second = next_stamp(NOON, first, 0.001, monotonic=True)
        assert format_product_date(second) > format_product_date(first)
        assert next_stamp(NOON, NOON, 1.0, monotonic=False) == NOON

    def test_six_months_before_clamps_to_month_end(self) -> None:
        """31 August minus six months is 28/29 February."""
        aug31 = datetime(2024, 8, 31, tzinfo=UTC).timestamp()
        assert months_before(aug31, 6) == datetime(2024, 2, 29, tzinfo=UTC).timestamp()
        jan = datetime(2024, 1, 15, tzinfo=UTC).timestamp()
        assert months_before(jan, 6) == datetime(2023, 7, 15, tzinfo=UTC).timestamp()
