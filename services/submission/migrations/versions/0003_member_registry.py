"""Load the WCO member registry the service ships; each new member is an event.

Revision ID: 0003
Revises: 0002
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from pmm_kit.events import Envelope
from pmm_kit.tables import outbox
from pmm_submission.registry import insert_registry, member_rows, registered_event

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    at = datetime.now(UTC)
    added = set(bind.execute(insert_registry(at)).scalars())
    for row in member_rows(at):
        if row["code"] not in added:
            continue
        envelope = Envelope.wrap(
            registered_event(row),
            correlation_id="migration-0003",
            subject=row["code"],
        )
        bind.execute(
            sa.insert(outbox).values(
                id=envelope.id,
                event_id=envelope.id,
                subject=envelope.type,
                body=envelope.model_dump_json(),
                correlation_id=envelope.correlation_id,
            )
        )


def downgrade() -> None:
    op.execute("DELETE FROM members WHERE updated_by = 'system:member-registry'")
