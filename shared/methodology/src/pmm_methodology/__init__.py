"""The PMM methodology: framework files, formulas, validation and scoring.

A pure library: the same framework file and the same code give the same figures in a
data-entry preview, a scoring worker, a published report and on a member's laptop.
"""

from pmm_methodology.canonical import canonical_json
from pmm_methodology.computation import compute
from pmm_methodology.errors import (
    ExpressionSyntaxError,
    FrameworkError,
    MethodologyError,
    Problem,
    UnknownCodeError,
)
from pmm_methodology.explain import (
    Exclusion,
    Explanation,
    explain_dimension,
    explain_kpi,
    explain_outcome,
)
from pmm_methodology.expressions import (
    Computed,
    EvaluationResult,
    Expression,
    NotComputable,
    NotComputableReason,
    evaluate,
    parse,
)
from pmm_methodology.framework import (
    Bands,
    DataElement,
    Dimension,
    Framework,
    Instrument,
    Kpi,
    KpiInput,
    LocalizedText,
    Outcome,
    ValidationRule,
)
from pmm_methodology.lineage import LIBRARY_VERSION, inputs_fingerprint
from pmm_methodology.loader import load_framework
from pmm_methodology.reference import reference_framework, shipped_frameworks
from pmm_methodology.results import (
    Assessment,
    BandCheck,
    Coverage,
    DimensionResult,
    Finding,
    InputState,
    InputUsed,
    KpiContribution,
    KpiLevel,
    KpiResult,
    KpiStatus,
    Lineage,
    OutcomeContribution,
    OutcomeResult,
    OutcomeStatus,
)
from pmm_methodology.values import DataValue, Scalar, ValueKey, ValueState
from pmm_methodology.vocabulary import (
    Aggregation,
    Direction,
    DisclosureLevel,
    ElementType,
    KpiKind,
    Severity,
    YearRef,
)

__version__ = LIBRARY_VERSION

__all__ = [
    "LIBRARY_VERSION",
    "Aggregation",
    "Assessment",
    "BandCheck",
    "Bands",
    "Computed",
    "Coverage",
    "DataElement",
    "DataValue",
    "Dimension",
    "DimensionResult",
    "Direction",
    "DisclosureLevel",
    "ElementType",
    "EvaluationResult",
    "Exclusion",
    "Explanation",
    "Expression",
    "ExpressionSyntaxError",
    "Finding",
    "Framework",
    "FrameworkError",
    "InputState",
    "InputUsed",
    "Instrument",
    "Kpi",
    "KpiContribution",
    "KpiInput",
    "KpiKind",
    "KpiLevel",
    "KpiResult",
    "KpiStatus",
    "Lineage",
    "LocalizedText",
    "MethodologyError",
    "NotComputable",
    "NotComputableReason",
    "Outcome",
    "OutcomeContribution",
    "OutcomeResult",
    "OutcomeStatus",
    "Problem",
    "Scalar",
    "Severity",
    "UnknownCodeError",
    "ValidationRule",
    "ValueKey",
    "ValueState",
    "YearRef",
    "__version__",
    "canonical_json",
    "compute",
    "evaluate",
    "explain_dimension",
    "explain_kpi",
    "explain_outcome",
    "inputs_fingerprint",
    "load_framework",
    "parse",
    "reference_framework",
    "shipped_frameworks",
]
