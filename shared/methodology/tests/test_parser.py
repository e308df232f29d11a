from decimal import Decimal

import pytest

from pmm_methodology import ExpressionSyntaxError, parse
from pmm_methodology.expressions.nodes import (
    Arithmetic,
    Call,
    Comparison,
    Conditional,
    Logical,
    Negate,
    Not,
    Number,
    Reference,
    StateTest,
    Text,
    walk,
)
from pmm_methodology.values import ValueState


def test_multiplication_binds_tighter_than_addition() -> None:
    root = parse("1 + 2 * 3").root

    assert isinstance(root, Arithmetic)
    assert root.operator == "+"
    assert isinstance(root.right, Arithmetic)
    assert root.right.operator == "*"


def test_subtraction_is_left_associative() -> None:
    root = parse("10 - 4 - 3").root

    assert isinstance(root, Arithmetic)
    assert isinstance(root.left, Arithmetic)
    assert root.right == Number(Decimal(3), 9)


def test_references_in_t_and_t_minus_1() -> None:
    expression = parse("AEO_COUNT - AEO_COUNT[T-1] + AEO_COUNT[T]")

    assert [(r.element, r.lag) for r in expression.references()] == [
        ("AEO_COUNT", 0),
        ("AEO_COUNT", 1),
    ]


def test_reference_offsets_point_at_the_code() -> None:
    root = parse("1 + X_2[T - 1]").root

    assert isinstance(root, Arithmetic)
    assert root.right == Reference("X_2", 1, 4)


def test_conditional_reads_as_value_if_condition_else_other() -> None:
    root = parse("A / B if B > 0 else 0").root

    assert isinstance(root, Conditional)
    assert isinstance(root.condition, Comparison)
    assert isinstance(root.when_true, Arithmetic)
    assert root.when_false == Number(Decimal(0), 20)


def test_conditionals_chain_to_the_right() -> None:
    root = parse("1 if A else 2 if B else 3").root

    assert isinstance(root, Conditional)
    assert isinstance(root.when_false, Conditional)


def test_not_binds_looser_than_comparison_and_tighter_than_and() -> None:
    root = parse("not A > 1 and B").root

    assert isinstance(root, Logical)
    assert root.operator == "and"
    assert isinstance(root.left, Not)
    assert isinstance(root.left.operand, Comparison)


def test_or_binds_looser_than_and() -> None:
    root = parse("A or B and C").root

    assert isinstance(root, Logical)
    assert root.operator == "or"
    assert isinstance(root.right, Logical)


def test_unary_minus_and_functions() -> None:
    root = parse("-abs(-X) + round(min(1, 2.5, X), 1) - max(X, 0)").root

    calls = [node.function for node in walk(root) if isinstance(node, Call)]
    assert sorted(calls) == ["abs", "max", "min", "round"]
    assert isinstance(root, Arithmetic)
    assert isinstance(root.left, Arithmetic)
    assert isinstance(root.left.left, Negate)


def test_state_tests_and_text() -> None:
    root = parse("not_available(X[T-1]) or STATUS == 'full'").root

    assert isinstance(root, Logical)
    assert root.left == StateTest(ValueState.NOT_AVAILABLE, Reference("X", 1, 14), 0)
    assert isinstance(root.right, Comparison)
    assert root.right.right == Text("full", 35)


def test_numbers_keep_their_digits() -> None:
    root = parse("0.10").root

    assert root == Number(Decimal("0.10"), 0)
    assert str(Number(Decimal("0.10"), 0).value) == "0.10"


@pytest.mark.parametrize(
    ("text", "position", "message"),
    [
        ("", 1, "empty expression"),
        ("1 +", 4, "expected a value"),
        ("(1 + 2", 7, "'(' at character 1 is not closed"),
        ("1 + 2)", 6, "unexpected ')'"),
        ("A[T-2]", 5, "the year must be T or T-1"),
        ("A[2022]", 3, "the year must be T or T-1"),
        ("A[T-1", 6, "closed by ']'"),
        ("a + 1", 1, "unknown name 'a'"),
        ("1 < 2 < 3", 7, "cannot be chained"),
        ("1 = 2", 3, "comparisons are == and !="),
        ("1 $ 2", 3, "unexpected character '$'"),
        ("'open", 1, "text is not closed"),
        ("1.2.3", 1, "malformed number"),
        ("12abc", 1, "malformed number"),
        ("round(1)", 1, "round() takes 2 arguments"),
        ("abs(1, 2)", 1, "abs() takes 1 argument"),
        ("min(1)", 1, "min() takes at least 2 arguments"),
        ("provided(1 + 2)", 1, "provided() takes one data element"),
        ("min 1", 5, "'min' must be followed by '('"),
        ("1 if A", 7, "a conditional needs 'else'"),
        ("A and", 6, "expected a value"),
        ("A else 1", 3, "unexpected 'else'"),
        ("if", 1, "expected a value, found 'if'"),
    ],
)
def test_syntax_errors_report_their_position(
    text: str, position: int, message: str
) -> None:
    with pytest.raises(ExpressionSyntaxError) as raised:
        parse(text)

    assert raised.value.position == position
    assert message in str(raised.value)
    assert raised.value.text == text


def test_deep_nesting_is_a_syntax_error_not_a_crash() -> None:
    with pytest.raises(ExpressionSyntaxError, match="nested deeper"):
        parse("(" * 500 + "1" + ")" * 500)


def test_long_chains_are_refused_before_evaluation_could_overflow_the_stack() -> None:
    with pytest.raises(ExpressionSyntaxError, match="nested deeper"):
        parse(" + ".join(["1"] * 300))


def test_very_long_text_is_refused() -> None:
    with pytest.raises(ExpressionSyntaxError, match="longer than"):
        parse("1" * 5000)
