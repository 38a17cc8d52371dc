"""The `newsarchive` command: one console script, one module per command under `commands/`.

Errors a user can fix become one line on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import importlib
import json
import os
import pkgutil
import sys
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property

import click
from sqlalchemy.exc import SQLAlchemyError

from archive.db import ArchiveError, Database, database_url, first_line, sqlite_path_writable
from archive.redact import redact
from archive.sources import parse_duration
from crawler.overrides import SettingError, overrides_with_inherited
from newsarchive import commands

EXIT_USAGE = 2
EXIT_INTERNAL = 70  # sysexits EX_SOFTWARE


MAX_DURATION = 7 * 86400.0


class Duration(click.ParamType):
    """30s, 5m, 1h, 1d or a bare number of seconds: more than 0 (or 0 when ``zero_ok``), at most a week."""

    name = "duration"

    def __init__(self, zero_ok: bool = False):
        self.zero_ok = zero_ok

    def convert(self, value, param, ctx) -> float:
        if isinstance(value, float):
            return value
        seconds = parse_duration(value)
        if seconds is None or seconds > MAX_DURATION or (seconds == 0 and not self.zero_ok):
            low = "0" if self.zero_ok else "more than 0"
            self.fail(f"not a duration: {str(value)[:40]!r} (use e.g. 30s, 5m, 1h; {low}, at most 7d)", param, ctx)
        return seconds


@dataclass
class Context:
    db_url: str | None

    @cached_property
    def db(self) -> Database:
        """The archive, to write to (migrated to this code's schema when opened)."""
        return Database(self.db_url)

    @cached_property
    def reader(self) -> Database:
        """The archive for commands that only read: read-only when its file cannot be written
        (a copy on a read-only disk or directory), else as `db` (an older schema is upgraded)."""
        if self.db_url.startswith("sqlite") and not sqlite_path_writable(self.db_url):
            return Database(self.db_url, readonly=True)
        return self.db


pass_context = click.make_pass_decorator(Context)


class UserError(click.ClickException):
    """A clean, one-line error (exit 1)."""


class CommandModules(click.Group):
    """Finds its subcommands in the modules of `newsarchive.commands` (each lists `COMMANDS`).

    Loaded on first use rather than at import: command modules import this one for its helpers.
    """

    _loaded = False

    def _load(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        for module in pkgutil.iter_modules(commands.__path__):
            loaded = importlib.import_module(f"{commands.__name__}.{module.name}")
            for command in getattr(loaded, "COMMANDS", ()):
                self.add_command(command)

    def list_commands(self, ctx):
        self._load()
        return super().list_commands(ctx)

    def get_command(self, ctx, name):
        self._load()
        return super().get_command(ctx, name)


@click.group(cls=CommandModules, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--db", "db_url", envvar="NEWSARCHIVE_DB", metavar="URL",
              help="Database URL (SQLAlchemy), or a path to a SQLite file. [default: ./newsarchive.db]")
@click.version_option(package_name="newsarchive")
@click.pass_context
def cli(ctx: click.Context, db_url: str | None) -> None:
    """newsarchive: crawl news sites into a clean, deduplicated, versioned archive.

    Example: newsarchive sources add https://www.vudailleurs.com/feed/ && newsarchive crawl
    """
    ctx.obj = Context(database_url(db_url))


class QueryCommand(click.Command):
    """A command taking query words, which may start with "-" (``search europe -brexit``): any
    argument that is not one of the command's own options is a query word, as after ``--``."""

    def parse_args(self, ctx, args):
        takes_value = {}
        for param in self.get_params(ctx):
            if isinstance(param, click.Option):
                for name in (*param.opts, *param.secondary_opts):
                    takes_value[name] = not (param.is_flag or param.count)
        options, words = [], []
        index = 0
        while index < len(args):
            arg = args[index]
            if arg == "--":
                words.extend(args[index + 1:])
                break
            name = arg.split("=", 1)[0]
            if arg.startswith("-") and name in takes_value:
                options.append(arg)
                if takes_value[name] and "=" not in arg and index + 1 < len(args):
                    index += 1
                    options.append(args[index])
            else:
                words.append(arg)
            index += 1
        return super().parse_args(ctx, [*options, "--", *words] if words else options)


def query_text(words: tuple[str, ...]) -> str:
    """The query words as one query; a word the shell received quoted with spaces stays a phrase."""
    return " ".join(f'"{w}"' if " " in w.strip() and '"' not in w else w for w in words)


def parse_settings(pairs) -> dict[str, str]:
    """-s pairs as a dict, each value checked; a bad one is a UserError. Settings a parent process
    passed in the environment (never in argv, where `ps` shows them) come first."""
    try:
        return overrides_with_inherited(pairs)
    except SettingError as exc:
        raise UserError(str(exc)) from None


def json_option(func):
    """The shared `--json` output flag."""
    return click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")(func)


def print_json(value) -> None:
    click.echo(json.dumps(value, ensure_ascii=False, indent=2, default=str))


def isoformat_all(value):
    """``value`` with every datetime in it written in ISO 8601 (as the export's fields are)."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: isoformat_all(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [isoformat_all(v) for v in value]
    return value


def print_table(rows: list[dict], columns: list[str]) -> None:
    """A plain, aligned text table: readable on a terminal and in a log file."""
    cells = [[("" if row.get(c) is None else str(row.get(c))) for c in columns] for row in rows]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]
    click.echo("  ".join(c.ljust(w) for c, w in zip(columns, widths)).rstrip())
    for r in cells:
        click.echo("  ".join(v.ljust(w) for v, w in zip(r, widths)).rstrip())


def one_line(message: str) -> str:
    """A message on one line whatever the user typed into it: line breaks and other control
    characters shown escaped."""
    return "".join(c if c.isprintable() or c == " " else repr(c)[1:-1] for c in str(message))


def error(message: str) -> None:
    click.echo(f"Error: {one_line(message)}", err=True)


def main(argv: list[str] | None = None) -> int:
    try:
        result = cli.main(args=argv, prog_name="newsarchive", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        return 130
    except click.UsageError as exc:
        where = exc.ctx.command_path if exc.ctx else "newsarchive"
        error(f"{exc.format_message()} (see '{where} --help')")
        return exc.exit_code
    except click.ClickException as exc:
        error(exc.format_message())
        return exc.exit_code
    except ArchiveError as exc:
        error(str(exc))
        return 1
    except SQLAlchemyError as exc:  # a write the database refused: read-only, disk full, lost server
        error(f"the archive could not be written or read: {first_line(exc)}")
        return 1
    except OSError as exc:  # the file system refused (disk full, read-only, permissions)
        error(f"{exc.strerror or exc}" + (f": {exc.filename}" if exc.filename else ""))
        return 1
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a bug: one line for the user, the traceback when asked for
        if os.environ.get("NEWSARCHIVE_DEBUG"):
            raise
        error(f"internal error: {type(exc).__name__}: {redact(str(exc))[:300]} "
              "(set NEWSARCHIVE_DEBUG=1 to see the traceback, and please report it)")
        return EXIT_INTERNAL
    return result if isinstance(result, int) else 0


def run() -> None:
    sys.exit(main())

