from decimal import Decimal

import pytest

from pmm_methodology import (
    Computed,
    DataValue,
    NotComputable,
    NotComputableReason,
    ValueKey,
    evaluate,
    parse,
)

YEAR = 2022


def _value(text: str, values: dict[ValueKey, DataValue] | None = None) -> object:
    result = evaluate(parse(text), values or {}, year=YEAR)
    assert isinstance(result, Computed), result
    return result.value


def _failure(
    text: str, values: dict[ValueKey, DataValue] | None = None
) -> NotComputable:
    result = evaluate(parse(text), values or {}, year=YEAR)
    assert isinstance(result, NotComputable), result
    return result


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1 + 2 * 3", Decimal(7)),
        ("(1 + 2) * 3", Decimal(9)),
        ("10 - 4 - 3", Decimal(3)),
        ("-2 * -3", Decimal(6)),
        ("0.1 + 0.2", Decimal("0.3")),
        ("1 / 3 * 3", Decimal("0.9999999999999999999999999999999999")),
        ("1 / 8", Decimal("0.125")),
        ("min(3, 1.5, 2)", Decimal("1.5")),
        ("max(3, 1.5, 2)", Decimal(3)),
        ("abs(-4.25)", Decimal("4.25")),
        ("round(2.345, 2)", Decimal("2.35")),
        ("round(-2.345, 2)", Decimal("-2.35")),
        ("round(2.5, 0)", Decimal(3)),
        ("round(-0.001, 2)", Decimal("0.00")),
        ("7 if 1 < 2 else 8", Decimal(7)),
        ("7 if 1 > 2 else 8", Decimal(8)),
    ],
)
def test_arithmetic_is_exact_decimal(text: str, expected: Decimal) -> None:
    value = _value(text)

    assert isinstance(value, Decimal)
    assert value == expected
    assert str(value) == str(expected)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1 < 2", True),
        ("2 <= 2", True),
        ("3 > 4", False),
        ("3 >= 4", False),
        ("1.0 == 1", True),
        ("1 != 1", False),
        ("'a' == 'a'", True),
        ("true != false", True),
        ("not true", False),
        ("true and false", False),
        ("false or true", True),
    ],
)
def test_comparisons_and_logic(text: str, expected: bool) -> None:
    assert _value(text) is expected


def test_round_half_up_is_not_python_round() -> None:
    assert _value("round(0.125, 2)") == Decimal("0.13")
    assert _value("round(2.5, 0)") == Decimal(3)


def test_references_read_year_t_and_t_minus_1() -> None:
    values = {
        ("AEO_COUNT", 2022): DataValue.provided(230),
        ("AEO_COUNT", 2021): DataValue.provided(200),
    }

    value = _value("(AEO_COUNT - AEO_COUNT[T-1]) / AEO_COUNT[T-1] * 100", values)

    assert value == Decimal(15)


def test_enumeration_and_boolean_values() -> None:
    values = {
        ("STATUS", 2022): DataValue.provided("partial"),
        ("PROGRAMME", 2022): DataValue.provided(True),
    }

    assert _value("STATUS == 'partial' and PROGRAMME", values) is True
    assert _value("3 if STATUS == 'full' else 2", values) == Decimal(2)


def test_state_tests() -> None:
    values = {
        ("A", 2022): DataValue.provided(1),
        ("B", 2022): DataValue.not_applicable("no programme"),
        ("C", 2021): DataValue.not_available("not measured"),
    }

    assert _value("provided(A) and not provided(B) and not provided(Z)", values) is True
    assert _value("not_applicable(B) and not not_applicable(A)", values) is True
    assert _value("not_available(C[T-1]) and not not_available(C)", values) is True


def test_division_by_zero_names_the_divisor() -> None:
    values = {("A", 2022): DataValue.provided(5), ("B", 2021): DataValue.provided(0)}

    failure = _failure("A / B[T-1]", values)

    assert failure.reason is NotComputableReason.DIVISION_BY_ZERO
    assert (failure.element, failure.year) == ("B", 2021)
    assert failure.detail == "division by zero: B[T-1] (2021) is 0"


def test_division_by_a_computed_zero() -> None:
    failure = _failure("1 / (2 - 2)")

    assert failure.reason is NotComputableReason.DIVISION_BY_ZERO
    assert failure.element is None
    assert failure.position == 3


def test_a_conditional_can_avoid_a_zero_denominator() -> None:
    values = {("A", 2022): DataValue.provided(5), ("B", 2022): DataValue.provided(0)}

    assert _value("A / B if B > 0 else 0", values) == Decimal(0)


def test_and_or_read_only_what_they_need() -> None:
    assert _value("false and MISSING > 1") is False
    assert _value("true or MISSING > 1") is True
    assert _failure("true and MISSING > 1").reason is NotComputableReason.MISSING_INPUT


@pytest.mark.parametrize(
    ("state", "reason"),
    [
        (DataValue.not_applicable("opt-out"), NotComputableReason.NOT_APPLICABLE),
        (DataValue.not_available("lost"), NotComputableReason.NOT_AVAILABLE),
    ],
)
def test_a_value_without_a_number_is_not_computable(
    state: DataValue, reason: NotComputableReason
) -> None:
    failure = _failure("X * 2", {("X", 2022): state})

    assert failure.reason is reason
    assert (failure.element, failure.year) == ("X", 2022)
    assert state.reason is not None
    assert state.reason in failure.detail


def test_a_missing_t_minus_1_value() -> None:
    failure = _failure("X - X[T-1]", {("X", 2022): DataValue.provided(1)})

    assert failure.reason is NotComputableReason.MISSING_INPUT
    assert (failure.element, failure.year) == ("X", 2021)
    assert failure.detail == "no value for X[T-1] (2021)"


def test_a_rejected_value_is_not_read() -> None:
    values = {("X", 2022): DataValue.provided(-5)}

    result = evaluate(
        parse("X + 1"), values, year=YEAR, rejected={("X", 2022): "below the minimum 0"}
    )

    assert isinstance(result, NotComputable)
    assert result.reason is NotComputableReason.REJECTED_INPUT
    assert "below the minimum 0" in result.detail


@pytest.mark.parametrize(
    "text",
    [
        "1 + true",
        "-'a'",
        "not 1",
        "1 and true",
        "'a' < 'b'",
        "1 == true",
        "1 if 2 else 3",
        "min(1, false)",
        "round(1.5, 0.5)",
        "round(1, 13)",
    ],
)
def test_type_mismatches_are_not_computable(text: str) -> None:
    assert _failure(text).reason is NotComputableReason.TYPE_MISMATCH


def test_overflow_is_not_computable() -> None:
    values = {("HUGE", 2022): DataValue.provided(Decimal("9E+999998"))}

    failure = _failure("HUGE * HUGE", values)

    assert failure.reason is NotComputableReason.ARITHMETIC_LIMIT


def test_rounding_beyond_the_precision_is_not_computable() -> None:
    values = {("BIG", 2022): DataValue.provided(Decimal("1E+40"))}

    failure = _failure("round(BIG, 2)", values)

    assert failure.reason is NotComputableReason.ARITHMETIC_LIMIT
