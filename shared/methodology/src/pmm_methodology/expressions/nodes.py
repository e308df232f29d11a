"""The tree a parsed expression becomes. Offsets count characters from 0."""

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from pmm_methodology.values import ValueState

ArithmeticOperator = Literal["+", "-", "*", "/"]
ComparisonOperator = Literal["==", "!=", "<", "<=", ">", ">="]
LogicalOperator = Literal["and", "or"]
FunctionName = Literal["min", "max", "abs", "round"]


@dataclass(frozen=True, slots=True)
class Number:
    value: Decimal
    offset: int


@dataclass(frozen=True, slots=True)
class Boolean:
    value: bool
    offset: int


@dataclass(frozen=True, slots=True)
class Text:
    value: str
    offset: int


@dataclass(frozen=True, slots=True)
class Reference:
    """A data element in year T (`lag` 0) or T-1 (`lag` 1)."""

    element: str
    lag: int
    offset: int

    @property
    def label(self) -> str:
        return self.element if self.lag == 0 else f"{self.element}[T-{self.lag}]"


@dataclass(frozen=True, slots=True)
class Negate:
    operand: "Node"
    offset: int


@dataclass(frozen=True, slots=True)
class Not:
    operand: "Node"
    offset: int


@dataclass(frozen=True, slots=True)
class Arithmetic:
    operator: ArithmeticOperator
    left: "Node"
    right: "Node"
    offset: int


@dataclass(frozen=True, slots=True)
class Comparison:
    operator: ComparisonOperator
    left: "Node"
    right: "Node"
    offset: int


@dataclass(frozen=True, slots=True)
class Logical:
    operator: LogicalOperator
    left: "Node"
    right: "Node"
    offset: int


@dataclass(frozen=True, slots=True)
class Conditional:
    condition: "Node"
    when_true: "Node"
    when_false: "Node"
    offset: int


@dataclass(frozen=True, slots=True)
class Call:
    function: FunctionName
    arguments: tuple["Node", ...]
    offset: int


@dataclass(frozen=True, slots=True)
class StateTest:
    state: ValueState
    reference: Reference
    offset: int


Node = (
    Number
    | Boolean
    | Text
    | Reference
    | Negate
    | Not
    | Arithmetic
    | Comparison
    | Logical
    | Conditional
    | Call
    | StateTest
)


def children(node: Node) -> tuple[Node, ...]:
    match node:
        case Negate(operand=operand) | Not(operand=operand):
            return (operand,)
        case Arithmetic() | Comparison() | Logical():
            return (node.left, node.right)
        case Conditional():
            return (node.condition, node.when_true, node.when_false)
        case Call(arguments=arguments):
            return arguments
        case StateTest(reference=reference):
            return (reference,)
        case _:
            return ()


def walk(root: Node) -> Iterator[Node]:
    """Every node, parents before children, left to right."""
    pending = [root]
    while pending:
        node = pending.pop()
        yield node
        pending.extend(reversed(children(node)))


def depth(root: Node) -> int:
    deepest = 0
    pending = [(root, 1)]
    while pending:
        node, level = pending.pop()
        deepest = max(deepest, level)
        pending.extend((child, level + 1) for child in children(node))
    return deepest


@dataclass(frozen=True, slots=True)
class Expression:
    """A parsed expression and the text it came from."""

    text: str
    root: Node

    def references(self) -> tuple[Reference, ...]:
        """The data elements read, once each by (element, lag), in order of reading."""
        seen: dict[tuple[str, int], Reference] = {}
        for node in walk(self.root):
            if isinstance(node, Reference):
                seen.setdefault((node.element, node.lag), node)
        return tuple(seen.values())
