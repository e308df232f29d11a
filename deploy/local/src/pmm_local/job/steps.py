"""The job's steps, each through the services' public APIs, each safe to run again.

A step that finds its work done says so and changes nothing: a second run on the
same data finds the open cycle, the figures already in (an accepted submission is
never fed again), the accepted submissions, the completed review and a published
report that no figure has moved since, and leaves each as it is. An interrupted run
goes on from where it stopped; its unfinished review is withdrawn and asked for
again.
"""

import hashlib
import json
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
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


@dataclass
class StepReport:
    """How a step ended: done by this run, or found done (by an earlier run, or by
    the services before the job had to wait) and left as it was."""

    title: str
    already_done: bool = False
    note: str = ""

    def found_done(self, note: str) -> None:
        self.already_done = True
        self.note = note


Step = Callable[[StepReport], AbstractContextManager[None]]

SECRETARIAT = Role.SECRETARIAT
EDITABLE = frozenset({"draft", "returned"})
WHY_NOT_USED = {
    "element.unmapped": "not in the framework",
    "year.not_calendar": "not a calendar year",
    "year.not_in_cycle": "outside the cycle's years",
}


@dataclass
class Import:
    """What became of an administration's published figures. `counts` is what this
    run's feed changed (or would, for a dry run it did not apply); None when it sent
    none, the figures being in a submission that is no longer a draft. `used`,
    `not_used` and the qualifiers are then the earlier import's (`earlier`), as the
    job recorded its answer, or unknown (None, empty) when no record is left."""

    rows: int
    used: int | None
    counts: dict[str, int] | None
    not_used: list[dict[str, Any]]
    used_with_qualifier: list[dict[str, Any]] = field(default_factory=list)
    earlier: bool = False


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
    cycle: dict[str, Any] = field(default_factory=dict)
    steps: list[StepReport] = field(default_factory=list)
    administrations: dict[str, AdministrationResult] = field(default_factory=dict)
    review: dict[str, Any] = field(default_factory=dict)
    benchmarks: list[dict[str, Any]] = field(default_factory=list)
    min_contributors: int = 0
    report: dict[str, Any] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)


def run_job(client: Client, plan: JobPlan, step: Step, output: Path) -> JobResult:
    framework = reference_framework()
    result = JobResult()
    steps = _recorded(step, result.steps)
    with steps(
        f"Open the cycle {plan.cycle.code} (T {plan.cycle.reporting_year})"
    ) as done:
        result.cycle = open_cycle(client, plan, done)
    for administration in plan.administrations:
        member = administration.member
        found = AdministrationResult(member)
        result.administrations[member] = found
        with steps(
            f"{member}: import its published figures (dry run, then applied)"
        ) as done:
            found.feed = import_figures(client, plan, administration, output, done)
        with steps(f"{member}: complete, set disclosure levels and submit") as done:
            complete_and_submit(client, plan, framework, administration, found, done)
    with steps("Wait for the scores of every submission") as done:
        waited = [
            wait_for_scores(client, result.cycle, found)
            for found in result.administrations.values()
        ]
        if not any(waited):
            done.found_done("every submission's scores were there")
    with steps(f"Peer review of {plan.peer_review.member}, with a correction") as done:
        result.review = peer_review(
            client,
            plan,
            result.cycle,
            result.administrations[plan.peer_review.member],
            done,
        )
    with steps("The Secretariat accepts every submission") as done:
        accepted = [
            accept(client, result.cycle, found)
            for found in result.administrations.values()
        ]
        if not any(accepted):
            done.found_done("every submission was accepted")
    with steps("Wait for the reporting service to hold the accepted results") as done:
        waited = [
            wait_for_report_model(client, result.cycle, found, plan)
            for found in result.administrations.values()
        ]
        if not any(waited):
            done.found_done("it held every accepted result")
    with steps("Publish the cycle report") as done:
        result.report = publish(client, result.cycle, done)
    with steps(
        "Collect scorecards, benchmarks, the report's PDF, page and charts"
    ) as done:
        collect(client, plan, framework, result, output, done)
    return result


def _recorded(
    step: Step, reports: list[StepReport]
) -> Callable[[str], AbstractContextManager[StepReport]]:
    """Each step shown as it runs, and its report kept once it has ended."""

    @contextmanager
    def recorded(title: str) -> Iterator[StepReport]:
        report = StepReport(title)
        with step(report):
            yield report
        reports.append(report)

    return recorded


# The cycle


def open_cycle(client: Client, plan: JobPlan, done: StepReport) -> dict[str, Any]:
    secretariat = client.stack.token(SECRETARIAT)
    cycles = client.json("submission", "GET", "/cycles")
    cycle = next((c for c in cycles if c["code"] == plan.cycle.code), None)
    if cycle is not None and cycle["state"] == "open":
        done.found_done(f"the cycle {plan.cycle.code} is open")
        return dict(cycle)

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
    client: Client,
    plan: JobPlan,
    administration: Administration,
    output: Path,
    done: StepReport,
) -> Import:
    member = administration.member
    ncp = client.stack.token(Role.NCP, member)
    feed = feed_csv(administration, plan.cycle.code)
    record = _FeedRecord(output / "feeds" / f"{member}.json", feed)
    submission = _submission(client, plan.cycle.code, member)
    state = None if submission is None else str(submission.json()["state"])
    if state not in {None, "draft"}:
        # Its figures were imported before it was first submitted. A submitted or
        # accepted one would refuse them; a returned one would take back the
        # published figure its review corrected.
        done.found_done(f"its submission is {state}: no feed sent")
        return _earlier_import(administration, plan, record.read())

    _put_mappings(client, administration, ncp)
    report = _send_feed(client, feed, ncp, dry_run=True, key=None)
    counts = report["counts"]
    if report["rows_accepted"] and not (
        counts["create"] or counts["update"] or counts["remove"]
    ):
        done.found_done(f"its figures are in its {state} submission already")
    elif report["rows_accepted"]:
        # The key makes a retried request one import; the submission's version in
        # it makes a later run's import another one.
        version = 0 if submission is None else submission.json()["version"]
        key = idempotency_key(administration, plan.cycle.code, version)
        report = _send_feed(client, feed, ncp, dry_run=False, key=key)
    record.write(report)
    return _import(administration, plan, report, counts=report["counts"])


def _put_mappings(
    client: Client, administration: Administration, ncp: dict[str, str]
) -> None:
    """Store the feed mappings the member does not hold as planned (a PUT stamps
    the mapping again even when nothing in it changes)."""
    member = administration.member
    held = {
        mapping["name"]: mapping
        for mapping in client.json(
            "submission", "GET", f"/members/{member}/mappings", headers=ncp
        )
    }
    for name, mapping in administration.mappings.items():
        known = held.get(name)
        if known is not None and _same_mapping(known, mapping.model_dump()):
            continue
        client.call(
            "submission",
            "PUT",
            f"/members/{member}/mappings/{name}",
            json=mapping.model_dump(exclude_none=True),
            headers=ncp,
        )


def _same_mapping(held: dict[str, Any], planned: dict[str, Any]) -> bool:
    return (
        held["data_element"] == planned["data_element"]
        and held["unit"] == planned["unit"]
        and Decimal(held["factor"]) == 1
    )


@dataclass(frozen=True)
class _FeedRecord:
    """The answer the submission service gave the job's feed, kept beside the
    report's files: once the submission is submitted the job sends the feed no
    more, and shows what the import then used and refused from here."""

    path: Path
    feed: bytes

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.feed).hexdigest()

    def write(self, report: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        kept = {"feed_sha256": self.digest, "answer": report}
        self.path.write_text(json.dumps(kept, indent=2), encoding="utf-8")

    def read(self) -> dict[str, Any] | None:
        """The answer to this very feed, or None (none kept, or another feed's)."""
        try:
            kept = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(kept, dict) or kept.get("feed_sha256") != self.digest:
            return None
        answer = kept.get("answer")
        return answer if isinstance(answer, dict) else None


def _import(
    administration: Administration,
    plan: JobPlan,
    report: dict[str, Any],
    *,
    counts: dict[str, int] | None,
) -> Import:
    rejected = {refusal["row"] for refusal in report["rejected"]}
    return Import(
        rows=report["rows_total"],
        used=report["rows_accepted"],
        counts=counts,
        not_used=_not_used(administration, report["rejected"]),
        used_with_qualifier=_used_with_qualifier(administration, plan, rejected),
        earlier=counts is None,
    )


def _earlier_import(
    administration: Administration, plan: JobPlan, answer: dict[str, Any] | None
) -> Import:
    if answer is not None:
        return _import(administration, plan, answer, counts=None)
    return Import(
        rows=len(administration.published()),
        used=None,
        counts=None,
        not_used=[],
        earlier=True,
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
    done: StepReport,
) -> None:
    member = administration.member
    cycle_id = _cycle_id(client, plan.cycle.code)
    base = f"/cycles/{cycle_id}/submissions/{member}"
    ncp = client.stack.token(Role.NCP, member)
    current = _submission(client, plan.cycle.code, member)
    found.disclosure = dict(administration.disclosure)
    if current is not None and current.json()["state"] not in EDITABLE:
        _record_submission(found, current.json())
        done.found_done(
            f"its submission is {found.submission['state']} "
            f"(revision {found.submission['revision']})"
        )
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
    """Its id, state, revision and version: the version moves with every write."""
    return {
        "id": body["id"],
        "state": body["state"],
        "revision": body["revision"],
        "version": body["version"],
    }


def wait_for_scores(
    client: Client, cycle: dict[str, Any], found: AdministrationResult
) -> bool:
    """Wait for the scores of the submission's revision; False when they were
    there already."""
    ncp = client.stack.token(Role.NCP, found.member)
    path = f"/members/{found.member}/cycles/{cycle['id']}/scorecard"
    revision = found.submission["revision"]

    def scored() -> dict[str, Any] | None:
        response = client.call("scoring", "GET", path, headers=ncp, expect=(200, 404))
        if response.status_code == 404:
            return None
        body: dict[str, Any] = response.json()
        return body if body["calculation"]["revision"] >= revision else None

    if scored() is not None:
        return False

    client.eventually(
        scored,
        service="scoring-worker",
        waiting_for=f"the scores of {found.member} revision {revision}",
    )
    return True


# The peer review


def peer_review(
    client: Client,
    plan: JobPlan,
    cycle: dict[str, Any],
    found: AdministrationResult,
    done: StepReport,
) -> dict[str, Any]:
    review_plan = plan.peer_review
    earlier = _existing_review(client, found)
    if earlier is not None and earlier["state"].startswith("completed"):
        done.found_done(f"its review is {earlier['state']}")
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


def accept(client: Client, cycle: dict[str, Any], found: AdministrationResult) -> bool:
    """Accept the submission; False when it was accepted already."""
    secretariat = client.stack.token(SECRETARIAT)
    path = f"/cycles/{cycle['id']}/submissions/{found.member}"
    current = client.call("submission", "GET", path, headers=secretariat)
    state = current.json()["state"]
    if state == "accepted":
        _record_submission(found, current.json())
        return False
    if state != "submitted":
        raise StepError(
            "submission",
            f"the submission of {found.member} is {state}: only a submitted one "
            "can be accepted",
            hint="run the job again: it completes and submits what is not",
        )

    client.call(
        "submission",
        "POST",
        f"{path}/accept",
        json={"reason": "accepted by the Secretariat (main job)"},
        headers={**secretariat, **client.if_match(current)},
    )
    # What the job reports is the submission as accepted, after the review's
    # correction too.
    _record_submission(
        found, client.json("submission", "GET", path, headers=secretariat)
    )
    return True


def wait_for_report_model(
    client: Client, cycle: dict[str, Any], found: AdministrationResult, plan: JobPlan
) -> bool:
    """Wait for the reporting service to hold the accepted result; False when it
    held it already."""
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

    if held() is not None:
        return False

    client.eventually(
        held, service="reporting", waiting_for=f"the accepted result of {found.member}"
    )
    return True


def publish(client: Client, cycle: dict[str, Any], done: StepReport) -> dict[str, Any]:
    """Publish the cycle report, unless the latest one holds every figure as it is
    now: another would be the same report under a new id."""
    latest = _latest_report(client, cycle)
    if latest is not None:
        changes = client.json(
            "reporting", "GET", f"/reports/{latest['report_id']}/changes"
        )
        if not changes["changed"]:
            done.found_done(
                f"report {latest['report_id']} of {latest['published_at']} holds "
                "every figure as it is"
            )
            return latest

    report: dict[str, Any] = client.json(
        "reporting",
        "POST",
        f"/cycles/{cycle['id']}/reports",
        headers=client.stack.token(SECRETARIAT),
    )
    return report


def _latest_report(client: Client, cycle: dict[str, Any]) -> dict[str, Any] | None:
    # As the Secretariat that published it reads it, publisher included.
    reports = client.json(
        "reporting",
        "GET",
        f"/cycles/{cycle['id']}/reports",
        headers=client.stack.token(SECRETARIAT),
    )
    return dict(reports[0]) if reports else None


# What the job shows


def collect(
    client: Client,
    plan: JobPlan,
    framework: Framework,
    result: JobResult,
    output: Path,
    done: StepReport,
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
    report_id = result.report["report_id"]
    page = f"{client.stack.urls['reporting']}/reports/{report_id}/page"
    saved = _SavedDocuments(output / "documents.json")
    files = saved.read(report_id)
    if files is not None:
        done.found_done(f"the report's files are in {output}")
    else:
        files = _save_documents(client, result, output)
        saved.write(report_id, files)
    result.files = {**files, "report_url": page}


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
    return files


@dataclass(frozen=True)
class _SavedDocuments:
    """Which report the files in the output folder were saved for: the same report
    (published once, no figure moved since) has the same files."""

    path: Path

    def write(self, report_id: str, files: dict[str, str]) -> None:
        saved = {"report_id": report_id, "files": files}
        self.path.write_text(json.dumps(saved, indent=2), encoding="utf-8")

    def read(self, report_id: str) -> dict[str, str] | None:
        """The files saved for this report, if every one is still there."""
        try:
            saved = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(saved, dict) or saved.get("report_id") != report_id:
            return None
        files = saved.get("files")
        if not isinstance(files, dict) or not files:
            return None
        if not all(Path(str(path)).is_file() for path in files.values()):
            return None
        return {str(name): str(path) for name, path in files.items()}


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
