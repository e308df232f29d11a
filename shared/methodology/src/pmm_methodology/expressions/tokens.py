"""Splitting an expression's text into tokens, each with its offset."""

from dataclasses import dataclass
from enum import StrEnum

from pmm_methodology.errors import ExpressionSyntaxError

_TWO_CHARACTER_OPERATORS = ("==", "!=", "<=", ">=")
_ONE_CHARACTER_OPERATORS = "+-*/()[],<>"
_QUOTES = "'\""


class TokenKind(StrEnum):
    NUMBER = "number"
    TEXT = "text"
    NAME = "name"
    OPERATOR = "operator"
    END = "end"


@dataclass(frozen=True, slots=True)
class Token:
    kind: TokenKind
    text: str
    offset: int

    def describe(self) -> str:
        if self.kind is TokenKind.END:
            return "end of expression"
        return f"'{self.text}'"


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    offset = 0
    while offset < len(text):
        character = text[offset]
        if character.isspace():
            offset += 1
            continue

        token = _read_token(text, offset)
        tokens.append(token)
        offset += _length(token)
    tokens.append(Token(TokenKind.END, "", len(text)))
    return tokens


def _length(token: Token) -> int:
    if token.kind is TokenKind.TEXT:
        return len(token.text) + 2
    return len(token.text)


def _read_token(text: str, offset: int) -> Token:
    character = text[offset]
    if _is_ascii_digit(character) or (
        character == "." and _is_ascii_digit(_at(text, offset + 1))
    ):
        return _read_number(text, offset)
    if _is_name_start(character):
        return _read_name(text, offset)
    if character in _QUOTES:
        return _read_text(text, offset)
    pair = text[offset : offset + 2]
    if pair in _TWO_CHARACTER_OPERATORS:
        return Token(TokenKind.OPERATOR, pair, offset)
    if character in _ONE_CHARACTER_OPERATORS:
        return Token(TokenKind.OPERATOR, character, offset)
    if character in "=!":
        raise _error(
            f"unexpected '{character}' (comparisons are == and !=)", text, offset
        )
    raise _error(f"unexpected character {character!r}", text, offset)


def _read_number(text: str, offset: int) -> Token:
    end = offset
    while _is_ascii_digit(_at(text, end)):
        end += 1
    if _at(text, end) == ".":
        end += 1
        while _is_ascii_digit(_at(text, end)):
            end += 1
    if _is_name_start(_at(text, end)) or _at(text, end) == ".":
        raise _error("malformed number", text, offset)
    return Token(TokenKind.NUMBER, text[offset:end], offset)


def _read_name(text: str, offset: int) -> Token:
    end = offset
    while _is_name_part(_at(text, end)):
        end += 1
    return Token(TokenKind.NAME, text[offset:end], offset)


def _read_text(text: str, offset: int) -> Token:
    quote = text[offset]
    end = text.find(quote, offset + 1)
    if end == -1:
        raise _error("text is not closed", text, offset)
    return Token(TokenKind.TEXT, text[offset + 1 : end], offset)


def _at(text: str, offset: int) -> str:
    return text[offset] if offset < len(text) else ""


def _is_ascii_digit(character: str) -> bool:
    return character != "" and character in "0123456789"


def _is_name_start(character: str) -> bool:
    return character != "" and (
        (character.isascii() and character.isalpha()) or character == "_"
    )


def _is_name_part(character: str) -> bool:
    return _is_name_start(character) or _is_ascii_digit(character)


def _error(message: str, text: str, offset: int) -> ExpressionSyntaxError:
    return ExpressionSyntaxError(message, position=offset + 1, text=text)
