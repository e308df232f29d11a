"""The cross-reference checks a framework must pass, each problem at its path."""

import itertools
import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from pmm_methodology.errors import ExpressionSyntaxError, Problem
from pmm_methodology.expressions import (
    ElementSignature,
    Expression,
    ValueType,
    check_types,
    parse,
)
from pmm_methodology.vocabulary import (
    NUMERIC_ELEMENT_TYPES,
    Direction,
    ElementType,
    KpiKind,
    YearRef,
)

if TYPE_CHECKING:
    from pmm_methodology.framework import DataElement, Framework, Kpi, ValidationRule

_ENUM_VALUE = re.compile(r"[a-z][a-z0-9_]*")
_CURRENCY = re.compile(r"national|[A-Z]{3}")
_DURATION_UNITS = frozenset({"minutes", "hours", "days"})


def framework_problems(framework: "Framework") -> list[Problem]:
    signatures = _signatures(framework.data_elements)
    problems: list[Problem] = []
    problems += _duplicate_codes(framework)
    problems += _structure_problems(framework)
    for index, element in enumerate(framework.data_elements):
        problems += _element_problems(element, f"data_elements[{index}]")
    instruments = {instrument.code for instrument in framework.instruments}
    for index, kpi in enumerate(framework.kpis):
        problems += _kpi_problems(kpi, f"kpis[{index}]", signatures, instruments)
    for index, rule in enumerate(framework.rules):
        problems += _rule_problems(rule, f"rules[{index}]", signatures)
    return problems


def _signatures(elements: Iterable["DataElement"]) -> dict[str, ElementSignature]:
    signatures: dict[str, ElementSignature] = {}
    for element in elements:
        if element.type is ElementType.BOOLEAN:
            signatures[element.code] = ElementSignature(ValueType.BOOLEAN)
        elif element.type is ElementType.ENUM:
            signatures[element.code] = ElementSignature(
                ValueType.TEXT, frozenset(element.allowed)
            )
        else:
            signatures[element.code] = ElementSignature(ValueType.NUMBER)
    return signatures


def _duplicate_codes(framework: "Framework") -> list[Problem]:
    listings: dict[str, Iterable[str]] = {
        "instruments": (item.code for item in framework.instruments),
        "dimensions": (item.code for item in framework.dimensions),
        "outcomes": (item.code for item in framework.outcomes),
        "kpis": (item.code for item in framework.kpis),
        "data_elements": (item.code for item in framework.data_elements),
        "rules": (item.code for item in framework.rules),
    }
    problems: list[Problem] = []
    for listing, codes in listings.items():
        first_seen: dict[str, int] = {}
        for index, code in enumerate(codes):
            if code in first_seen:
                problems.append(
                    Problem(
                        f"{listing}[{index}].code",
                        f"duplicate code '{code}', "
                        f"first at {listing}[{first_seen[code]}]",
                    )
                )
            first_seen.setdefault(code, index)
    return problems


def _structure_problems(framework: "Framework") -> list[Problem]:
    dimensions = {dimension.code for dimension in framework.dimensions}
    outcomes = {outcome.code for outcome in framework.outcomes}
    problems: list[Problem] = []
    for index, outcome in enumerate(framework.outcomes):
        if outcome.dimension not in dimensions:
            problems.append(
                Problem(
                    f"outcomes[{index}].dimension",
                    f"unknown dimension '{outcome.dimension}'",
                )
            )
        if not any(kpi.outcome == outcome.code for kpi in framework.kpis):
            problems.append(
                Problem(
                    f"outcomes[{index}]",
                    f"expected outcome '{outcome.code}' has no KPI",
                )
            )
    for index, dimension in enumerate(framework.dimensions):
        if not any(o.dimension == dimension.code for o in framework.outcomes):
            problems.append(
                Problem(
                    f"dimensions[{index}]",
                    f"dimension '{dimension.code}' has no expected outcome",
                )
            )
    for index, kpi in enumerate(framework.kpis):
        if kpi.outcome not in outcomes:
            problems.append(
                Problem(
                    f"kpis[{index}].outcome",
                    f"unknown expected outcome '{kpi.outcome}'",
                )
            )
    return problems


def _element_problems(element: "DataElement", path: str) -> list[Problem]:
    problems = _enumeration_problems(element, path)
    if element.type is ElementType.AMOUNT:
        if element.currency is None or not _CURRENCY.fullmatch(element.currency):
            problems.append(
                Problem(
                    f"{path}.currency",
                    "an amount needs a currency: 'national' or an ISO 4217 code",
                )
            )
    elif element.currency is not None:
        problems.append(Problem(f"{path}.currency", "only an amount has a currency"))
    problems += _unit_problems(element, path)
    problems += _bound_problems(element, path)
    return problems


def _enumeration_problems(element: "DataElement", path: str) -> list[Problem]:
    if element.type is not ElementType.ENUM:
        if element.allowed:
            return [Problem(f"{path}.allowed", "only an enum has allowed values")]
        return []

    problems: list[Problem] = []
    if not element.allowed:
        problems.append(Problem(f"{path}.allowed", "an enum needs its allowed values"))
    if len(set(element.allowed)) != len(element.allowed):
        problems.append(Problem(f"{path}.allowed", "allowed values repeat"))
    for index, value in enumerate(element.allowed):
        if not _ENUM_VALUE.fullmatch(value):
            problems.append(
                Problem(
                    f"{path}.allowed[{index}]",
                    f"'{value}' must be lower case letters, digits and '_', "
                    "starting with a letter",
                )
            )
    return problems


def _unit_problems(element: "DataElement", path: str) -> list[Problem]:
    if element.type is ElementType.DURATION:
        if element.unit not in _DURATION_UNITS:
            units = ", ".join(sorted(_DURATION_UNITS))
            return [Problem(f"{path}.unit", f"a duration needs a unit: one of {units}")]
        return []
    if element.type is ElementType.QUANTITY:
        if not element.unit:
            return [Problem(f"{path}.unit", "a quantity needs a unit, such as kg")]
        return []
    if element.unit is not None:
        return [Problem(f"{path}.unit", "only a duration or a quantity has a unit")]
    return []


def _bound_problems(element: "DataElement", path: str) -> list[Problem]:
    has_bounds = element.minimum is not None or element.maximum is not None
    if element.type not in NUMERIC_ELEMENT_TYPES:
        if has_bounds:
            return [Problem(path, f"a {element.type.value} value has no bounds")]
        return []

    if (
        element.minimum is not None
        and element.maximum is not None
        and element.minimum > element.maximum
    ):
        return [
            Problem(
                f"{path}.maximum",
                f"maximum {element.maximum} is below minimum {element.minimum}",
            )
        ]
    return []


def _kpi_problems(
    kpi: "Kpi",
    path: str,
    signatures: Mapping[str, ElementSignature],
    instruments: set[str],
) -> list[Problem]:
    problems = _input_problems(kpi, path, signatures)
    expression, formula_problems = _checked_expression(
        kpi.formula, f"{path}.formula", signatures, _formula_type(kpi)
    )
    problems += formula_problems
    if expression is not None:
        problems += _declaration_problems(kpi, path, expression, signatures)
    problems += _rounding_problems(kpi, path)
    problems += _band_problems(kpi, path)
    for index, instrument in enumerate(kpi.instruments):
        if instrument not in instruments:
            problems.append(
                Problem(
                    f"{path}.instruments[{index}]", f"unknown instrument '{instrument}'"
                )
            )
    return problems


def _formula_type(kpi: "Kpi") -> ValueType:
    return ValueType.BOOLEAN if kpi.kind is KpiKind.YES_NO else ValueType.NUMBER


def _input_problems(
    kpi: "Kpi", path: str, signatures: Mapping[str, ElementSignature]
) -> list[Problem]:
    problems: list[Problem] = []
    seen: set[tuple[str, YearRef]] = set()
    for index, declared in enumerate(kpi.inputs):
        where = f"{path}.inputs[{index}]"
        if declared.element not in signatures:
            problems.append(
                Problem(where, f"unknown data element '{declared.element}'")
            )
        if (declared.element, declared.year) in seen:
            problems.append(Problem(where, f"{declared.label} is declared twice"))
        seen.add((declared.element, declared.year))
    if kpi.kind is KpiKind.VARIATION and YearRef.T_MINUS_1 not in {y for _, y in seen}:
        problems.append(Problem(f"{path}.inputs", "a variation KPI reads a T-1 value"))
    return problems


def _declaration_problems(
    kpi: "Kpi",
    path: str,
    expression: Expression,
    signatures: Mapping[str, ElementSignature],
) -> list[Problem]:
    declared = {
        (item.element, item.year.lag): index for index, item in enumerate(kpi.inputs)
    }
    read = {(reference.element, reference.lag) for reference in expression.references()}
    problems: list[Problem] = []
    for reference in expression.references():
        if reference.element not in signatures:
            continue  # already reported as unknown
        if (reference.element, reference.lag) not in declared:
            problems.append(
                Problem(
                    f"{path}.formula",
                    f"reads {reference.label} (character {reference.offset + 1}) "
                    f"which {path}.inputs does not declare",
                )
            )
    for (element, lag), index in declared.items():
        if (element, lag) not in read:
            label = element if lag == 0 else f"{element}[T-1]"
            problems.append(
                Problem(
                    f"{path}.inputs[{index}]",
                    f"declares {label} but the formula does not read it",
                )
            )
    return problems


def _rounding_problems(kpi: "Kpi", path: str) -> list[Problem]:
    if kpi.kind is KpiKind.YES_NO:
        if kpi.rounding is not None:
            return [Problem(f"{path}.rounding", "a yes/no KPI is not rounded")]
        return []
    if kpi.rounding is None:
        return [Problem(f"{path}.rounding", "a numeric KPI needs its decimal places")]
    return []


def _band_problems(kpi: "Kpi", path: str) -> list[Problem]:
    if kpi.direction is Direction.NONE or kpi.kind is KpiKind.YES_NO:
        if kpi.bands is not None:
            why = (
                "it is not scored"
                if kpi.direction is Direction.NONE
                else "yes scores 4"
            )
            return [Problem(f"{path}.bands", f"this KPI takes no bands: {why}")]
        return []
    if kpi.bands is None:
        return [Problem(f"{path}.bands", "a scored KPI needs bands for levels 2 to 4")]

    values = [threshold for _, threshold in kpi.bands.thresholds()]
    rising = kpi.direction is Direction.HIGHER_BETTER
    ordered = all(
        (low < high) if rising else (low > high)
        for low, high in itertools.pairwise(values)
    )
    if not ordered:
        order = "rise" if rising else "fall"
        shown = " -> ".join(str(value) for value in values)
        return [
            Problem(
                f"{path}.bands",
                f"bands must {order} strictly for {kpi.direction.value}: "
                f"developing -> established -> advanced is {shown}",
            )
        ]
    return []


def _rule_problems(
    rule: "ValidationRule", path: str, signatures: Mapping[str, ElementSignature]
) -> list[Problem]:
    problems: list[Problem] = []
    if rule.element not in signatures:
        problems.append(
            Problem(f"{path}.element", f"unknown data element '{rule.element}'")
        )
    read: set[str] = set()
    parts = {"check": rule.check, "when": rule.when}
    for part, text in parts.items():
        if text is None:
            continue
        expression, part_problems = _checked_expression(
            text, f"{path}.{part}", signatures, ValueType.BOOLEAN
        )
        problems += part_problems
        if expression is not None:
            read |= {reference.element for reference in expression.references()}
    if not problems and rule.element not in read:
        problems.append(
            Problem(f"{path}.element", f"the rule does not read '{rule.element}'")
        )
    return problems


def _checked_expression(
    text: str,
    path: str,
    signatures: Mapping[str, ElementSignature],
    expected: ValueType,
) -> tuple[Expression | None, list[Problem]]:
    try:
        expression = parse(text)
    except ExpressionSyntaxError as error:
        return None, [
            Problem(path, f"syntax error at character {error.position}: {error.reason}")
        ]

    found, type_problems = check_types(expression, signatures)
    problems = [
        Problem(path, f"{problem.message} (character {problem.position})")
        for problem in type_problems
    ]
    if found is not None and found is not expected:
        problems.append(
            Problem(path, f"gives {found.value}, expected {expected.value}")
        )
    return expression, problems
