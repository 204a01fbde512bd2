"""Every JSON body the worker reads (buyers' forms, Epay's postLink, the aggregator's webhook,
the operator API) goes through `parse`: nesting deeper than MAX_DEPTH is refused before the
parser sees it (issue 14). No form of ours nests more than 3 levels; Python's parser would
recurse ~1,000 levels before failing, and 16 KB of ``[`` is 16,000.
"""

from __future__ import annotations

import json
import re
from typing import Any

from starlette.requests import Request

MAX_DEPTH = 32
_STRINGS = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKETS = re.compile(rb"[\[\]{}]")


class NestedTooDeeply(Exception):
    """The body nests arrays and objects deeper than MAX_DEPTH (answered 400 by JsonErrors)."""


def depth(raw: bytes) -> int:
    """How deep arrays and objects nest in ``raw`` (brackets inside strings do not count)."""
    level = deepest = 0
    for bracket in _BRACKETS.finditer(_STRINGS.sub(b"", raw)):
        level += 1 if bracket.group() in b"[{" else -1
        deepest = max(deepest, level)
    return deepest


def parse(raw: bytes) -> Any:
    """The JSON value of ``raw``; ValueError when it is not JSON, NestedTooDeeply when it nests
    deeper than MAX_DEPTH."""
    if depth(raw) > MAX_DEPTH:
        raise NestedTooDeeply(f"JSON nested deeper than {MAX_DEPTH} levels")
    return json.loads(raw)


async def read_json(request: Request) -> Any:
    """The request's JSON body (`parse`)."""
    return parse(await request.body())


async def read_object(request: Request) -> dict[str, Any]:
    """The request's JSON object, or {} when the body is not JSON or not an object: the
    route's own checks then name each missing field in the buyer's language."""
    try:
        body = await read_json(request)
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
