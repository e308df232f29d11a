"""Units as feeds write them, converted exactly into each data element's own."""

from decimal import Decimal
from fractions import Fraction

import pytest

from pmm_methodology import reference_framework
from pmm_submission.domain import RuleViolation
from pmm_submission.units import (
    check_declared_unit,
    conversion,
    convert,
    parse_unit,
)

ELEMENTS = {e.code: e for e in reference_framework().data_elements}


@pytest.mark.parametrize(
    ("text", "base", "scale"),
    [
        ("EUR million", "EUR", Decimal(10) ** 6),
        ("NGN trillion", "NGN", Decimal(10) ** 12),
        ("thousand hours", "hours", Decimal(1000)),
        ("billions", None, Decimal(10) ** 9),
        ("CNPJ roots", "CNPJ roots", Decimal(1)),
        ("percent", "percent", Decimal(1)),
    ],
)
def test_a_unit_splits_into_base_and_scale(
    text: str, base: str | None, scale: Decimal
) -> None:
    unit = parse_unit(text)

    assert (unit.base, unit.scale) == (base, scale)


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("million EUR billion", "unit.scale_twice"),
        ("EUR million thousand", "unit.scale_twice"),
        ("USD million dollars", "unit.scale_placement"),
    ],
)
def test_a_unit_with_misplaced_scale_words_is_refused(text: str, rule: str) -> None:
    with pytest.raises(RuleViolation) as refused:
        parse_unit(text)

    assert refused.value.rule == rule


@pytest.mark.parametrize(
    ("element", "base", "factor"),
    [
        ("RELEASE_TIME_AVG", "days", Fraction(24)),
        ("RELEASE_TIME_AVG", "minutes", Fraction(1, 60)),
        ("RELEASE_TIME_AVG", "h", Fraction(1)),
        ("ADVANCE_RULING_TIME_AVG", "hours", Fraction(1, 24)),
        ("DRUG_SEIZED_KG", "tonnes", Fraction(1000)),
        ("DRUG_SEIZED_KG", "g", Fraction(1, 1000)),
        ("DECL_TOTAL", "declarations", Fraction(1)),
    ],
)
def test_durations_and_quantities_convert_and_counts_take_labels(
    element: str, base: str, factor: Fraction
) -> None:
    assert conversion(ELEMENTS[element], base, declared=None) == factor


@pytest.mark.parametrize(
    ("element", "base", "declared", "rule"),
    [
        ("DECL_RELEASED_24H", "percent", None, "unit.not_convertible"),
        ("DECL_TOTAL", "EUR", None, "unit.not_convertible"),
        ("RELEASE_TIME_AVG", "kg", None, "unit.not_convertible"),
        ("DRUG_SEIZED_KG", "hours", None, "unit.not_convertible"),
        ("REV_CUSTOMS", "USD", "BRL", "unit.not_convertible"),
        ("REV_CUSTOMS", "EUR", None, "unit.currency_undeclared"),
        ("DECL_TOTAL", "DU-E", "DI", "unit.mismatch"),
        ("CODE_OF_CONDUCT", "yes", None, "unit.not_applicable"),
    ],
)
def test_a_unit_of_another_kind_is_refused(
    element: str, base: str, declared: str | None, rule: str
) -> None:
    with pytest.raises(RuleViolation) as refused:
        conversion(ELEMENTS[element], base, declared=declared)

    assert refused.value.rule == rule


def test_a_national_amount_takes_the_declared_currency_only() -> None:
    element = ELEMENTS["REV_CUSTOMS"]

    assert conversion(element, "EUR", declared="EUR") == 1
    assert check_declared_unit(element, "EUR") == "EUR"
    with pytest.raises(RuleViolation) as scaled:
        check_declared_unit(element, "EUR million")
    with pytest.raises(RuleViolation) as not_a_currency:
        check_declared_unit(element, "euros")

    assert scaled.value.rule == "unit.declared"
    assert not_a_currency.value.rule == "unit.not_convertible"


def test_conversion_is_exact_or_refused() -> None:
    assert str(convert(Decimal("7.4"), Fraction(24))) == "177.6"
    assert str(convert(Decimal("1.25"), Fraction(24))) == "30.00"
    assert str(convert(Decimal("15.30"), Fraction(1, 24))) == "0.6375"
    assert str(convert(Decimal("1.50"), Fraction(1))) == "1.50"
    assert str(convert(Decimal("2.64"), Fraction(1), Decimal(10) ** 12)) == (
        "2640000000000"
    )
    long = Decimal("123456789012345678901234567890.5")
    assert str(convert(long, Fraction(1, 2))) == "61728394506172839450617283945.25"
    with pytest.raises(RuleViolation) as inexact:
        convert(Decimal(10), Fraction(1, 60))

    assert inexact.value.rule == "unit.inexact"


def test_a_power_of_ten_moves_the_decimal_point_by_every_route() -> None:
    million = Decimal(10) ** 6
    by_scale = convert(Decimal("12.5"), Fraction(1), million)
    by_factor = convert(Decimal("12.5"), Fraction(1_000_000))
    by_both = convert(Decimal("12.5"), Fraction(1000), Decimal(1000))

    assert [format(v, "f") for v in (by_scale, by_factor, by_both)] == ["12500000"] * 3
    assert format(convert(Decimal("1.5"), Fraction(1), Decimal(1000)), "f") == "1500"
    assert str(convert(Decimal("1.2345678"), Fraction(1), million)) == "1234567.8"
    assert str(convert(Decimal("0.000001"), Fraction(1), Decimal(1000))) == "0.001"
    # The digits the sender wrote stay, the point moved: 1382.0 kg in tonnes.
    assert str(convert(Decimal("1382.0"), Fraction(1, 1000))) == "1.3820"
    assert str(convert(Decimal("90"), Fraction(1, 60))) == "1.5"


def test_a_power_of_ten_below_one_adds_no_zero_to_a_whole_figure() -> None:
    thousandth = Fraction(1, 1000)

    assert str(convert(Decimal("12500000000"), thousandth)) == "12500000"
    assert str(convert(Decimal("1382000"), thousandth)) == "1382"
    assert str(convert(Decimal("12500"), thousandth)) == "12.5"
    assert str(convert(Decimal("0"), thousandth)) == "0"
    assert str(convert(Decimal("1382"), Fraction(1), Decimal(10) ** 6)) == "1382000000"
    # Decimals the sender wrote stay; any other factor keeps its arithmetic.
    assert str(convert(Decimal("12500.00"), thousandth)) == "12.50000"
    assert str(convert(Decimal("60"), Fraction(1, 60))) == "1.0"
