"""Canonical JSON: the same data always gives the same bytes.

Keys sorted, no insignificant whitespace, numbers held as Decimal written as strings,
and floats refused outright because two machines may print one differently.
"""

import json
from typing import Any


def canonical_json(data: Any) -> str:
    _refuse_floats(data)
    return json.dumps(
        data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


def _refuse_floats(data: Any) -> None:
    pending = [data]
    while pending:
        item = pending.pop()
        if isinstance(item, float):
            raise TypeError(f"canonical JSON takes no floats, found {item!r}")
        if isinstance(item, dict):
            pending.extend(item.values())
        elif isinstance(item, list | tuple):
            pending.extend(item)
