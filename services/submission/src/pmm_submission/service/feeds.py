"""Feeds: many values at once, checked row by row, with a typed diff.

All-or-nothing by default: unless the caller asks for a partial import, no row is
applied when any row is rejected. Values go in with `COPY` and one upsert, which is
what lets a Secretariat history load of 100,000 rows finish in seconds.
"""

import re
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import astuple, dataclass, field
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Any, Literal

import sqlalchemy as sa
import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from pmm_kit.auth import Principal, Role
from pmm_kit.contracts.common import ValueState
from pmm_kit.text import text_fault
from pmm_methodology import DataElement, DataValue, reference_framework
from pmm_submission.deps import now
from pmm_submission.domain import (
    EDITABLE_STATES,
    NUMERIC_TYPES,
    Channel,
    CycleState,
    RuleViolation,
    SubmissionState,
    Value,
    bounded,
    kpi_elements,
    scale_factor,
    typed_value,
    unscaled_figure,
    value_text,
)
from pmm_submission.errors import StateError
from pmm_submission.models import (
    Cycle,
    ElementMapping,
    Extension,
    Member,
    Submission,
)
from pmm_submission.parsing import COLUMNS, RawRow
from pmm_submission.schemas import (
    MAX_TEXT_LENGTH,
    DiffItem,
    FeedReport,
    RejectedRow,
    SubmissionFindings,
)
from pmm_submission.service.submissions import (
    PreviousFigure,
    assess,
    previous_figures,
    same_value,
)
from pmm_submission.units import conversion, convert, parse_unit
from pmm_submission.views import findings_out

log = structlog.get_logger(__name__)

Mode = Literal["merge", "replace"]
Progress = Callable[[int], Awaitable[None]]
CHUNK = 10_000
ScopeKey = tuple[uuid.UUID, str]
ValueKey = tuple[uuid.UUID, str, str, int]


@dataclass(frozen=True)
class FeedOptions:
    dry_run: bool = False
    mode: Mode = "merge"
    partial: bool = False
    decimal_separator: str = "."
    diff_limit: int = 1000
    findings_limit: int = 20
    rejected_limit: int = 1_000


@dataclass(frozen=True, slots=True)
class CycleFacts:
    """A cycle's fields as plain values: checking 100,000 rows reads them often."""

    id: uuid.UUID
    code: str
    reporting_year: int
    state: str


@dataclass(frozen=True, slots=True)
class SubmissionFacts:
    id: uuid.UUID
    state: str
    reopened_kpis: tuple[str, ...]


@dataclass(slots=True)
class Accepted:
    row: int
    member: str
    cycle: CycleFacts
    data_element: str
    year: int
    state: str
    value: Value | None
    reason: str | None
    restated: PreviousFigure | None
    restatement_reason: str | None
    # Why the row's submission may not change (submitted, a closed cycle, a KPI
    # not returned): the row passes only if it gives what is stored.
    held_by: "_Rejection | None" = None


@dataclass
class Context:
    """What checking a row needs, loaded once per feed."""

    principal: Principal
    options: FeedOptions
    elements: dict[str, DataElement]
    members: set[str]
    cycles: dict[str, CycleFacts]
    mappings: dict[tuple[str, str], "Mapped"]
    submissions: dict[ScopeKey, SubmissionFacts]
    extensions: dict[ScopeKey, date]
    previous: dict[tuple[str, str, int], PreviousFigure] = field(default_factory=dict)
    member_checks: dict[object, "str | _Rejection"] = field(default_factory=dict)
    entry_checks: dict[tuple[uuid.UUID, str, str], "_Rejection | None"] = field(
        default_factory=dict
    )
    kept: "Kept" = field(default_factory=lambda: Kept())


@dataclass(frozen=True, slots=True)
class Aim:
    """What a rejected row may have meant to replace: the parts of its key that
    could be read. A part that could not be read (None) stands for any."""

    cycle_id: uuid.UUID | str | None
    member: str | None
    data_element: str | None
    year: int | None

    def covers(self, key: "ValueKey") -> bool:
        parts = (self.cycle_id, self.member, self.data_element, self.year)
        return all(p is None or p == k for p, k in zip(parts, key, strict=True))


@dataclass
class Kept:
    """The stored values a replace feed keeps because a rejected row named them:
    whole keys in a set, the few partial ones to match one by one."""

    keys: set["ValueKey"] = field(default_factory=set)
    partial: list[Aim] = field(default_factory=list)

    def add(self, aim: Aim) -> None:
        cycle_id, member, element, year = astuple(aim)
        if isinstance(cycle_id, str):
            return  # a cycle code that does not exist names no stored value
        if cycle_id is None or member is None or element is None or year is None:
            self.partial.append(aim)
        else:
            self.keys.add((cycle_id, member, element, year))

    def __contains__(self, key: "ValueKey") -> bool:
        return key in self.keys or any(aim.covers(key) for aim in self.partial)


@dataclass(frozen=True, slots=True)
class Mapped:
    """What one of a member's names stands for, and how its figures are written."""

    data_element: str
    factor: Decimal
    unit: str | None


_UNMAPPED = Mapped("", Decimal(1), None)


@dataclass(frozen=True)
class Existing:
    state: str
    value: str | None
    reason: str | None


async def run_feed(
    session: AsyncSession,
    rows: Sequence[RawRow],
    *,
    feed_id: uuid.UUID,
    principal: Principal,
    options: FeedOptions,
    progress: Progress | None = None,
) -> FeedReport:
    context = await _context(session, rows, principal, options)
    accepted: list[Accepted] = []
    rejected: list[RejectedRow] = []
    keys = _FedKeys()
    for start in range(0, len(rows), CHUNK):
        for raw in rows[start : start + CHUNK]:
            _check_row(context, raw, keys, accepted, rejected)
        if progress is not None:
            await progress(min(start + CHUNK, len(rows)))
    if keys.given_twice:
        accepted = [r for r in accepted if _key_of(r) not in keys.given_twice]
    accepted = await _settle_held(session, context, accepted, rejected)
    rejected.sort(key=lambda r: r.row)

    apply = not options.dry_run and (options.partial or not rejected)
    ids = await _lock_scope(session, context, accepted) if apply and accepted else None
    existing = await _existing_values(session, context, accepted, ids)
    diff = _diff(context, accepted, existing)
    if ids is not None:
        await _apply(session, context, accepted, diff, existing, ids)
    report = _report(
        feed_id, rows, accepted, rejected, diff, existing, options, applied=apply
    )
    fed = None if apply else _fed_changes(accepted, diff)
    findings = await _findings(session, context, accepted, options, fed)
    log.info(
        "feed.processed",
        feed_id=str(feed_id),
        rows=len(rows),
        rejected=len(rejected),
        applied=apply,
        dry_run=options.dry_run,
    )
    return report.model_copy(update={"findings": findings})


async def _context(
    session: AsyncSession,
    rows: Sequence[RawRow],
    principal: Principal,
    options: FeedOptions,
) -> Context:
    framework = reference_framework()
    # A code holding text no database keeps names no cycle (its row is refused).
    # Codes are unique whatever their case, so a cell's case names the same cycle.
    cycle_codes = {
        _cycle_key(code)
        for r in rows
        if (code := _text(r.fields.get("cycle"))) and text_fault(code) is None
    }
    cycles = {
        _cycle_key(c.code): CycleFacts(c.id, c.code, c.reporting_year, c.state)
        for c in await session.scalars(
            sa.select(Cycle).where(sa.func.upper(Cycle.code).in_(cycle_codes))
        )
    }
    members = set(await session.scalars(sa.select(Member.code)))
    mapping_query = sa.select(ElementMapping)
    if principal.member is not None:
        mapping_query = mapping_query.where(ElementMapping.member == principal.member)
    mappings = {
        (m.member, m.name): Mapped(m.data_element, m.factor, m.unit)
        for m in await session.scalars(mapping_query)
    }
    cycle_ids = [c.id for c in cycles.values()]
    submissions = {
        (s.cycle_id, s.member): SubmissionFacts(
            s.id, s.state, tuple(s.reopened_kpis or ())
        )
        for s in await session.scalars(
            sa.select(Submission).where(Submission.cycle_id.in_(cycle_ids))
        )
    }
    extensions = {
        (e.cycle_id, e.member): e.until
        for e in await session.scalars(
            sa.select(Extension).where(Extension.cycle_id.in_(cycle_ids))
        )
    }
    context = Context(
        principal=principal,
        options=options,
        elements={e.code: e for e in framework.data_elements},
        members=members,
        cycles=cycles,
        mappings=mappings,
        submissions=submissions,
        extensions=extensions,
    )
    context.previous = await previous_figures(
        session,
        {c.reporting_year - 1 for c in cycles.values()},
        member=principal.member,
    )
    return context


def _record_value(record: Any) -> str | None:
    if record["number"] is not None:
        return str(record["number"])
    if record["flag"] is not None:
        return "true" if record["flag"] else "false"
    code: str | None = record["code"]
    return code


async def _driver(session: AsyncSession) -> Any:
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    return raw.driver_connection


FedKey = tuple[str, str, str, int]


@dataclass
class _FedKeys:
    """The row that first gave each value, and the values given more than once:
    which of two figures for one value was meant cannot be told, so every row
    giving it is rejected, the first included, and none is applied."""

    first_row: dict[FedKey, tuple[int, str]] = field(default_factory=dict)
    given_twice: set[FedKey] = field(default_factory=set)


def _key_of(row: Accepted) -> FedKey:
    return (row.member, row.cycle.code, row.data_element, row.year)


def _check_row(
    context: Context,
    raw: RawRow,
    fed: _FedKeys,
    accepted: list[Accepted],
    rejected: list[RejectedRow],
) -> None:
    try:
        row = _accept(context, raw)
        key = _key_of(row)
        column = "data_element" if "data_element" in raw.fields else "name"
        first = fed.first_row.get(key)
        if first is None:
            fed.first_row[key] = (raw.number, column)
            accepted.append(row)
            return
        first_number, first_column = first
        if key not in fed.given_twice:
            fed.given_twice.add(key)
            rejected.append(_given_twice(first_column, raw.number).at(first_number))
        raise _given_twice(column, first_number)
    except _Rejection as rejection:
        if context.options.mode == "replace":
            context.kept.add(_aim(context, raw.fields))
        rejected.append(rejection.at(raw.number))


def _given_twice(column: str, other_row: int) -> "_Rejection":
    return _Rejection(
        column,
        "row.duplicate",
        f"the feed gives this value twice (row {other_row} gives it too)",
    )


def _aim(context: Context, fields: dict[str, Any]) -> Aim:
    member = _scalar_text(fields.get("member")) or context.principal.member
    member = member.upper() if member else None
    code = _scalar_text(fields.get("cycle"))
    cycle = context.cycles.get(_cycle_key(code)) if code else None
    cycle_id = cycle.id if cycle else code
    element = _scalar_text(fields.get("data_element"))
    name = _scalar_text(fields.get("name"))
    if element is None and name is not None and member is not None:
        mapping = context.mappings.get((member, name))
        element = mapping.data_element if mapping else None
    return Aim(cycle_id, member, element, _calendar_year(fields.get("year")))


def _scalar_text(raw: object) -> str | None:
    if isinstance(raw, bool) or not isinstance(raw, _SCALARS):
        return None
    return _text(raw)


class _Rejection(Exception):
    def __init__(self, column: str | None, rule: str, message: str) -> None:
        super().__init__(message)
        self.column = column
        self.rule = rule
        self.message = message

    def at(self, row: int) -> RejectedRow:
        """The rejection as the feed's answer lists it, for the row it met."""
        return RejectedRow(
            row=row, column=self.column, rule=self.rule, message=self.message
        )


def _accept(context: Context, raw: RawRow) -> Accepted:
    if raw.refusal is not None:
        found = raw.refusal
        raise _Rejection(found.column, found.rule, found.message)
    fields = raw.fields
    if not fields.keys() <= COLUMNS:
        unknown = [name for name in fields if name not in COLUMNS]
        raise _Rejection(unknown[0], "column.unknown", f"unknown field '{unknown[0]}'")
    _check_cells(fields)
    member = _member(context, fields)
    cycle = _cycle(context, fields)
    element, mapped = _element(context, member, fields)
    year = _year(cycle, fields)
    state = _state(fields)
    entry_key = (cycle.id, member, element.code)
    if entry_key not in context.entry_checks:
        context.entry_checks[entry_key] = _entry_refusal(
            context, cycle, member, element.code
        )
    held_by = context.entry_checks[entry_key]
    value = _value(context, element, mapped, state, fields)
    reason = _reason(state, fields)
    restated = _restated(
        context, member, cycle, element.code, year, state, value, fields
    )
    return Accepted(
        row=raw.number,
        member=member,
        cycle=cycle,
        data_element=element.code,
        year=year,
        state=state,
        value=value,
        reason=reason,
        restated=restated,
        restatement_reason=(
            _bounded_reason(fields, "restatement_reason") if restated else None
        ),
        held_by=held_by,
    )


_ONE = Decimal(1)
_SCALARS = (str, int, Decimal)


def _check_cells(fields: dict[str, Any]) -> None:
    """Every cell is text or a number (a spreadsheet may hold a name as a number);
    `value` may also be yes/no. A JSON list or object is never a cell."""
    for column, cell in fields.items():
        if cell is None:
            continue
        if isinstance(cell, bool):
            if column == "value":
                continue
            raise _Rejection(column, "cell.type", f"{column} takes no yes/no")
        if not isinstance(cell, _SCALARS):
            raise _Rejection(
                column,
                "cell.type",
                f"{column} is text or a number, not a list or object",
            )


def _text(raw: object) -> str | None:
    if raw is None:
        return None
    text = raw.strip() if isinstance(raw, str) else str(raw).strip()
    return text or None


def _member(context: Context, fields: dict[str, Any]) -> str:
    raw = fields.get("member")
    known = context.member_checks.get(raw)
    if known is None:
        try:
            known = _check_member(context, raw)
        except _Rejection as rejection:
            known = rejection
        context.member_checks[raw] = known
    if isinstance(known, _Rejection):
        raise known
    return known


def _check_member(context: Context, raw: object) -> str:
    principal = context.principal
    member = _text(raw) or principal.member
    if member is None:
        raise _Rejection("member", "member.missing", "name the member (ISO alpha-3)")
    member = member.upper()
    if member not in context.members:
        raise _Rejection("member", "member.unknown", f"no member {member}")
    if not principal.can_act_for(member):
        raise _Rejection("member", "member.forbidden", "you may not send data for it")
    return member


def _cycle_key(code: str) -> str:
    return code.upper()


def _cycle(context: Context, fields: dict[str, Any]) -> CycleFacts:
    code = _text(fields.get("cycle"))
    if code is None:
        raise _Rejection("cycle", "cycle.missing", "name the cycle by its code")
    cycle = context.cycles.get(_cycle_key(code))
    if cycle is None:
        raise _Rejection("cycle", "cycle.unknown", f"no cycle {code}")
    return cycle


def _element(
    context: Context, member: str, fields: dict[str, Any]
) -> tuple[DataElement, Mapped]:
    code = _text(fields.get("data_element"))
    name = _text(fields.get("name"))
    if code is not None and name is not None:
        raise _Rejection(
            "name", "element.ambiguous", "give data_element or name, not both"
        )
    if code is not None:
        element = context.elements.get(code)
        if element is None:
            raise _Rejection(
                "data_element", "element.unknown", f"no data element {code}"
            )
        return element, _UNMAPPED
    if name is None:
        raise _Rejection("data_element", "element.missing", "give data_element or name")
    mapping = context.mappings.get((member, name))
    if mapping is None:
        raise _Rejection(
            "name",
            "element.unmapped",
            f"{member} maps '{name}' to no data element of the framework",
        )
    return context.elements[mapping.data_element], mapping


def _calendar_year(raw: object) -> int | None:
    """The year a cell names, read without building a number from a huge one: a
    whole number written without a fraction or exponent (a JSON number with one
    is a Decimal, `2024.0` refused as in CSV), never a yes/no."""
    if isinstance(raw, int) and not isinstance(raw, bool):
        return raw
    if isinstance(raw, str):
        text = raw.strip()
        # `02024` is no way to write a year (and a URL refuses it too).
        digits = text.isascii() and text.isdigit() and len(text) < 10
        return int(text) if digits and not text.startswith("0") else None
    return None


# Text that writes a number, if not a year: `2024.0`, `-5`, `1e3`.
_NUMBER_TEXT = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_ECHOED = 40


def _year(cycle: CycleFacts, fields: dict[str, Any]) -> int:
    raw = fields.get("year")
    year = _calendar_year(raw)
    if year is None:
        raise _year_refusal(raw)
    if year not in (cycle.reporting_year, cycle.reporting_year - 1):
        raise _Rejection(
            "year",
            "year.not_in_cycle",
            f"cycle {cycle.code} takes {cycle.reporting_year} and "
            f"{cycle.reporting_year - 1}",
        )
    return year


def _year_refusal(raw: object) -> _Rejection:
    """Why a year cell names no calendar year: a number that is not a whole year,
    or a period such as a fiscal year (one rule, two messages)."""
    text = _text(raw) or ""
    shown = text if len(text) <= _ECHOED else text[: _ECHOED - 1] + "…"
    if isinstance(raw, Decimal | int) or _NUMBER_TEXT.fullmatch(text):
        return _Rejection(
            "year",
            "year.not_calendar",
            f"'{shown}' is not a whole year number: write the calendar year in "
            "four digits, such as 2024",
        )
    return _Rejection(
        "year",
        "year.not_calendar",
        f"'{shown}' is not a calendar year: a fiscal or part-year figure is not "
        "placed in one",
    )


_STATES = {state.value: state for state in ValueState}


def _state(fields: dict[str, Any]) -> str:
    raw = fields.get("state")
    if raw is None:
        return ValueState.PROVIDED
    state = _STATES.get(str(raw).strip().lower() or ValueState.PROVIDED)
    if state is None:
        raise _Rejection(
            "state", "state.unknown", "provided, not_applicable or not_available"
        )
    return state


def _entry_refusal(
    context: Context, cycle: CycleFacts, member: str, element: str
) -> "_Rejection | None":
    submission = context.submissions.get((cycle.id, member))
    try:
        _check_entry(context, cycle, member, submission, element)
    except _Rejection as rejection:
        return rejection
    return None


def _check_entry(
    context: Context,
    cycle: CycleFacts,
    member: str,
    submission: SubmissionFacts | None,
    element: str,
) -> None:
    if not _entry_open(context, cycle, member):
        raise _Rejection(
            "cycle", "cycle.closed", f"cycle {cycle.code} is {cycle.state}"
        )
    if submission is None:
        return
    if submission.state not in EDITABLE_STATES:
        raise _Rejection(
            "cycle", "submission.locked", f"the submission is {submission.state}"
        )
    if submission.state == SubmissionState.RETURNED:
        reopened = kpi_elements(reference_framework(), list(submission.reopened_kpis))
        if element not in reopened:
            raise _Rejection(
                "data_element", "submission.not_reopened", "not read by a returned KPI"
            )


def _entry_open(context: Context, cycle: CycleFacts, member: str) -> bool:
    if cycle.state == CycleState.OPEN or context.principal.role is Role.SECRETARIAT:
        return True
    until = context.extensions.get((cycle.id, member))
    return cycle.state == CycleState.CLOSED and until is not None and until >= _today()


def _today() -> date:
    return now().date()


def _value(
    context: Context,
    element: DataElement,
    mapped: Mapped,
    state: str,
    fields: dict[str, Any],
) -> Value | None:
    raw = fields.get("value")
    if state != ValueState.PROVIDED:
        if raw is not None:
            raise _Rejection(
                "value", "state.value_forbidden", f"a {state} value has none"
            )
        return None
    if raw is None:
        raise _Rejection("value", "value.missing", "a provided value needs a value")
    _check_one_multiplier(mapped, fields)
    try:
        separator = context.options.decimal_separator
        value = (
            unscaled_figure(element, raw, decimal_separator=separator)
            if element.type in NUMERIC_TYPES
            else typed_value(element, raw)
        )
        scale_word = fields.get("scale")
        scale = _ONE if scale_word is None else scale_factor(_text(scale_word))
        unit = _unit(element, mapped, _text(fields.get("unit")), scale_word)
    except RuleViolation as violation:
        raise _Rejection(
            violation.rule.split(".", 1)[0]
            if violation.rule.startswith(("scale", "unit"))
            else "value",
            violation.rule,
            violation.message,
        ) from None
    scale *= unit.scale
    if not isinstance(value, Decimal):
        if scale != 1 or mapped.factor != 1:
            raise _Rejection("scale", "scale.not_numeric", "only numbers are scaled")
        return value
    try:
        converted = convert(value, unit.factor, mapped.factor, scale)
    except RuleViolation as violation:
        raise _Rejection("unit", violation.rule, violation.message) from None
    try:
        return bounded(converted)
    except RuleViolation as violation:
        if scale == 1 and mapped.factor == 1 and unit.factor == 1:
            raise _Rejection("value", violation.rule, violation.message) from None
        raise _Rejection(
            "value", violation.rule, f"once scaled and converted, {violation.message}"
        ) from None


def _check_one_multiplier(mapped: Mapped, fields: dict[str, Any]) -> None:
    """A mapping's factor says what its name's figures are in (millions, say): a
    row under it that says so too would be multiplied twice, a thousand million
    times for `EUR million`; which of the two was meant cannot be told."""
    if mapped.factor == 1:
        return

    for column in ("scale", "unit"):
        if _text(fields.get(column)) is not None:
            raise _Rejection(
                column,
                "factor.twice",
                f"the mapping multiplies this name's figures by "
                f"{format(mapped.factor, 'f')} already: give the row no {column}, "
                "or map the name with the factor 1",
            )


@dataclass(frozen=True, slots=True)
class _RowUnit:
    scale: Decimal
    factor: Fraction


_SAME_UNIT = _RowUnit(_ONE, Fraction(1))


def _unit(
    element: DataElement, mapped: Mapped, written: str | None, scale_word: object
) -> _RowUnit:
    """The row's own unit (or the mapping's when it gives none) against the
    element's: the exact factor between them and the scale the unit carried."""
    if written is None:
        if mapped.unit is None:
            return _SAME_UNIT
        return _RowUnit(_ONE, conversion(element, mapped.unit, declared=mapped.unit))
    unit = parse_unit(written)
    if unit.scale != 1 and scale_word is not None:
        raise RuleViolation(
            "unit.scale_twice", f"'{written}' has a scale and so has the scale column"
        )
    base = unit.base or mapped.unit
    if base is None:
        return _RowUnit(unit.scale, Fraction(1))
    return _RowUnit(unit.scale, conversion(element, base, declared=mapped.unit))


def _bounded_reason(fields: dict[str, Any], column: str) -> str | None:
    """A reason as a form takes it: trimmed, and at most `MAX_TEXT_LENGTH` long."""
    text = _text(fields.get(column))
    if text is not None and len(text) > MAX_TEXT_LENGTH:
        raise _Rejection(
            column,
            "text.too_long",
            f"{len(text)} characters; at most {MAX_TEXT_LENGTH} are kept",
        )
    return text


def _reason(state: str, fields: dict[str, Any]) -> str | None:
    reason = _bounded_reason(fields, "reason")
    if state == ValueState.PROVIDED:
        if reason is not None:
            raise _Rejection(
                "reason", "state.reason_forbidden", "a provided value has none"
            )
        return None
    if reason is None:
        raise _Rejection(
            "reason", "state.reason_missing", f"a {state} value needs a reason"
        )
    return reason


def _restated(
    context: Context,
    member: str,
    cycle: CycleFacts,
    element: str,
    year: int,
    state: str,
    value: Value | None,
    fields: dict[str, Any],
) -> PreviousFigure | None:
    if year != cycle.reporting_year - 1:
        return None
    previous = context.previous.get((member, element, year))
    if previous is None or previous.cycle_id == cycle.id:
        return None
    if previous.state == state and same_value(previous.value, value):
        return None
    if _bounded_reason(fields, "restatement_reason") is None:
        raise _Rejection(
            "restatement_reason",
            "restatement.reason_missing",
            f"differs from {previous.value or previous.state} submitted before",
        )
    return previous


async def _settle_held(
    session: AsyncSession,
    context: Context,
    accepted: list[Accepted],
    rejected: list[RejectedRow],
) -> list[Accepted]:
    """Rows for a submission that may not change pass as `unchanged` when they give
    what is stored, so that an administration's nightly feed goes on after a
    submit; any other is rejected with the reason. Nothing is written for them, so
    the values are read without a lock: a submission that may not change does not."""
    held = [row for row in accepted if row.held_by is not None]
    if not held:
        return accepted

    existing = await _existing_values(session, context, held, None)
    changing: set[int] = set()
    for row in held:
        if not _gives_what_is_stored(row, existing.get(_value_key(row))):
            assert row.held_by is not None
            rejected.append(row.held_by.at(row.row))
            changing.add(id(row))
    return [row for row in accepted if id(row) not in changing]


def _value_key(row: Accepted) -> "ValueKey":
    return (row.cycle.id, row.member, row.data_element, row.year)


def _gives_what_is_stored(row: Accepted, before: "Existing | None") -> bool:
    return (
        before is not None
        and before.state == row.state
        # As written: `98.10` over a stored `98.1` is an update, so that the
        # figure keeps the form its author gave it (see the README).
        and before.value == value_text(row.value)
        and before.reason == row.reason
    )


async def _existing_values(
    session: AsyncSession,
    context: Context,
    accepted: list[Accepted],
    ids: dict[ScopeKey, uuid.UUID] | None,
) -> dict[ValueKey, Existing]:
    known = ids or {key: s.id for key, s in context.submissions.items()}
    scope = {
        known[(row.cycle.id, row.member)]
        for row in accepted
        if (row.cycle.id, row.member) in known
    }
    if not scope:
        return {}
    connection = await _driver(session)
    records = await connection.fetch(
        "SELECT s.cycle_id, s.member, v.data_element, v.year, v.state,"
        " v.number::text AS number, v.flag, v.code, v.reason FROM data_values v"
        " JOIN submissions s ON s.id = v.submission_id"
        " WHERE v.submission_id = ANY($1::uuid[])",
        list(scope),
    )
    return {
        (r["cycle_id"], r["member"], r["data_element"], r["year"]): Existing(
            r["state"], _record_value(r), r["reason"]
        )
        for r in records
    }


@dataclass
class Diff:
    actions: list[str]
    removals: list[ValueKey]


def _diff(
    context: Context, accepted: list[Accepted], existing: dict[ValueKey, Existing]
) -> Diff:
    actions = []
    for row in accepted:
        before = existing.get(_value_key(row))
        if before is None:
            actions.append("create")
        elif _gives_what_is_stored(row, before):
            actions.append("unchanged")
        else:
            actions.append("update")
    removals: list[ValueKey] = []
    if context.options.mode == "replace":
        fed = {(r.cycle.id, r.member, r.data_element, r.year) for r in accepted}
        removals = sorted(
            (
                key
                for key in existing
                if key not in fed
                and key not in context.kept
                and _may_remove(context, key)
            ),
            key=lambda k: (str(k[0]), k[1:]),
        )
    return Diff(actions, removals)


def _may_remove(context: Context, key: ValueKey) -> bool:
    """A removal is a change like a write: a value the caller could not write
    (a KPI that was not returned for correction) stays."""
    cycle_id, member, element, _ = key
    entry_key = (cycle_id, member, element)
    if entry_key not in context.entry_checks:
        cycle = next(c for c in context.cycles.values() if c.id == cycle_id)
        context.entry_checks[entry_key] = _entry_refusal(
            context, cycle, member, element
        )
    return context.entry_checks[entry_key] is None


async def _apply(
    session: AsyncSession,
    context: Context,
    accepted: list[Accepted],
    diff: Diff,
    existing: dict[ValueKey, Existing],
    ids: dict[ScopeKey, uuid.UUID],
) -> None:
    actor = context.principal.subject
    at = now()
    created: list[tuple[Any, ...]] = []
    updated: list[tuple[Any, ...]] = []
    changes: list[tuple[Any, ...]] = []
    for row, action in zip(accepted, diff.actions, strict=True):
        if action == "unchanged":
            continue
        values = created if action == "create" else updated
        submission_id = ids[(row.cycle.id, row.member)]
        number = row.value if isinstance(row.value, Decimal) else None
        flag = row.value if isinstance(row.value, bool) else None
        code = row.value if isinstance(row.value, str) else None
        restated = row.restated
        values.append(
            (
                submission_id,
                row.data_element,
                row.year,
                str(row.state),
                number,
                flag,
                code,
                row.reason,
                restated.value if restated else None,
                restated.cycle_id if restated else None,
                row.restatement_reason,
                at,
                actor,
                Channel.FEED.value,
            )
        )
        before = existing.get((row.cycle.id, row.member, row.data_element, row.year))
        changes.append(
            (
                submission_id,
                row.data_element,
                row.year,
                actor,
                Channel.FEED.value,
                at,
                before.state if before else None,
                before.value if before else None,
                str(row.state),
                value_text(row.value),
                row.reason or row.restatement_reason,
            )
        )
    removed = []
    for cycle_id, member, element, year in diff.removals:
        before = existing[(cycle_id, member, element, year)]
        submission_id = ids[(cycle_id, member)]
        removed.append((submission_id, element, year))
        changes.append(
            (
                submission_id,
                element,
                year,
                actor,
                Channel.FEED.value,
                at,
                before.state,
                before.value,
                None,
                None,
                "removed by a replace feed",
            )
        )

    connection = await _driver(session)
    # The scope's submissions are locked: no value can appear beside ours, so the
    # new ones go in with COPY, the fastest path PostgreSQL has.
    await connection.copy_records_to_table(
        "data_values", records=created, columns=_VALUE_COLUMNS
    )
    await _upsert_values(connection, updated)
    await _delete_values(connection, removed)
    await connection.copy_records_to_table(
        "value_history",
        records=changes,
        columns=[
            "submission_id",
            "data_element",
            "year",
            "actor",
            "channel",
            "at",
            "old_state",
            "old_value",
            "new_state",
            "new_value",
            "reason",
        ],
    )
    touched = list({v[0] for v in created + updated} | {r[0] for r in removed})
    await connection.execute(
        "UPDATE submissions SET version = version + 1, updated_at = $2"
        " WHERE id = ANY($1::uuid[])",
        touched,
        at,
    )


_VALUE_COLUMNS = [
    "submission_id",
    "data_element",
    "year",
    "state",
    "number",
    "flag",
    "code",
    "reason",
    "previous_value",
    "previous_cycle_id",
    "restatement_reason",
    "updated_at",
    "updated_by",
    "channel",
]


async def _upsert_values(connection: Any, values: list[tuple[Any, ...]]) -> None:
    if not values:
        return
    columns = list(zip(*values, strict=True))
    await connection.execute(_UPSERT_FROM_ARRAYS, *columns)


_KEY_COLUMNS = frozenset({"submission_id", "data_element", "year"})
_COLUMN_TYPES = (
    "uuid",
    "text",
    "int",
    "text",
    "numeric",
    "boolean",
    "text",
    "text",
    "text",
    "uuid",
    "text",
    "timestamptz",
    "text",
    "text",
)
# Built from the constant column lists above, never from input.
_INSERT_VALUES = f"INSERT INTO data_values ({', '.join(_VALUE_COLUMNS)})"
_UPSERT_FROM_ARRAYS = (
    _INSERT_VALUES  # noqa: S608
    + " SELECT * FROM unnest("
    + ", ".join(f"${n}::{t}[]" for n, t in enumerate(_COLUMN_TYPES, start=1))
    + ") ON CONFLICT (submission_id, data_element, year) DO UPDATE SET "
    + ", ".join(f"{c} = EXCLUDED.{c}" for c in _VALUE_COLUMNS if c not in _KEY_COLUMNS)
)


async def _delete_values(connection: Any, removed: list[tuple[Any, ...]]) -> None:
    if not removed:
        return
    await connection.execute(
        "DELETE FROM data_values v USING unnest($1::uuid[], $2::text[], $3::int[])"
        " AS r(submission_id, data_element, year) WHERE v.submission_id ="
        " r.submission_id AND v.data_element = r.data_element AND v.year = r.year",
        [r[0] for r in removed],
        [r[1] for r in removed],
        [r[2] for r in removed],
    )


async def _lock_scope(
    session: AsyncSession, context: Context, accepted: list[Accepted]
) -> dict[ScopeKey, uuid.UUID]:
    """Create the missing submissions, lock them all, and check that none moved
    out of an editable state since the rows were checked."""
    scope = sorted({(r.cycle.id, r.member) for r in accepted})
    cycle_ids = [cycle_id for cycle_id, _ in scope]
    members = [member for _, member in scope]
    at = now()
    connection = await _driver(session)
    await connection.execute(
        "INSERT INTO submissions (id, cycle_id, member, state, revision, version,"
        " created_at, updated_at) SELECT gen_random_uuid(), k.cycle_id, k.member,"
        " 'draft', 0, 1, $3, $3 FROM unnest($1::uuid[], $2::text[])"
        " AS k(cycle_id, member) ON CONFLICT (cycle_id, member) DO NOTHING",
        cycle_ids,
        members,
        at,
    )
    locked = await connection.fetch(
        "SELECT s.id, s.cycle_id, s.member, s.state, s.reopened_kpis FROM submissions s"
        " JOIN unnest($1::uuid[], $2::text[]) AS k(cycle_id, member)"
        " ON s.cycle_id = k.cycle_id AND s.member = k.member"
        " ORDER BY s.id FOR UPDATE OF s",
        cycle_ids,
        members,
    )
    for record in locked:
        seen = context.submissions.get((record["cycle_id"], record["member"]))
        now_facts = (record["state"], tuple(record["reopened_kpis"] or ()))
        before = (seen.state, seen.reopened_kpis) if seen else ("draft", ())
        if now_facts != before:
            raise StateError(
                f"the submission of {record['member']} changed during the feed;"
                " send it again",
                state=record["state"],
            )
    return {(r["cycle_id"], r["member"]): r["id"] for r in locked}


def _report(
    feed_id: uuid.UUID,
    rows: Sequence[RawRow],
    accepted: list[Accepted],
    rejected: list[RejectedRow],
    diff: Diff,
    existing: dict[ValueKey, Existing],
    options: FeedOptions,
    *,
    applied: bool,
) -> FeedReport:
    counts = {"create": 0, "update": 0, "unchanged": 0, "remove": len(diff.removals)}
    for action in diff.actions:
        counts[action] += 1
    items = [
        DiffItem(
            action=action,  # type: ignore[arg-type]
            member=row.member,
            cycle=row.cycle.code,
            data_element=row.data_element,
            year=row.year,
            **_before(existing, (row.cycle.id, row.member, row.data_element, row.year)),
            new=_shown(row.value),
            new_state=ValueState(row.state),
            row=row.row,
        )
        for row, action in zip(
            accepted[: options.diff_limit], diff.actions, strict=False
        )
    ]
    cycles = {row.cycle.id: row.cycle.code for row in accepted}
    items += [
        DiffItem(
            action="remove",
            member=member,
            cycle=cycles.get(cycle_id, str(cycle_id)),
            data_element=element,
            year=year,
            **_before(existing, (cycle_id, member, element, year)),
            new_state=None,
            new=None,
            row=None,
        )
        for cycle_id, member, element, year in diff.removals[: options.diff_limit]
    ]
    total_items = len(accepted) + len(diff.removals)
    return FeedReport(
        feed_id=feed_id,
        dry_run=options.dry_run,
        mode=options.mode,
        partial=options.partial,
        applied=applied,
        rows_total=len(rows),
        rows_accepted=len(accepted),
        rows_rejected=len(rejected),
        counts=counts,  # type: ignore[arg-type]
        diff=items,
        diff_truncated=len(items) < total_items,
        # The first rows rejected: a file rejected whole would answer as much
        # text again; rows_rejected counts them all.
        rejected=rejected[: options.rejected_limit],
        rejected_truncated=len(rejected) > options.rejected_limit,
        findings=[],
    )


def _before(existing: dict[ValueKey, Existing], key: ValueKey) -> dict[str, Any]:
    """A diff item's `old` and `old_state`: the value stored, and its state, so
    that a change of state alone (not available to not applicable) shows."""
    before = existing.get(key)
    if before is None:
        return {"old": None, "old_state": None}
    return {"old": before.value, "old_state": before.state}


def _shown(value: Value | None) -> str | bool | None:
    return value if isinstance(value, bool) else value_text(value)


FedChanges = dict[tuple[uuid.UUID, str], dict[tuple[str, int], DataValue | None]]


def _fed_changes(accepted: list[Accepted], diff: Diff) -> FedChanges:
    """What a feed not applied would change, by (cycle, member): its findings are
    those of the submission as the feed would leave it, not as it stands."""
    changes: FedChanges = {}
    for row in accepted:
        scope = changes.setdefault((row.cycle.id, row.member), {})
        scope[(row.data_element, row.year)] = _fed_value(row)
    for cycle_id, member, element, year in diff.removals:
        changes.setdefault((cycle_id, member), {})[(element, year)] = None
    return changes


def _fed_value(row: Accepted) -> DataValue:
    if row.state == ValueState.PROVIDED:
        assert row.value is not None
        return DataValue.provided(row.value)
    if row.state == ValueState.NOT_APPLICABLE:
        return DataValue.not_applicable(row.reason or "")
    return DataValue.not_available(row.reason or "")


async def _findings(
    session: AsyncSession,
    context: Context,
    accepted: list[Accepted],
    options: FeedOptions,
    fed: FedChanges | None,
) -> list[SubmissionFindings]:
    scope = sorted({(r.cycle.code, r.member) for r in accepted})
    if not scope or len(scope) > options.findings_limit:
        return []
    findings = []
    for code, member in scope:
        cycle = await session.get(Cycle, context.cycles[_cycle_key(code)].id)
        assert cycle is not None
        submission = await session.scalar(
            sa.select(Submission).where(
                Submission.cycle_id == cycle.id, Submission.member == member
            )
        )
        if submission is None and fed is None:
            continue
        changes = None if fed is None else fed.get((cycle.id, member), {})
        assessment = await assess(session, submission, cycle, changes=changes)
        findings.append(
            SubmissionFindings(
                submission_id=submission.id if submission is not None else None,
                member=member,
                cycle=code,
                findings=findings_out(assessment),
            )
        )
    return findings
