"""The shared queue of `newsarchive worker`s: scrapy-redis, with requests stored as JSON.

* ``jsonrequests``: the serializer scrapy-redis uses (``SCHEDULER_SERIALIZER``): JSON, never pickle.
* ``scheduler``: scrapy-redis's scheduler and priority queue, thinly adapted (a malformed entry is
  one log line and dropped; the queue is never flushed by a worker; the local duplicate filter).
* ``link``: the queue's URL (masked whenever shown), its keys, and pushing poll orders.
* ``politeness``: each site's delay shared by every worker through Redis.
"""
