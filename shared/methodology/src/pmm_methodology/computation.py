"""Computing an assessment: every KPI of a framework for one administration and year.

Two ways to opt out, both giving level `n/a`:

- a data element answered `not_applicable` (with its reason): every KPI that needs it
  is not applicable, unless its formula handles the state itself;
- a KPI named in `kpi_opt_outs` (KPI code -> reason): the administration does not use
  that KPI; it is not computed and its inputs are not required.

A value `not_available`, missing, or rejected by its checks makes the KPIs that need it
`insufficient`.
"""

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Context, Decimal
from typing import TypeVar

from pmm_methodology.decimals import round_half_up, trimmed, written
from pmm_methodology.expressions import Evaluation, NotComputable, NotComputableReason
from pmm_methodology.framework import Framework, Kpi
from pmm_methodology.lineage import lineage_of
from pmm_methodology.plan import InputRead, KpiPlan, plan_of
from pmm_methodology.results import (
    Assessment,
    BandCheck,
    InputUsed,
    KpiLevel,
    KpiResult,
    KpiStatus,
    OutcomeResult,
)
from pmm_methodology.scoring import dimension_result, kpi_level, outcome_result
from pmm_methodology.validation import check_inputs, input_used
from pmm_methodology.values import DataValue, ValueKey
from pmm_methodology.vocabulary import KpiKind

_Result = TypeVar("_Result", KpiResult, OutcomeResult)


def compute(
    framework: Framework,
    year: int,
    values: Mapping[ValueKey, DataValue],
    *,
    kpi_opt_outs: Mapping[str, str] | None = None,
) -> Assessment:
    """Compute, score and check the values of reporting year `year` (T).

    `values` maps (data element code, calendar year) to the value given; T-1 values
    are keyed by `year - 1`.
    """
    opt_outs = dict(kpi_opt_outs or {})
    plan = plan_of(framework)
    check = check_inputs(framework, year, values, opt_outs)

    evaluation = Evaluation(values, year=year, rejected=check.rejected)
    reader = _Reader(year, values, check.rejected, evaluation)
    kpis = tuple(
        _kpi_result(kpi, reader, opt_outs.get(kpi.kpi.code)) for kpi in plan.kpis
    )
    kpis_by_outcome = _grouped(kpis, lambda result: result.outcome)
    outcomes = tuple(
        outcome_result(outcome, kpis_by_outcome.get(outcome.code, []))
        for outcome in framework.outcomes
    )
    outcomes_by_dimension = _grouped(outcomes, lambda result: result.dimension)
    dimensions = tuple(
        dimension_result(dimension, outcomes_by_dimension.get(dimension.code, []))
        for dimension in framework.dimensions
    )

    return Assessment(
        year=year,
        kpis=kpis,
        outcomes=outcomes,
        dimensions=dimensions,
        findings=tuple(check.findings),
        lineage=lineage_of(framework, year, values, opt_outs),
    )


def _grouped(
    results: Iterable[_Result], code_of: Callable[[_Result], str]
) -> dict[str, list[_Result]]:
    """Results by the code they belong to, in their order."""
    groups: dict[str, list[_Result]] = {}
    for result in results:
        groups.setdefault(code_of(result), []).append(result)
    return groups


@dataclass(slots=True)
class _Reader:
    """The values as the KPIs read them, each described once: KPIs share inputs."""

    year: int
    values: Mapping[ValueKey, DataValue]
    rejected: Mapping[ValueKey, str]
    evaluation: Evaluation
    _described: dict[ValueKey, InputUsed] = field(default_factory=dict)

    def input(self, read: InputRead) -> InputUsed:
        key = (read.element, self.year - read.lag)
        described = self._described.get(key)
        if described is None:
            described = input_used(
                key[0], key[1], read.reference, self.values, self.rejected
            )
            self._described[key] = described
        return described


def _kpi_result(
    plan: KpiPlan, reader: _Reader, opt_out_reason: str | None
) -> KpiResult:
    kpi = plan.kpi
    inputs = tuple(reader.input(read) for read in plan.inputs)
    if opt_out_reason is not None:
        return _result(
            kpi,
            inputs,
            status=KpiStatus.OPTED_OUT,
            level="n/a",
            opt_out_reason=opt_out_reason,
        )

    outcome = reader.evaluation.run(plan.formula)
    if isinstance(outcome, NotComputable):
        return _not_computable(kpi, inputs, outcome)

    rounded = _rounded(kpi, outcome, reader.evaluation.context)
    if isinstance(rounded, NotComputable):
        return _not_computable(kpi, inputs, rounded)

    level, bands = kpi_level(kpi, rounded, plan.thresholds)
    return _result(
        kpi,
        inputs,
        status=KpiStatus.COMPUTED,
        level=level,
        value=rounded,
        exact_value=_exact(outcome),
        bands=bands,
    )


def _exact(value: Decimal | bool | str) -> Decimal | bool | str:
    return trimmed(value) if isinstance(value, Decimal) else value


def _rounded(
    kpi: Kpi, value: Decimal | bool | str, context: Context
) -> Decimal | bool | NotComputable:
    if kpi.kind is KpiKind.YES_NO and isinstance(value, bool):
        return value
    if not isinstance(value, Decimal) or kpi.rounding is None:
        return NotComputable(
            reason=NotComputableReason.TYPE_MISMATCH,
            detail=f"the formula gave {value!r}, not what a {kpi.kind.value} KPI gives",
        )

    rounded = round_half_up(value, kpi.rounding, context)
    if rounded is None:
        return NotComputable(
            reason=NotComputableReason.ARITHMETIC_LIMIT,
            detail=f"{written(value)} cannot be rounded to {kpi.rounding} places",
        )
    return rounded


def _not_computable(
    kpi: Kpi, inputs: tuple[InputUsed, ...], outcome: NotComputable
) -> KpiResult:
    level: KpiLevel = "insufficient"
    if outcome.reason is NotComputableReason.NOT_APPLICABLE:
        level = "n/a"
    return _result(
        kpi,
        inputs,
        status=KpiStatus.NOT_COMPUTABLE,
        level=level,
        not_computable=outcome,
    )


def _result(
    kpi: Kpi,
    inputs: tuple[InputUsed, ...],
    *,
    status: KpiStatus,
    level: KpiLevel,
    value: Decimal | bool | None = None,
    exact_value: Decimal | bool | str | None = None,
    bands: tuple[BandCheck, ...] = (),
    not_computable: NotComputable | None = None,
    opt_out_reason: str | None = None,
) -> KpiResult:
    return KpiResult(
        code=kpi.code,
        outcome=kpi.outcome,
        kind=kpi.kind,
        unit=kpi.unit,
        direction=kpi.direction,
        provisional=kpi.provisional,
        formula=kpi.formula,
        rounding=kpi.rounding,
        status=status,
        value=value,
        exact_value=exact_value,
        level=level,
        bands=bands,
        inputs=inputs,
        not_computable=not_computable,
        opt_out_reason=opt_out_reason,
    )
