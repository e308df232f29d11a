"""JSON bodies read with every number exact: `98.10` is `Decimal("98.10")`, never a
float, and NaN or Infinity (which Python's parser takes, and JSON does not have) are
refused where they stand."""

import json
import re
from collections.abc import Callable, Coroutine, Iterable
from decimal import Decimal
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute

# A JSON string, skipped whole, or one of the constants JSON does not allow.
_STRING_OR_CONSTANT = re.compile(r'"(?:[^"\\]|\\.)*"|(-?Infinity|NaN)')


class _ConstantFound(ValueError):
    pass


def _refuse_constant(name: str) -> Any:
    raise _ConstantFound(name)


def exact_decoder(
    parse_int: Callable[[str], Any] | None = None,
    *,
    object_pairs_hook: Callable[[list[tuple[str, Any]]], Any] | None = None,
) -> json.JSONDecoder:
    """A decoder for `decode_at`: numbers with a fraction or an exponent are
    Decimals; `parse_int` reads whole numbers (int by default), and
    `object_pairs_hook` makes each object from its key-value pairs (a dict)."""
    return json.JSONDecoder(
        parse_float=Decimal,
        parse_int=parse_int,
        parse_constant=_refuse_constant,
        object_pairs_hook=object_pairs_hook,
    )


def decode_at(decoder: json.JSONDecoder, text: str, position: int) -> tuple[Any, int]:
    """The JSON value that starts at `position` and where it ends; a NaN or an
    Infinity is a JSONDecodeError at its own place, saying what to send instead."""
    try:
        return decoder.raw_decode(text, position)
    except _ConstantFound as found:
        raise _constant_error(str(found), text, position) from None


class JsonObject(dict[str, Any]):
    """A JSON object and the first key it gives twice, if any: JSON leaves a
    repeated key's meaning open, and a decoder keeps only its last value."""

    repeated: str | None = None


def json_object(pairs: list[tuple[str, Any]]) -> JsonObject:
    """An `object_pairs_hook` that notes the first key given twice."""
    found = JsonObject(pairs)
    if len(found) == len(pairs):
        return found

    seen: set[str] = set()
    for key, _ in pairs:
        if key in seen:
            found.repeated = key
            break
        seen.add(key)
    return found


class RepeatedKeyError(ValueError):
    """A body whose object gives a key twice; `path` leads to that key."""

    def __init__(self, path: tuple[str | int, ...]) -> None:
        super().__init__(f"the key at {path} is given twice")
        self.path = path


def exact_json(body: bytes) -> Any:
    """A whole JSON body (UTF-8, -16 or -32), numbers exact; JSONDecodeError or
    UnicodeDecodeError when it is not one, RepeatedKeyError when an object gives
    a key twice."""
    text = body.decode(json.detect_encoding(body), "surrogatepass")
    repeated_seen = False

    def noting_repeats(pairs: list[tuple[str, Any]]) -> JsonObject:
        nonlocal repeated_seen
        found = json_object(pairs)
        repeated_seen = repeated_seen or found.repeated is not None
        return found

    try:
        document = json.loads(
            text,
            parse_float=Decimal,
            parse_constant=_refuse_constant,
            object_pairs_hook=noting_repeats,
        )
    except _ConstantFound as found:
        raise _constant_error(str(found), text, 0) from None
    # Only a body that gave a key twice is walked, to name where.
    repeated = _repeated_key_path(document, ()) if repeated_seen else None
    if repeated is not None:
        raise RepeatedKeyError(repeated)
    return document


def _repeated_key_path(
    value: Any, path: tuple[str | int, ...]
) -> tuple[str | int, ...] | None:
    items: Iterable[tuple[str | int, Any]]
    if isinstance(value, JsonObject):
        if value.repeated is not None:
            return (*path, value.repeated)
        items = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return None
    for key, item in items:
        found = _repeated_key_path(item, (*path, key))
        if found is not None:
            return found
    return None


def _constant_error(name: str, text: str, start: int) -> json.JSONDecodeError:
    # The parser does not say where the constant was; the first one outside a
    # string from where the value starts is the one it met.
    position = next(
        (
            match.start(1)
            for match in _STRING_OR_CONSTANT.finditer(text, start)
            if match.group(1) is not None
        ),
        start,
    )
    return json.JSONDecodeError(
        f"{name} is not JSON (JSON has no NaN or Infinity); give a figure as a "
        'number or as text, such as 12.5 or "12.5"',
        text,
        position,
    )


class _ExactJsonRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = exact_json(await self.body())
        return self._json


class ExactJsonRoute(APIRoute):
    """A route whose JSON body keeps numbers as typed: `98.10` stays `98.10`."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def exact_handler(request: Request) -> Response:
            return await handler(_ExactJsonRequest(request.scope, request.receive))

        return exact_handler
