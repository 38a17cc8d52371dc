"""`newsarchive serve` as operators start it: loopback by default, a token beyond it (never printed),
one-line errors, and an archive on a read-only disk (a real read-only bind mount)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest

from archive.db import Database
from newsarchive.cli import main
from newsarchive.commands.serve import is_loopback
from tests.serve_helpers import get, serving
from tests.web_archive import populate

TOKEN = "serve-test-token-0123456789abcdef"


@pytest.fixture
def archive_url(sqlite_url):
    db = Database(sqlite_url)
    populate(db)
    db.dispose()
    return sqlite_url


def one_line_error(capsys, argv) -> str:
    assert main(argv) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    return err


def test_loopback_addresses():
    assert all(is_loopback(h) for h in ("127.0.0.1", "127.1.2.3", "localhost", "::1", "[::1]"))
    assert not any(is_loopback(h) for h in ("0.0.0.0", "::", "192.168.1.10", "10.0.0.1", "example.org", ""))


def test_beyond_loopback_a_token_is_required(archive_url, capsys, tmp_path, monkeypatch):
    monkeypatch.delenv("NEWSARCHIVE_SERVE_TOKEN", raising=False)
    db = ["--db", archive_url]
    assert "give a token" in one_line_error(capsys, [*db, "serve", "--host", "0.0.0.0"])
    assert "give a token" in one_line_error(capsys, [*db, "serve", "--host", "192.168.1.10"])
    short = tmp_path / "short"
    short.write_text("abc\n")
    assert "at least 16" in one_line_error(capsys, [*db, "serve", "--host", "0.0.0.0", "--token-file", str(short)])
    assert "cannot read the token file" in one_line_error(
        capsys, [*db, "serve", "--host", "0.0.0.0", "--token-file", str(tmp_path / "missing")])
    monkeypatch.setenv("NEWSARCHIVE_SERVE_TOKEN", "two words and more than sixteen")
    assert "without spaces" in one_line_error(capsys, [*db, "serve", "--host", "0.0.0.0"])


def test_a_missing_archive_or_a_taken_port_is_one_line(tmp_path, capsys, archive_url):
    assert "no archive at" in one_line_error(capsys, ["--db", str(tmp_path / "none.db"), "serve"])
    with serving(archive_url) as served:
        port = served.base.rsplit(":", 1)[1]
        assert "cannot listen on 127.0.0.1:" + port in one_line_error(
            capsys, ["--db", archive_url, "serve", "--port", port])


def test_serves_with_a_token_it_never_prints(archive_url, tmp_path):
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")
    with serving(archive_url, "--token-file", str(token_file)) as served:
        base = served.base
        assert get(base + "/api/search?q=train")[0] == 401
        status, _, body = get(base + "/api/search?q=train", headers={"Authorization": f"Bearer {TOKEN}"})
        assert status == 200 and json.loads(body)["results"]
        assert get(base + f"/feed.atom?q=train&token={TOKEN}")[0] == 200
        assert get(base + "/api/sources", headers={"Host": "attacker.example", "Authorization": f"Bearer {TOKEN}"}
                   )[0] == 200  # with a token, any Host name (a proxy, a LAN name)
    output = served.output()
    assert "(token required)" in output and TOKEN not in output


def test_without_a_token_loopback_hosts_only(archive_url):
    with serving(archive_url) as served:
        status, headers, body = get(served.base + "/?q=briancon")
        assert status == 200 and b"Train de nuit" in body
        assert headers["content-security-policy"].startswith("default-src 'none'")
        assert get(served.base + "/api/search?q=train", headers={"Host": "attacker.example"})[0] == 421
    assert "read-only at http://127.0.0.1:" in served.output()


@pytest.fixture
def read_only_mount(tmp_path, archive_url):
    """A directory holding the archive, bind-mounted read-only (as root; skipped where refused)."""
    source, target = tmp_path / "disk", tmp_path / "readonly"
    source.mkdir()
    target.mkdir()
    shutil.copy(archive_url.removeprefix("sqlite:///"), source / "archive.db")
    if shutil.which("mount") is None:
        pytest.skip("no mount command to make a read-only bind mount")
    mounted = subprocess.run(["mount", "--bind", "-o", "ro", str(source), str(target)], capture_output=True,
                             text=True, timeout=30)
    if mounted.returncode != 0:
        pytest.skip(f"a read-only bind mount was refused: {mounted.stderr.strip()[:200]}")
    try:
        probe = target / f"probe-{uuid.uuid4().hex}"
        try:
            probe.write_text("x")
            probe.unlink()
            pytest.skip("the bind mount is not read-only here")
        except OSError:
            pass
        yield target / "archive.db"
    finally:
        subprocess.run(["umount", str(target)], capture_output=True, timeout=30)


def test_an_archive_on_a_read_only_disk_is_served(read_only_mount):
    url = f"sqlite:///{read_only_mount}"
    before = sorted(os.listdir(read_only_mount.parent))
    with serving(url) as served:
        status, _, body = get(served.base + "/?q=briancon")
        assert status == 200 and "Train de nuit" in body.decode()
        assert get(served.base + "/sources")[0] == 200
        assert get(served.base + "/export.csv?q=train")[0] == 200
    assert sorted(os.listdir(read_only_mount.parent)) == before == ["archive.db"]  # no -wal, no -shm
    assert not Path(str(read_only_mount) + "-wal").exists()
