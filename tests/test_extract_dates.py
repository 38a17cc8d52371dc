"""Dates: page metadata, URL path and feed date cross-checked; never in the future."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from crawler.extract import extract
from crawler.text_dates import choose_dates, parse_date, url_date

PARAGRAPH = (
    "<p>The city council voted on Tuesday to approve a new housing plan that will add thousands of affordable "
    "homes over the next decade, after months of debate between the mayor and the opposition.</p>"
)


def page(head: str = "", body: str = "") -> str:
    return f"<html><head><title>Plan</title>{head}</head><body><article>{body}{PARAGRAPH * 3}</article></body></html>"


def meta(prop: str, value: str) -> str:
    return f'<meta property="{prop}" content="{value}">'


def test_article_published_time_with_offset():
    a = extract(page(meta("article:published_time", "2024-11-12T18:30:00+01:00")), "https://example.com/a")
    assert a.published == datetime(2024, 11, 12, 17, 30, tzinfo=UTC)
    assert a.published.utcoffset() == timedelta(hours=1)


def test_naive_date_is_utc():
    a = extract(page(meta("article:published_time", "2024-11-12 18:30:00")), "https://example.com/a")
    assert a.published == datetime(2024, 11, 12, 18, 30, tzinfo=UTC) and a.published.tzinfo is not None


def test_json_ld_dates_and_updated():
    ld = ('<script type="application/ld+json">{"@type":"NewsArticle","datePublished":"2024-03-01T08:00:00Z",'
          '"dateModified":"2024-03-02T10:00:00Z"}</script>')
    a = extract(page(ld), "https://example.com/a")
    assert a.published == datetime(2024, 3, 1, 8, tzinfo=UTC)
    assert a.updated == datetime(2024, 3, 2, 10, tzinfo=UTC)


def test_time_element_when_no_meta():
    a = extract(page(body='<time datetime="2023-05-04T12:00:00Z">4 May</time>'), "https://example.com/a")
    assert a.published == datetime(2023, 5, 4, 12, tzinfo=UTC)


def test_url_date_when_nothing_else():
    assert extract(page(), "https://example.com/2024/11/12/plan/").published == datetime(2024, 11, 12, tzinfo=UTC)


def test_page_date_wrong_feed_agrees_with_url():
    head = meta("article:published_time", "2019-01-01T00:00:00Z")  # a template date
    feed = datetime(2024, 11, 12, 9, 45, tzinfo=UTC)
    a = extract(page(head), "https://example.com/2024/11/12/plan/", feed_date=feed)
    assert a.published == feed


def test_page_date_preferred_when_feed_does_not_confirm_url():
    head = meta("article:published_time", "2024-11-20T10:00:00Z")
    feed = datetime(2024, 11, 20, 10, 5, tzinfo=UTC)
    a = extract(page(head), "https://example.com/2024/11/12/plan/", feed_date=feed)
    assert a.published == datetime(2024, 11, 20, 10, tzinfo=UTC)


def test_page_date_preferred_over_close_feed_date():
    head = meta("article:published_time", "2024-11-12T06:00:00Z")
    a = extract(page(head), "https://example.com/a", feed_date=datetime(2024, 11, 12, 9, tzinfo=UTC))
    assert a.published == datetime(2024, 11, 12, 6, tzinfo=UTC)


def test_future_page_date_is_never_chosen():
    future = (datetime.now(UTC) + timedelta(days=30)).isoformat()
    feed = datetime(2024, 1, 5, tzinfo=UTC)
    a = extract(page(meta("article:published_time", future)), "https://example.com/a", feed_date=feed)
    assert a.published == feed
    b = extract(page(meta("article:published_time", future)), "https://example.com/a")
    assert b.published is None


def test_future_feed_and_url_dates_are_ignored():
    nxt = datetime.now(UTC).year + 1
    published, _ = choose_dates([], [], f"https://example.com/{nxt}/01/02/x", datetime(nxt, 1, 2, tzinfo=UTC))
    assert published is None


def test_naive_feed_date_is_utc():
    a = extract(page(), "https://example.com/a", feed_date=datetime(2024, 2, 3, 4, 5))
    assert a.published == datetime(2024, 2, 3, 4, 5, tzinfo=UTC)


def test_updated_before_published_is_dropped():
    published, updated = choose_dates(
        [datetime(2024, 5, 2, tzinfo=UTC)], [datetime(2024, 5, 1, tzinfo=UTC)], "https://example.com/a", None
    )
    assert published == datetime(2024, 5, 2, tzinfo=UTC) and updated is None


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://example.com/2024/11/12/slug/", datetime(2024, 11, 12, tzinfo=UTC)),
        ("https://example.com/news/2024-11-12-slug", datetime(2024, 11, 12, tzinfo=UTC)),
        ("https://example.com/20241112/slug.html", datetime(2024, 11, 12, tzinfo=UTC)),
        ("https://example.com/2024/1/5/slug", datetime(2024, 1, 5, tzinfo=UTC)),
        ("https://example.com/news/2019/nov/18/slug/", datetime(2019, 11, 18, tzinfo=UTC)),
        ("https://example.com/2024/13/45/slug", None),
        ("https://example.com/article/123456789", None),
    ],
)
def test_url_date(url, expected):
    assert url_date(url) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2024-11-12T18:30:00Z", datetime(2024, 11, 12, 18, 30, tzinfo=UTC)),
        ("Tue, 12 Nov 2024 18:30:00 +0100", datetime(2024, 11, 12, 18, 30, tzinfo=timezone(timedelta(hours=1)))),
        ("2024-11-12", datetime(2024, 11, 12, tzinfo=UTC)),
        ("November 12, 2024 6:30 pm", datetime(2024, 11, 12, 18, 30, tzinfo=UTC)),
        ("not a date", None),
        ("", None),
    ],
)
def test_parse_date(raw, expected):
    assert parse_date(raw) == expected


@pytest.mark.parametrize(
    ("raw", "language", "expected"),
    [
        # a year the text does not give is not taken from today
        ("Apr 042013", "de", None),
        ("Published April 12, 10:30", "en", None),
        # reading times and other durations are no dates ("15 Min" is not a quarter of an hour ago)
        ("15 Min", "de", None),
        ("15 – 30 Min", "de", None),
        ("il y a 3 heures", "fr", None),
        # dotted numeric dates are day first, also on a page that gives no language
        ("02.11.2021", None, datetime(2021, 11, 2, tzinfo=UTC)),
        ("02.11.2021", "en", datetime(2021, 11, 2, tzinfo=UTC)),
        ("12.10.2015, 19:16 Uhr", "de", datetime(2015, 10, 12, 19, 16, tzinfo=UTC)),
        ("07/03/2024", None, datetime(2024, 7, 3, tzinfo=UTC)),  # slashes without a language: as dateutil reads them
    ],
)
def test_parse_date_invents_no_part_of_a_date(raw, language, expected):
    assert parse_date(raw, language) == expected


def test_byline_date_as_last_resort():
    body = '<p class="byline">By Ann Lee</p><p class="date">Published November 18, 2019</p>'
    assert extract(page(body=body), "https://example.com/a").published.date() == datetime(2019, 11, 18).date()


def test_byline_date_not_used_when_feed_gives_one():
    body = '<p class="date">Published November 18, 2019</p>'
    feed = datetime(2019, 11, 19, 7, tzinfo=UTC)
    assert extract(page(body=body), "https://example.com/a", feed_date=feed).published == feed


def _hours(n: float) -> timezone:
    return timezone(timedelta(hours=n))


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # an offset written after GMT or UTC is ahead of UTC when positive, as readers mean it
        ("Nov 12, 2024 10:00 GMT+2", datetime(2024, 11, 12, 10, tzinfo=_hours(2))),
        ("Nov 12, 2024 10:00 UTC-05:00", datetime(2024, 11, 12, 10, tzinfo=_hours(-5))),
        # region names take their zone's offset in the date's season
        ("Nov. 12, 2024 6:30 p.m. ET", datetime(2024, 11, 12, 23, 30, tzinfo=UTC)),
        ("July 3, 2024 10:00 UK", datetime(2024, 7, 3, 9, tzinfo=UTC)),
        ("12 Nov 2024 10:00 EST", datetime(2024, 11, 12, 15, tzinfo=UTC)),
        # a name nobody defined: the time as written, in UTC
        ("March 3, 2024 10:00 XYZT", datetime(2024, 3, 3, 10, tzinfo=UTC)),
        # a date that starts like an email's but is not one: its PM and its zone are read too
        ("12 Nov 2024 10:30 PM", datetime(2024, 11, 12, 22, 30, tzinfo=UTC)),
        ("12 Nov 2024 10:30 PM CET", datetime(2024, 11, 12, 22, 30, tzinfo=_hours(1))),
        ("12 Nov 2024 10:30 UTC+05:30", datetime(2024, 11, 12, 10, 30, tzinfo=_hours(5.5))),
        ("Tue, 12 Nov 2024 10:30:00 +0530", datetime(2024, 11, 12, 10, 30, tzinfo=_hours(5.5))),
        # a zone in brackets
        ("12 Nov 2024, 10:30 AM (UTC +5:30)", datetime(2024, 11, 12, 10, 30, tzinfo=_hours(5.5))),
        ("12.11.2024 18:40 (MEZ)", datetime(2024, 11, 12, 18, 40, tzinfo=_hours(1))),
    ],
)
def test_parse_date_zones(raw, expected):
    assert parse_date(raw) == expected


def test_unknown_zone_name_warns_nothing_and_ignores_the_machines_zone(monkeypatch):
    import time
    import warnings

    monkeypatch.setenv("TZ", "NZST-12")  # a machine whose own zone is named NZST
    time.tzset()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            parsed = parse_date("March 3, 2024 10:00 NZST")
    finally:
        monkeypatch.undo()
        time.tzset()
    assert parsed == datetime(2024, 3, 3, 10, tzinfo=UTC)
