"""Evaluating a parsed expression in exact decimal arithmetic.

Evaluation never raises and never produces a float or NaN: every failure, from a
missing input to an overflow, becomes a `NotComputable` naming its reason. `and`, `or`
and conditionals read only what they need, so `X / Y if Y > 0 else 0` is computable
when Y is zero.
"""

import operator
from collections.abc import Callable, Mapping
from decimal import Context, Decimal, DecimalException

from pmm_methodology.decimals import (
    MAX_ROUNDING_PLACES,
    arithmetic_context,
    round_half_up,
)
from pmm_methodology.expressions.computed import (
    Computed,
    EvaluationResult,
    NotComputable,
    NotComputableReason,
)
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
from pmm_methodology.values import DataValue, ValueKey, ValueState, coerce_scalar

_Outcome = Decimal | bool | str | NotComputable

# Tables rather than chains of tests: arithmetic and comparisons are most of the nodes.
_OPERATIONS: dict[str, Callable[[Context, Decimal, Decimal], Decimal]] = {
    "+": Context.add,
    "-": Context.subtract,
    "*": Context.multiply,
    "/": Context.divide,
}
_ORDERINGS: dict[str, Callable[[Decimal, Decimal], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def evaluate(
    expression: Expression,
    values: Mapping[ValueKey, DataValue],
    *,
    year: int,
    rejected: Mapping[ValueKey, str] | None = None,
) -> EvaluationResult:
    """Evaluate for reporting year `year`; T-1 references read `year - 1`.

    `rejected` names values that failed their checks: they are treated as unusable,
    with the given explanation, rather than silently read.
    """
    outcome = evaluated(expression, values, year=year, rejected=rejected)
    if isinstance(outcome, NotComputable):
        return outcome
    return Computed(value=outcome)


def evaluated(
    expression: Expression,
    values: Mapping[ValueKey, DataValue],
    *,
    year: int,
    rejected: Mapping[ValueKey, str] | None = None,
) -> Decimal | bool | str | NotComputable:
    """What `evaluate` gives, with the value bare rather than in a `Computed`."""
    return Evaluation(values, year=year, rejected=rejected).outcome(expression)


class Evaluation:
    """Expressions evaluated against one set of values for one reporting year.

    For the library's own callers, which evaluate a hundred expressions against the
    same values and read each value at once: they share one decimal context (its
    flags are never read; its traps raise) and no model is built around a value.
    """

    def __init__(
        self,
        values: Mapping[ValueKey, DataValue],
        *,
        year: int,
        rejected: Mapping[ValueKey, str] | None = None,
    ) -> None:
        self._values = values
        self._year = year
        self._rejected = rejected or {}
        self._context: Context = arithmetic_context()

    @property
    def values(self) -> Mapping[ValueKey, DataValue]:
        return self._values

    def outcome(self, expression: Expression) -> Decimal | bool | str | NotComputable:
        outcome = self.value_of(expression.root)
        if isinstance(outcome, NotComputable):
            return outcome
        # Exactly what `Computed` keeps, so that both ways give the same value.
        coerced: Decimal | bool | str = coerce_scalar(outcome)
        return coerced

    def value_of(self, node: Node) -> _Outcome:
        # The most frequent kinds of node first: each case is one more type test.
        match node:
            case Reference():
                return self._reference(node)
            case Arithmetic():
                return self._arithmetic(node)
            case Number(value=value) | Boolean(value=value) | Text(value=value):
                return value
            case Comparison():
                return self._comparison(node)
            case Logical():
                return self._logical(node)
            case Conditional():
                return self._conditional(node)
            case StateTest():
                return self._state_test(node)
            case Call():
                return self._call(node)
            case Negate():
                return self._negate(node)
            case Not():
                return self._not(node)

    def _reference(self, node: Reference) -> _Outcome:
        year = self._year - node.lag
        key = (node.element, year)
        data_value = self._values.get(key)
        if data_value is None or key in self._rejected:
            return self._unusable(node, year, data_value)
        if data_value.state is not ValueState.PROVIDED:
            return self._unusable(node, year, data_value)

        value = data_value.value
        if value is None or (isinstance(value, Decimal) and not value.is_finite()):
            return self._fail(
                NotComputableReason.REJECTED_INPUT,
                f"{node.label} ({year}) is not a finite value",
                node,
                year,
            )
        return value

    def _unusable(
        self, node: Reference, year: int, data_value: DataValue | None
    ) -> NotComputable:
        key = (node.element, year)
        where = f"{node.label} ({year})"
        if key in self._rejected:
            return self._fail(
                NotComputableReason.REJECTED_INPUT,
                f"{where} was rejected: {self._rejected[key]}",
                node,
                year,
            )
        if data_value is None:
            return self._fail(
                NotComputableReason.MISSING_INPUT, f"no value for {where}", node, year
            )
        if data_value.state is ValueState.NOT_APPLICABLE:
            return self._fail(
                NotComputableReason.NOT_APPLICABLE,
                f"{where} is not applicable: {data_value.reason}",
                node,
                year,
            )
        return self._fail(
            NotComputableReason.NOT_AVAILABLE,
            f"{where} is not available: {data_value.reason}",
            node,
            year,
        )

    def _state_test(self, node: StateTest) -> bool:
        reference = node.reference
        key = (reference.element, self._year - reference.lag)
        data_value = self._values.get(key)
        if data_value is None or key in self._rejected:
            return False
        return data_value.state is node.state

    def _negate(self, node: Negate) -> _Outcome:
        operand = self.value_of(node.operand)
        if isinstance(operand, NotComputable):
            return operand
        if not isinstance(operand, Decimal):
            return self._mismatch("'-' needs a number", node)
        return self._guarded(lambda: self._context.minus(operand), node)

    def _not(self, node: Not) -> _Outcome:
        operand = self.value_of(node.operand)
        if isinstance(operand, NotComputable):
            return operand
        if not isinstance(operand, bool):
            return self._mismatch("'not' needs yes/no", node)
        return not operand

    def _arithmetic(self, node: Arithmetic) -> _Outcome:
        left = self.value_of(node.left)
        if isinstance(left, NotComputable):
            return left
        right = self.value_of(node.right)
        if isinstance(right, NotComputable):
            return right
        if not (isinstance(left, Decimal) and isinstance(right, Decimal)):
            return self._mismatch(f"'{node.operator}' needs numbers", node)

        if node.operator == "/" and right.is_zero():
            return self._division_by_zero(node)
        try:
            return _OPERATIONS[node.operator](self._context, left, right)
        except DecimalException:
            return self._out_of_range(node)

    def _division_by_zero(self, node: Arithmetic) -> NotComputable:
        divisor = node.right
        if isinstance(divisor, Reference):
            year = self._year - divisor.lag
            return self._fail(
                NotComputableReason.DIVISION_BY_ZERO,
                f"division by zero: {divisor.label} ({year}) is 0",
                divisor,
                year,
            )
        return self._fail(
            NotComputableReason.DIVISION_BY_ZERO,
            f"division by zero at character {node.offset + 1}",
            node,
        )

    def _comparison(self, node: Comparison) -> _Outcome:
        left = self.value_of(node.left)
        if isinstance(left, NotComputable):
            return left
        right = self.value_of(node.right)
        if isinstance(right, NotComputable):
            return right

        if node.operator in ("==", "!="):
            if type(left) is not type(right):
                return self._mismatch(
                    f"'{node.operator}' compares values of one type", node
                )
            return (left == right) is (node.operator == "==")
        if not (isinstance(left, Decimal) and isinstance(right, Decimal)):
            return self._mismatch(f"'{node.operator}' needs numbers", node)
        return _ORDERINGS[node.operator](left, right)

    def _logical(self, node: Logical) -> _Outcome:
        left = self.value_of(node.left)
        if isinstance(left, NotComputable):
            return left
        if not isinstance(left, bool):
            return self._mismatch(f"'{node.operator}' needs yes/no", node)
        if left is (node.operator == "or"):
            return left

        right = self.value_of(node.right)
        if isinstance(right, NotComputable):
            return right
        if not isinstance(right, bool):
            return self._mismatch(f"'{node.operator}' needs yes/no", node)
        return right

    def _conditional(self, node: Conditional) -> _Outcome:
        condition = self.value_of(node.condition)
        if isinstance(condition, NotComputable):
            return condition
        if not isinstance(condition, bool):
            return self._mismatch("the condition after 'if' must be yes/no", node)
        return self.value_of(node.when_true if condition else node.when_false)

    def _call(self, node: Call) -> _Outcome:
        arguments: list[Decimal] = []
        for argument in node.arguments:
            value = self.value_of(argument)
            if isinstance(value, NotComputable):
                return value
            if not isinstance(value, Decimal):
                return self._mismatch(f"{node.function}() needs numbers", node)
            arguments.append(value)

        if node.function == "min":
            return min(arguments)
        if node.function == "max":
            return max(arguments)
        if node.function == "abs":
            return self._guarded(lambda: self._context.abs(arguments[0]), node)
        return self._round(arguments[0], arguments[1], node)

    def _round(self, value: Decimal, places: Decimal, node: Call) -> _Outcome:
        whole = places == places.to_integral_value()
        if not whole or not 0 <= places <= MAX_ROUNDING_PLACES:
            return self._mismatch(
                "round() takes a whole number of places "
                f"from 0 to {MAX_ROUNDING_PLACES}",
                node,
            )
        rounded = round_half_up(value, int(places))
        if rounded is None:
            return self._fail(
                NotComputableReason.ARITHMETIC_LIMIT,
                f"round() at character {node.offset + 1} exceeds the precision",
                node,
            )
        return rounded

    def _guarded(self, operation: Callable[[], Decimal], node: Node) -> _Outcome:
        try:
            return operation()
        except DecimalException:
            return self._out_of_range(node)

    def _out_of_range(self, node: Node) -> NotComputable:
        return self._fail(
            NotComputableReason.ARITHMETIC_LIMIT,
            f"result out of range at character {node.offset + 1}",
            node,
        )

    def _mismatch(self, message: str, node: Node) -> NotComputable:
        return self._fail(
            NotComputableReason.TYPE_MISMATCH,
            f"{message} (character {node.offset + 1})",
            node,
        )

    def _fail(
        self,
        reason: NotComputableReason,
        detail: str,
        node: Node,
        year: int | None = None,
    ) -> NotComputable:
        element = node.element if isinstance(node, Reference) else None
        return NotComputable(
            reason=reason,
            detail=detail,
            element=element,
            year=year,
            position=node.offset + 1,
        )
