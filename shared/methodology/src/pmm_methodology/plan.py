"""What computing an assessment needs from a framework, worked out once per framework.

A framework is immutable, so its formulas and rules are compiled, and the inputs each
KPI reads listed, the first time it is used; every assessment after that only reads
the values. Nothing here depends on the values: a plan never holds a result, only
the band checks a KPI's value picks from.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from threading import Lock

from pmm_methodology.expressions import Program, Reference, compile_expression, parse
from pmm_methodology.framework import DataElement, Framework, Kpi, ValidationRule
from pmm_methodology.scoring import BandThreshold, band_thresholds
from pmm_methodology.vocabulary import YearRef

# Frameworks in use at once are a handful; tests build many more, briefly.
_PLANS_KEPT = 32


@dataclass(frozen=True, slots=True)
class InputRead:
    """A data element a KPI or rule reads, `lag` years before T."""

    element: str
    lag: int
    reference: YearRef


@dataclass(frozen=True, slots=True)
class KpiPlan:
    kpi: Kpi
    inputs: tuple[InputRead, ...]
    formula: Program
    thresholds: tuple[BandThreshold, ...]


@dataclass(frozen=True, slots=True)
class RulePlan:
    rule: ValidationRule
    when: Program | None
    check: Program
    # What the check reads, reported beside a finding.
    reads: tuple[InputRead, ...]


@dataclass(frozen=True, slots=True)
class FrameworkPlan:
    framework: Framework
    elements: Mapping[str, DataElement]
    kpi_codes: frozenset[str]
    kpis: tuple[KpiPlan, ...]
    rules: tuple[RulePlan, ...]


_plans: dict[int, FrameworkPlan] = {}
_lock = Lock()


def plan_of(framework: Framework) -> FrameworkPlan:
    """The framework's plan, built on first use.

    Kept by the framework's identity: a plan holds its framework, so the identity
    cannot pass to another object while the plan is kept.
    """
    plan = _plans.get(id(framework))
    if plan is not None:
        return plan

    plan = _plan(framework)
    with _lock:
        while len(_plans) >= _PLANS_KEPT:
            del _plans[next(iter(_plans))]
        _plans[id(framework)] = plan
    return plan


def _plan(framework: Framework) -> FrameworkPlan:
    return FrameworkPlan(
        framework=framework,
        elements={element.code: element for element in framework.data_elements},
        kpi_codes=frozenset(kpi.code for kpi in framework.kpis),
        kpis=tuple(_kpi_plan(kpi) for kpi in framework.kpis),
        rules=tuple(_rule_plan(rule) for rule in framework.rules),
    )


def _kpi_plan(kpi: Kpi) -> KpiPlan:
    return KpiPlan(
        kpi=kpi,
        inputs=tuple(
            InputRead(declared.element, declared.year.lag, declared.year)
            for declared in kpi.inputs
        ),
        formula=compile_expression(parse(kpi.formula)),
        thresholds=band_thresholds(kpi),
    )


def _rule_plan(rule: ValidationRule) -> RulePlan:
    check = parse(rule.check)
    return RulePlan(
        rule=rule,
        when=compile_expression(parse(rule.when)) if rule.when is not None else None,
        check=compile_expression(check),
        reads=tuple(_read(reference) for reference in check.references()),
    )


def _read(reference: Reference) -> InputRead:
    year = YearRef.T if reference.lag == 0 else YearRef.T_MINUS_1
    return InputRead(reference.element, reference.lag, year)
