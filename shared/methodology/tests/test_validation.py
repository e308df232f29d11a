from decimal import Decimal

from pmm_methodology import (
    DataValue,
    Severity,
    ValueKey,
    compute,
    load_framework,
    reference_framework,
)


def _rules(
    values: dict[ValueKey, DataValue], year: int = 2022
) -> list[tuple[str, str | None, int | None]]:
    assessment = compute(reference_framework(), year, values)
    return [
        (f.rule, f.element, f.year)
        for f in assessment.findings
        if f.rule != "completeness.missing"
    ]


def test_a_consistent_pair_has_no_finding() -> None:
    values = {
        ("DECL_TOTAL", 2022): DataValue.provided(100),
        ("DECL_ELECTRONIC", 2022): DataValue.provided(100),
    }

    assert _rules(values) == []


def test_electronic_declarations_above_all_declarations() -> None:
    values = {
        ("DECL_TOTAL", 2022): DataValue.provided(100),
        ("DECL_ELECTRONIC", 2022): DataValue.provided(101),
    }

    assessment = compute(reference_framework(), 2022, values)
    finding = next(
        f for f in assessment.findings if f.rule == "R_DECL_ELECTRONIC_LE_TOTAL"
    )

    assert finding.severity is Severity.ERROR
    assert finding.message == "Electronic declarations cannot exceed all declarations."
    assert [(i.element, i.value) for i in finding.inputs] == [
        ("DECL_ELECTRONIC", Decimal(101)),
        ("DECL_TOTAL", Decimal(100)),
    ]
    assert not assessment.can_submit


def test_no_aeo_programme_with_aeo_counts_in_t_minus_1() -> None:
    values = {
        ("AEO_PROGRAMME", 2022): DataValue.provided(False),
        ("AEO_COUNT", 2022): DataValue.not_applicable("no programme"),
        ("AEO_COUNT", 2021): DataValue.provided(3),
    }

    assert _rules(values) == [("R_AEO_COUNT_WITHOUT_PROGRAMME", "AEO_COUNT", 2022)]


def test_a_rule_that_cannot_be_computed_is_not_checked() -> None:
    values = {("DECL_ELECTRONIC", 2022): DataValue.provided(101)}

    assert _rules(values) == []


def test_warnings_do_not_block() -> None:
    values = {
        ("REV_CUSTOMS", 2022): DataValue.provided(100),
        ("REV_TAX_TOTAL", 2022): DataValue.provided(90),
    }
    framework = reference_framework()
    opt_outs = {
        kpi.code: "not used in this test"
        for kpi in framework.kpis
        if kpi.code != "RC.2.1"
    }

    assessment = compute(framework, 2022, values, kpi_opt_outs=opt_outs)

    assert [(f.rule, f.severity) for f in assessment.findings] == [
        ("R_REVENUE_LE_TAX_TOTAL", Severity.WARNING)
    ]
    assert assessment.can_submit


def test_completeness_names_the_kpis_waiting_for_a_value() -> None:
    framework = reference_framework()
    opt_outs = {
        k.code: "test" for k in framework.kpis if k.code not in ("TF.1.1", "TF.4.2")
    }

    assessment = compute(framework, 2022, {}, kpi_opt_outs=opt_outs)

    assert [(f.rule, f.element, f.year, f.message) for f in assessment.findings] == [
        (
            "completeness.missing",
            "DECL_ELECTRONIC",
            2022,
            "no value or state given; read by TF.1.1",
        ),
        (
            "completeness.missing",
            "DECL_RELEASED_24H",
            2022,
            "no value or state given; read by TF.4.2",
        ),
        (
            "completeness.missing",
            "DECL_TOTAL",
            2022,
            "no value or state given; read by TF.1.1, TF.4.2",
        ),
    ]


def test_an_opt_out_needs_a_reason() -> None:
    assessment = compute(reference_framework(), 2022, {}, kpi_opt_outs={"TF.1.1": "  "})

    findings = [f for f in assessment.findings if f.rule.startswith("opt_out")]

    assert [(f.rule, f.kpi) for f in findings] == [("opt_out.reason_missing", "TF.1.1")]


def test_a_quantity_may_have_decimals_but_a_count_may_not(
    small_framework_text: str,
) -> None:
    framework = load_framework(small_framework_text)
    values = {
        ("DECL_TOTAL", 2022): DataValue.provided(Decimal("10.0")),
        ("DECL_ELECTRONIC", 2022): DataValue.provided(Decimal("2.5")),
    }

    assessment = compute(framework, 2022, values)

    assert [
        (f.rule, f.element) for f in assessment.findings if f.rule.startswith("input")
    ] == [("input.whole_number", "DECL_ELECTRONIC")]


def test_a_value_of_the_wrong_type_is_shown_as_json_writes_it() -> None:
    values = {
        ("DECL_TOTAL", 2022): DataValue.provided(True),
        ("AEO_PROGRAMME", 2022): DataValue.provided(1),
        ("SINGLE_WINDOW_STATUS", 2022): DataValue.provided("maybe"),
    }

    assessment = compute(reference_framework(), 2022, values)
    messages = {
        f.element: f.message for f in assessment.findings if f.rule.startswith("input.")
    }

    assert messages["DECL_TOTAL"] == "count needs a number, got true"
    assert messages["AEO_PROGRAMME"] == "boolean needs true or false, got 1"
    assert messages["SINGLE_WINDOW_STATUS"].startswith("'maybe' is not one of ")
