"""A recursive-descent parser for the expression language.

The grammar, loosest binding first:

    expression := or_expr [ "if" or_expr "else" expression ]
    or_expr    := and_expr { "or" and_expr }
    and_expr   := not_expr { "and" not_expr }
    not_expr   := "not" not_expr | comparison
    comparison := sum [ ("==" | "!=" | "<" | "<=" | ">" | ">=") sum ]
    sum        := product { ("+" | "-") product }
    product    := unary { ("*" | "/") unary }
    unary      := "-" unary | primary
    primary    := NUMBER | TEXT | "true" | "false" | reference | call
                | "(" expression ")"
    reference  := CODE [ "[" "T" [ "-" "1" ] "]" ]
    call       := FUNCTION "(" expression { "," expression } ")"

Nesting is bounded so that no text, however long, can exhaust the interpreter's stack.
"""

import re
from decimal import Decimal
from functools import lru_cache
from typing import cast

from pmm_methodology.errors import ExpressionSyntaxError
from pmm_methodology.expressions.nodes import (
    Arithmetic,
    ArithmeticOperator,
    Boolean,
    Call,
    Comparison,
    ComparisonOperator,
    Conditional,
    Expression,
    FunctionName,
    Logical,
    Negate,
    Node,
    Not,
    Number,
    Reference,
    StateTest,
    Text,
    depth,
)
from pmm_methodology.expressions.tokens import Token, TokenKind, tokenize
from pmm_methodology.values import ValueState

ELEMENT_CODE = re.compile(r"[A-Z][A-Z0-9_]*")
MAX_NESTING = 40
MAX_DEPTH = 100
MAX_LENGTH = 4000

_COMPARISONS = frozenset({"==", "!=", "<", "<=", ">", ">="})
_ARITY: dict[str, tuple[int, int | None]] = {
    "min": (2, None),
    "max": (2, None),
    "abs": (1, 1),
    "round": (2, 2),
}
_STATE_TESTS = {
    "provided": ValueState.PROVIDED,
    "not_applicable": ValueState.NOT_APPLICABLE,
    "not_available": ValueState.NOT_AVAILABLE,
}
_KEYWORDS = frozenset({"and", "or", "not", "if", "else", "true", "false"})


def parse(text: str) -> Expression:
    """Parse an expression, or raise ExpressionSyntaxError with the position."""
    return _parse_cached(text)


@lru_cache(maxsize=4096)
def _parse_cached(text: str) -> Expression:
    if len(text) > MAX_LENGTH:
        raise ExpressionSyntaxError(
            f"expression longer than {MAX_LENGTH} characters", position=1, text=text
        )
    root = _Parser(text).parse()
    if depth(root) > MAX_DEPTH:
        raise ExpressionSyntaxError(
            f"expression nested deeper than {MAX_DEPTH} levels", position=1, text=text
        )
    return Expression(text=text, root=root)


class _Parser:
    def __init__(self, text: str) -> None:
        self._text = text
        self._tokens = tokenize(text)
        self._index = 0
        self._nesting = 0

    def parse(self) -> Node:
        if self._peek().kind is TokenKind.END:
            raise self._error("empty expression", self._peek())

        root = self._expression()
        if self._peek().kind is not TokenKind.END:
            raise self._error(f"unexpected {self._peek().describe()}", self._peek())
        return root

    def _expression(self) -> Node:
        self._enter()
        value = self._or()
        if self._at_keyword("if"):
            start = self._advance()
            condition = self._or()
            self._expect_keyword("else", "a conditional needs 'else'")
            value = Conditional(condition, value, self._expression(), start.offset)
        self._nesting -= 1
        return value

    def _or(self) -> Node:
        left = self._and()
        while self._at_keyword("or"):
            operator = self._advance()
            left = Logical("or", left, self._and(), operator.offset)
        return left

    def _and(self) -> Node:
        left = self._not()
        while self._at_keyword("and"):
            operator = self._advance()
            left = Logical("and", left, self._not(), operator.offset)
        return left

    def _not(self) -> Node:
        if not self._at_keyword("not"):
            return self._comparison()

        self._enter()
        operator = self._advance()
        node = Not(self._not(), operator.offset)
        self._nesting -= 1
        return node

    def _comparison(self) -> Node:
        left = self._sum()
        if not self._at_operator(*_COMPARISONS):
            return left

        operator = self._advance()
        right = self._sum()
        if self._at_operator(*_COMPARISONS):
            raise self._error(
                "comparisons cannot be chained; join them with 'and'", self._peek()
            )
        return Comparison(
            cast(ComparisonOperator, operator.text), left, right, operator.offset
        )

    def _sum(self) -> Node:
        left = self._product()
        while self._at_operator("+", "-"):
            operator = self._advance()
            left = Arithmetic(
                cast(ArithmeticOperator, operator.text),
                left,
                self._product(),
                operator.offset,
            )
        return left

    def _product(self) -> Node:
        left = self._unary()
        while self._at_operator("*", "/"):
            operator = self._advance()
            left = Arithmetic(
                cast(ArithmeticOperator, operator.text),
                left,
                self._unary(),
                operator.offset,
            )
        return left

    def _unary(self) -> Node:
        if not self._at_operator("-"):
            return self._primary()

        self._enter()
        operator = self._advance()
        node = Negate(self._unary(), operator.offset)
        self._nesting -= 1
        return node

    def _primary(self) -> Node:
        token = self._peek()
        if token.kind is TokenKind.NUMBER:
            self._advance()
            return Number(Decimal(token.text), token.offset)
        if token.kind is TokenKind.TEXT:
            self._advance()
            return Text(token.text, token.offset)
        if token.kind is TokenKind.NAME:
            return self._name()
        if self._at_operator("("):
            opening = self._advance()
            inner = self._expression()
            where = f"'(' at character {opening.offset + 1} is not closed"
            self._expect_operator(")", where)
            return inner
        raise self._error(f"expected a value, found {token.describe()}", token)

    def _name(self) -> Node:
        token = self._advance()
        if token.text in ("true", "false"):
            return Boolean(token.text == "true", token.offset)
        if token.text in _STATE_TESTS:
            return self._state_test(token)
        if token.text in _ARITY:
            return self._call(token)
        if ELEMENT_CODE.fullmatch(token.text):
            return self._reference(token)
        if token.text in _KEYWORDS:
            raise self._error(f"expected a value, found '{token.text}'", token)
        raise self._error(
            f"unknown name '{token.text}' (data element codes are in capitals)", token
        )

    def _reference(self, code: Token) -> Reference:
        if not self._at_operator("["):
            return Reference(code.text, 0, code.offset)

        self._advance()
        year = self._peek()
        if year.kind is not TokenKind.NAME or year.text != "T":
            raise self._error("the year must be T or T-1", year)
        self._advance()
        lag = 0
        if self._at_operator("-"):
            self._advance()
            step = self._peek()
            if step.kind is not TokenKind.NUMBER or step.text != "1":
                raise self._error("the year must be T or T-1", step)
            self._advance()
            lag = 1
        self._expect_operator("]", "the year must be T or T-1, closed by ']'")
        return Reference(code.text, lag, code.offset)

    def _call(self, name: Token) -> Call:
        arguments = self._arguments(name)
        low, high = _ARITY[name.text]
        if len(arguments) < low or (high is not None and len(arguments) > high):
            raise self._error(f"{name.text}() takes {_arity_text(low, high)}", name)
        return Call(cast(FunctionName, name.text), tuple(arguments), name.offset)

    def _state_test(self, name: Token) -> StateTest:
        arguments = self._arguments(name)
        if len(arguments) != 1 or not isinstance(arguments[0], Reference):
            raise self._error(f"{name.text}() takes one data element", name)
        return StateTest(_STATE_TESTS[name.text], arguments[0], name.offset)

    def _arguments(self, name: Token) -> list[Node]:
        self._expect_operator("(", f"'{name.text}' must be followed by '('")
        arguments: list[Node] = []
        if self._at_operator(")"):
            self._advance()
            return arguments

        arguments.append(self._expression())
        while self._at_operator(","):
            self._advance()
            arguments.append(self._expression())
        self._expect_operator(")", f"'{name.text}(' is not closed")
        return arguments

    def _enter(self) -> None:
        self._nesting += 1
        if self._nesting > MAX_NESTING:
            raise self._error(
                f"expression nested deeper than {MAX_NESTING} levels", self._peek()
            )

    def _peek(self) -> Token:
        return self._tokens[self._index]

    def _advance(self) -> Token:
        token = self._tokens[self._index]
        if token.kind is not TokenKind.END:
            self._index += 1
        return token

    def _at_keyword(self, keyword: str) -> bool:
        token = self._peek()
        return token.kind is TokenKind.NAME and token.text == keyword

    def _at_operator(self, *operators: str) -> bool:
        token = self._peek()
        return token.kind is TokenKind.OPERATOR and token.text in operators

    def _expect_keyword(self, keyword: str, message: str) -> None:
        if not self._at_keyword(keyword):
            raise self._error(
                f"{message}, found {self._peek().describe()}", self._peek()
            )
        self._advance()

    def _expect_operator(self, operator: str, message: str) -> None:
        if not self._at_operator(operator):
            raise self._error(
                f"{message}, found {self._peek().describe()}", self._peek()
            )
        self._advance()

    def _error(self, message: str, token: Token) -> ExpressionSyntaxError:
        return ExpressionSyntaxError(
            message, position=token.offset + 1, text=self._text
        )


def _arity_text(low: int, high: int | None) -> str:
    if high is None:
        return f"at least {low} arguments"
    if low == high:
        return f"{low} argument" if low == 1 else f"{low} arguments"
    return f"{low} to {high} arguments"
