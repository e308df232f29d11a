"""Text that no service can keep: the NUL character and lone surrogates.

PostgreSQL refuses U+0000 in text and JSONB, and a lone surrogate (U+D800 to U+DFFF,
which a JSON `\\ud800` escape produces) is no character at all and cannot be written
as UTF-8. Either would fail a request halfway, after other work; so every text that
comes in (path, query, JSON body, feed cell) is checked here first and refused with
its place and one of these rules.
"""

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

NUL = "text.nul"
SURROGATE = "text.surrogate"

MESSAGES = {
    NUL: "the text holds a NUL character (U+0000), which cannot be stored",
    SURROGATE: "the text holds a lone surrogate (U+D800 to U+DFFF), which is not a "
    "character",
}

_SURROGATE = re.compile("[\ud800-\udfff]")

# In JSON written as UTF-8, either arrives as a `\u` escape, or as a surrogate's
# own three bytes (Python's JSON reader lets them through), since a raw NUL byte is
# not valid JSON. A document in UTF-16 or UTF-32 holds zero bytes and is always
# walked.
_JSON_ESCAPE = re.compile(
    rb"\\u(?:0000|[dD][89a-fA-F][0-9a-fA-F]{2})|\xed[\xa0-\xbf]|\x00"
)


def text_fault(text: str) -> str | None:
    """The rule `text` breaks, or None when every service can keep it."""
    if "\x00" in text:
        return NUL
    if _SURROGATE.search(text):
        return SURROGATE
    return None


def shown(text: str) -> str:
    """`text` safe to echo in an answer: NUL and lone surrogates as escapes."""
    if text_fault(text) is None:
        return text
    return _SURROGATE.sub(_escape, text.replace("\x00", "\\u0000"))


def _escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


@dataclass(frozen=True)
class TextFault:
    """A text a JSON document holds that no service can keep, and where it is."""

    location: tuple[str | int, ...]
    rule: str

    @property
    def message(self) -> str:
        return MESSAGES[self.rule]


def json_may_hold_faults(body: bytes) -> bool:
    """Whether a JSON body can hold such a text; False settles it without parsing."""
    return _JSON_ESCAPE.search(body) is not None


def text_faults(document: Any) -> list[TextFault]:
    """Every text of a parsed JSON document (keys included) that no service can
    keep, each with its place; a key is named by its escaped text."""
    return list(_faults(document))


def _faults(document: Any) -> Iterator[TextFault]:
    # A walk with its own stack: a document nested as deeply as the parser allows
    # must not exhaust Python's recursion here.
    stack: list[tuple[tuple[str | int, ...], Any]] = [((), document)]
    while stack:
        location, node = stack.pop()
        if isinstance(node, str):
            rule = text_fault(node)
            if rule is not None:
                yield TextFault(location, rule)
        elif isinstance(node, dict):
            children: list[tuple[tuple[str | int, ...], Any]] = []
            for key, value in node.items():
                rule = text_fault(key)
                if rule is not None:
                    yield TextFault((*location, shown(key)), rule)
                    continue
                children.append(((*location, key), value))
            stack.extend(reversed(children))
        elif isinstance(node, list):
            stack.extend(
                ((*location, index), item)
                for index, item in reversed(list(enumerate(node)))
            )
