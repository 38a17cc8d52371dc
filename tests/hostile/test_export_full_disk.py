"""`export -o FILE` never leaves a partial file under the name asked for: on a full disk it says so
in one line, exits 1 and removes what it had written; on success the file appears whole."""

from __future__ import annotations

from archive.store import ArticleFields, Page, save_article
from newsarchive.cli import main
from tests.hostile.mounts import tmpfs


def fill(db, count: int) -> None:
    for i in range(count):
        text = "\n".join(f"Paragraph {j} of article {i}, " + "with words " * 40 for j in range(10))
        save_article(db, Page(url=f"https://news.example/{i}", status=200, headers=[], body=b"<html></html>"),
                     ArticleFields(text=text, title=f"Article {i}"))


def test_export_to_a_full_disk_leaves_nothing_behind(sqlite_db, sqlite_url, tmp_path, capsys):
    fill(sqlite_db, 60)  # about 300 KB of JSON lines
    with tmpfs(tmp_path / "small", "64k"):
        target = tmp_path / "small" / "out.jsonl"
        code = main(["--db", sqlite_url, "export", "--format", "jsonl", "-o", str(target)])
        err = capsys.readouterr().err.strip()
        assert code == 1 and len(err.splitlines()) == 1
        assert "No space left on device" in err and "nothing was written" in err
        assert list((tmp_path / "small").iterdir()) == []
    whole = tmp_path / "out.jsonl"
    assert main(["--db", sqlite_url, "export", "--format", "jsonl", "-o", str(whole)]) == 0
    assert len(whole.read_text("utf-8").splitlines()) == 60
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out.jsonl")] == []
