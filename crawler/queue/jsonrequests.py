"""Requests in Redis as JSON, never pickle: whoever can write to Redis must not be able to run code
on a worker. scrapy-redis takes this module as ``SCHEDULER_SERIALIZER`` (it needs ``loads`` and
``dumps``); it hands over and takes back the dict of ``Request.to_dict``.

JSON has no bytes, dates or non-string keys, which a request's dict holds (headers, body,
cb_kwargs' feed dates), so those are tagged: ``{"$b": base64}``, ``{"$dt": iso}``,
``{"$map": [[key, value], ...]}``. Tuples come back as lists. ``loads`` gives back plain data only:
the request's class and callbacks are checked by the queue (crawler/queue/scheduler.py).
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime
from typing import Any

MAX_ENTRY = 1 << 20  # bytes: a request is a few hundred; anything much larger is not one of ours


class MalformedEntry(ValueError):
    """A queue entry that is not a request this serializer wrote."""


def _tag(value: Any) -> Any:
    if isinstance(value, dict):
        if all(isinstance(key, str) for key in value):
            return {key: _tag(item) for key, item in value.items()}
        return {"$map": [[_tag(key), _tag(item)] for key, item in value.items()]}
    if isinstance(value, (list, tuple)):
        return [_tag(item) for item in value]
    if isinstance(value, (bytes, bytearray)):
        return {"$b": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, datetime):
        return {"$dt": value.isoformat()}
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    raise TypeError(f"cannot put a {type(value).__name__} in a queued request")


def _untag(value: Any) -> Any:
    if isinstance(value, list):
        return [_untag(item) for item in value]
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        (key, item), = value.items()
        if key == "$b":
            return base64.b64decode(_string(item), validate=True)
        if key == "$dt":
            return datetime.fromisoformat(_string(item))
        if key == "$map":
            if not isinstance(item, list) or not all(isinstance(p, list) and len(p) == 2 for p in item):
                raise MalformedEntry("a $map that is not a list of pairs")
            return {_hashable(_untag(k)): _untag(v) for k, v in item}
    return {key: _untag(item) for key, item in value.items()}


def _string(value: Any) -> str:
    if not isinstance(value, str):
        raise MalformedEntry("a tagged value that is not a string")
    return value


def _hashable(key: Any) -> Any:
    if isinstance(key, (list, dict)):
        raise MalformedEntry("a $map key that is a list or an object")
    return key


def dumps(obj: dict) -> str:
    return json.dumps(_tag(obj), separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def loads(data: bytes | str) -> dict:
    """The request dict, or MalformedEntry (never anything else) when the entry is not one."""
    if len(data) > MAX_ENTRY:
        raise MalformedEntry(f"an entry of {len(data)} bytes")
    try:
        text = data.decode("utf-8") if isinstance(data, (bytes, bytearray)) else data
        obj = _untag(json.loads(text))
    except MalformedEntry:
        raise
    except (UnicodeDecodeError, ValueError, binascii.Error, RecursionError) as exc:
        raise MalformedEntry(f"not JSON of a request ({type(exc).__name__})") from None
    if not isinstance(obj, dict) or not isinstance(obj.get("url"), str):
        raise MalformedEntry("not a request: no url")
    return obj
