"""The safe expression language of formulas and validation rules.

Syntax, briefly (README.md of this library has the full description):

- numbers `12`, `0.5`; text `'operational'`; `true`, `false`;
- a data element in year T by its code, `DECL_TOTAL`, or in T-1, `AEO_COUNT[T-1]`
  (`AEO_COUNT[T]` is the same as `AEO_COUNT`);
- `+ - * /`, unary `-`, parentheses; `== != < <= > >=` (not chained);
- `and`, `or`, `not`; the conditional `a if condition else b`;
- `min(a, b, ...)`, `max(a, b, ...)`, `abs(x)`, `round(x, n)` (half away from zero);
- `provided(X)`, `not_applicable(X)`, `not_available(X)` test a value's state.
"""

from pmm_methodology.expressions.computed import (
    Computed,
    EvaluationResult,
    NotComputable,
    NotComputableReason,
)
from pmm_methodology.expressions.evaluator import (
    Evaluation,
    Program,
    compile_expression,
    evaluate,
    evaluated,
)
from pmm_methodology.expressions.nodes import Expression, Node, Reference
from pmm_methodology.expressions.parser import ELEMENT_CODE, parse
from pmm_methodology.expressions.type_check import (
    ElementSignature,
    TypeProblem,
    ValueType,
    check_types,
)

__all__ = [
    "ELEMENT_CODE",
    "Computed",
    "ElementSignature",
    "Evaluation",
    "EvaluationResult",
    "Expression",
    "Node",
    "NotComputable",
    "NotComputableReason",
    "Program",
    "Reference",
    "TypeProblem",
    "ValueType",
    "check_types",
    "compile_expression",
    "evaluate",
    "evaluated",
    "parse",
]
