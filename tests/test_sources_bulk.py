"""Registering many sources: `sources add URL...`, `sources import FILE.opml`, `sources export`."""

from __future__ import annotations

import json
import re
import threading
import xml.etree.ElementTree as ElementTree

import listparser

from crawler import netguard
from newsarchive.cli import main

NESTED = b"""<?xml version="1.0" encoding="UTF-8"?>
<opml version="1.0">
  <head><title>Mes abonnements</title></head>
  <body>
    <outline text="Actualit\xc3\xa9s">
      <outline text="France" title="France">
        <outline type="rss" text="Le Journal" xmlUrl="https://journal.example/rss.xml" htmlUrl="https://journal.example/"/>
        <outline type="rss" text="Vu d'ailleurs" xmlUrl="https://www.vudailleurs.com/feed/?a=1&amp;b=2"/>
      </outline>
      <outline type="rss" text="Doublon" xmlUrl="https://journal.example/rss.xml"/>
    </outline>
    <outline text="Tech" xmlurl="https://tech.example/atom"/>
    <outline text="Un site sans flux" htmlUrl="https://pas-de-flux.example/"/>
    <outline type="include" text="Autre liste" url="https://listes.example/autre.opml"/>
  </body>
</opml>
"""
FEEDS = ["https://journal.example/rss.xml", "https://www.vudailleurs.com/feed/?a=1&b=2", "https://tech.example/atom"]


def registered(capsys, db_url) -> dict[str, str]:
    capsys.readouterr()
    assert main(["--db", db_url, "sources", "list", "--json"]) == 0
    return {row["url"]: row["every"] for row in json.loads(capsys.readouterr().out)}


def test_add_many_urls_in_one_call(capsys, sqlite_url):
    urls = [f"https://feeds.example/{n}.xml" for n in range(5)]
    assert main(["--db", sqlite_url, "sources", "add", *urls, urls[0], "--every", "2h"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == [f"added feed {url} every 2h" for url in urls]  # a URL given twice is registered once
    assert main(["--db", sqlite_url, "sources", "add", urls[0], "https://feeds.example/new.xml"]) == 0
    assert capsys.readouterr().out.splitlines() == [f"updated feed {urls[0]} every 2h",
                                                    "added feed https://feeds.example/new.xml every 30m"]
    assert len(registered(capsys, sqlite_url)) == 6


def test_refused_urls_are_named_and_the_others_registered(capsys, sqlite_url, monkeypatch):
    monkeypatch.delenv("NEWSARCHIVE_ALLOW_PRIVATE_NETWORKS")
    urls = ["https://93.184.216.34/feed", "not a url", "http://127.0.0.1:8000/feed", "https://nowhere.invalid/rss",
            "https://[2606:2800:220:1:248:1893:25c8:1946]/atom"]
    assert main(["--db", sqlite_url, "sources", "add", *urls]) == 1
    captured = capsys.readouterr()
    assert captured.out.splitlines() == ["added feed https://93.184.216.34/feed every 30m",
                                         "added feed https://[2606:2800:220:1:248:1893:25c8:1946]/atom every 30m"]
    errors = captured.err.splitlines()
    assert len(errors) == 4
    assert errors[0].startswith("Error: refused not a url: not an absolute http(s) URL")
    assert errors[1].startswith("Error: refused http://127.0.0.1:8000/feed: refusing 127.0.0.1")
    assert errors[2].startswith("Error: refused https://nowhere.invalid/rss: refusing nowhere.invalid: "
                                "the name does not resolve")
    assert errors[3] == "Error: 3 of 5 URL(s) refused; the other 2 are registered"
    assert set(registered(capsys, sqlite_url)) == {urls[0], urls[4]}


def test_dns_lookups_of_many_hosts_run_in_parallel_once_per_host(monkeypatch):
    monkeypatch.delenv("NEWSARCHIVE_ALLOW_PRIVATE_NETWORKS")
    hosts = [f"feeds{n}.example" for n in range(8)]
    all_in_flight = threading.Barrier(len(hosts), timeout=10)  # broken unless 8 lookups wait at once
    looked_up = []

    def lookup(host, port, proto):
        looked_up.append(host)
        all_in_flight.wait()
        return [(2, 1, 6, "", ("10.0.0.1" if host == "feeds3.example" else "93.184.216.34", 0))]

    urls = [f"https://{host}/{path}" for host in hosts for path in ("rss", "atom")]
    refused = netguard.check_public_many(urls, resolve=True, lookup=lookup)
    assert sorted(looked_up) == sorted(hosts)
    assert set(refused) == {"https://feeds3.example/rss", "https://feeds3.example/atom"}
    assert all("private-network address (10.0.0.1)" in str(e) for e in refused.values())


def test_import_nested_opml_then_again(capsys, sqlite_url, tmp_path):
    path = tmp_path / "abonnements.opml"
    path.write_bytes(NESTED)
    assert main(["--db", sqlite_url, "sources", "import", str(path), "--every", "1h"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == ("skipped https://listes.example/autre.opml: an outline linking to another subscription list "
                      "(not fetched)")
    assert out[1:] == [f"added feed {url} every 1h" for url in FEEDS]
    assert main(["--db", sqlite_url, "sources", "import", str(path)]) == 0  # idempotent
    assert [line.split()[0] for line in capsys.readouterr().out.splitlines()[1:]] == ["updated"] * 3
    assert registered(capsys, sqlite_url) == {url: "1h" for url in FEEDS}


def test_malformed_or_foreign_files_register_nothing(capsys, sqlite_url, tmp_path):
    bomb = (b'<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY a "aaaaaaaaaa">'
            + b"".join(b'<!ENTITY %s "%s">' % (b"abcdefgh"[i + 1:i + 2], (b"&" + b"abcdefgh"[i:i + 1] + b";") * 10)
                       for i in range(7))
            + b']><opml version="2.0"><body><outline text="&h;" xmlUrl="https://a.example/rss"/></body></opml>')
    cases = {
        "truncated.opml": (NESTED[: len(NESTED) // 2], "malformed OPML"),
        "feed.opml": (b'<?xml version="1.0"?><rss version="2.0"><channel><title>x</title></channel></rss>',
                      "not an OPML document: its root element is <rss>"),
        "page.opml": (b"<!doctype html><html><body>Not found</body></html>", "malformed OPML"),
        "bomb.opml": (bomb, "malformed OPML"),
        "empty.opml": (b'<opml version="2.0"><head/><body/></opml>', "no feed"),
    }
    for name, (data, message) in cases.items():
        (tmp_path / name).write_bytes(data)
        assert main(["--db", sqlite_url, "sources", "import", str(tmp_path / name)]) == 1
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and message in err, (name, err)
    assert main(["--db", sqlite_url, "sources", "import", str(tmp_path / "missing.opml")]) == 1
    assert "cannot read" in capsys.readouterr().err
    assert registered(capsys, sqlite_url) == {}


def test_a_refused_url_in_an_opml_file_does_not_stop_the_others(capsys, sqlite_url, tmp_path, monkeypatch):
    monkeypatch.delenv("NEWSARCHIVE_ALLOW_PRIVATE_NETWORKS")
    path = tmp_path / "mixed.opml"
    path.write_bytes(b'<opml version="2.0"><body><outline xmlUrl="https://93.184.216.34/rss"/>'
                     b'<outline xmlUrl="javascript:alert(1)"/><outline xmlUrl="http://192.168.1.1/rss"/></body></opml>')
    assert main(["--db", sqlite_url, "sources", "import", str(path)]) == 1
    assert "2 of 3 URL(s) refused" in capsys.readouterr().err
    assert set(registered(capsys, sqlite_url)) == {"https://93.184.216.34/rss"}


def test_export_is_opml_2_that_imports_back(capsys, db_url, sqlite_url, tmp_path):
    assert main(["--db", db_url, "sources", "add", *FEEDS]) == 0
    assert main(["--db", db_url, "sources", "add", "https://journal.example/sitemap.xml", "--kind", "sitemap"]) == 0
    capsys.readouterr()
    assert main(["--db", db_url, "sources", "export", "--format", "opml"]) == 0
    captured = capsys.readouterr()
    assert captured.err.strip() == "1 source(s) that are not feeds left out"
    document = captured.out.encode()
    root = ElementTree.fromstring(document)
    assert root.tag == "opml" and root.get("version") == "2.0" and root.find("head/title").text
    assert [o.get("xmlUrl") for o in root.iter("outline")] == FEEDS
    assert all(o.get("type") == "rss" and o.get("text") for o in root.iter("outline"))
    parsed = listparser.parse(document)  # what feed readers' parsers make of it
    assert parsed.version == "opml2" and [f.url for f in parsed.feeds] == FEEDS

    exported = tmp_path / "export.opml"
    assert main(["--db", db_url, "sources", "export", "-o", str(exported)]) == 0
    undated = re.compile(rb"<dateCreated>[^<]*</dateCreated>")
    assert undated.sub(b"", exported.read_bytes()) == undated.sub(b"", document)
    other = tmp_path / "other.db"
    assert main(["--db", str(other), "sources", "import", str(exported)]) == 0
    assert set(registered(capsys, f"sqlite:///{other}")) == set(FEEDS)


def test_opml_in_any_declared_encoding_reads_the_same():
    from newsarchive import opml

    body = '<opml version="2.0"><body><outline text="Télé" xmlUrl="https://a.example/rss?q=télé"/></body></opml>'
    for declaration, encoding in (('<?xml version="1.0" encoding="iso-8859-1"?>', "latin-1"), ("", "utf-8"),
                                  ('<?xml version="1.0" encoding="utf-16"?>', "utf-16")):
        assert opml.read((declaration + body).encode(encoding)).feeds == [("https://a.example/rss?q=télé", "Télé")]
