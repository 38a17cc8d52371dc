"""The claims of pages a crawl could not archive, given back so the next poll fetches them at once.

Pages fail together (a full disk, a lost database): their claims go back in one write per turn of
the reactor, not one per page, and under one name, so a failure to give them back is said once
(ArchiveIO.write_later). A claim that could not be given back ends with its crawl all the same:
the crawl releases all its claims when it closes, and a dead crawl's are taken over.
"""

from __future__ import annotations

from archive import frontier
from archive.db import Database
from crawler.archive_io import ArchiveIO


class ClaimReturns:
    def __init__(self, db: Database, io: ArchiveIO, reactor, holder: str):
        self.db, self.io, self.reactor, self.holder = db, io, reactor, holder
        self._urls: list[str] = []

    def give_back(self, url: str) -> None:
        self._urls.append(url)
        if len(self._urls) == 1:  # the first of this turn: the others failing with it join it
            self.reactor.callLater(0, self._flush)

    def _flush(self) -> None:
        urls, self._urls = self._urls, []
        self.io.write_later(frontier.release, self.db, self.holder, urls,
                            what="the claims on the pages it could not archive")
