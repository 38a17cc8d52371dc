"""Machine-readable output and progress: --json on every command that prints results (the
contract's field names), progress on stderr as a bar in a terminal (a real pseudo-terminal) and
as plain lines in a pipe, stdout left to the result."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import select
import struct
import subprocess
import sys
import termios
import time
from datetime import datetime, timedelta, timezone

import click
import pytest

from archive.store import ArticleFields, Page, save_article
from newsarchive.cli import cli, main
from tests.clirun import FAST, ROOT, run_cli

RUN_FIELDS = {"id", "source_id", "status", "pid", "role", "started", "finished", "seconds", "requests",
              "not_modified", "new_articles", "new_revisions", "duplicates", "errors", "dropped", "error"}
SOURCE_FIELDS = {"id", "url", "kind", "spider", "every", "cron", "enabled", "last_success", "last_error",
                 "next_poll", "disabled_reason", "options"}
EVERY_LINE = {"NEWSARCHIVE_PROGRESS_EVERY": "0"}  # a plain line at each step, so a short run shows some
T0 = datetime(2024, 10, 8, 6, tzinfo=timezone.utc)


def in_terminal(db_url: str, *args: str, env: dict | None = None, timeout: float = 120) -> tuple[int, str, str]:
    """`newsarchive --db URL ARGS` with stderr on a pseudo-terminal (stdout a pipe):
    (exit status, stdout, what the terminal showed)."""
    environ = dict(os.environ, NEWSARCHIVE_ALLOW_PRIVATE_NETWORKS="1", **(env or {}))
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))  # 24 rows, 100 columns
    proc = subprocess.Popen([sys.executable, "-m", "newsarchive", "--db", db_url, *args], cwd=ROOT, env=environ,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=slave)
    os.close(slave)
    shown = bytearray()
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                try:
                    data = os.read(master, 65536)
                except OSError:  # the terminal's other end closed: the process is gone
                    break
                if not data:
                    break
                shown += data
            elif proc.poll() is not None:
                break
        out = proc.communicate(timeout=max(1.0, deadline - time.monotonic()))[0]
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
    return proc.returncode, out.decode(), shown.decode(errors="replace")


@pytest.fixture
def feed(sqlite_url, site):
    assert main(["--db", sqlite_url, "sources", "add", site.url("/feed.xml")]) == 0
    return sqlite_url


def test_crawl_and_revisit_json_are_stats_runs_and_progress_is_plain_in_a_pipe(feed, capsys):
    done = run_cli(feed, "crawl", "--json", *FAST, env=EVERY_LINE)
    assert done.returncode == 0, done.stderr
    run = json.loads(done.stdout)
    assert set(run) == RUN_FIELDS and run["status"] == "ok" and run["new_articles"] > 0
    assert datetime.fromisoformat(run["started"]) <= datetime.fromisoformat(run["finished"])
    lines = [line for line in done.stderr.splitlines() if line.startswith("crawl: ")]
    assert lines and "\r" not in done.stderr
    assert " pages, " in lines[0] and "pages/s" in lines[0]
    assert f"archived {run['new_articles'] + run['duplicates']}" in lines[-1]

    capsys.readouterr()
    assert main(["--db", feed, "stats", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["runs"][0] == run  # the same record, the same names

    revisited = run_cli(feed, "revisit", "--all", "--json", *FAST)
    assert revisited.returncode == 0, revisited.stderr
    again = json.loads(revisited.stdout)
    assert set(again) == RUN_FIELDS and again["id"] == run["id"] + 1 and again["new_articles"] == 0


def test_crawl_shows_a_bar_in_a_terminal_and_json_on_stdout(feed):
    code, out, shown = in_terminal(feed, "crawl", "--json", *FAST)
    assert code == 0, shown
    assert set(json.loads(out)) == RUN_FIELDS  # stdout is only the result
    assert "\r" in shown and "crawl" in shown and "pages" in shown and "archived=" in shown


def _archive(db, count: int = 3) -> None:
    for i in range(count):
        save_article(db, Page(url=f"https://news.test/{i}", status=200, headers=[], body=b"<p>x</p>", fetched_at=T0),
                     ArticleFields(text=f"Article {i} " + "mot " * 30, title=f"Titre {i}"))


def test_export_progress_in_a_terminal_and_in_a_pipe(sqlite_db, sqlite_url, tmp_path):
    _archive(sqlite_db)
    code, out, shown = in_terminal(sqlite_url, "export", "-o", str(tmp_path / "a.jsonl"))
    assert code == 0 and out == ""
    assert "\r" in shown and "export" in shown and "3/3" in shown and "100%" in shown
    assert len((tmp_path / "a.jsonl").read_text().splitlines()) == 3

    piped = run_cli(sqlite_url, "export", "--format", "csv", env=EVERY_LINE)
    assert piped.returncode == 0 and len(piped.stdout.splitlines()) == 4  # header + 3: nothing else on stdout
    lines = piped.stderr.splitlines()
    assert lines[0].startswith("export: 1/3 articles (33%), ") and "ETA" in lines[0]
    assert lines[-1].startswith("export: 3/3 articles (100%) done in") and "\r" not in piped.stderr


def test_reextract_progress_and_json(sqlite_db, sqlite_url):
    _archive(sqlite_db, count=2)
    piped = run_cli(sqlite_url, "reextract", "--json", env=EVERY_LINE)
    assert piped.returncode == 0, piped.stderr
    assert json.loads(piped.stdout)["checked"] == 2
    assert piped.stderr.splitlines()[-1].startswith("reextract: 2/2 articles (100%)")
    code, out, shown = in_terminal(sqlite_url, "reextract", "--json")
    assert code == 0 and json.loads(out)["checked"] == 2 and "\r" in shown and "2/2" in shown


def test_diff_json(db, db_url, capsys):
    url = "https://news.test/a"
    save_article(db, Page(url=url, status=200, headers=[], body=b"1", fetched_at=T0),
                 ArticleFields(text="Un paragraphe.\nLe train part à huit heures.", title="Train"))
    save_article(db, Page(url=url, status=200, headers=[], body=b"2", fetched_at=T0 + timedelta(hours=1)),
                 ArticleFields(text="Un paragraphe.\nLe train part à neuf heures.\nAjout.", title="Train"))
    capsys.readouterr()
    assert main(["--db", db_url, "diff", url, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert {k: data[k] for k in ("url", "title")} == {"url": url, "title": "Train"}
    assert data["from"] == {"number": 1, "fetched_at": T0.isoformat(), "title": "Train"}
    assert data["to"]["number"] == 2
    marks = [(line["mark"], line["text"]) for line in data["lines"]]
    assert ("+", "Ajout.") in marks
    edited = next(line for line in data["lines"] if line["mark"] == "~")
    assert ["-", "huit"] in edited["parts"] and ["+", "neuf"] in edited["parts"]
    assert main(["--db", db_url, "diff", url, "--from", "2", "--to", "2", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["lines"] == []


def test_sources_commands_json(sqlite_url, capsys):
    feed = "https://www.vudailleurs.com/feed/"
    capsys.readouterr()
    for args, action in ((["add", feed, "--every", "2h"], "added"), (["add", feed], "updated"),
                         (["disable", feed], "disabled"), (["enable", feed], "enabled")):
        assert main(["--db", sqlite_url, "sources", *args, "--json"]) == 0
        row = json.loads(capsys.readouterr().out)
        assert set(row) == SOURCE_FIELDS | {"action"} and row["action"] == action and row["url"] == feed
    assert row["enabled"] is True and row["every"] == "2h"
    assert main(["--db", sqlite_url, "sources", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert listed == [{k: v for k, v in row.items() if k != "action"}]
    assert main(["--db", sqlite_url, "sources", "remove", feed, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["action"] == "removed"


# Commands whose output is a result to read; `extract` prints JSON lines already, and schedule,
# serve and worker run until stopped.
WITH_RESULTS = ["crawl", "revisit", "search", "show", "diff", "export", "reextract", "boilerplate", "stats",
                "demo", "sources list", "sources add", "sources remove", "sources enable", "sources disable",
                "fixtures record"]


@pytest.mark.parametrize("path", WITH_RESULTS)
def test_every_command_with_results_has_the_shared_json_flag(path):
    command = cli
    context = click.Context(cli)
    for name in path.split():
        command = command.get_command(context, name)
    option = next(p for p in command.params if p.name == "as_json")
    assert option.opts == ["--json"] and option.is_flag


def test_demo_json(sqlite_url):
    done = run_cli(sqlite_url, "demo", "--json", "--port", "0")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)  # stdout is only the JSON: the site's address went to stderr
    assert set(data) == {"site", "run", "archive", "search"} and set(data["run"]) == RUN_FIELDS
    assert data["archive"]["articles"] > 0 and data["search"]["query"] == "defense"
    assert data["search"]["hits"] and {"id", "url", "title", "snippet"} <= set(data["search"]["hits"][0])
    assert "demo site: http://127.0.0.1:" in done.stderr
