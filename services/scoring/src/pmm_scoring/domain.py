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
    year: int,
    values: Iterable[ValueEntry],
    opt_outs: Iterable[OptOutEntry],
    *,
    at: str = "",
) -> Inputs:
    """Refuses with InvalidInputsError what the library could not take: a value
    given twice for one year, a state without its reason, a value without its
    state, a KPI opted out twice. Each is named in `errors` by its field
    (`values.3`, after the prefix `at`) and rule, as a form shows it."""
    data: dict[ValueKey, DataValue] = {}
    errors: list[dict[str, object]] = []
    seen: set[ValueKey] = set()
    for index, entry in enumerate(values):
        key = (entry.data_element, entry.year)
        if key in seen:
            message = f"{entry.data_element} is given twice for {entry.year}"
            errors.append(
                _entry_error(entry, f"{at}values.{index}", "value.duplicate", message)
            )
            continue
        seen.add(key)
        try:
            data[key] = _data_value(entry)
        except ValueError as error:
            errors.append(
                _entry_error(entry, f"{at}values.{index}", "value.state", str(error))
            )

    kpi_opt_outs: dict[str, str] = {}
    for index, opt_out in enumerate(opt_outs):
        if opt_out.kpi in kpi_opt_outs:
            errors.append(
                {
                    "field": f"{at}kpi_opt_outs.{index}.kpi",
                    "rule": "opt_out.duplicate",
                    "message": f"KPI {opt_out.kpi} is opted out twice",
                }
            )
            continue
        kpi_opt_outs[opt_out.kpi] = opt_out.reason

    if errors:
        detail = (
            str(errors[0]["message"])
            if len(errors) == 1
            else (f"{len(errors)} entries cannot be scored; see errors")
        )
        raise InvalidInputsError(detail, errors=errors)
    return Inputs(year=year, values=data, kpi_opt_outs=kpi_opt_outs)


def _entry_error(
    entry: ValueEntry, field: str, rule: str, message: str
) -> dict[str, object]:
    return {
        "field": field,
        "data_element": entry.data_element,
        "year": entry.year,
        "rule": rule,
        "message": message,
    }


def _data_value(entry: ValueEntry) -> DataValue:
    """The library's value; ValueError saying what the state, value and reason
    given together lack."""
    try:
        # The state as given: pydantic takes the library's enum or its text.
        return DataValue.model_validate(
            {"state": entry.state, "value": entry.value, "reason": entry.reason}
        )
    except ValidationError as error:
        first = error.errors()[0]
        raise ValueError(
            f"{entry.data_element} ({entry.year}): "
            f"{first.get('ctx', {}).get('error') or first['msg']}"
        ) from None
