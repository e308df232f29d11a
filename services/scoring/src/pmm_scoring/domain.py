"""From submitted values to the methodology library's inputs, and which result is
current.

Scores themselves are computed by `pmm_methodology`; nothing here computes a figure.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from pydantic import ValidationError

from pmm_methodology import Assessment, DataValue, Framework, ValueKey, compute
from pmm_scoring.errors import InvalidInputsError

SUBMITTED = "submitted"
RECALCULATION = "recalculation"


class ValueEntry(Protocol):
    """One data element in one year as a submission or a preview gives it."""

    @property
    def data_element(self) -> str: ...
    @property
    def year(self) -> int: ...
    @property
    def state(self) -> str: ...
    @property
    def value(self) -> bool | str | Decimal | None: ...
    @property
    def reason(self) -> str | None: ...


class OptOutEntry(Protocol):
    @property
    def kpi(self) -> str: ...
    @property
    def reason(self) -> str: ...


@dataclass(frozen=True)
class Inputs:
    """What `compute` takes for one member's revision."""

    year: int
    values: Mapping[ValueKey, DataValue]
    kpi_opt_outs: Mapping[str, str]

    def assess(self, framework: Framework) -> Assessment:
        return compute(
            framework, self.year, self.values, kpi_opt_outs=self.kpi_opt_outs
        )


def inputs_from(
    year: int, values: Iterable[ValueEntry], opt_outs: Iterable[OptOutEntry]
) -> Inputs:
    """Refuses with InvalidInputsError what the library could not take: a value
    given twice for one year, a state without its reason, a value without its state."""
    data: dict[ValueKey, DataValue] = {}
    for entry in values:
        key = (entry.data_element, entry.year)
        if key in data:
            raise InvalidInputsError(
                f"{entry.data_element} is given twice for {entry.year}",
                element=entry.data_element,
                year=entry.year,
            )
        data[key] = _data_value(entry)

    kpi_opt_outs: dict[str, str] = {}
    for opt_out in opt_outs:
        if opt_out.kpi in kpi_opt_outs:
            raise InvalidInputsError(f"KPI {opt_out.kpi} is opted out twice")
        kpi_opt_outs[opt_out.kpi] = opt_out.reason
    return Inputs(year=year, values=data, kpi_opt_outs=kpi_opt_outs)


def _data_value(entry: ValueEntry) -> DataValue:
    try:
        # The state as given: pydantic takes the library's enum or its text.
        return DataValue.model_validate(
            {"state": entry.state, "value": entry.value, "reason": entry.reason}
        )
    except ValidationError as error:
        message = error.errors()[0]["msg"]
        raise InvalidInputsError(
            f"{entry.data_element} ({entry.year}): {message}",
            element=entry.data_element,
            year=entry.year,
        ) from None
