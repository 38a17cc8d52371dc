"""`newsarchive serve`: the read-only web app (newsarchive/web/) on uvicorn.

Safe by default: it listens on 127.0.0.1 unless told otherwise, and beyond loopback it refuses
to start without a token. The token comes from --token-file or $NEWSARCHIVE_SERVE_TOKEN, never
from the command line (where `ps` would show it), and is never printed or logged (uvicorn's
access log, which would show `?token=`, is off).
"""

from __future__ import annotations

import ipaddress
import logging
import os
import socket
from pathlib import Path

import click

from archive.db import Database
from newsarchive.cli import UserError, pass_context

TOKEN_ENV = "NEWSARCHIVE_SERVE_TOKEN"


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def read_token(path: str | None) -> str | None:
    """The token from the file (first), else from the environment; None when neither gives one."""
    from newsarchive.web.security import MIN_TOKEN_CHARS

    if path:
        try:
            text = Path(path).read_text("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise UserError(f"cannot read the token file {path}: {getattr(exc, 'strerror', None) or 'not UTF-8 text'}"
                            ) from None
    else:
        text = os.environ.get(TOKEN_ENV)
        if text is None:
            return None
    token = text.strip()
    if len(token) < MIN_TOKEN_CHARS:
        raise UserError(f"the token must be at least {MIN_TOKEN_CHARS} characters "
                        "(make one with: python -c 'import secrets; print(secrets.token_urlsafe())')")
    if any(c.isspace() or not c.isprintable() for c in token):
        raise UserError("the token must be one line of printable characters without spaces")
    return token


def listen(host: str, port: int) -> socket.socket:
    """A socket bound to host:port (port 0: any free one), or a one-line error."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host.strip("[]"), port, type=socket.SOCK_STREAM)[0]
        sock = socket.socket(family, kind, proto)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError as exc:
        raise UserError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    return sock


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on. Beyond loopback a token is required.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535),
              help="Port to listen on (0: any free port, printed at start).")
@click.option("--token-file", default=None, metavar="FILE",
              help=f"File holding the access token (or set ${TOKEN_ENV}); required beyond loopback.")
@pass_context
def serve(ctx, host, port, token_file):
    """Read-only web app over the archive: search with filters and exports, articles with their
    revisions, diffs, copies and raw captures, and the sources' health. JSON under /api/.

    Pages: / (search), /articles/ID, /sources; /api/search?q=..., /api/articles/ID, /api/sources;
    /export.jsonl|csv|warc?q=... and /feed.atom?q=... take the search's filters.

    Example: newsarchive --db archive.db serve --port 8000
    """
    token = read_token(token_file)
    if token is None and not is_loopback(host):
        raise UserError(f"{host} is not a loopback address: give a token with --token-file FILE or "
                        f"${TOKEN_ENV} (anyone who can reach the port could read the archive)")
    import uvicorn

    from newsarchive.web import create_app
    from newsarchive.web.security import LOOPBACK_HOSTS

    db = Database(ctx.db_url, readonly=True)
    # Without a token, answer loopback names only: a web page elsewhere cannot DNS-rebind to us.
    app = create_app(db, token=token, allowed_hosts=None if token else LOOPBACK_HOSTS | {host.lower()})
    sock = listen(host, port)
    bound = sock.getsockname()
    shown_host = f"[{bound[0]}]" if ":" in bound[0] else bound[0]
    click.echo(f"serving {db.safe_url} read-only at http://{shown_host}:{bound[1]}/"
               + (" (token required)" if token else "") + "  (Ctrl-C to stop)", err=False)
    logging.basicConfig(level=logging.WARNING, format="[serve] %(levelname)s %(message)s")
    config = uvicorn.Config(app, log_level="warning", access_log=False, server_header=False, lifespan="off",
                            proxy_headers=False)
    try:
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        sock.close()
        db.dispose()
    return 0


COMMANDS = [serve]
