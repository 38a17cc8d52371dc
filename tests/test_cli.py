"""The command-line contract: every command has help with an example; bad input is one line, exit != 0."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys

import click

from newsarchive.cli import cli, main

CONTRACT = ["sources", "crawl", "revisit", "extract", "search", "show", "diff", "export", "reextract",
            "boilerplate", "stats", "schedule", "fixtures", "demo", "serve"]


def all_commands(group: click.Group, ctx: click.Context, prefix=()):
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        yield (*prefix, name), command
        if isinstance(command, click.Group):
            yield from all_commands(command, ctx, (*prefix, name))


def test_every_contract_command_exists():
    with click.Context(cli) as ctx:
        assert set(CONTRACT) <= set(cli.list_commands(ctx))


def test_every_command_has_help_with_an_example(capsys):
    with click.Context(cli) as ctx:
        commands = list(all_commands(cli, ctx))
    assert len(commands) >= len(CONTRACT)
    for path, command in commands:
        assert command.help and "Example:" in command.help, f"{' '.join(path)} lacks help with an example"
        assert main([*path, "--help"]) == 0
        assert "Usage:" in capsys.readouterr().out


def one_line_error(capsys, argv, exit_code=None):
    code = main(argv)
    err = capsys.readouterr().err.strip()
    assert code != 0 if exit_code is None else code == exit_code
    assert err and len(err.splitlines()) <= 3 and "Traceback" not in err, err
    return err


def test_bad_input_gives_a_one_line_error(capsys, sqlite_url, tmp_path):
    db = ["--db", sqlite_url]
    assert "not an absolute http(s) URL" in one_line_error(capsys, [*db, "sources", "add", "not a url"])
    assert "unknown source" in one_line_error(capsys, [*db, "sources", "remove", "https://nope.example/feed"])
    assert "unknown source" in one_line_error(capsys, [*db, "crawl", "https://nope.example/feed"])
    assert "not an interval" in one_line_error(capsys, [*db, "sources", "add", "https://a.example/f",
                                                        "--every", "soon"])
    assert "unknown spider" in one_line_error(capsys, [*db, "sources", "add", "https://a.example/f",
                                                       "--spider", "nope"])
    assert "NAME=VALUE" in one_line_error(capsys, [*db, "crawl", "-s", "DOWNLOAD_DELAY"])
    one_line_error(capsys, [*db, "no-such-command"], exit_code=2)
    assert "cannot read" in one_line_error(capsys, [*db, "extract", str(tmp_path / "missing.html")])
    assert "malformed database URL" in one_line_error(capsys, ["--db", "postgresql+psycopg://u@h:notaport/x",
                                                               "sources", "list"])
    assert "cannot open database" in one_line_error(
        capsys, ["--db", "postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2", "sources", "list"])
    assert "does not exist" in one_line_error(capsys, ["--db", str(tmp_path / "no" / "such" / "dir.db"),
                                                       "sources", "list"])


def test_extract_prints_one_line_per_file_and_says_which_are_not_articles(capsys, tmp_path):
    story = " ".join(["Le conseil municipal a voté hier soir le budget de la commune pour l'an prochain."] * 4)
    (tmp_path / "article.html.gz").write_bytes(gzip.compress(
        f"<html lang='fr'><body><article><h1>Budget</h1><p>{story}</p></article></body></html>".encode()))
    (tmp_path / "empty.html").write_bytes(b"\x00\x01 not a page")
    (tmp_path / "junk.html").write_text("<html><body><p>" + "buy " * 400 + "</p></body></html>")
    paths = [str(tmp_path / name) for name in ("article.html.gz", "empty.html", "junk.html")]
    code = main(["extract", *paths, "--url", "https://www.journal.example/2024/budget"])
    out, err = capsys.readouterr()
    lines = [json.loads(line) for line in out.splitlines()]
    assert code == 1  # two of the three pages are not articles
    assert [line["rejected"] for line in lines] == [None, "no article text", "not an article: repetitive"]
    assert lines[0]["text"].startswith("Le conseil municipal") and lines[0]["language"] == "fr"
    assert lines[0]["site"] == "journal.example"
    assert err.splitlines() == [f"{tmp_path / 'empty.html'}: no article text",
                                f"{tmp_path / 'junk.html'}: not an article: repetitive"]
    assert main(["extract", str(tmp_path / "article.html.gz")]) == 0


def test_private_network_sources_are_refused_unless_allowed(capsys, sqlite_url, monkeypatch):
    monkeypatch.delenv("NEWSARCHIVE_ALLOW_PRIVATE_NETWORKS")
    for url in ("http://127.0.0.1:8000/feed", "http://localhost/feed", "http://10.1.2.3/feed", "http://[::1]/feed",
                "http://192.168.1.1/rss", "http://169.254.169.254/latest"):
        error = one_line_error(capsys, ["--db", sqlite_url, "sources", "add", url])
        assert "refusing" in error and "NEWSARCHIVE_ALLOW_PRIVATE_NETWORKS=1" in error
    monkeypatch.setenv("NEWSARCHIVE_ALLOW_PRIVATE_NETWORKS", "1")
    assert main(["--db", sqlite_url, "sources", "add", "http://127.0.0.1:8000/feed"]) == 0


def test_sources_add_is_idempotent_and_listed_as_json(capsys, sqlite_url):
    db = ["--db", sqlite_url]
    assert main([*db, "sources", "add", "https://news.example/feed/", "--every", "2h"]) == 0
    assert main([*db, "sources", "add", "https://news.example/feed/", "--every", "45m"]) == 0
    capsys.readouterr()
    assert main([*db, "sources", "list", "--json"]) == 0
    import json
    rows = json.loads(capsys.readouterr().out)
    assert [(r["url"], r["every"], r["kind"]) for r in rows] == [("https://news.example/feed/", "45m", "feed")]


def test_console_entry_point_runs_as_a_module():
    result = subprocess.run([sys.executable, "-m", "newsarchive", "--help"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "crawl" in result.stdout
