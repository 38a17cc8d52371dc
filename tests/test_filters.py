"""Filters as users type them: dates, ranges, the edges of the calendar (CLI and web share them)."""

from datetime import datetime, timezone

import pytest

from newsarchive.cli import main
from newsarchive.filters import FilterError, build_filters, parse_date


def test_dates_and_the_end_of_a_bare_day():
    assert parse_date("2024-09-01") == datetime(2024, 9, 1, tzinfo=timezone.utc)
    assert parse_date("2024-09-01", end=True) == datetime(2024, 9, 2, tzinfo=timezone.utc)
    assert parse_date("2024-09-01T10:00+02:00").astimezone(timezone.utc).hour == 8
    assert build_filters("www.a.test", None, None, "FR", True, True).include_duplicates is False


@pytest.mark.parametrize("value", ["hier", "2024-13-01", "9999-12-31", "0001-01-01T00:00+01:00", " "])
def test_bad_or_out_of_range_dates_are_filter_errors(value):
    with pytest.raises(FilterError):
        parse_date(value, end=True)


def test_an_empty_range_is_refused():
    with pytest.raises(FilterError, match="before"):
        build_filters(None, "2024-09-10", "2024-09-01", None, None, False)


def test_the_cli_says_so_in_one_line(sqlite_url, capsys):
    assert main(["--db", sqlite_url, "search", "train", "--until", "9999-12-31"]) == 1
    err = capsys.readouterr().err
    assert "date out of range" in err and "Traceback" not in err
