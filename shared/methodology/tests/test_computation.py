import hashlib
import json
import os
import subprocess
import sys
from decimal import Decimal
from importlib import resources

import pytest
from pydantic import ValidationError

from pmm_methodology import (
    LIBRARY_VERSION,
    Assessment,
    DataValue,
    InputState,
    KpiStatus,
    UnknownCodeError,
    ValueKey,
    compute,
    explain_dimension,
    explain_kpi,
    explain_outcome,
    inputs_fingerprint,
    reference_framework,
)

VALUES: dict[ValueKey, DataValue] = {
    ("DECL_TOTAL", 2022): DataValue.provided(20000),
    ("DECL_ELECTRONIC", 2022): DataValue.provided(18999),
    ("DATA_MODEL_ALIGNMENT", 2022): DataValue.provided("partial"),
    ("REV_CUSTOMS", 2022): DataValue.provided("800000000"),
    ("REV_PAID_ELECTRONIC", 2022): DataValue.provided("612000000"),
    ("AEO_COUNT", 2022): DataValue.provided(120),
    ("AEO_COUNT", 2021): DataValue.not_available("register migrated"),
    ("CODE_OF_CONDUCT", 2022): DataValue.provided(True),
    ("STAFF_TOTAL", 2022): DataValue.provided(-1),
    ("TRAINING_HOURS", 2022): DataValue.provided(1000),
}
OPT_OUTS = {"TF.8.1": "no transit regime", "TF.8.2": "no transit regime"}


def _assessment() -> Assessment:
    return compute(reference_framework(), 2022, VALUES, kpi_opt_outs=OPT_OUTS)


def test_the_same_inputs_give_byte_identical_json() -> None:
    reordered = dict(reversed(list(VALUES.items())))

    first = _assessment().to_canonical_json().encode("utf-8")
    second = (
        compute(reference_framework(), 2022, reordered, kpi_opt_outs=OPT_OUTS)
        .to_canonical_json()
        .encode("utf-8")
    )

    assert first == second
    assert hashlib.sha256(first).hexdigest() == hashlib.sha256(second).hexdigest()


_SCRIPT = """
from pmm_methodology import DataValue, compute, reference_framework
values = {
    ("DECL_TOTAL", 2022): DataValue.provided(20000),
    ("DECL_ELECTRONIC", 2022): DataValue.provided(18999),
    ("AEO_COUNT", 2021): DataValue.not_available("lost"),
    ("UNKNOWN", 2022): DataValue.provided("x"),
}
opt_outs = {"TF.8.1": "none", "OD.4.2": "none"}
assessment = compute(reference_framework(), 2022, values, kpi_opt_outs=opt_outs)
print(assessment.to_canonical_json())
"""


def test_separate_processes_give_the_same_bytes() -> None:
    outputs = set()
    for seed in ("1", "2", "3"):
        environment = {**os.environ, "PYTHONHASHSEED": seed}
        completed = subprocess.run(
            [sys.executable, "-c", _SCRIPT],
            env=environment,
            capture_output=True,
            check=True,
        )
        outputs.add(completed.stdout)

    assert len(outputs) == 1
    assert b'"code":"TF.1.1"' in outputs.pop()


def test_canonical_json_has_sorted_keys_and_no_floats() -> None:
    text = _assessment().to_canonical_json()

    document = json.loads(text, parse_float=lambda raw: pytest.fail(f"float {raw}"))

    assert list(document) == sorted(document)
    assert (
        json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        == text
    )
    kpi = next(k for k in document["kpis"] if k["code"] == "TF.1.1")
    assert kpi["value"] == "95.00"
    assert kpi["exact_value"] == "94.995"


def test_an_assessment_reads_back_from_its_json() -> None:
    assessment = _assessment()

    copy = Assessment.model_validate_json(assessment.to_canonical_json())

    assert copy == assessment
    assert copy.kpi("TF.1.2").value == Decimal(3)
    assert copy.kpi("OD.1.2").value is True


def test_lineage_names_the_framework_library_and_inputs() -> None:
    lineage = _assessment().lineage
    shipped = resources.files("pmm_methodology").joinpath("frameworks/pmm-v1.yaml")
    file_text = shipped.read_bytes().decode("utf-8").replace("\r\n", "\n")

    assert (lineage.framework_code, lineage.framework_version) == ("PMM", "1.0.0")
    assert lineage.framework_sha256 == hashlib.sha256(file_text.encode()).hexdigest()
    assert lineage.library_version == LIBRARY_VERSION
    assert lineage.inputs_sha256 == inputs_fingerprint(2022, VALUES, OPT_OUTS)


def test_the_inputs_fingerprint_changes_with_any_input() -> None:
    base = inputs_fingerprint(2022, VALUES, OPT_OUTS)
    changed_value = {**VALUES, ("DECL_TOTAL", 2022): DataValue.provided(20001)}
    retyped_value = {**VALUES, ("DECL_TOTAL", 2022): DataValue.provided("20000.0")}

    assert inputs_fingerprint(2022, changed_value, OPT_OUTS) != base
    assert inputs_fingerprint(2022, retyped_value, OPT_OUTS) != base
    assert inputs_fingerprint(2022, VALUES, {}) != base
    assert inputs_fingerprint(2023, VALUES, OPT_OUTS) != base
    assert inputs_fingerprint(2022, dict(reversed(VALUES.items())), OPT_OUTS) == base


def test_the_inputs_fingerprint_is_stable_across_versions() -> None:
    # Calculations store it: a change of algorithm would make equal inputs look new.
    fingerprint = inputs_fingerprint(2022, VALUES, OPT_OUTS)

    assert fingerprint == (
        "e59f6c77fedcec77ec6dd457ae792d2f1a3bb853fd27e6049d6f406900adcd00"
    )


def test_kpi_results_carry_what_explains_them() -> None:
    assessment = _assessment()

    rate = assessment.kpi("TF.1.1")
    variation = assessment.kpi("TF.2.1")
    transit = assessment.kpi("TF.8.1")

    assert rate.formula == "DECL_ELECTRONIC / DECL_TOTAL * 100"
    assert [(i.element, i.year, i.state, i.value) for i in rate.inputs] == [
        ("DECL_ELECTRONIC", 2022, InputState.PROVIDED, Decimal(18999)),
        ("DECL_TOTAL", 2022, InputState.PROVIDED, Decimal(20000)),
    ]
    assert [(b.name, b.reached) for b in rate.bands] == [
        ("developing", True),
        ("established", True),
        ("advanced", True),
    ]
    assert variation.inputs[1].state is InputState.NOT_AVAILABLE
    assert variation.inputs[1].reason == "register migrated"
    assert (transit.status, transit.level) == (KpiStatus.OPTED_OUT, "n/a")
    assert transit.opt_out_reason == "no transit regime"


def test_explain_a_kpi() -> None:
    explanation = explain_kpi(_assessment(), "TF.1.1")

    assert explanation.summary == "TF.1.1 = 95.00 percent, level 4 (advanced)"
    assert explanation.steps == (
        "formula: DECL_ELECTRONIC / DECL_TOTAL * 100",
        "DECL_ELECTRONIC (2022) = 18999",
        "DECL_TOTAL (2022) = 20000",
        "exact value 94.995, rounded half up to 2 decimal places: 95.00",
        "developing (level 2) >= 50: reached",
        "established (level 3) >= 80: reached",
        "advanced (level 4) >= 95: reached",
    )


def test_explain_a_kpi_that_is_not_computable() -> None:
    explanation = explain_kpi(_assessment(), "OD.2.1")

    assert explanation.summary.startswith("OD.2.1: not computable (")
    assert (
        "STAFF_TOTAL (2022) was rejected: -1 is below the minimum 0"
        in explanation.summary
    )
    assert [(e.code, e.why) for e in explanation.excluded] == [
        ("STAFF_TOTAL", "rejected (-1 is below the minimum 0)")
    ]


def test_explain_an_outcome_and_a_dimension() -> None:
    assessment = _assessment()

    outcome = explain_outcome(assessment, "TF.1")
    dimension = explain_dimension(assessment, "TF")

    assert outcome.summary == "TF.1: level 3.33 by averaging (M2)"
    assert outcome.steps[-1] == "mean of 4, 3, 3 = 3.33"
    assert dimension.summary == "TF: score 3.33, coverage 1/7"
    assert "TF.8: n/a, left out of coverage" in dimension.steps
    assert dimension.steps[-1] == "coverage: 1 scored of 7 applicable expected outcomes"


def test_explaining_an_unknown_code() -> None:
    with pytest.raises(UnknownCodeError, match=r"no KPI 'XX\.1'"):
        explain_kpi(_assessment(), "XX.1")


def test_an_opted_out_kpi_does_not_ask_for_its_inputs() -> None:
    framework = reference_framework()
    everything_but_one = {k.code: "test" for k in framework.kpis if k.code != "TF.1.1"}

    assessment = compute(framework, 2022, {}, kpi_opt_outs=everything_but_one)

    missing = {f.element for f in assessment.findings}
    assert missing == {"DECL_TOTAL", "DECL_ELECTRONIC"}


@pytest.mark.parametrize(
    "fields",
    [
        {"state": "provided"},
        {"state": "provided", "value": "1", "reason": "why"},
        {"state": "not_available"},
        {"state": "not_available", "reason": " "},
        {"state": "not_applicable", "value": "1", "reason": "opt-out"},
        {"state": "provided", "value": 1.5},
        {"state": "provided", "value": Decimal("NaN")},
        {"state": "provided", "value": Decimal("Infinity")},
    ],
)
def test_impossible_data_values_are_refused(fields: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        DataValue.model_validate(fields)


def test_numbers_given_as_text_are_numbers_and_words_are_enum_values() -> None:
    assert DataValue.provided("12.50").value == Decimal("12.50")
    assert DataValue.provided(" -3 ").value == Decimal(-3)
    assert DataValue.provided("operational").value == "operational"
    assert DataValue.provided(7).value == Decimal(7)
    assert DataValue.provided("\u0661\u0662").value == "\u0661\u0662"


@pytest.mark.parametrize(
    ("hours", "shown"),
    [
        ("0.0000001", "0.0000001"),
        (Decimal("5.00E+22"), "50000000000000000000000"),
    ],
)
def test_numbers_are_written_without_an_exponent(hours: object, shown: str) -> None:
    # `str` would write 1E-7 and 5.00E+22: a notation the services refuse on input.
    values = {
        ("TRAINING_HOURS", 2022): DataValue.provided(hours),  # type: ignore[arg-type]
        ("STAFF_TOTAL", 2022): DataValue.provided(1),
    }
    assessment = compute(reference_framework(), 2022, values)
    training = assessment.kpi("OD.2.1")

    document = json.loads(assessment.to_canonical_json())
    (kpi,) = [k for k in document["kpis"] if k["code"] == "OD.2.1"]
    assert kpi["exact_value"] == shown
    assert kpi["inputs"][0] == {
        "element": "TRAINING_HOURS",
        "reason": None,
        "reference": "T",
        "state": "provided",
        "value": shown,
        "year": 2022,
    }
    assert f"TRAINING_HOURS (2022) = {shown}" in explain_kpi(assessment, "OD.2.1").steps
    assert training.exact_value == Decimal(shown)


def test_findings_and_reasons_write_numbers_without_an_exponent() -> None:
    values = {
        ("STAFF_TOTAL", 2022): DataValue.provided("-0.00000000000000000001"),
        ("TRAINING_HOURS", 2022): DataValue.provided("1E+52"),
    }
    values_of_a_count = {("DECL_TOTAL", 2022): DataValue.provided("1.5E-7")}

    assessment = compute(reference_framework(), 2022, values)
    counted = compute(reference_framework(), 2022, values_of_a_count)

    messages = [f.message for f in assessment.findings + counted.findings]
    assert "-0.00000000000000000001 is below the minimum 0" in messages
    assert "a count is a whole number, got 0.00000015" in messages
    assert not any("E+" in m or "E-" in m for m in messages)
