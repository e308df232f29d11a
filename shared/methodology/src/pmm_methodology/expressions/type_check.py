"""Static checks of an expression against the data elements it may read.

Run when a framework is loaded, so that a formula naming an unknown data element, adding
a yes/no to a number or comparing an enumeration with a value it cannot take is refused
with its position instead of failing on every submission.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from pmm_methodology.expressions.nodes import (
    Arithmetic,
    Boolean,
    Call,
    Comparison,
    Conditional,
    Expression,
    Logical,
    Negate,
    Node,
    Not,
    Number,
    Reference,
    StateTest,
    Text,
)


class ValueType(StrEnum):
    NUMBER = "number"
    BOOLEAN = "yes/no"
    TEXT = "text"


@dataclass(frozen=True, slots=True)
class ElementSignature:
    """What an expression may do with a data element."""

    value_type: ValueType
    allowed: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class TypeProblem:
    message: str
    position: int


@dataclass(slots=True)
class _Checker:
    elements: Mapping[str, ElementSignature]
    problems: list[TypeProblem] = field(default_factory=list)

    def type_of(self, node: Node) -> ValueType | None:
        match node:
            case Number():
                return ValueType.NUMBER
            case Boolean():
                return ValueType.BOOLEAN
            case StateTest():
                self._reference(node.reference)
                return ValueType.BOOLEAN
            case Text():
                return ValueType.TEXT
            case Reference():
                return self._reference(node)
            case Negate():
                return self._expect(node.operand, ValueType.NUMBER, "'-'")
            case Not():
                return self._expect(node.operand, ValueType.BOOLEAN, "'not'")
            case Arithmetic():
                self._expect(node.left, ValueType.NUMBER, f"'{node.operator}'")
                return self._expect(node.right, ValueType.NUMBER, f"'{node.operator}'")
            case Comparison():
                return self._comparison(node)
            case Logical():
                self._expect(node.left, ValueType.BOOLEAN, f"'{node.operator}'")
                return self._expect(node.right, ValueType.BOOLEAN, f"'{node.operator}'")
            case Conditional():
                return self._conditional(node)
            case Call():
                for argument in node.arguments:
                    self._expect(argument, ValueType.NUMBER, f"{node.function}()")
                return ValueType.NUMBER

    def _reference(self, node: Reference) -> ValueType | None:
        signature = self.elements.get(node.element)
        if signature is None:
            self._problem(f"unknown data element '{node.element}'", node)
            return None
        return signature.value_type

    def _expect(self, node: Node, expected: ValueType, operation: str) -> ValueType:
        found = self.type_of(node)
        if found is not None and found is not expected:
            self._problem(
                f"{operation} needs {expected.value}, found {found.value}", node
            )
        return expected

    def _comparison(self, node: Comparison) -> ValueType:
        left = self.type_of(node.left)
        right = self.type_of(node.right)
        if node.operator not in ("==", "!="):
            for side, found in ((node.left, left), (node.right, right)):
                if found is not None and found is not ValueType.NUMBER:
                    self._problem(
                        f"'{node.operator}' needs numbers, found {found}", side
                    )
            return ValueType.BOOLEAN

        if left is not None and right is not None and left is not right:
            self._problem(
                f"'{node.operator}' compares {left.value} with {right.value}", node
            )
        self._check_enumeration(node.left, node.right)
        self._check_enumeration(node.right, node.left)
        return ValueType.BOOLEAN

    def _check_enumeration(self, reference: Node, text: Node) -> None:
        if not (isinstance(reference, Reference) and isinstance(text, Text)):
            return
        signature = self.elements.get(reference.element)
        if signature is None or signature.value_type is not ValueType.TEXT:
            return

        if text.value not in signature.allowed:
            allowed = ", ".join(sorted(signature.allowed))
            self._problem(
                f"'{text.value}' is not a value of {reference.element} ({allowed})",
                text,
            )

    def _conditional(self, node: Conditional) -> ValueType | None:
        self._expect(node.condition, ValueType.BOOLEAN, "the condition after 'if'")
        when_true = self.type_of(node.when_true)
        when_false = self.type_of(node.when_false)
        if (
            when_true is not None
            and when_false is not None
            and when_true is not when_false
        ):
            self._problem(
                f"the two branches give {when_true.value} and {when_false.value}", node
            )
        return when_true or when_false

    def _problem(self, message: str, node: Node) -> None:
        self.problems.append(TypeProblem(message, node.offset + 1))


def check_types(
    expression: Expression, elements: Mapping[str, ElementSignature]
) -> tuple[ValueType | None, list[TypeProblem]]:
    """The type the expression gives (None if unknown) and every problem found."""
    checker = _Checker(elements)
    found = checker.type_of(expression.root)
    return found, checker.problems
