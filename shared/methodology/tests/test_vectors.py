import json
from decimal import Decimal
from importlib import resources
from typing import Any

import pytest

from pmm_methodology import (
    Assessment,
    DataValue,
    ValueKey,
    compute,
    reference_framework,
)


def _vector_files() -> list[str]:
    folder = resources.files("pmm_methodology").joinpath("vectors")
    return sorted(item.name for item in folder.iterdir() if item.name.endswith(".json"))


def _cases() -> list[Any]:
    cases = []
    folder = resources.files("pmm_methodology").joinpath("vectors")
    for name in _vector_files():
        document = json.loads(folder.joinpath(name).read_text(encoding="utf-8"))
        assert document["framework"] == "pmm-v1"
        for case in document["cases"]:
            cases.append(pytest.param(case, id=f"{name}: {case['name']}"))
    return cases


def _values(records: list[dict[str, Any]]) -> dict[ValueKey, DataValue]:
    values: dict[ValueKey, DataValue] = {}
    for record in records:
        fields = {k: v for k, v in record.items() if k not in ("element", "year")}
        fields.setdefault("state", "provided")
        key = (record["element"], record["year"])
        assert key not in values, f"{key} given twice"
        values[key] = DataValue.model_validate(fields)
    return values


def _shown(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    return value


def _check_kpis(assessment: Assessment, expected: dict[str, Any]) -> None:
    for code, fields in expected.items():
        result = assessment.kpi(code)
        found = {
            "status": result.status.value,
            "value": _shown(result.value),
            "exact_value": _shown(result.exact_value),
            "level": result.level,
            "reason": result.not_computable and result.not_computable.reason.value,
            "element": result.not_computable and result.not_computable.element,
            "year": result.not_computable and result.not_computable.year,
        }
        for field, want in fields.items():
            if field != "arithmetic":
                assert found[field] == want, f"{code}.{field}"


def _check_outcomes(assessment: Assessment, expected: dict[str, Any]) -> None:
    for code, fields in expected.items():
        result = assessment.outcome(code)
        found = {"status": result.status.value, "level": _shown(result.level)}
        for field, want in fields.items():
            if field != "arithmetic":
                assert found[field] == want, f"{code}.{field}"


def _check_dimensions(assessment: Assessment, expected: dict[str, Any]) -> None:
    for code, fields in expected.items():
        result = assessment.dimension(code)
        found = {
            "score": _shown(result.score),
            "scored": result.coverage.scored,
            "applicable": result.coverage.applicable,
            "ratio": _shown(result.coverage.ratio),
        }
        for field, want in fields.items():
            if field != "arithmetic":
                assert found[field] == want, f"{code}.{field}"


def _finding_key(finding: dict[str, Any]) -> tuple[str, str, str, str, str]:
    return (
        finding["rule"],
        str(finding.get("element")),
        str(finding.get("year")),
        finding["severity"],
        str(finding.get("kpi")),
    )


def _check_findings(assessment: Assessment, expect: dict[str, Any]) -> None:
    found = [f.model_dump(mode="json") for f in assessment.findings]
    missing = [f for f in found if f["rule"] == "completeness.missing"]
    others = [f for f in found if f["rule"] != "completeness.missing"]
    if "findings" in expect:
        wanted = sorted(_finding_key(f) for f in expect["findings"])
        assert sorted(_finding_key(f) for f in others) == wanted
    if "missing" in expect:
        assert len(missing) == expect["missing"]


def test_vectors_are_shipped() -> None:
    names = _vector_files()

    assert len(names) >= 8
    assert "complete-submission.json" in names


@pytest.mark.parametrize("case", _cases())
def test_vector(case: dict[str, Any]) -> None:
    framework = reference_framework()
    values = _values(case["values"])

    assessment = compute(
        framework, case["year"], values, kpi_opt_outs=case.get("kpi_opt_outs")
    )

    expect = case["expect"]
    _check_kpis(assessment, expect.get("kpis", {}))
    _check_outcomes(assessment, expect.get("outcomes", {}))
    _check_dimensions(assessment, expect.get("dimensions", {}))
    _check_findings(assessment, expect)


def test_complete_vector_names_every_kpi_outcome_and_dimension() -> None:
    folder = resources.files("pmm_methodology").joinpath("vectors")
    document = json.loads(
        folder.joinpath("complete-submission.json").read_text("utf-8")
    )
    expect = document["cases"][0]["expect"]
    framework = reference_framework()

    assert set(expect["kpis"]) == {kpi.code for kpi in framework.kpis}
    assert set(expect["outcomes"]) == {outcome.code for outcome in framework.outcomes}
    assert set(expect["dimensions"]) == {d.code for d in framework.dimensions}


def test_vectors_cover_every_kpi_kind() -> None:
    framework = reference_framework()
    kinds_checked: set[str] = set()
    for case in _cases():
        for code in case.values[0]["expect"].get("kpis", {}):
            kinds_checked.add(framework.kpi(code).kind.value)

    assert kinds_checked == {
        "ratio",
        "variation",
        "count",
        "yes_no",
        "level",
        "duration",
    }
