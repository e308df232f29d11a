"""Figures as people write them: one rule for the submission service and the
scoring preview."""

from decimal import Decimal

import pytest

from pmm_kit.numbers import NumberRuleError, parse_figure


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("196200", Decimal("196200")),
        (" 98.10 ", Decimal("98.10")),
        ("-3", Decimal("-3")),
        ("+.5", Decimal("0.5")),
        ("-0", Decimal("0")),
    ],
)
def test_ascii_digits_a_sign_and_one_point_are_a_figure(
    text: str, number: Decimal
) -> None:
    read = parse_figure(text)

    assert read == number
    assert str(read) == str(number)


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("1_000", "value.number"),
        ("\u0661\u0662\u0663", "value.number"),  # Arabic-Indic digits
        ("\uff11\uff12", "value.number"),  # fullwidth digits
        ("1 000", "value.number"),
        ("1.2.3", "value.number"),
        ("12abc", "value.number"),
        ("", "value.number"),
        ("1E+999999999", "value.number"),
        ("1e3", "value.number"),
        ("NaN", "value.not_finite"),
        ("-Infinity", "value.not_finite"),
        ("1" * 31, "value.too_large"),
        ("0." + "1" * 21, "value.too_many_decimals"),
    ],
)
def test_anything_else_is_refused_with_its_rule(text: str, rule: str) -> None:
    with pytest.raises(NumberRuleError) as refused:
        parse_figure(text)

    assert refused.value.rule == rule


def test_a_declared_comma_separates_decimals_and_a_point_is_refused() -> None:
    read = parse_figure("1200,5", decimal_separator=",")

    with pytest.raises(NumberRuleError) as refused:
        parse_figure("1.200,5", decimal_separator=",")

    assert read == Decimal("1200.5")
    assert refused.value.rule == "value.decimal_separator"


def test_a_refusal_echoes_a_long_text_shortened_and_a_nul_escaped() -> None:
    with pytest.raises(NumberRuleError) as refused:
        parse_figure("x\x00" + "9" * 100)

    assert "\x00" not in refused.value.message
    assert "x\\u0000999" in refused.value.message
    assert "9" * 60 not in refused.value.message
