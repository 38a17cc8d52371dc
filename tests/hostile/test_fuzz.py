"""Fuzzing the command line in-process (hypothesis): whatever URL, id, interval, query or
database URL a user types, the answer is exit 0 or a one-line error (1, or 2 for usage), never a
traceback or an internal error. And the SSRF guard refuses every internal address in every form."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archive.urls import InvalidURL
from crawler.netguard import PrivateNetworkRefused, check_public
from newsarchive.cli import main

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
NASTY = st.sampled_from(list("[]:@%./\\?#&=-_ \t\n\u202e\u200b\u00ad\x00é²٣") + ["..", "%2e", "xn--", "::", "0x7f"])
HOSTS = st.one_of(
    st.text(alphabet=st.characters(codec="utf-8"), max_size=30),
    st.lists(st.one_of(st.text("abcxyz0123-", min_size=0, max_size=70), NASTY), max_size=8).map("".join),
    st.ip_addresses().map(lambda ip: f"[{ip}]" if ip.version == 6 else str(ip)),
    st.integers(min_value=-1, max_value=2**40).map(str),
)
URLS = st.one_of(
    st.text(max_size=60),
    st.builds(lambda scheme, host, port, path: f"{scheme}{host}{port}{path}",
              st.sampled_from(["http://", "https://", "HTTP://", "ftp://", "file://", "data:", "//", ""]), HOSTS,
              st.one_of(st.just(""), st.integers(-5, 10**6).map(lambda p: f":{p}"),
                        st.text(max_size=6).map(":".__add__)),
              st.text(max_size=20).map("/".__add__)),
)
IDS = st.one_of(st.integers(-(2**70), 2**70).map(str), st.text(max_size=25), NASTY)
INTERVALS = st.one_of(st.text(max_size=12), st.builds(lambda n, u: f"{n}{u}", st.integers(-10, 10**25),
                                                       st.sampled_from(["", "s", "m", "h", "d", "w", "²"])))
QUERIES = st.lists(st.one_of(st.text(max_size=30), NASTY, st.sampled_from(['"', "OR", "-", "--", "-x"])), min_size=1,
                   max_size=6)


@pytest.fixture
def cli(capsys, sqlite_url, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # a fuzzed --db path lands here, nowhere else

    def run(*argv: str, db: str | None = sqlite_url) -> int:
        code = main(["--db", db, *argv] if db else list(argv))
        captured = capsys.readouterr()
        assert code in (0, 1, 2), (argv, code, captured.err)
        assert "Traceback" not in captured.err and "internal error" not in captured.err, (argv, captured.err)
        if code:
            assert len(captured.err.strip().splitlines()) == 1, (argv, captured.err)
        return code

    return run


@FUZZ
@given(url=URLS, every=st.one_of(st.none(), INTERVALS))
def test_sources_add_any_url_and_interval(cli, url, every):
    cli("sources", "add", url, *(["--every", every] if every is not None else []))


@FUZZ
@given(key=IDS, command=st.sampled_from([("show",), ("diff",), ("crawl",), ("sources", "enable"),
                                         ("sources", "disable"), ("sources", "remove")]))
def test_any_id_or_url_key(cli, key, command):
    cli(*command, key)


@FUZZ
@given(words=QUERIES, lang=st.one_of(st.none(), st.text(max_size=4)), since=st.one_of(st.none(), st.text(max_size=12)))
def test_search_any_query(cli, words, lang, since):
    options = [*(["--lang", lang] if lang is not None else []), *(["--since", since] if since is not None else [])]
    cli("search", *words, *options)


@FUZZ
@given(value=st.one_of(st.text(max_size=30), st.integers().map(str)),
       name=st.sampled_from(["CONCURRENT_REQUESTS", "DOWNLOAD_DELAY", "ROBOTSTXT_OBEY", "LOG_LEVEL", "ITEM_PIPELINES",
                             "NO_SUCH_SETTING", "", "=", "A B"]))
def test_crawl_any_setting(cli, name, value):
    cli("crawl", "https://nothing.example/none", "-s", f"{name}={value}")


@FUZZ
@given(url=st.one_of(
    st.text(max_size=40),
    st.builds(lambda scheme, rest: scheme + rest,
              st.sampled_from(["sqlite:///", "sqlite://", "sqlite:////", "postgresql://", "postgresql+psycopg://",
                               "mysql://", "oracle+x://", ""]),
              st.one_of(st.text(max_size=30), HOSTS)),
    st.builds(lambda q: f"postgresql+psycopg://u:pw@127.0.0.1:1/x?connect_timeout=1&{q}", st.text(max_size=20)),
))
def test_any_database_url(cli, url):
    cli("--db", url, "sources", "list", db=None)


def _forms(ip: ipaddress.IPv4Address) -> list[str]:
    mapped = ipaddress.IPv6Address(f"::ffff:{ip}")
    compatible = ipaddress.IPv6Address(int(ip))
    six_to_four = ipaddress.IPv6Address((0x2002 << 112) | (int(ip) << 80))
    nat64 = ipaddress.IPv6Address(int(ipaddress.IPv6Address("64:ff9b::")) | int(ip))
    return [f"http://{ip}/", f"http://{ip}./", f"http://{str(ip).replace('.', '%2e')}/", f"http://{ip}%2e:8080/",
            *(f"http://[{v6}]/" for v6 in (mapped, compatible, six_to_four, nat64))]


@settings(max_examples=300, deadline=None)
@given(ip=st.ip_addresses(v=4).filter(lambda ip: not ip.is_global or ip.is_multicast))
def test_every_form_of_an_internal_ipv4_address_is_refused(ip):
    for url in _forms(ip):
        with pytest.raises((PrivateNetworkRefused, InvalidURL)):
            check_public(url, allow_private=False)


@settings(max_examples=300, deadline=None)
@given(ip=st.ip_addresses(v=6).filter(lambda ip: not ip.is_global or ip.is_multicast))
def test_every_internal_ipv6_address_is_refused(ip):
    with pytest.raises(PrivateNetworkRefused):
        check_public(f"http://[{ip}]/", allow_private=False)


@settings(max_examples=300, deadline=None)
@given(url=URLS)
def test_the_guard_only_raises_its_own_errors(url):
    try:
        check_public(url, allow_private=False)
    except (PrivateNetworkRefused, InvalidURL):
        pass
