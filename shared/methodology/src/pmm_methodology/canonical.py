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


# Exact types, looked up in one step: nearly every item is one of these, and an
# assessment holds thousands of them.
_LEAVES = frozenset({str, int, bool, type(None)})


def _refuse_floats(data: Any) -> None:
    pending: list[Any] = [(data,)]
    while pending:
        container = pending.pop()
        for item in container.values() if isinstance(container, dict) else container:
            if type(item) in _LEAVES:
                continue
            if isinstance(item, float):
                raise TypeError(f"canonical JSON takes no floats, found {item!r}")
            if isinstance(item, dict | list | tuple):
                pending.append(item)
