"""From KPI values to levels, expected outcome levels and dimension scores.

An expected outcome is scored only when every applicable scored KPI has a level: under
weakest link a missing KPI could be the weakest, and an average over whichever KPIs
happened to arrive would not compare across administrations. A dimension, by contrast,
averages the outcomes it has and says how many that is (its coverage).

Means are rounded half away from zero to two decimals; a dimension averages the
outcome levels as shown, so that a reader can redo the sum from the scorecard.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

from pmm_methodology.decimals import arithmetic_context, round_half_up
from pmm_methodology.framework import Dimension, Kpi, Outcome
from pmm_methodology.results import (
    BandCheck,
    Coverage,
    DimensionResult,
    KpiContribution,
    KpiLevel,
    KpiResult,
    OutcomeContribution,
    OutcomeResult,
    OutcomeStatus,
)
from pmm_methodology.vocabulary import LEVEL_NAMES, Aggregation, Direction

SCORE_PLACES = 2
COVERAGE_PLACES = 4
# A weakest link is one of four whole levels, written with two decimals.
_WHOLE_LEVELS = {
    level: round_half_up(Decimal(level), SCORE_PLACES) for level in (1, 2, 3, 4)
}


@dataclass(frozen=True, slots=True)
class BandThreshold:
    """A band's threshold with the check it gives either way: a KPI's bands are the
    same in every assessment, so its plan builds the checks once and shares them."""

    threshold: Decimal
    reached: BandCheck
    missed: BandCheck


def band_thresholds(kpi: Kpi) -> tuple[BandThreshold, ...]:
    if kpi.bands is None:
        return ()
    return tuple(
        BandThreshold(
            bar, _band_check(level, bar, True), _band_check(level, bar, False)
        )
        for level, bar in kpi.bands.thresholds()
    )


def _band_check(level: int, threshold: Decimal, reached: bool) -> BandCheck:
    # The threshold keeps its digits: 50 and 50.0 are equal but print differently.
    return BandCheck(
        level=level, name=LEVEL_NAMES[level], threshold=threshold, reached=reached
    )


def kpi_level(
    kpi: Kpi,
    value: Decimal | bool | str,
    thresholds: Sequence[BandThreshold] | None = None,
) -> tuple[KpiLevel, tuple[BandCheck, ...]]:
    """The level a computed value reaches, and each band threshold checked.

    `thresholds` are the KPI's, as its plan holds them; without them they are read
    from the KPI.
    """
    if kpi.direction is Direction.NONE:
        return "not_scored", ()
    if isinstance(value, bool):
        return _yes_no_level(value, kpi.direction), ()
    if kpi.bands is None or not isinstance(value, Decimal):
        return "insufficient", ()

    if thresholds is None:
        thresholds = band_thresholds(kpi)
    higher_better = kpi.direction is Direction.HIGHER_BETTER
    checks = tuple(
        band.reached
        if (value >= band.threshold if higher_better else value <= band.threshold)
        else band.missed
        for band in thresholds
    )
    reached = sum(1 for check in checks if check.reached)
    return _as_level(1 + reached), checks


def _yes_no_level(value: bool, direction: Direction) -> KpiLevel:
    good = value if direction is Direction.HIGHER_BETTER else not value
    return 4 if good else 1


def _as_level(number: int) -> KpiLevel:
    levels: dict[int, KpiLevel] = {1: 1, 2: 2, 3: 3, 4: 4}
    return levels[number]


def outcome_result(outcome: Outcome, kpi_results: Sequence[KpiResult]) -> OutcomeResult:
    contributions = tuple(_kpi_contribution(result) for result in kpi_results)
    scorable = [r for r in kpi_results if r.direction is not Direction.NONE]
    applicable = [r for r in scorable if r.level != "n/a"]
    levels = [r.level for r in applicable if isinstance(r.level, int)]
    status = _outcome_status(scorable, applicable, levels)
    level = (
        _aggregate(outcome.aggregation, levels)
        if status is OutcomeStatus.SCORED
        else None
    )
    return OutcomeResult(
        code=outcome.code,
        dimension=outcome.dimension,
        provisional=outcome.provisional,
        aggregation=outcome.aggregation,
        status=status,
        level=level,
        contributions=contributions,
    )


def _outcome_status(
    scorable: Sequence[KpiResult],
    applicable: Sequence[KpiResult],
    levels: Sequence[int],
) -> OutcomeStatus:
    if not scorable:
        return OutcomeStatus.NOT_SCORED
    if not applicable:
        return OutcomeStatus.NOT_APPLICABLE
    if len(levels) < len(applicable):
        return OutcomeStatus.INSUFFICIENT
    return OutcomeStatus.SCORED


def _kpi_contribution(result: KpiResult) -> KpiContribution:
    if result.direction is Direction.NONE:
        return _not_scored(result.code, result.level)
    if result.level == "n/a":
        note = f"not applicable: {_why_not_applicable(result)}"
        return KpiContribution(
            kpi=result.code, level=result.level, counted=False, note=note
        )
    if result.level == "insufficient":
        detail = result.not_computable.detail if result.not_computable else "no value"
        note = f"insufficient data: {detail}"
        return KpiContribution(
            kpi=result.code, level=result.level, counted=False, note=note
        )
    return _counted(result.code, result.level)


@lru_cache(maxsize=4096, typed=True)
def _counted(kpi: str, level: KpiLevel) -> KpiContribution:
    # Frozen and alike in every assessment where the KPI reaches that level.
    return KpiContribution(kpi=kpi, level=level, counted=True)


@lru_cache(maxsize=4096, typed=True)
def _not_scored(kpi: str, level: KpiLevel) -> KpiContribution:
    # Shared as `_counted` are: the note depends on the KPI's direction alone.
    note = "direction none: reported, not scored"
    return KpiContribution(kpi=kpi, level=level, counted=False, note=note)


def _why_not_applicable(result: KpiResult) -> str:
    if result.opt_out_reason is not None:
        return f"opted out: {result.opt_out_reason}"
    if result.not_computable is not None:
        return result.not_computable.detail
    return "opted out"


def _aggregate(aggregation: Aggregation, levels: Sequence[int]) -> Decimal | None:
    if aggregation is Aggregation.WEAKEST_LINK:
        return _WHOLE_LEVELS[min(levels)]
    return mean([Decimal(level) for level in levels])


def mean(numbers: Sequence[Decimal]) -> Decimal | None:
    """The mean rounded half away from zero to two decimals."""
    if not numbers:
        return None

    context = arithmetic_context()
    total = sum(numbers, Decimal(0))
    return round_half_up(
        context.divide(total, Decimal(len(numbers))), SCORE_PLACES, context
    )


def dimension_result(
    dimension: Dimension, outcome_results: Sequence[OutcomeResult]
) -> DimensionResult:
    counted_statuses = (OutcomeStatus.SCORED, OutcomeStatus.INSUFFICIENT)
    applicable = [r for r in outcome_results if r.status in counted_statuses]
    scored = [r.level for r in applicable if r.level is not None]
    return DimensionResult(
        code=dimension.code,
        score=mean(scored),
        coverage=_coverage(len(scored), len(applicable)),
        contributions=tuple(
            OutcomeContribution(
                outcome=r.code,
                status=r.status,
                level=r.level,
                counted=r.status is OutcomeStatus.SCORED,
            )
            for r in outcome_results
        ),
    )


def _coverage(scored: int, applicable: int) -> Coverage:
    if applicable == 0:
        return Coverage(scored=scored, applicable=applicable)

    context = arithmetic_context()
    ratio = context.divide(Decimal(scored), Decimal(applicable))
    return Coverage(
        scored=scored,
        applicable=applicable,
        ratio=round_half_up(ratio, COVERAGE_PLACES, context),
    )
