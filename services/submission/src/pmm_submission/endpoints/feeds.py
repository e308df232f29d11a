"""Feeds (the import contract): JSON, CSV or XLSX; dry run, merge or replace,
all-or-nothing or partial, idempotent by key, large files as jobs."""

import asyncio
import hashlib
import uuid
from typing import Annotated, Any, Literal

import sqlalchemy as sa
import structlog
from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import JSONResponse
from sqlalchemy.dialects.postgresql import insert

from pmm_kit.app import UnitOfWorkDep, runtime_of
from pmm_kit.auth import Principal
from pmm_kit.errors import PROBLEM_MEDIA_TYPE, problem
from pmm_submission import examples
from pmm_submission.deps import FeedCaller, now, problems
from pmm_submission.errors import (
    FeedFailedError,
    FeedRejectedError,
    IdempotencyConflictError,
    InvalidInputError,
    StateError,
    UnknownError,
)
from pmm_submission.models import FeedRun
from pmm_submission.parsing import RawRow, parse_feed
from pmm_submission.schemas import FeedJob, FeedReport
from pmm_submission.service.feeds import FeedOptions, run_feed
from pmm_submission.settings import SubmissionSettings

log = structlog.get_logger(__name__)

router = APIRouter(prefix="/feeds", tags=["feeds"])

_FEED_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "text/csv": {
                "schema": {"type": "string"},
                # As sent with the default options: a point before decimals.
                "example": "member;cycle;data_element;year;value\n"
                "BRA;PMM-2025;DECL_TOTAL;2024;1200.5\n",
            },
            "application/json": {
                "schema": {"type": "object"},
                "example": {
                    "rows": [
                        {
                            "cycle": "PMM-2025",
                            "name": "Customs revenue",
                            "year": 2024,
                            "value": "12.5",
                            "scale": "billion",
                        }
                    ]
                },
            },
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {
                "schema": {"type": "string", "format": "binary"}
            },
        },
    }
}


def _request_hash(request: Request, body: bytes) -> str:
    digest = hashlib.sha256()
    digest.update(request.headers.get("content-type", "").encode())
    digest.update(b"\0" + str(sorted(request.query_params.multi_items())).encode())
    digest.update(b"\0" + body)
    return digest.hexdigest()


@router.post(
    "",
    openapi_extra=_FEED_BODY,
    responses={
        200: {
            "model": FeedReport,
            "description": "The typed diff, the rejected rows and the findings.",
        },
        202: {
            "description": "A large feed runs as a job: poll `/feeds/{id}`.",
            "content": {"application/json": {"example": examples.RUNNING_FEED_JOB}},
        },
        **problems(
            "unauthorized",
            "invalid-state",
            "idempotency-key-reused",
            "feed-failed",
            "body-too-large",
            "feed-too-large",
            "unsupported-feed",
            "unreadable-feed",
            "invalid-input",
            "feed-rejected",
            "validation",
        ),
    },
)
async def send_feed(
    request: Request,
    uow: UnitOfWorkDep,
    principal: FeedCaller,
    dry_run: Annotated[
        bool, Query(description="Check and diff; apply nothing.")
    ] = False,
    mode: Annotated[
        Literal["merge", "replace"],
        Query(description="`replace` removes the fed submissions' other values."),
    ] = "merge",
    partial: Annotated[
        bool, Query(description="Apply the accepted rows even if some are rejected.")
    ] = False,
    decimal_separator: Annotated[Literal[".", ","], Query()] = ".",
    delimiter: Annotated[Literal[",", ";"] | None, Query()] = None,
    background: Annotated[bool, Query(description="Run as a job.")] = False,
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            min_length=1,
            max_length=200,
            description="Any text of yours naming this feed; the same key with the "
            "same request answers what the first answered, applying nothing again.",
        ),
    ] = None,
) -> Any:
    """Send values for one or many members and cycles (columns `member`, `cycle`,
    `data_element` or the member's own `name`, `year`, `value`, `state`, `reason`,
    `scale`, `unit`, `restatement_reason`). A `unit` such as `EUR million`, `days`
    or `percent` is converted exactly into the data element's own, or the row is
    refused with the reason (currencies are never converted; a year must be a
    calendar year). Answers a typed diff and, for each rejected row, its row
    number, column, rule and message. The same `Idempotency-Key` with the same body
    answers the same result without applying anything again."""
    settings: SubmissionSettings = request.app.state.settings
    body = await request.body()
    fingerprint = _request_hash(request, body)
    stored = await _stored(uow, principal, idempotency_key)
    if stored is not None:
        return _replay(stored, fingerprint)
    if decimal_separator == "," and delimiter == ",":
        raise InvalidInputError(
            "a comma cannot separate both cells and decimals",
            errors=[{"field": "delimiter", "rule": "csv.delimiter", "row": None}],
        )
    # Parsing a large file takes seconds of CPU: off the event loop, the service
    # keeps answering other requests meanwhile.
    rows = await asyncio.to_thread(
        parse_feed,
        body,
        request.headers.get("content-type", ""),
        delimiter=delimiter,
        max_rows=settings.feed_max_rows,
    )

    options = FeedOptions(
        dry_run=dry_run,
        mode=mode,
        partial=partial,
        decimal_separator=decimal_separator,
        diff_limit=settings.feed_diff_limit,
        findings_limit=settings.feed_findings_submissions,
        rejected_limit=settings.feed_rejected_limit,
    )
    feed = await _claim(uow, principal, idempotency_key, fingerprint, len(rows))
    if feed is None:
        # Another request with this key committed while ours waited for it.
        stored = await _stored(uow, principal, idempotency_key)
        if stored is None:
            raise StateError("the Idempotency-Key is busy; send the feed again")
        return _replay(stored, fingerprint)
    if background or len(rows) > settings.feed_job_rows:
        return await _start_job(request, uow, feed, rows, principal, options)

    # The feed's row is written first; a refused feed rolls back to here and
    # keeps it, so that the key answers the same refusal next time.
    savepoint = await uow.session.begin_nested()
    report = await run_feed(
        uow.session, rows, feed_id=feed.id, principal=principal, options=options
    )
    status, content = _answer(request, report)
    if status == 200:
        await savepoint.commit()
    else:
        await savepoint.rollback()
    _finish(feed, status, content, len(rows))
    await uow.commit()
    return _response(status, content)


async def _claim(
    uow: UnitOfWorkDep,
    principal: Principal,
    key: str | None,
    fingerprint: str,
    rows: int,
) -> FeedRun | None:
    """Write the feed's row before its work, or None when the caller's key is
    taken. A concurrent request with the same key waits here on the unique index
    until this one's transaction ends, and then finds the row (or takes the key
    if this one rolled back)."""
    feed_id = uuid.uuid4()
    claimed = await uow.session.scalar(
        insert(FeedRun)
        .values(
            id=feed_id,
            caller=principal.subject,
            member=principal.member,
            idempotency_key=key,
            request_sha256=fingerprint,
            status="running",
            rows_total=rows,
            rows_done=0,
            created_at=now(),
        )
        .on_conflict_do_nothing(index_elements=["caller", "idempotency_key"])
        .returning(FeedRun.id)
    )
    if claimed is None:
        return None
    return await uow.session.get(FeedRun, feed_id)


async def _stored(
    uow: UnitOfWorkDep, principal: Principal, key: str | None
) -> FeedRun | None:
    if key is None:
        return None
    found: FeedRun | None = await uow.session.scalar(
        sa.select(FeedRun).where(
            FeedRun.caller == principal.subject, FeedRun.idempotency_key == key
        )
    )
    return found


def _replay(feed: FeedRun, fingerprint: str) -> JSONResponse:
    """What the feed first sent with this key answered, or why it cannot."""
    if feed.request_sha256 != fingerprint:
        raise IdempotencyConflictError(
            "this Idempotency-Key was used with another request", feed_id=str(feed.id)
        )
    log.info("feed.replayed", feed_id=str(feed.id), status=feed.status)
    if feed.status == "running":
        return JSONResponse(_job(feed).model_dump(mode="json"), status_code=202)
    if feed.http_status is None or feed.result is None:
        raise FeedFailedError(
            "the feed sent with this Idempotency-Key failed and applied nothing;"
            " send it again with a new key",
            feed_id=str(feed.id),
        )
    return _response(feed.http_status, feed.result)


def _answer(request: Request, report: FeedReport) -> tuple[int, dict[str, Any]]:
    content = report.model_dump(mode="json")
    if report.applied or report.dry_run or not report.rows_rejected:
        return 200, content
    body = problem(
        status=FeedRejectedError.status,
        slug=FeedRejectedError.slug,
        title=FeedRejectedError.title,
        detail=f"{report.rows_rejected} row(s) rejected; nothing was applied",
        instance=request.url.path,
        **content,
    )
    return FeedRejectedError.status, body


def _response(status: int, content: dict[str, Any]) -> JSONResponse:
    media_type = PROBLEM_MEDIA_TYPE if status >= 400 else "application/json"
    return JSONResponse(content, status_code=status, media_type=media_type)


def _finish(feed: FeedRun, status: int, content: dict[str, Any], rows: int) -> None:
    feed.status = "done"
    feed.http_status = status
    feed.result = content
    feed.rows_done = rows
    feed.finished_at = now()


async def _start_job(
    request: Request,
    uow: UnitOfWorkDep,
    feed: FeedRun,
    rows: list[RawRow],
    principal: Principal,
    options: FeedOptions,
) -> JSONResponse:
    await uow.commit()
    task = asyncio.create_task(_run_job(request, feed.id, rows, principal, options))
    jobs: set[asyncio.Task[None]] = request.app.state.feed_jobs
    jobs.add(task)
    task.add_done_callback(jobs.discard)
    log.info("feed.job.started", feed_id=str(feed.id), rows=len(rows))
    return JSONResponse(
        _job(feed).model_dump(mode="json"),
        status_code=202,
        headers={"Location": f"/feeds/{feed.id}"},
    )


async def _run_job(
    request: Request,
    feed_id: uuid.UUID,
    rows: list[RawRow],
    principal: Principal,
    options: FeedOptions,
) -> None:
    runtime = runtime_of(request)

    async def progress(done: int) -> None:
        async with runtime.unit_of_work() as tracker:
            feed = await tracker.session.get(FeedRun, feed_id)
            assert feed is not None
            feed.rows_done = done
            await tracker.commit()

    try:
        async with runtime.unit_of_work() as uow:
            report = await run_feed(
                uow.session,
                rows,
                feed_id=feed_id,
                principal=principal,
                options=options,
                progress=progress,
            )
            status, content = _answer(request, report)
            if status != 200:
                await uow.rollback()
            feed = await uow.session.get(FeedRun, feed_id)
            assert feed is not None
            _finish(feed, status, content, len(rows))
            await uow.commit()
        log.info("feed.job.finished", feed_id=str(feed_id), status=status)
    except Exception:
        log.exception("feed.job.failed", feed_id=str(feed_id))
        async with runtime.unit_of_work() as uow:
            feed = await uow.session.get(FeedRun, feed_id)
            if feed is not None:
                feed.status = "failed"
                feed.finished_at = now()
                await uow.commit()


def _job(feed: FeedRun) -> FeedJob:
    return FeedJob(
        id=feed.id,
        status=feed.status,  # type: ignore[arg-type]
        rows_total=feed.rows_total,
        rows_done=feed.rows_done,
        http_status=feed.http_status,
        result=feed.result,
    )


@router.get("/{feed_id}", responses=problems("unauthorized", "not-found", "validation"))
async def get_feed(
    feed_id: uuid.UUID, uow: UnitOfWorkDep, principal: FeedCaller
) -> FeedJob:
    """A feed's progress (rows done of total) and, once done, its result."""
    feed = await uow.session.get(FeedRun, feed_id)
    if feed is None or not _may_see(principal, feed):
        raise UnknownError(f"no feed {feed_id}")
    return _job(feed)


def _may_see(principal: Principal, feed: FeedRun) -> bool:
    if feed.caller == principal.subject:
        return True
    return feed.member is not None and principal.can_act_for(feed.member)
