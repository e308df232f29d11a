"""Rows as the API shows them."""

from typing import Any

from pmm_kit.contracts.common import ValueState
from pmm_methodology import Assessment, Finding
from pmm_submission.domain import value_text
from pmm_submission.models import (
    ApiKey,
    Cycle,
    DataValueRow,
    ElementMapping,
    Extension,
    Member,
    ValueChange,
)
from pmm_submission.schemas import (
    ApiKeyOut,
    CycleOut,
    ExtensionOut,
    FindingOut,
    HistoryEntry,
    MappingOut,
    MemberOut,
    Restatement,
    ValueOut,
)
from pmm_submission.service.submissions import stored_value


def member_out(member: Member) -> MemberOut:
    return MemberOut(
        code=member.code,
        name=member.name,
        wco_region=member.wco_region,
        income_group=member.income_group,
        membership_date=member.membership_date,
        note=member.note,
        administration_type=member.administration_type,
        geography=member.geography,
        version=member.version,
    )


def cycle_out(cycle: Cycle, extensions: list[Extension]) -> CycleOut:
    return CycleOut(
        id=cycle.id,
        code=cycle.code,
        reporting_year=cycle.reporting_year,
        framework_code=cycle.framework_code,
        framework_version=cycle.framework_version,
        window_opens=cycle.window_opens,
        window_closes=cycle.window_closes,
        state=cycle.state,
        version=cycle.version,
        extensions=[extension_out(e) for e in extensions],
    )


def extension_out(extension: Extension) -> ExtensionOut:
    return ExtensionOut(
        member=extension.member,
        until=extension.until,
        reason=extension.reason,
        granted_by=extension.granted_by,
        granted_at=extension.granted_at,
    )


def value_out(row: DataValueRow) -> ValueOut:
    value = stored_value(row)
    restatement = None
    if row.previous_cycle_id is not None:
        restatement = Restatement(
            previous_value=row.previous_value,
            previous_cycle_id=row.previous_cycle_id,
            reason=row.restatement_reason or "",
        )
    return ValueOut(
        data_element=row.data_element,
        year=row.year,
        state=ValueState(row.state),
        value=value if isinstance(value, bool) else value_text(value),
        reason=row.reason,
        restatement=restatement,
        updated_at=row.updated_at,
        updated_by=row.updated_by,
        channel=row.channel,
    )


def finding_out(finding: Finding) -> FindingOut:
    return FindingOut(
        rule=finding.rule,
        severity=str(finding.severity),
        element=finding.element,
        year=finding.year,
        kpi=finding.kpi,
        message=finding.message,
    )


def findings_out(assessment: Assessment) -> list[FindingOut]:
    return [finding_out(f) for f in assessment.findings]


def history_out(change: ValueChange) -> HistoryEntry:
    return HistoryEntry(
        data_element=change.data_element,
        year=change.year,
        actor=change.actor,
        channel=change.channel,
        at=change.at,
        old_state=change.old_state,
        old_value=change.old_value,
        new_state=change.new_state,
        new_value=change.new_value,
        reason=change.reason,
    )


def mapping_out(mapping: ElementMapping) -> MappingOut:
    return MappingOut(
        name=mapping.name,
        data_element=mapping.data_element,
        factor=format(mapping.factor, "f"),
        unit=mapping.unit,
    )


def api_key_out(api_key: ApiKey) -> dict[str, Any]:
    return ApiKeyOut(
        id=api_key.id,
        member=api_key.member,
        label=api_key.label,
        created_by=api_key.created_by,
        created_at=api_key.created_at,
        revoked_at=api_key.revoked_at,
    ).model_dump()
