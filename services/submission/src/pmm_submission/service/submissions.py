"""Submissions: values, opt-outs, disclosure, and the submit workflow.

Every transition locks the submission's row (`FOR UPDATE`) and bumps its version, so
two concurrent transitions are serialised and a client holding an old ETag is refused.
"""

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
import structlog
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from pmm_kit.auth import Principal
from pmm_kit.contracts.common import DisclosureLevel, ValueState
from pmm_kit.contracts.submission import (
    DisclosureChanged,
    KpiOptOut,
    Restatement,
    SubmissionAccepted,
    SubmissionReturned,
    SubmissionSubmitted,
    SubmittedValue,
)
from pmm_kit.outbox import add_event
from pmm_methodology import Assessment, DataValue, Framework, compute
from pmm_submission.deps import check_if_match, now
from pmm_submission.domain import (
    EDITABLE_STATES,
    Channel,
    RuleViolation,
    SubmissionState,
    Value,
    framework_for,
    kpi_elements,
    typed_value,
    value_text,
)
from pmm_submission.errors import (
    IncompleteError,
    InvalidInputError,
    StateError,
    UnknownError,
)
from pmm_submission.models import (
    Cycle,
    DataValueRow,
    DisclosureRow,
    KpiOptOutRow,
    Revision,
    Submission,
    Transition,
    ValueChange,
)
from pmm_submission.registry import attributes_of
from pmm_submission.service.cycles import (
    cycle_ref,
    entry_allowed,
    get_cycle,
    record_transition,
)
from pmm_submission.service.members import get_member

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class ValueWrite:
    """One answer to write, as the caller gave it (not yet checked)."""

    data_element: str
    year: int
    state: ValueState
    value: object
    reason: str | None
    restatement_reason: str | None


@dataclass(frozen=True)
class PreviousFigure:
    value: str | None
    state: str
    cycle_id: uuid.UUID


async def find_submission(
    session: AsyncSession, cycle_id: uuid.UUID, member: str, *, lock: bool = False
) -> Submission:
    query = sa.select(Submission).where(
        Submission.cycle_id == cycle_id, Submission.member == member
    )
    if lock:
        query = query.with_for_update()
    submission = await session.scalar(query)
    if submission is None:
        raise UnknownError(f"no submission of {member} in cycle {cycle_id}")
    return submission


async def open_submission(
    session: AsyncSession, cycle: Cycle, member: str
) -> Submission:
    """The member's submission in the cycle, created as a draft on first write."""
    await get_member(session, member)
    at = now()
    await session.execute(
        insert(Submission)
        .values(
            id=uuid.uuid4(),
            cycle_id=cycle.id,
            member=member,
            state=SubmissionState.DRAFT,
            revision=0,
            version=1,
            created_at=at,
            updated_at=at,
        )
        .on_conflict_do_nothing(index_elements=["cycle_id", "member"])
    )
    return await find_submission(session, cycle.id, member, lock=True)


async def values_of(
    session: AsyncSession, submission_id: uuid.UUID
) -> list[DataValueRow]:
    query = sa.select(DataValueRow).where(DataValueRow.submission_id == submission_id)
    return list(
        await session.scalars(
            query.order_by(DataValueRow.data_element, DataValueRow.year)
        )
    )


async def opt_outs_of(
    session: AsyncSession, submission_id: uuid.UUID
) -> dict[str, str]:
    query = sa.select(KpiOptOutRow).where(KpiOptOutRow.submission_id == submission_id)
    return {row.kpi: row.reason for row in await session.scalars(query)}


async def disclosure_of(
    session: AsyncSession, submission_id: uuid.UUID, framework: Framework
) -> dict[str, DisclosureLevel]:
    query = sa.select(DisclosureRow).where(DisclosureRow.submission_id == submission_id)
    chosen = {
        row.kpi: DisclosureLevel(row.level) for row in await session.scalars(query)
    }
    return {
        kpi.code: chosen.get(kpi.code, DisclosureLevel.RESTRICTED)
        for kpi in framework.kpis
    }


def stored_value(row: DataValueRow) -> Value | None:
    if row.number is not None:
        return row.number
    if row.flag is not None:
        return row.flag
    return row.code


def data_value(row: DataValueRow) -> DataValue:
    if row.state == ValueState.PROVIDED:
        value = stored_value(row)
        assert value is not None
        return DataValue.provided(value)
    reason = row.reason or ""
    if row.state == ValueState.NOT_APPLICABLE:
        return DataValue.not_applicable(reason)
    return DataValue.not_available(reason)


ValueChanges = Mapping[tuple[str, int], DataValue | None]


async def assess(
    session: AsyncSession,
    submission: Submission | None,
    cycle: Cycle,
    *,
    changes: ValueChanges | None = None,
) -> Assessment:
    """The methodology library's view of the submission as it stands or, given
    `changes` by (data element, year), as it would stand with them made (None
    removes the value). A member's first feed assesses a submission not yet opened.
    """
    framework = framework_for(cycle.framework_code, cycle.framework_version)
    values: dict[tuple[str, int], DataValue] = {}
    opt_outs: dict[str, str] = {}
    if submission is not None:
        rows = await values_of(session, submission.id)
        values = {(row.data_element, row.year): data_value(row) for row in rows}
        opt_outs = await opt_outs_of(session, submission.id)
    for key, change in (changes or {}).items():
        if change is None:
            values.pop(key, None)
        else:
            values[key] = change
    return compute(framework, cycle.reporting_year, values, kpi_opt_outs=opt_outs)


async def _editable_submission(
    session: AsyncSession,
    cycle_id: uuid.UUID,
    member: str,
    *,
    actor: Principal,
    if_match: str | None,
) -> tuple[Cycle, Submission]:
    cycle = await get_cycle(session, cycle_id)
    if not await entry_allowed(session, cycle, member, actor):
        raise StateError(
            f"the cycle is {cycle.state}: entry is not open", state=cycle.state
        )

    submission = await open_submission(session, cycle, member)
    check_if_match(if_match, submission.version)
    if submission.state not in EDITABLE_STATES:
        raise StateError(
            f"the submission is {submission.state}; only draft or returned ones change",
            state=submission.state,
        )
    return cycle, submission


async def write_values(
    session: AsyncSession,
    cycle_id: uuid.UUID,
    member: str,
    writes: Sequence[ValueWrite],
    *,
    actor: Principal,
    if_match: str | None,
) -> tuple[Submission, list[DataValueRow], Assessment]:
    cycle, submission = await _editable_submission(
        session, cycle_id, member, actor=actor, if_match=if_match
    )
    framework = framework_for(cycle.framework_code, cycle.framework_version)
    figures = await previous_figures(session, {cycle.reporting_year - 1}, member=member)
    previous = {(element, year): f for (_, element, year), f in figures.items()}
    checked = _check_writes(framework, cycle, submission, writes, previous)

    channel = (
        Channel.CORRECTION
        if submission.state == SubmissionState.RETURNED
        else Channel.FORM
    )
    existing = {
        (row.data_element, row.year): row
        for row in await values_of(session, submission.id)
    }
    written: list[DataValueRow] = []
    changed = 0
    for write, value, restated in checked:
        stored = existing.get((write.data_element, write.year))
        if stored is not None and _unchanged(stored, write, value, restated):
            written.append(stored)
            continue
        written.append(
            await _apply_write(
                session, submission, existing, write, value, restated, actor, channel
            )
        )
        changed += 1
    # The same values again change nothing: the version (and so the ETag) stays,
    # and a client's If-Match stays good.
    if changed:
        submission.version += 1
        submission.updated_at = now()
        await session.flush()
    log.info(
        "submission.values.written",
        submission_id=str(submission.id),
        count=changed,
        unchanged=len(written) - changed,
        channel=channel,
    )
    return submission, written, await assess(session, submission, cycle)


def _check_writes(
    framework: Framework,
    cycle: Cycle,
    submission: Submission,
    writes: Sequence[ValueWrite],
    previous: dict[tuple[str, int], PreviousFigure],
) -> list[tuple[ValueWrite, Value | None, PreviousFigure | None]]:
    elements = {element.code: element for element in framework.data_elements}
    reopened = (
        kpi_elements(framework, submission.reopened_kpis or [])
        if submission.state == SubmissionState.RETURNED
        else None
    )
    errors = _duplicate_errors(writes)
    checked: list[tuple[ValueWrite, Value | None, PreviousFigure | None]] = []
    for row, write in enumerate(writes):
        try:
            value, restated = check_write(
                elements, cycle, write, previous.get((write.data_element, write.year))
            )
            if reopened is not None and write.data_element not in reopened:
                raise RuleViolation(
                    "submission.not_reopened",
                    f"{write.data_element} is not read by a returned KPI",
                )
            checked.append((write, value, restated))
        except RuleViolation as violation:
            errors.append(
                {
                    "row": row,
                    "field": _field_of(violation.rule),
                    "data_element": write.data_element,
                    "year": write.year,
                    "rule": violation.rule,
                    "message": violation.message,
                }
            )
    if errors:
        errors.sort(key=lambda error: int(error["row"]))
        raise InvalidInputError(
            f"{len(errors)} value(s) break a rule; nothing was written", errors=errors
        )
    return checked


def _duplicate_errors(writes: Sequence[ValueWrite]) -> list[dict[str, Any]]:
    """One error per value the batch gives more than once, at its first entry and
    listing them all: which of them was meant cannot be told, and applying each in
    turn would keep the last and answer every one as it. One error per entry would
    repeat the list in each, growing with the square of the entries."""
    rows_of: dict[tuple[str, int], list[int]] = {}
    for row, write in enumerate(writes):
        rows_of.setdefault((write.data_element, write.year), []).append(row)
    return [
        {
            "row": rows[0],
            "field": "data_element",
            "data_element": element,
            "year": year,
            "rule": "row.duplicate",
            "rows": rows,
            "message": f"{element} {year} is given by rows {_listed(rows)}: "
            "give each value once",
        }
        for (element, year), rows in rows_of.items()
        if len(rows) > 1
    ]


def _listed(rows: list[int], shown: int = 5) -> str:
    listed = ", ".join(map(str, rows[:shown]))
    if len(rows) <= shown:
        return listed
    return f"{listed} and {len(rows) - shown} more"


def _field_of(rule: str) -> str:
    if rule == "state.value_forbidden":
        return "value"
    prefix = rule.split(".", 1)[0]
    return {
        "element": "data_element",
        "year": "year",
        "state": "reason",
        "restatement": "restatement_reason",
        "submission": "data_element",
    }.get(prefix, "value")


def check_write(
    elements: dict[str, Any],
    cycle: Cycle,
    write: ValueWrite,
    previous: PreviousFigure | None,
) -> tuple[Value | None, PreviousFigure | None]:
    """The write's typed value, and the earlier figure when it is a restatement."""
    element = elements.get(write.data_element)
    if element is None:
        raise RuleViolation("element.unknown", f"no data element {write.data_element}")
    if write.year not in (cycle.reporting_year, cycle.reporting_year - 1):
        raise RuleViolation(
            "year.not_in_cycle",
            f"the cycle takes {cycle.reporting_year} and {cycle.reporting_year - 1}",
        )
    value = _state_value(element, write)
    restated = _restatement(cycle, write, value, previous)
    return value, restated


def _state_value(element: Any, write: ValueWrite) -> Value | None:
    if write.state != ValueState.PROVIDED:
        if write.value is not None:
            raise RuleViolation(
                "state.value_forbidden", f"a {write.state} value has none"
            )
        if not write.reason or not write.reason.strip():
            raise RuleViolation(
                "state.reason_missing", f"a {write.state} value needs a reason"
            )
        return None

    if write.value is None or write.value == "":
        raise RuleViolation("value.missing", "a provided value needs a value")
    if write.reason is not None:
        raise RuleViolation(
            "state.reason_forbidden", "a provided value takes no reason"
        )
    return typed_value(element, write.value)


def _restatement(
    cycle: Cycle,
    write: ValueWrite,
    value: Value | None,
    previous: PreviousFigure | None,
) -> PreviousFigure | None:
    if previous is None or write.year != cycle.reporting_year - 1:
        return None
    if previous.state == write.state and same_value(previous.value, value):
        return None

    if not write.restatement_reason:
        raise RuleViolation(
            "restatement.reason_missing",
            f"{write.data_element} {write.year} differs from the "
            f"{previous.value or previous.state} submitted before: give a reason",
        )
    return previous


def same_value(previous: str | None, value: Value | None) -> bool:
    if isinstance(value, Decimal) and previous is not None:
        try:
            return Decimal(previous) == value
        except ArithmeticError:
            return False
    return previous == value_text(value)


_SUBMITTED_FIGURES = sa.text(
    "WITH latest AS ("
    " SELECT DISTINCT ON (s.member, c.reporting_year)"
    " s.member, s.cycle_id, c.reporting_year, r.content"
    " FROM revisions r JOIN submissions s ON s.id = r.submission_id"
    " JOIN cycles c ON c.id = s.cycle_id"
    " WHERE c.reporting_year = ANY(:years)"
    " AND (CAST(:member AS text) IS NULL OR s.member = CAST(:member AS text))"
    " ORDER BY s.member, c.reporting_year, r.submitted_at DESC, r.number DESC)"
    " SELECT l.member, l.cycle_id, v ->> 'data_element' AS data_element,"
    " l.reporting_year AS year, v ->> 'state' AS state, v ->> 'value' AS value"
    " FROM latest l CROSS JOIN LATERAL jsonb_array_elements(l.content -> 'values') v"
    " WHERE (v ->> 'year')::int = l.reporting_year"
)


async def previous_figures(
    session: AsyncSession, years: set[int], *, member: str | None
) -> dict[tuple[str, str, int], PreviousFigure]:
    """Per (member, data element, year): what the member submitted for the year
    when it was T, that is, the figure in the latest frozen revision of the
    earlier cycle (never what its live values have become since)."""
    if not years:
        return {}
    found = await session.execute(
        _SUBMITTED_FIGURES, {"years": sorted(years), "member": member}
    )
    return {
        (row.member, row.data_element, row.year): PreviousFigure(
            row.value, row.state, row.cycle_id
        )
        for row in found
    }


def _unchanged(
    row: DataValueRow,
    write: ValueWrite,
    value: Value | None,
    restated: PreviousFigure | None,
) -> bool:
    """Whether `row` already holds what the write gives, figures as written
    (`98.10` over `98.1` is a change: the figure keeps the form its author gave)."""
    return (
        row.state == write.state
        and value_text(stored_value(row)) == value_text(value)
        and row.reason == write.reason
        and row.previous_value == (restated.value if restated else None)
        and row.previous_cycle_id == (restated.cycle_id if restated else None)
        and row.restatement_reason == (write.restatement_reason if restated else None)
    )


async def _apply_write(
    session: AsyncSession,
    submission: Submission,
    existing: dict[tuple[str, int], DataValueRow],
    write: ValueWrite,
    value: Value | None,
    restated: PreviousFigure | None,
    actor: Principal,
    channel: Channel,
) -> DataValueRow:
    key = (write.data_element, write.year)
    row = existing.get(key)
    old_state = row.state if row else None
    old_value = value_text(stored_value(row)) if row else None
    if row is None:
        row = DataValueRow(
            submission_id=submission.id,
            data_element=write.data_element,
            year=write.year,
        )
        session.add(row)
        existing[key] = row
    row.state = write.state
    row.number = value if isinstance(value, Decimal) else None
    row.flag = value if isinstance(value, bool) else None
    row.code = value if isinstance(value, str) else None
    row.reason = write.reason
    row.previous_value = restated.value if restated else None
    row.previous_cycle_id = restated.cycle_id if restated else None
    row.restatement_reason = write.restatement_reason if restated else None
    row.updated_at = now()
    row.updated_by = actor.subject
    row.channel = channel
    if old_state != write.state or old_value != value_text(value):
        session.add(
            ValueChange(
                submission_id=submission.id,
                data_element=write.data_element,
                year=write.year,
                actor=actor.subject,
                channel=channel,
                at=row.updated_at,
                old_state=old_state,
                old_value=old_value,
                new_state=write.state,
                new_value=value_text(value),
                reason=write.reason or write.restatement_reason,
            )
        )
    return row


async def set_opt_out(
    session: AsyncSession,
    cycle_id: uuid.UUID,
    member: str,
    kpi: str,
    *,
    reason: str | None,
    actor: Principal,
    if_match: str | None,
) -> tuple[Submission, Assessment]:
    """Opt out of a KPI (with a reason), or opt back in (`reason` None)."""
    cycle, submission = await _editable_submission(
        session, cycle_id, member, actor=actor, if_match=if_match
    )
    framework = framework_for(cycle.framework_code, cycle.framework_version)
    _check_kpis(framework, [kpi])
    if submission.state == SubmissionState.RETURNED and kpi not in (
        submission.reopened_kpis or []
    ):
        raise StateError(f"{kpi} was not returned for correction")

    row = await session.get(KpiOptOutRow, (submission.id, kpi))
    if (row.reason if row is not None else None) == reason:
        # As it stands already: the version (and a client's If-Match) stays.
        return submission, await assess(session, submission, cycle)
    if reason is None and row is not None:
        await session.delete(row)
    elif reason is not None and row is None:
        session.add(KpiOptOutRow(submission_id=submission.id, kpi=kpi, reason=reason))
    elif row is not None and reason is not None:
        row.reason = reason
    submission.version += 1
    submission.updated_at = now()
    await session.flush()
    log.info("submission.opt_out.changed", submission_id=str(submission.id), kpi=kpi)
    return submission, await assess(session, submission, cycle)


def _check_kpis(framework: Framework, kpis: Sequence[str]) -> None:
    known = {kpi.code for kpi in framework.kpis}
    unknown = [kpi for kpi in kpis if kpi not in known]
    if unknown:
        raise InvalidInputError(
            f"no KPI {', '.join(unknown)} in the framework",
            errors=[
                {"field": "kpis", "rule": "kpi.unknown", "kpi": k} for k in unknown
            ],
        )


async def set_disclosure(
    session: AsyncSession,
    cycle_id: uuid.UUID,
    member: str,
    levels: dict[str, DisclosureLevel],
    *,
    actor: Principal,
    if_match: str | None,
) -> tuple[Submission, dict[str, DisclosureLevel]]:
    """The NCP chooses while the member may still enter data (the cycle is open, or
    the member has an extension), and until the submission is accepted."""
    cycle = await get_cycle(session, cycle_id)
    if not await entry_allowed(session, cycle, member, actor):
        raise StateError(
            f"the cycle is {cycle.state}: disclosure levels change only while entry"
            " is open",
            state=cycle.state,
        )
    submission = await open_submission(session, cycle, member)
    check_if_match(if_match, submission.version)
    if submission.state == SubmissionState.ACCEPTED:
        raise StateError(
            "the submission is accepted: its disclosure levels are final",
            state=submission.state,
        )
    framework = framework_for(cycle.framework_code, cycle.framework_version)
    _check_kpis(framework, list(levels))
    before = await disclosure_of(session, submission.id, framework)
    if all(before.get(kpi) == level for kpi, level in levels.items()):
        # The levels chosen already: no version, no event for the readers.
        return submission, before

    for kpi, level in levels.items():
        row = await session.get(DisclosureRow, (submission.id, kpi))
        if row is None:
            session.add(
                DisclosureRow(submission_id=submission.id, kpi=kpi, level=level)
            )
        else:
            row.level = level
    submission.version += 1
    await session.flush()
    disclosure = await disclosure_of(session, submission.id, framework)
    event = DisclosureChanged(
        submission_id=str(submission.id),
        cycle=cycle_ref(cycle),
        member=member,
        disclosure=disclosure,
        changed_by=actor.subject,
    )
    await add_event(session, event, subject=str(submission.id))
    log.info("submission.disclosure.changed", submission_id=str(submission.id))
    return submission, disclosure


async def submit(
    session: AsyncSession,
    cycle_id: uuid.UUID,
    member: str,
    *,
    actor: Principal,
    reason: str | None,
    if_match: str | None,
) -> tuple[Submission, SubmissionSubmitted]:
    cycle = await get_cycle(session, cycle_id)
    submission = await find_submission(session, cycle_id, member, lock=True)
    check_if_match(if_match, submission.version)
    if submission.state not in EDITABLE_STATES:
        raise StateError(
            f"the submission is {submission.state}", state=submission.state
        )
    if not await entry_allowed(session, cycle, member, actor):
        raise StateError(f"the cycle is {cycle.state}: entry is not open")
    assessment = await assess(session, submission, cycle)
    if not assessment.can_submit:
        raise IncompleteError(
            f"{len(assessment.blocking_findings)} blocking finding(s)",
            findings=[finding_json(f) for f in assessment.blocking_findings],
        )

    at = now()
    await record_transition(
        session,
        "submission",
        submission.id,
        submission.state,
        SubmissionState.SUBMITTED,
        actor.subject,
        reason,
    )
    submission.revision += 1
    submission.state = SubmissionState.SUBMITTED
    submission.reopened_kpis = None
    submission.version += 1
    submission.updated_at = at
    event = await _submitted_event(session, submission, cycle, actor, at)
    session.add(
        Revision(
            submission_id=submission.id,
            number=submission.revision,
            submitted_at=at,
            submitted_by=actor.subject,
            content=event.model_dump(mode="json"),
        )
    )
    await session.flush()
    await add_event(session, event, subject=str(submission.id))
    log.info(
        "submission.submitted",
        submission_id=str(submission.id),
        revision=submission.revision,
    )
    return submission, event


async def _submitted_event(
    session: AsyncSession,
    submission: Submission,
    cycle: Cycle,
    actor: Principal,
    at: datetime,
) -> SubmissionSubmitted:
    framework = framework_for(cycle.framework_code, cycle.framework_version)
    rows = await values_of(session, submission.id)
    opt_outs = await opt_outs_of(session, submission.id)
    member = await get_member(session, submission.member)
    return SubmissionSubmitted(
        submission_id=str(submission.id),
        cycle=cycle_ref(cycle),
        member=attributes_of(member),
        revision=submission.revision,
        submitted_at=at,
        submitted_by=actor.subject,
        values=tuple(_submitted_value(row) for row in rows),
        kpi_opt_outs=tuple(
            KpiOptOut(kpi=kpi, reason=reason)
            for kpi, reason in sorted(opt_outs.items())
        ),
        disclosure=await disclosure_of(session, submission.id, framework),
        restatements=tuple(
            Restatement(
                data_element=row.data_element,
                year=row.year,
                previous_value=row.previous_value,
                value=_event_value(row),
                previous_cycle_id=str(row.previous_cycle_id),
                reason=row.restatement_reason or "",
            )
            for row in rows
            if row.previous_cycle_id is not None
        ),
    )


def _event_value(row: DataValueRow) -> bool | str | None:
    value = stored_value(row)
    return value if isinstance(value, bool) else value_text(value)


def _submitted_value(row: DataValueRow) -> SubmittedValue:
    return SubmittedValue(
        data_element=row.data_element,
        year=row.year,
        state=ValueState(row.state),
        value=_event_value(row),
        reason=row.reason,
    )


async def return_submission(
    session: AsyncSession,
    submission: Submission,
    *,
    kpis: Sequence[str],
    reason: str,
    actor: str,
    review_id: str | None,
) -> Submission:
    """Reopen only the named KPIs; the caller has locked the submission."""
    cycle = await get_cycle(session, submission.cycle_id)
    if submission.state != SubmissionState.SUBMITTED:
        raise StateError(
            f"the submission is {submission.state}", state=submission.state
        )
    _check_kpis(framework_for(cycle.framework_code, cycle.framework_version), kpis)

    await record_transition(
        session,
        "submission",
        submission.id,
        submission.state,
        SubmissionState.RETURNED,
        actor,
        reason,
    )
    submission.state = SubmissionState.RETURNED
    submission.reopened_kpis = sorted(set(kpis))
    submission.version += 1
    submission.updated_at = now()
    await session.flush()
    event = SubmissionReturned(
        submission_id=str(submission.id),
        cycle=cycle_ref(cycle),
        member=submission.member,
        revision=submission.revision,
        kpis=tuple(submission.reopened_kpis),
        reason=reason,
        returned_by=actor,
        review_id=review_id,
    )
    await add_event(session, event, subject=str(submission.id))
    log.info(
        "submission.returned", submission_id=str(submission.id), review_id=review_id
    )
    return submission


async def accept(
    session: AsyncSession,
    cycle_id: uuid.UUID,
    member: str,
    *,
    actor: Principal,
    reason: str | None,
    if_match: str | None,
) -> Submission:
    cycle = await get_cycle(session, cycle_id)
    submission = await find_submission(session, cycle_id, member, lock=True)
    check_if_match(if_match, submission.version)
    if submission.state != SubmissionState.SUBMITTED:
        raise StateError(
            f"the submission is {submission.state}", state=submission.state
        )

    await record_transition(
        session,
        "submission",
        submission.id,
        submission.state,
        SubmissionState.ACCEPTED,
        actor.subject,
        reason,
    )
    submission.state = SubmissionState.ACCEPTED
    submission.version += 1
    submission.updated_at = now()
    await session.flush()
    event = SubmissionAccepted(
        submission_id=str(submission.id),
        cycle=cycle_ref(cycle),
        member=member,
        revision=submission.revision,
        accepted_by=actor.subject,
    )
    await add_event(session, event, subject=str(submission.id))
    log.info("submission.accepted", submission_id=str(submission.id))
    return submission


def finding_json(finding: Any) -> dict[str, Any]:
    return {
        "rule": finding.rule,
        "severity": str(finding.severity),
        "element": finding.element,
        "year": finding.year,
        "kpi": finding.kpi,
        "message": finding.message,
    }


async def history(
    session: AsyncSession,
    submission_id: uuid.UUID,
    *,
    data_element: str | None = None,
    year: int | None = None,
) -> list[ValueChange]:
    query = sa.select(ValueChange).where(ValueChange.submission_id == submission_id)
    if data_element is not None:
        query = query.where(ValueChange.data_element == data_element)
    if year is not None:
        query = query.where(ValueChange.year == year)
    return list(await session.scalars(query.order_by(ValueChange.id)))


async def transitions(session: AsyncSession, entity_id: uuid.UUID) -> list[Transition]:
    query = sa.select(Transition).where(Transition.entity_id == entity_id)
    return list(await session.scalars(query.order_by(Transition.id)))


async def revision(
    session: AsyncSession, submission_id: uuid.UUID, number: int
) -> Revision:
    found = await session.get(Revision, (submission_id, number))
    if found is None:
        raise UnknownError(f"no revision {number}")
    return found
