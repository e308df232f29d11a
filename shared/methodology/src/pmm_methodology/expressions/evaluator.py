"""Evaluating a parsed expression in exact decimal arithmetic.

Evaluation never raises and never produces a float or NaN: every failure, from a
missing input to an overflow, becomes a `NotComputable` naming its reason. `and`, `or`
and conditionals read only what they need, so `X / Y if Y > 0 else 0` is computable
when Y is zero.

An expression is compiled once into nested closures, one per node, each holding what
its node decides statically (operator, element, lag, children): evaluating it then
makes no decision about the tree, only about the values.
"""

import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
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


@dataclass(slots=True)
class _Failure:
    """A `NotComputable` not built yet: rules discard most failures, and a model
    costs several times this."""

    reason: NotComputableReason
    detail: str
    element: str | None
    year: int | None
    position: int

    def not_computable(self) -> NotComputable:
        return NotComputable(
            reason=self.reason,
            detail=self.detail,
            element=self.element,
            year=self.year,
            position=self.position,
        )


_Outcome = Decimal | bool | str | _Failure

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

    __slots__ = ("context", "rejected", "values", "year")

    def __init__(
        self,
        values: Mapping[ValueKey, DataValue],
        *,
        year: int,
        rejected: Mapping[ValueKey, str] | None = None,
    ) -> None:
        self.values = values
        self.year = year
        self.rejected = rejected or {}
        self.context: Context = arithmetic_context()

    def outcome(self, expression: Expression) -> Decimal | bool | str | NotComputable:
        return self.run(compile_expression(expression))

    def run(self, program: "Program") -> Decimal | bool | str | NotComputable:
        """The outcome of an expression compiled beforehand."""
        outcome = program(self)
        if isinstance(outcome, _Failure):
            return outcome.not_computable()
        # Exactly what `Computed` keeps, so that both ways give the same value.
        coerced: Decimal | bool | str = coerce_scalar(outcome)
        return coerced

    def holds(self, program: "Program") -> bool | None:
        """The yes or no of a compiled condition; None when it gives neither.

        What a rule asks, without describing why a condition has no answer.
        """
        outcome = program(self)
        return outcome if isinstance(outcome, bool) else None


Program = Callable[[Evaluation], _Outcome]
"""A compiled expression: its outcome for the values of an evaluation, not coerced
and with a failure not yet a `NotComputable`; `Evaluation.run` gives both."""


def compile_expression(expression: Expression) -> Program:
    """The expression as a program: compile once what is evaluated many times."""
    return _compile(expression.root)


def _compile(node: Node) -> Program:
    # One case per kind of node; each returns the closure that evaluates it.
    match node:
        case Reference():
            return _reference(node)
        case Arithmetic():
            return _arithmetic(node)
        case Number(value=value) | Boolean(value=value) | Text(value=value):
            return _constant(value)
        case Comparison():
            return _comparison(node)
        case Logical():
            return _logical(node)
        case Conditional():
            return _conditional(node)
        case StateTest():
            return _state_test(node)
        case Call():
            return _call(node)
        case Negate():
            return _negate(node)
        case Not():
            return _not(node)


def _constant(value: Decimal | bool | str) -> Program:
    return lambda _: value


def _reference(node: Reference) -> Program:
    element, lag = node.element, node.lag

    def read(evaluation: Evaluation) -> _Outcome:
        year = evaluation.year - lag
        key = (element, year)
        data_value = evaluation.values.get(key)
        if (
            data_value is None
            or key in evaluation.rejected
            or data_value.state is not ValueState.PROVIDED
        ):
            return _unusable(evaluation, node, year, data_value)

        value = data_value.value
        if value is None or (isinstance(value, Decimal) and not value.is_finite()):
            return _fail(
                NotComputableReason.REJECTED_INPUT,
                f"{node.label} ({year}) is not a finite value",
                node,
                year,
            )
        return value

    return read


def _unusable(
    evaluation: Evaluation, node: Reference, year: int, data_value: DataValue | None
) -> _Failure:
    key = (node.element, year)
    where = f"{node.label} ({year})"
    if key in evaluation.rejected:
        return _fail(
            NotComputableReason.REJECTED_INPUT,
            f"{where} was rejected: {evaluation.rejected[key]}",
            node,
            year,
        )
    if data_value is None:
        return _fail(
            NotComputableReason.MISSING_INPUT, f"no value for {where}", node, year
        )
    if data_value.state is ValueState.NOT_APPLICABLE:
        return _fail(
            NotComputableReason.NOT_APPLICABLE,
            f"{where} is not applicable: {data_value.reason}",
            node,
            year,
        )
    return _fail(
        NotComputableReason.NOT_AVAILABLE,
        f"{where} is not available: {data_value.reason}",
        node,
        year,
    )


def _state_test(node: StateTest) -> Program:
    element, lag, state = node.reference.element, node.reference.lag, node.state

    def test(evaluation: Evaluation) -> _Outcome:
        key = (element, evaluation.year - lag)
        data_value = evaluation.values.get(key)
        if data_value is None or key in evaluation.rejected:
            return False
        return data_value.state is state

    return test


def _negate(node: Negate) -> Program:
    operand = _compile(node.operand)

    def negate(evaluation: Evaluation) -> _Outcome:
        value = operand(evaluation)
        if isinstance(value, _Failure):
            return value
        if not isinstance(value, Decimal):
            return _mismatch("'-' needs a number", node)
        try:
            return evaluation.context.minus(value)
        except DecimalException:
            return _out_of_range(node)

    return negate


def _not(node: Not) -> Program:
    operand = _compile(node.operand)

    def negate(evaluation: Evaluation) -> _Outcome:
        value = operand(evaluation)
        if isinstance(value, _Failure):
            return value
        if not isinstance(value, bool):
            return _mismatch("'not' needs yes/no", node)
        return not value

    return negate


def _arithmetic(node: Arithmetic) -> Program:
    left, right = _compile(node.left), _compile(node.right)
    operation = _OPERATIONS[node.operator]
    divides = node.operator == "/"

    def calculate(evaluation: Evaluation) -> _Outcome:
        a = left(evaluation)
        if isinstance(a, _Failure):
            return a
        b = right(evaluation)
        if isinstance(b, _Failure):
            return b
        if not (isinstance(a, Decimal) and isinstance(b, Decimal)):
            return _mismatch(f"'{node.operator}' needs numbers", node)

        if divides and b.is_zero():
            return _division_by_zero(evaluation, node)
        try:
            return operation(evaluation.context, a, b)
        except DecimalException:
            return _out_of_range(node)

    return calculate


def _division_by_zero(evaluation: Evaluation, node: Arithmetic) -> _Failure:
    divisor = node.right
    if isinstance(divisor, Reference):
        year = evaluation.year - divisor.lag
        return _fail(
            NotComputableReason.DIVISION_BY_ZERO,
            f"division by zero: {divisor.label} ({year}) is 0",
            divisor,
            year,
        )
    return _fail(
        NotComputableReason.DIVISION_BY_ZERO,
        f"division by zero at character {node.offset + 1}",
        node,
    )


def _comparison(node: Comparison) -> Program:
    left, right = _compile(node.left), _compile(node.right)
    if node.operator in ("==", "!="):
        return _equality(node, left, right)
    ordering = _ORDERINGS[node.operator]

    def compare(evaluation: Evaluation) -> _Outcome:
        a = left(evaluation)
        if isinstance(a, _Failure):
            return a
        b = right(evaluation)
        if isinstance(b, _Failure):
            return b
        if not (isinstance(a, Decimal) and isinstance(b, Decimal)):
            return _mismatch(f"'{node.operator}' needs numbers", node)
        return ordering(a, b)

    return compare


def _equality(node: Comparison, left: Program, right: Program) -> Program:
    equal = node.operator == "=="

    def compare(evaluation: Evaluation) -> _Outcome:
        a = left(evaluation)
        if isinstance(a, _Failure):
            return a
        b = right(evaluation)
        if isinstance(b, _Failure):
            return b
        if type(a) is not type(b):
            return _mismatch(f"'{node.operator}' compares values of one type", node)
        return (a == b) is equal

    return compare


def _logical(node: Logical) -> Program:
    left, right = _compile(node.left), _compile(node.right)
    # `or` stops at the first true, `and` at the first false.
    decisive = node.operator == "or"
    needs = f"'{node.operator}' needs yes/no"

    def combine(evaluation: Evaluation) -> _Outcome:
        a = left(evaluation)
        if isinstance(a, _Failure):
            return a
        if not isinstance(a, bool):
            return _mismatch(needs, node)
        if a is decisive:
            return a

        b = right(evaluation)
        if isinstance(b, _Failure):
            return b
        if not isinstance(b, bool):
            return _mismatch(needs, node)
        return b

    return combine


def _conditional(node: Conditional) -> Program:
    condition = _compile(node.condition)
    when_true, when_false = _compile(node.when_true), _compile(node.when_false)

    def choose(evaluation: Evaluation) -> _Outcome:
        holds = condition(evaluation)
        if isinstance(holds, _Failure):
            return holds
        if not isinstance(holds, bool):
            return _mismatch("the condition after 'if' must be yes/no", node)
        return when_true(evaluation) if holds else when_false(evaluation)

    return choose


def _call(node: Call) -> Program:
    arguments = tuple(_compile(argument) for argument in node.arguments)
    function = node.function

    def call(evaluation: Evaluation) -> _Outcome:
        numbers: list[Decimal] = []
        for argument in arguments:
            value = argument(evaluation)
            if isinstance(value, _Failure):
                return value
            if not isinstance(value, Decimal):
                return _mismatch(f"{function}() needs numbers", node)
            numbers.append(value)

        if function == "min":
            return min(numbers)
        if function == "max":
            return max(numbers)
        if function == "abs":
            try:
                return evaluation.context.abs(numbers[0])
            except DecimalException:
                return _out_of_range(node)
        return _round(numbers[0], numbers[1], node)

    return call


def _round(value: Decimal, places: Decimal, node: Call) -> _Outcome:
    whole = places == places.to_integral_value()
    if not whole or not 0 <= places <= MAX_ROUNDING_PLACES:
        return _mismatch(
            f"round() takes a whole number of places from 0 to {MAX_ROUNDING_PLACES}",
            node,
        )
    rounded = round_half_up(value, int(places))
    if rounded is None:
        return _fail(
            NotComputableReason.ARITHMETIC_LIMIT,
            f"round() at character {node.offset + 1} exceeds the precision",
            node,
        )
    return rounded


def _out_of_range(node: Node) -> _Failure:
    return _fail(
        NotComputableReason.ARITHMETIC_LIMIT,
        f"result out of range at character {node.offset + 1}",
        node,
    )


def _mismatch(message: str, node: Node) -> _Failure:
    return _fail(
        NotComputableReason.TYPE_MISMATCH,
        f"{message} (character {node.offset + 1})",
        node,
    )


def _fail(
    reason: NotComputableReason,
    detail: str,
    node: Node,
    year: int | None = None,
) -> _Failure:
    element = node.element if isinstance(node, Reference) else None
    return _Failure(reason, detail, element, year, node.offset + 1)
