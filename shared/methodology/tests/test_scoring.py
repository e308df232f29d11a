from decimal import Decimal

import pytest

from pmm_methodology import (
    Aggregation,
    Direction,
    KpiKind,
    KpiLevel,
    KpiResult,
    KpiStatus,
    OutcomeStatus,
    reference_framework,
)
from pmm_methodology.scoring import dimension_result, kpi_level, mean, outcome_result


@pytest.mark.parametrize(
    ("value", "level"),
    [("49.99", 1), ("50", 2), ("79.99", 2), ("80.00", 3), ("95", 4), ("100", 4)],
)
def test_higher_is_better_reaches_each_threshold_inclusively(
    value: str, level: int
) -> None:
    kpi = reference_framework().kpi("TF.1.1")

    found, bands = kpi_level(kpi, Decimal(value))

    assert found == level
    assert [band.reached for band in bands] == [level >= 2, level >= 3, level >= 4]


@pytest.mark.parametrize(
    ("value", "level"),
    [("72.1", 1), ("72", 2), ("48", 3), ("24.0", 4), ("0", 4)],
)
def test_lower_is_better_reaches_each_threshold_inclusively(
    value: str, level: int
) -> None:
    kpi = reference_framework().kpi("TF.4.1")

    found, _ = kpi_level(kpi, Decimal(value))

    assert found == level


def test_band_thresholds_keep_the_digits_the_framework_gives() -> None:
    kpi = reference_framework().kpi("TF.1.1")
    assert kpi.bands is not None
    written_longer = kpi.model_copy(
        update={"bands": kpi.bands.model_copy(update={"developing": Decimal("50.0")})}
    )

    _, plain = kpi_level(kpi, Decimal(60))
    _, longer = kpi_level(written_longer, Decimal(60))

    assert [str(band.threshold) for band in plain] == ["50", "80", "95"]
    assert [str(band.threshold) for band in longer] == ["50.0", "80", "95"]


def test_yes_no_scores_four_or_one() -> None:
    kpi = reference_framework().kpi("OD.1.2")

    assert kpi_level(kpi, True) == (4, ())
    assert kpi_level(kpi, False) == (1, ())


def test_direction_none_is_not_scored() -> None:
    kpi = reference_framework().kpi("TF.3.1")

    assert kpi_level(kpi, Decimal(40)) == ("not_scored", ())


def test_means_round_half_up_to_two_places() -> None:
    assert mean([Decimal("1.00"), Decimal("1.25")]) == Decimal("1.13")
    assert mean([Decimal(2), Decimal(3), Decimal(3)]) == Decimal("2.67")
    assert mean([]) is None


def _kpi(
    code: str, level: KpiLevel, direction: Direction = Direction.HIGHER_BETTER
) -> KpiResult:
    return KpiResult(
        code=code,
        outcome="TF.1",
        kind=KpiKind.RATIO,
        unit="percent",
        direction=direction,
        provisional=True,
        formula="1",
        rounding=0,
        status=KpiStatus.COMPUTED,
        level=level,
    )


@pytest.mark.parametrize(
    ("aggregation", "expected"),
    [
        (Aggregation.WEAKEST_LINK, Decimal("2.00")),
        (Aggregation.AVERAGING, Decimal("3.00")),
    ],
)
def test_weakest_link_and_averaging(
    aggregation: Aggregation, expected: Decimal
) -> None:
    outcome = (
        reference_framework()
        .outcome("TF.1")
        .model_copy(update={"aggregation": aggregation})
    )

    result = outcome_result(outcome, [_kpi("A", 4), _kpi("B", 2), _kpi("C", 3)])

    assert result.status is OutcomeStatus.SCORED
    assert result.level == expected


@pytest.mark.parametrize(
    ("levels", "status"),
    [
        (["n/a", 3], OutcomeStatus.SCORED),
        (["insufficient", 3], OutcomeStatus.INSUFFICIENT),
        (["n/a", "n/a"], OutcomeStatus.NOT_APPLICABLE),
    ],
)
def test_outcome_status(levels: list[KpiLevel], status: OutcomeStatus) -> None:
    outcome = reference_framework().outcome("TF.1")
    kpis = [_kpi(f"K{index}", level) for index, level in enumerate(levels)]

    result = outcome_result(outcome, kpis)

    assert result.status is status
    assert [c.counted for c in result.contributions] == [
        isinstance(level, int) for level in levels
    ]


def test_an_outcome_with_only_unscored_kpis_is_not_scored() -> None:
    outcome = reference_framework().outcome("ES.2")
    kpis = [_kpi("ES.2.1", "not_scored", Direction.NONE)]

    result = outcome_result(outcome, kpis)

    assert result.status is OutcomeStatus.NOT_SCORED
    assert result.contributions[0].note == "direction none: reported, not scored"


def test_dimension_score_and_coverage() -> None:
    dimension = reference_framework().dimension("TF")
    outcome = reference_framework().outcome("TF.1")
    scored_high = outcome_result(outcome, [_kpi("A", 4)])
    scored_low = outcome_result(outcome, [_kpi("B", 3), _kpi("C", 2)])
    insufficient = outcome_result(outcome, [_kpi("D", "insufficient")])
    not_applicable = outcome_result(outcome, [_kpi("E", "n/a")])

    result = dimension_result(
        dimension, [scored_high, scored_low, insufficient, not_applicable]
    )

    assert scored_low.level == Decimal("2.50")
    assert result.score == Decimal("3.25")
    assert (result.coverage.scored, result.coverage.applicable) == (2, 3)
    assert result.coverage.ratio == Decimal("0.6667")
    assert [c.counted for c in result.contributions] == [True, True, False, False]
