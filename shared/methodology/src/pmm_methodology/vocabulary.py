"""The closed sets of words a framework file uses."""

from enum import StrEnum


class Aggregation(StrEnum):
    """How an expected outcome's level comes from its KPI levels."""

    WEAKEST_LINK = "weakest_link"  # M1: the lowest KPI level
    AVERAGING = "averaging"  # M2: the mean of the KPI levels


class KpiKind(StrEnum):
    RATIO = "ratio"
    VARIATION = "variation"
    COUNT = "count"
    YES_NO = "yes_no"
    LEVEL = "level"
    DURATION = "duration"


class Direction(StrEnum):
    HIGHER_BETTER = "higher_better"
    LOWER_BETTER = "lower_better"
    NONE = "none"


class DisclosureLevel(StrEnum):
    PUBLIC = "public"
    WCO = "wco"
    RESTRICTED = "restricted"


class ElementType(StrEnum):
    COUNT = "count"
    AMOUNT = "amount"
    QUANTITY = "quantity"
    PERCENT = "percent"
    DURATION = "duration"
    BOOLEAN = "boolean"
    ENUM = "enum"


NUMERIC_ELEMENT_TYPES = frozenset(
    {
        ElementType.COUNT,
        ElementType.AMOUNT,
        ElementType.QUANTITY,
        ElementType.PERCENT,
        ElementType.DURATION,
    }
)


class Severity(StrEnum):
    ERROR = "error"  # blocks submission
    WARNING = "warning"  # shown, does not block


class YearRef(StrEnum):
    T = "T"
    T_MINUS_1 = "T-1"

    @property
    def lag(self) -> int:
        return 0 if self is YearRef.T else 1


LEVEL_NAMES = {1: "initial", 2: "developing", 3: "established", 4: "advanced"}
