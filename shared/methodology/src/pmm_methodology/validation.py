"""Checking the inputs: each value against its data element, completeness, KPI
opt-outs, and the framework's consistency rules.

A value that fails its data element's checks is rejected: it is reported as an error
and no KPI reads it, so an impossible figure can never reach a score.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from pmm_methodology.decimals import written
from pmm_methodology.expressions import Evaluation
from pmm_methodology.framework import DataElement, Framework
from pmm_methodology.plan import FrameworkPlan, RulePlan, plan_of
from pmm_methodology.results import Finding, InputState, InputUsed
from pmm_methodology.values import DataValue, ValueKey, ValueState
from pmm_methodology.vocabulary import (
    NUMERIC_ELEMENT_TYPES,
    ElementType,
    Severity,
    YearRef,
)

_INPUT_STATES = {state: InputState(state.value) for state in ValueState}


@dataclass(slots=True)
class InputCheck:
    findings: list[Finding] = field(default_factory=list)
    rejected: dict[ValueKey, str] = field(default_factory=dict)


def check_inputs(
    framework: Framework,
    year: int,
    values: Mapping[ValueKey, DataValue],
    kpi_opt_outs: Mapping[str, str],
) -> InputCheck:
    plan = plan_of(framework)
    check = InputCheck()
    for key in sorted(values):
        _check_value(plan.elements.get(key[0]), year, key, values[key], check)
    check.findings += _opt_out_findings(plan, kpi_opt_outs)
    check.findings += _completeness_findings(plan, year, values, kpi_opt_outs)
    for checked_year in (year, year - 1):
        evaluation = Evaluation(values, year=checked_year, rejected=check.rejected)
        for rule in plan.rules:
            if _broken(rule, evaluation):
                check.findings.append(_rule_finding(rule, evaluation))
    check.findings.sort(key=_finding_order)
    return check


def _finding_order(finding: Finding) -> tuple[str, int, str, str]:
    return (finding.element or "", finding.year or 0, finding.rule, finding.kpi or "")


def _check_value(
    element: DataElement | None,
    year: int,
    key: ValueKey,
    data_value: DataValue,
    check: InputCheck,
) -> None:
    code, value_year = key
    if element is None:
        check.findings.append(
            _warning(
                "input.unknown_element",
                code,
                value_year,
                "not a data element of this framework; not used",
            )
        )
        return
    if value_year not in (year, year - 1):
        check.findings.append(
            _warning(
                "input.year_not_used",
                code,
                value_year,
                f"only {year} and {year - 1} are read; not used",
            )
        )
        return
    if data_value.state is not ValueState.PROVIDED or data_value.value is None:
        return

    for rule, message in _value_problems(element, data_value.value):
        check.findings.append(
            Finding(
                rule=rule,
                severity=Severity.ERROR,
                element=code,
                year=value_year,
                message=message,
            )
        )
        check.rejected.setdefault(key, message)


def _warning(rule: str, element: str, year: int, message: str) -> Finding:
    return Finding(
        rule=rule,
        severity=Severity.WARNING,
        element=element,
        year=year,
        message=message,
    )


# Lists rather than generators: every value of a submission goes through these, and
# nearly all have no problem at all.
def _value_problems(
    element: DataElement, value: Decimal | bool | str
) -> list[tuple[str, str]]:
    if element.type in NUMERIC_ELEMENT_TYPES:
        if not isinstance(value, Decimal):
            return [
                (
                    "input.type",
                    f"{element.type.value} needs a number, got {_shown(value)}",
                )
            ]
        return _number_problems(element, value)
    if element.type is ElementType.BOOLEAN:
        if isinstance(value, bool):
            return []
        return [("input.type", f"boolean needs true or false, got {_shown(value)}")]
    if isinstance(value, str) and value in element.allowed:
        return []
    allowed = ", ".join(element.allowed)
    return [("input.allowed_value", f"{_shown(value)} is not one of {allowed}")]


def _shown(value: Decimal | bool | str) -> str:
    """A value as JSON writes it, for people: `1`, `true`, `'yes'`; not Python's
    `Decimal('1')` or `True`."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return written(value)
    return f"'{value}'"


def _number_problems(element: DataElement, value: Decimal) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    if element.type is ElementType.COUNT and value != value.to_integral_value():
        problems.append(
            ("input.whole_number", f"a count is a whole number, got {written(value)}")
        )
    if element.minimum is not None and value < element.minimum:
        problems.append(
            (
                "input.minimum",
                f"{written(value)} is below the minimum {written(element.minimum)}",
            )
        )
    if element.maximum is not None and value > element.maximum:
        problems.append(
            (
                "input.maximum",
                f"{written(value)} is above the maximum {written(element.maximum)}",
            )
        )
    return problems


def _opt_out_findings(
    plan: FrameworkPlan, kpi_opt_outs: Mapping[str, str]
) -> list[Finding]:
    findings: list[Finding] = []
    for kpi, reason in sorted(kpi_opt_outs.items()):
        if kpi not in plan.kpi_codes:
            findings.append(
                Finding(
                    rule="opt_out.unknown_kpi",
                    severity=Severity.ERROR,
                    kpi=kpi,
                    message=f"no KPI '{kpi}' in this framework",
                )
            )
        elif not reason.strip():
            findings.append(
                Finding(
                    rule="opt_out.reason_missing",
                    severity=Severity.ERROR,
                    kpi=kpi,
                    message="an opt-out needs a reason",
                )
            )
    return findings


def _completeness_findings(
    plan: FrameworkPlan,
    year: int,
    values: Mapping[ValueKey, DataValue],
    kpi_opt_outs: Mapping[str, str],
) -> list[Finding]:
    readers: dict[ValueKey, list[str]] = {}
    for kpi in plan.kpis:
        if kpi.kpi.code in kpi_opt_outs:
            continue
        for read in kpi.inputs:
            key = (read.element, year - read.lag)
            if key not in values:
                readers.setdefault(key, []).append(kpi.kpi.code)
    return [
        Finding(
            rule="completeness.missing",
            severity=Severity.ERROR,
            element=element,
            year=missing_year,
            message=f"no value or state given; read by {', '.join(kpis)}",
        )
        for (element, missing_year), kpis in sorted(readers.items())
    ]


def _broken(rule: RulePlan, evaluation: Evaluation) -> bool:
    """The rule applies and its check is false (not merely not computable)."""
    if rule.when is not None and evaluation.holds(rule.when) is not True:
        return False
    return evaluation.holds(rule.check) is False


def _rule_finding(rule: RulePlan, evaluation: Evaluation) -> Finding:
    year = evaluation.year
    return Finding(
        rule=rule.rule.code,
        severity=rule.rule.severity,
        element=rule.rule.element,
        year=year,
        message=rule.rule.message.en,
        inputs=tuple(
            input_used(
                read.element,
                year - read.lag,
                read.reference,
                evaluation.values,
                evaluation.rejected,
            )
            for read in rule.reads
        ),
    )


def input_used(
    element: str,
    year: int,
    reference: YearRef,
    values: Mapping[ValueKey, DataValue],
    rejected: Mapping[ValueKey, str],
) -> InputUsed:
    key = (element, year)
    data_value = values.get(key)
    if data_value is None:
        return InputUsed(
            element=element, year=year, reference=reference, state=InputState.MISSING
        )
    if key in rejected:
        return InputUsed(
            element=element,
            year=year,
            reference=reference,
            state=InputState.REJECTED,
            value=data_value.value,
            reason=rejected[key],
        )
    return InputUsed(
        element=element,
        year=year,
        reference=reference,
        state=_INPUT_STATES[data_value.state],
        value=data_value.value,
        reason=data_value.reason,
    )
