"""Feeds: formats, mappings and scale words, dry run and diff, merge and replace,
all-or-nothing and partial, idempotency, jobs, limits and API keys."""

import asyncio
import io
import uuid
from datetime import UTC, datetime
from typing import Any

import openpyxl
import pytest
import sqlalchemy as sa

from pmm_kit.auth import Role
from pmm_local.testing import RunningService, ServiceStarter
from pmm_submission.models import ApiKey, FeedRun, ValueChange

from .helpers import (
    SHEET,
    XLSX,
    ServiceToStart,
    T,
    clean_service,
    complete_answers,
    open_cycle,
    problem_of,
    replacing,
    with_part,
    workbook,
)

pytestmark = pytest.mark.asyncio(loop_scope="session")

CSV = "text/csv"


async def _send(
    s: RunningService,
    body: bytes,
    content_type: str,
    headers: dict[str, str],
    **params: Any,
) -> Any:
    return await s.client.post(
        "/feeds",
        content=body,
        params={
            k: str(v).lower() if isinstance(v, bool) else v for k, v in params.items()
        },
        headers={**headers, "content-type": content_type},
    )


async def _values(
    s: RunningService, cycle_id: str, member: str = "BRA"
) -> dict[Any, Any]:
    view = await s.client.get(
        f"/cycles/{cycle_id}/submissions/{member}", headers=s.token(Role.SECRETARIAT)
    )
    if view.status_code == 404:
        return {}
    return {(v["data_element"], v["year"]): v["value"] for v in view.json()["values"]}


async def _history_count(s: RunningService) -> int:
    async with s.runtime.unit_of_work() as uow:
        count = await uow.session.scalar(
            sa.select(sa.func.count()).select_from(ValueChange)
        )
    return int(count or 0)


async def test_a_csv_with_bom_semicolons_and_decimal_commas_dry_run_then_applied(
    submission_service: ServiceToStart,
) -> None:
    async with submission_service as s:
        await open_cycle(s)
        cycle_id = (await s.client.get("/cycles")).json()[0]["id"]
        feed = (
            "\ufeffcycle;data_element;year;value;scale\n"
            f"PMM-2025;DECL_TOTAL;{T};1234,50;\n"
            f"PMM-2025;REV_CUSTOMS;{T};2,5;billion\n"
            f"PMM-2025;DECL_TOTAL;{T - 1};0,000001;thousand\n"
        ).encode()
        preparer = s.token(Role.PREPARER, "BRA")
        dry = await _send(s, feed, CSV, preparer, dry_run=True, decimal_separator=",")
        after_dry = await _values(s, cycle_id)
        applied = await _send(s, feed, CSV, preparer, decimal_separator=",")
        values = await _values(s, cycle_id)

    assert dry.json()["applied"] is False
    assert dry.json()["counts"] == {
        "create": 3,
        "update": 0,
        "unchanged": 0,
        "remove": 0,
    }
    assert [d["row"] for d in dry.json()["diff"]] == [2, 3, 4]
    assert after_dry == {}
    assert applied.json()["applied"] is True
    assert values == {
        ("DECL_TOTAL", T): "1234.50",
        ("REV_CUSTOMS", T): "2500000000",
        ("DECL_TOTAL", T - 1): "0.001",
    }
    # The dry run's findings are those of the submission the feed would make.
    dry_findings, applied_findings = dry.json()["findings"], applied.json()["findings"]
    assert [(f["member"], f["submission_id"]) for f in dry_findings] == [("BRA", None)]
    assert applied_findings[0]["member"] == "BRA"
    assert applied_findings[0]["findings"]
    assert dry_findings[0]["findings"] == applied_findings[0]["findings"]


async def test_a_json_feed_by_the_members_own_names_with_exact_factors(
    submission_service: ServiceToStart,
) -> None:
    async with submission_service as s:
        cycle_id = await open_cycle(s)
        ncp = s.token(Role.NCP, "BRA")
        await s.client.put(
            "/members/BRA/mappings/Receita aduaneira (mil)",
            json={"data_element": "REV_CUSTOMS", "factor": "1000"},
            headers=ncp,
        )
        body = (
            b'{"rows": [{"cycle": "PMM-2025", "name": "Receita aduaneira (mil)",'
            b' "year": 2024, "value": 100000000000},'
            b' {"cycle": "PMM-2025", "name": "Unknown name", "year": 2024,'
            b' "value": 1},'
            b' {"cycle": "PMM-2025", "data_element": "DECL_TOTAL", "year": 2024,'
            b' "value": 5, "colour": "red"},'
            b' {"cycle": "PMM-2025", "name": "Receita aduaneira (mil)",'
            b' "year": 2023, "value": 0.1, "scale": "trillion"}]}'
        )
        response = await _send(s, body, "application/json", ncp, partial=True)
        values = await _values(s, cycle_id)

    assert values == {("REV_CUSTOMS", T): "100000000000000"}
    # A scale of the row's own under a mapping's factor would multiply twice.
    assert [
        (r["row"], r["column"], r["rule"]) for r in response.json()["rejected"]
    ] == [
        (2, "name", "element.unmapped"),
        (3, "colour", "column.unknown"),
        (4, "scale", "factor.twice"),
    ]


async def test_units_are_converted_exactly_or_the_row_says_why(
    submission_service: ServiceToStart,
) -> None:
    async with submission_service as s:
        cycle_id = await open_cycle(s)
        ncp = s.token(Role.NCP, "FIN")
        mappings = {
            "customs_revenue_total": {"data_element": "REV_CUSTOMS", "unit": "EUR"},
            "release_days": {"data_element": "RELEASE_TIME_AVG", "unit": "days"},
            "narcotics_seized_total": {"data_element": "DRUG_SEIZED_KG"},
            "declarations": {"data_element": "DECL_TOTAL", "unit": "declarations"},
            "within_24h": {"data_element": "DECL_RELEASED_24H"},
        }
        stored = [
            await s.client.put(f"/members/FIN/mappings/{name}", json=body, headers=ncp)
            for name, body in mappings.items()
        ]
        refused_mapping = await s.client.put(
            "/members/FIN/mappings/odd",
            json={"data_element": "REV_CUSTOMS", "unit": "euros"},
            headers=ncp,
        )
        feed = (
            "cycle,name,year,value,unit\n"
            f"PMM-2025,customs_revenue_total,{T - 1},294,EUR million\n"
            f"PMM-2025,customs_revenue_total,{T},429.5,\n"
            f"PMM-2025,release_days,{T},1.25,\n"
            f"PMM-2025,release_days,{T - 1},90,minutes\n"
            f"PMM-2025,narcotics_seized_total,{T},1.382,tonnes\n"
            f"PMM-2025,declarations,{T},4.5,million declarations\n"
            f"PMM-2025,within_24h,{T},91.96,percent\n"
            f"PMM-2025,declarations,{T - 1},12,DI\n"
            f"PMM-2025,release_days,{T - 1},10,kg\n"
            f"FY{T - 1}/{T % 100},customs_revenue_total,{T},1,EUR\n"
            f"PMM-2025,customs_revenue_total,FY{T - 1}/{T % 100},1,EUR\n"
            f"PMM-2025,customs_revenue_total,0{T},1,EUR\n"
        ).encode()
        dry = await _send(s, feed, CSV, ncp, dry_run=True)
        applied = await _send(s, feed, CSV, ncp, partial=True)
        values = await _values(s, cycle_id, "FIN")
        listed = await s.client.get("/members/FIN/mappings", headers=ncp)

    assert [r.status_code for r in stored] == [200] * len(mappings)
    assert refused_mapping.status_code == 422
    assert problem_of(refused_mapping)["errors"][0]["rule"] == "unit.not_convertible"
    assert dry.json()["applied"] is False
    assert [(r["row"], r["column"], r["rule"]) for r in dry.json()["rejected"]] == [
        (8, "unit", "unit.not_convertible"),
        (9, "unit", "unit.mismatch"),
        (10, "unit", "unit.not_convertible"),
        (11, "cycle", "cycle.unknown"),
        (12, "year", "year.not_calendar"),
        (13, "year", "year.not_calendar"),
    ]
    assert "not a calendar year" in dry.json()["rejected"][-2]["message"]
    assert "in four digits" in dry.json()["rejected"][-1]["message"]
    assert applied.json()["applied"] is True
    assert values == {
        ("REV_CUSTOMS", T - 1): "294000000",
        ("REV_CUSTOMS", T): "429.5",
        ("RELEASE_TIME_AVG", T): "30.00",
        ("RELEASE_TIME_AVG", T - 1): "1.5",
        ("DRUG_SEIZED_KG", T): "1382",
        ("DECL_TOTAL", T): "4500000",
    }
    assert {m["name"]: m["unit"] for m in listed.json()} == {
        "customs_revenue_total": "EUR",
        "declarations": "declarations",
        "narcotics_seized_total": None,
        "release_days": "days",
        "within_24h": None,
    }


async def test_an_xlsx_feed_is_read_from_cell_values(
    submission_service: ServiceToStart,
) -> None:
    # Each displays something else than its value: 1,234,567 / 1,000 / 988 (in
    # thousands) / 0.00. A reader of displayed text would get those.
    formats = {"D2": "#,##0", "D3": '#,##0 "declarations"', "D5": "#,##0,"}
    formats["D6"] = "0.00"
    feed = workbook(
        [
            ["PMM-2025", "DECL_TOTAL", T, 1234567.25],
            ["PMM-2025", "DECL_ELECTRONIC", T, 1000],
            ["PMM-2025", "CODE_OF_CONDUCT", T, True],
            ["PMM-2025", "STAFF_TOTAL", T, 987654.4],
            ["PMM-2025", "STAFF_WOMEN", T, 0.004],
        ],
        number_formats=formats,
    )
    saved = openpyxl.load_workbook(io.BytesIO(feed)).active
    assert saved is not None

    async with submission_service as s:
        cycle_id = await open_cycle(s)
        response = await _send(s, feed, XLSX, s.token(Role.PREPARER, "BRA"))
        values = await _values(s, cycle_id)

    assert {cell: saved[cell].number_format for cell in formats} == formats
    assert response.json()["rows_accepted"] == 5
    assert values == {
        ("DECL_TOTAL", T): "1234567.25",
        ("DECL_ELECTRONIC", T): "1000",
        ("CODE_OF_CONDUCT", T): True,
        ("STAFF_TOTAL", T): "987654.4",
        ("STAFF_WOMEN", T): "0.004",
    }


async def test_an_xlsx_percent_cell_is_read_as_its_percent(
    submission_service: ServiceToStart,
) -> None:
    feed = workbook(
        [
            ["PMM-2025", "DECL_TOTAL", T, 1],
            ["PMM-2025", "DECL_ELECTRONIC", T, 0.125],
            ["PMM-2025", "STAFF_TOTAL", T, 0.5],
            ["PMM-2025", "STAFF_WOMEN", T, 2],
        ],
        # They show 100%, 12.5% and 50%.
        number_formats={"D2": "0%", "D3": "0.0%", "D4": "0%"},
    )

    async with submission_service as s:
        cycle_id = await open_cycle(s)
        response = await _send(s, feed, XLSX, s.token(Role.PREPARER, "BRA"))
        values = await _values(s, cycle_id)

    assert [d["new"] for d in response.json()["diff"]] == ["100", "12.5", "50", "2"]
    assert values == {
        ("DECL_TOTAL", T): "100",
        ("DECL_ELECTRONIC", T): "12.5",
        ("STAFF_TOTAL", T): "50",
        ("STAFF_WOMEN", T): "2",
    }


async def test_an_xlsx_percent_sign_written_as_text_leaves_the_value_as_it_is(
    submission_service: ServiceToStart,
) -> None:
    # The first three only show a % sign after the value the cell holds (12.5%);
    # the last two are percent formats, their cells holding the share.
    formats = {"D2": '0.0"%"', "D3": "0.00\\%", "D4": '[Red]"%"0.0'}
    formats |= {"D5": "[Red]0.0%", "D6": "0%"}
    feed = workbook(
        [
            ["PMM-2025", "DECL_TOTAL", T, 12.5],
            ["PMM-2025", "DECL_ELECTRONIC", T, 12.5],
            ["PMM-2025", "STAFF_TOTAL", T, 12.5],
            ["PMM-2025", "STAFF_WOMEN", T, 0.125],
            ["PMM-2025", "REV_CUSTOMS", T, 1],
        ],
        number_formats=formats,
    )

    async with submission_service as s:
        cycle_id = await open_cycle(s)
        response = await _send(s, feed, XLSX, s.token(Role.PREPARER, "BRA"))
        values = await _values(s, cycle_id)

    assert response.status_code == 200, response.text
    assert values == {
        ("DECL_TOTAL", T): "12.5",
        ("DECL_ELECTRONIC", T): "12.5",
        ("STAFF_TOTAL", T): "12.5",
        ("STAFF_WOMEN", T): "12.5",
        ("REV_CUSTOMS", T): "100",
    }


async def test_an_xlsx_row_with_a_value_beyond_the_header_is_rejected(
    submission_service: ServiceToStart,
) -> None:
    feed = workbook(
        [
            ["PMM-2025", "DECL_TOTAL", T, 10],
            ["PMM-2025", "STAFF_TOTAL", T, 5, None, "note: estimate"],
            [None, None, None, None, 7],
            ["PMM-2025", "STAFF_WOMEN", T, 2, ""],
        ]
    )

    async with submission_service as s:
        cycle_id = await open_cycle(s)
        response = await _send(
            s, feed, XLSX, s.token(Role.PREPARER, "BRA"), partial=True
        )
        values = await _values(s, cycle_id)

    rejected = response.json()["rejected"]
    assert [(r["row"], r["column"], r["rule"]) for r in rejected] == [
        (3, "F", "cell.beyond_header"),
        (4, "E", "cell.beyond_header"),
    ]
    assert rejected[0]["message"] == (
        "cell F3 holds a value but column F has no header"
    )
    assert values == {("DECL_TOTAL", T): "10", ("STAFF_WOMEN", T): "2"}


async def test_one_rejected_row_stops_the_whole_feed_unless_partial(
    submission_service: ServiceToStart,
) -> None:
    feed = (
        "member,cycle,data_element,year,value,state,reason\n"
        f"BRA,PMM-2025,DECL_TOTAL,{T},10,,\n"
        f"BRA,PMM-2025,STAFF_TOTAL,{T},,not_available,\n"
        f"KEN,PMM-2025,DECL_TOTAL,{T},10,,\n"
        f"BRA,PMM-2025,DECL_TOTAL,{T},11,,\n"
        f"BRA,PMM-2025,DECL_TOTAL,{T - 1},NaN,,\n"
        f"BRA,PMM-2025,STAFF_TOTAL,{T - 1},7,,\n"
    ).encode()
    async with submission_service as s:
        cycle_id = await open_cycle(s)
        preparer = s.token(Role.PREPARER, "BRA")
        refused = await _send(s, feed, CSV, preparer)
        nothing = await _values(s, cycle_id)
        partial = await _send(s, feed, CSV, preparer, partial=True)
        some = await _values(s, cycle_id)

    problem = problem_of(refused)
    assert refused.status_code == 422
    assert problem["applied"] is False
    # Rows 2 and 5 give one value twice: which figure was meant cannot be told.
    assert [(r["row"], r["column"], r["rule"]) for r in problem["rejected"]] == [
        (2, "data_element", "row.duplicate"),
        (3, "reason", "state.reason_missing"),
        (4, "member", "member.forbidden"),
        (5, "data_element", "row.duplicate"),
        (6, "value", "value.not_finite"),
    ]
    assert [r["message"] for r in problem["rejected"] if r["row"] in (2, 5)] == [
        "the feed gives this value twice (row 5 gives it too)",
        "the feed gives this value twice (row 2 gives it too)",
    ]
    assert nothing == {}
    assert partial.status_code == 200
    assert partial.json()["rows_rejected"] == 5
    assert some == {("STAFF_TOTAL", T - 1): "7"}


async def test_replace_removes_what_the_feed_no_longer_contains(
    submission_service: ServiceToStart,
) -> None:
    async with submission_service as s:
        cycle_id = await open_cycle(s)
        preparer = s.token(Role.PREPARER, "BRA")
        first = (
            "cycle,data_element,year,value\n"
            f"PMM-2025,DECL_TOTAL,{T},10\nPMM-2025,STAFF_TOTAL,{T},5\n"
        ).encode()
        second = f"cycle,data_element,year,value\nPMM-2025,DECL_TOTAL,{T},10\n".encode()
        await _send(s, first, CSV, preparer)
        merged = await _send(s, second, CSV, preparer, dry_run=True)
        trial = await _send(s, second, CSV, preparer, mode="replace", dry_run=True)
        replaced = await _send(s, second, CSV, preparer, mode="replace")
        values = await _values(s, cycle_id)
        history = await s.client.get(
            f"/cycles/{cycle_id}/submissions/BRA/values/STAFF_TOTAL/{T}/history",
            headers=preparer,
        )

    assert merged.json()["counts"]["unchanged"] == 1
    assert merged.json()["counts"]["remove"] == 0
    assert replaced.json()["counts"] == {
        "create": 0,
        "update": 0,
        "unchanged": 1,
        "remove": 1,
    }
    removal = replaced.json()["diff"][1]
    assert (removal["action"], removal["data_element"], removal["old"]) == (
        "remove",
        "STAFF_TOTAL",
        "5",
    )
    assert values == {("DECL_TOTAL", T): "10"}
    # A dry run's findings see the removal it would make; a merge's do not.
    missing = {
        f["element"]
        for f in trial.json()["findings"][0]["findings"]
        if f["rule"] == "completeness.missing"
    }
    assert "STAFF_TOTAL" in missing
    assert trial.json()["findings"] == replaced.json()["findings"]
    assert merged.json()["findings"] != replaced.json()["findings"]
    assert [(h["old_value"], h["new_value"], h["channel"]) for h in history.json()] == [
        (None, "5", "feed"),
        ("5", None, "feed"),
    ]


async def test_a_partial_replace_keeps_what_its_rejected_rows_named(
    submission_service: ServiceToStart,
) -> None:
    head = "cycle,data_element,year,value\n"
    stored = head + "".join(
        f"PMM-2025,{element},{year},{value}\n"
        for element, year, value in [
            ("DECL_TOTAL", T, 10),
            ("STAFF_TOTAL", T, 5),
            ("STAFF_WOMEN", T, 2),
            ("STAFF_WOMEN", T - 1, 1),
            ("AEO_COUNT", T, 3),
        ]
    )
    replacing = head + (
        f"PMM-2025,DECL_TOTAL,{T},11\n"
        f"PMM-2025,STAFF_TOTAL,{T},abc\n"
        f"PMM-2025,STAFF_WOMEN,FY{T - 1}/{T % 100},1\n"
        f"PMM-2025,NOPE,{T},1\n"
        f"PMM-2099,AEO_COUNT,{T},1\n"
    )
    async with submission_service as s:
        cycle_id = await open_cycle(s)
        preparer = s.token(Role.PREPARER, "BRA")
        await _send(s, stored.encode(), CSV, preparer)
        replaced = await _send(
            s, replacing.encode(), CSV, preparer, mode="replace", partial=True
        )
        values = await _values(s, cycle_id)

    assert [r["rule"] for r in replaced.json()["rejected"]] == [
        "value.number",
        "year.not_calendar",
        "element.unknown",
        "cycle.unknown",
    ]
    assert replaced.json()["counts"] == {
        "create": 0,
        "update": 1,
        "unchanged": 0,
        "remove": 1,
    }
    assert [
        (d["action"], d["data_element"], d["old"], d["new"])
        for d in replaced.json()["diff"]
    ] == [
        ("update", "DECL_TOTAL", "10", "11"),
        ("remove", "AEO_COUNT", "3", None),
    ]
    assert values == {
        ("DECL_TOTAL", T): "11",
        ("STAFF_TOTAL", T): "5",
        ("STAFF_WOMEN", T): "2",
        ("STAFF_WOMEN", T - 1): "1",
    }


async def test_replace_in_a_returned_submission_removes_only_reopened_values(
    submission_service: ServiceToStart,
) -> None:
    feed = (
        "cycle,data_element,year,value\n"
        f"PMM-2025,DECL_TOTAL,{T},120\nPMM-2025,DECL_ELECTRONIC,{T},100\n"
    ).encode()
    async with submission_service as s:
        cycle_id = await open_cycle(s)
        ncp = s.token(Role.NCP, "BRA")
        submission = f"/cycles/{cycle_id}/submissions/BRA"
        await s.client.post(
            f"{submission}/values",
            json={"values": complete_answers()},
            headers=ncp,
        )
        await s.client.post(f"{submission}/submit", headers=ncp)
        await s.client.post(
            f"{submission}/return",
            json={"kpis": ["TF.1.1"], "reason": "double counted"},
            headers=s.token(Role.SECRETARIAT),
        )
        replaced = await _send(s, feed, CSV, ncp, mode="replace")
        values = await _values(s, cycle_id)

    assert replaced.status_code == 200, replaced.text
    removed = [
        (d["data_element"], d["year"])
        for d in replaced.json()["diff"]
        if d["action"] == "remove"
    ]
    assert removed == [("DECL_ELECTRONIC", T - 1), ("DECL_TOTAL", T - 1)]
    assert len(values) == len(complete_answers()) - 2
    assert values[("DECL_TOTAL", T)] == "120"
    assert values[("STAFF_TOTAL", T)] == "100"


async def test_a_figure_written_differently_is_an_update_kept_as_written(
    submission_service: ServiceToStart,
) -> None:
    head = "cycle,data_element,year,value\n"
    async with submission_service as s:
        cycle_id = await open_cycle(s)
        preparer = s.token(Role.PREPARER, "BRA")
        await _send(s, f"{head}PMM-2025,DECL_TOTAL,{T},98.1\n".encode(), CSV, preparer)
        rewritten = await _send(
            s, f"{head}PMM-2025,DECL_TOTAL,{T},98.10\n".encode(), CSV, preparer
        )
        again = await _send(
            s, f"{head}PMM-2025,DECL_TOTAL,{T},98.10\n".encode(), CSV, preparer
        )
        values = await _values(s, cycle_id)
        history = await s.client.get(
            f"/cycles/{cycle_id}/submissions/BRA/values/DECL_TOTAL/{T}/history",
            headers=preparer,
        )

    diff = rewritten.json()["diff"][0]
    assert (diff["action"], diff["old"], diff["new"]) == ("update", "98.1", "98.10")
    assert rewritten.json()["counts"]["update"] == 1
    assert again.json()["counts"]["unchanged"] == 1
    assert values == {("DECL_TOTAL", T): "98.10"}
    assert [(h["old_value"], h["new_value"]) for h in history.json()] == [
        (None, "98.1"),
        ("98.1", "98.10"),
    ]


async def test_an_idempotency_key_replays_and_refuses_another_body(
    submission_service: ServiceToStart,
) -> None:
    feed = f"cycle,data_element,year,value\nPMM-2025,DECL_TOTAL,{T},10\n".encode()
    other = f"cycle,data_element,year,value\nPMM-2025,DECL_TOTAL,{T},11\n".encode()
    async with submission_service as s:
        await open_cycle(s)
        preparer = {
            **s.token(Role.PREPARER, "BRA", subject="p"),
            "Idempotency-Key": "k1",
        }
        first = await _send(s, feed, CSV, preparer)
        changes = await _history_count(s)
        second = await _send(s, feed, CSV, preparer)
        changes_after = await _history_count(s)
        conflict = await _send(s, other, CSV, preparer)

    assert second.json() == first.json()
    assert changes == changes_after == 1
    assert conflict.status_code == 409
    assert problem_of(conflict)["feed_id"] == first.json()["feed_id"]


async def test_a_key_whose_feed_failed_answers_a_conflict_never_a_crash(
    submission_service: ServiceToStart,
) -> None:
    feed = f"cycle,data_element,year,value\nPMM-2025,DECL_TOTAL,{T},10\n".encode()
    async with submission_service as s:
        await open_cycle(s)
        preparer = {**s.token(Role.PREPARER, "BRA"), "Idempotency-Key": "k1"}
        first = await _send(s, feed, CSV, preparer, background=True)
        await _until_done(s, first.json()["id"])
        async with s.runtime.unit_of_work() as uow:
            # What a job that crashed leaves behind (see `_run_job`).
            await uow.session.execute(
                sa.update(FeedRun).values(
                    status="failed", http_status=None, result=None
                )
            )
            await uow.commit()
        replayed = await _send(s, feed, CSV, preparer, background=True)

    assert replayed.status_code == 409
    assert problem_of(replayed)["type"] == "urn:pmm:problem:feed-failed"
    assert problem_of(replayed)["feed_id"] == first.json()["id"]


async def _until_done(s: RunningService, feed_id: str) -> dict[str, Any]:
    job: dict[str, Any] = {}
    for _ in range(200):
        answer = await s.client.get(
            f"/feeds/{feed_id}", headers=s.token(Role.SECRETARIAT)
        )
        job = answer.json()
        if job["status"] != "running":
            break
        await asyncio.sleep(0.05)
    return job


async def test_a_request_racing_another_with_its_key_replays_the_other(
    submission_service: ServiceToStart,
) -> None:
    feed = f"cycle,data_element,year,value\nPMM-2025,DECL_TOTAL,{T},10\n".encode()
    async with submission_service as s:
        await open_cycle(s)
        preparer = s.token(Role.PREPARER, "BRA", subject="p")
        first = await _send(s, feed, CSV, {**preparer, "Idempotency-Key": "k1"})
        async with s.runtime.unit_of_work() as held:
            # Another request with the key "k2" has written its row and not yet
            # committed: ours must wait for it, then answer what it answered.
            sent = await held.session.scalar(sa.select(FeedRun))
            assert sent is not None
            other = _other_request(sent, key="k2")
            held.session.add(other)
            await held.session.flush()
            racing = asyncio.create_task(
                _send(s, feed, CSV, {**preparer, "Idempotency-Key": "k2"})
            )
            await _until_waiting_on_a_lock(s)
            await held.commit()
        second = await racing
        changes = await _history_count(s)

    assert first.status_code == 200
    assert second.status_code == 200
    assert second.json()["feed_id"] == str(other.id)
    assert changes == 1


def _other_request(sent: FeedRun, *, key: str) -> FeedRun:
    feed_id = uuid.uuid4()
    assert sent.result is not None
    return FeedRun(
        id=feed_id,
        caller=sent.caller,
        member=sent.member,
        idempotency_key=key,
        request_sha256=sent.request_sha256,
        status="done",
        rows_total=sent.rows_total,
        rows_done=sent.rows_done,
        http_status=200,
        result={**sent.result, "feed_id": str(feed_id)},
        created_at=datetime.now(UTC),
        finished_at=datetime.now(UTC),
    )


async def _until_waiting_on_a_lock(s: RunningService) -> None:
    for _ in range(400):
        async with s.runtime.unit_of_work() as uow:
            waiting = await uow.session.scalar(
                sa.text(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type ="
                    " 'Lock' AND query LIKE '%feeds%' AND datname = current_database()"
                )
            )
        if waiting:
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the racing request never waited for the first")


async def test_a_large_feed_runs_as_a_job_polled_by_id(
    run_service: ServiceStarter, service_databases: dict[str, str], isolated_nats: str
) -> None:
    lines = ["member,cycle,data_element,year,value"] + [
        f"{m},PMM-2025,DECL_TOTAL,{T},{n}" for n, m in enumerate(["BRA", "KEN", "FRA"])
    ]
    async with clean_service(
        run_service,
        service_databases["submission"],
        isolated_nats,
        feed_job_rows=2,
    ) as s:
        cycle_id = await open_cycle(s)
        secretariat = s.token(Role.SECRETARIAT)
        started = await _send(s, "\n".join(lines).encode(), CSV, secretariat)
        job = started.json()
        for _ in range(100):
            job = (
                await s.client.get(started.headers["location"], headers=secretariat)
            ).json()
            if job["status"] != "running":
                break
            await asyncio.sleep(0.05)
        other_member = await s.client.get(
            started.headers["location"], headers=s.token(Role.NCP, "BRA")
        )
        values = await _values(s, cycle_id, "KEN")

    assert started.status_code == 202
    assert job["status"] == "done"
    assert (job["rows_done"], job["rows_total"]) == (3, 3)
    assert job["result"]["counts"]["create"] == 3
    assert other_member.status_code == 404
    assert values == {("DECL_TOTAL", T): "1"}


async def test_size_limits_and_formats_are_refused_with_the_limit(
    run_service: ServiceStarter, service_databases: dict[str, str], isolated_nats: str
) -> None:
    feed = "cycle,data_element,year,value\n" + "PMM-2025,DECL_TOTAL,2024,1\n" * 3
    async with clean_service(
        run_service,
        service_databases["submission"],
        isolated_nats,
        feed_max_rows=2,
        max_request_bytes=400,
    ) as s:
        await open_cycle(s)
        preparer = s.token(Role.PREPARER, "BRA")
        too_many = await _send(s, feed.encode(), CSV, preparer)
        too_big = await _send(s, feed.encode() * 10, CSV, preparer)
        unsupported = await _send(s, b"x", "text/plain", preparer)
        unknown_column = await _send(s, b"cycle,colour\nPMM-2025,red\n", CSV, preparer)
        not_utf8 = await _send(
            s, "cycle\nPMM-2025\xe9\n".encode("latin-1"), CSV, preparer
        )

    assert too_many.status_code == 413
    assert problem_of(too_many)["limit"] == 2
    assert too_big.status_code == 413
    assert "400 bytes" in problem_of(too_big)["detail"]
    assert problem_of(too_big)["limit"] == 400
    assert unsupported.status_code == 415
    assert problem_of(unknown_column)["errors"][0]["column"] == "colour"
    assert problem_of(not_utf8)["errors"][0]["rule"] == "encoding.utf8"


async def test_api_keys_are_hashed_member_scoped_limited_to_feeds_and_revocable(
    submission_service: ServiceToStart,
) -> None:
    feed = f"cycle,data_element,year,value\nPMM-2025,DECL_TOTAL,{T},10\n".encode()
    foreign = f"member,cycle,data_element,year,value\nKEN,PMM-2025,DECL_TOTAL,{T},1\n"
    async with submission_service as s:
        cycle_id = await open_cycle(s)
        by_preparer = await s.client.post(
            "/members/BRA/api-keys",
            json={"label": "warehouse"},
            headers=s.token(Role.PREPARER, "BRA"),
        )
        issued = await s.client.post(
            "/members/BRA/api-keys",
            json={"label": "warehouse"},
            headers=s.token(Role.NCP, "BRA"),
        )
        key = {"X-Api-Key": issued.json()["key"]}
        sent = await _send(s, feed, CSV, key)
        other_member = await _send(s, foreign.encode(), CSV, key)
        elsewhere = await s.client.get(
            f"/cycles/{cycle_id}/submissions/BRA", headers=key
        )
        async with s.runtime.unit_of_work() as uow:
            stored = await uow.session.scalar(sa.select(ApiKey.key_sha256))
        revoked = await s.client.delete(
            f"/members/BRA/api-keys/{issued.json()['id']}",
            headers=s.token(Role.NCP, "BRA"),
        )
        after = await _send(s, feed, CSV, key)

    assert by_preparer.status_code == 403
    assert sent.json()["applied"] is True
    assert problem_of(other_member)["rejected"][0]["rule"] == "member.forbidden"
    assert elsewhere.status_code == 401
    assert stored is not None
    assert issued.json()["key"] not in stored
    assert revoked.json()["revoked_at"] is not None
    assert after.status_code == 401


async def test_a_feed_restating_a_submitted_prior_year_needs_a_reason(
    submission_service: ServiceToStart,
) -> None:
    async with submission_service as s:
        ncp = s.token(Role.NCP, "BRA")
        earlier = await open_cycle(s, "PMM-2024", T - 1)
        await s.client.post(
            f"/cycles/{earlier}/submissions/BRA/values",
            json={"values": complete_answers(T - 1)},
            headers=ncp,
        )
        await s.client.post(f"/cycles/{earlier}/submissions/BRA/submit", headers=ncp)
        cycle_id = await open_cycle(s)
        head = "cycle,data_element,year,value,restatement_reason\n"
        unexplained = f"PMM-2025,DECL_TOTAL,{T - 1},150,\n"
        explained = f"PMM-2025,DECL_TOTAL,{T - 1},150,register cleaned\n"
        refused = await _send(s, (head + unexplained).encode(), CSV, ncp)
        accepted = await _send(s, (head + explained).encode(), CSV, ncp)
        view = await s.client.get(f"/cycles/{cycle_id}/submissions/BRA", headers=ncp)

    rejected = problem_of(refused)["rejected"][0]
    assert (rejected["column"], rejected["rule"]) == (
        "restatement_reason",
        "restatement.reason_missing",
    )
    assert accepted.json()["applied"] is True
    value = view.json()["values"][0]
    assert value["value"] == "150"
    assert value["restatement"]["previous_value"] == "100"
    assert value["restatement"]["reason"] == "register cleaned"


async def test_a_number_beyond_the_bounds_is_a_rejected_row_in_every_format(
    submission_service: ServiceToStart,
) -> None:
    json_feed = (
        b'{"rows": [{"cycle": "PMM-2025", "data_element": "DECL_TOTAL",'
        b' "year": 2024, "value": 1e999999999},'
        b' {"cycle": "PMM-2025", "data_element": "STAFF_TOTAL", "year": 2024,'
        b' "value": 1e-999999999}]}'
    )
    csv_feed = (
        "cycle,data_element,year,value,scale\n"
        f"PMM-2025,DECL_TOTAL,{T},{'1' + '0' * 30},\n"
        f"PMM-2025,STAFF_TOTAL,{T},0.{'0' * 20}1,\n"
        f"PMM-2025,STAFF_WOMEN,{T},{'1' + '0' * 25},trillion\n"
        f"PMM-2025,DECL_ELECTRONIC,{T},1e999999999,\n"
    ).encode()
    xlsx_feed = workbook(
        [["PMM-2025", "DECL_TOTAL", T, 1e300], ["PMM-2025", "STAFF_TOTAL", T, 1e-300]]
    )
    async with submission_service as s:
        await open_cycle(s)
        preparer = s.token(Role.PREPARER, "BRA")
        from_json = await _send(s, json_feed, "application/json", preparer)
        from_csv = await _send(s, csv_feed, CSV, preparer)
        from_xlsx = await _send(s, xlsx_feed, XLSX, preparer)

    def rejected(response: Any) -> list[tuple[int, str, str]]:
        assert response.status_code == 422
        return [
            (r["row"], r["column"], r["rule"]) for r in problem_of(response)["rejected"]
        ]

    assert rejected(from_json) == [
        (1, "value", "value.too_large"),
        (2, "value", "value.too_many_decimals"),
    ]
    assert rejected(from_csv) == [
        (2, "value", "value.too_large"),
        (3, "value", "value.too_many_decimals"),
        (4, "value", "value.too_large"),
        (5, "value", "value.number"),
    ]
    assert "once scaled" in problem_of(from_csv)["rejected"][2]["message"]
    assert rejected(from_xlsx) == [
        (2, "value", "value.too_large"),
        (3, "value", "value.too_many_decimals"),
    ]


async def test_a_json_cell_of_the_wrong_type_is_a_rejected_row(
    submission_service: ServiceToStart,
) -> None:
    row = '"cycle": "PMM-2025", "data_element": "DECL_TOTAL", "year": 2024'
    feed = (
        '{"rows": ['
        '{"member": ["BRA"], "cycle": "PMM-2025", "data_element": "DECL_TOTAL",'
        ' "year": 2024, "value": 1},'
        '{"member": {"code": "BRA"}, "cycle": "PMM-2025",'
        ' "data_element": "DECL_TOTAL", "year": 2024, "value": 1},'
        '{"cycle": ["PMM-2025"], "data_element": "DECL_TOTAL", "year": 2024,'
        ' "value": 1},'
        '{"cycle": "PMM-2025", "data_element": {"a": 1}, "year": 2024, "value": 1},'
        '{"cycle": "PMM-2025", "name": ["x"], "year": 2024, "value": 1},'
        '{"cycle": "PMM-2025", "data_element": "DECL_TOTAL", "year": [2024],'
        ' "value": 1},'
        f'{{{row}, "value": [1]}},'
        f'{{{row}, "value": 1, "state": true}},'
        f'{{{row}, "state": "not_available", "reason": {{"why": "x"}}}},'
        f'{{{row}, "value": 1, "scale": ["thousand"]}},'
        f'{{{row}, "value": 1, "unit": ["declarations"]}},'
        f'{{{row}, "value": 1, "restatement_reason": [1]}},'
        '{"cycle": "PMM-2025", "data_element": "DECL_TOTAL", "year": 1e999999999,'
        ' "value": 1},'
        '{"cycle": "PMM-2025", "data_element": "STAFF_TOTAL", "year": 2024.0,'
        ' "value": 3},'
        '{"cycle": "PMM-2025", "data_element": "STAFF_TOTAL", "year": true,'
        ' "value": 3},'
        '{"cycle": "PMM-2025", "data_element": "STAFF_TOTAL", "year": 2024,'
        ' "value": 4}'
        "]}"
    ).encode()
    async with submission_service as s:
        cycle_id = await open_cycle(s)
        response = await _send(
            s, feed, "application/json", s.token(Role.PREPARER, "BRA"), partial=True
        )
        values = await _values(s, cycle_id)

    assert response.status_code == 200, response.text
    assert [
        (r["row"], r["column"], r["rule"]) for r in response.json()["rejected"]
    ] == [
        (1, "member", "cell.type"),
        (2, "member", "cell.type"),
        (3, "cycle", "cell.type"),
        (4, "data_element", "cell.type"),
        (5, "name", "cell.type"),
        (6, "year", "cell.type"),
        (7, "value", "cell.type"),
        (8, "state", "cell.type"),
        (9, "reason", "cell.type"),
        (10, "scale", "cell.type"),
        (11, "unit", "cell.type"),
        (12, "restatement_reason", "cell.type"),
        (13, "year", "year.not_calendar"),
        (14, "year", "year.not_calendar"),
        (15, "year", "cell.type"),
    ]
    assert (
        "'2024.0' is not a whole year number"
        in (response.json()["rejected"][13]["message"])
    )
    assert values == {("STAFF_TOTAL", T): "4"}


async def test_a_csv_row_that_cannot_be_split_is_refused_naming_the_row(
    submission_service: ServiceToStart,
) -> None:
    head = "cycle,data_element,year,value\n"
    good = f"PMM-2025,DECL_TOTAL,{T},1\n"
    feeds = {
        "quote": head + good + f'PMM-2025,"STAFF"_TOTAL,{T},2\n',
        "long": head + good + good.replace("DECL", "x" * 140_000),
        "unterminated": head + good + good + f'PMM-2025,"STAFF_TOTAL,{T},2\n',
        "header": 'cycle,"year"x\n',
    }
    async with submission_service as s:
        await open_cycle(s)
        preparer = s.token(Role.PREPARER, "BRA")
        answers = {
            name: await _send(s, feed.encode(), CSV, preparer)
            for name, feed in feeds.items()
        }

    errors = {name: problem_of(answer)["errors"][0] for name, answer in answers.items()}
    assert {name: answer.status_code for name, answer in answers.items()} == {
        "quote": 422,
        "long": 422,
        "unterminated": 422,
        "header": 422,
    }
    assert {name: (e["row"], e["rule"]) for name, e in errors.items()} == {
        "quote": (3, "csv.quoting"),
        "long": (3, "csv.cell_too_long"),
        "unterminated": (4, "csv.quoting"),
        "header": (1, "csv.quoting"),
    }
    assert errors["quote"]["message"].startswith("row 3 is not valid CSV")


async def test_an_xlsx_is_read_whole_whatever_its_dimension_tag_says(
    submission_service: ServiceToStart,
) -> None:
    feed = workbook(
        [
            ["PMM-2025", "DECL_TOTAL", T, 10],
            ["PMM-2025", "STAFF_TOTAL", T, 20],
            ["PMM-2025", "STAFF_WOMEN", T, 5],
        ]
    )
    # The tag claims two rows and two columns; the sheet holds four and four.
    body = with_part(
        feed,
        SHEET,
        replacing(b'<dimension ref="A1:D4" />', b'<dimension ref="A1:B2" />'),
    )
    stored = (
        "cycle,data_element,year,value\n"
        f"PMM-2025,DECL_TOTAL,{T},10\nPMM-2025,STAFF_TOTAL,{T},20\n"
        f"PMM-2025,STAFF_WOMEN,{T},5\n"
    ).encode()
    async with submission_service as s:
        cycle_id = await open_cycle(s)
        preparer = s.token(Role.PREPARER, "BRA")
        await _send(s, stored, CSV, preparer)
        dry = await _send(s, body, XLSX, preparer, dry_run=True, mode="replace")
        replaced = await _send(s, body, XLSX, preparer, mode="replace")
        values = await _values(s, cycle_id)

    assert dry.json()["rows_total"] == 3
    assert dry.json()["counts"] == {
        "create": 0,
        "update": 0,
        "unchanged": 3,
        "remove": 0,
    }
    assert replaced.json()["counts"]["remove"] == 0
    assert values == {
        ("DECL_TOTAL", T): "10",
        ("STAFF_TOTAL", T): "20",
        ("STAFF_WOMEN", T): "5",
    }


async def test_an_xlsx_number_keeps_every_digit_its_cell_stores(
    submission_service: ServiceToStart,
) -> None:
    feed = workbook(
        [["PMM-2025", "REV_CUSTOMS", T, 4242], ["PMM-2025", "DECL_ELECTRONIC", T, 0.5]],
        number_formats={"D3": "0%"},
    )
    body = with_part(
        feed, SHEET, replacing(b"<v>4242</v>", b"<v>12345678901234567890.5</v>")
    )
    body = with_part(
        body, SHEET, replacing(b"<v>0.5</v>", b"<v>0.12345678901234567891</v>")
    )
    async with submission_service as s:
        cycle_id = await open_cycle(s)
        response = await _send(s, body, XLSX, s.token(Role.PREPARER, "BRA"))
        values = await _values(s, cycle_id)

    assert response.status_code == 200, response.text
    assert values == {
        ("REV_CUSTOMS", T): "12345678901234567890.5",
        ("DECL_ELECTRONIC", T): "12.345678901234567891",
    }


async def test_a_json_integer_of_thousands_of_digits_is_a_figure_too_large(
    submission_service: ServiceToStart,
) -> None:
    digits = "9" * 5000
    feed = (
        '{"rows": [{"cycle": "PMM-2025", "data_element": "DECL_TOTAL",'
        f' "year": 2024, "value": {digits}}},'
        ' {"cycle": "PMM-2025", "data_element": "STAFF_TOTAL",'
        f' "year": {digits}, "value": 1}}]}}'
    ).encode()
    async with submission_service as s:
        cycle_id = await open_cycle(s)
        response = await _send(
            s, feed, "application/json", s.token(Role.PREPARER, "BRA")
        )
        values = await _values(s, cycle_id)

    assert response.status_code == 422
    problem = problem_of(response)
    assert problem["type"] == "urn:pmm:problem:feed-rejected"
    assert [(r["row"], r["column"], r["rule"]) for r in problem["rejected"]] == [
        (1, "value", "value.too_large"),
        (2, "year", "year.not_calendar"),
    ]
    assert "sys.set_int_max_str_digits" not in response.text
    assert values == {}


async def test_a_feed_past_the_row_limit_is_a_413_in_every_format(
    run_service: ServiceStarter, service_databases: dict[str, str], isolated_nats: str
) -> None:
    feeds = {
        CSV: (
            "cycle,data_element,year,value\n" + f"PMM-2025,DECL_TOTAL,{T},1\n" * 5
        ).encode(),
        "application/json": b'{"rows": [' + b", ".join([b"{}"] * 5) + b"]}",
        XLSX: workbook([["PMM-2025", "DECL_TOTAL", T, 1]] * 5),
    }
    async with clean_service(
        run_service, service_databases["submission"], isolated_nats, feed_max_rows=3
    ) as s:
        cycle_id = await open_cycle(s)
        preparer = s.token(Role.PREPARER, "BRA")
        answers = {
            media: await _send(s, body, media, preparer)
            for media, body in feeds.items()
        }
        values = await _values(s, cycle_id)

    problems = [problem_of(answer) for answer in answers.values()]
    assert [answer.status_code for answer in answers.values()] == [413] * 3
    assert [p["limit"] for p in problems] == [3] * 3
    assert {p["detail"] for p in problems} == {
        "a feed may have at most 3 rows; this one has more"
    }
    assert values == {}


async def test_a_figure_scaled_by_a_word_or_a_mapping_is_stored_in_one_form(
    submission_service: ServiceToStart,
) -> None:
    by_word = (
        "cycle,data_element,year,value,scale\n"
        f"PMM-2025,REV_CUSTOMS,{T},12.5,million\n"
        f"PMM-2025,DECL_TOTAL,{T},1.5,thousand\n"
        f"PMM-2025,STAFF_TOTAL,{T},1.2345678,million\n"
    ).encode()
    by_mapping = (
        "cycle,name,year,value\n"
        f"PMM-2025,revenue (millions),{T},12.5\n"
        f"PMM-2025,declarations (thousands),{T},1.5\n"
    ).encode()
    async with submission_service as s:
        cycle_id = await open_cycle(s)
        ncp = s.token(Role.NCP, "BRA")
        mappings = {
            "revenue (millions)": {"data_element": "REV_CUSTOMS", "factor": "1000000"},
            "declarations (thousands)": {
                "data_element": "DECL_TOTAL",
                "factor": "1000",
            },
        }
        for name, mapping in mappings.items():
            put = await s.client.put(
                f"/members/BRA/mappings/{name}", json=mapping, headers=ncp
            )
            assert put.status_code == 200, put.text
        first = await _send(s, by_word, CSV, ncp)
        values = await _values(s, cycle_id)
        resent = await _send(s, by_mapping, CSV, ncp, dry_run=True)

    assert first.status_code == 200, first.text
    assert values == {
        ("REV_CUSTOMS", T): "12500000",
        ("DECL_TOTAL", T): "1500",
        ("STAFF_TOTAL", T): "1234567.8",
    }
    assert resent.json()["counts"] == {
        "create": 0,
        "update": 0,
        "unchanged": 2,
        "remove": 0,
    }


async def test_a_figure_scaled_down_by_a_power_of_ten_is_stored_as_sent_directly(
    submission_service: ServiceToStart,
) -> None:
    by_mapping = (
        "cycle,name,year,value,unit\n"
        f"PMM-2025,revenue (thousandths),{T},12500000000,\n"
        f"PMM-2025,seized,{T},1382000,g\n"
    ).encode()
    directly = (
        "cycle,data_element,year,value\n"
        f"PMM-2025,REV_CUSTOMS,{T},12500000\nPMM-2025,DRUG_SEIZED_KG,{T},1382\n"
    ).encode()
    async with submission_service as s:
        cycle_id = await open_cycle(s)
        ncp = s.token(Role.NCP, "BRA")
        mappings = {
            "revenue (thousandths)": {"data_element": "REV_CUSTOMS", "factor": "0.001"},
            "seized": {"data_element": "DRUG_SEIZED_KG"},
        }
        for name, mapping in mappings.items():
            put = await s.client.put(
                f"/members/BRA/mappings/{name}", json=mapping, headers=ncp
            )
            assert put.status_code == 200, put.text
        first = await _send(s, by_mapping, CSV, ncp)
        values = await _values(s, cycle_id)
        resent = await _send(s, directly, CSV, ncp, dry_run=True)

    assert first.status_code == 200, first.text
    assert values == {("REV_CUSTOMS", T): "12500000", ("DRUG_SEIZED_KG", T): "1382"}
    assert resent.json()["counts"] == {
        "create": 0,
        "update": 0,
        "unchanged": 2,
        "remove": 0,
    }


async def test_a_figures_bounds_apply_once_it_is_scaled(
    submission_service: ServiceToStart,
) -> None:
    tiny = "0." + "0" * 20 + "1"  # 21 decimals: 18 in thousands
    csv_feed = (
        "cycle,data_element,year,value,scale\n"
        f"PMM-2025,STAFF_WOMEN,{T},{tiny},thousand\n"
        f"PMM-2025,STAFF_TOTAL,{T},{tiny},\n"
        f"PMM-2025,DECL_TOTAL,{T},{tiny}x,thousand\n"
    ).encode()
    json_feed = (
        '{"rows": [{"cycle": "PMM-2025", "data_element": "DECL_ELECTRONIC",'
        f' "year": {T}, "value": {tiny}, "scale": "thousand"}}]}}'
    ).encode()
    async with submission_service as s:
        cycle_id = await open_cycle(s)
        preparer = s.token(Role.PREPARER, "BRA")
        from_csv = await _send(s, csv_feed, CSV, preparer, partial=True)
        from_json = await _send(s, json_feed, "application/json", preparer)
        values = await _values(s, cycle_id)

    assert from_csv.status_code == 200, from_csv.text
    assert from_json.status_code == 200, from_json.text
    rejected = from_csv.json()["rejected"]
    assert [(r["row"], r["column"], r["rule"], r["message"]) for r in rejected] == [
        (
            3,
            "value",
            "value.too_many_decimals",
            "a figure has at most 20 digits after the decimal point",
        ),
        (4, "value", "value.number", rejected[1]["message"]),
    ]
    assert rejected[1]["message"].startswith(f"'{tiny}x' is not a number")
    assert values == {
        ("STAFF_WOMEN", T): "0.000000000000000001",
        ("DECL_ELECTRONIC", T): "0.000000000000000001",
    }


async def test_a_misspelt_or_repeated_option_refuses_the_feed_unapplied(
    submission_service: ServiceToStart,
) -> None:
    async with submission_service as s:
        cycle_id = await open_cycle(s)
        preparer = s.token(Role.PREPARER, "BRA")
        feed = f"cycle,data_element,year,value\nPMM-2025,DECL_TOTAL,{T},10\n".encode()
        misspelt = await _send(s, feed, CSV, preparer, dryRun=True)
        repeated = await s.client.post(
            "/feeds?dry_run=true&dry_run=false",
            content=feed,
            headers={**preparer, "content-type": CSV},
        )
        values = await _values(s, cycle_id)

    assert [(e["field"], e["code"]) for e in problem_of(misspelt)["errors"]] == [
        ("query.dryRun", "query.unknown")
    ]
    assert "dry_run" in problem_of(misspelt)["errors"][0]["message"]
    assert [(e["field"], e["code"]) for e in problem_of(repeated)["errors"]] == [
        ("query.dry_run", "query.repeated")
    ]
    assert values == {}


async def test_a_reason_is_bounded_in_a_feed_as_in_a_form(
    submission_service: ServiceToStart,
) -> None:
    async with submission_service as s:
        cycle_id = await open_cycle(s)
        preparer = s.token(Role.PREPARER, "BRA")
        feed = (
            "cycle,data_element,year,state,reason\n"
            f"PMM-2025,DECL_TOTAL,{T},not_available,{'x' * 2000}\n"
            f"PMM-2025,STAFF_TOTAL,{T},not_available,{'x' * 2001}\n"
        ).encode()
        response = await _send(s, feed, CSV, preparer, partial=True)
        values = await _values(s, cycle_id)

    assert [
        (r["row"], r["column"], r["rule"], r["message"])
        for r in response.json()["rejected"]
    ] == [(3, "reason", "text.too_long", "2001 characters; at most 2000 are kept")]
    assert list(values) == [("DECL_TOTAL", T)]


async def test_the_documented_csv_example_is_a_feed_the_service_reads(
    submission_service: ServiceToStart,
) -> None:
    async with submission_service as s:
        await open_cycle(s)
        document = (await s.client.get("/openapi.json")).json()
        body = document["paths"]["/feeds"]["post"]["requestBody"]["content"]
        example = body["text/csv"]["example"]
        response = await _send(
            s, example.encode(), CSV, s.token(Role.PREPARER, "BRA"), dry_run=True
        )

    assert response.json()["rejected"] == []
    assert response.json()["rows_accepted"] == 1


async def test_the_diff_shows_a_change_of_state_alone(
    submission_service: ServiceToStart,
) -> None:
    async with submission_service as s:
        await open_cycle(s)
        preparer = s.token(Role.PREPARER, "BRA")
        header = "cycle,data_element,year,value,state,reason\n"
        first = (
            f"{header}PMM-2025,DECL_TOTAL,{T},,not_available,system migrated\n"
            f"PMM-2025,STAFF_TOTAL,{T},5,,\n"
        ).encode()
        second = (
            f"{header}PMM-2025,DECL_TOTAL,{T},,not_applicable,no declarations\n"
        ).encode()
        await _send(s, first, CSV, preparer)
        trial = await _send(s, second, CSV, preparer, mode="replace", dry_run=True)

    assert [
        (
            d["action"],
            d["data_element"],
            d["old"],
            d["old_state"],
            d["new"],
            d["new_state"],
        )
        for d in trial.json()["diff"]
    ] == [
        ("update", "DECL_TOTAL", None, "not_available", None, "not_applicable"),
        ("remove", "STAFF_TOTAL", "5", "provided", None, None),
    ]


async def test_a_feed_answers_the_first_rejected_rows_and_counts_them_all(
    run_service: ServiceStarter, service_databases: dict[str, str], isolated_nats: str
) -> None:
    lines = ["cycle,data_element,year,value"] + [
        f"PMM-2025,NOPE_{n},{T},1" for n in range(5)
    ]
    async with clean_service(
        run_service,
        service_databases["submission"],
        isolated_nats,
        feed_rejected_limit=2,
    ) as s:
        await open_cycle(s)
        refused = await _send(
            s, "\n".join(lines).encode(), CSV, s.token(Role.PREPARER, "BRA")
        )

    problem = problem_of(refused)
    assert problem["rows_rejected"] == 5
    assert [r["row"] for r in problem["rejected"]] == [2, 3]
    assert problem["rejected_truncated"] is True


async def test_an_empty_idempotency_key_is_refused_rather_than_ignored(
    submission_service: ServiceToStart,
) -> None:
    async with submission_service as s:
        cycle_id = await open_cycle(s)
        feed = f"cycle,data_element,year,value\nPMM-2025,DECL_TOTAL,{T},10\n".encode()
        headers = {**s.token(Role.PREPARER, "BRA"), "Idempotency-Key": ""}
        refused = await _send(s, feed, CSV, headers)
        values = await _values(s, cycle_id)

    assert [(e["field"], e["code"]) for e in problem_of(refused)["errors"]] == [
        ("header.Idempotency-Key", "string_too_short")
    ]
    assert values == {}


async def test_a_cycle_is_named_by_its_code_in_any_case(
    submission_service: ServiceToStart,
) -> None:
    async with submission_service as s:
        cycle_id = await open_cycle(s)
        feed = (
            "cycle,data_element,year,value\n"
            f"pmm-2025,DECL_TOTAL,{T},10\n"
            f" Pmm-2025 ,STAFF_TOTAL,{T},5\n"
        ).encode()
        response = await _send(s, feed, CSV, s.token(Role.PREPARER, "BRA"))
        values = await _values(s, cycle_id)

    assert response.json()["rejected"] == []
    assert {d["cycle"] for d in response.json()["diff"]} == {"PMM-2025"}
    assert values == {("DECL_TOTAL", T): "10", ("STAFF_TOTAL", T): "5"}


async def test_after_a_submit_a_feed_of_the_stored_values_passes_as_unchanged(
    submission_service: ServiceToStart,
) -> None:
    async with submission_service as s:
        cycle_id = await open_cycle(s)
        url = f"/cycles/{cycle_id}/submissions/BRA"
        filled = await s.client.post(
            f"{url}/values",
            json={"values": complete_answers()},
            headers=s.token(Role.PREPARER, "BRA"),
        )
        submitted = await s.client.post(
            f"{url}/submit", headers=s.token(Role.NCP, "BRA")
        )
        preparer = s.token(Role.PREPARER, "BRA")
        before = await s.client.get(url, headers=preparer)
        header = "cycle,data_element,year,value\n"
        nightly = await _send(
            s, f"{header}PMM-2025,DECL_TOTAL,{T},100\n".encode(), CSV, preparer
        )
        changed = await _send(
            s,
            f"{header}PMM-2025,DECL_TOTAL,{T},100\nPMM-2025,STAFF_TOTAL,{T},7\n".encode(),
            CSV,
            preparer,
        )
        after = await s.client.get(url, headers=preparer)

    assert (filled.status_code, submitted.status_code) == (200, 200), submitted.text
    assert nightly.status_code == 200, nightly.text
    assert nightly.json()["counts"]["unchanged"] == 1
    assert nightly.json()["rejected"] == []
    assert changed.status_code == 422
    assert [(r["row"], r["rule"]) for r in problem_of(changed)["rejected"]] == [
        (3, "submission.locked")
    ]
    assert after.json()["state"] == "submitted"
    assert after.headers["etag"] == before.headers["etag"]
