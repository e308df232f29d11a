"""Plain statements of how one KPI, expected outcome or dimension got its figure.

Everything said here is read from the assessment itself, which carries the inputs,
formula, bands and contributions beside each figure; nothing is recomputed.
"""

from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict

from pmm_methodology.decimals import written
from pmm_methodology.results import (
    Assessment,
    InputState,
    InputUsed,
    KpiLevel,
    KpiResult,
    KpiStatus,
    OutcomeStatus,
)
from pmm_methodology.vocabulary import LEVEL_NAMES, Aggregation, Direction, KpiKind


class Exclusion(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    code: str
    why: str


class Explanation(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    subject: Literal["kpi", "outcome", "dimension"]
    code: str
    summary: str
    steps: tuple[str, ...]
    excluded: tuple[Exclusion, ...] = ()


def explain_kpi(assessment: Assessment, code: str) -> Explanation:
    result = assessment.kpi(code)
    steps = [f"formula: {result.formula}"]
    steps += [_describe_input(used) for used in result.inputs]
    steps += _value_steps(result)
    return Explanation(
        subject="kpi",
        code=code,
        summary=_kpi_summary(result),
        steps=tuple(steps),
        excluded=tuple(
            Exclusion(code=_label(used), why=_input_state_text(used))
            for used in result.inputs
            if used.state is not InputState.PROVIDED
        ),
    )


def _kpi_summary(result: KpiResult) -> str:
    if result.status is KpiStatus.OPTED_OUT:
        return f"{result.code}: opted out ({result.opt_out_reason}), level n/a"
    if result.not_computable is not None:
        detail = result.not_computable.detail
        return f"{result.code}: not computable ({detail}), level {result.level}"
    shown = f"{result.code} = {_show(result.value)} {result.unit}"
    if result.level == "not_scored":
        return f"{shown}, not scored (a rise is neither good nor bad in itself)"
    return f"{shown}, level {_level_text(result.level)}"


def _value_steps(result: KpiResult) -> list[str]:
    if result.status is not KpiStatus.COMPUTED:
        return []

    steps: list[str] = []
    if result.rounding is not None:
        steps.append(
            f"exact value {_show(result.exact_value)}, rounded half up to "
            f"{result.rounding} decimal places: {_show(result.value)}"
        )
    if result.kind is KpiKind.YES_NO and result.direction is not Direction.NONE:
        good = "yes" if result.direction is Direction.HIGHER_BETTER else "no"
        steps.append(f"'{good}' scores 4 (advanced), the other answer 1 (initial)")
    comparison = ">=" if result.direction is Direction.HIGHER_BETTER else "<="
    for band in result.bands:
        reached = "reached" if band.reached else "not reached"
        threshold = _show(band.threshold)
        steps.append(
            f"{band.name} (level {band.level}) {comparison} {threshold}: {reached}"
        )
    return steps


def _describe_input(used: InputUsed) -> str:
    where = f"{_label(used)} ({used.year})"
    if used.state is InputState.PROVIDED:
        return f"{where} = {_show(used.value)}"
    return f"{where}: {_input_state_text(used)}"


def _input_state_text(used: InputUsed) -> str:
    texts = {
        InputState.MISSING: "missing",
        InputState.NOT_APPLICABLE: f"not applicable ({used.reason})",
        InputState.NOT_AVAILABLE: f"not available ({used.reason})",
        InputState.REJECTED: f"rejected ({used.reason})",
        InputState.PROVIDED: f"provided ({_show(used.value)})",
    }
    return texts[used.state]


def _label(used: InputUsed) -> str:
    return used.element if used.reference.lag == 0 else f"{used.element}[T-1]"


_METHOD_NAMES = {
    Aggregation.WEAKEST_LINK: "weakest link (M1)",
    Aggregation.AVERAGING: "averaging (M2)",
}
_METHOD_RULES = {
    Aggregation.WEAKEST_LINK: "the lowest KPI level",
    Aggregation.AVERAGING: "the mean of the KPI levels, two decimals, half up",
}


def explain_outcome(assessment: Assessment, code: str) -> Explanation:
    result = assessment.outcome(code)
    method = _METHOD_NAMES[result.aggregation]
    steps = [f"aggregation: {method}, {_METHOD_RULES[result.aggregation]}"]
    steps += [
        f"{c.kpi}: level {_level_text(c.level)}, "
        + ("counted" if c.counted else f"not counted ({c.note})")
        for c in result.contributions
    ]
    counted = [str(c.level) for c in result.contributions if c.counted]
    if result.status is OutcomeStatus.SCORED:
        verb = "lowest" if result.aggregation is Aggregation.WEAKEST_LINK else "mean"
        steps.append(f"{verb} of {', '.join(counted)} = {result.level}")
    return Explanation(
        subject="outcome",
        code=code,
        summary=_outcome_summary(code, result.status, result.level, method),
        steps=tuple(steps),
        excluded=tuple(
            Exclusion(code=c.kpi, why=c.note or "")
            for c in result.contributions
            if not c.counted
        ),
    )


def _outcome_summary(
    code: str, status: OutcomeStatus, level: Decimal | None, method: str
) -> str:
    if status is OutcomeStatus.SCORED:
        return f"{code}: level {level} by {method}"
    texts = {
        OutcomeStatus.INSUFFICIENT: "insufficient: a scored KPI has no level",
        OutcomeStatus.NOT_APPLICABLE: "n/a: every scored KPI is opted out",
        OutcomeStatus.NOT_SCORED: "not scored: none of its KPIs is scored",
    }
    return f"{code}: {texts[status]}"


def explain_dimension(assessment: Assessment, code: str) -> Explanation:
    result = assessment.dimension(code)
    coverage = result.coverage
    steps = [
        f"{c.outcome}: {_outcome_state_text(c.status, c.level)}"
        for c in result.contributions
    ]
    counted = [str(c.level) for c in result.contributions if c.counted]
    if result.score is not None:
        steps.append(f"mean of {', '.join(counted)} = {result.score}")
    steps.append(
        f"coverage: {coverage.scored} scored of {coverage.applicable} applicable "
        "expected outcomes"
    )
    score = "no score" if result.score is None else f"score {result.score}"
    return Explanation(
        subject="dimension",
        code=code,
        summary=f"{code}: {score}, coverage {coverage.scored}/{coverage.applicable}",
        steps=tuple(steps),
        excluded=tuple(
            Exclusion(code=c.outcome, why=_outcome_state_text(c.status, c.level))
            for c in result.contributions
            if not c.counted
        ),
    )


def _outcome_state_text(status: OutcomeStatus, level: Decimal | None) -> str:
    texts = {
        OutcomeStatus.SCORED: f"level {level}, counted",
        OutcomeStatus.INSUFFICIENT: "insufficient, counts as applicable but not scored",
        OutcomeStatus.NOT_APPLICABLE: "n/a, left out of coverage",
        OutcomeStatus.NOT_SCORED: "has no scored KPI, left out of coverage",
    }
    return texts[status]


def _level_text(level: KpiLevel) -> str:
    if isinstance(level, int) and level in LEVEL_NAMES:
        return f"{level} ({LEVEL_NAMES[level]})"
    return str(level)


def _show(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Decimal):
        return written(value)
    return str(value)
