"""`newsarchive fixtures record`: recording a site fixture from the loopback demo site into a tmp dir."""

from __future__ import annotations

import gzip
import json

from crawler.extract import extract
from crawler.spiders.vudailleurs import VudailleursSpider
from newsarchive.cli import main
from newsarchive.demo.server import SITE_DIR

ARTICLE = "/2024/11/12/otan-rutte-macron/"


def test_record_writes_a_page_and_an_expected_json_that_pass(site, tmp_path, sqlite_url, capsys):
    assert main(["--db", sqlite_url, "fixtures", "record", "vudailleurs", site.url(ARTICLE), "--dir",
                 str(tmp_path)]) == 0
    folder = tmp_path / "vudailleurs"
    body = gzip.decompress((folder / "page.html.gz").read_bytes())
    served = (SITE_DIR / ARTICLE.strip("/") / "index.html").read_bytes().replace(b"{{base}}", site.base_url.encode())
    assert body == served
    expected = json.loads((folder / "expected.json").read_text("utf-8"))
    assert expected["url"] == site.url(ARTICLE) and expected["crawled"] and "recorded from" in expected["provenance"]
    assert expected["title"].startswith("À Paris, le secrétaire général de l’OTAN")
    assert expected["author"] == "Claire Dumont" and expected["published"].startswith("2024-11-12")
    assert len(expected["must_contain"]) == 3
    article = extract(body, expected["url"], drop_selectors=VudailleursSpider.drop_selectors_for())
    assert all(snippet in article.text for snippet in expected["must_contain"])
    assert not any(snippet in article.text for snippet in expected["must_not_contain"])

    # an existing fixture is kept unless --force
    assert main(["fixtures", "record", "vudailleurs", site.url(ARTICLE), "--dir", str(tmp_path)]) == 1
    capsys.readouterr()
    assert main(["fixtures", "record", "vudailleurs", site.url(ARTICLE), "--dir", str(tmp_path), "--force",
                 "--json"]) == 0
    recorded = json.loads(capsys.readouterr().out)
    assert recorded["spider"] == "vudailleurs" and recorded["folder"] == str(tmp_path / "vudailleurs")
    assert recorded["expected"] == json.loads((tmp_path / "vudailleurs" / "expected.json").read_text("utf-8"))


def test_record_refuses_bad_input(site, tmp_path, monkeypatch):
    args = ["--dir", str(tmp_path)]
    assert main(["fixtures", "record", "nosuchspider", site.url(ARTICLE), *args]) == 1
    assert main(["fixtures", "record", "feeds", site.url(ARTICLE), *args]) == 1  # not a named-site spider
    assert main(["fixtures", "record", "vudailleurs", "not a url", *args]) == 1
    assert main(["fixtures", "record", "vudailleurs", site.url("/nowhere/"), *args]) == 1  # 404
    monkeypatch.setenv("NEWSARCHIVE_ALLOW_PRIVATE_NETWORKS", "0")
    assert main(["fixtures", "record", "vudailleurs", site.url(ARTICLE), *args]) == 1  # SSRF guard
    assert not list(tmp_path.iterdir())
