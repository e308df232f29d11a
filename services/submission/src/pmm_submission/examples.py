"""What the OpenAPI document shows as each answer's example (see `schemas`)."""

from typing import Any

CYCLE_ID = "0d4f5e6a-7b8c-4d9e-8f01-23456789abcd"
EARLIER_CYCLE_ID = "6e1a2b3c-4d5e-4f60-8172-839405a6b7c8"
SUBMISSION_ID = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"
FEED_ID = "5b0c4f3e-2a1d-4c6b-9e8f-7a6b5c4d3e2f"

MEMBER: dict[str, Any] = {
    "code": "BRA",
    "name": "Brazil",
    "wco_region": "Americas and Caribbean",
    "income_group": "Upper middle income",
    "membership_date": "1981",
    "note": None,
    "administration_type": "customs",
    "geography": None,
    "version": 2,
}

MAPPING: dict[str, Any] = {
    "name": "Receita aduaneira (mil)",
    "data_element": "REV_CUSTOMS",
    "factor": "1000",
    "unit": "BRL",
}

API_KEY: dict[str, Any] = {
    "id": "3c2b1a09-8f7e-4d6c-9b5a-493827160504",
    "member": "BRA",
    "label": "customs data warehouse",
    "created_by": "ncp-bra",
    "created_at": "2025-12-02T09:30:00Z",
    "revoked_at": None,
}

ISSUED_API_KEY: dict[str, Any] = {**API_KEY, "key": "pmm_k7Qw3xN9vT2mL5pR8sY1zB4c"}

EXTENSION: dict[str, Any] = {
    "member": "BRA",
    "until": "2026-04-30",
    "reason": "system migration",
    "granted_by": "secretariat-1",
    "granted_at": "2026-03-20T10:00:00Z",
}

CYCLE: dict[str, Any] = {
    "id": CYCLE_ID,
    "code": "PMM-2025",
    "reporting_year": 2024,
    "framework_code": "PMM",
    "framework_version": "1.0.0",
    "window_opens": "2025-12-01",
    "window_closes": "2026-03-31",
    "state": "open",
    "version": 2,
    "extensions": [EXTENSION],
}

RESTATEMENT: dict[str, Any] = {
    "previous_value": "100",
    "previous_cycle_id": EARLIER_CYCLE_ID,
    "reason": "late declarations counted",
}

VALUE: dict[str, Any] = {
    "data_element": "DECL_TOTAL",
    "year": 2024,
    "state": "provided",
    "value": "200000",
    "reason": None,
    "restatement": None,
    "updated_at": "2026-01-15T08:00:00Z",
    "updated_by": "prep-1",
    "channel": "form",
}

RESTATED_VALUE: dict[str, Any] = {
    **VALUE,
    "year": 2023,
    "value": "130",
    "restatement": RESTATEMENT,
}

FINDING: dict[str, Any] = {
    "rule": "completeness.missing",
    "severity": "error",
    "element": "DECL_ELECTRONIC",
    "year": 2024,
    "kpi": None,
    "message": "no value or state given; read by TF.1.1",
}

SUBMISSION: dict[str, Any] = {
    "id": SUBMISSION_ID,
    "cycle_id": CYCLE_ID,
    "member": "BRA",
    "state": "draft",
    "revision": 0,
    "version": 3,
    "reopened_kpis": None,
    "values": [VALUE],
    "kpi_opt_outs": {"TF.8.1": "no transit regime"},
    "disclosure": {"TF.1.1": "public", "TF.2.1": "restricted"},
    "findings": [FINDING],
    "can_submit": False,
}

WRITE_RESULT: dict[str, Any] = {
    "submission_id": SUBMISSION_ID,
    "state": "draft",
    "version": 3,
    "values": [VALUE],
    "findings": [FINDING],
    "can_submit": False,
}

HISTORY_ENTRY: dict[str, Any] = {
    "data_element": "DECL_TOTAL",
    "year": 2024,
    "actor": "api-key:3c2b1a09-8f7e-4d6c-9b5a-493827160504",
    "channel": "feed",
    "at": "2026-01-16T07:45:00Z",
    "old_state": "provided",
    "old_value": "98.1",
    "new_state": "provided",
    "new_value": "98.10",
    "reason": None,
}

TRANSITION: dict[str, Any] = {
    "from_state": "draft",
    "to_state": "submitted",
    "actor": "ncp-bra",
    "at": "2026-02-01T12:00:00Z",
    "reason": "final",
}

REVISION: dict[str, Any] = {
    "number": 1,
    "submitted_at": "2026-02-01T12:00:00Z",
    "submitted_by": "ncp-bra",
    "content": {
        "submission_id": SUBMISSION_ID,
        "revision": 1,
        "values": [
            {
                "data_element": "DECL_TOTAL",
                "year": 2024,
                "state": "provided",
                "value": "200000",
                "reason": None,
            }
        ],
    },
}

DIFF_ITEMS: list[dict[str, Any]] = [
    {
        "action": "create",
        "member": "BRA",
        "cycle": "PMM-2025",
        "data_element": "DECL_ELECTRONIC",
        "year": 2024,
        "old": None,
        "old_state": None,
        "new": "196200",
        "new_state": "provided",
        "row": 2,
    },
    {
        "action": "update",
        "member": "BRA",
        "cycle": "PMM-2025",
        "data_element": "DECL_TOTAL",
        "year": 2024,
        "old": "98.1",
        "old_state": "provided",
        "new": "98.10",
        "new_state": "provided",
        "row": 3,
    },
]

REJECTED_ROW: dict[str, Any] = {
    "row": 4,
    "column": "year",
    "rule": "year.not_calendar",
    "message": "'FY2023/24' is not a calendar year: a fiscal or part-year figure is "
    "not placed in one",
}

SUBMISSION_FINDINGS: dict[str, Any] = {
    "submission_id": SUBMISSION_ID,
    "member": "BRA",
    "cycle": "PMM-2025",
    "findings": [FINDING],
}

FEED_REPORT: dict[str, Any] = {
    "feed_id": FEED_ID,
    "dry_run": False,
    "mode": "merge",
    "partial": True,
    "applied": True,
    "rows_total": 3,
    "rows_accepted": 2,
    "rows_rejected": 1,
    "counts": {"create": 1, "update": 1, "unchanged": 0, "remove": 0},
    "diff": DIFF_ITEMS,
    "diff_truncated": False,
    "rejected": [REJECTED_ROW],
    "rejected_truncated": False,
    "findings": [SUBMISSION_FINDINGS],
}

FEED_JOB: dict[str, Any] = {
    "id": FEED_ID,
    "status": "done",
    "rows_total": 3,
    "rows_done": 3,
    "http_status": 200,
    "result": FEED_REPORT,
}

RUNNING_FEED_JOB: dict[str, Any] = {
    "id": FEED_ID,
    "status": "running",
    "rows_total": 100000,
    "rows_done": 20000,
    "http_status": None,
    "result": None,
}

DISCLOSURE: dict[str, str] = {
    "TF.1.1": "public",
    "RC.1.1": "wco",
    "TF.2.1": "restricted",
}
