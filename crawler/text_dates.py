"""Publication and modification dates: page metadata, the URL path and the feed, cross-checked.

Explicit page metadata wins, unless it disagrees with a date in the URL path by more than
AGREEMENT and the feed agrees with the URL: then the page metadata is the odd one out. Dates in
the future are never chosen. Naive dates are taken as UTC. A date stamped in UTC is given the
page's own offset when its visible dateline shows the same instant in local time, so that its
day is the one the page's readers see.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, time, timedelta, timezone
from email.utils import parsedate_to_datetime

from dateutil import parser as dateutil_parser
from dateutil import tz as dateutil_tz
from htmldate import find_date
from lxml import etree
from lxml.html import HtmlElement

from crawler.text_meta import PageMeta, ld_value

AGREEMENT = timedelta(days=2)
_PUBLISHED_KEYS = (
    "article:published_time", "og:article:published_time", "datepublished", "og:published_time",
    "article.published", "parsely-pub-date", "sailthru.date", "pubdate", "publishdate",
    "publish-date", "dc.date.issued", "dcterms.created", "dc.date", "date",
)  # fmt: skip
_MODIFIED_KEYS = ("article:modified_time", "og:updated_time", "datemodified", "last-modified", "dcterms.modified")
_URL_DATE = re.compile(
    r"/((?:19|20)\d\d)[/\-_]?(0[1-9]|1[0-2])[/\-_]?(0[1-9]|[12]\d|3[01])(?:/|[\-_.]|$)"
    r"|/((?:19|20)\d\d)/([1-9]|1[0-2]|jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)/([1-9]|[12]\d|3[01])/",
    re.I,
)
_MONTHS = {m: i for i, m in enumerate("jan feb mar apr may jun jul aug sep oct nov dec".split(), 1)}
# RFC 2822 exactly, for the email parser, which reads nothing else right: it takes "PM" for a zone
# and drops "+05:30" or "CET" for UTC; everything else goes to dateutil
_RFC2822 = re.compile(r"(?:[A-Za-z]{3},\s*)?\d{1,2}\s+[A-Za-z]{3}\s+\d{2,4}\s+\d\d:\d\d(?::\d\d)?"
                      r"\s+(?:[+-]\d{4}|GMT|UTC?|Z|[ECMP][SD]T)")
_ZONES = {  # abbreviations seen in bylines ("Nov. 12, 2024 6:30 p.m. EST")
    name: offset * 3600
    for name, offset in (
        ("UTC", 0), ("GMT", 0), ("Z", 0), ("BST", 1), ("CET", 1), ("CEST", 2), ("MEZ", 1), ("MESZ", 2),
        ("EST", -5), ("EDT", -4), ("CST", -6), ("CDT", -5), ("MST", -7), ("MDT", -6), ("PST", -8), ("PDT", -7),
    )
}  # fmt: skip
# Region names without a fixed offset: their zone gives the offset of the date's season
_REGIONS = {"ET": "America/New_York", "CT": "America/Chicago", "MT": "America/Denver", "PT": "America/Los_Angeles",
            "UK": "Europe/London"}
# "GMT+2" on a page means two hours ahead of UTC; dateutil reads it the POSIX way, behind
_NAMED_OFFSET = re.compile(r"\b(?:GMT|UTC)\s*([+-])\s*(\d{1,2})(?::?(\d\d))?\b")
# a zone in brackets ("10:30 AM (UTC +5:30)", "18:40 (MEZ)"), which no parser reads inside them
_BRACKETED_ZONE = re.compile(r"\(\s*((?:GMT|UTC)?\s*[+-]\s*\d{1,2}(?::?\d\d)?|[A-Z]{1,5})\s*\)")
_EARLIEST = datetime(1995, 1, 1, tzinfo=UTC)
_WIDEST_OFFSET = timedelta(hours=14)  # UTC-12 .. UTC+14
_TIME_ELEMENTS = etree.XPath("//time[@datetime]")
ZONED_TIMES_READ = 3  # the first <time> elements read for the page's UTC offset
# <time>, itemprop=datePublished, or a class that says date, published or timestamp. Tested on the
# attribute axis (//@class[...]/..): libxml2 then tests the attributes that exist instead of every
# element of the page, twice as fast
_DATELINE = etree.XPath('//time | //@itemprop[. = "datePublished"]/.. | //@class[contains(., "date")'
                        ' or contains(., "published") or contains(., "timestamp")]/..')
DATELINE_NODES = 8
_TIME_OF_DAY = re.compile(r"\b(?:[01]?\d|2[0-3])\s?[:h.]\s?[0-5]\d\b")  # 22:04, 18h40, 7.04
_DOTTED_DATE = re.compile(r"\b\d{1,2}\.\d{1,2}\.\d{2,4}\b")  # 07.03.2024: day first wherever written
_NO_DEFAULT = datetime(1, 1, 1)
_DATELINE_LABEL = re.compile(
    r"^(?:publié|mis en ligne|posted|published|veröffentlicht|publicado|pubblicato|le|am|on|el|il)\b"
    r"\s*(?:le|am|on|el|il)?\s*:?\s*",
    re.I)


def _zone(name: str | None, offset: int | None):
    """dateutil's tzinfos: the zone of an abbreviation we know, else the offset as written, else
    none (the date is then taken as UTC). Never the machine's own zone, which dateutil would pick
    for a name in time.tzname, and no warning for a name nobody defined ("TU", "AM")."""
    if name in _ZONES:
        return _ZONES[name]
    if name in _REGIONS:
        return dateutil_tz.gettz(_REGIONS[name])
    return timezone(timedelta(seconds=offset)) if offset is not None else None


def _plain_offset(match: re.Match) -> str:
    sign, hours, minutes = match.groups()
    return f"{sign}{int(hours):02d}:{minutes or '00'}"


def parse_date(raw: str | None, language: str | None = None) -> datetime | None:
    """A timezone-aware datetime from an ISO 8601, RFC 2822 or plain date string; with the
    page's language, also from a date written in words ("12 novembre 2024 à 18h40") by
    dateparser. A value without an offset is taken as UTC as written (its day never moves)."""
    if not raw or not isinstance(raw, str):
        return None
    raw = raw.strip()
    value = None
    try:
        value = datetime.fromisoformat(raw.replace(" ", "T", 1) if re.match(r"\d{4}-\d\d-\d\d \d", raw) else raw)
    except ValueError:
        # before any parser: the email parser would take "UTC+05:30" as UTC, dateutil "GMT+2" as behind
        raw = _NAMED_OFFSET.sub(_plain_offset, _BRACKETED_ZONE.sub(r"\1", raw))
        try:
            value = parsedate_to_datetime(raw) if _RFC2822.fullmatch(raw) else None
        except (TypeError, ValueError, IndexError):
            value = None
        if value is None and re.search(r"\d{4}", raw) and len(raw) < 60:
            # 07/03/2024 is 7 March but for English (US) pages; 07.03.2024 is 7 March anywhere
            dayfirst = bool(_DOTTED_DATE.search(raw)) or (bool(language) and language != "en")
            try:
                # a missing year is not taken from today ("Apr 042013" read as this April at
                # 04:20:13): it stays year 1, which falls before _EARLIEST
                value = dateutil_parser.parse(raw, tzinfos=_zone,
                                              dayfirst=dayfirst, default=_NO_DEFAULT)
            except (ValueError, OverflowError, TypeError):
                value = None
        if value is None and language and len(raw) < 80 and re.search(r"\d", raw):
            value = _in_words(raw, language)
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value if value >= _EARLIEST else None


def load_all_date_locales() -> None:
    """Load every language's dateparser tables (about 2 s): asked about a string that is no date
    and given no language, dateparser tries, and so loads, each of its locales. See
    crawler/date_locales_warmup.py."""
    import dateparser

    dateparser.parse("qqzx 31 xkvw 2099 zzqq")


def _in_words(raw: str, language: str) -> datetime | None:
    import dateparser  # imported on first use: it takes half a second to load

    try:
        # absolute dates only: "15 Min" (a reading time) is not a quarter of an hour ago
        return dateparser.parse(raw, languages=[language], settings={
            "PREFER_DATES_FROM": "past", "REQUIRE_PARTS": ["day", "month", "year"],
            "PARSERS": ["custom-formats", "absolute-time"]})
    except (ValueError, TypeError, OverflowError, KeyError):
        return None


def dateline_dates(tree: HtmlElement, language: str | None, *, timed: bool = False) -> Iterator[datetime]:
    """The dates of the page's visible datelines (a <time> without machine value, an element
    whose class or itemprop says date), read in the page's language, first on the page first;
    with ``timed``, only those that show a time of day (the others are not parsed at all)."""
    for node in _DATELINE(tree)[:DATELINE_NODES]:
        text = " ".join(node.text_content().split())
        if 6 <= len(text) <= 80 and (not timed or _TIME_OF_DAY.search(text)):
            found = parse_date(_DATELINE_LABEL.sub("", text), language)
            if found is not None:
                yield found


def zoned_time_elements(tree: HtmlElement) -> Iterator[datetime]:
    """The machine values of the page's first <time> elements that carry their UTC offset
    (``datetime="2022-04-21T22:04:54-06:00"``): the page's own zone, said outright."""
    for node in _TIME_ELEMENTS(tree)[:ZONED_TIMES_READ]:
        found = parse_date(node.get("datetime"))
        if found is not None and found.utcoffset():
            yield found


def dateline_date(tree: HtmlElement, language: str | None) -> datetime | None:
    """The first visible dateline's date: the fallback when the page's metadata gives none."""
    return next(dateline_dates(tree, language), None)


def in_page_offset(instant: datetime, shown: Iterable[datetime]) -> datetime:
    """``instant`` (stamped in UTC) re-expressed in the page's own UTC offset: the same instant,
    on the day the page's readers see. The offset is read off the first dateline in ``shown``
    that tells it: one written with a zone ("7:04 pm PST") near the instant, or one whose
    wall-clock time is the instant shifted by whole quarter hours, within a minute (datelines
    drop the seconds). Unchanged when none does, and for a midnight: a day ("2019-11-19"), not
    a moment."""
    if instant.utcoffset() != timedelta(0) or instant.time() == time(0):
        return instant
    for candidate in shown:
        written = candidate.utcoffset()  # "UTC" written, or no zone at all (taken as UTC): 0
        if written and _close(candidate, instant):
            return instant.astimezone(timezone(written))
        if written or (candidate.hour, candidate.minute) == (0, 0):
            continue  # a zone not near the instant, or no time of day to compare
        shift = candidate.replace(tzinfo=None) - instant.replace(tzinfo=None)
        offset = timedelta(minutes=15 * round(shift / timedelta(minutes=15)))
        if offset and abs(offset) <= _WIDEST_OFFSET and abs(shift - offset) <= timedelta(minutes=1):
            return instant.astimezone(timezone(offset))
    return instant


def url_date(url: str) -> datetime | None:
    match = _URL_DATE.search(url)
    if not match:
        return None
    y, m, d = (g for g in match.groups() if g)
    try:
        return datetime(int(y), _MONTHS.get(m.lower()) or int(m), int(d), tzinfo=UTC)
    except ValueError:
        return None


def page_dates(page: PageMeta, tree: HtmlElement) -> tuple[list[datetime], list[datetime]]:
    """Candidate (published, modified) dates from JSON-LD, meta tags and <time> elements."""
    published = [parse_date(_str(ld_value(page, "datePublished"))), parse_date(_str(ld_value(page, "dateCreated")))]
    published += [parse_date(page.metas.get(key)) for key in _PUBLISHED_KEYS]
    modified = [parse_date(_str(ld_value(page, "dateModified")))]
    modified += [parse_date(page.metas.get(key)) for key in _MODIFIED_KEYS]
    if not any(published):
        for node in tree.xpath('//time[@datetime][position() <= 3] | //*[@itemprop="datePublished"][@datetime]'):
            published.append(parse_date(node.get("datetime")))
            if published[-1]:
                break
    return [d for d in published if d], [d for d in modified if d]


def guess_date(tree: HtmlElement, url: str, *, extensive: bool = False) -> datetime | None:
    """Last resort when the page, the URL and the feed give no date: htmldate's heuristics
    (bylines, date-like elements; with ``extensive``, also dates in the page's text, as
    trafilatura does)."""
    found = find_date(tree, url=url, extensive_search=extensive, original_date=True)
    return parse_date(found) if found else None


def _str(value: object) -> str | None:
    if isinstance(value, list):
        value = value[0] if value else None
    return value if isinstance(value, str) else None


def _close(a: datetime, b: datetime) -> bool:
    return abs(a - b) <= AGREEMENT


def choose_dates(
    published: list[datetime],
    modified: list[datetime],
    url: str,
    feed_date: datetime | None,
    now: datetime | None = None,
) -> tuple[datetime | None, datetime | None]:
    """(published, updated), cross-checked; neither in the future."""
    now = now or datetime.now(UTC)
    if feed_date is not None and feed_date.tzinfo is None:
        feed_date = feed_date.replace(tzinfo=UTC)
    in_past = lambda d: d is not None and _EARLIEST <= d <= now  # noqa: E731
    page = next((d for d in published if in_past(d)), None)
    from_url = url_date(url)
    from_url = from_url if in_past(from_url) else None
    feed = feed_date if in_past(feed_date) else None

    chosen: datetime | None
    if page is not None:
        chosen = page
        # the URL date is a day at midnight: compare with a day of slack
        if from_url and not _close(page, from_url) and feed and _close(feed, from_url + timedelta(hours=12)):
            chosen = feed
    elif feed is not None:
        chosen = feed if from_url is None or _close(feed, from_url + timedelta(hours=12)) else from_url
    else:
        chosen = from_url

    updated = next((d for d in modified if in_past(d)), None)
    if updated is not None and chosen is not None and updated < chosen:
        updated = None
    return chosen, updated
