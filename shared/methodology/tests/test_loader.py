from decimal import Decimal
from pathlib import Path

import pytest

from pmm_methodology import Direction, FrameworkError, Problem, YearRef, load_framework
from pmm_methodology.framework import Framework


def _problems(text: str) -> list[Problem]:
    with pytest.raises(FrameworkError) as raised:
        load_framework(text)
    return list(raised.value.problems)


def test_a_consistent_file_loads(small_framework_text: str) -> None:
    framework = load_framework(small_framework_text)

    assert framework.code == "TEST"
    assert [kpi.code for kpi in framework.kpis] == ["TF.1.1", "TF.1.2"]
    assert framework.kpi("TF.1.2").inputs[1].year is YearRef.T_MINUS_1
    assert framework.kpi("TF.1.1").direction is Direction.HIGHER_BETTER


def test_enum_values_yes_and_no_stay_text(small_framework_text: str) -> None:
    framework = load_framework(small_framework_text)

    assert framework.data_element("STATUS").allowed == ("yes", "no", "partial")


def test_numbers_are_read_exactly(small_framework_text: str) -> None:
    text = small_framework_text.replace("advanced: 95}", "advanced: 95.10}")

    bands = load_framework(text).kpi("TF.1.1").bands

    assert bands is not None
    assert bands.advanced == Decimal("95.10")
    assert str(bands.advanced) == "95.10"


def test_a_file_loads_from_a_path(small_framework_text: str, tmp_path: Path) -> None:
    path = tmp_path / "framework.yaml"
    path.write_text(small_framework_text, encoding="utf-8")

    framework = load_framework(path)

    assert framework.content_hash == load_framework(small_framework_text).content_hash


def test_the_content_hash_ignores_line_ends_but_not_content(
    small_framework_text: str,
) -> None:
    unix = load_framework(small_framework_text)
    windows = load_framework(small_framework_text.replace("\n", "\r\n").encode())
    edited = load_framework(small_framework_text.replace("Too many", "Too many."))

    assert unix.content_hash == windows.content_hash
    assert unix.content_hash != edited.content_hash
    assert len(unix.content_hash) == 64


def test_an_unknown_element_in_a_formula(small_framework_text: str) -> None:
    text = small_framework_text.replace(
        "formula: DECL_ELECTRONIC / DECL_TOTAL * 100",
        "formula: DECL_ELECTRONIC / DECL_TOTL * 100",
    )

    problems = _problems(text)

    assert (
        Problem("kpis[0].formula", "unknown data element 'DECL_TOTL' (character 19)")
        in problems
    )


def test_an_outcome_without_kpis(small_framework_text: str) -> None:
    text = small_framework_text.replace(
        "kpis:\n",
        "  - code: TF.2\n"
        "    name: {en: Empty, fr: Vide}\n"
        "    provisional: true\n"
        "    dimension: TF\n"
        "    aggregation: averaging\n"
        "kpis:\n",
    )

    assert _problems(text) == [
        Problem("outcomes[1]", "expected outcome 'TF.2' has no KPI")
    ]


def test_duplicate_codes(small_framework_text: str) -> None:
    text = small_framework_text.replace("code: TF.1.2", "code: TF.1.1")

    assert _problems(text) == [
        Problem("kpis[1].code", "duplicate code 'TF.1.1', first at kpis[0]")
    ]


def test_bands_out_of_order(small_framework_text: str) -> None:
    text = small_framework_text.replace(
        "{developing: 50, established: 80, advanced: 95}",
        "{developing: 50, established: 95, advanced: 80}",
    )

    problems = _problems(text)

    assert [p.path for p in problems] == ["kpis[0].bands"]
    assert "must rise strictly for higher_better" in problems[0].message


def test_bands_must_fall_when_lower_is_better(small_framework_text: str) -> None:
    text = small_framework_text.replace(
        "direction: higher_better", "direction: lower_better"
    )

    problems = _problems(text)

    assert [p.path for p in problems] == ["kpis[0].bands"]
    assert "must fall strictly for lower_better" in problems[0].message


def test_a_syntax_error_gives_its_position(small_framework_text: str) -> None:
    text = small_framework_text.replace(
        "formula: DECL_ELECTRONIC / DECL_TOTAL * 100",
        "formula: DECL_ELECTRONIC / (DECL_TOTAL * 100",
    )

    assert _problems(text) == [
        Problem(
            "kpis[0].formula",
            "syntax error at character 36: '(' at character 19 is not closed, "
            "found end of expression",
        )
    ]


def test_reading_t_minus_1_without_declaring_it(small_framework_text: str) -> None:
    text = small_framework_text.replace(
        'inputs: [DECL_TOTAL, "DECL_TOTAL[T-1]"]', "inputs: [DECL_TOTAL]"
    )

    problems = _problems(text)

    assert (
        Problem(
            "kpis[1].formula",
            "reads DECL_TOTAL[T-1] (character 15) "
            "which kpis[1].inputs does not declare",
        )
        in problems
    )
    assert Problem("kpis[1].inputs", "a variation KPI reads a T-1 value") in problems


def test_declaring_an_input_the_formula_does_not_read(
    small_framework_text: str,
) -> None:
    text = small_framework_text.replace(
        "inputs: [DECL_ELECTRONIC, DECL_TOTAL]",
        'inputs: [DECL_ELECTRONIC, DECL_TOTAL, "DECL_ELECTRONIC[T-1]"]',
    )

    assert _problems(text) == [
        Problem(
            "kpis[0].inputs[2]",
            "declares DECL_ELECTRONIC[T-1] but the formula does not read it",
        )
    ]


def test_a_formula_of_the_wrong_type(small_framework_text: str) -> None:
    text = small_framework_text.replace(
        "formula: DECL_ELECTRONIC / DECL_TOTAL * 100",
        "formula: DECL_ELECTRONIC > DECL_TOTAL",
    )

    assert _problems(text) == [
        Problem("kpis[0].formula", "gives yes/no, expected number")
    ]


def test_a_comparison_with_a_value_an_enum_cannot_take(
    small_framework_text: str,
) -> None:
    text = small_framework_text.replace(
        "check: DECL_ELECTRONIC <= DECL_TOTAL",
        "check: DECL_ELECTRONIC <= DECL_TOTAL or STATUS == 'maybe'",
    )

    problems = _problems(text)

    assert [p.path for p in problems] == ["rules[0].check"]
    assert "'maybe' is not a value of STATUS (no, partial, yes)" in problems[0].message


def test_unknown_references_between_sections(small_framework_text: str) -> None:
    text = (
        small_framework_text.replace("dimension: TF\n", "dimension: XX\n")
        .replace("instruments: [RKC]", "instruments: [SAFE]")
        .replace("element: DECL_ELECTRONIC", "element: DECL_NOWHERE")
    )

    problems = _problems(text)

    assert Problem("outcomes[0].dimension", "unknown dimension 'XX'") in problems
    assert (
        Problem("dimensions[0]", "dimension 'TF' has no expected outcome") in problems
    )
    assert Problem("kpis[0].instruments[0]", "unknown instrument 'SAFE'") in problems
    assert (
        Problem("rules[0].element", "unknown data element 'DECL_NOWHERE'") in problems
    )


def test_schema_errors_carry_their_path(small_framework_text: str) -> None:
    text = small_framework_text.replace("kind: ratio", "kind: share").replace(
        "rounding: 1\n", "rounding: 1\n    colour: blue\n"
    )

    problems = _problems(text)

    assert {p.path for p in problems} == {"kpis[0].kind", "kpis[1].colour"}


def test_element_type_details(small_framework_text: str) -> None:
    text = small_framework_text.replace(
        "    type: enum\n    allowed: [yes, no, partial]",
        "    type: enum\n    allowed: [Yes, no, no]",
    ).replace(
        "type: count\n    minimum: 0\n  - code: DECL_ELECTRONIC",
        "type: amount\n    minimum: 0\n  - code: DECL_ELECTRONIC",
    )

    problems = _problems(text)

    assert {p.path for p in problems} == {
        "data_elements[0].currency",
        "data_elements[2].allowed",
        "data_elements[2].allowed[0]",
    }


def test_a_key_written_twice(small_framework_text: str) -> None:
    text = small_framework_text.replace(
        "unit: percent\n    rounding: 2",
        "unit: percent\n    unit: hours\n    rounding: 2",
    )

    problems = _problems(text)

    assert len(problems) == 1
    assert "key 'unit' appears twice" in problems[0].message
    assert "line 24" in problems[0].message


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- a\n- b\n", "a framework file is a mapping at the top"),
        ("code: [unclosed\n", "not valid YAML at line 2"),
        (b"code: \xff\n", "the file is not UTF-8"),
        ("frameworks/pmm-v1.yaml", "pass a pathlib.Path to read a file"),
    ],
)
def test_unreadable_files(text: str | bytes, message: str) -> None:
    with pytest.raises(FrameworkError) as raised:
        load_framework(text)

    assert message in str(raised.value)


def test_every_problem_is_reported_at_once(small_framework_text: str) -> None:
    text = small_framework_text.replace("code: TF.1.2", "code: TF.1.1").replace(
        "DECL_ELECTRONIC / DECL_TOTAL * 100", "DECL_ELECTRONIC / NOPE * 100"
    )

    with pytest.raises(FrameworkError) as raised:
        load_framework(text)

    assert [p.path for p in raised.value.problems] == [
        "kpis[1].code",
        "kpis[0].formula",
        "kpis[0].inputs[1]",
    ]
    assert str(raised.value).startswith("framework refused, 3 problems:")


def test_a_framework_built_in_code_is_checked_too(small_framework_text: str) -> None:
    framework = load_framework(small_framework_text)
    document = framework.model_dump()
    document["kpis"][0]["formula"] = "DECL_ELECTRONIC / MISSING"

    with pytest.raises(FrameworkError):
        Framework.model_validate(document)
