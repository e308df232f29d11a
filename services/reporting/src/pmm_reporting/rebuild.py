"""Rebuild the read models by replaying the event stream from its first message.

Invariant: the read models are emptied and replayed in one transaction, so readers see
the old models until the new ones are complete, and the service's live consumer (its
writes wait on the emptied tables' locks) applies what it holds afterwards, which the
idempotent projections make harmless. The replay reads until nothing is pending, so an
event the live consumer took in the meantime is replayed too. Published reports are
this service's own record, not a read model, and are kept.
"""

import contextlib
import uuid

import nats.errors
import sqlalchemy as sa
import structlog
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from pmm_kit.events import STREAM_NAME, Envelope, UnknownEventError
from pmm_reporting.models import READ_MODEL_TABLES
from pmm_reporting.projections import apply_event, projected_event_types

log = structlog.get_logger(__name__)

BATCH_SIZE = 500


async def rebuild_read_models(
    sessions: async_sessionmaker[AsyncSession], jetstream: JetStreamContext
) -> int:
    """Empty the read models and replay every event they depend on; returns how
    many events were applied."""
    name = f"reporting-rebuild-{uuid.uuid4().hex[:12]}"
    await jetstream.add_consumer(
        STREAM_NAME,
        ConsumerConfig(
            durable_name=name,
            filter_subjects=list(projected_event_types()),
            deliver_policy=DeliverPolicy.ALL,
            ack_policy=AckPolicy.NONE,
            inactive_threshold=300.0,
        ),
    )
    log.info("read_model.rebuild.started", consumer=name)
    try:
        async with sessions() as session, session.begin():
            past = await session.scalar(sa.text("SELECT max(version) FROM cycle"))
            tables = ", ".join(READ_MODEL_TABLES)
            await session.execute(sa.text(f"TRUNCATE {tables}"))
            applied = await _replay(session, jetstream, name)
            # Versions must never repeat: a service's benchmark cache keyed by a
            # version from before the rebuild would otherwise look current.
            await session.execute(
                sa.text("UPDATE cycle SET version = version + :past"),
                {"past": int(past or 0)},
            )
    finally:
        with contextlib.suppress(Exception):
            await jetstream.delete_consumer(STREAM_NAME, name)
    log.info("read_model.rebuild.finished", events=applied)
    return applied


async def _replay(session: AsyncSession, jetstream: JetStreamContext, name: str) -> int:
    pull = await jetstream.pull_subscribe_bind(name, stream=STREAM_NAME)
    applied = 0
    try:
        while (await pull.consumer_info()).num_pending:
            try:
                messages = await pull.fetch(BATCH_SIZE, timeout=2.0)
            except nats.errors.TimeoutError:
                continue
            for message in messages:
                applied += await _apply(session, message.data)
    finally:
        await pull.unsubscribe()
    return applied


async def _apply(session: AsyncSession, data: bytes) -> int:
    try:
        envelope = Envelope.model_validate_json(data)
        payload = envelope.payload()
    except (ValidationError, UnknownEventError) as error:
        # The live consumer dead-letters these; a rebuild can only pass them by.
        log.warning("read_model.rebuild.skipped", error=str(error)[:200])
        return 0
    await apply_event(session, payload, envelope)
    return 1
