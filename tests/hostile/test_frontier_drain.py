"""An interrupted crawl of a huge feed leaves thousands of URLs pending: the next run fetches
all of them (in batches), not the first thousand, and `stats` shows what is still pending."""

from __future__ import annotations

import json

from archive import frontier
from archive.db import Database
from archive.sources import add_source
from newsarchive.cli import main
from tests.clirun import FAST, run_cli

PENDING = 2_300  # more than two of the frontier's read batches (1,000)


def test_the_next_run_drains_everything_pending(site, sqlite_url, capsys):
    db = Database(sqlite_url)
    with db.transaction() as session:
        source, _ = add_source(session, site.url("/feed.xml"))
        source_id = source.id
    frontier.enqueue(db, [(site.url(f"/2024/12/01/pending-{i}/"), None) for i in range(PENDING)], source_id)
    db.dispose()
    assert main(["--db", sqlite_url, "stats", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["archive"]["frontier_pending"] == PENDING

    site.clear_requests()
    result = run_cli(sqlite_url, "crawl", *FAST, "-s", "CONCURRENT_REQUESTS=32", "-s",
                     "CONCURRENT_REQUESTS_PER_DOMAIN=32", timeout=300)
    fetched = {r.path for r in site.requests if "/pending-" in r.path}
    assert len(fetched) == PENDING, result.stderr[-2000:]
    # they answer 404 here: each is retried on the next runs, up to frontier.MAX_ATTEMPTS
    assert main(["--db", sqlite_url, "stats", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["archive"]["frontier_pending"] == PENDING
