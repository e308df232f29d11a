"""Checking the inputs: each value against its data element, completeness, KPI
opt-outs, and the framework's consistency rules.

A value that fails its data element's checks is rejected: it is reported as an error
and no KPI reads it, so an impossible figure can never reach a score.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from pmm_methodology.expressions import Evaluation, Expression, parse
from pmm_methodology.framework import DataElement, Framework, ValidationRule
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
    check = InputCheck()
    elements = {element.code: element for element in framework.data_elements}
    for key in sorted(values):
        _check_value(elements.get(key[0]), year, key, values[key], check)
    check.findings += _opt_out_findings(framework, kpi_opt_outs)
    check.findings += _completeness_findings(framework, year, values, kpi_opt_outs)
    for checked_year in (year, year - 1):
        evaluation = Evaluation(values, year=checked_year, rejected=check.rejected)
        for rule in framework.rules:
            check.findings += _rule_findings(rule, checked_year, evaluation, check)
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
                ("input.type", f"{element.type.value} needs a number, got {value!r}")
            ]
        return _number_problems(element, value)
    if element.type is ElementType.BOOLEAN:
        if isinstance(value, bool):
            return []
        return [("input.type", f"boolean needs true or false, got {value!r}")]
    if isinstance(value, str) and value in element.allowed:
        return []
    allowed = ", ".join(element.allowed)
    return [("input.allowed_value", f"{value!r} is not one of {allowed}")]


def _number_problems(element: DataElement, value: Decimal) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    if element.type is ElementType.COUNT and value != value.to_integral_value():
        problems.append(
            ("input.whole_number", f"a count is a whole number, got {value}")
        )
    if element.minimum is not None and value < element.minimum:
        problems.append(
            ("input.minimum", f"{value} is below the minimum {element.minimum}")
        )
    if element.maximum is not None and value > element.maximum:
        problems.append(
            ("input.maximum", f"{value} is above the maximum {element.maximum}")
        )
    return problems


def _opt_out_findings(
    framework: Framework, kpi_opt_outs: Mapping[str, str]
) -> list[Finding]:
    codes = {kpi.code for kpi in framework.kpis}
    findings: list[Finding] = []
    for kpi, reason in sorted(kpi_opt_outs.items()):
        if kpi not in codes:
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
    framework: Framework,
    year: int,
    values: Mapping[ValueKey, DataValue],
    kpi_opt_outs: Mapping[str, str],
) -> list[Finding]:
    readers: dict[ValueKey, list[str]] = {}
    for kpi in framework.kpis:
        if kpi.code in kpi_opt_outs:
            continue
        for declared in kpi.inputs:
            key = (declared.element, year - declared.year.lag)
            if key not in values:
                readers.setdefault(key, []).append(kpi.code)
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


def _rule_findings(
    rule: ValidationRule, year: int, evaluation: Evaluation, check: InputCheck
) -> list[Finding]:
    if rule.when is not None and evaluation.outcome(parse(rule.when)) is not True:
        return []
    expression = parse(rule.check)
    if evaluation.outcome(expression) is not False:
        return []

    return [
        Finding(
            rule=rule.code,
            severity=rule.severity,
            element=rule.element,
            year=year,
            message=rule.message.en,
            inputs=inputs_read(expression, year, evaluation.values, check.rejected),
        )
    ]


def inputs_read(
    expression: Expression,
    year: int,
    values: Mapping[ValueKey, DataValue],
    rejected: Mapping[ValueKey, str],
) -> tuple[InputUsed, ...]:
    return tuple(
        input_used(
            reference.element,
            year - reference.lag,
            YearRef.T if reference.lag == 0 else YearRef.T_MINUS_1,
            values,
            rejected,
        )
        for reference in expression.references()
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
