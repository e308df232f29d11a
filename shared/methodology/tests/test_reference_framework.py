import hashlib
from importlib import resources

from pmm_methodology import (
    Aggregation,
    DisclosureLevel,
    KpiKind,
    parse,
    reference_framework,
    shipped_frameworks,
)

CONFIRMED_OUTCOMES = {
    "Paperless trade",
    "Increased trust in the relationship with trade",
    "More efficiency of clearance and delivery in e-commerce",
}

CONFIRMED_KPIS = {
    "Rate of electronic declarations": "Paperless trade",
    "Variation in the number of AEOs": "Increased trust in the relationship with trade",
    "AEO involvement in trade": "Increased trust in the relationship with trade",
    "Share of e-commerce shipments, in import and export, by number of shipments": (
        "More efficiency of clearance and delivery in e-commerce"
    ),
    "Data standardization": None,
    "Annual variation in requests for information": None,
    "Effectiveness of post-clearance controls": None,
    "Effectiveness of controls on drugs": None,
    "Variation in the number of alcohol seizures": None,
}

OFFICIAL_DIMENSIONS = [
    "Trade Facilitation and Economic Competitiveness",
    "Revenue Collection",
    "Enforcement, Security and Protection of Society",
    "Organizational Development",
]


def test_identity_and_size() -> None:
    framework = reference_framework()

    assert (framework.code, framework.version) == ("PMM", "1.0.0")
    assert len(framework.dimensions) == 4
    assert len(framework.outcomes) == 23
    assert len(framework.kpis) == 51


def test_the_reference_framework_is_loaded_once() -> None:
    assert reference_framework() is reference_framework()


def test_the_shipped_frameworks_are_named_by_file_and_hash_their_file() -> None:
    folder = resources.files("pmm_methodology").joinpath("frameworks")

    shipped = shipped_frameworks()

    assert "pmm-v1" in shipped
    assert list(shipped) == sorted(shipped)
    assert shipped["pmm-v1"] is reference_framework()
    for name, framework in shipped.items():
        text = folder.joinpath(f"{name}.yaml").read_bytes().decode("utf-8")
        assert framework.content_hash == hashlib.sha256(text.encode()).hexdigest()


def test_official_dimension_names() -> None:
    framework = reference_framework()

    assert [d.name.en for d in framework.dimensions] == OFFICIAL_DIMENSIONS
    assert not any(d.provisional for d in framework.dimensions)


def test_confirmed_outcomes_appear_exactly_and_the_rest_is_provisional() -> None:
    framework = reference_framework()

    confirmed = {o.name.en for o in framework.outcomes if not o.provisional}

    assert confirmed == CONFIRMED_OUTCOMES


def test_confirmed_kpis_appear_exactly_and_the_rest_is_provisional() -> None:
    framework = reference_framework()

    confirmed = {k.name.en: k for k in framework.kpis if not k.provisional}

    assert set(confirmed) == set(CONFIRMED_KPIS)
    for name, outcome_name in CONFIRMED_KPIS.items():
        if outcome_name is not None:
            assert framework.outcome(confirmed[name].outcome).name.en == outcome_name


def test_every_kpi_is_complete() -> None:
    framework = reference_framework()

    for kpi in framework.kpis:
        assert kpi.name.en, kpi.code
        assert kpi.name.fr, kpi.code
        assert kpi.code.startswith(kpi.outcome + "."), kpi.code
        assert kpi.inputs, kpi.code
        assert kpi.sdg_targets, kpi.code
        assert kpi.instruments, kpi.code
        assert kpi.disclosure is DisclosureLevel.RESTRICTED, kpi.code
        assert (kpi.bands is not None) == (
            kpi.scored and kpi.kind is not KpiKind.YES_NO
        )


def test_every_kind_and_both_aggregations_are_used() -> None:
    framework = reference_framework()

    assert {kpi.kind for kpi in framework.kpis} == set(KpiKind)
    assert {o.aggregation for o in framework.outcomes} == set(Aggregation)


def test_every_outcome_and_dimension_can_be_reached() -> None:
    framework = reference_framework()

    for outcome in framework.outcomes:
        assert framework.kpis_of(outcome), outcome.code
    for dimension in framework.dimensions:
        assert framework.outcomes_of(dimension), dimension.code
        assert any(
            kpi.scored
            for outcome in framework.outcomes_of(dimension)
            for kpi in framework.kpis_of(outcome)
        ), dimension.code


def test_every_data_element_is_read() -> None:
    framework = reference_framework()
    read: set[str] = set()
    for kpi in framework.kpis:
        read |= {declared.element for declared in kpi.inputs}
    for rule in framework.rules:
        for text in (rule.check, rule.when):
            if text is not None:
                read |= {r.element for r in parse(text).references()}

    assert {element.code for element in framework.data_elements} == read


def test_the_required_consistency_rules_exist() -> None:
    framework = reference_framework()
    rules = {rule.code: rule for rule in framework.rules}

    electronic = rules["R_DECL_ELECTRONIC_LE_TOTAL"]
    no_programme = rules["R_AEO_COUNT_WITHOUT_PROGRAMME"]

    assert electronic.check == "DECL_ELECTRONIC <= DECL_TOTAL"
    assert electronic.severity.value == "error"
    assert no_programme.when == "not AEO_PROGRAMME"
    assert {rule.severity.value for rule in framework.rules} == {"error", "warning"}


def test_elements_a_published_figure_feed_would_map_to() -> None:
    framework = reference_framework()
    codes = {element.code for element in framework.data_elements}

    assert {
        "DECL_TOTAL",
        "REV_CUSTOMS",
        "REV_FORECAST",
        "REV_TAX_TOTAL",
        "RELEASE_TIME_AVG",
        "DECL_RELEASED_24H",
        "AEO_COUNT",
        "TRADE_VALUE_TOTAL",
        "DRUG_SEIZED_KG",
        "STAFF_TOTAL",
    } <= codes
    assert framework.data_element("REV_CUSTOMS").currency == "national"
    assert framework.data_element("RELEASE_TIME_AVG").unit == "hours"
    assert framework.data_element("DRUG_SEIZED_KG").unit == "kg"
