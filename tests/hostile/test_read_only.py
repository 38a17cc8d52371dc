"""Archivists open copies on read-only disks: every reading command works there; a command that
writes fails in one line and changes nothing."""

from __future__ import annotations

import json

import pytest

from newsarchive.cli import main
from tests.clirun import FAST, run_cli
from tests.hostile.mounts import read_only


@pytest.fixture
def archived(site, tmp_path):
    """A real archive of the demo site in its own folder."""
    folder = tmp_path / "src"
    folder.mkdir()
    url = f"sqlite:///{folder / 'archive.db'}"
    assert main(["--db", url, "sources", "add", site.url("/feed.xml")]) == 0
    assert run_cli(url, "crawl", *FAST).returncode == 0
    return folder


def test_reading_commands_work_on_a_read_only_archive_and_writes_fail_in_one_line(archived, tmp_path, capsys):
    with read_only(archived, tmp_path / "ro") as folder:
        url = f"sqlite:///{folder / 'archive.db'}"
        before = sorted(p.name for p in folder.iterdir())
        capsys.readouterr()
        assert main(["--db", url, "search", "defense", "--json"]) == 0
        hits = json.loads(capsys.readouterr().out)
        assert hits
        assert main(["--db", url, "show", str(hits[0]["id"])]) == 0
        assert main(["--db", url, "diff", str(hits[0]["id"])]) == 0
        capsys.readouterr()
        assert main(["--db", url, "stats", "--json"]) == 0
        assert json.loads(capsys.readouterr().out)["archive"]["articles"] >= 5
        assert main(["--db", url, "sources", "list"]) == 0
        assert main(["--db", url, "boilerplate"]) == 0
        capsys.readouterr()
        assert main(["--db", url, "export", "--format", "jsonl"]) == 0
        assert len(capsys.readouterr().out.splitlines()) >= 5

        for argv in (["sources", "add", "https://news.example/feed"], ["crawl"], ["revisit"], ["reextract"],
                     ["sources", "disable", "1"]):
            code = main(["--db", url, *argv])
            err = capsys.readouterr().err.strip()
            assert code == 1 and len(err.splitlines()) == 1 and "read-only" in err, (argv, err)
        assert sorted(p.name for p in folder.iterdir()) == before
