"""newsarchive's own Scrapy signals (sent with ``crawler.signals.send_catch_log``).

* ``poll_recorded(spider, source_id, failure, next_poll, new_items, not_modified)``: a poll of a
  registered source was recorded in the archive (its next poll time, validators, health):
  ``failure`` is None for a success, else the crawler.polls.FailedPoll; ``next_poll`` the UTC
  datetime of its next poll; ``new_items`` the links it found new; ``not_modified`` a 304. The
  long-running engine (crawler/engine.py) follows it to know when a source's poll is over and it
  may be polled again.
"""

poll_recorded = object()
