"""The job's steps, each through the services' public APIs, each safe to run again.

A second run on the same data finds what the first one did (the cycle, the feeds by
their idempotency keys, submitted and accepted submissions, the completed review)
and goes on from there; an unfinished review of an interrupted run is withdrawn and
asked for again.
"""

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx

from pmm_kit.auth import Role
from pmm_local.job.client import Client, StepError
from pmm_local.job.plan import (
    Administration,
    JobPlan,
    PeerReviewPlan,
    feed_csv,
    idempotency_key,
    qualifiers_in,
    required_inputs,
)
from pmm_methodology import Framework, reference_framework

Step = Callable[[str], AbstractContextManager[None]]

SECRETARIAT = Role.SECRETARIAT
EDITABLE = frozenset({"draft", "returned"})
WHY_NOT_USED = {
    "element.unmapped": "not in the framework",
    "year.not_calendar": "not a calendar year",
    "year.not_in_cycle": "outside the cycle's years",
}


@dataclass
class Import:
    rows: int
    used: int
    counts: dict[str, int]
    not_used: list[dict[str, Any]]
    used_with_qualifier: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class AdministrationResult:
    member: str
    feed: Import | None = None
    declared_not_available: int = 0
    disclosure: dict[str, str] = field(default_factory=dict)
    submission: dict[str, Any] = field(default_factory=dict)
    scorecard: dict[str, Any] = field(default_factory=dict)


@dataclass
class JobResult:
    cycle: dict[str, Any]
    administrations: dict[str, AdministrationResult] = field(default_factory=dict)
    review: dict[str, Any] = field(default_factory=dict)
    benchmarks: list[dict[str, Any]] = field(default_factory=list)
    min_contributors: int = 0
    report: dict[str, Any] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)


def run_job(client: Client, plan: JobPlan, step: Step, output: Path) -> JobResult:
    framework = reference_framework()
    with step(f"Open the cycle {plan.cycle.code} (T {plan.cycle.reporting_year})"):
        result = JobResult(cycle=open_cycle(client, plan))
    for administration in plan.administrations:
        member = administration.member
        found = AdministrationResult(member)
        result.administrations[member] = found
        with step(f"{member}: import its published figures (dry run, then applied)"):
            found.feed = import_figures(client, plan, administration)
        with step(f"{member}: complete, set disclosure levels and submit"):
            complete_and_submit(client, plan, framework, administration, found)
    with step("Wait for the scores of every submission"):
        for found in result.administrations.values():
            wait_for_scores(client, result.cycle, found)
    with step(f"Peer review of {plan.peer_review.member}, with a correction"):
        result.review = peer_review(
            client, plan, result.cycle, result.administrations[plan.peer_review.member]
        )
    with step("The Secretariat accepts every submission"):
        for found in result.administrations.values():
            accept(client, result.cycle, found)
    with step("Wait for the reporting service to hold the accepted results"):
        for found in result.administrations.values():
            wait_for_report_model(client, result.cycle, found, plan)
    with step("Publish the cycle report"):
        result.report = publish(client, result.cycle)
    with step("Collect scorecards, benchmarks, the report's PDF, page and charts"):
        collect(client, plan, framework, result, output)
    return result


# The cycle


def open_cycle(client: Client, plan: JobPlan) -> dict[str, Any]:
    secretariat = client.stack.token(SECRETARIAT)
    cycles = client.json("submission", "GET", "/cycles")
    cycle = next((c for c in cycles if c["code"] == plan.cycle.code), None)
    if cycle is None:
        cycle = client.json(
            "submission",
            "POST",
            "/cycles",
            json=plan.cycle.model_dump(mode="json"),
            headers=secretariat,
        )
    if cycle["state"] == "draft":
        current = client.call("submission", "GET", f"/cycles/{cycle['id']}")
        cycle = client.json(
            "submission",
            "POST",
            f"/cycles/{cycle['id']}/open",
            json={"reason": "the main job opens the cycle"},
            headers={**secretariat, **client.if_match(current)},
        )
    if cycle["state"] != "open":
        raise StepError(
            "submission",
            f"the cycle {plan.cycle.code} is {cycle['state']}: the job needs it open",
            hint="run the job on a fresh data folder (PMM_HOME)",
        )
    return dict(cycle)


# Each administration's figures


def import_figures(
    client: Client, plan: JobPlan, administration: Administration
) -> Import:
    member = administration.member
    ncp = client.stack.token(Role.NCP, member)
    for name, mapping in administration.mappings.items():
        client.call(
            "submission",
            "PUT",
            f"/members/{member}/mappings/{name}",
            json=mapping.model_dump(exclude_none=True),
            headers=ncp,
        )
    feed = feed_csv(administration, plan.cycle.code)
    key = idempotency_key(administration, plan.cycle.code)
    if _submission_state(client, plan.cycle.code, member) in EDITABLE | {None}:
        _send_feed(client, feed, ncp, dry_run=True, key=None)
    # The same key and body answer what the first import did, without a second
    # import: a later run shows the same report.
    report = _send_feed(client, feed, ncp, dry_run=False, key=key)
    rejected = {refusal["row"] for refusal in report["rejected"]}
    return Import(
        rows=report["rows_total"],
        used=report["rows_accepted"],
        counts=report["counts"],
        not_used=_not_used(administration, report["rejected"]),
        used_with_qualifier=_used_with_qualifier(administration, plan, rejected),
    )


def _send_feed(
    client: Client,
    feed: bytes,
    headers: dict[str, str],
    *,
    dry_run: bool,
    key: str | None,
) -> dict[str, Any]:
    extra = {"Idempotency-Key": key} if key else {}
    report: dict[str, Any] = client.json(
        "submission",
        "POST",
        "/feeds",
        content=feed,
        params={"dry_run": str(dry_run).lower(), "partial": "true"},
        headers={**headers, **extra, "content-type": "text/csv"},
    )
    return report


def _not_used(
    administration: Administration, rejected: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    published = administration.published()
    return [
        {
            **_figure(refusal["row"], published[refusal["row"] - 2]),
            "why": _why_not_used(refusal["rule"]),
            "rule": refusal["rule"],
            "message": refusal["message"],
        }
        for refusal in rejected
    ]


def _used_with_qualifier(
    administration: Administration, plan: JobPlan, rejected: set[int]
) -> list[dict[str, Any]]:
    """The figures the feed used whose note qualifies them: the feed has nowhere
    to carry the note, so the job says it."""
    rows = []
    for row, figure in enumerate(administration.published(), start=2):
        found = qualifiers_in(figure["note"], plan.qualifiers)
        if row not in rejected and found:
            rows.append({**_figure(row, figure), "qualifiers": found})
    return rows


def _figure(row: int, figure: dict[str, str]) -> dict[str, Any]:
    return {
        "row": row,
        "name": figure["data_element"],
        "year": figure["year"],
        "value": figure["value"],
        "unit": figure["unit"],
        "note": figure["note"],
    }


def _why_not_used(rule: str) -> str:
    if rule.startswith("unit."):
        return "unit not convertible"
    return WHY_NOT_USED.get(rule, rule)


def _submission_state(client: Client, cycle_code: str, member: str) -> str | None:
    found = _submission(client, cycle_code, member)
    return None if found is None else str(found.json()["state"])


def _submission(client: Client, cycle_code: str, member: str) -> httpx.Response | None:
    cycle_id = _cycle_id(client, cycle_code)
    response = client.call(
        "submission",
        "GET",
        f"/cycles/{cycle_id}/submissions/{member}",
        headers=client.stack.token(Role.NCP, member),
        expect=(200, 404),
    )
    return None if response.status_code == 404 else response


def _cycle_id(client: Client, cycle_code: str) -> str:
    cycles = client.json("submission", "GET", "/cycles")
    return str(next(c["id"] for c in cycles if c["code"] == cycle_code))


def complete_and_submit(
    client: Client,
    plan: JobPlan,
    framework: Framework,
    administration: Administration,
    found: AdministrationResult,
) -> None:
    member = administration.member
    cycle_id = _cycle_id(client, plan.cycle.code)
    base = f"/cycles/{cycle_id}/submissions/{member}"
    ncp = client.stack.token(Role.NCP, member)
    current = _submission(client, plan.cycle.code, member)
    found.disclosure = dict(administration.disclosure)
    if current is not None and current.json()["state"] not in EDITABLE:
        _record_submission(found, current.json())
        return

    # A feed of which nothing could be used leaves no submission: the first write
    # below creates it.
    given = (
        {(v["data_element"], v["year"]) for v in current.json()["values"]}
        if current is not None
        else set()
    )
    missing = [
        key
        for key in required_inputs(framework, plan.cycle.reporting_year)
        if key not in given
    ]
    if missing:
        current = client.call(
            "submission",
            "POST",
            f"{base}/values",
            json={
                "values": [
                    {
                        "data_element": element,
                        "year": year,
                        "state": "not_available",
                        "reason": plan.not_available_reason,
                    }
                    for element, year in missing
                ]
            },
            headers={
                **ncp,
                **(client.if_match(current) if current is not None else {}),
            },
        )
    if current is None:
        raise StepError("submission", f"{member} has no value at all to submit")
    current = client.call(
        "submission",
        "PUT",
        f"{base}/disclosure",
        json={"levels": administration.disclosure},
        headers={**ncp, **client.if_match(current)},
    )
    client.call(
        "submission",
        "POST",
        f"{base}/submit",
        json={"reason": "submitted by the main job"},
        headers={**ncp, **client.if_match(current)},
    )
    _record_submission(found, client.json("submission", "GET", base, headers=ncp))


def _record_submission(found: AdministrationResult, body: dict[str, Any]) -> None:
    found.submission = _submission_facts(body)
    found.declared_not_available = sum(
        1 for value in body["values"] if value["state"] == "not_available"
    )


def _submission_facts(body: dict[str, Any]) -> dict[str, Any]:
    return {"id": body["id"], "state": body["state"], "revision": body["revision"]}


def wait_for_scores(
    client: Client, cycle: dict[str, Any], found: AdministrationResult
) -> dict[str, Any]:
    ncp = client.stack.token(Role.NCP, found.member)
    path = f"/members/{found.member}/cycles/{cycle['id']}/scorecard"
    revision = found.submission["revision"]

    def scored() -> dict[str, Any] | None:
        response = client.call("scoring", "GET", path, headers=ncp, expect=(200, 404))
        if response.status_code == 404:
            return None
        body: dict[str, Any] = response.json()
        return body if body["calculation"]["revision"] >= revision else None

    return client.eventually(
        scored,
        service="scoring-worker",
        waiting_for=f"the scores of {found.member} revision {revision}",
    )


# The peer review


def peer_review(
    client: Client,
    plan: JobPlan,
    cycle: dict[str, Any],
    found: AdministrationResult,
) -> dict[str, Any]:
    review_plan = plan.peer_review
    earlier = _existing_review(client, found)
    if earlier is not None and earlier["state"].startswith("completed"):
        return _review_summary(client, cycle, earlier["id"], found.member)
    if earlier is not None:
        _withdraw(client, earlier, found.member)
    reviewer = _reviewer(client, review_plan)
    requested = _request_review(client, review_plan, found)
    review = _assign(client, requested, reviewer)
    query = _open_query(client, review_plan, review)
    answered = client.call(
        "review",
        "POST",
        f"/queries/{query.json()['id']}/messages",
        json={"body": review_plan.answer},
        headers={
            **client.stack.token(Role.NCP, found.member),
            **client.if_match(query),
        },
    )
    _correct(client, plan, cycle, review_plan, review, found)
    _conclude(client, review_plan, review, answered)
    return _review_summary(client, cycle, review.json()["id"], found.member)


def _existing_review(
    client: Client, found: AdministrationResult
) -> dict[str, Any] | None:
    reviews = client.json(
        "review", "GET", "/reviews", headers=client.stack.token(SECRETARIAT)
    )
    mine = [
        r
        for r in reviews
        if r["submission_id"] == found.submission["id"] and r["state"] != "withdrawn"
    ]
    return mine[-1] if mine else None


def _withdraw(client: Client, review: dict[str, Any], member: str) -> None:
    current = client.call(
        "review",
        "GET",
        f"/reviews/{review['id']}",
        headers=client.stack.token(SECRETARIAT),
    )
    client.call(
        "review",
        "POST",
        f"/reviews/{review['id']}/withdrawal",
        json={"reason": "an earlier run of the main job was interrupted"},
        headers={**client.stack.token(Role.NCP, member), **client.if_match(current)},
    )


def _reviewer(client: Client, plan: PeerReviewPlan) -> dict[str, Any]:
    secretariat = client.stack.token(SECRETARIAT)
    reviewers = client.json("review", "GET", "/reviewers", headers=secretariat)
    known = next((r for r in reviewers if r["subject"] == plan.reviewer.subject), None)
    if known is not None:
        return dict(known)
    created: dict[str, Any] = client.json(
        "review",
        "POST",
        "/reviewers",
        json=plan.reviewer.model_dump(),
        headers=secretariat,
    )
    return created


def _request_review(
    client: Client, plan: PeerReviewPlan, found: AdministrationResult
) -> httpx.Response:
    ncp = client.stack.token(Role.NCP, found.member)
    body = {
        "submission_id": found.submission["id"],
        "languages": plan.languages,
        "focus_dimensions": plan.focus_dimensions,
        "reason": "the main job asks for a peer review",
    }

    def requested() -> httpx.Response | None:
        # The review service learns of the submission from its event.
        response = client.call(
            "review", "POST", "/reviews", json=body, headers=ncp, expect=(201, 404)
        )
        return None if response.status_code == 404 else response

    return client.eventually(
        requested, service="review", waiting_for="the submission's event"
    )


def _assign(
    client: Client, review: httpx.Response, reviewer: dict[str, Any]
) -> httpx.Response:
    return client.call(
        "review",
        "PUT",
        f"/reviews/{review.json()['id']}/reviewers",
        json={"reviewer_ids": [reviewer["id"]], "reason": "expertise in TF and RC"},
        headers={**client.stack.token(SECRETARIAT), **client.if_match(review)},
    )


def _as_reviewer(client: Client, plan: PeerReviewPlan) -> dict[str, str]:
    return client.stack.token(Role.REVIEWER, subject=plan.reviewer.subject)


def _open_query(
    client: Client, plan: PeerReviewPlan, review: httpx.Response
) -> httpx.Response:
    return client.call(
        "review",
        "POST",
        f"/reviews/{review.json()['id']}/queries",
        json={
            **plan.query.model_dump(),
            "due_date": plan_due_date(),
        },
        headers={**_as_reviewer(client, plan), **client.if_match(review)},
    )


def plan_due_date() -> str:
    return (date.today() + timedelta(days=14)).isoformat()


def _correct(
    client: Client,
    plan: JobPlan,
    cycle: dict[str, Any],
    review_plan: PeerReviewPlan,
    review: httpx.Response,
    found: AdministrationResult,
) -> None:
    review_id = review.json()["id"]
    reviewer = _as_reviewer(client, review_plan)
    current = client.call("review", "GET", f"/reviews/{review_id}", headers=reviewer)
    client.call(
        "review",
        "POST",
        f"/reviews/{review_id}/corrections",
        json=review_plan.correction.model_dump(include={"kpis", "reason"}),
        headers={**reviewer, **client.if_match(current)},
    )
    member = found.member

    def returned() -> httpx.Response | None:
        response = _submission(client, plan.cycle.code, member)
        return response if response and response.json()["state"] == "returned" else None

    submission = client.eventually(
        returned, service="submission", waiting_for="the correction's event"
    )
    value = review_plan.correction.value
    ncp = client.stack.token(Role.NCP, member)
    base = f"/cycles/{cycle['id']}/submissions/{member}"
    corrected = client.call(
        "submission",
        "PUT",
        f"{base}/values/{value.data_element}/{value.year}",
        json={"state": value.state, "reason": value.reason},
        headers={**ncp, **client.if_match(submission)},
    )
    client.call(
        "submission",
        "POST",
        f"{base}/submit",
        json={"reason": "corrected after the peer review's query"},
        headers={**ncp, **client.if_match(corrected)},
    )
    found.submission = _submission_facts(
        client.json("submission", "GET", base, headers=ncp)
    )

    def moved() -> dict[str, Any] | None:
        body: dict[str, Any] = client.json(
            "review", "GET", f"/reviews/{review_id}", headers=ncp
        )
        return body if body["revision"] == found.submission["revision"] else None

    client.eventually(moved, service="review", waiting_for="the new revision's event")
    wait_for_scores(client, cycle, found)


def _conclude(
    client: Client,
    plan: PeerReviewPlan,
    review: httpx.Response,
    answered: httpx.Response,
) -> None:
    review_id = review.json()["id"]
    reviewer = _as_reviewer(client, plan)
    client.call(
        "review",
        "POST",
        f"/queries/{answered.json()['id']}/closure",
        json={"outcome": "resolved", "reason": plan.resolution},
        headers={**reviewer, **client.if_match(answered)},
    )
    current = client.call("review", "GET", f"/reviews/{review_id}", headers=reviewer)
    for kpi, verdict in plan.verdicts.items():
        current = client.call(
            "review",
            "PUT",
            f"/reviews/{review_id}/verdicts/{kpi}",
            json=verdict.model_dump(exclude_none=True),
            headers={**reviewer, **client.if_match(current)},
        )
    client.call(
        "review",
        "POST",
        f"/reviews/{review_id}/completion",
        json={"reason": "every query is settled"},
        headers={**reviewer, **client.if_match(current)},
    )


def _review_summary(
    client: Client, cycle: dict[str, Any], review_id: str, member: str
) -> dict[str, Any]:
    report: dict[str, Any] = client.json(
        "review",
        "GET",
        f"/reviews/{review_id}/report",
        headers=client.stack.token(Role.NCP, member),
    )
    review = report["review"]
    moves = review.get("revision_moves") or []
    return {
        "id": review_id,
        "member": member,
        "state": review["state"],
        "revision": review["revision"],
        "queries": [
            {
                "subject": q["subject"],
                "data_element": q.get("data_element"),
                "year": q.get("year"),
                "state": q["state"],
                "messages": [m["body"] for m in q["messages"]],
            }
            for q in report["queries"]
        ],
        "changes": [c for move in moves for c in move["changes"]],
        "kpi_changes": [
            _kpi_change(client, cycle["id"], member, move, kpi)
            for move in moves
            for kpi in sorted({k for change in move["changes"] for k in change["kpis"]})
        ],
        "verdicts": review.get("verdicts", []),
        "report_url": f"{client.stack.urls['review']}/reviews/{review_id}/report.pdf",
    }


def _kpi_change(
    client: Client, cycle_id: str, member: str, move: dict[str, Any], kpi: str
) -> dict[str, Any]:
    """What a correction did to a KPI: its result in the revision reviewed and in
    the corrected one, as the scoring service computed them."""
    before = _kpi_result(client, cycle_id, member, move["from_revision"], kpi)
    after = _kpi_result(client, cycle_id, member, move["to_revision"], kpi)
    return {"kpi": kpi, "before": before, "after": after}


def _kpi_result(
    client: Client, cycle_id: str, member: str, revision: int, kpi: str
) -> dict[str, Any]:
    scorecard = client.json(
        "scoring",
        "GET",
        f"/members/{member}/cycles/{cycle_id}/scorecard",
        params={"revision": revision},
        headers=client.stack.token(Role.NCP, member),
    )
    result = next(k for k in scorecard["assessment"]["kpis"] if k["code"] == kpi)
    why = result.get("not_computable") or {}
    return {
        "revision": revision,
        "status": result["status"],
        "value": result["value"],
        "exact_value": result["exact_value"],
        "level": result["level"],
        "inputs": result["inputs"],
        "not_computable": why.get("detail"),
    }


# Acceptance and publication


def accept(client: Client, cycle: dict[str, Any], found: AdministrationResult) -> None:
    secretariat = client.stack.token(SECRETARIAT)
    path = f"/cycles/{cycle['id']}/submissions/{found.member}"
    current = client.call("submission", "GET", path, headers=secretariat)
    if current.json()["state"] == "submitted":
        current = client.call(
            "submission",
            "POST",
            f"{path}/accept",
            json={"reason": "accepted by the Secretariat (main job)"},
            headers={**secretariat, **client.if_match(current)},
        )
    found.submission = _submission_facts(current.json())


def wait_for_report_model(
    client: Client, cycle: dict[str, Any], found: AdministrationResult, plan: JobPlan
) -> None:
    path = f"/cycles/{cycle['id']}/members/{found.member}/scorecard"
    secretariat = client.stack.token(SECRETARIAT)
    reviewed = found.member == plan.peer_review.member

    def held() -> dict[str, Any] | None:
        response = client.call(
            "reporting", "GET", path, headers=secretariat, expect=(200, 404)
        )
        if response.status_code == 404:
            return None
        body: dict[str, Any] = response.json()
        ready = (
            body["revision"] == found.submission["revision"]
            and body["submission_status"] == "accepted"
            and (body["peer_reviewed"] or not reviewed)
        )
        return body if ready else None

    client.eventually(
        held, service="reporting", waiting_for=f"the accepted result of {found.member}"
    )


def publish(client: Client, cycle: dict[str, Any]) -> dict[str, Any]:
    report: dict[str, Any] = client.json(
        "reporting",
        "POST",
        f"/cycles/{cycle['id']}/reports",
        headers=client.stack.token(SECRETARIAT),
    )
    return report


# What the job shows


def collect(
    client: Client,
    plan: JobPlan,
    framework: Framework,
    result: JobResult,
    output: Path,
) -> None:
    cycle_id = result.cycle["id"]
    for found in result.administrations.values():
        found.scorecard = client.json(
            "reporting",
            "GET",
            f"/cycles/{cycle_id}/members/{found.member}/scorecard",
            headers=client.stack.token(Role.NCP, found.member),
        )
    result.benchmarks, result.min_contributors = _benchmarks(client, cycle_id)
    result.files = _save_documents(client, result, output)


def _benchmarks(client: Client, cycle_id: str) -> tuple[list[dict[str, Any]], int]:
    """The cells exactly as a reader without a token is served them (a cell
    exists where some administration contributed; a suppressed one says why and
    carries no figure, not even its count)."""
    public = client.json("reporting", "GET", f"/cycles/{cycle_id}/benchmarks")
    return list(public["cells"]), int(public["min_contributors"])


def _save_documents(client: Client, result: JobResult, output: Path) -> dict[str, str]:
    output.mkdir(parents=True, exist_ok=True)
    report_id = result.report["report_id"]
    cycle_id = result.cycle["id"]
    documents = {
        "report.pdf": f"/reports/{report_id}/report.pdf",
        "report.html": f"/reports/{report_id}/page",
    }
    for kpi in _charted_kpis(result):
        for suffix in ("svg", "png"):
            documents[f"{kpi}-by-region.{suffix}"] = (
                f"/cycles/{cycle_id}/kpis/{kpi}/distribution.{suffix}"
            )
        for member in _public_contributors(result, kpi):
            documents[f"{kpi}-{member}-against-peers.svg"] = (
                f"/cycles/{cycle_id}/members/{member}/kpis/{kpi}/peers.svg"
            )
    files = {}
    for name, path in documents.items():
        content = client.call("reporting", "GET", path).content
        (output / name).write_bytes(content)
        files[name] = str(output / name)
    files["report_url"] = f"{client.stack.urls['reporting']}/reports/{report_id}/page"
    return files


def _public_contributors(result: JobResult, kpi: str) -> Iterator[str]:
    for found in result.administrations.values():
        line = next(k for k in found.scorecard["kpis"] if k["code"] == kpi)
        if line["disclosure"] == "public" and line["value"] is not None:
            yield found.member


def _charted_kpis(result: JobResult) -> Iterator[str]:
    """The KPIs whose `all` cell the public may see: the ones worth a chart."""
    for cell in result.benchmarks:
        if cell["grouping"] == "all" and not cell["suppressed"]:
            yield cell["kpi"]
