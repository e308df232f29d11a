"""The scoring service's HTTP API: scorecards, history, explanations, recalculation
and a stateless preview."""

import uuid
from collections.abc import Sequence
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from pydantic import Field

from pmm_kit.app import UnitOfWorkDep
from pmm_kit.auth import Principal, Role, require_principal, require_role
from pmm_kit.bounds import MAX_INT32
from pmm_kit.exact_json import ExactJsonRoute
from pmm_kit.numbers import DIGITS_IN_URL, NumberRuleError
from pmm_kit.typed_values import typed_value
from pmm_methodology import Framework, ValueState
from pmm_scoring import service
from pmm_scoring.domain import inputs_from
from pmm_scoring.errors import InvalidInputsError
from pmm_scoring.frameworks import framework_for
from pmm_scoring.schemas import (
    CalculationOut,
    ExplanationOut,
    HistoryOut,
    MemberPath,
    PreviewOut,
    PreviewRequest,
    RecalculationOut,
    RecalculationRequest,
    ScorecardOut,
    ValueIn,
)

# Bodies read with numbers exact: a figure sent as a JSON number is never a float.
router = APIRouter(tags=["scores"], route_class=ExactJsonRoute)

Caller = Annotated[Principal, Depends(require_principal)]
Secretariat = Annotated[Principal, Depends(require_role(Role.SECRETARIAT))]
Member = Annotated[MemberPath, Path(description="ISO 3166 alpha-3 code")]
Revision = Annotated[
    Annotated[int, Field(ge=1, le=MAX_INT32), DIGITS_IN_URL] | None,
    Query(
        description="A given revision's latest calculation; default current",
    ),
]

_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such result, or not one the caller may read"}
}


@router.get(
    "/members/{member}/cycles/{cycle_id}/scorecard",
    response_model=ScorecardOut,
    responses=_NOT_FOUND,
)
async def get_scorecard(
    member: Member,
    cycle_id: str,
    uow: UnitOfWorkDep,
    principal: Caller,
    revision: Revision = None,
) -> ScorecardOut:
    """A member's scores for a cycle: every KPI value and level, expected outcome
    level, dimension score with its coverage, the findings and the lineage.

    The current calculation by default (that of the newest revision, latest
    recalculation included), or the latest one of a given `revision`.
    """
    read = await service.read_scorecard(
        uow.session, principal, member=member, cycle_id=cycle_id, revision=revision
    )
    return ScorecardOut(
        calculation=CalculationOut.of(read), assessment=read.assessment()
    )


@router.get(
    "/members/{member}/cycles/{cycle_id}/calculations",
    response_model=HistoryOut,
    responses=_NOT_FOUND,
)
async def list_calculations(
    member: Member, cycle_id: str, uow: UnitOfWorkDep, principal: Caller
) -> HistoryOut:
    """Every calculation stored for a member in a cycle, newest first, with the one
    that is current marked; none is ever removed."""
    history = await service.read_history(
        uow.session, principal, member=member, cycle_id=cycle_id
    )
    return HistoryOut(
        member=member,
        cycle_id=cycle_id,
        calculations=[CalculationOut.of(read) for read in history],
    )


@router.get(
    "/calculations/{calculation_id}", response_model=ScorecardOut, responses=_NOT_FOUND
)
async def get_calculation(
    calculation_id: uuid.UUID, uow: UnitOfWorkDep, principal: Caller
) -> ScorecardOut:
    """One stored calculation, as it was computed, whether current or not."""
    read = await service.read_calculation(uow.session, principal, calculation_id)
    return ScorecardOut(
        calculation=CalculationOut.of(read), assessment=read.assessment()
    )


@router.get(
    "/members/{member}/cycles/{cycle_id}/explain/{subject}/{code}",
    response_model=ExplanationOut,
    responses=_NOT_FOUND,
)
async def explain(
    member: Member,
    cycle_id: str,
    subject: service.Subject,
    code: str,
    uow: UnitOfWorkDep,
    principal: Caller,
    revision: Revision = None,
) -> ExplanationOut:
    """How one KPI, expected outcome or dimension got its figure.

    For a KPI: the formula, each input with its year, value and state, the rounding
    and the bands reached. For an expected outcome: the aggregation method (weakest
    link or averaging) and each KPI level counted. For a dimension: the outcome
    levels averaged and the coverage. `excluded` says what was left out and why.
    """
    read = await service.read_scorecard(
        uow.session, principal, member=member, cycle_id=cycle_id, revision=revision
    )
    explanation, result = service.explain(read.assessment(), subject, code)
    return ExplanationOut(
        calculation=CalculationOut.of(read), explanation=explanation, result=result
    )


@router.post(
    "/cycles/{cycle_id}/recalculations",
    response_model=RecalculationOut,
    status_code=201,
    responses={
        403: {"description": "Only the Secretariat recalculates"},
        404: {"description": "The cycle has no calculation"},
        422: {"description": "Unknown framework version"},
    },
)
async def recalculate_cycle(
    cycle_id: str,
    request: RecalculationRequest,
    uow: UnitOfWorkDep,
    principal: Secretariat,
) -> RecalculationOut:
    """Compute every member's current revision of the cycle again (after a new
    framework version, say), from the inputs kept when it was submitted.

    New calculations are added and become current; the earlier ones stay in each
    member's history. Each emits `scores computed`.
    """
    done = await service.recalculate_cycle(
        uow.session,
        cycle_id=cycle_id,
        framework_version=request.framework_version,
        reason=request.reason,
        requested_by=principal.subject,
    )
    await uow.commit()
    recalculation = done.recalculation
    return RecalculationOut(
        recalculation_id=recalculation.id,
        cycle_id=recalculation.cycle_id,
        framework_version=recalculation.framework_version,
        reason=recalculation.reason,
        requested_by=recalculation.requested_by,
        requested_at=recalculation.requested_at,
        calculations=[stored.id for stored in done.calculations],
    )


@router.post("/preview", response_model=PreviewOut, responses={422: {}})
async def preview(request: PreviewRequest, principal: Caller) -> PreviewOut:
    """Score a set of values without storing anything, as a form being filled in
    would show them: the same library and framework as the stored scores.

    A value is read by the same rules as the submission service reads it: a figure
    as a JSON number exactly as written, or as text of ASCII digits, a sign and one
    decimal point, within the same bounds; yes/no as a JSON boolean or the text
    yes/no, true/false, 1/0; an enumeration's code in any case. One that breaks them
    is refused with the same rule code. Open to any authenticated caller.
    """
    framework = framework_for(request.framework_code, request.framework_version)
    values = _values_read(framework, request.values)
    inputs = inputs_from(
        request.reporting_year, values, request.kpi_opt_outs, at="body."
    )
    assessment = service.preview(
        framework_code=request.framework_code,
        framework_version=request.framework_version,
        inputs=inputs,
    )
    return PreviewOut(can_submit=assessment.can_submit, assessment=assessment)


def _values_read(framework: Framework, values: Sequence[ValueIn]) -> list[ValueIn]:
    """Each provided value read by its data element's type as the submission service
    reads it (`pmm_kit.typed_values`): a figure as exact decimal text, yes/no as a
    bool, a code trimmed and in lower case; InvalidInputsError naming every value
    that breaks those rules. A value of an element the framework lacks is left to
    the library, which reports it."""
    elements = {element.code: element for element in framework.data_elements}
    read: list[ValueIn] = []
    errors: list[dict[str, Any]] = []
    for index, entry in enumerate(values):
        element = elements.get(entry.data_element)
        if element is None or entry.state is not ValueState.PROVIDED:
            read.append(entry)
            continue
        try:
            value = typed_value(element, entry.value)
        except NumberRuleError as error:
            errors.append(
                {
                    "field": f"body.values.{index}.value",
                    "data_element": entry.data_element,
                    "year": entry.year,
                    "rule": error.rule,
                    "message": error.message,
                }
            )
            continue
        shown = format(value, "f") if isinstance(value, Decimal) else value
        read.append(entry.model_copy(update={"value": shown}))
    if errors:
        raise InvalidInputsError(
            f"{len(errors)} value(s) break the rules values are read by; nothing "
            "was scored",
            errors=errors,
        )
    return read
