"""The events the reporting service listens to: everything its read models need."""

from sqlalchemy.ext.asyncio import AsyncSession

from pmm_kit.consumers import ReceivedEvent, Subscription
from pmm_reporting.projections import apply_event, projected_event_types

READ_MODELS_CONSUMER = "reporting-read-models"


async def project(session: AsyncSession, event: ReceivedEvent) -> None:
    await apply_event(session, event.payload, event.envelope)


def subscriptions() -> list[Subscription]:
    return [
        Subscription(
            consumer=READ_MODELS_CONSUMER,
            subjects=projected_event_types(),
            handler=project,
            batch_size=200,
        )
    ]
