import pytest

SMALL_FRAMEWORK = """\
code: TEST
version: 0.1.0
name: {en: "Test framework", fr: "Cadre d'essai"}
instruments:
  - {code: RKC, name: {en: "Kyoto Convention", fr: "Convention de Kyoto"}}
dimensions:
  - code: TF
    name: {en: "Trade facilitation", fr: "Facilitation des échanges"}
outcomes:
  - code: TF.1
    name: {en: "Paperless trade", fr: "Commerce sans papier"}
    provisional: false
    dimension: TF
    aggregation: weakest_link
kpis:
  - code: TF.1.1
    name: {en: "Rate of electronic declarations", fr: "Taux de déclarations"}
    provisional: false
    outcome: TF.1
    kind: ratio
    inputs: [DECL_ELECTRONIC, DECL_TOTAL]
    formula: DECL_ELECTRONIC / DECL_TOTAL * 100
    unit: percent
    rounding: 2
    direction: higher_better
    bands: {developing: 50, established: 80, advanced: 95}
    instruments: [RKC]
    sdg_targets: ["17.11"]
  - code: TF.1.2
    name: {en: "Variation in declarations", fr: "Variation des déclarations"}
    provisional: true
    outcome: TF.1
    kind: variation
    inputs: [DECL_TOTAL, "DECL_TOTAL[T-1]"]
    formula: (DECL_TOTAL - DECL_TOTAL[T-1]) / DECL_TOTAL[T-1] * 100
    unit: percent
    rounding: 1
    direction: none
data_elements:
  - code: DECL_TOTAL
    name: {en: "Declarations", fr: "Déclarations"}
    type: count
    minimum: 0
  - code: DECL_ELECTRONIC
    name: {en: "Electronic declarations", fr: "Déclarations électroniques"}
    type: count
    minimum: 0
  - code: STATUS
    name: {en: "Status", fr: "État"}
    type: enum
    allowed: [yes, no, partial]
rules:
  - code: R_ELECTRONIC_LE_TOTAL
    element: DECL_ELECTRONIC
    severity: error
    check: DECL_ELECTRONIC <= DECL_TOTAL
    message: {en: "Too many", fr: "Trop"}
"""


@pytest.fixture
def small_framework_text() -> str:
    return SMALL_FRAMEWORK
