"""The messaging tables of every service: outbox, inbox, dead letters.

The tables carry no schema name: each service's connections put its own schema first on
the search path, so the same definitions land in `submission.outbox`,
`scoring.outbox` and so on.
"""

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, UUID

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

messaging_metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)

outbox = sa.Table(
    "outbox",
    messaging_metadata,
    # The message id, sent as `Nats-Msg-Id`: JetStream drops a second publish of it.
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("position", sa.BigInteger, sa.Identity(), nullable=False, unique=True),
    sa.Column("event_id", UUID(as_uuid=True), nullable=False),
    sa.Column("subject", sa.Text, nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("correlation_id", sa.Text, nullable=False),
    sa.Column(
        "created_at",
        sa.DateTime(timezone=True),
        nullable=False,
        server_default=sa.func.now(),
    ),
    sa.Column(
        "available_at",
        sa.DateTime(timezone=True),
        nullable=False,
        server_default=sa.func.now(),
    ),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("last_error", sa.Text),
    sa.Column("sent_at", sa.DateTime(timezone=True)),
    sa.Index(
        "ix_outbox_unsent",
        "available_at",
        "position",
        postgresql_where=sa.text("sent_at IS NULL"),
    ),
)

inbox = sa.Table(
    "inbox",
    messaging_metadata,
    sa.Column("consumer", sa.Text, primary_key=True),
    sa.Column("event_id", UUID(as_uuid=True), primary_key=True),
    sa.Column("subject", sa.Text, nullable=False),
    sa.Column(
        "processed_at",
        sa.DateTime(timezone=True),
        nullable=False,
        server_default=sa.func.now(),
    ),
)

dead_letter = sa.Table(
    "dead_letter",
    messaging_metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("consumer", sa.Text, nullable=False),
    sa.Column("event_id", UUID(as_uuid=True)),
    sa.Column("subject", sa.Text, nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("headers", JSONB, nullable=False),
    sa.Column("error", sa.Text, nullable=False),
    sa.Column("deliveries", sa.Integer, nullable=False),
    sa.Column(
        "failed_at",
        sa.DateTime(timezone=True),
        nullable=False,
        server_default=sa.func.now(),
    ),
    sa.Column("replayed_at", sa.DateTime(timezone=True)),
)
