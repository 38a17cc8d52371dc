"""One archive connection per crawler, shared by its spiders, pipelines and extensions."""

from __future__ import annotations

from archive.db import Database


def database_for(crawler) -> Database:
    db = getattr(crawler, "_newsarchive_db", None)
    if db is None:
        db = Database(crawler.settings.get("NEWSARCHIVE_DB"))
        crawler._newsarchive_db = db
    return db


def run_id_for(crawler) -> int | None:
    return crawler.settings.getint("NEWSARCHIVE_RUN_ID") or None
