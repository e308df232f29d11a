"""The scoring service's use cases: score a revision, recalculate a cycle, read and
explain results, preview. The caller owns the transaction."""

import asyncio
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal, Self

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from pmm_kit.auth import Principal, Role
from pmm_kit.contracts.common import CycleRef
from pmm_kit.contracts.scoring import ScoresComputed
from pmm_kit.contracts.submission import SubmissionSubmitted
from pmm_kit.events import encode_event
from pmm_kit.logs import current_correlation_id
from pmm_kit.outbox import add_encoded
from pmm_methodology import (
    Assessment,
    DimensionResult,
    Explanation,
    KpiResult,
    Lineage,
    OutcomeResult,
    explain_dimension,
    explain_kpi,
    explain_outcome,
)
from pmm_methodology import UnknownCodeError as LibraryUnknownCodeError
from pmm_scoring import repository
from pmm_scoring.domain import RECALCULATION, SUBMITTED, Inputs, inputs_from
from pmm_scoring.errors import CalculationNotFoundError, UnknownCodeError
from pmm_scoring.frameworks import framework_for
from pmm_scoring.models import Calculation, Recalculation, Scorecard

log = structlog.get_logger(__name__)

Subject = Literal["kpi", "outcome", "dimension"]


@dataclass(frozen=True)
class StoredCalculation:
    id: uuid.UUID
    member: str
    revision: int
    current: bool


async def score_submitted_revision(
    session: AsyncSession, submitted: SubmissionSubmitted, *, event_id: uuid.UUID
) -> StoredCalculation | None:
    """Keep the revision's inputs and store its calculation; None when this revision
    was scored already (the same revision sent again under another event id)."""
    framework = framework_for(
        submitted.cycle.framework_code, submitted.cycle.framework_version
    )
    inputs = _inputs_of(submitted)

    # Computed before the revision is known to be new, so that one statement keeps
    # it and stores its calculation: a round trip fewer for every submission, and a
    # revision sent again under another event id is rare.
    calculation = _NewCalculation.of(submitted, inputs.assess(framework))
    kept, current = await repository.keep_revision_and_add_calculation(
        session, _revision_row(submitted, event_id), calculation.row()
    )
    if not kept:
        log.info(
            "scores.revision.already_scored",
            submission_id=submitted.submission_id,
            revision=submitted.revision,
        )
        return None

    return await _emit_calculation(session, calculation, current=current)


def _inputs_of(submitted: SubmissionSubmitted) -> Inputs:
    return inputs_from(
        submitted.cycle.reporting_year, submitted.values, submitted.kpi_opt_outs
    )


def _revision_row(
    submitted: SubmissionSubmitted, event_id: uuid.UUID
) -> dict[str, object]:
    return {
        "submission_id": submitted.submission_id,
        "revision": submitted.revision,
        "member": submitted.member.code,
        "cycle_id": submitted.cycle.cycle_id,
        "reporting_year": submitted.cycle.reporting_year,
        "framework_code": submitted.cycle.framework_code,
        "framework_version": submitted.cycle.framework_version,
        "submitted_at": submitted.submitted_at,
        "event_id": event_id,
        "payload": submitted.model_dump_json(),
    }


@dataclass(frozen=True)
class _NewCalculation:
    """A calculation about to be stored; its stored bytes are the assessment's
    canonical JSON, and its event carries that text."""

    id: uuid.UUID
    submitted: SubmissionSubmitted
    assessment: Assessment
    canonical: str
    computed_at: datetime
    trigger: str
    recalculation_id: uuid.UUID | None

    @classmethod
    def of(
        cls,
        submitted: SubmissionSubmitted,
        assessment: Assessment,
        *,
        trigger: str = SUBMITTED,
        recalculation_id: uuid.UUID | None = None,
    ) -> Self:
        return cls(
            id=uuid.uuid4(),
            submitted=submitted,
            assessment=assessment,
            canonical=assessment.to_canonical_json(),
            computed_at=datetime.now(UTC),
            trigger=trigger,
            recalculation_id=recalculation_id,
        )

    def row(self) -> dict[str, object]:
        submitted, lineage = self.submitted, self.assessment.lineage
        return {
            "id": self.id,
            "submission_id": submitted.submission_id,
            "revision": submitted.revision,
            "member": submitted.member.code,
            "cycle_id": submitted.cycle.cycle_id,
            "reporting_year": submitted.cycle.reporting_year,
            "trigger": self.trigger,
            "recalculation_id": self.recalculation_id,
            "framework_code": lineage.framework_code,
            "framework_version": lineage.framework_version,
            "framework_sha256": lineage.framework_sha256,
            "library_version": lineage.library_version,
            "inputs_sha256": lineage.inputs_sha256,
            "blocking_findings": len(self.assessment.blocking_findings),
            "computed_at": self.computed_at,
            "assessment": self.canonical,
        }


async def _emit_calculation(
    session: AsyncSession, calculation: _NewCalculation, *, current: bool
) -> StoredCalculation:
    submitted = calculation.submitted
    await _emit_scores_computed(
        session,
        ScoresComputed(
            calculation_id=str(calculation.id),
            submission_id=submitted.submission_id,
            cycle=_cycle_as_computed(submitted.cycle, calculation.assessment.lineage),
            member=submitted.member.code,
            revision=submitted.revision,
            computed_at=calculation.computed_at,
            trigger=calculation.trigger,
            current=current,
            assessment={},
        ),
        assessment=calculation.canonical,
    )
    log.info(
        "scores.computed",
        calculation_id=str(calculation.id),
        submission_id=submitted.submission_id,
        member=submitted.member.code,
        revision=submitted.revision,
        trigger=calculation.trigger,
        current=current,
    )
    return StoredCalculation(
        calculation.id, submitted.member.code, submitted.revision, current
    )


async def _emit_scores_computed(
    session: AsyncSession, event: ScoresComputed, *, assessment: str
) -> None:
    """Write the event to the outbox with `assessment`, the canonical JSON stored,
    as its assessment (the event's own is not read).

    The document is 40 kB: parsed into values only to be serialised back into the
    same text, it cost a sixth of a worker's time.
    """
    encoded = encode_event(
        event,
        correlation_id=current_correlation_id(),
        subject=event.submission_id,
        documents={"assessment": assessment},
    )
    await add_encoded(session, encoded)


def _cycle_as_computed(cycle: CycleRef, lineage: Lineage) -> CycleRef:
    """The cycle with the framework the result was computed with: a recalculation
    may use another version than the one the revision was submitted under."""
    return CycleRef(
        cycle_id=cycle.cycle_id,
        reporting_year=cycle.reporting_year,
        framework_code=lineage.framework_code,
        framework_version=lineage.framework_version,
    )


@dataclass(frozen=True)
class RecalculationDone:
    recalculation: Recalculation
    calculations: list[StoredCalculation]


async def recalculate_cycle(
    session: AsyncSession,
    *,
    cycle_id: str,
    framework_version: str | None,
    reason: str,
    requested_by: str,
) -> RecalculationDone:
    """Compute the current revision of every member in the cycle again, from the
    inputs kept; the new calculations become current, the old ones stay."""
    scorecards = await repository.scorecards_of_cycle(session, cycle_id, lock=True)
    if not scorecards:
        raise CalculationNotFoundError(
            f"no calculation for cycle {cycle_id}: the cycle is unknown here, or "
            "none of its submissions has been scored yet"
        )
    revisions = [await _submitted_revision(session, card) for card in scorecards]
    frameworks = [
        framework_for(
            submitted.cycle.framework_code,
            framework_version or submitted.cycle.framework_version,
        )
        for submitted in revisions
    ]

    recalculation = Recalculation(
        id=uuid.uuid4(),
        cycle_id=cycle_id,
        framework_code=frameworks[0].code,
        framework_version=framework_version,
        reason=reason,
        requested_by=requested_by,
        requested_at=datetime.now(UTC),
        calculations=len(revisions),
    )
    await repository.add_recalculation(session, recalculation)

    stored = []
    for submitted, framework in zip(revisions, frameworks, strict=True):
        # A cycle takes seconds to compute: in a thread, so that the API process
        # goes on answering other requests meanwhile.
        assessment = await asyncio.to_thread(_inputs_of(submitted).assess, framework)
        calculation = _NewCalculation.of(
            submitted,
            assessment,
            trigger=RECALCULATION,
            recalculation_id=recalculation.id,
        )
        current = await repository.add_calculation(session, calculation.row())
        stored.append(await _emit_calculation(session, calculation, current=current))
    log.info(
        "scores.recalculated",
        recalculation_id=str(recalculation.id),
        cycle_id=cycle_id,
        calculations=len(stored),
    )
    return RecalculationDone(recalculation, stored)


async def _submitted_revision(
    session: AsyncSession, card: Scorecard
) -> SubmissionSubmitted:
    row = await repository.get_revision(session, card.submission_id, card.revision)
    assert row is not None, "a scorecard always points at a kept revision"
    return SubmissionSubmitted.model_validate_json(row.payload)


# Reading


@dataclass(frozen=True)
class ReadCalculation:
    calculation: Calculation
    current: bool

    def assessment(self) -> Assessment:
        return Assessment.model_validate_json(self.calculation.assessment)


async def may_read(
    session: AsyncSession, principal: Principal, *, member: str, submission_id: str
) -> bool:
    """Member-scoped callers read their own member, reviewers what they are assigned
    to, the Secretariat everything."""
    if principal.can_act_for(member):
        return True
    return principal.role is Role.REVIEWER and await repository.is_assigned(
        session, reviewer_subject=principal.subject, submission_id=submission_id
    )


async def _readable_scorecard(
    session: AsyncSession, principal: Principal, member: str, cycle_id: str
) -> Scorecard:
    # A refusal reads exactly as a result that does not exist: no one learns that
    # another member has scores.
    card = await repository.get_scorecard(session, member, cycle_id)
    if card is None or not await may_read(
        session, principal, member=member, submission_id=card.submission_id
    ):
        raise CalculationNotFoundError(
            f"no calculation for {member} in cycle {cycle_id}"
        )
    return card


async def read_scorecard(
    session: AsyncSession,
    principal: Principal,
    *,
    member: str,
    cycle_id: str,
    revision: int | None = None,
) -> ReadCalculation:
    card = await _readable_scorecard(session, principal, member, cycle_id)

    if revision is None:
        calculation = await repository.get_calculation(session, card.calculation_id)
    else:
        calculation = await repository.latest_calculation_of_revision(
            session, member, cycle_id, revision
        )
    if calculation is None:
        raise CalculationNotFoundError(
            f"no calculation of revision {revision} for {member} in cycle {cycle_id}"
        )
    return ReadCalculation(calculation, calculation.id == card.calculation_id)


async def read_calculation(
    session: AsyncSession, principal: Principal, calculation_id: uuid.UUID
) -> ReadCalculation:
    calculation = await repository.get_calculation(session, calculation_id)
    if calculation is None or not await may_read(
        session,
        principal,
        member=calculation.member,
        submission_id=calculation.submission_id,
    ):
        raise CalculationNotFoundError(f"no calculation {calculation_id}")
    card = await repository.get_scorecard(
        session, calculation.member, calculation.cycle_id
    )
    current = card is not None and card.calculation_id == calculation.id
    return ReadCalculation(calculation, current)


async def read_history(
    session: AsyncSession, principal: Principal, *, member: str, cycle_id: str
) -> list[ReadCalculation]:
    card = await _readable_scorecard(session, principal, member, cycle_id)

    calculations = await repository.calculations_of(session, member, cycle_id)
    return [
        ReadCalculation(calculation, calculation.id == card.calculation_id)
        for calculation in calculations
    ]


Result = KpiResult | OutcomeResult | DimensionResult


def explain(
    assessment: Assessment, subject: Subject, code: str
) -> tuple[Explanation, Result]:
    """The library's explanation of one figure, with the result it explains."""
    try:
        if subject == "kpi":
            return explain_kpi(assessment, code), assessment.kpi(code)
        if subject == "outcome":
            return explain_outcome(assessment, code), assessment.outcome(code)
        return explain_dimension(assessment, code), assessment.dimension(code)
    except LibraryUnknownCodeError:
        raise UnknownCodeError(
            f"no {subject} {code} in the framework of this calculation",
            subject=subject,
            code=code,
        ) from None


def preview(
    *, framework_code: str, framework_version: str, inputs: Inputs
) -> Assessment:
    """Score values without storing anything."""
    return inputs.assess(framework_for(framework_code, framework_version))
